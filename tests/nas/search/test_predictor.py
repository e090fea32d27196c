"""Predictor-guided search (nas.search.predictor): seeded, budget = distinct queries, hard limit, finds the optimum
of a small synthetic space (whole space predicted and local mode), encoding and ranking against naive twins, CLI."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hwsim.cli import main
from nas.evaluators.base import EvalResult, EvalTask
from nas.search.differentiable import SearchError
from nas.search.evolution import EvolutionConfig, best_feasible
from nas.search.predictor import PredictorParams, one_hot, predictor_search, top_k
from spaces.core import Arch, SearchSpace
from spaces.registry import get_space

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
SMALL_OPS = ("skip_connect", "nor_conv_1x1", "nor_conv_3x3")


def small_space() -> SearchSpace:
    """NB201 restricted to 3 ops per edge: 3^6 = 729 archs."""
    sp = get_space("nb201")
    return sp.restrict({c.label: SMALL_OPS for c in sp.choices}, name="nb201-small")


@dataclass
class Synthetic:
    """Accuracy with per-edge gains and one pairwise interaction; counts its calls."""

    space: SearchSpace
    name: str = "synthetic"
    calls: int = 0

    @property
    def needs_parent(self) -> bool:
        return False

    def config(self) -> dict[str, Any]:
        return {"name": self.name}

    def value(self, arch: Arch) -> float:
        idx = [SMALL_OPS.index(arch[label]) if arch[label] in SMALL_OPS else 0 for label in self.space.labels]
        gain = [0.0, 0.03, 0.05]
        v = 0.3 + sum(gain[i] * (1 + 0.3 * e) for e, i in enumerate(idx))
        if idx[0] == 2 and idx[5] == 2:
            v += 0.04
        return v

    def evaluate(self, task: EvalTask) -> EvalResult:
        self.calls += 1
        return EvalResult(self.value(task.arch))


def latency_fn(space: SearchSpace):
    cost = {"none": 0.0, "skip_connect": 0.1, "nor_conv_1x1": 1.0, "nor_conv_3x3": 2.0, "avg_pool_3x3": 0.5}

    def f(archs: Any) -> np.ndarray:
        return np.array([1.0 + sum(cost[a[label]] for label in space.labels) for a in archs])
    return f


def _setup(limit: float = 8.0) -> tuple[SearchSpace, Synthetic, Any, np.ndarray, float]:
    sp = small_space()
    ev = Synthetic(sp)
    lat = latency_fn(sp)
    archs = list(sp.enumerate())
    all_ms = lat(archs)
    ok = all_ms <= limit
    opt = max(ev.value(a) for a, good in zip(archs, ok) if good)
    return sp, ev, lat, all_ms, opt


@pytest.mark.parametrize("whole", [True, False])
def test_seeded_budget_and_hard_limit(whole: bool) -> None:
    sp, ev, lat, all_ms, _ = _setup()
    cfg = EvolutionConfig(40, 10, latency_limit_ms=8.0, seed=5)
    params = PredictorParams(batch=7, ensemble=2, trees=20)
    run = predictor_search(sp, ev, lat, cfg, None, all_ms if whole else None, params)
    assert len(run.history) == 40 == len({h.arch for h in run.history}) == ev.calls
    assert [h.query for h in run.history] == list(range(1, 41))
    assert all(h.predicted_latency_ms <= 8.0 for h in run.history)
    assert all(float(lat([sp.parse(h.arch)])[0]) <= 8.0 for h in run.history)  # the model's own prediction
    assert run == predictor_search(sp, Synthetic(sp), lat, cfg, None, all_ms if whole else None, params)
    other = EvolutionConfig(40, 10, latency_limit_ms=8.0, seed=6)
    assert run != predictor_search(sp, Synthetic(sp), lat, other, None, all_ms if whole else None, params)


@pytest.mark.parametrize("whole", [True, False])
def test_finds_the_optimum_of_a_small_space(whole: bool) -> None:
    sp, _, lat, all_ms, opt = _setup()
    n_ok = int((all_ms <= 8.0).sum())
    for seed in range(3):
        ev = Synthetic(sp)
        run = predictor_search(sp, ev, lat, EvolutionConfig(100, 10, latency_limit_ms=8.0, seed=seed), None,
                               all_ms if whole else None)
        best = best_feasible(run.history, 8.0)
        assert best.fitness == pytest.approx(opt), (seed, best)
    assert 100 < n_ok / 3  # the optimum is found with well under the feasible set's size


def test_stops_when_every_feasible_arch_is_evaluated() -> None:
    sp, ev, lat, all_ms, _ = _setup(limit=4.5)
    n_ok = int((all_ms <= 4.5).sum())
    run = predictor_search(sp, ev, lat, EvolutionConfig(n_ok + 50, 5, latency_limit_ms=4.5), None, all_ms,
                           PredictorParams(ensemble=1, trees=5))
    assert len(run.history) == n_ok and "every feasible arch" in run.stopped


def test_limit_no_arch_meets_is_an_error() -> None:
    sp, ev, lat, all_ms, _ = _setup()
    with pytest.raises(SearchError, match="latency limit"):
        predictor_search(sp, ev, lat, EvolutionConfig(10, 5, latency_limit_ms=0.5), None, all_ms)
    with pytest.raises(SearchError, match="batch"):
        PredictorParams(batch=0)


def test_one_hot_and_top_k_match_naive() -> None:
    sp = get_space("nb201")
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 5, size=(50, 6))
    x = one_hot(sp, idx)
    for row, ids in zip(x, idx):
        naive = [1.0 if op == OPS[i] else 0.0 for i in ids for op in sp.choices[0].candidates]
        assert row.tolist() == naive
    score = rng.integers(0, 4, size=40).astype(float)
    naive_order = sorted(range(40), key=lambda i: (-score[i], i))
    assert top_k(score, 12).tolist() == naive_order[:12]
    assert list(itertools.islice(iter(top_k(score, 100).tolist()), 40)) == naive_order


def test_cli_method_predictor(tmp_path: Path) -> None:
    sp = get_space("nb201")
    archs = [sp.format(a) for a in sp.enumerate()]
    conv = np.array([s.count("conv_3x3") * 2 + s.count("conv_1x1") for s in archs], dtype=float)
    acc = 40 + 4 * conv + np.random.default_rng(0).normal(0, 2, len(archs))
    lat = 1 + conv
    (tmp_path / "acc.csv").write_text("arch_str,cifar100_test_acc\n" + "".join(
        f"{s},{a:.4f}\n" for s, a in zip(archs, acc)))
    (tmp_path / "lat.csv").write_text("arch_str,dev\n" + "".join(f"{s},{v:.4f}\n" for s, v in zip(archs, lat)))
    outs = []
    for k in range(2):
        out = tmp_path / f"o{k}"
        rc = main(["search", "--space", "nb201", "--method", "predictor", "--budget", "30", "--population", "10",
                   "--evaluator", "table", "--table", str(tmp_path / "acc.csv"), "--table-column",
                   "cifar100_test_acc", "--latency-table", str(tmp_path / "lat.csv"), "--latency-column", "dev",
                   "--latency-limit", "7", "--seed", "3", "--out", str(out), "--quiet"])
        assert rc == 0
        outs.append(json.loads((out / "search.json").read_text()))
    s = outs[0]
    assert s["method"] == "predictor" and s["evaluations"] == 30 and s["best"]["predicted_latency_ms"] <= 7
    assert s["history"] == outs[1]["history"]
    ok = lat <= 7
    assert s["best"]["accuracy_percent"] >= np.percentile(acc[ok], 98)  # 30 queries: the feasible top 2 %


def test_small_init_band_does_not_end_the_run() -> None:
    """A band with fewer archs than the initial sample is evaluated whole, then the rounds go on."""
    sp, ev, lat, all_ms, _ = _setup()
    n_ok = int((all_ms <= 8.0).sum())
    band = 0.02
    assert np.ceil(band * n_ok) < 10
    run = predictor_search(sp, ev, lat, EvolutionConfig(30, 10, latency_limit_ms=8.0, init_band=band), None, all_ms,
                           PredictorParams(ensemble=1, trees=10))
    assert len(run.history) == 30 and not run.stopped
