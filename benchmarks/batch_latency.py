"""Vectorised latency prediction (calibration.batch) against the per-arch path, side by side.

Per space (NB201 in its three execution variants, FBNet, ProxylessNAS, a BBSSP family) and predictor (the
``roofline-reference`` LUT sum; affine, kernel-type, residual and auto correctors fitted on 10 archs whose
"measured" latency is the device's end-to-end run; the BBSSP layer-adaptive LUT on its space): time
``BatchPredictor.predict_codes`` on ``--n`` seeded random archs (best of ``--repeat``; the first call, which for
NB201 tabulates all 15,625 cells, is printed apart) and the per-arch path (build each arch's workload, then
``predict_workloads``; BBSSP: the one-arch-at-a-time ``lut_sums_naive``) on ``--per-arch`` archs; print archs/s of both, their ratio, and the largest relative
difference of the two on the per-arch sample. Target: >= 1e6 archs/s for NB201 and FBNet.

``--out DIR`` writes ``DIR/batch_latency.json`` (headline: archs/s per space for kernel-type, the default corrector).

Usage: python benchmarks/batch_latency.py [--n 1000000] [--per-arch 300] [--repeat 5] [--seed 0] [--out DIR]
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
    codes = np.stack([rng.integers(0, k, args.n) for k in lay.n_candidates], axis=1)
    predictors: list[tuple[str, Any]] = [("lut", lut)]
    for m in METHODS[1:]:
        predictors.append((m, make_corrector(m, lut, TableSource(device=device), seed=args.seed)
                           .fit_workloads([space.to_workload(a) for a in train], y)))
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
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            bp.predict_codes(codes)
            best = min(best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        want = (pred.scale * pred.lut_sums_naive(sample) + pred.offset_ms if method == "bbssp"
                else _per_arch(pred, space, sample))
        slow_s = time.perf_counter() - t0
        got = bp.predict(sample)
        rel = float(np.max(np.abs(got / want - 1)))
        fast, slow = args.n / best, len(sample) / slow_s
        chosen = getattr(getattr(pred, "chosen", None), "method", "")
        label = f"{method} ({chosen})" if chosen else method
        print(f"{name:18s} {label:24s} batch {fast:14,.0f} archs/s  per-arch {slow:9,.1f} archs/s  "
              f"ratio {fast / slow:12,.0f}x  max rel diff {rel:.1e}  (bind {bind_s:.2f} s, first call "
              f"{first_s:.3f} s){'' if fast >= TARGET else '  < 1e6'}", flush=True)
        rows.append({"space": name, "method": method, "chosen": chosen or None, "batch_archs_per_s": fast,
                     "per_arch_archs_per_s": slow, "ratio": fast / slow, "max_rel_diff": rel, "bind_s": bind_s,
                     "first_call_s": first_s, "n": args.n, "n_per_arch": len(sample)})
    return rows


def _measurement(space: Any, arch: Any, ms: float) -> Any:
    from calibration.measurements import Measurement

    return Measurement(id=space.format(arch), device="sim", latency_ms=float(ms), space=space.name,
                       arch=space.format(arch))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="archs per batch timing")
    ap.add_argument("--per-arch", type=int, default=300, help="archs timed on the per-arch path")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spaces", default=",".join(SPACES))
    ap.add_argument("--device", default="roofline-reference", help="LUT device preset")
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
