"""Vectorised latency prediction (calibration.batch) against the per-arch path, side by side.

Per space (NB201 in its three execution variants, FBNet, ProxylessNAS, a BBSSP family) and predictor (the
``roofline-reference`` LUT sum; affine, kernel-type, residual and auto correctors fitted on 10 archs whose
"measured" latency is the device's end-to-end run; the BBSSP layer-adaptive LUT on its space): time
``BatchPredictor.predict_codes`` on ``--n`` seeded random archs (best of ``--repeat``; codes column-major as
``encode`` returns them, and the same codes row-major; the first call, which for
NB201 tabulates all 15,625 cells, is printed apart) and the per-arch path (build each arch's workload, then
``predict_workloads``; BBSSP: the one-arch-at-a-time ``lut_sums_naive``) on ``--per-arch`` archs; print archs/s of both, their ratio, and the largest relative
difference of the two on the per-arch sample. Target: >= 1e6 archs/s for NB201 and FBNet. On a simulated device the
residual model has little to learn (few tree splits); with the shared data present, FBNet also gets a residual model
fitted on 10 measured archs of a HELP column (``--real-column``), whose trees split on many features.

``--out DIR`` writes ``DIR/batch_latency.json`` (headline: archs/s per space for kernel-type, the default corrector).

Usage: python benchmarks/batch_latency.py [--n 1000000] [--per-arch 100] [--repeat 5] [--seed 0] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from calibration.batch import arch_layout, batch_predictor, layout_lut
from calibration.correctors import TableSource, make_corrector
from calibration.workloads import get_space
from hwsim.devices import get_device

SPACES = ("nb201", "nb201-unpruned", "nb201-zero-folded", "fbnet", "proxyless", "bbssp-res-cifar")
METHODS = ("lut", "affine", "kernel-type", "residual", "auto")
TARGET = 1e6


def _per_arch(predictor: Any, space: Any, archs: list[Any]) -> np.ndarray:
    nets = [space.to_workload(a) for a in archs]
    if hasattr(predictor, "predict_workloads"):
        return np.asarray(predictor.predict_workloads(nets))
    return np.asarray(predictor.predict(nets))


def _bench_space(name: str, device: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    space = get_space(name)
    rng = np.random.default_rng(args.seed)
    lay = arch_layout(space)
    lut = layout_lut(device, lay)
    train = [space.sample(rng) for _ in range(10)]
    y = np.array([device.run(space.to_workload(a)).latency_ms for a in train])
    sample = [space.sample(rng) for _ in range(args.per_arch)]
    codes = np.array([rng.integers(0, k, args.n) for k in lay.n_candidates]).T  # column-major, as encode() gives
    codes_c = np.ascontiguousarray(codes)  # the same archs row-major
    predictors: list[tuple[str, Any]] = [("lut", lut)]
    for m in METHODS[1:]:
        predictors.append((m, make_corrector(m, lut, TableSource(device=device), seed=args.seed)
                           .fit_workloads([space.to_workload(a) for a in train], y)))
    real = _real_fbnet(space, args) if name == "fbnet" else None
    if real is not None:
        nets_r, y_r, col = real
        predictors.append((f"residual[{col}]", make_corrector("residual", lut, TableSource(device=device),
                                                              seed=args.seed).fit_workloads(nets_r, y_r)))
    if name.startswith("bbssp"):
        from calibration.bbssp import BBSSPLut

        predictors.append(("bbssp", BBSSPLut.from_device(space, device).fit(
            [_measurement(space, a, t) for a, t in zip(train, y)])))
    rows = []
    for method, pred in predictors:
        t0 = time.perf_counter()
        bp = batch_predictor(pred, space)
        bind_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        bp.predict_codes(codes[:1])
        first_s = time.perf_counter() - t0
        best = best_c = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            a = bp.predict_codes(codes)
            t1 = time.perf_counter()
            b = bp.predict_codes(codes_c)
            best, best_c = min(best, t1 - t0), min(best_c, time.perf_counter() - t1)
            assert np.array_equal(a, b)
        t0 = time.perf_counter()
        want = (pred.scale * pred.lut_sums_naive(sample) + pred.offset_ms if method == "bbssp"
                else _per_arch(pred, space, sample))
        slow_s = time.perf_counter() - t0
        got = bp.predict(sample)
        rel = float(np.max(np.abs(got / want - 1)))
        fast, fast_c, slow = args.n / best, args.n / best_c, len(sample) / slow_s
        chosen = getattr(getattr(pred, "chosen", None), "method", "")
        label = f"{method} ({chosen})" if chosen else method
        print(f"{name:18s} {label:24s} batch {fast:12,.0f} archs/s (row-major codes {fast_c:11,.0f})  "
              f"per-arch {slow:9,.1f} archs/s  "
              f"ratio {fast / slow:12,.0f}x  max rel diff {rel:.1e}  (bind {bind_s:.2f} s, first call "
              f"{first_s:.3f} s){'' if fast >= TARGET else '  < 1e6'}", flush=True)
        rows.append({"space": name, "method": method, "chosen": chosen or None, "batch_archs_per_s": fast, "batch_row_major_archs_per_s": fast_c,
                     "per_arch_archs_per_s": slow, "ratio": fast / slow, "max_rel_diff": rel, "bind_s": bind_s,
                     "first_call_s": first_s, "n": args.n, "n_per_arch": len(sample)})
    return rows


def _real_fbnet(space: Any, args: argparse.Namespace) -> tuple[list[Any], np.ndarray, str] | None:
    """10 seeded archs of a measured HELP FBNet column (shared data), for a residual model with real splits."""
    from hwsim.fileio import shared_data_dir

    path = Path(shared_data_dir()) / "latency" / "fbnet_help.csv"
    if not path.is_file():
        return None
    from calibration.datasets import load_fbnet_help

    ms = load_fbnet_help(path, args.real_column).measurements
    idx = np.random.default_rng(args.seed).permutation(len(ms))[:10]
    return ([space.to_workload(space.parse(ms[int(i)].arch)) for i in idx], ms.latencies_ms[idx], args.real_column)


def _measurement(space: Any, arch: Any, ms: float) -> Any:
    from calibration.measurements import Measurement

    return Measurement(id=space.format(arch), device="sim", latency_ms=float(ms), space=space.name,
                       arch=space.format(arch))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="archs per batch timing")
    ap.add_argument("--per-arch", type=int, default=100, help="archs timed on the per-arch path")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spaces", default=",".join(SPACES))
    ap.add_argument("--device", default="roofline-reference", help="LUT device preset")
    ap.add_argument("--real-column", default="pixel2",
                    help="fbnet_help.csv column whose 10 measured archs also fit a residual model (shared data)")
    ap.add_argument("--out", type=Path, default=None, help="write DIR/batch_latency.json")
    args = ap.parse_args(argv)
    device = get_device(args.device)
    print(f"LUT device {args.device}; batch of {args.n:,} seeded random archs (best of {args.repeat}); per-arch "
          f"path on {args.per_arch} archs (workload build + predict); cpus {os.cpu_count()}, load "
          f"{os.getloadavg()[0]:.1f}")
    rows = []
    for name in args.spaces.split(","):
        rows += _bench_space(name, device, args)
    kt = {r["space"]: r["batch_archs_per_s"] for r in rows if r["method"] == "kernel-type"}
    worst = {}
    for r in rows:
        s = r["space"].split("-")[0] if r["space"].startswith("nb201") else r["space"]
        worst[s] = min(worst.get(s, float("inf")), r["batch_archs_per_s"])
    print("slowest predictor per space: " + ", ".join(f"{s} {v:,.0f} archs/s" for s, v in worst.items()))
    if args.out is not None:
        from hwsim.bench.results import Headline, write_result

        head = [Headline(f"{s} kernel-type batch archs/s", kt[s], ">=", TARGET) for s in kt
                if s.startswith("nb201") or s.startswith("fbnet")]
        head += [Headline(f"{s} kernel-type speed ratio vs per-arch",
                          next(r["ratio"] for r in rows if r["space"] == s and r["method"] == "kernel-type"),
                          unit="x") for s in kt if s in ("nb201", "fbnet")]
        write_result(args.out, "batch_latency", head, {"rows": rows, "device": args.device})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
