"""Accuracy of latency predictions on held-out measurements, and the predicted-vs-measured scatter plot."""

from __future__ import annotations

import dataclasses
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from hwsim.errors import HwnasError
from hwsim.fileio import atomic_write_bytes


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


def scatter_png(predicted_ms: Any, measured_ms: Any, title: str = "") -> bytes:
    """PNG bytes of predicted vs measured latency with the y = x line and the +-10% band (matplotlib Agg)."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    p = np.asarray(predicted_ms, dtype=float)
    m = np.asarray(measured_ms, dtype=float)
    fig = Figure(figsize=(5, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(m, p, s=6, alpha=0.5)
    lo, hi = float(min(m.min(), p.min())), float(max(m.max(), p.max()))
    xs = np.array([lo, hi])
    ax.plot(xs, xs, "k-", lw=1, label="y = x")
    ax.plot(xs, 1.1 * xs, "k:", lw=0.8, label="+-10%")
    ax.plot(xs, 0.9 * xs, "k:", lw=0.8)
    ax.set_xlabel("measured latency (ms)")
    ax.set_ylabel("predicted latency (ms)")
    ax.set_title(title)
    ax.legend(loc="upper left")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def write_scatter(path: str | Path, predicted_ms: Any, measured_ms: Any, title: str = "") -> None:
    """Write the scatter plot atomically."""
    atomic_write_bytes(path, scatter_png(predicted_ms, measured_ms, title))


__all__ = ["AccuracyReport", "accuracy", "scatter_png", "write_scatter"]
