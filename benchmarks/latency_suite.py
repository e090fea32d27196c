"""Regenerate or check the deterministic latency suite (every zoo model x every device preset).

    python benchmarks/latency_suite.py            # regenerate, compare with the golden file, print the changes
    python benchmarks/latency_suite.py --write    # regenerate benchmarks/golden/latency_suite.json (intended change)

The library lives in :mod:`hwsim.bench.latency_suite`; ``hwnas bench latency`` is the installed command.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from hwsim.bench.latency_suite import compare_suites, generate_suite, load_suite, write_suite

GOLDEN = Path(__file__).resolve().parent / "golden" / "latency_suite.json"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help=f"write the regenerated suite to {GOLDEN}")
    ap.add_argument("--golden", type=Path, default=GOLDEN, help="golden file (default: %(default)s)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    suite = generate_suite()
    elapsed = time.perf_counter() - t0
    n = sum(len(v) for v in suite["results"].values())
    print(f"generated {n} entries ({len(suite['excluded'])} excluded) in {elapsed:.2f} s")
    if args.write:
        write_suite(args.golden, suite)
        print(f"wrote {args.golden}")
        return 0
    changes = compare_suites(load_suite(args.golden), suite)
    for c in changes:
        print(f"{c.model} {c.device} {c.field}: golden={c.golden!r} now={c.now!r} rel={c.rel_change:.3g}")
    print(f"{len(changes)} changed fields against {args.golden}")
    return 1 if changes else 0


if __name__ == "__main__":
    sys.exit(main())
