"""Predictor-guided (surrogate) search under a hard latency limit, BANANAS-style (White et al., AAAI 2021).

The budget, the hard limit and the query accounting are :mod:`nas.search.evolution`'s (its oracle and feasible
sampler): each distinct arch is evaluated once, an arch predicted over ``latency_limit_ms`` is never evaluated.

1. ``population`` distinct feasible archs drawn at random (from the slowest ``init_band`` share of the feasible ones where
   the whole space is predicted, as evolution's initial population) are evaluated.
2. Each round an ensemble of ``ensemble`` gradient-boosted tree regressors (sklearn, each on a bootstrap of the
   evaluated archs, seeded from the run seed and the round) is fitted on a one-hot encoding of the archs' labelled
   choices (NB201: 6 edges x 5 ops = 30 features; any space works) against fitness.
3. Candidates: where the whole space is predicted (``all_ms``: NB201's 15,625 cells) every feasible arch not yet
   evaluated; otherwise every single-choice mutation of the ``parents`` fittest evaluated archs, random
   two-choice mutations of them and random archs (``random_candidates`` each), kept when unevaluated and
   predicted under the limit (a swap of two choices can stay under a tight limit where no single change can).
4. The ``batch`` candidates with the highest acquisition ``mean + kappa * sd`` over the ensemble (ties: lowest
   candidate position) are evaluated; repeat until the budget is spent or no candidate is left (``stopped``).

Deterministic given the seed. The result is a :class:`nas.search.evolution.SearchRun`, so
:func:`nas.search.evolution.best_feasible` and ``hwnas search`` treat it like evolution's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nas.evaluators.base import Evaluator
from nas.search.differentiable import SearchError
from nas.search.evolution import EvolutionConfig, LatencyFn, SearchRun, _Feasible, _Oracle, mutate
from spaces.core import Arch, SearchSpace


@dataclass(frozen=True)
class PredictorParams:
    """``batch``: archs queried per round; ``ensemble``: regressors in the ensemble; ``trees``/``depth``/
    ``learning_rate``: each gradient-boosting regressor; ``kappa``: weight of the ensemble's spread in the
    acquisition; ``parents``/``random_candidates``: the candidate set where the space is not predicted whole."""

    batch: int = 20
    ensemble: int = 3
    trees: int = 100
    depth: int = 3
    learning_rate: float = 0.1
    kappa: float = 0.5
    parents: int = 10
    random_candidates: int = 200

    def __post_init__(self) -> None:
        for fld in ("batch", "ensemble", "trees", "depth", "parents"):
            v = getattr(self, fld)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise SearchError(f"predictor {fld} must be a positive integer, got {v!r}")
        if isinstance(self.random_candidates, bool) or not isinstance(self.random_candidates, int) \
                or self.random_candidates < 0:
            raise SearchError(f"predictor random_candidates must be >= 0, got {self.random_candidates!r}")
        for fld in ("learning_rate", "kappa"):
            v = getattr(self, fld)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise SearchError(f"predictor {fld} must be a finite number >= 0, got {v!r}")
        if self.learning_rate <= 0:
            raise SearchError(f"predictor learning_rate must be > 0, got {self.learning_rate!r}")


def one_hot(space: SearchSpace, idx: np.ndarray) -> np.ndarray:
    """One-hot encoding (float32, one column per (choice, candidate)) of candidate indices ``idx`` (N, choices)."""
    sizes = [len(c.candidates) for c in space.choices]
    idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(sizes))
    offs = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    x = np.zeros((len(idx), int(sum(sizes))), dtype=np.float32)
    rows = np.repeat(np.arange(len(idx)), len(sizes))
    x[rows, (idx + offs).ravel()] = 1.0
    return x


def _unravel(space: SearchSpace, flat: np.ndarray) -> np.ndarray:
    sizes = [len(c.candidates) for c in space.choices]
    return np.stack(np.unravel_index(np.asarray(flat, dtype=np.int64), sizes), axis=1)


def fit_ensemble(x: np.ndarray, y: np.ndarray, params: PredictorParams, seed: int) -> list[Any]:
    """``params.ensemble`` gradient-boosting regressors, each on a bootstrap of (x, y), seeded from ``seed``."""
    from sklearn.ensemble import GradientBoostingRegressor

    rng = np.random.default_rng(seed)
    models = []
    for _ in range(params.ensemble):
        rows = rng.integers(len(x), size=len(x)) if params.ensemble > 1 else np.arange(len(x))
        m = GradientBoostingRegressor(n_estimators=params.trees, max_depth=params.depth,
                                      learning_rate=params.learning_rate,
                                      random_state=int(rng.integers(2**31 - 1)))
        m.fit(x[rows], y[rows])
        models.append(m)
    return models


def acquisition(models: Sequence[Any], x: np.ndarray, kappa: float) -> np.ndarray:
    """Ensemble mean + ``kappa`` * ensemble standard deviation of the predicted fitness of the rows of ``x``."""
    p = np.stack([m.predict(x) for m in models])
    return p.mean(axis=0) + (kappa * p.std(axis=0) if len(models) > 1 else 0.0)


def top_k(score: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first (ties: lowest position)."""
    order = np.lexsort((np.arange(len(score)), -score))
    return order[:k]


