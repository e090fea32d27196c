"""Where a co-design run's numbers come from: accuracies of a search space (any evaluator) and latency, energy,
power and area of (network, hardware config) pairs from the sweep engine (:func:`hwsim.sweep.sweep`).

Architecture index ``i`` is the i-th architecture of ``space.enumerate()`` (mixed radix of the candidate indices,
last choice fastest); hardware index ``j`` is ``hw_space.config(j)``. The hardware radix is the value count of each
parameter of ``hw_space.params`` (name -> values, product order, last fastest) when the space has one that
multiplies to its size, else one gene of ``size`` values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.formats import Format
from nas.codesign.pareto import CodesignError
from spaces.core import Arch, SearchSpace

ACCURACY_CACHE = Format("hwnas.codesign-accuracy-cache", 1, "accuracy cache", CodesignError)

#: Largest (arch x hw) grid the sweep is asked for in one go (float64 latency + energy + power: ~2.4 GB).
GRID_LIMIT = 100_000_000


def arch_radix(space: SearchSpace) -> tuple[int, ...]:
    return tuple(len(c.candidates) for c in space.choices)


def hw_radix(hw_space: Any) -> tuple[int, ...]:
    params = getattr(hw_space, "params", None)
    if isinstance(params, Mapping) and params:
        r = tuple(len(tuple(v)) for v in params.values())
        if math.prod(r) == hw_space.size:
            return r
    return (int(hw_space.size),)


def arch_of(space: SearchSpace, index: int) -> Arch:
    """The ``index``-th architecture of ``space.enumerate()`` (without enumerating)."""
    radix = arch_radix(space)
    digits = []
    for r in reversed(radix):
        digits.append(index % r)
        index //= r
    return space.from_indices(tuple(reversed(digits)))


def index_of(space: SearchSpace, arch: Mapping[str, str]) -> int:
    idx = 0
    for r, d in zip(arch_radix(space), space.indices(arch)):
        idx = idx * r + d
    return idx


@dataclass
class SpaceAccuracy:
    """Accuracy (percent) of architectures of ``space`` from a :mod:`nas.evaluators` evaluator, each evaluated
    once and cached (``cache_file``, JSON ``{arch string: percent}``, rewritten atomically after each batch).

    ``table``: a direct lookup. ``zero-cost``: proxies rank networks but carry no accuracy; each proxy score is
    turned into its percentile among ``reference`` architectures drawn once with ``seed`` (the mean percentile
    over the proxies), mapped by :func:`nas.cost.proxy_accuracy` onto ``cost_params``' accuracy span. ``train``:
    the trained test accuracy."""

    space: SearchSpace
    evaluator: Any
    seed: int = 0
    cache_file: Path | None = None
    cost_params: Any = None
    reference: int = 64
    map_fn: Callable[..., Any] | None = None
    cache: dict[str, float] = field(default_factory=dict)
    _ref_scores: dict[str, np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.cache_file is not None and Path(self.cache_file).exists():
            try:
                d = ACCURACY_CACHE.load(self.cache_file)
                self.cache = {str(k): float(v) for k, v in d["accuracy_pct"].items()}
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise CodesignError(f"{self.cache_file}: unreadable accuracy cache ({e})") from None

    @property
    def kind(self) -> str:
        return getattr(self.evaluator, "name", type(self.evaluator).__name__)

    def _task(self, arch: Arch) -> Any:
        from nas.evaluators.base import EvalTask, task_seed

        key = f"{self.space.name}/{self.space.format(arch)}"
        return EvalTask(self.space, arch, key, task_seed(self.seed, key))

    def _raw(self, archs: list[Arch]) -> list[Any]:
        fn = self.evaluator.evaluate
        tasks = [self._task(a) for a in archs]
        return list(self.map_fn(fn, tasks)) if self.map_fn is not None else [fn(t) for t in tasks]

    def _percent(self, results: list[Any]) -> list[float]:
        if self.kind == "zero-cost":
            if self._ref_scores is None:
                rng = np.random.default_rng(self.seed)
                ref = self._raw([self.space.sample(rng) for _ in range(self.reference)])
                names = sorted(ref[0].scores)
                self._ref_scores = {n: np.sort([r.scores[n] for r in ref]) for n in names}
            from nas.cost import CostParams, proxy_accuracy

            params = self.cost_params or CostParams()
            out = []
            for r in results:
                pct = [np.searchsorted(s, r.scores[n], side="right") / len(s) for n, s in self._ref_scores.items()]
                out.append(100.0 * float(proxy_accuracy([float(np.mean(pct))], params)[0]))
            return out
        vals = []
        for r in results:
            if r.accuracy is None:
                raise CodesignError(f"evaluator {self.kind!r} gave no accuracy")
            vals.append(100.0 * float(r.accuracy))
        return vals

    def percent(self, archs: list[Arch]) -> np.ndarray:
        names = [self.space.format(a) for a in archs]
        todo = list(dict.fromkeys(n for n in names if n not in self.cache))
        if todo:
            if self.kind == "table" and hasattr(self.evaluator, "accuracy_of"):
                for n in todo:
                    self.cache[n] = 100.0 * float(self.evaluator.accuracy_of(self.space, self.space.parse(n)))
            else:
                for s in range(0, len(todo), 64):
                    chunk = todo[s:s + 64]
                    vals = self._percent(self._raw([self.space.parse(n) for n in chunk]))
                    self.cache.update(zip(chunk, vals))
                    self.save()
            self.save()
        return np.array([self.cache[n] for n in names], dtype=np.float64)

    def save(self) -> None:
        if self.cache_file is not None:
            ACCURACY_CACHE.write(self.cache_file, {"evaluator": self.kind, "space": self.space.name,
                                                   "accuracy_pct": self.cache}, sort_keys=True, indent=None)


@dataclass
class SweepSource:
    """A :class:`nas.codesign.search.PairSource` over ``space`` x ``hw_space``. ``grid()`` runs the sweep on every
    pair once (batches saved under ``sweep_dir``, so a killed run resumes); ``metrics`` reads that grid when it has
    been computed, else sweeps just the networks and configs asked for."""

    space: SearchSpace
    hw_space: Any
    accuracy_of: SpaceAccuracy
    sweep_dir: Path | None = None
    map_fn: Callable[..., Any] | None = None
    batch_size: int = 64
    _grid: Any = None
    _area: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.arch_radix = arch_radix(self.space)
        self.hw_radix = hw_radix(self.hw_space)
        self.n_arch = int(self.space.size())
        self.n_hw = int(self.hw_space.size)

    def arch(self, i: int) -> Arch:
        return arch_of(self.space, int(i))

    def accuracy(self, arch: np.ndarray) -> np.ndarray:
        return self.accuracy_of.percent([self.arch(i) for i in np.asarray(arch).tolist()])

    def area(self, hw: np.ndarray) -> np.ndarray:
        if self._area is None:
            from hwsim.sweep import area_mm2

            self._area = np.array([area_mm2(self.hw_space.device(self.hw_space.config(j))) for j in range(self.n_hw)])
            if not np.isfinite(self._area).all():
                raise CodesignError("the hardware space gives no silicon area (hwsim.silicon missing)")
        return self._area[np.asarray(hw, dtype=np.int64)]

    def grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if self._grid is None:
            from hwsim.sweep import sweep

            if self.n_arch * self.n_hw > GRID_LIMIT:
                raise CodesignError(f"{self.n_arch} archs x {self.n_hw} configs is more than {GRID_LIMIT} pairs; "
                                    f"use --method nsga2")
            nets = {self.space.format(a): self.space.to_workload(a) for a in self.space.enumerate(self.n_arch)}
            self._grid = sweep(nets, self.hw_space, batch_size=self.batch_size, map_fn=self.map_fn,
                               out_dir=self.sweep_dir)
            self._area = np.asarray(self._grid.area_mm2, dtype=np.float64)
        g = self._grid
        power = None if np.isnan(g.power_w).any() else g.power_w
        if np.isnan(g.latency_ms).any() or np.isnan(g.energy_mj).any():
            raise CodesignError("the sweep gave NaN latency or energy (a device without an energy model?)")
        return g.latency_ms, g.energy_mj, power

    def metrics(self, arch: np.ndarray, hw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        arch = np.asarray(arch, dtype=np.int64)
        hw = np.asarray(hw, dtype=np.int64)
        if self._grid is not None:
            lat, en, p = self.grid()
            return lat[arch, hw], en[arch, hw], None if p is None else p[arch, hw]
        from hwsim.sweep import sweep

        ua, ai = np.unique(arch, return_inverse=True)
        uh, hi = np.unique(hw, return_inverse=True)
        nets = {self.space.format(self.arch(a)): self.space.to_workload(self.arch(a)) for a in ua.tolist()}
        r = sweep(nets, self.hw_space, indices=uh.tolist(), batch_size=max(1, len(uh)))
        p = r.power_w[ai, hi]
        return r.latency_ms[ai, hi], r.energy_mj[ai, hi], None if np.isnan(p).any() else p
