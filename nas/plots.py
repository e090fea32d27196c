"""Plots of a BBSSP profile and of a search: adapters from :class:`~nas.profiling.ProfileResult` to the shared
figures of :mod:`hwsim.plots` (PNGs written atomically)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hwsim.plots import SsbnFamilyPoints, heatmap, pareto_front, ssbn_cost_scatter

if TYPE_CHECKING:
    from nas.profiling import ProfileResult


def ssbn_points(result: ProfileResult) -> list[SsbnFamilyPoints]:
    """Latency, accuracy and cost of every SSBN per family, with SSBN_0's latency and cost."""
    cost_of = {c.family: np.asarray(c.cost) for c in result.costs}
    out = []
    for f in result.families:
        cost = cost_of[f.space.name]
        j = f.blocks.index(f.space.typical[0])  # type: ignore[index]
        out.append(SsbnFamilyPoints(f.space.name, np.asarray(f.latency_ms).ravel(), np.asarray(f.accuracy).ravel(),
                                    cost.ravel(), float(f.base.latency_ms), float(cost[0, j])))
    return out


def cost_scatter(result: ProfileResult, path: str | Path) -> None:
    """Cost vs latency and cost vs accuracy of every SSBN, one colour per family; SSBN_0 marked."""
    ssbn_cost_scatter(path, ssbn_points(result),
                      f"BBSSP SSBN costs on {result.config.device} (winner {result.selection.winner}; "
                      f"star = SSBN_0)", result.accuracy_kind)


def candidate_heatmap(result: ProfileResult, path: str | Path) -> None:
    """Winner family: cost of each (layer, block) entry, the selected candidates outlined."""
    win = result.winner
    cost = np.asarray(next(c.cost for c in result.costs if c.family == win.space.name))
    boxes = [(i, win.blocks.index(b)) for i, cands in enumerate(result.selection.candidates) for b in cands]
    ylabels = [f"{lb} ({len(c)})" for lb, c in zip(win.space.labels, result.selection.candidates)]
    heatmap(path, cost, list(win.blocks), ylabels,
            f"{win.space.name}: cost per (layer, block); red boxes = tuned-space candidates",
            "cost C (lower is better)", boxes=boxes, cmap="viridis_r", xlabel="block",
            ylabel="layer (candidates kept)")


def pareto_plot(points: Sequence[tuple[float, float, str]], front: Sequence[int], path: str | Path,
                title: str = "") -> None:
    """Accuracy vs latency of evaluated archs (``(latency_ms, accuracy, group)``) with the front's indices
    joined."""
    pareto_front(path, points, front, title, xlabel="predicted latency (ms)", ylabel="fitness (accuracy)")
