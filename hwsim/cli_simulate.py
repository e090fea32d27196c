"""``hwnas simulate``: run a workload on an accelerator model and print per-layer cycles and traffic.

``hwnas simulate --device systolic --config FILE.cfg|--preset NAME (--model ZOO_NAME | --topology FILE.csv)
[--engine analytical|memory] [--quirks scalesim|fixed] [--format table|json|csv] [--scalesim-reports DIR]``

Devices are dispatched by :func:`run_device` (one small function: add a branch for a new ``--device``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from typing import Any

from hwsim.errors import HwnasError



def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="simulate a workload on an accelerator model (per-layer cycles, traffic)")
    p.add_argument("--device", default="systolic", metavar="NAME|FILE.toml",
                   help="'systolic' (SCALE-Sim-exact array, with --config/--preset), a device preset "
                        "(see hwsim.devices.list_presets) or a device TOML file")
    cfg = p.add_mutually_exclusive_group()
    cfg.add_argument("--config", help="SCALE-Sim .cfg file (systolic)")
    cfg.add_argument("--preset", help="named configuration (systolic: see hwsim.systolic.PRESETS)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="zoo model name or a .json/.csv/.onnx workload file")
    src.add_argument("--topology", help="SCALE-Sim topology CSV (conv or GEMM format), run exactly as scalesim runs it")
    p.add_argument("--engine", choices=("analytical", "memory"), default="analytical")
    p.add_argument("--quirks", choices=("scalesim", "fixed"), default="scalesim",
                   help="reproduce scalesim 3.0.0's memory-model bugs (default) or correct them")
    p.add_argument("--clock-mhz", type=float, default=1000.0, help="clock for the latency column (default 1000)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--scalesim-reports", metavar="DIR",
                   help="also write COMPUTE/BANDWIDTH/DETAILED_ACCESS_REPORT.csv as scalesim 3.0.0 writes them "
                        "(computed with the memory engine whatever --engine says)")
    p.add_argument("--plot", metavar="FILE.png",
                   help="also write a figure: systolic, cycles (compute vs stall) and utilisation per layer; "
                        "device presets, the per-kernel latency breakdown")
    p.set_defaults(func=_main)


def run_device(args: argparse.Namespace) -> dict[str, Any]:
    """Dispatch on ``--device``; returns {"summary": {...}, "layers": [{...}, ...]}."""
    if args.device == "systolic":
        return _run_systolic(args)
    raise HwnasError(f"--device: {args.device!r} is not the systolic array; use hwsim.devices for presets")


def _run_systolic(args: argparse.Namespace) -> dict[str, Any]:
    from hwsim.systolic import load_config, preset, simulate_network

    if args.config:
        config = load_config(args.config)
    elif args.preset:
        config = preset(args.preset)
    else:
        raise HwnasError("--device systolic needs --config FILE.cfg or --preset NAME")
    if args.topology:
        from hwsim.importers.scalesim_csv import read_jobs
        workload: Any = read_jobs(args.topology)
    else:
        from hwsim.loader import load_workload
        workload = load_workload(args.model)
    if not args.clock_mhz > 0:
        raise HwnasError(f"--clock-mhz must be positive, got {args.clock_mhz}")
    if args.scalesim_reports and args.quirks != "scalesim":
        raise HwnasError("--scalesim-reports writes scalesim 3.0.0's own numbers; it cannot be combined with "
                         f"--quirks {args.quirks}")
    res = simulate_network(config, workload, engine=args.engine, quirks=args.quirks)
    if args.scalesim_reports:
        write_scalesim_reports(config, workload, res, args.scalesim_reports)
    layers = []
    for e in res.layers:
        r = e.result
        layers.append({
            "layer": e.layer_name, "kind": e.kind, "repeats": e.repeats, "skipped": e.skipped,
            "total_cycles": e.total_cycles, "stall_cycles": e.stall_cycles, "macs": e.macs,
            "overall_util_pct": None if r is None else round(r.overall_util_pct, 4),
            **e.access_totals(),
        })
    summary = {**res.summary(), "device": "systolic", "config": config.run_name,
               "array": f"{config.array_rows}x{config.array_cols}", "clock_mhz": args.clock_mhz,
               "latency_s": res.latency_s(args.clock_mhz * 1e6), "energy_j": res.energy().total_j}
    return {"summary": summary, "layers": layers}


def write_scalesim_reports(config: Any, workload: Any, res: Any, directory: str) -> None:
    """SCALE-Sim's three report files, always from the memory engine with scalesim's quirks (the only mode whose
    every integer equals scalesim's; the analytical engine's DRAM counts and prefetch cycles are estimates), so a
    file named like a SCALE-Sim report holds SCALE-Sim's numbers whatever ``--engine`` says."""
    from hwsim.systolic import simulate_network
    from hwsim.systolic.reports import write_reports

    if res.engine != "memory" or res.quirks != "scalesim":
        res = simulate_network(config, workload, engine="memory", quirks="scalesim")
    write_reports(res.job_results(), directory)


