"""Figures of hwnas (matplotlib, Agg canvas, no pyplot state): one PNG writer and the plots every command and
benchmark shares.

Every public ``*(path, ...)`` function draws one figure from plain numbers and writes it atomically
(:func:`save_png`: temp file + ``os.replace``, via :func:`hwsim.fileio.atomic_write_bytes`) at :data:`DPI`;
the ``*_ax`` variants draw into an existing axes so that a benchmark can put several panels in one figure
(:func:`new_figure` + :func:`save_png`). Units are in the axis labels: milliseconds, cycles, MACs, bytes,
percent.

- :func:`latency_breakdown` / :func:`profile_breakdown`: per-kernel (or per-layer) latency split into compute,
  memory beyond compute, and fixed per-kernel overhead (stacked bars; the bar height is the kernel latency);
- :func:`utilisation_bars`: utilisation per kernel/layer (%);
- :func:`roofline`: peak MAC/s and DRAM bandwidth of a device, each kernel at its arithmetic intensity
  (MACs per DRAM byte) and achieved MAC/s;
- :func:`per_layer_panels`: one or two bar panels over the layers of a network (e.g. cycles and utilisation);
- :func:`pareto_front`: accuracy vs latency with the front joined;
- :func:`predicted_vs_measured` / :func:`calibration_scatter`: predicted vs measured latency with y = x and a
  relative band;
- :func:`ssbn_cost_scatter`: BBSSP cost of every SSBN vs its latency and vs its accuracy, per family;
- :func:`heatmap`, :func:`bar_chart`, :func:`grouped_bars`: generic helpers for the rest.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hwsim.fileio import atomic_write_bytes

if TYPE_CHECKING:
    from hwsim.devices.base import AcceleratorDevice, Profile

DPI = 110
MAX_TICK_LABELS = 110
_COLORS = {"compute": "#4C72B0", "memory": "#DD8452", "overhead": "#8C8C8C"}


# ------------------------------------------------------------------------------------------------
# figure and file
# ------------------------------------------------------------------------------------------------
def new_figure(nrows: int = 1, ncols: int = 1, width: float = 6.4, height: float = 4.0,
               **subplot_kw: Any) -> tuple[Any, np.ndarray]:
    """A figure of ``nrows x ncols`` axes (``width`` x ``height`` inches in all) on an Agg canvas.

    Returns ``(figure, axes)`` with ``axes`` always a 2-D array. No pyplot: nothing global is touched.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def figure_png(fig: Any) -> bytes:
    """The figure as PNG bytes (:data:`DPI`, no software/date metadata: reproducible bytes).

    Figures of :func:`new_figure` use matplotlib's constrained layout (titles, suptitles, colour bars and
    rotated tick labels get room); any other figure is laid out tightly first."""
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def save_png(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` as a PNG to ``path`` atomically (parent folders created); returns the path."""
    path = Path(path)
    atomic_write_bytes(path, figure_png(fig))
    return path


def bar_width_inches(n: int, per_bar: float = 0.16, lo: float = 6.4, hi: float = 18.0) -> float:
    """A figure width that gives ``n`` bars room, within [lo, hi] inches."""
    return float(min(hi, max(lo, 1.6 + per_bar * n)))


def label_ticks(ax: Any, labels: Sequence[str], axis: str = "x", max_labels: int = MAX_TICK_LABELS) -> None:
    """Name the categorical ticks ``0..n-1``; with more than ``max_labels`` only every k-th is named."""
    n = len(labels)
    step = max(1, math.ceil(n / max_labels))
    pos = list(range(0, n, step))
    names = [str(labels[i]) for i in pos]
    size = 8 if n <= 25 else 7 if n <= 45 else 6
    if axis == "x":
        ax.set_xticks(pos, names, rotation=90 if n > 8 or max((len(s) for s in names), default=0) > 10 else 0,
                      fontsize=size)
        ax.set_xlim(-0.6, n - 0.4)
    else:
        ax.set_yticks(pos, names, fontsize=size)
        ax.set_ylim(n - 0.4, -0.6)


def set_title(ax: Any, title: str, fontsize: float = 10) -> None:
    """Axes title wrapped to the axes' width (about 13 characters per inch at 10 pt)."""
    import textwrap

    if not title:
        return
    inches = ax.figure.get_figwidth() * ax.get_position().width
    chars = max(20, int(inches * 13 * 10 / fontsize))
    ax.set_title(textwrap.fill(title, chars), fontsize=fontsize)


def set_suptitle(fig: Any, title: str, fontsize: float = 11) -> None:
    """Figure title wrapped to the figure's width."""
    import textwrap

    fig.suptitle(textwrap.fill(title, max(30, int(fig.get_figwidth() * 12 * 11 / fontsize))), fontsize=fontsize)


def plain_log_ticks(ax: Any, which: str = "both") -> None:
    """Readable ticks on log axes: 1-2-3-5 / 1-2-5 steps when the axis spans under 30x / three decades (powers
    of ten otherwise), written as plain numbers (``0.2``, ``50``), no minor labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fmt = FuncFormatter(lambda v, _pos: f"{v:g}")
    for name in ("x", "y") if which == "both" else (which,):
        axis = getattr(ax, f"{name}axis")
        lo, hi = sorted(getattr(ax, f"get_{name}lim")())
        if lo <= 0:
            continue
        subs = (1.0, 2.0, 3.0, 5.0) if hi / lo < 30 else (1.0, 2.0, 5.0) if hi / lo < 1e3 else (1.0,)
        axis.set_major_locator(LogLocator(base=10, subs=subs))
        axis.set_major_formatter(fmt)
        axis.set_minor_formatter(NullFormatter())


def _big_number_ticks(ax: Any, which: str, top: float, log: bool) -> None:
    """Engineering tick labels (``2M``, ``500k``) instead of a ``1e6`` offset on linear axes of large counts."""
    if log or not top >= 1e5:
        return
    from matplotlib.ticker import EngFormatter

    getattr(ax, f"{which}axis").set_major_formatter(EngFormatter(sep=""))


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float)


# ------------------------------------------------------------------------------------------------
# per-kernel / per-layer bars
# ------------------------------------------------------------------------------------------------
def latency_breakdown_ax(ax: Any, names: Sequence[str], compute_ms: Sequence[float], memory_ms: Sequence[float],
                         overhead_ms: Sequence[float], title: str = "", xlabel: str = "kernel (execution order)",
                         legend: bool = True) -> None:
    """Stacked bars: compute, memory time beyond compute (the kernel waits on DRAM), fixed overhead.

    With the device rule ``latency = overhead + max(compute, memory)`` each bar is exactly the kernel latency.
    """
    c, m, o = _finite(compute_ms), _finite(memory_ms), _finite(overhead_ms)
    stall = np.maximum(m - c, 0.0)
    xs = np.arange(len(names))
    ax.bar(xs, c, color=_COLORS["compute"], label="compute")
    ax.bar(xs, stall, bottom=c, color=_COLORS["memory"], label="memory beyond compute")
    ax.bar(xs, o, bottom=c + stall, color=_COLORS["overhead"], label="per-kernel overhead")
    top = float((c + stall + o).max()) if len(xs) else 0.0
    if top > 0:
        ax.set_ylim(0, top * (1.3 if legend else 1.05))  # headroom for the legend
    label_ticks(ax, names)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("latency (ms)")
    set_title(ax, title)
    ax.grid(axis="y", alpha=0.3)
    if legend:
        ax.legend(fontsize=8, loc="upper right")


def latency_breakdown(path: str | os.PathLike[str], names: Sequence[str], compute_ms: Sequence[float],
                      memory_ms: Sequence[float], overhead_ms: Sequence[float], title: str = "",
                      xlabel: str = "kernel (execution order)") -> Path:
    """One figure of :func:`latency_breakdown_ax`."""
    fig, ax = new_figure(width=bar_width_inches(len(names)), height=4.5)
    latency_breakdown_ax(ax[0, 0], names, compute_ms, memory_ms, overhead_ms, title, xlabel)
    return save_png(fig, path)


def profile_breakdown_ax(ax: Any, profile: Profile, title: str | None = None, legend: bool = True) -> None:
    """:func:`latency_breakdown_ax` of a device :class:`~hwsim.devices.base.Profile` (CPU-fallback kernels: all
    their time is shown as compute or memory like any other)."""
    ks = profile.kernels
    latency_breakdown_ax(ax, [k.name for k in ks], [k.compute_ms for k in ks], [k.memory_ms for k in ks],
                         [k.overhead_ms for k in ks],
                         f"{profile.network} on {profile.device}: {len(ks)} kernels, "
                         f"{profile.latency_ms_sum:.3f} ms" if title is None else title, legend=legend)


def profile_breakdown(path: str | os.PathLike[str], profile: Profile, title: str | None = None) -> Path:
    """Per-kernel latency breakdown of a device profile as one PNG."""
    fig, ax = new_figure(width=bar_width_inches(len(profile.kernels)), height=4.5)
    profile_breakdown_ax(ax[0, 0], profile, title)
    return save_png(fig, path)


def utilisation_ax(ax: Any, names: Sequence[str], util_pct: Sequence[float], title: str = "",
                   xlabel: str = "kernel (execution order)", ylabel: str = "utilisation (% of peak MACs)") -> None:
    """Bars of utilisation (0-100 %) per kernel/layer, with the mean (MAC-unweighted) as a dashed line."""
    u = _finite(util_pct)
    xs = np.arange(len(names))
    ax.bar(xs, u, color=_COLORS["compute"])
    if len(u):
        ax.axhline(float(np.mean(u)), color="k", ls="--", lw=0.8, label=f"mean {np.mean(u):.1f}%")
        ax.legend(fontsize=8, loc="upper right")
    ax.set_ylim(0, 119)  # room for the legend above the 100% bars
    ax.set_yticks([0, 25, 50, 75, 100])
    label_ticks(ax, names)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    set_title(ax, title)


def utilisation_bars(path: str | os.PathLike[str], names: Sequence[str], util_pct: Sequence[float],
                     title: str = "", xlabel: str = "kernel (execution order)") -> Path:
    """One figure of :func:`utilisation_ax`."""
    fig, ax = new_figure(width=bar_width_inches(len(names)), height=4.0)
    utilisation_ax(ax[0, 0], names, util_pct, title, xlabel)
    return save_png(fig, path)


def per_layer_panels(path: str | os.PathLike[str], names: Sequence[str], top: Mapping[str, Sequence[float]],
                     top_ylabel: str, bottom: Mapping[str, Sequence[float]] | None = None, bottom_ylabel: str = "",
                     title: str = "", stacked_top: bool = False, log_top: bool = False,
                     xlabel: str = "layer (execution order)") -> Path:
    """One or two bar panels over the same layers: ``top`` series (grouped, or stacked with ``stacked_top``)
    and optional ``bottom`` series (grouped), e.g. cycles per layer above and utilisation per layer below."""
    panels = [(top, top_ylabel, stacked_top, log_top)]
    if bottom:
        panels.append((bottom, bottom_ylabel, False, False))
    fig, axes = new_figure(len(panels), 1, width=bar_width_inches(len(names) * (1.0 if len(top) == 1 else
                                                                                0.7 * len(top))),
                           height=3.4 * len(panels) + 0.8, sharex=True)
    for i, (series, ylabel, stacked, log) in enumerate(panels):
        ax = axes[i, 0]
        _bars(ax, len(names), series, stacked)
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        vals = np.concatenate([_finite(v) for v in series.values()]) if series else np.zeros(0)
        vals = vals[np.isfinite(vals)]
        top = float(vals.max()) if len(vals) else 0.0
        if stacked and series:
            top = float(np.nansum(np.vstack([_finite(v) for v in series.values()]), axis=0).max())
        if top > 0 and len(series) > 1:  # headroom for the legend
            ax.set_ylim(top=top * (6.0 if log else 1.3))
        _big_number_ticks(ax, "y", top, log)
        ax.grid(axis="y", alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=8, loc="upper right", ncols=min(4, len(series)))
    label_ticks(axes[-1, 0], names)
    axes[-1, 0].set_xlabel(xlabel)
    set_title(axes[0, 0], title)
    return save_png(fig, path)


def _bars(ax: Any, n: int, series: Mapping[str, Sequence[float]], stacked: bool = False,
          horizontal: bool = False) -> None:
    xs = np.arange(n)
    k = len(series)
    width = 0.8 if stacked or k == 1 else 0.8 / k
    bottom = np.zeros(n)
    for j, (label, values) in enumerate(series.items()):
        v = _finite(values)
        pos = xs if stacked or k == 1 else xs - 0.4 + width * (j + 0.5)
        if horizontal:
            ax.barh(pos, v, height=width, left=bottom if stacked else None, label=label)
        else:
            ax.bar(pos, v, width=width, bottom=bottom if stacked else None, label=label)
        if stacked:
            bottom = bottom + v


def bar_chart(path: str | os.PathLike[str], labels: Sequence[str], values: Sequence[float], title: str,
              ylabel: str, xlabel: str = "", log: bool = False, horizontal: bool = False) -> Path:
    """One series of bars (vertical, or horizontal with the labels on the y axis)."""
    return grouped_bars(path, labels, {"": values}, title, ylabel, xlabel, log=log, horizontal=horizontal)


def grouped_bars(path: str | os.PathLike[str], labels: Sequence[str], series: Mapping[str, Sequence[float]],
                 title: str, ylabel: str, xlabel: str = "", log: bool = False, horizontal: bool = False,
                 targets: Mapping[str, float] | None = None, stacked: bool = False) -> Path:
    """Bars of several series per label (side by side, or ``stacked``); ``targets`` draws a dashed line per
    named target value. With ``horizontal`` the labels go on the y axis (long names, many labels)."""
    n = len(labels)
    if horizontal:
        fig, axes = new_figure(width=7.5, height=min(20.0, max(3.0, 1.2 + 0.22 * n * max(1, len(series) * 0.6))))
    else:
        fig, axes = new_figure(width=bar_width_inches(n * max(1, len(series))), height=4.5)
    ax = axes[0, 0]
    _bars(ax, n, series, stacked, horizontal)
    label_ticks(ax, labels, "y" if horizontal else "x")
    value_axis = ax.set_xlabel if horizontal else ax.set_ylabel
    label_axis = ax.set_ylabel if horizontal else ax.set_xlabel
    value_axis(ylabel)
    if xlabel:
        label_axis(xlabel)
    if log:
        (ax.set_xscale if horizontal else ax.set_yscale)("log")
    vals = np.concatenate([_finite(v) for v in series.values()]) if series else np.zeros(0)
    _big_number_ticks(ax, "x" if horizontal else "y", float(np.nanmax(vals)) if len(vals) else 0.0, log)
    for name, v in (targets or {}).items():
        (ax.axvline if horizontal else ax.axhline)(v, color="k", ls="--", lw=0.9, label=name)
    ax.grid(axis="x" if horizontal else "y", alpha=0.3)
    if len(series) > 1 or targets:
        top = max([float(np.nanmax(vals)) if len(vals) else 0.0, *(targets or {}).values()])
        if top > 0:  # headroom: the legend sits above the bars
            (ax.set_xlim if horizontal else ax.set_ylim)(None, top * (4.0 if log else 1.22))
        ax.legend(fontsize=8, loc="upper right", ncols=min(3, len(series) + len(targets or {})))
    set_title(ax, title)
    return save_png(fig, path)


def hbar_panels(path: str | os.PathLike[str], labels: Sequence[str],
                panels: Sequence[tuple[str, Mapping[str, Sequence[float]], float | None]], title: str = "",
                xlims: Sequence[tuple[float, float] | None] | None = None) -> Path:
    """Side-by-side horizontal bar panels over the same labels (names on the shared y axis). Each panel is
    ``(value axis label, {series: values}, target or None)``; a target is drawn as a dashed line."""
    n = len(labels)
    k = max((len(series) for _, series, _ in panels), default=1)
    fig, axes = new_figure(1, len(panels), width=3.2 + 3.8 * len(panels),
                           height=min(22.0, max(3.0, 1.4 + 0.2 * n * max(1.0, 0.7 * k))), sharey=True)
    for j, (xlabel, series, target) in enumerate(panels):
        ax = axes[0, j]
        _bars(ax, n, series, horizontal=True)
        if target is not None:
            ax.axvline(target, color="k", ls="--", lw=0.9, label=f"target {target:g}")
        ax.set_xlabel(xlabel)
        if xlims is not None and xlims[j] is not None:
            ax.set_xlim(*xlims[j])
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.grid(axis="x", alpha=0.3)
        if len(series) > 1 or target is not None:  # above the panel: never over a bar
            ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)
    label_ticks(axes[0, 0], labels, "y")
    if title:
        set_suptitle(fig, title)
    return save_png(fig, path)


# ------------------------------------------------------------------------------------------------
# roofline
# ------------------------------------------------------------------------------------------------
def device_roofs(device: AcceleratorDevice) -> tuple[float, float]:
    """``(peak MAC/s, DRAM bytes/s)`` of a device from its cost model (MACs/cycle, bytes/cycle, clock MHz)."""
    cm = device.cost_model
    hz = float(cm.clock_mhz) * 1e6
    return float(cm.peak_macs_per_cycle) * hz, float(cm.dram_bytes_per_cycle) * hz


def roofline_points(profile: Profile) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(MACs per DRAM byte, achieved MAC/s, unit)`` of every accelerator kernel with MACs and traffic."""
    ai, perf, unit = [], [], []
    for k in profile.kernels:
        traffic = k.dram_read_bytes + k.dram_write_bytes
        if k.on_cpu or k.macs <= 0 or traffic <= 0 or k.latency_ms <= 0:
            continue
        ai.append(k.macs / traffic)
        perf.append(k.macs / (k.latency_ms * 1e-3))
        unit.append(k.unit)
    return np.asarray(ai), np.asarray(perf), unit


def roofline_ax(ax: Any, peak_macs_per_s: float, dram_bytes_per_s: float, intensity: Sequence[float],
                achieved_macs_per_s: Sequence[float], groups: Sequence[str] | None = None, title: str = "",
                legend: bool = True) -> None:
    """Log-log roofline ``min(peak, intensity x bandwidth)`` with the kernels as points (one colour per group)."""
    ai, perf = _finite(intensity), _finite(achieved_macs_per_s)
    ridge = peak_macs_per_s / dram_bytes_per_s
    lo = min([ridge / 30, *(ai[ai > 0] / 2)]) if len(ai) else ridge / 30
    hi = max([ridge * 30, *(ai * 2)]) if len(ai) else ridge * 30
    xs = np.geomspace(lo, hi, 200)
    ax.plot(xs, np.minimum(peak_macs_per_s, xs * dram_bytes_per_s) / 1e9, "k-", lw=1.5,
            label=f"roof: {peak_macs_per_s / 1e9:,.0f} GMAC/s, {dram_bytes_per_s / 1e9:.1f} GB/s")
    ax.axvline(ridge, color="0.6", ls=":", lw=0.8)
    groups = list(groups) if groups is not None else ["kernel"] * len(ai)
    for g in sorted(set(groups)):
        sel = np.array([x == g for x in groups], dtype=bool)
        ax.scatter(ai[sel], perf[sel] / 1e9, s=14, alpha=0.75, label=g)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (MACs per DRAM byte)")
    ax.set_ylabel("achieved GMAC/s")
    floor = min(lo * dram_bytes_per_s, peak_macs_per_s) / 1.5
    if len(perf):
        floor = min(floor, perf.min() / 2)
    ax.set_ylim(floor / 1e9, peak_macs_per_s / 1e9 * 2)
    ax.grid(which="both", alpha=0.2)
    set_title(ax, title)
    if legend:
        ax.legend(fontsize=7, loc="lower right")


def roofline(path: str | os.PathLike[str], peak_macs_per_s: float, dram_bytes_per_s: float,
             intensity: Sequence[float], achieved_macs_per_s: Sequence[float], groups: Sequence[str] | None = None,
             title: str = "") -> Path:
    """One figure of :func:`roofline_ax`."""
    fig, ax = new_figure(width=6.8, height=4.8)
    roofline_ax(ax[0, 0], peak_macs_per_s, dram_bytes_per_s, intensity, achieved_macs_per_s, groups, title)
    return save_png(fig, path)


def device_roofline_ax(ax: Any, device: AcceleratorDevice, profile: Profile, title: str | None = None,
                       legend: bool = True) -> None:
    """:func:`roofline_ax` of a device and the kernels of one of its profiles."""
    peak, bw = device_roofs(device)
    ai, perf, unit = roofline_points(profile)
    roofline_ax(ax, peak, bw, ai, perf, unit, f"{profile.network} on {device.name}" if title is None else title,
                legend)


# ------------------------------------------------------------------------------------------------
# accuracy / latency scatters
# ------------------------------------------------------------------------------------------------
def pareto_front(path: str | os.PathLike[str], points: Sequence[tuple[float, float, str]], front: Sequence[int],
                 title: str = "", xlabel: str = "latency (ms)", ylabel: str = "accuracy") -> Path:
    """Points ``(latency, accuracy, group)``, one colour per group, with the front (indices) joined in red."""
    fig, axes = new_figure(width=6.4, height=4.4)
    a = axes[0, 0]
    size = 50 if len(points) <= 20 else 14
    for g in sorted({p[2] for p in points}):
        a.scatter([p[0] for p in points if p[2] == g], [p[1] for p in points if p[2] == g], s=size, alpha=0.7,
                  label=g)
    fp = sorted((points[i] for i in front), key=lambda p: p[0])
    a.plot([p[0] for p in fp], [p[1] for p in fp], "r-", lw=1.2, marker="o", mfc="none", ms=9 if size > 14 else 5,
           label=f"Pareto front ({len(fp)})")
    a.set_xlabel(xlabel)
    a.set_ylabel(ylabel)
    a.grid(alpha=0.3)
    a.legend(fontsize=8, loc="best")
    set_title(a, title)
    return save_png(fig, path)


def predicted_vs_measured_ax(ax: Any, series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                             title: str = "", band: float = 0.10, unit: str = "ms", log: bool | None = None,
                             legend: bool = True, xlabel: str = "measured latency",
                             ylabel: str = "predicted latency") -> None:
    """Predicted (y) vs measured (x) per series ``label -> (predicted, measured)``, the y = x line and a
    +-``band`` relative band. ``log`` defaults to log axes when the values span more than 20x."""
    allv = np.concatenate([np.concatenate([_finite(p), _finite(m)]) for p, m in series.values()]) \
        if series else np.zeros(0)
    allv = allv[np.isfinite(allv) & (allv > 0)]
    if log is None:
        log = bool(len(allv)) and allv.max() / allv.min() > 20
    for label, (p, m) in series.items():
        ax.scatter(_finite(m), _finite(p), s=12 if len(p) < 300 else 5, alpha=0.6, label=label)
    if len(allv):
        lo, hi = allv.min() / (1.3 if log else 1.0), allv.max() * (1.3 if log else 1.0)
        xs = np.geomspace(lo, hi, 50) if log else np.linspace(lo, hi, 50)
        ax.plot(xs, xs, "k-", lw=1, label="y = x")
        ax.plot(xs, (1 + band) * xs, "k:", lw=0.8, label=f"+-{100 * band:.0f}%")
        ax.plot(xs, (1 - band) * xs, "k:", lw=0.8)
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
        if len(allv):
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
        plain_log_ticks(ax)
    ax.set_xlabel(f"{xlabel} ({unit})")
    ax.set_ylabel(f"{ylabel} ({unit})")
    ax.grid(which="both", alpha=0.2)
    set_title(ax, title)
    if legend:
        ax.legend(fontsize=7, loc="upper left")


def predicted_vs_measured(path: str | os.PathLike[str], series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                          title: str = "", band: float = 0.10, unit: str = "ms", log: bool | None = None,
                          xlabel: str = "measured latency", ylabel: str = "predicted latency") -> Path:
    """One figure of :func:`predicted_vs_measured_ax`."""
    fig, ax = new_figure(width=6.0, height=5.6)
    predicted_vs_measured_ax(ax[0, 0], series, title, band, unit, log, xlabel=xlabel, ylabel=ylabel)
    return save_png(fig, path)


def calibration_scatter(path: str | os.PathLike[str], predicted_ms: Sequence[float], measured_ms: Sequence[float],
                        title: str = "", band: float = 0.10) -> Path:
    """Predicted vs measured latency of one calibration (held-out networks)."""
    return predicted_vs_measured(path, {f"networks (n={len(predicted_ms)})": (predicted_ms, measured_ms)}, title,
                                 band)


@dataclass(frozen=True)
class SsbnFamilyPoints:
    """One family's SSBNs for :func:`ssbn_cost_scatter`: whole-network latency (ms), accuracy and cost of every
    SSBN (same order), and SSBN_0's latency and cost (marked with a star)."""

    name: str
    latency_ms: Sequence[float]
    accuracy: Sequence[float]
    cost: Sequence[float]
    base_latency_ms: float
    base_cost: float


def ssbn_cost_scatter(path: str | os.PathLike[str], families: Sequence[SsbnFamilyPoints], title: str = "",
                      accuracy_label: str = "accuracy") -> Path:
    """Two panels: cost vs latency and cost vs accuracy of every SSBN, one colour per family; SSBN_0 starred."""
    fig, axes = new_figure(1, 2, width=12.0, height=4.6)
    a0, a1 = axes[0, 0], axes[0, 1]
    for f in families:
        a0.scatter(_finite(f.latency_ms), _finite(f.cost), s=12, alpha=0.65, label=f.name)
        a1.scatter(_finite(f.accuracy), _finite(f.cost), s=12, alpha=0.65, label=f.name)
    for i, f in enumerate(families):
        a0.scatter([f.base_latency_ms], [f.base_cost], marker="*", s=160, c="k", edgecolors="w", zorder=3,
                   label="SSBN_0" if i == 0 else None)
    a0.set_xlabel("whole-network latency T (ms)")
    a1.set_xlabel(f"accuracy ({accuracy_label})")
    for a in (a0, a1):
        a.set_ylabel("cost C (lower is better)")
        a.grid(alpha=0.3)
        a.legend(fontsize=8, loc="best")
    if title:
        set_suptitle(fig, title)
    return save_png(fig, path)


def heatmap(path: str | os.PathLike[str], matrix: Any, xlabels: Sequence[str], ylabels: Sequence[str], title: str,
            cbar_label: str, boxes: Sequence[tuple[int, int]] = (), log: bool = False, cmap: str = "viridis",
            annotate: bool = False, xlabel: str = "", ylabel: str = "") -> Path:
    """A matrix as colours (rows = ``ylabels``); ``boxes`` outlines cells ``(row, col)`` in red; ``annotate``
    writes each value (3 significant digits) in its cell; NaN cells stay blank."""
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    m = np.asarray(matrix, dtype=float)
    fig, axes = new_figure(width=min(18.0, max(5.5, 0.42 * m.shape[1] + 3.0)),
                           height=min(16.0, max(3.2, 0.36 * m.shape[0] + 2.0)))
    a = axes[0, 0]
    finite = m[np.isfinite(m)]
    norm = LogNorm(vmin=finite[finite > 0].min(), vmax=finite.max()) if log and (finite > 0).any() else None
    im = a.imshow(np.ma.masked_invalid(m), cmap=cmap, aspect="auto", norm=norm)
    for r, c in boxes:
        a.add_patch(Rectangle((c - 0.44, r - 0.44), 0.88, 0.88, fill=False, edgecolor="red", linewidth=1.8))
    if annotate:
        for (r, c), v in np.ndenumerate(m):
            if np.isfinite(v):
                shade = float(np.nan_to_num(np.clip(np.ma.getdata(im.norm(v)), 0.0, 1.0), nan=0.5))
                red, green, blue, _ = im.cmap(shade)
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.55
                a.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize=7, color="w" if dark else "k")
    a.set_xticks(range(m.shape[1]), list(xlabels), rotation=60 if m.shape[1] > 4 else 0, ha="right"
                 if m.shape[1] > 4 else "center", fontsize=8)
    a.set_yticks(range(m.shape[0]), list(ylabels), fontsize=8)
    if xlabel:
        a.set_xlabel(xlabel)
    if ylabel:
        a.set_ylabel(ylabel)
    set_title(a, title)
    fig.colorbar(im, ax=a, label=cbar_label)
    return save_png(fig, path)


def is_png(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` starts with the PNG signature (for tests and the bench report)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(8) == b"\x89PNG\r\n\x1a\n"
    except OSError:
        return False


__all__ = ["DPI", "SsbnFamilyPoints", "bar_chart", "bar_width_inches", "calibration_scatter", "device_roofline_ax",
           "device_roofs", "figure_png", "grouped_bars", "hbar_panels", "heatmap", "is_png", "label_ticks", "latency_breakdown",
           "latency_breakdown_ax", "new_figure", "pareto_front", "plain_log_ticks", "per_layer_panels", "predicted_vs_measured",
           "predicted_vs_measured_ax", "profile_breakdown", "profile_breakdown_ax", "roofline", "roofline_ax",
           "roofline_points", "save_png", "set_suptitle", "set_title", "ssbn_cost_scatter", "utilisation_ax", "utilisation_bars"]
