"""Co-design search over (architecture, hardware config) pairs: exhaustive, NSGA-II (pymoo) and sequential.

Every method works on a :class:`PairSource`: ``n_arch`` architectures (index = mixed-radix number of the space's
candidate indices, ``arch_radix``) x ``n_hw`` hardware configs (``hw_radix``, the hardware space's value counts),
with ``accuracy(arch)`` (percent, independent of the hardware), ``area(hw)`` (mm^2, independent of the network)
and ``metrics(arch, hw)`` (latency ms, energy mJ, power W per pair). :class:`GridSource` serves them from arrays
(the sweep's output, or synthetic ones in tests). :class:`Counted` wraps a source and counts the distinct
accuracy queries and pair evaluations a method made (``evaluations`` in codesign.json).

Objectives are minimised: ``accuracy`` enters as its negative, ``edp`` is latency x energy (ms x mJ). Limits are
inclusive: area (mm^2) per hardware config, latency (ms) and power (W) per pair.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from nas.codesign.pareto import (OBJECTIVES, CodesignError, check_objectives, feasible_mask, front_mask, grid_front,
                                 objective_matrix)

METHODS = ("exhaustive", "nsga2", "sequential")
#: Hypervolume reference point in normalised objective space (each objective scaled to [0, 1] by its bounds).
HV_REFERENCE = 1.1


@dataclass(frozen=True)
class Limits:
    """Inclusive upper limits; None = no limit."""

    area_mm2: float | None = None
    power_w: float | None = None
    latency_ms: float | None = None

    def __post_init__(self) -> None:
        for name in ("area_mm2", "power_w", "latency_ms"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                                  or v <= 0):
                raise CodesignError(f"limit {name} must be a positive number, got {v!r}")

    def to_dict(self) -> dict[str, float | None]:
        return {"area_mm2": self.area_mm2, "power_w": self.power_w, "latency_ms": self.latency_ms}


class PairSource(Protocol):
    n_arch: int
    n_hw: int
    arch_radix: tuple[int, ...]
    hw_radix: tuple[int, ...]

    def accuracy(self, arch: np.ndarray) -> np.ndarray: ...

    def area(self, hw: np.ndarray) -> np.ndarray: ...

    def metrics(self, arch: np.ndarray, hw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]: ...

    def grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]: ...


def _radix_ok(radix: Sequence[int], n: int, what: str) -> tuple[int, ...]:
    r = tuple(int(x) for x in radix)
    if any(x < 1 for x in r) or math.prod(r) != n:
        raise CodesignError(f"{what} radix {r} does not multiply to {n}")
    return r


@dataclass(frozen=True)
class GridSource:
    """A :class:`PairSource` over full arrays: ``accuracy_pct`` [n_arch], ``latency_ms``/``energy_mj``/``power_w``
    [n_arch, n_hw], ``area_mm2`` [n_hw]. Radixes default to one gene per axis."""

    accuracy_pct: np.ndarray
    latency_ms: np.ndarray
    energy_mj: np.ndarray
    area_mm2: np.ndarray
    power_w: np.ndarray | None = None
    arch_radix: tuple[int, ...] = ()
    hw_radix: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        lat = np.asarray(self.latency_ms, dtype=np.float64)
        if lat.ndim != 2:
            raise CodesignError(f"latency must be [n_arch, n_hw], got shape {lat.shape}")
        n_arch, n_hw = lat.shape
        arrays = {"accuracy": (self.accuracy_pct, (n_arch,)), "latency": (lat, lat.shape),
                  "energy": (self.energy_mj, lat.shape), "area": (self.area_mm2, (n_hw,))}
        if self.power_w is not None:
            arrays["power"] = (self.power_w, lat.shape)
        for name, (arr, shape) in arrays.items():
            a = np.asarray(arr, dtype=np.float64)
            if a.shape != shape:
                raise CodesignError(f"{name} must have shape {shape}, got {a.shape}")
            if not np.isfinite(a).all():
                raise CodesignError(f"{name} holds NaN or infinite values")
            object.__setattr__(self, {"accuracy": "accuracy_pct", "latency": "latency_ms", "energy": "energy_mj",
                                      "area": "area_mm2", "power": "power_w"}[name], a)
        object.__setattr__(self, "arch_radix", _radix_ok(self.arch_radix or (n_arch,), n_arch, "arch"))
        object.__setattr__(self, "hw_radix", _radix_ok(self.hw_radix or (n_hw,), n_hw, "hardware"))

    @property
    def n_arch(self) -> int:
        return self.latency_ms.shape[0]

    @property
    def n_hw(self) -> int:
        return self.latency_ms.shape[1]

    def accuracy(self, arch: np.ndarray) -> np.ndarray:
        return self.accuracy_pct[arch]

    def area(self, hw: np.ndarray) -> np.ndarray:
        return self.area_mm2[hw]

    def metrics(self, arch: np.ndarray, hw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        p = None if self.power_w is None else self.power_w[arch, hw]
        return self.latency_ms[arch, hw], self.energy_mj[arch, hw], p

    def grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        return self.latency_ms, self.energy_mj, self.power_w


@dataclass
class Counted:
    """Wraps a source; counts distinct architectures whose accuracy was asked and distinct pairs evaluated."""

    source: Any
    archs: set[int] = field(default_factory=set)
    pairs: set[int] = field(default_factory=set)
    full_grid: bool = False

    def accuracy(self, arch: np.ndarray) -> np.ndarray:
        self.archs.update(int(a) for a in np.unique(arch))
        return self.source.accuracy(arch)

    def metrics(self, arch: np.ndarray, hw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        self.pairs.update((np.asarray(arch, dtype=np.int64) * self.source.n_hw + hw).tolist())
        return self.source.metrics(arch, hw)

    def evaluations(self) -> dict[str, int]:
        n = self.source.n_arch * self.source.n_hw if self.full_grid else len(self.pairs)
        return {"pairs": n, "accuracy_queries": len(self.archs),
                "pairs_in_space": self.source.n_arch * self.source.n_hw}


@dataclass(frozen=True)
class Front:
    """Pairs on a Pareto front (sorted by descending accuracy, then flat index) with their metrics."""

    arch: np.ndarray
    hw: np.ndarray
    accuracy: np.ndarray
    latency_ms: np.ndarray
    energy_mj: np.ndarray
    area_mm2: np.ndarray
    power_w: np.ndarray | None

    def __len__(self) -> int:
        return int(self.arch.shape[0])

    def objectives(self, objectives: Sequence[str]) -> np.ndarray:
        return objective_matrix(tuple(objectives), self.accuracy, self.latency_ms, self.energy_mj, self.area_mm2)


def make_front(source: Any, arch: np.ndarray, hw: np.ndarray, n_hw: int) -> Front:
    arch = np.asarray(arch, dtype=np.int64)
    hw = np.asarray(hw, dtype=np.int64)
    acc = source.accuracy(arch) if len(arch) else np.zeros(0)
    order = np.lexsort((arch * n_hw + hw, -np.asarray(acc)))
    arch, hw = arch[order], hw[order]
    acc = np.asarray(acc, dtype=np.float64)[order]
    lat, en, p = source.metrics(arch, hw) if len(arch) else (np.zeros(0), np.zeros(0), None)
    return Front(arch, hw, acc, np.asarray(lat, np.float64), np.asarray(en, np.float64),
                 np.asarray(source.area(hw), np.float64), None if p is None else np.asarray(p, np.float64))


@dataclass(frozen=True)
class HvBounds:
    """Normalisation of the hypervolume: objective o is mapped by (v - lower[o]) / (upper[o] - lower[o]); the
    reference point is :data:`HV_REFERENCE` on every normalised axis."""

    objectives: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]

    @classmethod
    def of(cls, objectives: Sequence[str], f: np.ndarray) -> HvBounds:
        """Bounds = the ideal and nadir of the front ``f`` (minimised objectives)."""
        if f.shape[0] == 0:
            return cls(tuple(objectives), (0.0,) * len(objectives), (1.0,) * len(objectives))
        return cls(tuple(objectives), tuple(float(x) for x in f.min(axis=0)), tuple(float(x) for x in f.max(axis=0)))

    def to_dict(self) -> dict[str, Any]:
        return {"objectives": list(self.objectives), "lower": list(self.lower), "upper": list(self.upper),
                "reference_point": HV_REFERENCE,
                "note": "objectives minimised (accuracy negated); normalised (v - lower) / (upper - lower); "
                        "pymoo HV with this reference point on every axis"}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HvBounds:
        try:
            return cls(tuple(d["objectives"]), tuple(float(x) for x in d["lower"]), tuple(float(x) for x in d["upper"]))
        except (KeyError, TypeError, ValueError) as e:
            raise CodesignError(f"hypervolume normalisation: bad or missing field ({e})") from None


def hypervolume(f: np.ndarray, bounds: HvBounds) -> float:
    """pymoo's hypervolume of the minimised objective rows ``f`` after :class:`HvBounds` normalisation."""
    from pymoo.indicators.hv import HV

    if f.shape[0] == 0:
        return 0.0
    lo = np.asarray(bounds.lower)
    span = np.asarray(bounds.upper) - lo
    span = np.where(span > 0, span, 1.0)
    z = (np.asarray(f, dtype=np.float64) - lo) / span
    z = z[(z < HV_REFERENCE).all(axis=1)]
    if z.shape[0] == 0:
        return 0.0
    return float(HV(ref_point=np.full(f.shape[1], HV_REFERENCE))(z))


