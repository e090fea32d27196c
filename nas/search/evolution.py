"""Regularised (aging) evolution (Real et al., AAAI 2019) and random search under a hard latency limit.

Both spend a ``budget`` of accuracy queries: each distinct arch is evaluated once (a seed derived from the run
seed and the arch string, so results do not depend on evaluation order); asking again for an arch already
evaluated is free. ``latency_limit_ms`` is a hard constraint on the latency model's prediction: an arch predicted
over it is never evaluated.

* Evolution: a population of ``population`` (P) random feasible archs; each step samples ``tournament`` (S)
  members uniformly, mutates the fittest of the sample in one choice (retrying, bounded, until the child is
  feasible), evaluates the child, appends it and removes the oldest member.
* Random search: uniformly random feasible archs until the budget is spent.

Feasible sampling: where the whole space's predictions are known (``all_ms``, in :meth:`SearchSpace.enumerate`
order) archs are drawn uniformly from the feasible ones (the same distribution as rejection sampling, without its
failure mode); otherwise by rejection with at most ``max_retries`` tries per arch. Both stop early (``stopped``
in the result) when ``max_retries`` consecutive proposals bring no new arch (a tiny feasible set).
Fitness is the evaluator's accuracy, or for proxy evaluators its first proxy score.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nas.evaluators.base import EvalTask, Evaluator, task_seed
from nas.search.differentiable import SearchError
from spaces.core import Arch, SearchSpace

LatencyFn = Callable[[Sequence[Arch]], np.ndarray]


@dataclass(frozen=True)
class EvolutionConfig:
    """``budget``: distinct archs evaluated (accuracy queries); ``population`` (P) and ``tournament`` (S) sizes;
    ``latency_limit_ms``: hard limit on the predicted latency (None: none); ``max_retries``: proposals tried per new
    arch before giving up. ``population`` and ``tournament`` are unused by random search."""

    budget: int = 60
    population: int = 16
    tournament: int = 4
    latency_limit_ms: float | None = None
    seed: int = 0
    max_retries: int = 1000

    def __post_init__(self) -> None:
        for fld in ("budget", "population", "tournament", "max_retries"):
            v = getattr(self, fld)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise SearchError(f"search {fld} must be a positive integer, got {v!r}")
        if self.population > self.budget:
            raise SearchError(f"population {self.population} exceeds the budget {self.budget}")
        if self.latency_limit_ms is not None and not (math.isfinite(self.latency_limit_ms)
                                                      and self.latency_limit_ms > 0):
            raise SearchError(f"latency limit must be a positive number of ms, got {self.latency_limit_ms!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SearchError(f"seed must be a non-negative integer, got {self.seed!r}")


@dataclass(frozen=True)
class Evaluated:
    """One evaluated arch: ``fitness`` (accuracy or proxy score), accuracy (fraction or None), predicted latency
    (ms) and the query number (1-based) that evaluated it."""

    arch: str
    fitness: float
    accuracy: float | None
    predicted_latency_ms: float
    query: int


@dataclass(frozen=True)
class SearchRun:
    """``history``: every evaluated arch in query order; ``proposals``: archs proposed (feasible ones, cache hits
    included); ``stopped``: why the run ended before the budget (empty when it did not)."""

    history: tuple[Evaluated, ...]
    proposals: int
    stopped: str = ""


def fitness_of(result: Any) -> float:
    if result.accuracy is not None:
        return float(result.accuracy)
    if not result.scores:
        raise SearchError("the evaluator returned neither accuracy nor scores")
    return float(next(iter(result.scores.values())))


class _Oracle:
    """Evaluates each distinct arch once and counts the queries."""

    def __init__(self, space: SearchSpace, evaluator: Evaluator, latency: LatencyFn, seed: int, bar: Any) -> None:
        self.space, self.evaluator, self.latency, self.seed, self.bar = space, evaluator, latency, seed, bar
        self.cache: dict[str, Evaluated] = {}
        self.history: list[Evaluated] = []

    def __call__(self, arch: Arch, lat_ms: float) -> tuple[Evaluated, bool]:
        key = self.space.format(arch)
        if key in self.cache:
            return self.cache[key], False
        r = self.evaluator.evaluate(EvalTask(self.space, arch, f"search/{self.space.name}/{key}",
                                             task_seed(self.seed, f"search/{key}")))
        e = Evaluated(key, fitness_of(r), r.accuracy, float(lat_ms), len(self.history) + 1)
        self.cache[key] = e
        self.history.append(e)
        if self.bar is not None:
            self.bar.update(1)
        return e, True


class _Feasible:
    """Draws feasible archs (module docstring)."""

    def __init__(self, space: SearchSpace, latency: LatencyFn, limit: float | None, all_ms: np.ndarray | None,
                 max_retries: int) -> None:
        self.space, self.latency, self.limit, self.max_retries = space, latency, limit, max_retries
        self.ok_index: np.ndarray | None = None
        if all_ms is not None:
            all_ms = np.asarray(all_ms, dtype=float)
            self.ok_index = np.flatnonzero(all_ms <= limit) if limit is not None else np.arange(len(all_ms))
            if len(self.ok_index) == 0:
                raise SearchError(f"no arch of {space.name!r} meets the latency limit {limit:g} ms (fastest "
                                  f"predicted: {float(all_ms.min()):.4g} ms)")
        self.sizes = [len(c.candidates) for c in space.choices]

    def ok(self, arch: Arch) -> tuple[bool, float]:
        lat = float(self.latency([arch])[0])
        return (self.limit is None or lat <= self.limit), lat

    def _from_flat(self, k: int) -> Arch:
        idx = []
        for n in reversed(self.sizes):
            idx.append(k % n)
            k //= n
        return self.space.from_indices(idx[::-1])

    def sample(self, rng: np.random.Generator) -> tuple[Arch, float]:
        if self.ok_index is not None:
            a = self._from_flat(int(self.ok_index[int(rng.integers(len(self.ok_index)))]))
            return a, float(self.latency([a])[0])
        return self.draw(lambda: self.space.sample(rng))

    def draw(self, make: Callable[[], Arch]) -> tuple[Arch, float]:
        for _ in range(self.max_retries):
            a = make()
            good, lat = self.ok(a)
            if good:
                return a, lat
        raise SearchError(f"no arch of {self.space.name!r} met the latency limit {self.limit} ms in "
                          f"{self.max_retries} tries; raise --latency-limit")


def mutate(space: SearchSpace, parent: Arch, rng: np.random.Generator) -> Arch:
    """``parent`` with one choice (uniform among those with several candidates) set to another candidate."""
    choices = [c for c in space.choices if len(c.candidates) > 1]
    if not choices:
        return parent
    c = choices[int(rng.integers(len(choices)))]
    others = [b for b in c.candidates if b != parent[c.label]]
    return Arch({**parent.to_dict(), c.label: others[int(rng.integers(len(others)))]}.items())


def _run(space: SearchSpace, evaluator: Evaluator, latency: LatencyFn, config: EvolutionConfig,
         progress: Callable[[int, str], Any] | None, all_ms: np.ndarray | None, label: str,
         step: Callable[[_Oracle, _Feasible, np.random.Generator], None]) -> SearchRun:
    rng = np.random.default_rng(config.seed)
    feas = _Feasible(space, latency, config.latency_limit_ms, all_ms, config.max_retries)
    bar = progress(config.budget, f"{label} {space.name}") if progress else None
    oracle = _Oracle(space, evaluator, latency, config.seed, bar)
    proposals = idle = 0
    stopped = ""
    try:
        while len(oracle.history) < config.budget:
            n = len(oracle.history)
            step(oracle, feas, rng)
            proposals += 1
            idle = 0 if len(oracle.history) > n else idle + 1
            if idle >= config.max_retries:
                stopped = f"{config.max_retries} proposals in a row brought no new feasible arch"
                break
    finally:
        if bar is not None:
            bar.close()
    return SearchRun(tuple(oracle.history), proposals, stopped)


def evolve(space: SearchSpace, evaluator: Evaluator, latency: LatencyFn, config: EvolutionConfig,
           progress: Callable[[int, str], Any] | None = None, all_ms: np.ndarray | None = None) -> SearchRun:
    """Regularised evolution (module docstring). ``latency`` predicts a batch of archs (ms)."""
    pop: deque[tuple[Arch, Evaluated]] = deque()

    def step(oracle: _Oracle, feas: _Feasible, rng: np.random.Generator) -> None:
        if len(oracle.history) < config.population and len(pop) < config.population:
            a, lat = feas.sample(rng)
        else:
            idx = rng.choice(len(pop), size=min(config.tournament, len(pop)), replace=False)
            parent = max((pop[int(i)] for i in idx), key=lambda m: m[1].fitness)[0]
            a, lat = feas.draw(lambda: mutate(space, parent, rng))
        e, _ = oracle(a, lat)
        pop.append((a, e))
        if len(pop) > config.population:
            pop.popleft()

    return _run(space, evaluator, latency, config, progress, all_ms, "evolution", step)


def random_search(space: SearchSpace, evaluator: Evaluator, latency: LatencyFn, config: EvolutionConfig,
                  progress: Callable[[int, str], Any] | None = None, all_ms: np.ndarray | None = None) -> SearchRun:
    """Random search (module docstring): the baseline every NAS paper reports."""
    def step(oracle: _Oracle, feas: _Feasible, rng: np.random.Generator) -> None:
        a, lat = feas.sample(rng)
        oracle(a, lat)

    return _run(space, evaluator, latency, config, progress, all_ms, "random", step)


def best_feasible(history: Sequence[Evaluated], limit_ms: float | None) -> Evaluated:
    """The fittest evaluated arch within the limit (ties: faster, then earlier)."""
    ok = [h for h in history if limit_ms is None or h.predicted_latency_ms <= limit_ms]
    if not ok:
        raise SearchError("no evaluated arch meets the latency limit")
    return max(ok, key=lambda h: (h.fitness, -h.predicted_latency_ms, -h.query))


__all__ = ["EvolutionConfig", "Evaluated", "SearchRun", "best_feasible", "evolve", "fitness_of", "mutate",
           "random_search"]
