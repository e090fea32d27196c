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
from nas.search.differentiable import SearchError
from nas.search.run import METHODS

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
    g.add_argument("--table", default=None, metavar="F.csv",
                   help="accuracy CSV keyed by arch/arch_str (--evaluator table), e.g. accuracy/nb201_accuracy.csv")
    g.add_argument("--table-column", default=None,
                   help="accuracy column of --table (e.g. cifar100_test_acc); default: accuracy or accuracy_percent")
    g.add_argument("--table-scale", choices=("auto", "percent", "fraction"), default="auto",
                   help="unit of --table-column; auto: percent when its largest value exceeds 1 (default)")


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
        return TableEvaluator(args.table, args.table_column, args.table_scale)
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
    p.add_argument("--space", default=None,
                   help="profile one space instead of --families, e.g. nb201 (cell space: SSBN_0 = --typical and every "
                        "single-edge replacement)")
    p.add_argument("--typical", default=None, metavar="ARCH",
                   help="with --space: SSBN_0's arch string (NB201 default: every edge nor_conv_3x3)")
    p.add_argument("--latency-model", default=None, metavar="CORR.json",
                   help="with --space: SSBN latencies from a corrector saved by `hwnas calibrate fit --save`")
    p.add_argument("--latency-table", default=None, metavar="F.csv",
                   help="with --space: SSBN latencies from a measured table (with --latency-column)")
    p.add_argument("--latency-column", default=None, help="device column of --latency-table")
    p.add_argument("--backbone", choices=("cifar", "imagenet"), default="cifar",
                   help="CIFAR (32 px, 10 layers; default) or ImageNet (224 px, 12 layers) backbone")
    p.add_argument("--out", default="bbssp-profile", help="profile directory (default ./bbssp-profile)")
    g = p.add_argument_group("cost C = exp(-(A - theta)/sigma) - lambda/T")
    g.add_argument("--theta", type=float, default=0.80)
    g.add_argument("--sigma", type=float, default=2.0)
    g.add_argument("--lam", "--lambda", dest="lam", type=float, default=0.01)
    g.add_argument("--proxy-spread", type=float, default=0.025,
                   help="zero-cost evaluator: accuracy span (fraction) the proxy ranks map onto (default 0.025)")
    g.add_argument("--k", type=int, default=None,
                   help="entries the winning family must collect (default 60; with --space: 40%% of its pool of "
                        "(choice, candidate) entries, 12 for NB201)")
    g.add_argument("--no-plots", action="store_true")
    _add_evaluator_args(p)
    _add_exec_args(p)
    from nas.codesign import cli as codesign_cli

    codesign_cli.add_profile_hw_args(p)
    p.set_defaults(func=_profile)

    s = subparsers.add_parser("search", help="latency-constrained architecture search in any space",
                              description="Regularised (aging) evolution, random search, predictor-guided search or "
                              "FBNet-style differentiable search. The latency model is a simulated device (default), "
                              "a corrector saved by `hwnas calibrate fit --save` (--latency-model) or a measured table "
                              "(--latency-table); "
                              "--budget counts accuracy queries (each distinct arch once).")
    s.add_argument("--space", default=None, help="space name (or .toml); default: the tuned space of --profile")
    s.add_argument("--profile", default=None, help="profile directory from profile-space (tuned space + LUT)")
    s.add_argument("--full", action="store_true", help="with --profile: search the winner's full space")
    s.add_argument("--device", default=None,
                   help="simulated device for the latency model and re-simulation (default: the profile's, else "
                        + DEFAULT_DEVICE + ")")
    s.add_argument("--method", choices=METHODS, default="evolution",
                   help="evolution (regularised/aging, Real et al. 2019), random, predictor (surrogate-guided, "
                        "BANANAS-style: --population is its initial random sample), or differentiable")
    s.add_argument("--budget", type=int, default=60, help="accuracy queries: distinct archs evaluated (default 60)")
    s.add_argument("--population", type=int, default=16, help="evolution: population size P (default 16)")
    s.add_argument("--sample-size", "--tournament", dest="tournament", type=int, default=4,
                   help="evolution: members sampled per step S (default 4)")
    s.add_argument("--init-band", type=float, default=1.0,
                   help="evolution: draw the initial population from the slowest share of the feasible archs "
                        "(where the whole space is predicted; default 1: all)")
    s.add_argument("--latency-limit", type=float, default=None, metavar="MS",
                   help="hard limit on the latency model's prediction (ms)")
    s.add_argument("--latency-model", default=None, metavar="CORR.json",
                   help="latency model: a corrector saved by `hwnas calibrate fit --save`")
    s.add_argument("--latency-table", default=None, metavar="F.csv",
                   help="measured latency table (e.g. nb201_help.csv): the latency model when no --latency-model, "
                        "else it reports the measured latency of the found archs")
    s.add_argument("--latency-column", default=None, help="device column of --latency-table")
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

    codesign_cli.register(subparsers)  # hwnas codesign