@dataclass(frozen=True)
class CodesignResult:
    method: str
    objectives: tuple[str, ...]
    limits: Limits
    front: Front
    evaluations: dict[str, int]
    extra: dict[str, Any] = field(default_factory=dict)


def exhaustive(source: PairSource, objectives: Sequence[str], limits: Limits) -> CodesignResult:
    """Every pair: the exact front of the feasible grid (:func:`nas.codesign.pareto.grid_front`)."""
    objs = check_objectives(objectives)
    counted = Counted(source, full_grid=True)
    all_arch = np.arange(source.n_arch)
    acc = counted.accuracy(all_arch)
    lat, en, power = source.grid()
    area = source.area(np.arange(source.n_hw))
    feas = feasible_mask(lat, area, power, limits.area_mm2, limits.power_w, limits.latency_ms)
    a, h = grid_front(objs, acc, lat, en, area, feas)
    return CodesignResult("exhaustive", objs, limits, make_front(source, a, h, source.n_hw), counted.evaluations(),
                          {"feasible_pairs": int(feas.sum())})


def _front_of(source: Any, objs: tuple[str, ...], arch: np.ndarray, hw: np.ndarray) -> Front:
    """Front of a set of evaluated pairs (feasibility already applied)."""
    if len(arch) == 0:
        return make_front(source, arch, hw, source.n_hw)
    flat = arch * source.n_hw + hw
    order = np.argsort(flat, kind="stable")
    arch, hw = arch[order], hw[order]
    lat, en, _ = source.metrics(arch, hw)
    f = objective_matrix(objs, source.accuracy(arch), lat, en, source.area(hw))
    keep = front_mask(f)
    return make_front(source, arch[keep], hw[keep], source.n_hw)


