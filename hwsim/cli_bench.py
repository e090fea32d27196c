"""``hwnas bench latency``: regenerate the deterministic latency suite and compare it with a golden file.

Prints one line per changed field (model, device, field, golden, now, relative change) and exits 1 when any
change exceeds ``--tolerance`` (relative; default 0 = bit-exact), 0 otherwise. A structural change (an entry,
kernel or exclusion that appears or disappears, a renamed kernel) always counts. A bad golden file is a
one-line error (exit 2). ``--model`` / ``--device`` restrict both sides to a subset of the pairs.
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
from hwsim.errors import HwnasError


def _tolerance(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--tolerance must be a number, got {text!r}") from None
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"--tolerance must be a finite number >= 0, got {text!r}")
    return v


def register(subparsers: Any) -> None:
    """Add ``bench`` with its ``latency`` subcommand."""
    bench = subparsers.add_parser("bench", help="deterministic benchmark suites against golden files")
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
    lat.set_defaults(func=_run_latency)
    bench.set_defaults(func=lambda args: bench.print_help() or 2)


def _run_latency(args: argparse.Namespace) -> int:
    path = args.against if args.against is not None else default_golden_path()
    if not path.is_file():
        raise HwnasError(f"{path}: golden file not found (pass --against GOLDEN)")
    golden = load_suite(path)
    now = generate_suite(args.model, args.device)
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
    return 1 if failing else 0
