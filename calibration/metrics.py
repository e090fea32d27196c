"""Accuracy of latency predictions on held-out measurements (the scatter plot is
:func:`hwsim.plots.calibration_scatter`)."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from hwsim.errors import HwnasError


@dataclass(frozen=True)
class AccuracyReport:
    """Held-out accuracy. ``mape`` in percent; ``rmse_ms`` in milliseconds; ``within_5pct`` / ``within_10pct``:
    share (0..1) of networks predicted within +-5% / +-10% of the measurement; ``spearman`` / ``kendall``: rank
    correlations (scipy.stats; tau-b); ``n_train`` / ``n_test``: measurements used to fit / to evaluate."""

    spearman: float
    kendall: float
    mape: float
    rmse_ms: float
    within_5pct: float
    within_10pct: float
    n_train: int
    n_test: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def to_text(self) -> str:
        return (f"n_train={self.n_train} n_test={self.n_test}  MAPE {self.mape:.2f}%  RMSE {self.rmse_ms:.4g} ms  "
                f"+-5% {100 * self.within_5pct:.1f}%  +-10% {100 * self.within_10pct:.1f}%  "
                f"Spearman {self.spearman:.4f}  Kendall {self.kendall:.4f}")


def accuracy(predicted_ms: Any, measured_ms: Any, n_train: int = 0) -> AccuracyReport:
    """Compare predictions with measurements (same order, finite, measured > 0)."""
    p = np.asarray(predicted_ms, dtype=float)
    m = np.asarray(measured_ms, dtype=float)
    if p.shape != m.shape or p.ndim != 1 or len(p) == 0:
        raise HwnasError(f"accuracy: need two equal-length non-empty vectors, got shapes {p.shape} and {m.shape}")
    if not np.all(np.isfinite(p)) or not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise HwnasError("accuracy: predictions must be finite and measurements finite and > 0")
    rel = np.abs(p - m) / m
    if len(p) >= 2 and np.ptp(p) > 0 and np.ptp(m) > 0:
        rho = float(stats.spearmanr(p, m).statistic)
        tau = float(stats.kendalltau(p, m).statistic)
    else:
        rho = tau = float("nan")
    return AccuracyReport(rho, tau, float(100 * rel.mean()), float(math.sqrt(np.mean((p - m) ** 2))),
                          float(np.mean(rel <= 0.05)), float(np.mean(rel <= 0.10)), int(n_train), len(p))


__all__ = ["AccuracyReport", "accuracy"]