def _table(out: dict[str, Any]) -> str:
    head = ("layer", "kind", "x", "cycles", "stalls", "util%", "SRAM rd", "DRAM rd", "DRAM wr")
    rows = [(r["layer"], r["kind"], str(r["repeats"]), f"{r['total_cycles']:,}", f"{r['stall_cycles']:,}",
             "-" if r["overall_util_pct"] is None else f"{r['overall_util_pct']:.2f}",
             f"{r['ifmap_sram_reads'] + r['filter_sram_reads']:,}",
             f"{r['ifmap_dram_reads'] + r['filter_dram_reads']:,}", f"{r['ofmap_dram_writes']:,}")
            for r in out["layers"]]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    s = out["summary"]
    lines.append(f"total: {s['total_cycles']:,} cycles ({s['stall_cycles']:,} stall), {s['macs']:,} MACs, "
                 f"{s['latency_s'] * 1e3:.4f} ms at {s['clock_mhz']:g} MHz, {s['energy_j'] * 1e3:.4f} mJ "
                 f"[{s['device']} {s['array']} {s['dataflow']}, {s['engine']} engine, quirks={s['quirks']}]")
    return "\n".join(lines)


def _main(args: argparse.Namespace) -> int:
    if args.device != "systolic":  # black-box device presets and TOML files: profile and end-to-end views
        if args.config or args.preset:
            raise HwnasError(f"--config/--preset apply to --device systolic, not to {args.device!r}")
        from hwsim.devices.cli import simulate_device
        return simulate_device(args)
    out = run_device(args)
    if args.format == "json":
        print(json.dumps(out, indent=1))
    elif args.format == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(out["layers"][0]) if out["layers"] else ["layer"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(out["layers"])
        print(buf.getvalue(), end="")
    else:
        print(_table(out))
    if args.plot:
        write_systolic_plot(args.plot, out)
    return 0


def write_systolic_plot(path: str, out: dict[str, Any]) -> None:
    """Cycles per layer (compute and stall, stacked; all repeats of a layer) and utilisation per layer."""
    from hwsim.plots import per_layer_panels

    rows = [r for r in out["layers"] if not r["skipped"]]
    if not rows:
        raise HwnasError("--plot: no layer runs on the array (every layer was skipped)")
    s = out["summary"]
    per_layer_panels(path, [r["layer"] + (f" (x{r['repeats']})" if r["repeats"] > 1 else "") for r in rows],
                     {"compute cycles": [r["total_cycles"] - r["stall_cycles"] for r in rows],
                      "stall cycles": [r["stall_cycles"] for r in rows]}, "cycles per layer (all repeats)",
                     {"utilisation": [r["overall_util_pct"] or 0.0 for r in rows]}, "overall utilisation (%)",
                     f"{s['network']} on the {s['array']} {s['dataflow']} systolic array "
                     f"({s['config']}, {s['engine']} engine): {s['total_cycles']:,} cycles in all",
                     stacked_top=True)