def decode(genes: np.ndarray, radix: Sequence[int]) -> np.ndarray:
    """Mixed-radix genes [n, len(radix)] (first gene most significant) -> flat indices [n]."""
    out = np.zeros(genes.shape[0], dtype=np.int64)
    for k, r in enumerate(radix):
        out = out * int(r) + genes[:, k].astype(np.int64)
    return out


def encode(index: np.ndarray, radix: Sequence[int]) -> np.ndarray:
    idx = np.asarray(index, dtype=np.int64).copy()
    out = np.zeros((idx.shape[0], len(radix)), dtype=np.int64)
    for k in range(len(radix) - 1, -1, -1):
        out[:, k] = idx % int(radix[k])
        idx //= int(radix[k])
    return out


@dataclass
class PairCache:
    """Evaluated pairs (flat index -> accuracy, latency, energy, area, power), kept for resume: a resumed NSGA-II
    run replays the same seeded generations and reads its earlier evaluations from here."""

    flat: list[int] = field(default_factory=list)
    values: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {f: i for i, f in enumerate(self.flat)}

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"flat": np.asarray(self.flat, dtype=np.int64),
                "values": np.asarray(self.values, dtype=np.float64).reshape(-1, 5)}

    @classmethod
    def from_arrays(cls, d: dict[str, np.ndarray]) -> PairCache:
        return cls([int(x) for x in d["flat"]], [tuple(float(v) for v in row) for row in d["values"]])


