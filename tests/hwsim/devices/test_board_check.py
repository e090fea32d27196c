"""The real-board check's parts that hold with this model (needs the shared DPU data; skipped without it)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from hwsim.devices import get_device

ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("HWNAS_SHARED_DATA", ROOT.parent / "shared" / "data"))
pytestmark = pytest.mark.skipif(not (SHARED / "dpu" / "dpu_layer_profiles.csv").is_file(),
                                reason=f"shared DPU data not found under {SHARED} (set HWNAS_SHARED_DATA)")


def _bench():
    spec = importlib.util.spec_from_file_location("dpu_vs_board", ROOT / "benchmarks" / "dpu_vs_board.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_vgg16_nodes_within_10pct():
    rows = _bench().vgg_check(SHARED)
    assert len(rows) == 13
    assert max(abs(r["error"]) for r in rows) <= 0.10


def test_preset_parameters_reproduce_their_fit():
    p = _bench().fitted_parameter_check(SHARED)
    cfg = get_device("dpu-b4096-zcu102")
    assert cfg.cost_model.bandwidth_efficiency == pytest.approx(p["bandwidth_efficiency_at_281MHz"], abs=0.005)
    assert cfg.mechanisms.kernel_overhead_cycles == pytest.approx(p["kernel_overhead_cycles_at_281MHz"], rel=0.01)


def test_host_fit_uses_at_most_three_models():
    b = _bench()
    assert len(b.FIT_MODELS) <= 3 and set(b.FIT_MODELS) <= set(b.MODELS)
    # argmin_c ((1 + c - 2) / 2)^2 + ((1 + c - 4) / 4)^2 = (1/4 + 3/16) / (1/4 + 1/16) = 1.4
    assert b.fit_host([(1.0, 2.0), (1.0, 4.0)]) == pytest.approx(1.4)
    assert b.fit_host([(5.0, 2.0)]) == 0.0  # clamped: a host overhead is never negative


def test_dpu_time_matches_kv260_multithread_throughput():
    # KV260 has one DPU core: its multi-thread fps is 1 / DPU time (no host term, no fitted constant)
    rows = _bench().kv260_throughput_check(SHARED)
    assert len(rows) >= 8
    assert sum(abs(r["error"]) for r in rows) / len(rows) <= 0.10
