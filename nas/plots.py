"""Plots of a BBSSP profile and of a search (matplotlib, Agg backend; PNGs written atomically)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hwsim.fileio import atomic_write_bytes

if TYPE_CHECKING:
    from nas.profiling import ProfileResult


def _figure(ncols: int = 1, width: float = 6.0, height: float = 4.0) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def cost_scatter(result: ProfileResult, path: str | Path) -> None:
    """Cost vs latency and cost vs accuracy of every SSBN, one colour per family; SSBN_0 marked."""
    fig, ax = _figure(2)
    cost_of = {c.family: np.asarray(c.cost) for c in result.costs}
    for f in result.families:
        c = cost_of[f.space.name].ravel()
        ax[0][0].scatter(f.latency_ms.ravel(), c, s=10, label=f.space.name, alpha=0.7)
        ax[0][1].scatter(f.accuracy.ravel(), c, s=10, label=f.space.name, alpha=0.7)
    for f in result.families:
        j = f.blocks.index(f.space.typical[0])  # type: ignore[index]
        ax[0][0].scatter([f.base.latency_ms], [cost_of[f.space.name][0, j]], marker="*", s=120, c="k")
    ax[0][0].set_xlabel("whole-network latency T (ms)")
    ax[0][1].set_xlabel(f"accuracy ({result.accuracy_kind})")
    for a in ax[0]:
        a.set_ylabel("cost C")
        a.legend(fontsize=7)
    fig.suptitle(f"BBSSP SSBN costs on {result.config.device} (winner {result.selection.winner}; * = SSBN_0)")
    _save(fig, Path(path))


def candidate_heatmap(result: ProfileResult, path: str | Path) -> None:
    """Winner family: cost rank of each (layer, block) entry, selected candidates outlined."""
    win = result.winner
    cost = np.asarray(next(c.cost for c in result.costs if c.family == win.space.name))
    fig, ax = _figure(1, width=max(5.0, 0.5 * len(win.blocks) + 2), height=max(3.0, 0.35 * cost.shape[0] + 1.5))
    a = ax[0][0]
    im = a.imshow(cost, cmap="viridis_r", aspect="auto")
    for i, cands in enumerate(result.selection.candidates):
        for b in cands:
            j = win.blocks.index(b)
            a.add_patch(_rect(j, i))
    a.set_xticks(range(len(win.blocks)), win.blocks, rotation=60, fontsize=7)
    a.set_yticks(range(cost.shape[0]), [f"{lb} ({len(c)})" for lb, c in zip(win.space.labels,
                                                                              result.selection.candidates)],
                 fontsize=7)
    a.set_title(f"{win.space.name}: cost per (layer, block); boxes = tuned-space candidates", fontsize=9)
    fig.colorbar(im, ax=a, label="cost C")
    _save(fig, Path(path))


def _rect(x: int, y: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.5)


def pareto_plot(points: Sequence[tuple[float, float, str]], front: Sequence[int], path: str | Path,
                title: str = "") -> None:
    """Accuracy vs latency of evaluated archs (``(latency_ms, accuracy, group)``) with the front's indices
    joined."""
    fig, ax = _figure(1)
    a = ax[0][0]
    groups = sorted({g for _, _, g in points})
    for g in groups:
        xs = [p[0] for p in points if p[2] == g]
        ys = [p[1] for p in points if p[2] == g]
        a.scatter(xs, ys, s=10, alpha=0.6, label=g)
    fp = sorted((points[i] for i in front), key=lambda p: p[0])
    a.plot([p[0] for p in fp], [p[1] for p in fp], "r.-", label="Pareto front")
    a.set_xlabel("latency (ms)")
    a.set_ylabel("accuracy")
    a.legend(fontsize=7)
    a.set_title(title, fontsize=9)
    _save(fig, Path(path))
