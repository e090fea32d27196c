"""``--space nb201-auto`` on the shared NB201 tables: is the declared execution variant picked from 10 training archs?

For each of the 31 device columns of ``latency/nb201_help.csv`` and ``latency/nb201_nnmeter.csv`` and each training
seed, the 10 training archs are the ones ``hwnas calibrate fit --train 10 --seed S`` draws; the variant is chosen by
:func:`calibration.execution.choose_execution` (leave-one-out kernel-type error, ``roofline-reference`` LUT) and
compared with the column's declared execution (:func:`calibration.datasets.nb201_columns`). Prints the table for the
first seed (column, declared, picked, leave-one-out MAPE per variant) and the count per seed.
Target (issue 14): >= 28 of 31 columns (seed 0, the CLI default).

``--out DIR`` writes ``DIR/nb201_execution_detection.json``.

Usage: python benchmarks/nb201_execution_detection.py [--seeds 10] [--train 10] [--lut-device roofline-reference]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from calibration.datasets import load_nb201_latency, nb201_columns
from calibration.execution import choose_execution
from hwsim.devices import get_device
from hwsim.fileio import shared_data_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(shared_data_dir()))
    ap.add_argument("--seeds", type=int, default=10, help="training seeds 0..N-1")
    ap.add_argument("--train", type=int, default=10)
    ap.add_argument("--lut-device", default="roofline-reference", help="LUT device preset, or 'unit'")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    lat = Path(args.data) / "latency"
    if not lat.is_dir():
        print(f"shared data not found at {lat}; set HWNAS_SHARED_DATA", file=sys.stderr)
        return 2
    dev = None if args.lut_device == "unit" else get_device(args.lut_device)
    t0 = time.perf_counter()
    hits = np.zeros(args.seeds, dtype=int)
    rows = []
    print(f"--train {args.train}, LUT device {args.lut_device}; table for seed 0")
    print(f"{'column':28s} {'declared':12s} {'picked':12s} {'LOO MAPE pruned / unpruned / zero-folded':>42s}")
    for fname in ("nb201_help.csv", "nb201_nnmeter.csv"):
        for col in nb201_columns(lat / fname):
            ms = load_nb201_latency(lat / fname, col.name).measurements
            picks = []
            for seed in range(args.seeds):
                train = np.random.default_rng(seed).permutation(len(ms))[:args.train]
                ch = choose_execution([ms[int(i)].arch for i in train], ms.latencies_ms[train], dev)
                picks.append(ch.execution)
                hits[seed] += ch.execution == col.execution
                if seed == 0:
                    errs = " / ".join(f"{v:6.2f}%" for _, v in ch.loo_mape)
                    print(f"{col.name:28s} {col.execution:12s} {ch.execution:12s} {errs:>42s}"
                          f"{'' if ch.execution == col.execution else '  MISS'}", flush=True)
            rows.append({"file": fname, "column": col.name, "declared": col.execution, "picked": picks})
    n = len(rows)
    print(f"declared variant picked, per seed 0..{args.seeds - 1}: {', '.join(map(str, hits))} of {n} columns "
          f"(mean {hits.mean():.1f}, min {hits.min()}); target >= 28 at seed 0: "
          f"{'met' if hits[0] >= 28 else 'NOT met'}  ({time.perf_counter() - t0:.0f} s)")
    if args.out is not None:
        from hwsim.bench.results import Headline, write_result

        head = [Headline("columns with the declared variant picked, seed 0", float(hits[0]), ">=", 28.0),
                Headline("mean over seeds", float(hits.mean()))]
        write_result(args.out, "nb201_execution_detection", head,
                     {"rows": rows, "hits_per_seed": hits.tolist(), "train": args.train, "lut_device": args.lut_device})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
