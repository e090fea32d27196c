"""BBSSP cost of a search-space base network (SSBN) and the family/candidate selection.

Cost of an SSBN with accuracy ``A`` (a fraction) and whole-network latency ``T`` (milliseconds)::

    C = exp(-(A - theta) / sigma) - lambda / T

Lower is better. Selection (the authors' ``get_ss``): every family contributes one pool entry per
(layer i, block j), including the typical block, whose entry carries SSBN_0's cost; the entries of all
families are sorted by ascending cost and the first family to collect ``K`` entries wins. Its entries become
the per-layer candidate lists of the tuned space; every layer also keeps its typical block (so SSBN_0 stays in
the tuned space and anchors the layer-adaptive LUT).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hwsim.errors import HwnasError


class CostError(HwnasError):
    """Bad cost parameters or an inconsistent cost table."""


@dataclass(frozen=True)
class CostParams:
    """The three knobs of the BBSSP cost and the selection size.

    ``theta``: accuracy threshold (fraction); ``sigma``: accuracy scale (fraction); ``lam``: latency weight
    (milliseconds, since it divides ``T`` in ms); ``k``: pool entries the winning family must collect.
    Defaults are the authors' ImageNet setting (0.80, 2, 0.01, K = 60).

    ``proxy_spread``: for zero-cost evaluators only, the accuracy span (fraction) that the pooled proxy ranks are
    mapped onto, centred on ``theta`` (:func:`proxy_accuracy`). Proxies rank networks but carry no accuracy
    scale, and the cost weighs accuracy against ``lam / T`` in absolute units: the default 0.025 is the spread of
    real accuracies among single-layer replacements -- CIFAR-10 test accuracy of the NAS-Bench-201 cells one
    edge away from a strong cell spans 2.3-2.5 points (../shared/data/accuracy/nb201_accuracy.csv; outliers that
    break the cell excluded). A span of 1.0 would let the proxies alone decide.
    """

    theta: float = 0.80
    sigma: float = 2.0
    lam: float = 0.01
    k: int = 60
    proxy_spread: float = 0.025

    def __post_init__(self) -> None:
        if (isinstance(self.proxy_spread, bool) or not isinstance(self.proxy_spread, (int, float))
                or not math.isfinite(self.proxy_spread) or self.proxy_spread <= 0):
            raise CostError(f"cost.proxy_spread must be a positive number, got {self.proxy_spread!r}")
        for name in ("theta", "sigma", "lam"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise CostError(f"cost.{name} must be a finite number, got {v!r}")
        if self.sigma <= 0:
            raise CostError(f"cost.sigma must be positive, got {self.sigma!r}")
        if self.lam < 0:
            raise CostError(f"cost.lam must be non-negative, got {self.lam!r}")
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k <= 0:
            raise CostError(f"cost.k must be a positive integer, got {self.k!r}")

    def to_dict(self) -> dict[str, float | int]:
        return {"theta": self.theta, "sigma": self.sigma, "lam": self.lam, "k": self.k,
                "proxy_spread": self.proxy_spread}


def ssbn_cost(accuracy: float, latency_ms: float, params: CostParams) -> float:
    """``exp(-(accuracy - theta) / sigma) - lam / latency_ms`` for one SSBN (accuracy a fraction, latency in ms)."""
    if not math.isfinite(accuracy):
        raise CostError(f"accuracy must be finite, got {accuracy!r}")
    if not (math.isfinite(latency_ms) and latency_ms > 0):
        raise CostError(f"latency_ms must be positive and finite, got {latency_ms!r}")
    return math.exp(-(accuracy - params.theta) / params.sigma) - params.lam / latency_ms


def ssbn_costs(accuracy: np.ndarray, latency_ms: np.ndarray, params: CostParams) -> np.ndarray:
    """Vectorised :func:`ssbn_cost` over equal-shaped arrays."""
    acc = np.asarray(accuracy, dtype=np.float64)
    lat = np.asarray(latency_ms, dtype=np.float64)
    if acc.shape != lat.shape:
        raise CostError(f"accuracy shape {acc.shape} differs from latency shape {lat.shape}")
    if not np.all(np.isfinite(acc)):
        raise CostError("accuracy contains non-finite values")
    if not np.all(np.isfinite(lat) & (lat > 0)):
        raise CostError("latency_ms must be positive and finite everywhere")
    return np.exp(-(acc - params.theta) / params.sigma) - params.lam / lat


@dataclass(frozen=True)
class FamilyCosts:
    """Cost table of one family: ``cost[i][j]`` for layer ``i`` and block ``blocks[j]`` (typical entries carry
    SSBN_0's cost). ``typical[i]`` is layer i's typical block."""

    family: str
    blocks: tuple[str, ...]
    typical: tuple[str, ...]
    cost: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))
        object.__setattr__(self, "typical", tuple(self.typical))
        object.__setattr__(self, "cost", tuple(tuple(float(c) for c in row) for row in self.cost))
        if len(self.cost) != len(self.typical):
            raise CostError(f"family {self.family!r}: {len(self.cost)} cost rows for {len(self.typical)} layers")
        for i, row in enumerate(self.cost):
            if len(row) != len(self.blocks):
                raise CostError(f"family {self.family!r}: layer {i} has {len(row)} costs for "
                                f"{len(self.blocks)} blocks")
            if not all(math.isfinite(c) for c in row):
                raise CostError(f"family {self.family!r}: layer {i} has a non-finite cost")
        for i, t in enumerate(self.typical):
            if t not in self.blocks:
                raise CostError(f"family {self.family!r}: typical block {t!r} of layer {i} is not a block")

    @property
    def num_layers(self) -> int:
        return len(self.typical)


@dataclass(frozen=True)
class PoolEntry:
    """One (family, layer, block) entry of the pooled ranking."""

    family: str
    layer: int
    block: str
    cost: float


@dataclass(frozen=True)
class Selection:
    """Result of the pooled selection.

    ``winner``: the family that first collected ``k`` entries; ``entries``: its ``k`` entries in ranking order;
    ``candidates[i]``: layer i's candidate blocks (typical block always included), in the family's block order;
    ``counts``: entries collected per family when the winner reached ``k``.
    """

    winner: str
    k: int
    entries: tuple[PoolEntry, ...]
    candidates: tuple[tuple[str, ...], ...]
    counts: Mapping[str, int]

    @property
    def candidate_counts(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self.candidates)

    @property
    def tuned_space_size(self) -> int:
        return math.prod(self.candidate_counts)


def rank_pool(families: Sequence[FamilyCosts]) -> list[PoolEntry]:
    """All entries of all families sorted by ascending cost; ties break by family order, layer, block order."""
    keyed = []
    for fi, fam in enumerate(families):
        for i, row in enumerate(fam.cost):
            for j, c in enumerate(row):
                keyed.append(((c, fi, i, j), PoolEntry(fam.family, i, fam.blocks[j], c)))
    keyed.sort(key=lambda kv: kv[0])
    return [e for _, e in keyed]


def select_family(families: Sequence[FamilyCosts], k: int) -> Selection:
    """BBSSP selection: walk the pooled ranking; the first family to collect ``k`` entries wins."""
    if not families:
        raise CostError("select_family needs at least one family")
    names = [f.family for f in families]
    if len(set(names)) != len(names):
        raise CostError(f"duplicate family names: {names}")
    if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
        raise CostError(f"k must be a positive integer, got {k!r}")
    largest = max(f.num_layers * len(f.blocks) for f in families)
    if k > largest:
        raise CostError(f"k={k} exceeds the largest family's pool ({largest} entries); lower --k")
    counts = {n: 0 for n in names}
    taken: dict[str, list[PoolEntry]] = {n: [] for n in names}
    for entry in rank_pool(families):
        counts[entry.family] += 1
        taken[entry.family].append(entry)
        if counts[entry.family] == k:
            fam = families[names.index(entry.family)]
            chosen = taken[entry.family]
            cands = []
            for i in range(fam.num_layers):
                keep = {e.block for e in chosen if e.layer == i} | {fam.typical[i]}
                cands.append(tuple(b for b in fam.blocks if b in keep))
            return Selection(entry.family, k, tuple(chosen), tuple(cands), dict(counts))
    raise AssertionError("unreachable: some family must reach k")  # pragma: no cover


def proxy_rank(scores: Sequence[float]) -> np.ndarray:
    """The average rank of each zero-cost proxy score among all of them, mapped onto [0, 1] (0 = lowest score,
    1 = highest; ties share their mean rank; one score maps to 0.5)."""
    from scipy.stats import rankdata

    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise CostError("proxy_accuracy expects a 1-D sequence of scores")
    if not np.all(np.isfinite(s)):
        raise CostError("zero-cost scores contain non-finite values")
    if len(s) == 1:
        return np.array([0.5])
    return (rankdata(s, method="average") - 1.0) / (len(s) - 1.0)


def proxy_accuracy(ranks: Sequence[float], params: CostParams) -> np.ndarray:
    """Accuracy stand-in for proxy ranks in [0, 1]: ``theta + proxy_spread * (rank - 1/2)`` (see
    :class:`CostParams`)."""
    r = np.asarray(ranks, dtype=np.float64)
    if not np.all(np.isfinite(r) & (r >= 0) & (r <= 1)):
        raise CostError("proxy ranks must lie in [0, 1]")
    return params.theta + params.proxy_spread * (r - 0.5)
