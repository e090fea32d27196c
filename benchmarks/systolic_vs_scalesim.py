"""hwsim.systolic vs the real scalesim 3.0 on ResNet-18 (32x32, os, 64 kB SRAMs, 10 words/cycle): agreement
and speed, in one run.

- analytical engine vs scalesim in CALC bandwidth mode (target: >= 10,000x faster);
- memory engine vs scalesim in USER bandwidth mode (target: >= 1,000x faster).

``--layers N`` runs only the first N array layers of ResNet-18 (scalesim needs ~10-40 s per layer);
``--layers 0`` runs all 21. Times are wall-clock seconds on this machine; hwsim engines are timed warm
(after one JIT warm-up call) as the best of ``--repeat`` runs.

``--out DIR`` also writes ``DIR/systolic_vs_scalesim.json`` and ``systolic_vs_scalesim_layers.png``: cycles per
layer of every ResNet-18 array layer (hwsim; scalesim on the compared layers) and the utilisation per layer.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hwsim.systolic import SystolicConfig, scalesim_view, simulate_job
from hwsim.systolic.reference import run_scalesim, scalesim_version
from hwsim.zoo import get_model


def resnet18_jobs(n: int) -> list:
    net = get_model("resnet18").build_ir()
    jobs = []
    for layer in net.layers:
        m = scalesim_view(layer)
        if m.job is not None:
            jobs += [m.job] * m.repeats
    return jobs if n <= 0 else jobs[:n]


def _time_engine(cfg: SystolicConfig, jobs: list, engine: str, repeat: int) -> tuple[float, list]:
    res = [simulate_job(cfg, j, engine=engine) for j in jobs]  # warm-up (JIT compile / cache load)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = [simulate_job(cfg, j, engine=engine) for j in jobs]
        best = min(best, time.perf_counter() - t0)
    return best, res


def compare(mode: str, engine: str, jobs: list, repeat: int) -> dict:
    cfg = SystolicConfig(32, 32, 64, 64, 64, "os", mode, (10,), 10, 10, run_name="bench")
    print(f"running scalesim ({mode}) on {len(jobs)} layers ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    ref = run_scalesim(cfg, jobs)
    t_ref = time.perf_counter() - t0
    t_ours, ours = _time_engine(cfg, jobs, engine, repeat)
    same_cycles = sum(r.total_cycles == o.total_cycles and r.stall_cycles == o.stall_cycles for r, o in zip(ref, ours))
    same_all = sum(r.counts() == {**o.counts(), "macs": r.macs} for r, o in zip(ref, ours))
    sram = ("ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes")
    same_sram = sum(all(getattr(r, k) == getattr(o, k) for k in sram) for r, o in zip(ref, ours))
    print(f"[{engine} engine vs scalesim {mode}] {len(jobs)} layers")
    print(f"  total+stall cycles identical: {same_cycles}/{len(jobs)}; SRAM counts identical: {same_sram}/{len(jobs)}; "
          f"every integer field identical: {same_all}/{len(jobs)}")
    print(f"  total cycles: scalesim {sum(r.total_cycles for r in ref):,}  hwsim {sum(o.total_cycles for o in ours):,}")
    print(f"  time: scalesim {t_ref:.2f} s, hwsim {t_ours * 1e3:.3f} ms -> speed ratio {t_ref / t_ours:,.0f}x")
    return {"mode": mode, "engine": engine, "layers": len(jobs), "same_cycles": same_cycles, "same_sram": same_sram,
            "same_all": same_all, "scalesim_s": t_ref, "hwsim_s": t_ours, "speed_ratio": t_ref / t_ours,
            "scalesim_cycles": [r.total_cycles for r in ref], "hwsim_cycles": [o.total_cycles for o in ours],
            "scalesim_util_pct": [r.overall_util_pct for r in ref], "hwsim_util_pct": [o.overall_util_pct for o in ours]}


def write_outputs(out: Path, comparisons: list[dict]) -> None:
    """JSON result and the per-layer figure (every ResNet-18 array layer; scalesim where it was run)."""
    import math

    from hwsim.bench.results import Headline, write_result
    from hwsim.plots import per_layer_panels

    net = get_model("resnet18").build_ir()
    names, jobs = [], []
    for layer in net.layers:
        m = scalesim_view(layer)
        if m.job is not None:
            names += [layer.name] * m.repeats
            jobs += [m.job] * m.repeats
    top: dict[str, list[float]] = {}
    util: dict[str, list[float]] = {}
    for c in comparisons:
        cfg = SystolicConfig(32, 32, 64, 64, 64, "os", c["mode"], (10,), 10, 10, run_name="bench")
        full = [simulate_job(cfg, j, engine=c["engine"]) for j in jobs]
        pad = [math.nan] * (len(jobs) - c["layers"])
        top[f"hwsim {c['engine']} ({c['mode']})"] = [r.total_cycles for r in full]
        top[f"scalesim ({c['mode']})"] = c["scalesim_cycles"] + pad
        util[f"hwsim {c['engine']} ({c['mode']})"] = [r.overall_util_pct for r in full]
        util[f"scalesim ({c['mode']})"] = c["scalesim_util_pct"] + pad
    fig = per_layer_panels(out / "systolic_vs_scalesim_layers.png", names, top, "cycles per layer (log scale)",
                           util, "overall utilisation (%)",
                           "ResNet-18 on a 32x32 output-stationary array (64 kB SRAMs, 10 words/cycle): hwsim on "
                           f"every layer, scalesim on the first {comparisons[0]['layers'] if comparisons else 0}",
                           log_top=True)
    headline = []
    for c in comparisons:
        target = 10_000.0 if c["engine"] == "analytical" else 1_000.0
        headline += [Headline(f"{c['engine']} vs scalesim {c['mode']}: layers with identical cycles",
                              100.0 * c["same_cycles"] / c["layers"], "==", 100.0, "%")]
        if c["engine"] == "memory":  # the analytical engine claims cycles only (no DRAM trace)
            headline.append(Headline(f"memory vs scalesim {c['mode']}: layers with every report integer identical",
                                     100.0 * c["same_all"] / c["layers"], "==", 100.0, "%"))
        headline += [Headline(f"{c['engine']} engine speed vs scalesim {c['mode']}", c["speed_ratio"], ">=", target,
                              "x")]
    write_result(out, "systolic_vs_scalesim", headline, {"comparisons": comparisons}, [fig])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=2, help="first N ResNet-18 array layers (0 = all 21)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", choices=("analytical", "memory"), help="run one comparison only")
    ap.add_argument("--resnet50", action="store_true",
                    help="also time the whole of ResNet-50 on the 128x128 preset with each engine (warm)")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON result and figure into this folder")
    args = ap.parse_args(argv)
    jobs = resnet18_jobs(args.layers)
    print(f"scalesim {scalesim_version()}; ResNet-18 on 32x32 os, 64 kB SRAMs, DRAM 10 words/cycle")
    comparisons = []
    if args.only in (None, "analytical"):
        comparisons.append(compare("CALC", "analytical", jobs, args.repeat))
    if args.only in (None, "memory"):
        comparisons.append(compare("USER", "memory", jobs, args.repeat))
    if args.resnet50:
        time_resnet50(args.repeat)
    if args.out is not None:
        write_outputs(args.out, comparisons)
    return 0


def time_resnet50(repeat: int) -> None:
    """Whole ResNet-50 (every layer, no de-duplication of identical jobs) on the 128x128 preset."""
    from hwsim.systolic import preset, simulate_network
    cfg = preset("scalesim_128x128")
    net = get_model("resnet50").build_ir()
    jobs = [m.job for m in map(scalesim_view, net.layers) if m.job is not None]
    for engine in ("analytical", "memory"):
        simulate_network(cfg, net, engine=engine)
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            res = simulate_network(cfg, net, engine=engine)
            best = min(best, time.perf_counter() - t0)
        t_jobs, _ = _time_engine(cfg, jobs, engine, 1)
        print(f"[ResNet-50, 128x128 {cfg.bandwidth_mode}, {engine}] simulate_network {best:.3f} s warm "
              f"(distinct jobs simulated once; all {len(jobs)} jobs one by one: {t_jobs:.3f} s); "
              f"{res.total_cycles:,} cycles, {res.stall_cycles:,} stall")


if __name__ == "__main__":
    sys.exit(main())