def predictor_search(space: SearchSpace, evaluator: Evaluator, latency: LatencyFn, config: EvolutionConfig,
                     progress: Callable[[int, str], Any] | None = None, all_ms: np.ndarray | None = None,
                     params: PredictorParams = PredictorParams()) -> SearchRun:
    """Predictor-guided search (module docstring). ``config.population`` is the initial random sample,
    ``config.init_band`` its band; ``config.tournament`` is unused."""
    rng = np.random.default_rng(config.seed)
    feas = _Feasible(space, latency, config.latency_limit_ms, all_ms, config.max_retries, config.init_band)
    bar = progress(config.budget, f"predictor {space.name}") if progress else None
    oracle = _Oracle(space, evaluator, latency, config.seed, bar)
    proposals = 0
    stopped = ""
    ms_all = None if all_ms is None else np.asarray(all_ms, dtype=float)
    pool = feas.ok_index                       # flat indices of every feasible arch (whole space predicted)
    x_pool = None if pool is None else one_hot(space, _unravel(space, pool))
    evaluated_flat: set[int] = set()
    sizes = [len(c.candidates) for c in space.choices]

    def flat_of(a: Arch) -> int:
        return int(np.ravel_multi_index(space.indices(a), sizes))

    try:
        n0 = min(config.population, config.budget)
        band = feas.band_index if feas.band_index is not None else pool
        if band is not None:  # distinct draws from the band; a band smaller than n0 is evaluated whole
            for k in band[rng.permutation(len(band))[:n0]]:
                proposals += 1
                oracle(feas._from_flat(int(k)), float(ms_all[k]))
        else:
            idle = 0
            while len(oracle.history) < n0 and idle < config.max_retries:  # then the rounds go on
                a, lat = feas.sample(rng, band=True)
                proposals += 1
                _, new = oracle(a, lat)
                idle = 0 if new else idle + 1
        rnd = 0
        while not stopped and len(oracle.history) < config.budget:
            rnd += 1
            hist = oracle.history
            x = one_hot(space, np.array([space.indices(space.parse(h.arch)) for h in hist]))
            y = np.array([h.fitness for h in hist])
            models = fit_ensemble(x, y, params, config.seed * 100003 + rnd)
            if pool is not None:
                evaluated_flat.update(flat_of(space.parse(h.arch)) for h in hist)
                keep = np.flatnonzero(~np.isin(pool, np.fromiter(evaluated_flat, dtype=np.int64)))
                if len(keep) == 0:
                    stopped = "every feasible arch has been evaluated"
                    break
                score = acquisition(models, x_pool[keep], params.kappa)
                take = [(feas._from_flat(int(pool[keep[i]])), float(ms_all[pool[keep[i]]]))
                        for i in top_k(score, params.batch)]
            else:
                cands = _local_candidates(space, feas, oracle, params, rng)
                if not cands:
                    stopped = "no unevaluated feasible candidate near the best archs"
                    break
                xc = one_hot(space, np.array([space.indices(a) for a, _ in cands]))
                score = acquisition(models, xc, params.kappa)
                take = [cands[int(i)] for i in top_k(score, params.batch)]
            for a, lat in take:
                if len(oracle.history) >= config.budget:
                    break
                proposals += 1
                oracle(a, lat)
    finally:
        if bar is not None:
            bar.close()
    return SearchRun(tuple(oracle.history), proposals, stopped)


def _local_candidates(space: SearchSpace, feas: _Feasible, oracle: _Oracle, params: PredictorParams,
                      rng: np.random.Generator) -> list[tuple[Arch, float]]:
    """Every single-choice mutation of the ``parents`` fittest evaluated archs, random two-choice mutations of
    them (``random_candidates`` in all) and ``random_candidates`` random archs, unevaluated and predicted under the
    limit, in a fixed order (parents by fitness, then the draws), without duplicates."""
    best = sorted(oracle.history, key=lambda h: (-h.fitness, h.query))[:params.parents]
    seen: set[str] = set(oracle.cache)
    out: list[Arch] = []
    for h in best:
        parent = space.parse(h.arch)
        for c in space.choices:
            for b in c.candidates:
                if b == parent[c.label]:
                    continue
                a = Arch({**parent.to_dict(), c.label: b}.items())
                k = space.format(a)
                if k not in seen:
                    seen.add(k)
                    out.append(a)
    per_parent = params.random_candidates // max(1, len(best))
    draws = [mutate(space, mutate(space, space.parse(h.arch), rng), rng) for h in best for _ in range(per_parent)]
    draws += [space.sample(rng) for _ in range(params.random_candidates)]
    for a in draws:
        k = space.format(a)
        if k not in seen:
            seen.add(k)
            out.append(a)
    if not out:
        return []
    lat = np.asarray(feas.latency(out), dtype=float)
    lim = feas.limit
    return [(a, float(t)) for a, t in zip(out, lat) if lim is None or t <= lim]


__all__ = ["PredictorParams", "acquisition", "fit_ensemble", "one_hot", "predictor_search", "top_k"]
