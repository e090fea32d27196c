"""NAS-Bench-201 (all 15,625 cells) x the built-in systolic hardware space: the exhaustive sweep, timed.

Claims checked (issue 15, items 3-4):

1. the sweep -- latency, energy and area of every (cell, config) pair, ``hwsim.sweep.sweep`` -- takes <= 30 s on
   this 2-core machine and runs >= 1e6 pairs/s (building the 15,625 workloads with ``spaces``' ``to_workload``
   is timed apart: it is the input of the sweep, see ``benchmarks/nb201_build.py``);
2. a seeded sample of pairs equals ``AcceleratorDevice.run`` + ``hwsim.silicon.silicon_report`` (what
   ``hwnas simulate --format json`` prints) to 1e-9 relative;
3. the stall model of the systolic template against the cycle-accurate memory engine (``quirks="fixed"``):
   share of (zoo layer, config) pairs within 5%, for a seeded sample of configs of the space (target >= 95%);
4. the silicon model's checks: the Accelergy Eyeriss-like design (45 nm, 168 PEs ~ 0.95 mm^2, 128 KB buffer
   ~ 1.16 mm^2, +-10%) and the Eyeriss relative access energies DRAM 200 : buffer 6 : network 2 : RF 1 : MAC 1.

Figures: area vs latency of every config for three reference cells; the energy breakdown (DRAM/SRAM/RF/MAC/
static) of the best-latency config for one cell.

    python benchmarks/hw_sweep.py [--cells N] [--stall-configs 100] [--workers 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hwsim.bench.results import Headline, write_result
from hwsim.hwspace import get_space
from hwsim.sweep import process_map, sweep, verify_pairs
from hwsim.sweep.stalls import array_layers, stall_agreement
from hwsim.zoo import get_model, list_models
from spaces.nb201 import nb201_space

REFERENCE_CELLS = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build_cells(n: int | None) -> dict[str, object]:
    space = nb201_space()
    archs = list(space.enumerate())
    if n is not None and n < len(archs):  # a seeded subset, always with the reference cells
        keep = {space.parse(c) for c in REFERENCE_CELLS}
        pick = set(np.random.default_rng(0).choice(len(archs), n, replace=False).tolist())
        archs = [a for i, a in enumerate(archs) if i in pick or a in keep]
    return {space.format(a): space.to_workload(a) for a in archs}


def silicon_checks() -> dict[str, float]:
    """The Accelergy Eyeriss-like configuration (12 x 14 PEs, 128 KiB buffer, 16 bit, 45 nm) in hwsim.silicon."""
    from hwsim.devices.config import device_from_tables
    from hwsim.silicon import area_breakdown_mm2, energy_coefficients

    dev = device_from_tables({"device": {"base": "eyeriss-v1", "name": "eyeriss-like-accelergy"},
                              "hardware": {"pe_rows": 12, "pe_cols": 14, "glb_kib": 128.0},
                              "silicon": {"node_nm": 45.0, "word_bits": 16}}, "benchmark eyeriss-like")
    area = area_breakdown_mm2(dev)
    coef = energy_coefficients(dev)
    mac = coef["mac"]
    return {"pe_array_mm2": area["mac"] + area["rf"] + area["noc"], "pe_array_ref_mm2": 0.95,
            "buffer_mm2": area["sram"], "buffer_ref_mm2": 1.16,
            "ratio_dram": coef["dram_read_byte"] * 2 / mac, "ratio_buffer": coef["glb_read_byte"] * 2 / mac,
            "ratio_network": coef["noc_word"] / mac, "ratio_rf": coef["rf_word"] / mac, "ratio_mac": 1.0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cells", type=int, default=None, help="NB201 cells (default all 15,625)")
    ap.add_argument("--space", default="systolic", help="hardware space (built-in name or TOML file)")
    ap.add_argument("--workers", type=int, default=2,
                    help="processes for fusing the networks and for the stall table (the batches run in this "
                         "process: numpy's BLAS uses the cores)")
    ap.add_argument("--batch-size", type=int, default=288)
    ap.add_argument("--verify", type=int, default=20, help="pairs re-run through the device pipeline")
    ap.add_argument("--stall-configs", type=int, default=100, help="configs of the space for the stall table")
    ap.add_argument("--stall-every", type=int, default=1, help="every k-th distinct zoo array layer")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="write hw_sweep.json and PNG figures here")
    args = ap.parse_args(argv)
    hw = get_space(args.space)
    out = args.out
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    # 1. the sweep ---------------------------------------------------------------------------------
    log("building NB201 workloads ...")
    t0 = time.perf_counter()
    cells = build_cells(args.cells)
    build_s = time.perf_counter() - t0
    n_pairs = len(cells) * hw.size
    mapper = process_map(args.workers) if args.workers > 1 else None
    log(f"sweeping {len(cells)} cells x {hw.size} configs ...")
    with tempfile.TemporaryDirectory(prefix="hw_sweep_") as tmp:
        t0 = time.perf_counter()
        res = sweep(cells, hw, batch_size=args.batch_size, out_dir=Path(tmp) / "sweep", feature_map_fn=mapper)
        sweep_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = sweep(cells, hw, batch_size=args.batch_size, out_dir=Path(tmp) / "sweep")
        resume_s = time.perf_counter() - t0
        assert np.array_equal(again.latency_ms, res.latency_ms)
    rate = n_pairs / sweep_s
    print(f"sweep: {len(cells):,} NB201 cells x {hw.size:,} {args.space} configs = {n_pairs:,} pairs "
          f"(latency + energy + power + area), {args.workers} worker(s)")
    print(f"  wall {sweep_s:.1f} s (target <= 30 s) -> {rate:,.0f} pairs/s (target >= 1e6); "
          f"reloading the finished sweep from its batch files: {resume_s:.1f} s")
    print(f"  building the workloads (spaces.to_workload, input of the sweep, not included): {build_s:.1f} s")
    checked = verify_pairs(res, cells, [hw.device(p) for p in res.hw_points], args.verify, args.seed)
    print(f"  equal to AcceleratorDevice.run + silicon_report on {checked} seeded pairs (rel 1e-9): yes")
    finite = np.isfinite(res.latency_ms) & np.isfinite(res.energy_mj)
    print(f"  all finite: {bool(finite.all())}; latency {np.nanmin(res.latency_ms):.4g} .. "
          f"{np.nanmax(res.latency_ms):.4g} ms, energy {np.nanmin(res.energy_mj):.4g} .. "
          f"{np.nanmax(res.energy_mj):.4g} mJ, area {res.area_mm2.min():.3g} .. {res.area_mm2.max():.3g} mm^2")

    # 2. the stall table ---------------------------------------------------------------------------
    layers = []
    for m in list_models():
        layers += get_model(m).build_ir().layers
    zoo_layers = array_layers(layers)[::args.stall_every]
    pts = hw.sample(min(args.stall_configs, hw.size), args.seed)
    devs = [hw.device(p) for p in pts]
    log(f"stall table: {len(zoo_layers)} zoo layers x {len(devs)} configs on the memory engine ...")
    t0 = time.perf_counter()
    rows = []
    for k, part in enumerate((mapper or map)(_stall_job, [(zoo_layers, hw.device_tables(p)) for p in pts])):
        rows.extend(dataclasses.replace(r, device=k) for r in part)
    stall_s = time.perf_counter() - t0
    err = np.array([r.rel_error for r in rows])
    within = float(np.mean(np.abs(err) <= 0.05))
    print(f"\nstall model vs memory engine (quirks fixed): {len(zoo_layers)} distinct zoo array layers x "
          f"{len(devs)} configs = {len(rows):,} pairs, {stall_s:.0f} s")
    print(f"  within 5%: {100 * within:.1f}% (target >= 95%)  -> {'PASS' if within >= 0.95 else 'FAIL'}")
    print(f"  fast/engine - 1: p5 {np.percentile(err, 5):+.3f}, median {np.median(err):+.3f}, "
          f"p95 {np.percentile(err, 95):+.3f}")
    print(f"  {'dataflow':8s} {'pairs':>6s} {'within 5%':>9s} {'median err':>10s} {'engine stall share':>18s}")
    dfs = np.array([devs[r.device].cost_model.array.dataflow for r in rows])
    stall_share = np.array([r.engine_stall_cycles / r.engine_cycles for r in rows])
    for df in ("os", "ws", "is"):
        m = dfs == df
        if m.any():
            print(f"  {df:8s} {int(m.sum()):6d} {100 * np.mean(np.abs(err[m]) <= 0.05):8.1f}% "
                  f"{np.median(err[m]):+10.3f} {np.median(stall_share[m]):18.3f}")
    fits = np.array([r.engine_stall_cycles == 0 for r in rows])
    print(f"  pairs where the engine does not stall: {100 * fits.mean():.1f}% (agreement there "
          f"{100 * np.mean(np.abs(err[fits]) <= 0.05) if fits.any() else float('nan'):.1f}%); where it stalls: "
          f"{100 * np.mean(np.abs(err[~fits]) <= 0.05) if (~fits).any() else float('nan'):.1f}%")
    ratio = np.array([r.engine_dram_words / max(1.0, r.fast_dram_words) for r in rows])
    print(f"  engine DRAM words / template DRAM bytes: median {np.median(ratio):.2f}, p95 {np.percentile(ratio, 95):.1f}")

    # 3. silicon checks ----------------------------------------------------------------------------
    chk = silicon_checks()
    pe_dev = chk["pe_array_mm2"] / chk["pe_array_ref_mm2"] - 1
    buf_dev = chk["buffer_mm2"] / chk["buffer_ref_mm2"] - 1
    print("\nsilicon (hwsim.silicon) vs Accelergy Eyeriss-like (45 nm):")
    print(f"  168 PEs: {chk['pe_array_mm2']:.3f} mm^2 vs 0.95 ({100 * pe_dev:+.1f}%); 128 KiB buffer: "
          f"{chk['buffer_mm2']:.3f} mm^2 vs 1.16 ({100 * buf_dev:+.1f}%); within +-10%: "
          f"{abs(pe_dev) <= 0.1 and abs(buf_dev) <= 0.1}")
    print(f"  energy per 16-bit access, DRAM : buffer : network : RF : MAC = {chk['ratio_dram']:.3g} : "
          f"{chk['ratio_buffer']:.3g} : {chk['ratio_network']:.3g} : {chk['ratio_rf']:.3g} : 1 "
          f"(Eyeriss: 200 : 6 : 2 : 1 : 1)")

    # 4. figures -----------------------------------------------------------------------------------
    figures = []
    if out is not None:
        figures = make_figures(res, hw, cells, out)
    headline = [Headline("sweep wall time", sweep_s, "<=", 30.0, "s"),
                Headline("pairs per second", rate, ">=", 1e6, "pairs/s"),
                Headline("stall model within 5% of the memory engine", 100 * within, ">=", 95.0, "%"),
                Headline("Eyeriss-like PE array area deviation", 100 * pe_dev, None, None, "%"),
                Headline("Eyeriss-like buffer area deviation", 100 * buf_dev, None, None, "%")]
    if out is not None:
        write_result(out, "hw_sweep", headline, {
            "cells": len(cells), "configs": hw.size, "pairs": n_pairs, "workers": args.workers,
            "sweep_s": sweep_s, "pairs_per_s": rate, "reload_s": resume_s, "build_s": build_s,
            "verified_pairs": checked, "stall_pairs": len(rows), "stall_within_5pct": within,
            "stall_err_percentiles": {str(q): float(np.percentile(err, q)) for q in (5, 25, 50, 75, 95)},
            "silicon": chk}, figures)
    return 0


def _stall_job(item: tuple) -> list:
    from hwsim.devices.config import device_from_tables

    layers, tables = item
    return stall_agreement(layers, [device_from_tables(tables, "stall table config")])


def make_figures(res, hw, cells, out: Path) -> list[Path]:  # noqa: ANN001
    from hwsim.plots import new_figure, save_png, set_title
    from hwsim.silicon import silicon_report

    ids = list(res.network_ids)
    paths = []
    fig, axes = new_figure(1, 3, width=15, height=4.2)
    for ax, cell in zip(axes[0], REFERENCE_CELLS):
        if cell not in ids:
            continue
        n = ids.index(cell)
        df = np.array([p["dataflow"] for p in res.hw_points])
        for d, c in (("os", "tab:blue"), ("ws", "tab:orange"), ("is", "tab:green")):
            m = df == d
            ax.scatter(res.area_mm2[m], res.latency_ms[n, m], s=6, alpha=0.6, color=c, label=d)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("area (mm^2)")
        ax.set_ylabel("latency (ms)")
        set_title(ax, cell, fontsize=7)
        ax.legend(fontsize=7)
    paths.append(save_png(fig, out / "hw_sweep_area_vs_latency.png"))
    n = ids.index(REFERENCE_CELLS[0]) if REFERENCE_CELLS[0] in ids else 0
    j = int(np.nanargmin(res.latency_ms[n]))
    rep = silicon_report(hw.device(res.hw_points[j]), cells[ids[n]])
    cats = [c for c in rep.energy_breakdown_mj if rep.energy_breakdown_mj[c] > 0]
    fig, axes = new_figure(1, 1, width=6.4, height=4.0)
    ax = axes[0, 0]
    ax.bar(cats, [rep.energy_breakdown_mj[c] for c in cats], color="tab:purple")
    ax.set_ylabel("energy per inference (mJ)")
    pt = res.hw_points[j]
    set_title(ax, f"energy breakdown, fastest config for cell 0: {pt['array_rows']}x{pt['array_cols']} "
                  f"{pt['dataflow']}", fontsize=9)
    paths.append(save_png(fig, out / "hw_sweep_energy_breakdown.png"))
    return paths


if __name__ == "__main__":
    sys.exit(main())