def nsga2(source: PairSource, objectives: Sequence[str], limits: Limits, budget_pairs: int, seed: int,
          budget_accuracy: int | None = None, pop_size: int = 100, cache: PairCache | None = None,
          on_generation: Callable[[PairCache], None] | None = None) -> CodesignResult:
    """NSGA-II (pymoo) over integer genes (the space's choice indices, then the hardware parameter value
    indices) until ``budget_pairs`` distinct pairs (or ``budget_accuracy`` distinct architectures) were
    evaluated. Limits are pymoo inequality constraints. The front is that of every feasible pair evaluated.
    ``cache`` (from an interrupted run) answers repeated evaluations; ``on_generation`` sees the cache after
    each generation (to save it)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.duplicate import DefaultDuplicateElimination
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem
    from pymoo.problems.static import StaticProblem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling

    objs = check_objectives(objectives)
    for name, v in (("budget", budget_pairs), ("pop_size", pop_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise CodesignError(f"{name} must be a positive integer, got {v!r}")
    if budget_accuracy is not None and (not isinstance(budget_accuracy, int) or budget_accuracy < 1):
        raise CodesignError(f"accuracy budget must be a positive integer, got {budget_accuracy!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise CodesignError(f"seed must be an integer, got {seed!r}")
    ar, hr = tuple(source.arch_radix), tuple(source.hw_radix)
    radix = np.array(ar + hr, dtype=np.int64)
    n_hw = source.n_hw
    cache = cache or PairCache()
    counted = Counted(source)
    limit_cols = [(k, v) for k, v in (("area", limits.area_mm2), ("latency", limits.latency_ms),
                                      ("power", limits.power_w)) if v is not None]
    col = {"accuracy": 0, "latency": 1, "energy": 2, "area": 3, "power": 4}

    def lookup(flat: np.ndarray) -> np.ndarray:
        """Values [n, 5] of flat pairs, evaluating the ones not cached."""
        new = [f for f in dict.fromkeys(flat.tolist()) if f not in cache.index]
        if new:
            nf = np.asarray(new, dtype=np.int64)
            a, h = nf // n_hw, nf % n_hw
            acc = source.accuracy(a)
            lat, en, p = source.metrics(a, h)
            area = source.area(h)
            if p is None:
                if limits.power_w is not None:
                    raise CodesignError("--power-limit needs power per pair, which this hardware space does not give")
                p = np.full(len(nf), np.nan)
            for i, f in enumerate(new):
                cache.index[f] = len(cache.flat)
                cache.flat.append(f)
                cache.values.append((float(acc[i]), float(lat[i]), float(en[i]), float(area[i]), float(p[i])))
        counted.archs.update(int(f) // n_hw for f in flat.tolist())
        counted.pairs.update(flat.tolist())
        return np.asarray([cache.values[cache.index[f]] for f in flat.tolist()], dtype=np.float64).reshape(-1, 5)

    class _P(Problem):
        def __init__(self) -> None:
            super().__init__(n_var=len(radix), n_obj=len(objs), n_ieq_constr=len(limit_cols), xl=0,
                             xu=radix - 1, vtype=int)

    class _NotSeen(DefaultDuplicateElimination):
        """Offspring equal to each other, to the population, or to any pair evaluated before are duplicates, so
        every generation spends its evaluations on new pairs (the budget counts distinct pairs)."""

        def _do(self, pop: Any, other: Any, is_duplicate: np.ndarray) -> np.ndarray:
            is_duplicate = super()._do(pop, other, is_duplicate)
            if other is None and counted.pairs:
                x = np.rint(pop.get("X")).astype(np.int64)
                f = decode(x[:, :len(ar)], ar) * n_hw + decode(x[:, len(ar):], hr)
                is_duplicate |= np.fromiter((v in counted.pairs for v in f.tolist()), dtype=bool, count=len(f))
            return is_duplicate

    algo = NSGA2(pop_size=pop_size, sampling=IntegerRandomSampling(),
                 crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
                 mutation=PM(eta=20, vtype=float, repair=RoundingRepair()), eliminate_duplicates=_NotSeen(),
                 seed=seed)
    problem = _P()
    algo.setup(problem, termination=("n_gen", 10**9))

    def budget_left() -> tuple[int, int]:
        pl = budget_pairs - len(counted.pairs)
        al = (budget_accuracy - len(counted.archs)) if budget_accuracy is not None else 1 << 62
        return pl, al

    while True:
        pl, al = budget_left()
        if pl <= 0 or al <= 0:
            break
        pop = algo.ask()
        if pop is None or len(pop) == 0:
            break  # nothing new left to propose
        x = np.rint(pop.get("X")).astype(np.int64)
        flat = decode(x[:, :len(ar)], ar) * n_hw + decode(x[:, len(ar):], hr)
        new_pairs = [f for f in dict.fromkeys(flat.tolist()) if f not in counted.pairs]
        new_archs = {f // n_hw for f in new_pairs} - counted.archs
        if len(new_pairs) > pl or len(new_archs) > al:
            # last, partial generation: evaluate new pairs in order while both budgets allow, then stop
            take: list[int] = []
            seen_archs: set[int] = set()
            for f in new_pairs:
                a = f // n_hw
                extra = 0 if (a in counted.archs or a in seen_archs) else 1
                if len(take) + 1 > pl or len(seen_archs) + extra > al:
                    break
                take.append(f)
                seen_archs.add(a)
            if take:
                lookup(np.asarray(take, dtype=np.int64))
            break
        v = lookup(flat)
        out = {"F": objective_matrix(objs, v[:, 0], v[:, 1], v[:, 2], v[:, 3])}
        if limit_cols:
            out["G"] = np.stack([v[:, col[k]] - lim for k, lim in limit_cols], axis=1)
        Evaluator().eval(StaticProblem(problem, **out), pop)
        algo.tell(infills=pop)
        if on_generation is not None:
            on_generation(cache)

    flat = np.asarray(sorted(counted.pairs), dtype=np.int64)
    v = lookup(flat) if len(flat) else np.zeros((0, 5))
    ok = np.ones(len(flat), dtype=bool)
    for k, lim in limit_cols:
        ok &= v[:, col[k]] <= lim
    front = _front_of(_CachedSource(source, cache), objs, flat[ok] // n_hw, flat[ok] % n_hw)
    return CodesignResult("nsga2", objs, limits, front, counted.evaluations(),
                          {"seed": seed, "pop_size": pop_size, "generations": int(algo.n_gen or 0),
                           "budget_pairs": budget_pairs, "budget_accuracy": budget_accuracy})


@dataclass(frozen=True)
class _CachedSource:
    """Serves the metrics of pairs already in a :class:`PairCache` (no new evaluations)."""

    source: Any
    cache: PairCache

    @property
    def n_hw(self) -> int:
        return self.source.n_hw

    def _rows(self, arch: np.ndarray, hw: np.ndarray) -> np.ndarray:
        flat = (np.asarray(arch, dtype=np.int64) * self.source.n_hw + np.asarray(hw, dtype=np.int64)).tolist()
        return np.asarray([self.cache.values[self.cache.index[f]] for f in flat], dtype=np.float64).reshape(-1, 5)

    def accuracy(self, arch: np.ndarray) -> np.ndarray:
        return self.source.accuracy(arch)

    def area(self, hw: np.ndarray) -> np.ndarray:
        return self.source.area(hw)

    def metrics(self, arch: np.ndarray, hw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        v = self._rows(arch, hw)
        p = None if np.isnan(v[:, 4]).any() else v[:, 4]
        return v[:, 1], v[:, 2], p


def sequential(source: PairSource, objectives: Sequence[str], limits: Limits, default_hw: int,
               hw_objective: str = "edp") -> CodesignResult:
    """The baseline of the co-design papers. Step 1 (NAS): on the fixed accelerator ``default_hw``, the most
    accurate architecture whose latency is within ``limits.latency_ms`` (every architecture when no latency
    limit; power limit applied too). Step 2 (hardware search): for that network, every hardware config within
    the area/power/latency limits; the design is the one with the lowest ``hw_objective`` (edp, latency, energy
    or area). The front is the Pareto front of the chosen network over those configs."""
    objs = check_objectives(objectives)
    if hw_objective not in OBJECTIVES or hw_objective == "accuracy":
        raise CodesignError(f"sequential hardware objective must be latency, energy, area or edp, got {hw_objective!r}")
    if not (isinstance(default_hw, (int, np.integer)) and 0 <= int(default_hw) < source.n_hw):
        raise CodesignError(f"default hardware index {default_hw!r} outside 0..{source.n_hw - 1}")
    counted = Counted(source)
    all_arch = np.arange(source.n_arch)
    h0 = np.full(source.n_arch, int(default_hw))
    acc = counted.accuracy(all_arch)
    lat0, _, p0 = counted.metrics(all_arch, h0)
    ok = np.ones(source.n_arch, dtype=bool)
    if limits.latency_ms is not None:
        ok &= lat0 <= limits.latency_ms
    if limits.power_w is not None:
        if p0 is None:
            raise CodesignError("--power-limit needs power per pair, which this hardware space does not give")
        ok &= p0 <= limits.power_w
    if not ok.any():
        raise CodesignError(f"sequential: no architecture meets the latency/power limits on the default hardware "
                            f"(config {default_hw}); fastest is {float(lat0.min()):.4g} ms")
    cand = np.flatnonzero(ok)
    best = int(cand[np.lexsort((cand, -acc[cand]))[0]])  # most accurate, lowest index on ties
    hws = np.arange(source.n_hw)
    arch = np.full(source.n_hw, best)
    lat, en, p = counted.metrics(arch, hws)
    area = source.area(hws)
    feas = feasible_mask(lat[None, :], area, None if p is None else p[None, :], limits.area_mm2, limits.power_w,
                         limits.latency_ms)[0]
    if not feas.any():
        raise CodesignError(f"sequential: no hardware config meets the limits for the chosen network (arch {best})")
    hcand = np.flatnonzero(feas)
    score = objective_matrix((hw_objective,), np.zeros(len(hcand)), lat[hcand], en[hcand], area[hcand])[:, 0]
    design_hw = int(hcand[np.lexsort((hcand, score))[0]])
    f = objective_matrix(objs, np.full(len(hcand), acc[best]), lat[hcand], en[hcand], area[hcand])
    keep = front_mask(f)
    front = make_front(source, np.full(int(keep.sum()), best), hcand[keep], source.n_hw)
    return CodesignResult("sequential", objs, limits, front, counted.evaluations(),
                          {"default_hw": int(default_hw), "chosen_arch": best, "design_hw": design_hw,
                           "hw_objective": hw_objective})
