"""Exact non-dominated sorting for co-design: every objective minimised (accuracy enters as its negative).

A point is *dominated* when another is no worse in every objective and better in one. Of exact duplicates the one
with the lowest index is kept. :func:`front_mask` is the fast kernel (numba, O(n * front) after a sort by the sum
of the objectives); :func:`front_mask_naive` is its obviously-correct O(n^2) twin that the tests compare it with.
:func:`grid_front` finds the exact front of a full (arch x hw) grid of 15.6 M pairs in seconds: limits prune
first, then a front per architecture (over its hardware), then a front per hardware config (over the surviving
architectures), then the global front. Each reduction is exact: a point dominated within its group is dominated
globally, so only points that cannot be on the global front are dropped.
"""

from __future__ import annotations

import numba
import numpy as np

from hwsim.errors import HwnasError

#: Objectives a co-design run can minimise, in the order of the columns of an objective matrix.
OBJECTIVES = ("accuracy", "latency", "energy", "area", "edp")


class CodesignError(HwnasError):
    """Bad co-design input (objectives, limits, arrays, spaces, files)."""


def check_objectives(objectives: tuple[str, ...] | list[str], minimum: int = 2) -> tuple[str, ...]:
    """The objective names, validated (known, unique, at least ``minimum``)."""
    objs = tuple(objectives)
    bad = [o for o in objs if o not in OBJECTIVES]
    if bad:
        raise CodesignError(f"unknown objective {bad[0]!r}; expected some of {', '.join(OBJECTIVES)}")
    if len(set(objs)) != len(objs) or len(objs) < minimum:
        raise CodesignError(f"objectives must be at least {minimum} distinct names, got {','.join(objs)!r}")
    return objs


def _check_matrix(f: np.ndarray) -> np.ndarray:
    f = np.ascontiguousarray(f, dtype=np.float64)
    if f.ndim != 2:
        raise CodesignError(f"objective matrix must be 2-D [points, objectives], got shape {f.shape}")
    if f.size and not np.isfinite(f).all():
        raise CodesignError("objective matrix holds NaN or infinite values")
    return f


@numba.njit(cache=True)
def _scan_group(f: np.ndarray, order: np.ndarray, keep: np.ndarray, front: np.ndarray) -> None:
    """Mark in ``keep`` the non-dominated points of ``f[order]``; ``order`` is sorted by ascending objective sum
    (ties by index), so a point can only be dominated by an earlier one or by an equal-sum later one, which the
    removal step handles."""
    m = f.shape[1]
    nf = 0
    for t in range(order.shape[0]):
        i = order[t]
        dominated = False
        k = 0
        while k < nf:
            j = front[k]
            j_le = True  # f[j] <= f[i] everywhere
            i_le = True  # f[i] <= f[j] everywhere
            for c in range(m):
                a = f[j, c]
                b = f[i, c]
                if a > b:
                    j_le = False
                elif b > a:
                    i_le = False
            if j_le:  # j dominates i, or equals it with a lower index (it came first in index order among ties)
                if not i_le or j < i:
                    dominated = True
                    break
            if i_le and not j_le:  # i dominates j: drop j from the front
                keep[j] = False
                nf -= 1
                front[k] = front[nf]
                continue
            if i_le and j_le and i < j:  # equal, i has the lower index: i replaces j
                keep[j] = False
                nf -= 1
                front[k] = front[nf]
                continue
            k += 1
        if not dominated:
            keep[i] = True
            front[nf] = i
            nf += 1


