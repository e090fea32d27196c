"""Co-design of NAS-Bench-201 networks and the built-in systolic hardware space (issue 16, item 3).

Real CIFAR-10 accuracies of all 15,625 NB201 cells (../shared/data/accuracy/nb201_accuracy.csv, or
$HWNAS_SHARED_DATA) x the 1,728 configs of ``hwsim.hwspace`` ``systolic``, under an area limit (default 2 mm^2).
Objectives: accuracy (max), latency, energy, area (min). Prints, side by side with the targets:

1. the exhaustive Pareto front (the physical limit): size, wall time of the sweep (building the workloads
   timed apart), of the exact non-dominated sort, and its hypervolume;
2. NSGA-II (pymoo) with <= 2% of the pairs evaluated (default 0.2%), 5 seeds: hypervolume ratio to the exhaustive front under
   the exhaustive front's normalisation (mean and worst; target >= 0.98);
3. co-design vs sequential (NAS on the default accelerator -- every parameter at its middle value -- then the
   lowest-EDP hardware for that network under the same area limit): the front's lowest-EDP pair within 0.5
   accuracy points of the sequential design against it: latency, energy, area and EDP ratios next to NASAIC's
   (17.77% lower latency, 2.49x lower energy, 2.32x smaller area at 0.76% accuracy loss);
4. every Pareto pair re-simulated with the cycle-accurate memory engine in corrected mode (quirks="fixed"):
   each array kernel's time replaced by the engine's cycles (stalls included); share of pairs within 5% of the
   sweep's latency;
5. BBSSP across the hardware space: the winning block family (CIFAR backbone Res / MobileNetV2 / VGG families,
   zero-cost proxies) per config, as a map by array rows x columns.

``--out DIR``: ``DIR/codesign_nb201.json`` (headline numbers and targets) and figures; the sweep and the BBSSP
profile are kept under ``DIR/work`` so a rerun resumes. ``--quick``: 2 seeds and no BBSSP map.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hwsim.fileio import atomic_write_text  # noqa: E402

OBJS = ("accuracy", "latency", "energy", "area")
NASAIC = {"latency_ms": 1 - 0.1777, "energy_mj": 1 / 2.49, "area_mm2": 1 / 2.32, "accuracy_loss_pct": 0.76}


def log(msg: str) -> None:
    print(msg, flush=True)


def shared_table() -> Path:
    base = Path(os.environ.get("HWNAS_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return base / "accuracy" / "nb201_accuracy.csv"


def build_grid(work: Path, table: Path) -> tuple[Any, Any, Any, dict[str, float]]:
    """Space, hardware space, a GridSource of every pair (cached in work/grid.npz) and the timings."""
    from hwsim.hwspace import get_space as get_hw_space
    from hwsim.sweep import sweep
    from nas.codesign.search import GridSource
    from nas.codesign.sources import arch_radix, hw_radix
    from nas.evaluators.table import TableEvaluator
    from spaces.registry import get_space

    space, hw = get_space("nb201"), get_hw_space("systolic")
    archs = list(space.enumerate())
    ev = TableEvaluator(str(table), "cifar10_test_acc")
    acc = np.array([100.0 * ev.accuracy_of(space, a) for a in archs])
    cache = work / "grid.npz"
    timings: dict[str, float] = {}
    if cache.exists():
        with np.load(cache) as z:
            lat, en, pw, area = z["latency_ms"], z["energy_mj"], z["power_w"], z["area_mm2"]
            timings = {k: float(z[k]) for k in ("build_s", "sweep_s")}
        log(f"  grid read from {cache} (timings of the run that made it)")
    else:
        t = time.perf_counter()
        nets = {space.format(a): space.to_workload(a) for a in archs}
        timings["build_s"] = time.perf_counter() - t
        t = time.perf_counter()
        r = sweep(nets, hw, out_dir=work / "sweep")
        timings["sweep_s"] = time.perf_counter() - t
        lat, en, pw, area = r.latency_ms, r.energy_mj, r.power_w, r.area_mm2
        import io

        buf = io.BytesIO()
        np.savez(buf, latency_ms=lat, energy_mj=en, power_w=pw, area_mm2=area, **{k: np.array(v)
                                                                                 for k, v in timings.items()})
        from hwsim.fileio import atomic_write_bytes

        atomic_write_bytes(cache, buf.getvalue())
    src = GridSource(acc, lat, en, area, pw, arch_radix(space), hw_radix(hw))
    return space, hw, src, timings


def pair_row(space: Any, hw: Any, src: Any, a: int, h: int) -> dict[str, Any]:
    from nas.codesign.sources import arch_of

    lat, en = float(src.latency_ms[a, h]), float(src.energy_mj[a, h])
    return {"arch": space.format(arch_of(space, a)), "arch_index": int(a), "hw": dict(hw.config(h)),
            "hw_index": int(h), "accuracy": float(src.accuracy_pct[a]), "latency_ms": lat, "energy_mj": en,
            "area_mm2": float(src.area_mm2[h]), "edp": lat * en}


def resimulate(space: Any, hw: Any, pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pair's latency with every array kernel timed by the memory engine (quirks fixed, stalls included)."""
    from hwsim.systolic.simulate import simulate_layer
    from hwsim.systolic.topology import scalesim_view
    from hwsim.workload import Conv2d, Linear, MatMul
    from nas.codesign.sources import arch_of

    cache: dict[tuple[int, Any], float] = {}
    out = []
    for p in pairs:
        net = space.to_workload(arch_of(space, p["arch_index"]))
        dev = hw.device(hw.config(p["hw_index"]))
        cm = dev.cost_model
        cyc_ms = 1.0 / (cm.clock_mhz * 1e3)
        by_name = {layer.name: layer for layer in net.layers}
        run = dev.run(net)
        lat = run.latency_ms
        for k in dev.profile(net).kernels:
            anchors = [by_name[n] for n in k.layers if isinstance(by_name.get(n), (Conv2d, Linear, MatMul))
                       and by_name[n].macs]
            if not anchors or k.on_cpu:
                continue
            layer = anchors[0]
            from hwsim.sweep.features import layer_key

            key = (p["hw_index"], layer_key(layer))
            if key not in cache:
                eng = simulate_layer(cm.array, layer, engine="memory", quirks="fixed")
                cache[key] = eng.total_cycles * scalesim_view(layer).repeats * cyc_ms
            lat += cache[key] + k.overhead_ms - k.latency_ms
        out.append({"arch_index": p["arch_index"], "hw_index": p["hw_index"], "sweep_ms": p["latency_ms"],
                    "run_ms": run.latency_ms, "memory_engine_ms": lat, "rel": lat / p["latency_ms"] - 1.0})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None, help="write codesign_nb201.json and figures here")
    ap.add_argument("--table", default=None, help="NB201 accuracy CSV (default: the shared table)")
    ap.add_argument("--area-limit", type=float, default=2.0)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--fraction", type=float, default=0.002,
                    help="NSGA-II budget as a share of all pairs (default 0.2%%, a tenth of the 2%% allowed)")
    ap.add_argument("--pop-size", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="2 seeds, no BBSSP map")
    ap.add_argument("--no-map", action="store_true", help="skip the BBSSP family map")
    args = ap.parse_args(argv)
    from nas.codesign.run import compare, middle_hw
    from nas.codesign.search import HvBounds, Limits, exhaustive, hypervolume, nsga2, sequential

    table = Path(args.table) if args.table else shared_table()
    if not table.is_file():
        print(f"codesign_nb201: error: accuracy table {table} not found (set HWNAS_SHARED_DATA)", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else None
    work = (out or Path("codesign-bench")) / "work"
    work.mkdir(parents=True, exist_ok=True)
    seeds = 2 if args.quick else args.seeds
    lim = Limits(area_mm2=args.area_limit)
    res: dict[str, Any] = {"area_limit_mm2": args.area_limit}

    log("== 1. exhaustive front: NB201 (15,625) x systolic hw space")
    space, hw, src, tim = build_grid(work, table)
    n_pairs = src.n_arch * src.n_hw
    t = time.perf_counter()
    ex = exhaustive(src, OBJS, lim)
    front_s = time.perf_counter() - t
    f_ex = ex.front.objectives(OBJS)
    bounds = HvBounds.of(OBJS, f_ex)
    hv_ex = hypervolume(f_ex, bounds)
    log(f"  pairs {n_pairs:,} ({src.n_arch:,} cells x {src.n_hw:,} configs), feasible (area <= {args.area_limit} mm^2) "
        f"{ex.extra['feasible_pairs']:,}")
    log(f"  workloads built in {tim['build_s']:.1f} s (input of the sweep); sweep {tim['sweep_s']:.1f} s "
        f"({n_pairs / max(tim['sweep_s'], 1e-9) / 1e6:.2f} M pairs/s); exact front {front_s:.2f} s; "
        f"front {len(ex.front)} pairs; hypervolume {hv_ex:.5f}")
    front_rows = [pair_row(space, hw, src, int(a), int(h)) for a, h in zip(ex.front.arch, ex.front.hw)]
    res["exhaustive"] = {"pairs": n_pairs, "feasible_pairs": ex.extra["feasible_pairs"], "front_size": len(ex.front),
                         "build_s": tim["build_s"], "sweep_s": tim["sweep_s"], "front_s": front_s,
                         "hypervolume": hv_ex, "normalisation": bounds.to_dict(), "front": front_rows}

    log(f"== 2. NSGA-II (pymoo), budget {args.fraction:.1%} of the pairs, {seeds} seeds")
    budget = int(args.fraction * n_pairs)
    runs = []
    for seed in range(seeds):
        t = time.perf_counter()
        r = nsga2(src, OBJS, lim, budget, seed, pop_size=args.pop_size)
        ratio = hypervolume(r.front.objectives(OBJS), bounds) / hv_ex
        runs.append({"seed": seed, "hv_ratio": ratio, "front_size": len(r.front), "wall_s": time.perf_counter() - t,
                     "pairs": r.evaluations["pairs"], "accuracy_queries": r.evaluations["accuracy_queries"],
                     "generations": r.extra["generations"]})
        log(f"  seed {seed}: {r.evaluations['pairs']:,} pairs ({r.evaluations['pairs'] / n_pairs:.2%}), "
            f"{r.evaluations['accuracy_queries']:,} accuracy queries, front {len(r.front)}, "
            f"HV ratio {ratio:.4f}, {runs[-1]['wall_s']:.1f} s")
    ratios = [x["hv_ratio"] for x in runs]
    res["nsga2"] = {"budget_pairs": budget, "fraction": budget / n_pairs, "pop_size": args.pop_size, "runs": runs,
                    "hv_ratio_mean": float(np.mean(ratios)), "hv_ratio_worst": float(np.min(ratios)),
                    "target_mean": 0.98}
    log(f"  HV ratio mean {np.mean(ratios):.4f}, worst {np.min(ratios):.4f} (target mean >= 0.98) -> "
        f"{'PASS' if np.mean(ratios) >= 0.98 else 'FAIL'}")

    log("== 3. co-design vs sequential (same area limit)")
    h0 = middle_hw(tuple(src.hw_radix))
    seq = sequential(src, OBJS, lim, h0)
    design = pair_row(space, hw, src, seq.extra["chosen_arch"], seq.extra["design_hw"])
    cmp = compare(front_rows, design, 0.5)
    res["sequential"] = {"default_hw": dict(hw.config(h0)), "design": design, "comparison": cmp, "nasaic": NASAIC}
    log(f"  default accelerator: {', '.join(f'{k}={v}' for k, v in hw.config(h0).items())}")
    log(f"  sequential: {design['accuracy']:.2f}% {design['latency_ms']:.4g} ms {design['energy_mj']:.4g} mJ "
        f"{design['area_mm2']:.3f} mm^2 on {design['hw']}")
    if cmp:
        p, r = cmp["pair"], cmp["ratios"]
        log(f"  co-design:  {p['accuracy']:.2f}% {p['latency_ms']:.4g} ms {p['energy_mj']:.4g} mJ "
            f"{p['area_mm2']:.3f} mm^2 on {p['hw']}")
        log("  | metric (co-design / sequential) | this benchmark | NASAIC |")
        log(f"  | latency | {r['latency_ms']:.3f} ({(1 - r['latency_ms']) * 100:+.2f}% lower) | 0.822 (17.77% lower) |")
        log(f"  | energy  | {r['energy_mj']:.3f} ({1 / r['energy_mj']:.2f}x lower) | 0.402 (2.49x lower) |")
        log(f"  | area    | {r['area_mm2']:.3f} ({1 / r['area_mm2']:.2f}x smaller) | 0.431 (2.32x smaller) |")
        log(f"  | EDP     | {r['edp']:.3f} ({1 / r['edp']:.2f}x lower) | - |")
        log(f"  | accuracy loss | {cmp['accuracy_loss_pct']:+.2f} points | 0.76% |")
    else:
        log("  no front pair within 0.5 points of the sequential design")

    log("== 4. Pareto pairs re-simulated with the memory engine (corrected mode)")
    t = time.perf_counter()
    rs = resimulate(space, hw, front_rows)
    within = sum(abs(x["rel"]) <= 0.05 for x in rs) / max(1, len(rs))
    rel = np.array([x["rel"] for x in rs])
    res["resim"] = {"pairs": rs, "within_5pct": within, "median_abs_rel": float(np.median(np.abs(rel))),
                    "max_abs_rel": float(np.max(np.abs(rel))), "wall_s": time.perf_counter() - t,
                    "run_equals_sweep_max_rel": float(max(abs(x["run_ms"] / x["sweep_ms"] - 1) for x in rs))}
    log(f"  {len(rs)} pairs: within 5% of the sweep: {within:.1%}; median |diff| {np.median(np.abs(rel)):.2%}, "
        f"max {np.max(np.abs(rel)):.2%} (memory engine vs sweep; {res['resim']['wall_s']:.1f} s)")

    if not (args.quick or args.no_map):
        log("== 5. BBSSP across the systolic space (CIFAR Res / MobileNetV2 / VGG, zero-cost proxies)")
        res["bbssp_map"] = bbssp_map(hw, work, out)
    if out is not None:
        figures(res, out)
        atomic_write_text(out / "codesign_nb201.json", json.dumps(res, indent=1, default=str))
        log(f"results in {out / 'codesign_nb201.json'}")
    return 0


def bbssp_map(hw: Any, work: Path, out: Path | None) -> dict[str, Any]:
    from nas.codesign.profile_hw import profile_across_hw, winner_map_figure
    from nas.cost import CostParams
    from nas.evaluators.datasets import DatasetSpec
    from nas.evaluators.zero_cost import ZeroCostEvaluator
    from nas.profiling import ProfileConfig

    t = time.perf_counter()
    ev = ZeroCostEvaluator(DatasetSpec("synthetic", 32, None, None, None, num_samples=256),
                           ("naswot", "synflow", "grad_norm"), 16)
    cfg = ProfileConfig(("bbssp-res-cifar", "bbssp-mobilev2-cifar", "bbssp-vgg-cifar"), "reference", ev,
                        CostParams(), 0)
    doc = profile_across_hw(cfg, hw, work / "bbssp", x_param="array_rows", y_param="array_cols", plots=False)
    if out is not None:
        winner_map_figure(doc, "array_rows", "array_cols", out / "bbssp_winner_map.png")
    n = len(doc["configs"])
    log(f"  {n} configs: wins " + ", ".join(f"{f} {w} ({100 * w / n:.1f}%)" for f, w in doc["wins"].items())
        + f"; {time.perf_counter() - t:.1f} s")
    sizes = [c["tuned_space_size"] for c in doc["configs"]]
    return {"wins": doc["wins"], "configs": n, "reference_winner": doc["reference_winner"],
            "tuned_space_size_min": int(min(sizes)), "tuned_space_size_max": int(max(sizes)),
            "wall_s": time.perf_counter() - t}


def figures(res: dict[str, Any], out: Path) -> None:
    from hwsim.plots import new_figure, save_png, set_title
    from nas.codesign import plots as P

    front = res["exhaustive"]["front"]
    seq = res["sequential"]
    marks = {"sequential": seq["design"]}
    if seq["comparison"]:
        marks["co-design (lowest EDP within 0.5 pts)"] = seq["comparison"]["pair"]
        P.codesign_vs_sequential(out / "codesign_vs_sequential.png", seq["comparison"]["pair"], seq["design"],
                                 "NB201 x systolic: co-design vs sequential",
                                 {k: NASAIC[k] for k in ("latency_ms", "energy_mj", "area_mm2")})
    P.front_projections(out / "front_projections.png", front,
                        f"NB201 x systolic, area <= {res['area_limit_mm2']} mm^2: exhaustive Pareto front", marks)
    P.hw_along_front(out / "hw_along_front.png", front, "hardware parameters along the exhaustive front")
    fig, axes = new_figure(1, 2, width=11.0, height=4.0)
    runs = res["nsga2"]["runs"]
    ax = axes[0, 0]
    b = ax.bar([str(r["seed"]) for r in runs], [r["hv_ratio"] for r in runs], color="#4C72B0")
    ax.bar_label(b, [f"{r['hv_ratio']:.3f}" for r in runs], fontsize=8)
    ax.axhline(0.98, color="r", ls="--", lw=1, label="target 0.98")
    ax.set_ylim(min(0.9, min(r["hv_ratio"] for r in runs) - 0.02), 1.01)
    ax.set_xlabel("seed")
    ax.set_ylabel("hypervolume / exhaustive")
    ax.legend(fontsize=8)
    set_title(ax, f"NSGA-II at {res['nsga2']['fraction']:.1%} of the pairs")
    ax = axes[0, 1]
    rs = res["resim"]["pairs"]
    ax.scatter([x["sweep_ms"] for x in rs], [x["memory_engine_ms"] for x in rs], s=14)
    lo, hi = min(x["sweep_ms"] for x in rs), max(x["sweep_ms"] for x in rs)
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    ax.fill_between([lo, hi], [lo * 0.95, hi * 0.95], [lo * 1.05, hi * 1.05], color="grey", alpha=0.2, label="+-5%")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sweep latency (ms)")
    ax.set_ylabel("memory engine, corrected (ms)")
    ax.legend(fontsize=8)
    set_title(ax, f"Pareto pairs re-simulated: {res['resim']['within_5pct']:.0%} within 5%")
    save_png(fig, out / "nsga2_and_resim.png")


if __name__ == "__main__":
    raise SystemExit(main())
