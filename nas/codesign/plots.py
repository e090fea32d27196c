"""Figures of a co-design run (drawn with :mod:`hwsim.plots`' canvas and writer; PNGs written atomically).

- :func:`front_projections`: every 2-D projection of the Pareto front (accuracy vs latency, energy, area, EDP;
  latency vs energy; ...), optionally with the sequential design and the co-design pair compared with it;
- :func:`hw_along_front`: the value of each hardware parameter along the front (front sorted by accuracy);
- :func:`codesign_vs_sequential`: the two designs side by side, each metric as a ratio to the sequential one;
- :func:`winner_map`: BBSSP across hardware: the winning family per (parameter x, parameter y) cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.plots import new_figure, save_png, set_suptitle, set_title

LABELS = {"accuracy": "accuracy (%)", "latency_ms": "latency (ms)", "energy_mj": "energy (mJ)",
          "area_mm2": "area (mm$^2$)", "edp": "EDP (ms x mJ)"}


def front_projections(path: str | Path, pareto: Sequence[Mapping[str, Any]], title: str,
                      marks: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Scatter panels of every pair of metrics of the front (``pareto`` rows of codesign.json); ``marks``:
    named extra points (e.g. ``{"sequential": row, "co-design (lowest EDP)": row}``) drawn as stars."""
    keys = ["accuracy", "latency_ms", "energy_mj", "area_mm2"]
    pairs = list(itertools.combinations(keys, 2))
    fig, axes = new_figure(2, 3, width=13.0, height=7.6)
    acc = np.array([p["accuracy"] for p in pareto], dtype=float)
    for ax, (x, y) in zip(axes.ravel(), pairs):
        xs = np.array([p[x] for p in pareto], dtype=float)
        ys = np.array([p[y] for p in pareto], dtype=float)
        sc = ax.scatter(xs, ys, c=acc, cmap="viridis", s=14, alpha=0.85, label=f"Pareto front ({len(pareto)})")
        for (name, row), mk, col in zip((marks or {}).items(), ("*", "P", "X"), ("red", "black", "orange")):
            ax.scatter([row[x]], [row[y]], marker=mk, s=160, c=col, edgecolors="white", label=name, zorder=5)
        for axis, k in (("x", x), ("y", y)):
            if k != "accuracy" and len(pareto) and min(p[k] for p in pareto) > 0:
                vals = [p[k] for p in pareto]
                if max(vals) / min(vals) > 20:
                    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        ax.set_xlabel(LABELS[x])
        ax.set_ylabel(LABELS[y])
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="best")
    if len(pareto):
        fig.colorbar(sc, ax=axes.ravel().tolist(), label="accuracy (%)", shrink=0.6)
    set_suptitle(fig, title)
    return save_png(fig, path)


def hw_along_front(path: str | Path, pareto: Sequence[Mapping[str, Any]], title: str) -> Path:
    """One panel per hardware parameter: its value at each front point, points sorted by descending accuracy."""
    names = list(pareto[0]["hw"]) if pareto else []
    n = max(1, len(names))
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = new_figure(rows, cols, width=4.4 * cols, height=2.9 * rows)
    order = sorted(range(len(pareto)), key=lambda i: -pareto[i]["accuracy"])
    for ax, name in zip(axes.ravel(), names):
        vals = [pareto[i]["hw"][name] for i in order]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            ax.plot(range(len(vals)), vals, ".", ms=4)
            if min(vals) > 0 and max(vals) / min(vals) > 20:
                ax.set_yscale("log", base=2)
        else:
            cats = sorted({str(v) for v in vals})
            ax.plot(range(len(vals)), [cats.index(str(v)) for v in vals], ".", ms=4)
            ax.set_yticks(range(len(cats)), cats)
        ax.set_xlabel("front point (by descending accuracy)")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    set_suptitle(fig, title)
    return save_png(fig, path)


def codesign_vs_sequential(path: str | Path, codesign: Mapping[str, Any], sequential: Mapping[str, Any],
                           title: str, reference: Mapping[str, float] | None = None) -> Path:
    """Bars: latency, energy, area and EDP of the co-design pair as a fraction of the sequential design's
    (below 1 = better), with ``reference`` ratios (e.g. NASAIC's) next to them; accuracy difference in the title."""
    keys = ["latency_ms", "energy_mj", "area_mm2", "edp"]
    ratios = [codesign[k] / sequential[k] if sequential[k] else float("nan") for k in keys]
    fig, axes = new_figure(width=6.8, height=4.2)
    ax = axes[0, 0]
    x = np.arange(len(keys))
    w = 0.38 if reference else 0.6
    b = ax.bar(x - (w / 2 if reference else 0), ratios, w, label="this co-design / sequential", color="#4C72B0")
    ax.bar_label(b, [f"{r:.2f}" for r in ratios], fontsize=8)
    if reference:
        ref = [reference.get(k, float("nan")) for k in keys]
        b2 = ax.bar(x + w / 2, ref, w, label="NASAIC (paper)", color="#DD8452")
        ax.bar_label(b2, ["" if np.isnan(r) else f"{r:.2f}" for r in ref], fontsize=8)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(x, ["latency", "energy", "area", "EDP"])
    ax.set_ylabel("co-design / sequential (lower is better)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    set_title(ax, f"{title}; accuracy {codesign['accuracy']:.2f}% vs {sequential['accuracy']:.2f}%")
    return save_png(fig, path)


def winner_map(path: str | Path, xvals: Sequence[Any], yvals: Sequence[Any], winners: np.ndarray,
               families: Sequence[str], xlabel: str, ylabel: str, title: str,
               counts: np.ndarray | None = None) -> Path:
    """Categorical map: cell (i, j) coloured by the family index ``winners[i, j]`` (-1 = none), optionally
    annotated with ``counts[i, j]`` (e.g. how many configs of the cell that family won)."""
    from matplotlib.colors import ListedColormap

    palette = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]
    fig, axes = new_figure(width=max(5.0, 1.0 + 0.7 * len(xvals)), height=max(3.6, 1.2 + 0.5 * len(yvals)))
    ax = axes[0, 0]
    cmap = ListedColormap(["#FFFFFF"] + palette[:len(families)])
    ax.imshow(np.asarray(winners) + 1, cmap=cmap, vmin=0, vmax=len(families), aspect="auto", origin="lower")
    ax.set_xticks(range(len(xvals)), [str(v) for v in xvals], rotation=45 if len(xvals) > 6 else 0, fontsize=8)
    ax.set_yticks(range(len(yvals)), [str(v) for v in yvals], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if counts is not None:
        for (i, j), c in np.ndenumerate(np.asarray(counts)):
            if winners[i, j] >= 0:
                ax.text(j, i, str(c), ha="center", va="center", fontsize=7, color="white")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=palette[k], label=f) for k, f in enumerate(families)], fontsize=8,
              loc="upper left", bbox_to_anchor=(1.01, 1.0))
    set_title(ax, title)
    return save_png(fig, path)
