"""``hwnas profile-space`` (BBSSP profiling) and ``hwnas search`` (latency-aware search).

``hwnas profile-space`` with no options profiles the CIFAR variants of the Res, Mobile (MobileNetV2 form, as the
authors measured it) and VGG families on the simulated ``dpu-b4096-zcu102`` with zero-cost proxies into
``./bbssp-profile``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from hwsim.errors import HwnasError
from nas.cost import CostParams
from nas.evaluators.base import Evaluator
from nas.evaluators.datasets import DATASETS, DatasetSpec
from nas.executors import make_executor

FAMILY_SHORT = ("res", "mobile", "mobilev2", "vgg")
DEFAULT_DEVICE = "dpu-b4096-zcu102"


def _progress(quiet: bool) -> Any:
    from hwsim.progress import progress_factory

    return progress_factory(quiet)


def family_spaces(families: str, backbone: str) -> tuple[str, ...]:
    """``res,mobile,vgg`` -> ``bbssp-res-cifar, ...``; full space names pass through."""
    out = []
    for f in (x.strip() for x in families.split(",")):
        if not f:
            continue
        if f in FAMILY_SHORT:
            out.append(f"bbssp-{f}" + ("-cifar" if backbone == "cifar" else ""))
        elif f.startswith("bbssp-") or f.endswith(".toml"):
            out.append(f)
        else:
            raise HwnasError(f"--families: unknown family {f!r}; expected {', '.join(FAMILY_SHORT)} or a space name")
    if not out:
        raise HwnasError("--families: empty list")
    return tuple(out)


def _add_evaluator_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("accuracy evaluator")
    g.add_argument("--evaluator", choices=("zero-cost", "train", "table"), default="zero-cost",
                   help="zero-cost proxies (default), short training, or a CSV of accuracies")
    g.add_argument("--dataset", choices=DATASETS, default=None,
                   help="data for train/zero-cost (default: synthetic for zero-cost, digits for train)")
    g.add_argument("--data-dir", default=None, help="CIFAR-10 python-pickle directory (--dataset cifar10)")
    g.add_argument("--input-size", type=int, default=None,
                   help="image side for the evaluator (default: the space's input size)")
    g.add_argument("--max-train", type=int, default=None, help="cap on training images")
    g.add_argument("--max-test", type=int, default=None, help="cap on test images")
    g.add_argument("--proxies", default="naswot,synflow,grad_norm", help="zero-cost proxies (comma list)")
    g.add_argument("--batch-size", type=int, default=None, help="batch size (default 16 zero-cost, 64 train)")
    g.add_argument("--train-budget", default="2ep", help="SSBN_0 training: e.g. 2ep or 300steps")
    g.add_argument("--finetune-budget", default="40steps", help="fine-tuning of the other SSBNs")
    g.add_argument("--table", default=None, help="CSV with arch,accuracy columns (--evaluator table)")


def make_evaluator(args: argparse.Namespace, input_size: int) -> Evaluator:
    from nas.evaluators.table import TableEvaluator
    from nas.evaluators.train import Budget, TrainEvaluator
    from nas.evaluators.zero_cost import ZeroCostEvaluator

    from nas.evaluators.datasets import check_cifar10_dir

    size = args.input_size or input_size
    if args.dataset == "cifar10":
        if not args.data_dir:
            raise HwnasError("--dataset cifar10 needs --data-dir DIR (data_batch_1..5, test_batch, batches.meta)")
        check_cifar10_dir(args.data_dir)
    if args.evaluator == "table":
        if not args.table:
            raise HwnasError("--evaluator table needs --table FILE.csv")
        return TableEvaluator(args.table)
    if args.evaluator == "zero-cost":
        ds = DatasetSpec(args.dataset or "synthetic", size, args.data_dir, args.max_train, args.max_test,
                         num_samples=256)
        return ZeroCostEvaluator(ds, tuple(p.strip() for p in args.proxies.split(",") if p.strip()),
                                 args.batch_size or 16)
    ds = DatasetSpec(args.dataset or "digits", size, args.data_dir, args.max_train, args.max_test)
    return TrainEvaluator(ds, Budget.parse(args.train_budget), Budget.parse(args.finetune_budget),
                          args.batch_size or 64)


def _add_exec_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("execution")
    g.add_argument("--executor", choices=("local", "ray"), default="local")
    g.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray instance)")
    g.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--quiet", action="store_true", help="no progress bars")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("profile-space", help="BBSSP search-space profiling on a device",
                              description="Profile BBSSP block families on a device: SSBN latency and accuracy, "
                              "cost, winning family, tuned space and layer-adaptive LUT. With no options: the CIFAR "
                              f"Res/Mobile/VGG families on {DEFAULT_DEVICE} with zero-cost proxies.")
    p.add_argument("--device", default=DEFAULT_DEVICE, help=f"preset name or .toml (default {DEFAULT_DEVICE})")
    p.add_argument("--families", default="res,mobilev2,vgg",
                   help="comma list of res, mobile, mobilev2, vgg (default: the paper's measured families; mobilev2 is the "
                        "depthwise MobileNetV2 form of its Mobile blocks)")
    p.add_argument("--backbone", choices=("cifar", "imagenet"), default="cifar",
                   help="CIFAR (32 px, 10 layers; default) or ImageNet (224 px, 12 layers) backbone")
    p.add_argument("--out", default="bbssp-profile", help="profile directory (default ./bbssp-profile)")
    g = p.add_argument_group("cost C = exp(-(A - theta)/sigma) - lambda/T")
    g.add_argument("--theta", type=float, default=0.80)
    g.add_argument("--sigma", type=float, default=2.0)
    g.add_argument("--lam", "--lambda", dest="lam", type=float, default=0.01)
    g.add_argument("--proxy-spread", type=float, default=0.025,
                   help="zero-cost evaluator: accuracy span (fraction) the proxy ranks map onto (default 0.025)")
    g.add_argument("--k", type=int, default=60, help="entries the winning family must collect (default 60)")
    g.add_argument("--no-plots", action="store_true")
    _add_evaluator_args(p)
    _add_exec_args(p)
    p.set_defaults(func=_profile)

    s = subparsers.add_parser("search", help="latency-aware architecture search in a (tuned) space",
                              description="Evolutionary or FBNet-style differentiable search with a layer-adaptive "
                              "LUT latency model; the found archs are re-simulated end to end on the device.")
    s.add_argument("--space", default=None, help="space name (or .toml); default: the tuned space of --profile")
    s.add_argument("--profile", default=None, help="profile directory from profile-space (tuned space + LUT)")
    s.add_argument("--full", action="store_true", help="with --profile: search the winner's full space")
    s.add_argument("--device", default=None, help="device (default: the profile's, else " + DEFAULT_DEVICE + ")")
    s.add_argument("--method", choices=("evolution", "differentiable"), default="evolution")
    s.add_argument("--budget", type=int, default=60, help="evolution: architectures evaluated (default 60)")
    s.add_argument("--population", type=int, default=16)
    s.add_argument("--latency-limit", type=float, default=None, help="evolution: max predicted latency (ms)")
    s.add_argument("--epochs", type=int, default=4, help="differentiable: supernet epochs")
    s.add_argument("--steps-per-epoch", type=int, default=0, help="differentiable: cap on steps per epoch (0: full)")
    s.add_argument("--alpha", type=float, default=0.2)
    s.add_argument("--beta", type=float, default=0.6)
    s.add_argument("--loss", choices=("power", "log"), default="power",
                   help="CE*alpha*LAT^beta (power) or CE*alpha*log(LAT)^beta (log, FBNet)")
    s.add_argument("--out", default="bbssp-search", help="output directory (search.json, pareto.png)")
    s.add_argument("--plot", metavar="FILE.png", help="also write the Pareto-front figure (pareto.png) here")
    _add_evaluator_args(s)
    _add_exec_args(s)
    s.set_defaults(func=_search)


def _profile(args: argparse.Namespace) -> int:
    from nas.profiling import ProfileConfig, profile_spaces
    from spaces.registry import get_space

    spaces = family_spaces(args.families, args.backbone)
    size = get_space(spaces[0]).model.input_size
    evaluator = make_evaluator(args, size)
    cost = CostParams(args.theta, args.sigma, args.lam, args.k, args.proxy_spread)
    cfg = ProfileConfig(spaces, args.device, evaluator, cost, args.seed)
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    executor = make_executor(args.executor, workers, args.address)
    result = profile_spaces(cfg, args.out, executor, _progress(args.quiet), plots=not args.no_plots)
    s = result.summary
    print(f"winner {s['winner']}: candidates per layer {','.join(map(str, s['candidate_counts']))}; "
          f"tuned space {s['tuned_space_size']:,} of {s['full_space_size']:,} archs")
    print(f"results in {Path(args.out) / 'summary.md'}")
    return 0


def _search(args: argparse.Namespace) -> int:
    from nas.search.run import run_search_cli

    summary = run_search_cli(args, make_evaluator, make_executor, _progress(args.quiet))
    print(json.dumps({k: summary[k] for k in ("space", "method", "best")}, indent=1))
    if args.plot:
        from hwsim.fileio import atomic_write_bytes

        atomic_write_bytes(args.plot, (Path(args.out) / "pareto.png").read_bytes())
    print(f"results in {Path(args.out) / 'search.json'}")
    return 0
