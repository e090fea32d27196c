"""``hwnas bench``: the golden latency check, and the benchmark scripts with a markdown report.

``hwnas bench latency`` regenerates the deterministic latency suite and compares it with a golden file: one line
per changed field (model, device, field, golden, now, relative change), exit 1 when any change exceeds
``--tolerance`` (relative; default 0 = bit-exact), 0 otherwise. A structural change (an entry, kernel or
exclusion that appears or disappears, a renamed kernel) always counts. A bad golden file is a one-line error
(exit 2). ``--model`` / ``--device`` restrict both sides to a subset of the pairs; ``--plot FILE.png`` draws the
largest changes (or, with none, the latency of every pair; for one pair, its per-kernel breakdown).

``hwnas bench GROUP --out DIR [--quick]`` (GROUP: latency, systolic, dpu, calibration, bbssp, sweep, search, codesign or all) runs the
scripts of ``benchmarks/`` (:mod:`hwsim.bench.runner`) and writes ``DIR/report.md`` with their output, figures
and a summary of headline numbers vs targets; exit 1 when a script fails.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from hwsim.bench.latency_suite import (
    compare_suites,
    default_golden_path,
    generate_suite,
    load_suite,
    restrict_suite,
)
from hwsim.bench.runner import GROUP_NAMES, GROUPS, format_summary, resolve_groups, run_groups
from hwsim.errors import HwnasError
from hwsim.progress import progress_factory

_GROUP_HELP = {
    "systolic": "hwsim.systolic vs the real scalesim: agreement and speed (ResNet-18 layers)",
    "dpu": "DPU model vs measured ZCU102/ZCU104/KV260 latencies and VGG-16 node times (shared data)",
    "calibration": "calibration on real measured boards (HELP, nn-Meter) and on this machine's CPU",
    "bbssp": "BBSSP LUT vs the paper's measured ZCU102 LUT; tuned vs untuned space search",
    "sweep": "NAS-Bench-201 x the systolic hw space: sweep time, stall model vs memory engine, silicon checks",
    "search": "latency-constrained NB201 search on 5 devices (HELP's setting) vs the exhaustive optimum",
    "codesign": "NB201 x systolic co-design: exhaustive front, NSGA-II hypervolume, co-design vs sequential",
    "all": "every group: " + ", ".join(GROUP_NAMES),
}


def _tolerance(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--tolerance must be a number, got {text!r}") from None
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"--tolerance must be a finite number >= 0, got {text!r}")
    return v


def _add_report_args(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--out", type=Path, required=required, default=None, metavar="DIR",
                   help="run the benchmark scripts and write DIR/report.md, DIR/<group>/*.json and *.png"
                   + ("" if required else " (latency: instead of the plain golden check)"))
    p.add_argument("--quick", action="store_true", help="with --out: reduced sizes (a smoke run, minutes less)")
    p.add_argument("--quiet", action="store_true", help="no progress bars (scripts' stderr kept for the report)")


def register(subparsers: Any) -> None:
    """Add ``bench`` with one subcommand per benchmark group."""
    bench = subparsers.add_parser("bench", help="golden latency check; benchmark scripts with a report and figures",
                                  description="Run benchmark suites. 'latency' alone compares the deterministic "
                                  "latency suite with its golden file; with --out DIR every group runs the scripts "
                                  "of benchmarks/ and writes DIR/report.md plus PNG figures.")
    sub = bench.add_subparsers(dest="bench_command", metavar="SUITE", parser_class=type(bench))
    lat = sub.add_parser("latency", help="every zoo model x every device preset vs the golden latency table")
    lat.add_argument("--against", type=Path, default=None, metavar="GOLDEN",
                     help="golden JSON file (default: benchmarks/golden/latency_suite.json of the checkout)")
    lat.add_argument("--tolerance", type=_tolerance, default=0.0, metavar="REL",
                     help="largest relative change accepted (default 0: exact)")
    lat.add_argument("--model", action="append", default=None, metavar="NAME",
                     help="compare only this zoo model (repeatable; default: every model)")
    lat.add_argument("--device", action="append", default=None, metavar="PRESET",
                     help="compare only this device preset (repeatable; default: every preset)")
    lat.add_argument("--plot", default=None, metavar="FILE.png",
                     help="draw the largest changes (none: latency of every pair, or one pair's kernel breakdown)")
    _add_report_args(lat, required=False)
    lat.set_defaults(func=_run_latency)
    for group in (*GROUP_NAMES[1:], "all"):
        p = sub.add_parser(group, help=_GROUP_HELP[group])
        _add_report_args(p, required=True)
        p.set_defaults(func=_run_report, group=group)
    bench.set_defaults(func=lambda args: bench.print_help() or 2)


def _run_report(args: argparse.Namespace, extra: dict[str, list[str]] | None = None) -> int:
    groups = resolve_groups(args.group)
    runs = run_groups(groups, args.out, quick=args.quick, quiet=args.quiet, progress=progress_factory(args.quiet),
                      extra_args=extra)
    print(format_summary(runs))
    failed = [r.benchmark for r in runs if r.rc != 0]
    total = sum(r.wall_s for r in runs)
    print(f"{len(runs)} benchmarks in {total:.0f} s; report {Path(args.out) / 'report.md'}"
          + (f"; failed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


def _run_latency(args: argparse.Namespace) -> int:
    if args.out is not None:
        if args.plot:
            raise HwnasError("--plot applies to the plain golden check; with --out the report has the figures")
        extra: list[str] = ["--tolerance", repr(args.tolerance)]
        if args.against is not None:
            extra += ["--golden", str(Path(args.against).resolve())]
        if args.model:
            extra += ["--models", ",".join(args.model)]
        if args.device:
            extra += ["--devices", ",".join(args.device)]
        if args.quiet:
            extra.append("--quiet")
        args.group = "latency"
        return _run_report(args, {GROUPS["latency"][0].name: extra})
    if args.quick:
        raise HwnasError("--quick applies with --out DIR (the benchmark report)")
    path = args.against if args.against is not None else default_golden_path()
    if not path.is_file():
        raise HwnasError(f"{path}: golden file not found (pass --against GOLDEN)")
    golden = load_suite(path)
    now = generate_suite(args.model, args.device, progress_factory(args.quiet))
    if args.model is not None or args.device is not None:
        golden = restrict_suite(golden, now["models"], now["devices"])
    changes = compare_suites(golden, now)
    failing = [c for c in changes if c.rel_change > args.tolerance]
    for c in changes:
        mark = "CHANGED" if c.rel_change > args.tolerance else "within tolerance"
        print(f"{c.model}\t{c.device}\t{c.field}\tgolden={c.golden!r}\tnow={c.now!r}\trel={c.rel_change:.6g}\t{mark}")
    n = sum(len(v) for v in now["results"].values())
    print(f"{n} entries compared with {path}: {len(changes)} changed fields, {len(failing)} beyond tolerance "
          f"{args.tolerance:g}", file=sys.stderr)
    if args.plot:
        _latency_plot(args.plot, now, changes, args.tolerance)
    return 1 if failing else 0


def _latency_plot(path: str, suite: dict[str, Any], changes: list[Any], tolerance: float) -> None:
    from hwsim.bench.latency_suite import plot_changes, plot_latency_heatmap

    if changes:
        plot_changes(path, changes, tolerance)
        return
    pairs = [(m, d) for m, per in suite["results"].items() for d in per]
    if len(pairs) == 1:
        from hwsim.devices import get_device
        from hwsim.plots import profile_breakdown
        from hwsim.zoo import get_model

        model, dev = pairs[0]
        profile_breakdown(path, get_device(dev).profile(get_model(model).build_ir()))
        return
    if not pairs:
        raise HwnasError("--plot: no (model, device) pair to draw (every pair is excluded)")
    plot_latency_heatmap(path, suite)
