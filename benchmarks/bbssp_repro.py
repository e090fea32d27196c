"""BBSSP reproduction in direction (CPU, offline data): tuned vs hand-designed spaces on the simulated ZCU102 DPU.

1. Profile the CIFAR Res/Mobile/VGG families on ``dpu-b4096-zcu102`` (the ``hwnas profile-space`` default run:
   zero-cost proxies; pass ``--profile DIR`` to reuse a finished one) -> tuned space + layer-adaptive LUT.
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

    python benchmarks/bbssp_repro.py [--profile DIR] [--epochs 2] [--steps 8] [--final-steps 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
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
from spaces.bbssp_families import FAMILIES, bbssp_backbone
from spaces.backbone import layer_labels
from spaces.core import Choice, SearchSpace
from spaces.registry import get_space

DEVICE = "dpu-b4096-zcu102"
CIFAR_FAMILIES = ("bbssp-res-cifar", "bbssp-mobile-cifar", "bbssp-vgg-cifar")


def all_blocks_space() -> SearchSpace:
    """Every Res, Mobile and VGG block in every layer of the CIFAR backbone (typical: res0)."""
    blocks = FAMILIES["res"][0] + FAMILIES["mobile"][0] + FAMILIES["vgg"][0]
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
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    prof = Path(args.profile or tempfile.mkdtemp(prefix="bbssp_repro_"))
    ev0 = ZeroCostEvaluator(DatasetSpec("synthetic", 32, num_samples=256), ("naswot", "synflow", "grad_norm"), 16)
    res = profile_spaces(ProfileConfig(CIFAR_FAMILIES, DEVICE, ev0, CostParams()), prof, LocalExecutor(args.workers))
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
    for label, t in targets:
        t0 = time.perf_counter()
        s = run_differentiable(t, final, data, cfg, args.search_size)
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
    print(f"  average over untuned spaces: latency "
          f"{np.mean([r['latency_ms'] / tuned['latency_ms'] for r in others]):.2f}x (target >= 1.9x), accuracy "
          f"{100 * np.mean([tuned['accuracy'] - r['accuracy'] for r in others]):+.2f} pt (target >= -1), memory "
          f"{np.mean([r['mem_mib'] / tuned['mem_mib'] for r in others]):.2f}x (target >= 4x), epoch "
          f"{np.mean([r['epoch_s'] / tuned['epoch_s'] for r in others]):.2f}x (target >= 2.7x)")
    print(f"total {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