@numba.njit(cache=True)
def _grouped_mask(f: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    keep = np.zeros(f.shape[0], dtype=np.bool_)
    front = np.empty(f.shape[0], dtype=np.int64)
    for g in range(starts.shape[0] - 1):
        _scan_group(f, order[starts[g]:starts[g + 1]], keep, front)
    return keep


def _sum_key(f: np.ndarray) -> np.ndarray:
    """Sort key: sum of the objectives scaled to comparable ranges (any positive scaling keeps dominance order)."""
    if f.shape[0] == 0:
        return np.zeros(0)
    lo, hi = f.min(axis=0), f.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return ((f - lo) / span).sum(axis=1)


def front_mask(f: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``f`` [n, m] (minimised); with ``groups`` [n] (integer labels),
    the non-dominated rows within each group."""
    f = _check_matrix(f)
    n = f.shape[0]
    key = _sum_key(f)
    if groups is None:
        order = np.lexsort((np.arange(n), key)).astype(np.int64)
        starts = np.array([0, n], dtype=np.int64)
    else:
        g = np.asarray(groups)
        if g.shape != (n,):
            raise CodesignError(f"groups must have shape ({n},), got {g.shape}")
        order = np.lexsort((np.arange(n), key, g)).astype(np.int64)
        gs = g[order]
        cut = np.flatnonzero(gs[1:] != gs[:-1]) + 1
        starts = np.concatenate(([0], cut, [n])).astype(np.int64)
    return _grouped_mask(f, order, starts)


def front_mask_naive(f: np.ndarray) -> np.ndarray:
    """O(n^2) reference of :func:`front_mask`: not dominated by any row, and no equal row with a lower index."""
    f = _check_matrix(f)
    n = f.shape[0]
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        le = (f <= f[i]).all(axis=1)
        lt = (f < f[i]).any(axis=1)
        eq = (f == f[i]).all(axis=1)
        if (le & lt).any() or eq[:i].any():
            keep[i] = False
    return keep


def dominates_any(front: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Per row of ``points``: whether some row of ``front`` dominates it (used by tests and checks)."""
    front = _check_matrix(front)
    points = _check_matrix(points)
    out = np.zeros(points.shape[0], dtype=bool)
    for s in range(0, points.shape[0], 4096):
        p = points[s:s + 4096, None, :]
        le = (front[None, :, :] <= p).all(axis=2)
        lt = (front[None, :, :] < p).any(axis=2)
        out[s:s + 4096] = (le & lt).any(axis=1)
    return out


def objective_matrix(objectives: tuple[str, ...], accuracy: np.ndarray, latency_ms: np.ndarray,
                     energy_mj: np.ndarray, area_mm2: np.ndarray) -> np.ndarray:
    """[n, len(objectives)] minimised objectives of n pairs given their 1-D metric arrays (accuracy negated)."""
    cols = {"accuracy": lambda: -np.asarray(accuracy, dtype=np.float64),
            "latency": lambda: np.asarray(latency_ms, dtype=np.float64),
            "energy": lambda: np.asarray(energy_mj, dtype=np.float64),
            "area": lambda: np.asarray(area_mm2, dtype=np.float64),
            "edp": lambda: np.asarray(latency_ms, dtype=np.float64) * np.asarray(energy_mj, dtype=np.float64)}
    return np.stack([cols[o]() for o in check_objectives(objectives, minimum=1)], axis=1)


@numba.njit(cache=True)
def _per_arch(acc: np.ndarray, lat: np.ndarray, en: np.ndarray, area: np.ndarray, feasible: np.ndarray,
              use: np.ndarray) -> np.ndarray:
    """Per arch row: mask of the (feasible) hw columns not dominated within the row."""
    n_arch, n_hw = lat.shape
    m = 0
    for u in use:
        if u:
            m += 1
    out = np.zeros((n_arch, n_hw), dtype=np.bool_)
    f = np.empty((n_hw, m))
    key = np.empty(n_hw)
    front = np.empty(n_hw, dtype=np.int64)
    keep = np.zeros(n_hw, dtype=np.bool_)
    lo = np.empty(m)
    hi = np.empty(m)
    for a in range(n_arch):
        cols = np.flatnonzero(feasible[a])
        k = cols.shape[0]
        if k == 0:
            continue
        for t in range(k):
            h = cols[t]
            c = 0
            vals = (-acc[a], lat[a, h], en[a, h], area[h], lat[a, h] * en[a, h])
            for o in range(5):
                if use[o]:
                    f[t, c] = vals[o]
                    c += 1
        for c in range(m):
            lo[c] = f[0, c]
            hi[c] = f[0, c]
            for t in range(1, k):
                lo[c] = min(lo[c], f[t, c])
                hi[c] = max(hi[c], f[t, c])
        for t in range(k):
            s = 0.0
            for c in range(m):
                span = hi[c] - lo[c]
                s += (f[t, c] - lo[c]) / span if span > 0 else 0.0
            key[t] = s
        order = np.argsort(key[:k], kind="mergesort").astype(np.int64)
        for t in range(k):
            keep[t] = False
        _scan_group(f[:k], order, keep[:k], front)
        for t in range(k):
            if keep[t]:
                out[a, cols[t]] = True
    return out


def feasible_mask(latency_ms: np.ndarray, area_mm2: np.ndarray, power_w: np.ndarray | None,
                  area_limit: float | None, power_limit: float | None, latency_limit: float | None) -> np.ndarray:
    """[n_arch, n_hw] mask of the pairs within every given limit (inclusive)."""
    ok = np.ones(latency_ms.shape, dtype=bool)
    if area_limit is not None:
        ok &= (area_mm2 <= area_limit)[None, :]
    if latency_limit is not None:
        ok &= latency_ms <= latency_limit
    if power_limit is not None:
        if power_w is None:
            raise CodesignError("--power-limit needs power per pair, which this hardware space does not give")
        ok &= power_w <= power_limit
    return ok


def grid_front(objectives: tuple[str, ...], accuracy: np.ndarray, latency_ms: np.ndarray, energy_mj: np.ndarray,
               area_mm2: np.ndarray, feasible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact Pareto front of every feasible (arch, hw) pair of a full grid: ``(arch_idx, hw_idx)`` sorted by
    arch then hw. ``accuracy`` [n_arch], ``latency_ms``/``energy_mj``/``feasible`` [n_arch, n_hw], ``area_mm2``
    [n_hw]. Ties (equal objective vectors) keep the pair with the lowest flat index ``arch * n_hw + hw``."""
    objs = check_objectives(objectives)
    acc = np.ascontiguousarray(accuracy, dtype=np.float64)
    lat = np.ascontiguousarray(latency_ms, dtype=np.float64)
    en = np.ascontiguousarray(energy_mj, dtype=np.float64)
    area = np.ascontiguousarray(area_mm2, dtype=np.float64)
    feas = np.ascontiguousarray(feasible, dtype=np.bool_)
    n_arch, n_hw = lat.shape
    if acc.shape != (n_arch,) or en.shape != lat.shape or area.shape != (n_hw,) or feas.shape != lat.shape:
        raise CodesignError(f"grid shapes disagree: accuracy {acc.shape}, latency {lat.shape}, energy {en.shape}, "
                            f"area {area.shape}, feasible {feas.shape}")
    for name, v in (("accuracy", acc), ("latency", lat), ("energy", en), ("area", area)):
        if not np.isfinite(v).all():
            raise CodesignError(f"{name} holds NaN or infinite values")
    use = np.array([o in objs for o in OBJECTIVES[:5]], dtype=np.bool_)
    # OBJECTIVES order is accuracy, latency, energy, area, edp: the same as _per_arch's value tuple.
    survivors = _per_arch(acc, lat, en, area, feas, use)
    a_idx, h_idx = np.nonzero(survivors)
    f = objective_matrix(tuple(o for o in OBJECTIVES if o in objs), acc[a_idx], lat[a_idx, h_idx],
                         en[a_idx, h_idx], area[h_idx])
    # within each group the order by flat index is preserved (np.nonzero is row-major): ties keep the lowest
    keep = front_mask(f, groups=h_idx)
    a_idx, h_idx, f = a_idx[keep], h_idx[keep], f[keep]
    keep = front_mask(f)
    return a_idx[keep], h_idx[keep]
