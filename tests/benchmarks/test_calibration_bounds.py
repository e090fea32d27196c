"""The noise ceilings of benchmarks/calibration_real_boards.py against small cases worked by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "calibration_real_boards.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("calibration_real_boards", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_hindsight_bound_by_hand(bench) -> None:
    # group 0: 1.0 and 1.05 fit one value within +-10%, 1.5 cannot join them; group 1: two equal values; one singleton
    y = np.array([1.0, 1.05, 1.5, 2.0, 2.0, 3.0])
    keys = [0, 0, 0, 1, 1, 2]
    bound, grouped = bench.oracle_ceiling(y, keys)
    assert bound == pytest.approx(5 / 6) and grouped == pytest.approx(4 / 5)
    # the window is exactly [p/1.1, p/0.9]: 0.9 and 1.1 are both within 10% of p = 0.99
    assert bench.oracle_ceiling(np.array([0.9, 1.1]), [0, 0]) == (1.0, 1.0)
    assert bench.oracle_ceiling(np.array([0.9, 1.1 * 1.001]), [0, 0]) == (0.5, 0.5)


def test_bound_caps_any_grouped_predictor(bench) -> None:
    """No per-group constant prediction (the best any predictor blind within a group can do) beats the bound."""
    rng = np.random.default_rng(0)
    keys = list(rng.integers(0, 40, 300))
    y = np.exp(rng.normal(0, 0.15, 300)) * (1 + np.array(keys) % 7)
    bound, _ = bench.oracle_ceiling(y, keys)
    for _ in range(20):
        per_group = {k: float(np.exp(rng.normal(0, 0.1))) * (1 + k % 7) for k in set(keys)}
        pred = np.array([per_group[k] for k in keys])
        assert np.mean(np.abs(pred / y - 1) <= 0.10) <= bound + 1e-12
    loo, n = bench.loo_ceiling(y, keys)
    assert n == 300 - sum(keys.count(k) == 1 for k in set(keys)) and 0 < loo <= 1
