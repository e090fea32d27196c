"""hwsim.plots: every figure function writes a valid PNG atomically from small inputs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from hwsim import plots
from hwsim.devices import get_device
from hwsim.zoo import get_model


def _png(path: Path) -> bool:
    return plots.is_png(path) and path.stat().st_size > 2000


@pytest.fixture(scope="module")
def dpu_profile():
    dev = get_device("dpu-b4096-zcu102")
    return dev, dev.profile(get_model("squeezenet1_1").build_ir())


def test_breakdown_utilisation_roofline(tmp_path: Path, dpu_profile) -> None:
    dev, prof = dpu_profile
    assert _png(plots.profile_breakdown(tmp_path / "b.png", prof))
    ks = prof.kernels
    assert _png(plots.utilisation_bars(tmp_path / "u.png", [k.name for k in ks], [100 * k.utilization for k in ks]))
    peak, bw = plots.device_roofs(dev)
    assert peak == pytest.approx(2048 * 281e6) and bw > 0
    ai, perf, unit = plots.roofline_points(prof)
    assert len(ai) == len(perf) == len(unit) > 0
    assert np.all(perf <= peak * (1 + 1e-9))  # no kernel beats the compute roof
    assert _png(plots.roofline(tmp_path / "r.png", peak, bw, ai, perf, unit, "roofline"))
    # only the requested files: the atomic writer leaves no temp files behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.png", "r.png", "u.png"]


def test_breakdown_bars_add_up_to_latency(dpu_profile) -> None:
    _, prof = dpu_profile
    fig, ax = plots.new_figure()
    plots.profile_breakdown_ax(ax[0, 0], prof)
    heights: dict[int, float] = {}
    for patch in ax[0, 0].patches:
        x = round(patch.get_x() + patch.get_width() / 2)
        heights[x] = heights.get(x, 0.0) + patch.get_height()
    assert [heights[i] for i in range(len(prof.kernels))] == pytest.approx([k.latency_ms for k in prof.kernels])


def test_scatters_pareto_ssbn(tmp_path: Path) -> None:
    assert _png(plots.calibration_scatter(tmp_path / "c.png", [1.0, 2.1, 2.9], [1.0, 2.0, 3.0], "cal"))
    assert _png(plots.predicted_vs_measured(tmp_path / "p.png", {"a": ([1, 10, 100], [1.2, 9, 120]),
                                                                   "b": ([5.0], [5.5])}, "log", log=None))
    assert _png(plots.pareto_front(tmp_path / "f.png", [(1.0, 0.5, "x"), (2.0, 0.7, "x"), (1.5, 0.4, "y")], [0, 1]))
    fam = plots.SsbnFamilyPoints("res", [1.0, 2.0, 3.0], [0.5, 0.6, 0.7], [1.1, 1.0, 0.9], 1.5, 1.0)
    assert _png(plots.ssbn_cost_scatter(tmp_path / "s.png", [fam], "ssbn", "zero-cost"))


def test_bars_panels_heatmap(tmp_path: Path) -> None:
    names = [f"layer{i}" for i in range(70)]  # more than fit: every label still drawn or thinned, no error
    assert _png(plots.per_layer_panels(tmp_path / "l.png", names, {"a": range(70), "b": [2e6] * 70}, "cycles",
                                       {"u": [50.0] * 70}, "util (%)", "t", stacked_top=True))
    assert _png(plots.bar_chart(tmp_path / "bar.png", ["a", "b"], [1.0, 2.0], "t", "ms"))
    assert _png(plots.grouped_bars(tmp_path / "g.png", ["a", "bb"], {"x": [0.9, 0.97], "y": [0.95, 0.99]}, "t",
                                   "Spearman", horizontal=True, targets={"target": 0.95}))
    assert _png(plots.hbar_panels(tmp_path / "h.png", ["d1", "d2"], [("rho", {"10": [0.9, 0.99]}, 0.95),
                                                                     ("share", {"100": [0.5, 1.0]}, None)], "t"))
    m = [[1.0, 20.0, math.nan], [300.0, 4.0, 5.0]]
    assert _png(plots.heatmap(tmp_path / "hm.png", m, ["x", "y", "z"], ["r0", "r1"], "t", "ms", boxes=[(0, 1)],
                              log=True, annotate=True))


def test_titles_wrap_and_log_ticks_are_plain() -> None:
    fig, ax = plots.new_figure(width=4.0)
    plots.set_title(ax[0, 0], "word " * 40)
    assert "\n" in ax[0, 0].get_title()
    a = ax[0, 0]
    a.set_xscale("log")
    a.set_xlim(2.0, 60.0)
    plots.plain_log_ticks(a, "x")
    labels = [a.xaxis.get_major_formatter()(v, 0) for v in (2.0, 5.0, 50.0)]
    assert labels == ["2", "5", "50"]


def test_is_png_rejects_other_files(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_text("not a png")
    assert not plots.is_png(tmp_path / "x.png") and not plots.is_png(tmp_path / "missing.png")
