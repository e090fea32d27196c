"""Regularised (aging) evolution under a latency constraint (Real et al. 2019), with a LUT latency model.

The population starts with random archs whose predicted latency meets ``latency_limit_ms``; each step picks the
fittest of a random tournament, mutates one layer to another candidate (retrying, bounded, until the child meets
the limit), evaluates it and retires the oldest member. Fitness is the evaluator's accuracy, or for proxy
evaluators its first proxy score. Each arch is evaluated once, with a seed derived from the run seed and the arch
string, so results do not depend on evaluation order.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nas.evaluators.base import EvalTask, Evaluator, task_seed
from nas.search.differentiable import SearchError
from spaces.core import Arch, SearchSpace


@dataclass(frozen=True)
class EvolutionConfig:
    """``budget``: archs evaluated; ``population``/``tournament`` sizes; ``latency_limit_ms``: constraint on the
    predicted latency (None: none); ``max_retries``: samples tried per new arch before giving up."""

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
                raise SearchError(f"evolution {fld} must be a positive integer, got {v!r}")
        if self.population > self.budget:
            raise SearchError(f"population {self.population} exceeds the budget {self.budget}")
        if self.latency_limit_ms is not None and not (math.isfinite(self.latency_limit_ms)
                                                      and self.latency_limit_ms > 0):
            raise SearchError(f"latency_limit_ms must be positive, got {self.latency_limit_ms!r}")


@dataclass(frozen=True)
class Evaluated:
    """One evaluated arch: ``fitness`` (accuracy or proxy score), predicted latency (ms)."""

    arch: str
    fitness: float
    accuracy: float | None
    predicted_latency_ms: float


def fitness_of(result: Any) -> float:
    if result.accuracy is not None:
        return float(result.accuracy)
    if not result.scores:
        raise SearchError("the evaluator returned neither accuracy nor scores")
    return float(next(iter(result.scores.values())))


def evolve(space: SearchSpace, evaluator: Evaluator, predict_ms: Callable[[Arch], float], config: EvolutionConfig,
           progress: Callable[[int, str], Any] | None = None) -> tuple[Evaluated, ...]:
    """All evaluated archs in evaluation order (see the module docstring)."""
    rng = np.random.default_rng(config.seed)
    limit = config.latency_limit_ms
    history: list[Evaluated] = []
    cache: dict[str, Evaluated] = {}
    bar = progress(config.budget, f"evolution {space.name}") if progress else None

    def ok(arch: Arch) -> bool:
        return limit is None or predict_ms(arch) <= limit

    def evaluate(arch: Arch) -> Evaluated:
        key = space.format(arch)
        if key not in cache:
            r = evaluator.evaluate(EvalTask(space, arch, f"search/{space.name}/{key}",
                                            task_seed(config.seed, f"search/{key}")))
            cache[key] = Evaluated(key, fitness_of(r), r.accuracy, float(predict_ms(arch)))
        if bar is not None:
            bar.update(1)
        return cache[key]

    def draw(make: Callable[[], Arch]) -> Arch:
        for _ in range(config.max_retries):
            a = make()
            if ok(a):
                return a
        raise SearchError(f"no arch of {space.name!r} meets the latency limit {limit} ms after "
                          f"{config.max_retries} tries; raise --latency-limit")

    def mutate(parent: Arch) -> Arch:
        choices = [c for c in space.choices if len(c.candidates) > 1]
        if not choices:
            return parent
        c = choices[int(rng.integers(len(choices)))]
        others = [b for b in c.candidates if b != parent[c.label]]
        return Arch({**parent.to_dict(), c.label: others[int(rng.integers(len(others)))]}.items())

    pop: deque[Evaluated] = deque()
    try:
        while len(history) < config.population:
            e = evaluate(draw(lambda: space.sample(rng)))
            pop.append(e)
            history.append(e)
        while len(history) < config.budget:
            idx = rng.choice(len(pop), size=min(config.tournament, len(pop)), replace=False)
            parent = max((pop[int(i)] for i in idx), key=lambda e: e.fitness)
            e = evaluate(draw(lambda: mutate(space.parse(parent.arch))))
            pop.append(e)
            pop.popleft()
            history.append(e)
    finally:
        if bar is not None:
            bar.close()
    return tuple(history)
