"""Calibrate a latency LUT against this machine's CPU (a real board) and report held-out accuracy.

For each space: 30 seeded random archs are built as torch modules and timed end to end on the CPU (1 thread,
warm-up). This machine is shared (2 cores, several users), so timing is interleaved -- ``--rounds`` passes over
all networks, a few runs each -- the clock is the calling thread's CPU time (valid with one intra-op thread;
it excludes time spent descheduled by other users' processes) and the latency is the minimum over all runs
(contention only adds time; the minimum is the most repeatable statistic here). A device-model LUT is *measured* too: every distinct layer
configuration is timed alone (:class:`calibration.boards.torch_local.TorchLocalDevice`, minimum statistic). Correctors are fitted on 10 networks and
evaluated on the other 20 (target: MAPE <= 10%). The plain LUT sum (no correction) and the repeatability of the
board (the 20 test networks timed a second time, MAPE of run 2 against run 1) are printed beside it.

``--out DIR`` also writes ``DIR/calibration_local_cpu.json`` and ``calibration_local_cpu_scatter.png`` (predicted
vs measured latency of the test networks per space, best corrector).

Usage: python benchmarks/calibration_local_cpu.py [--spaces nb201,bbssp-res-cifar] [--rounds 5] [--seed 0] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from calibration.boards.torch_local import TorchLocalDevice, measure_module
from calibration.correctors import TableSource, make_corrector
from calibration.lut import build_lut
from calibration.metrics import accuracy
from calibration.workloads import get_space
from hwsim.progress import ProgressFactory, progress_factory, track


def time_interleaved(modules: list, shape: tuple[int, ...], rounds: int, repeats: int, seed: int,
                     progress: ProgressFactory | None = None) -> np.ndarray:
    """Minimum latency (ms) per module over ``rounds`` interleaved passes of ``repeats`` runs each."""
    best = np.full(len(modules), np.inf)
    steps = ((r, i, m) for r in range(rounds) for i, m in enumerate(modules))
    for r, i, m in track(steps, rounds * len(modules), "timing networks", progress):
        st = measure_module(m, shape, threads=1, warmup=2 if r == 0 else 1, repeats=repeats, seed=seed,
                            clock="thread_cpu")
        best[i] = min(best[i], st.min_ms)
    return best


def run_space(name: str, n_train: int, n_test: int, repeats: int, rounds: int, seed: int,
              input_size: int | None, progress: ProgressFactory | None = None) -> dict:
    space = get_space(name)
    rng = np.random.default_rng(seed)
    archs, seen = [], set()
    while len(archs) < n_train + n_test:
        a = space.sample(rng)
        s = space.format(a)
        if s not in seen:
            seen.add(s)
            archs.append(a)
    nets = [space.to_workload(a, input_size=input_size) for a in archs]
    shape = nets[0].inputs[0][1]
    modules = [space.to_torch(a, input_size=input_size) for a in archs]
    t0 = time.perf_counter()
    y = time_interleaved(modules, shape, rounds, repeats, seed, progress)
    t_meas = time.perf_counter() - t0
    t0 = time.perf_counter()
    board = TorchLocalDevice("cpu", threads=1, warmup=3, repeats=15, seed=seed, statistic="min", clock="thread_cpu")
    lut = build_lut(board, nets, progress=progress)
    t_lut = time.perf_counter() - t0
    y2 = time_interleaved(modules[n_train:], shape, rounds, repeats, seed, progress)
    tr, te = slice(0, n_train), slice(n_train, None)
    print(f"\n== space {name} (input {shape}), {n_train} train / {n_test} test networks, "
          f"end-to-end {y.min():.2f}..{y.max():.2f} ms; timing {t_meas:.0f} s, LUT of {len(lut)} layer configs "
          f"measured in {t_lut:.0f} s")
    raw = accuracy(lut.predict(nets[te]), y[te], 0)
    print(f"  LUT sum, uncorrected        : {raw.to_text()}")
    methods = {}
    for method in ("affine", "kernel-type", "residual"):
        cor = make_corrector(method, lut, TableSource(device=board), seed=seed).fit_workloads(nets[tr], y[tr])
        pred = cor.predict_workloads(nets[te])
        rep = accuracy(pred, y[te], n_train)
        methods[method] = {**rep.to_dict(), "predicted_ms": pred}
        flag = "  <= 10% target met" if rep.mape <= 10 else "  (above the 10% target)"
        print(f"  {method:12s} corrector     : {rep.to_text()}{flag}")
    noise = accuracy(y2, y[te], 0)
    print(f"  board repeatability (run 2 vs run 1 of the test networks): MAPE {noise.mape:.2f}%  "
          f"+-10% {100 * noise.within_10pct:.1f}%")
    return {"space": name, "input_shape": list(shape), "n_train": n_train, "n_test": n_test,
            "measured_test_ms": y[te], "lut_sum": raw.to_dict(), "lut_sum_test_ms": lut.predict(nets[te]),
            "methods": methods, "repeatability_mape": noise.mape, "timing_s": t_meas, "lut_s": t_lut,
            "lut_configs": len(lut)}


def write_outputs(out: Path, spaces: list[dict]) -> None:
    """JSON result (headline: best corrector's MAPE per space, target <= 10%) and the scatter figure."""
    from hwsim import plots
    from hwsim.bench.results import Headline, write_result

    fig, axes = plots.new_figure(1, len(spaces), width=max(6.4, 5.4 * len(spaces)), height=5.2)
    headline = []
    for ax, sp in zip(axes[0], spaces):
        best = min(sp["methods"], key=lambda k: sp["methods"][k]["mape"])
        m = sp["methods"][best]
        plots.predicted_vs_measured_ax(
            ax, {f"{best} corrector (MAPE {m['mape']:.1f}%)": (m["predicted_ms"], sp["measured_test_ms"]),
                 f"LUT sum, uncorrected (MAPE {sp['lut_sum']['mape']:.1f}%)": (sp["lut_sum_test_ms"],
                                                                            sp["measured_test_ms"])},
            f"{sp['space']}: {sp['n_test']} held-out networks, fitted on {sp['n_train']}")
        headline += [Headline(f"{sp['space']}: best corrector ({best}) held-out MAPE", m["mape"], "<=", 10.0, "%"),
                     Headline(f"{sp['space']}: board repeatability MAPE (noise floor)", sp["repeatability_mape"],
                              unit="%")]
    plots.set_suptitle(fig, "calibration against this machine's CPU (1 thread)")
    path = plots.save_png(fig, out / "calibration_local_cpu_scatter.png")
    write_result(out, "calibration_local_cpu", headline, {"spaces": spaces}, [path])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spaces", default="nb201,bbssp-res-cifar")
    ap.add_argument("--train", type=int, default=10)
    ap.add_argument("--test", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per network per round")
    ap.add_argument("--rounds", type=int, default=8, help="interleaved passes over all networks")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--input-size", type=int, default=None, help="override the spaces' input size (pixels)")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON result and figure into this folder")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    import torch

    print(f"torch {torch.__version__}, 1 intra-op thread (restored after), CPU threads available "
          f"{torch.get_num_threads()}")
    t0 = time.perf_counter()
    spaces = [run_space(name.strip(), args.train, args.test, args.repeats, args.rounds, args.seed, args.input_size,
                        progress_factory(args.quiet)) for name in args.spaces.split(",")]
    print(f"\ntotal time {time.perf_counter() - t0:.0f} s")
    if args.out is not None:
        write_outputs(args.out, spaces)
    return 0


if __name__ == "__main__":
    sys.exit(main())
