"""Pareto front of (latency, accuracy) points: lower latency and higher accuracy are better."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pareto_front(latency_ms: Sequence[float], accuracy: Sequence[float]) -> tuple[int, ...]:
    """Indices of the non-dominated points, by ascending latency (O(n log n) sweep).

    A point is dominated when another is no slower and no less accurate, and strictly better in one; of exact
    duplicates the first index is kept."""
    lat = np.asarray(latency_ms, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    if lat.shape != acc.shape or lat.ndim != 1:
        raise ValueError(f"latency and accuracy must be equal-length 1-D sequences, got {lat.shape} and {acc.shape}")
    order = sorted(range(len(lat)), key=lambda i: (lat[i], -acc[i], i))
    front: list[int] = []
    best = -np.inf
    for i in order:
        if acc[i] > best:
            front.append(i)
            best = acc[i]
    return tuple(front)