def _profile(args: argparse.Namespace) -> int:
    if args.hw_space:  # BBSSP on every config of a hardware design space
        from nas.codesign.cli import profile_hw_command

        return profile_hw_command(args)
    from nas.profiling import ProfileConfig, profile_spaces
    from spaces.registry import get_space

    latency = None
    if args.space:
        spaces: tuple[str, ...] = (args.space,)
        sp = get_space(args.space)
        k = args.k if args.k is not None else max(1, round(0.4 * sum(len(c.candidates) for c in sp.choices)))
        if args.latency_model or args.latency_table or args.latency_column:
            from nas.latency_models import make_latency_model

            latency = make_latency_model(sp, corrector=args.latency_model,
                                         table=None if args.latency_model else args.latency_table,
                                         column=None if args.latency_model else args.latency_column)
    else:
        if args.typical or args.latency_model or args.latency_table:
            raise HwnasError("--typical, --latency-model and --latency-table go with --space")
        spaces = family_spaces(args.families, args.backbone)
        sp = get_space(spaces[0])
        k = args.k if args.k is not None else 60
    evaluator = make_evaluator(args, sp.model.input_size)
    cost = CostParams(args.theta, args.sigma, args.lam, k, args.proxy_spread)
    cfg = ProfileConfig(spaces, args.device, evaluator, cost, args.seed, args.typical, latency)
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    executor = make_executor(args.executor, workers, args.address)
    result = profile_spaces(cfg, args.out, executor, _progress(args.quiet), plots=not args.no_plots)
    s = result.summary
    print(f"winner {s['winner']}: candidates per layer {','.join(map(str, s['candidate_counts']))}; "
          f"tuned space {s['tuned_space_size']:,} of {s['full_space_size']:,} archs")
    print(f"results in {Path(args.out) / 'summary.md'}")
    return 0


def search_target(args: argparse.Namespace) -> Any:
    """The space, latency model, device and measured table of ``hwnas search`` from its arguments."""
    from nas.latency_models import TableLatency, make_latency_model
    from nas.search.run import SearchTarget, target_from_profile
    from spaces.registry import get_space

    if args.profile:
        if args.space:
            raise SearchError("give --space or --profile, not both")
        if args.latency_model:
            raise SearchError("--profile searches with the profile's BBSSP LUT; --latency-model goes with --space")
        target = target_from_profile(args.profile, args.full, args.device)
        measured = None
        if args.latency_table or args.latency_column:
            measured = make_latency_model(target.space, table=args.latency_table, column=args.latency_column)
        return SearchTarget(target.space, target.latency, target.device, measured)
    if not args.space:
        raise SearchError("hwnas search needs --space NAME (or .toml) or --profile DIR (from profile-space)")
    space = get_space(args.space)
    if args.latency_model or args.latency_table or args.latency_column:
        if args.device:
            raise SearchError("--device simulates latency; give it or --latency-model/--latency-table, not both")
        model = make_latency_model(space, corrector=args.latency_model,
                                   table=None if args.latency_model else args.latency_table,
                                   column=None if args.latency_model else args.latency_column)
        measured = None
        if args.latency_model and (args.latency_table or args.latency_column):
            measured = make_latency_model(space, table=args.latency_table, column=args.latency_column)
        elif isinstance(model, TableLatency):
            measured = model
        return SearchTarget(space, model, None, measured)
    device = args.device or DEFAULT_DEVICE
    return SearchTarget(space, make_latency_model(space, device=device), device)


def _search(args: argparse.Namespace) -> int:
    from nas.evaluators.datasets import load_dataset
    from nas.search.differentiable import DifferentiableConfig
    from nas.search.evolution import EvolutionConfig
    from nas.search.run import run_differentiable, run_search

    target = search_target(args)
    evaluator = make_evaluator(args, target.space.model.input_size)
    out = Path(args.out)
    progress = _progress(args.quiet)
    if args.method in ("evolution", "random", "predictor"):
        cfg = EvolutionConfig(args.budget, min(args.population, args.budget), args.tournament,
                              latency_limit_ms=args.latency_limit, seed=args.seed, init_band=args.init_band)
        summary = run_search(target, evaluator, cfg, args.method, out, progress)
    else:
        ds = getattr(evaluator, "dataset", None)
        if ds is None:
            raise SearchError("the differentiable search trains a supernet: use --evaluator train or zero-cost "
                              "(for the dataset)")
        dcfg = DifferentiableConfig(args.epochs, alpha=args.alpha, beta=args.beta, loss=args.loss, seed=args.seed,
                                    max_steps_per_epoch=args.steps_per_epoch)
        summary = run_differentiable(target, evaluator, load_dataset(ds), dcfg, ds.input_size, out, progress)
    print(json.dumps({k: summary[k] for k in ("space", "method", "evaluations", "best")}, indent=1))
    if args.plot:
        from hwsim.fileio import atomic_write_bytes

        atomic_write_bytes(args.plot, (Path(args.out) / "pareto.png").read_bytes())
    print(f"results in {Path(args.out) / 'search.json'}")
    return 0
