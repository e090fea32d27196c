"""Pareto front, evolution under a latency limit, FBNet-style supernet and the search CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.cli import main
from nas.cost import CostParams
from nas.evaluators.datasets import DatasetSpec, load_dataset
from nas.evaluators.zero_cost import ZeroCostEvaluator
from nas.profiling import ProfileConfig, profile_spaces
from nas.search.differentiable import (
    DifferentiableConfig,
    Supernet,
    expected_latency,
    latency_loss,
)
from nas.search.evolution import EvolutionConfig, evolve
from nas.search.pareto import pareto_front
from nas.search.run import run_differentiable, run_evolution, target_from_profile
from spaces.registry import get_space


def _naive_front(lat: list[float], acc: list[float]) -> set[int]:
    out = set()
    for i in range(len(lat)):
        dominated = any((lat[j] <= lat[i] and acc[j] >= acc[i] and (lat[j] < lat[i] or acc[j] > acc[i]))
                        for j in range(len(lat)))
        dup_earlier = any(lat[j] == lat[i] and acc[j] == acc[i] for j in range(i))
        if not dominated and not dup_earlier:
            out.add(i)
    return out


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=25))
def test_pareto_matches_naive(pts: list[tuple[int, int]]) -> None:
    lat = [float(p[0]) for p in pts]
    acc = [float(p[1]) for p in pts]
    front = pareto_front(lat, acc)
    assert set(front) == _naive_front(lat, acc)
    assert [lat[i] for i in front] == sorted(lat[i] for i in front)


@pytest.fixture
def profile_dir(tmp_path: Path, tiny_families: tuple[str, str]) -> Path:
    ev = ZeroCostEvaluator(DatasetSpec("synthetic", 8, num_samples=64), ("naswot",), batch_size=8)
    profile_spaces(ProfileConfig(tiny_families, "dpu-b4096-zcu102", ev, CostParams(0.5, 1.0, 0.5, 4)),
                   tmp_path / "p", plots=False)
    return tmp_path / "p"


def test_evolution_respects_limit_and_is_seeded(profile_dir: Path) -> None:
    t = target_from_profile(profile_dir, full=True)
    ev = ZeroCostEvaluator(DatasetSpec("synthetic", 8, num_samples=64), ("naswot",), batch_size=8)
    lats = [t.predict_ms(a) for a in t.space.enumerate()]
    limit = float(np.median(lats))
    cfg = EvolutionConfig(budget=4, population=2, latency_limit_ms=limit, seed=3)
    h1 = evolve(t.space, ev, t.latency.predict_ms, cfg).history
    h2 = evolve(t.space, ev, t.latency.predict_ms, cfg).history
    assert h1 == h2 and len(h1) == 4 and len({h.arch for h in h1}) == 4  # budget = distinct accuracy queries
    assert all(h.predicted_latency_ms <= limit for h in h1)
    with pytest.raises(Exception, match="latency limit"):
        evolve(t.space, ev, t.latency.predict_ms,
               EvolutionConfig(4, 2, latency_limit_ms=min(lats) / 2, max_retries=20))


def test_run_evolution_outputs(profile_dir: Path, tmp_path: Path) -> None:
    t = target_from_profile(profile_dir)
    ev = ZeroCostEvaluator(DatasetSpec("synthetic", 8, num_samples=64), ("naswot",), batch_size=8)
    s = run_evolution(t, ev, EvolutionConfig(budget=6, population=3), tmp_path / "s")
    assert (tmp_path / "s" / "pareto.png").is_file()
    assert t.space.contains(t.space.parse(s["best"]["arch"]))
    # the best arch is re-simulated end to end on the device
    from hwsim.devices.registry import get_device

    arch = t.space.parse(s["best"]["arch"])
    assert s["best"]["device_latency_ms"] == get_device(t.device).run(t.space.to_workload(arch)).latency_ms
    assert s["best"]["predicted_latency_ms"] == pytest.approx(s["best"]["device_latency_ms"], rel=0.5)
    assert json.loads((tmp_path / "s" / "search.json").read_text())["best"] == s["best"]


def test_supernet_paths_and_latency(tiny_families: tuple[str, str]) -> None:
    space = get_space(tiny_families[0])
    net = Supernet(space, 10, 8)
    assert len(net.layers) == 2 and net.sizes == (3, 3)
    # a supernet holds each candidate block once: its params = stem/head + all candidates
    n_arch = sum(p.numel() for p in space.to_torch(space.typical_arch(), num_classes=10, input_size=8).parameters())
    assert sum(p.numel() for p in net.weight_parameters()) > n_arch
    out = net(torch.randn(2, 3, 8, 8), 5.0, torch.Generator().manual_seed(0))
    assert out.shape == (2, 10)
    lut = [torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.5, 0.5, 0.5])]
    lat = expected_latency([torch.zeros(3), torch.zeros(3)], lut, 1.0)
    assert float(lat) == pytest.approx(1.0 + 2.0 + 0.5)
    ce = torch.tensor(2.0)
    assert float(latency_loss(ce, torch.tensor(4.0), 0.2, 0.5, "power")) == pytest.approx(2.0 * 0.2 * 2.0)
    assert float(latency_loss(ce, torch.tensor(np.e ** 4), 0.2, 0.5, "log")) == pytest.approx(2.0 * 0.2 * 2.0)


def test_differentiable_latency_term_pushes_to_fast_blocks(profile_dir: Path) -> None:
    t = target_from_profile(profile_dir, full=True)
    data = load_dataset(DatasetSpec("synthetic", 8, num_samples=64))
    ev = ZeroCostEvaluator(DatasetSpec("synthetic", 8, num_samples=64), ("naswot",), batch_size=8)
    cfg = DifferentiableConfig(epochs=3, batch_size=16, theta_lr=0.2, alpha=1.0, beta=4.0, seed=1)
    s = run_differentiable(t, ev, data, cfg, 8)
    lats = [e["expected_latency_ms"] for e in s["epochs"]]
    assert lats[-1] < lats[0]
    assert [e["tau"] for e in s["epochs"]] == pytest.approx([5.0, 5.0 * 0.956, 5.0 * 0.956 ** 2])
    assert s["supernet_memory_bytes"]["activations"] > 0
    assert s["best"]["device_latency_ms"] > 0


def test_search_cli(profile_dir: Path, tmp_path: Path) -> None:
    rc = main(["search", "--profile", str(profile_dir), "--budget", "4", "--population", "2", "--proxies", "naswot",
               "--batch-size", "8", "--out", str(tmp_path / "s"), "--quiet", "--plot", str(tmp_path / "front.png")])
    assert rc == 0
    assert (tmp_path / "front.png").read_bytes() == (tmp_path / "s" / "pareto.png").read_bytes()
    assert (tmp_path / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    s = json.loads((tmp_path / "s" / "search.json").read_text())
    assert s["method"] == "evolution" and s["evaluated"] >= 1
    assert main(["search", "--out", str(tmp_path / "x")]) == 2
    rc = main(["search", "--profile", str(profile_dir), "--method", "differentiable", "--epochs", "1",
               "--steps-per-epoch", "2", "--evaluator", "train", "--train-budget", "3steps", "--max-train", "64",
               "--out", str(tmp_path / "d"), "--quiet"])
    assert rc == 0
    d = json.loads((tmp_path / "d" / "search.json").read_text())
    assert d["method"] == "differentiable" and len(d["epochs"]) == 1 and d["best"]["accuracy"] is not None
