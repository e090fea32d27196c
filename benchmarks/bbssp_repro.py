"""BBSSP reproduction in direction (CPU, offline data): tuned vs hand-designed spaces on the simulated ZCU102 DPU.

1. Profile the CIFAR Res/Mobile/VGG families on ``dpu-b4096-zcu102`` (Mobile in the depthwise MobileNetV2 form the
   authors measured) with the paper's accuracy evaluator: train SSBN_0 of each family (10 epochs of 16-px digits),
   fine-tune every other SSBN from its weights (30 steps); pass ``--profile DIR`` to reuse a finished one) -> tuned
   space + layer-adaptive LUT. ``--evaluator zero-cost`` uses the ``hwnas profile-space`` default instead (proxy
   ranks mapped onto a 2.5-point span): under a minute instead of about five, but ranks of training-free
   proxies, not accuracies (``bench --quick`` uses it).
2. Run the same FBNet-style differentiable search (same epochs, steps, batch, alpha/beta) in the tuned space and
   in the untuned spaces: each family's full space and the all-blocks space (31 blocks per layer, the paper's
   372-path baseline on 12 layers; 310 paths on the 10-layer CIFAR backbone). Each space's LUT comes from the
   same device (SSBN runs).
3. Train each searched arch from scratch with the same short budget on scikit-learn digits and re-simulate it
   end to end on the device.

Prints per space: searched arch, accuracy, end-to-end latency, supernet paths, training memory of one supernet
step (parameters x3 + saved activations) and seconds per epoch, then the ratios against the tuned space.
Paper averages (targets): >= 1.9x lower latency at <= 1% accuracy loss, >= 4x lower supernet memory, >= 2.7x
faster epochs.

``--out DIR`` also writes ``DIR/bbssp_repro.json`` and the figures: accuracy vs end-to-end latency of the searched
archs with their Pareto front, and the SSBN cost scatter and candidate heatmap of the profile (kept, resumable, in
``DIR/bbssp_repro_profile`` unless ``--profile`` names one).

    python benchmarks/bbssp_repro.py [--profile DIR] [--epochs 2] [--steps 8] [--final-steps 300] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from nas.cost import CostParams
from nas.evaluators.datasets import DatasetSpec, load_dataset
from nas.evaluators.train import Budget, TrainEvaluator
from nas.evaluators.zero_cost import ZeroCostEvaluator
from nas.executors import LocalExecutor
from nas.profiling import ProfileConfig, profile_spaces
from nas.search.differentiable import DifferentiableConfig
from nas.search.run import SearchTarget, run_differentiable, target_from_device, target_from_profile
from hwsim.bench.results import work_dir
from hwsim.progress import progress_factory, track
from spaces.bbssp_families import FAMILIES, bbssp_backbone
from spaces.backbone import layer_labels
from spaces.core import Choice, SearchSpace
from spaces.registry import get_space

DEVICE = "dpu-b4096-zcu102"
CIFAR_FAMILIES = ("bbssp-res-cifar", "bbssp-mobilev2-cifar", "bbssp-vgg-cifar")


def all_blocks_space() -> SearchSpace:
    """Every Res, Mobile (MobileNetV2 form) and VGG block in every layer of the CIFAR backbone (typical: res0)."""
    blocks = FAMILIES["res"][0] + FAMILIES["mobilev2"][0] + FAMILIES["vgg"][0]
    model = bbssp_backbone(cifar=True)
    labels = layer_labels(len(model.layers))
    return SearchSpace("bbssp-allblocks-cifar", tuple(Choice(lb, blocks) for lb in labels), model,
                       typical=("res0",) * len(labels), description="all 31 BBSSP blocks per layer (CIFAR)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=None, help="existing profile directory (default: profile now)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8, help="supernet steps per epoch")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--search-size", type=int, default=16, help="image side during the supernet search")
    ap.add_argument("--final-steps", type=int, default=300, help="training steps of each searched arch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--evaluator", choices=("train", "zero-cost"), default="train",
                    help="SSBN accuracy: the paper's train SSBN_0 + fine-tune the others (default, ~5 min on 2 cores) "
                         "or zero-cost proxies (~40 s; proxy ranks, not accuracies)")
    ap.add_argument("--ssbn0-epochs", type=int, default=10, help="train evaluator: epochs of SSBN_0")
    ap.add_argument("--finetune-steps", type=int, default=30, help="train evaluator: fine-tune steps per SSBN")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="write the JSON result and figures into this folder")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    progress = progress_factory(args.quiet)

    t_start = time.perf_counter()
    prof = work_dir(args.profile, args.out, "bbssp_repro_profile", "bbssp_repro_")
    if args.evaluator == "train":
        ev0 = TrainEvaluator(DatasetSpec("digits", args.search_size), Budget(epochs=args.ssbn0_epochs),
                             Budget(steps=args.finetune_steps), batch_size=64)
    else:
        ev0 = ZeroCostEvaluator(DatasetSpec("synthetic", 32, num_samples=256), ("naswot", "synflow", "grad_norm"), 16)
    res = profile_spaces(ProfileConfig(CIFAR_FAMILIES, DEVICE, ev0, CostParams()), prof, LocalExecutor(args.workers),
                         progress)
    print(f"profile: {prof} -- winner {res.selection.winner}, candidates "
          f"{','.join(map(str, res.selection.candidate_counts))} ({time.perf_counter() - t_start:.0f} s)")

    targets: list[tuple[str, SearchTarget]] = [("tuned", target_from_profile(prof))]
    for name in CIFAR_FAMILIES:
        targets.append((name, target_from_device(get_space(name), DEVICE)))
    targets.append(("all-blocks", target_from_device(all_blocks_space(), DEVICE)))

    data = load_dataset(DatasetSpec("digits", args.search_size))
    final = TrainEvaluator(DatasetSpec("digits", args.search_size), Budget(steps=args.final_steps),
                           Budget(steps=1), batch_size=64)
    cfg = DifferentiableConfig(args.epochs, args.batch, max_steps_per_epoch=args.steps, seed=args.seed)
    rows = []
    for label, t in track(targets, len(targets), "spaces searched", progress):
        t0 = time.perf_counter()
        s = run_differentiable(t, final, data, cfg, args.search_size, progress=progress)
        b = s["best"]
        row = {"space": label, "size": t.space.size(), "paths": s["supernet_paths"], "arch": b["arch"],
               "accuracy": b["accuracy"], "latency_ms": b["device_latency_ms"], "lut_ms": b["predicted_latency_ms"],
               "mem_mib": s["supernet_memory_bytes"]["training_total"] / 2**20,
               "epoch_s": float(np.mean([e["seconds"] for e in s["epochs"]])), "wall_s": time.perf_counter() - t0}
        rows.append(row)
        print(f"  searched {label:20s} in {row['wall_s']:.0f} s", flush=True)

    print()
    print(f"FBNet-style search, {args.epochs} epochs x {args.steps} steps (batch {args.batch}, {args.search_size} px "
          f"digits); searched archs trained {args.final_steps} steps; latency = end-to-end on simulated {DEVICE}")
    hdr = (f"{'space':20s} {'size':>9s} {'paths':>5s} {'accuracy':>8s} {'lat ms':>7s} {'LUT ms':>7s} "
           f"{'mem MiB':>8s} {'s/epoch':>8s}  arch")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(f"{r['space']:20s} {r['size']:9.2e} {r['paths']:5d} {r['accuracy']:8.4f} {r['latency_ms']:7.3f} "
              f"{r['lut_ms']:7.3f} {r['mem_mib']:8.1f} {r['epoch_s']:8.2f}  {r['arch']}")
    tuned = rows[0]
    print()
    print("ratios vs the tuned space (untuned / tuned; accuracy as tuned - untuned, points):")
    for r in rows[1:]:
        print(f"  {r['space']:20s} latency {r['latency_ms'] / tuned['latency_ms']:5.2f}x   accuracy "
              f"{100 * (tuned['accuracy'] - r['accuracy']):+6.2f} pt   supernet memory "
              f"{r['mem_mib'] / tuned['mem_mib']:5.2f}x   epoch time {r['epoch_s'] / tuned['epoch_s']:5.2f}x")
    others = rows[1:]
    avg = {"latency_x": float(np.mean([r['latency_ms'] / tuned['latency_ms'] for r in others])),
           "accuracy_pt": float(100 * np.mean([tuned['accuracy'] - r['accuracy'] for r in others])),
           "memory_x": float(np.mean([r['mem_mib'] / tuned['mem_mib'] for r in others])),
           "epoch_x": float(np.mean([r['epoch_s'] / tuned['epoch_s'] for r in others]))}
    print(f"  average over untuned spaces: latency {avg['latency_x']:.2f}x (target >= 1.9x), accuracy "
          f"{avg['accuracy_pt']:+.2f} pt (target >= -1), memory {avg['memory_x']:.2f}x (target >= 4x), epoch "
          f"{avg['epoch_x']:.2f}x (target >= 2.7x)")
    print(f"total {time.perf_counter() - t_start:.0f} s")
    if args.out is not None:
        write_outputs(args.out, res, rows, avg, vars(args) | {"out": str(args.out), "profile": str(prof)})
    return 0


def write_outputs(out: Path, res, rows: list[dict], avg: dict, config: dict) -> None:
    """JSON result (headline: the paper's four average ratios) and figures (Pareto front of the searched archs,
    SSBN cost scatter, candidate heatmap)."""
    from hwsim.bench.results import Headline, write_result
    from hwsim.plots import pareto_front as pareto_plot
    from nas.plots import candidate_heatmap, cost_scatter
    from nas.search.pareto import pareto_front

    points = [(r["latency_ms"], r["accuracy"], r["space"]) for r in rows]
    front = pareto_front([p[0] for p in points], [p[1] for p in points])
    figs = [pareto_plot(out / "bbssp_repro_pareto.png", points, front,
                        f"searched archs: accuracy (digits, {config['final_steps']} steps) vs end-to-end latency on "
                        f"simulated {DEVICE}, one FBNet-style search per space",
                        xlabel=f"end-to-end latency on {DEVICE} (ms)", ylabel="accuracy (digits test set)")]
    figs.append(out / "bbssp_repro_cost_scatter.png")
    cost_scatter(res, figs[-1])
    figs.append(out / "bbssp_repro_candidates.png")
    candidate_heatmap(res, figs[-1])
    headline = [Headline("untuned / tuned latency (average)", avg["latency_x"], ">=", 1.9, "x"),
                Headline("tuned - untuned accuracy (average)", avg["accuracy_pt"], ">=", -1.0, " pt"),
                Headline("untuned / tuned supernet memory (average)", avg["memory_x"], ">=", 4.0, "x"),
                Headline("untuned / tuned epoch time (average)", avg["epoch_x"], ">=", 2.7, "x")]
    write_result(out, "bbssp_repro", headline, {"config": config, "winner": res.selection.winner,
                                                 "candidate_counts": list(res.selection.candidate_counts),
                                                 "rows": rows, "averages": avg}, figs)


if __name__ == "__main__":
    sys.exit(main())
