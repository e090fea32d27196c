"""``hwnas codesign``: search (network, accelerator) pairs together; ``register(subparsers)`` adds the command.

Example (the scripted contract)::

    hwnas codesign --space nb201 --hw-space systolic --evaluator table \
        --table ../shared/data/accuracy/nb201_accuracy.csv --table-column cifar10_test_acc \
        --method exhaustive --area-limit 2.0 --out DIR
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path
from typing import Any

from hwsim.errors import HwnasError
from nas.codesign.pareto import OBJECTIVES, CodesignError
from nas.codesign.run import CodesignConfig, Describer, codesign
from nas.codesign.search import METHODS, HvBounds, Limits


def register(subparsers: argparse._SubParsersAction) -> None:
    from nas.cli import _add_evaluator_args

    p = subparsers.add_parser("codesign", help="search networks and accelerators together (Pareto front)",
                              description="Hardware/network co-design over a search space x a hardware design "
                                          "space: exhaustive (every pair through the sweep), nsga2 (pymoo) or "
                                          "sequential (NAS on a fixed accelerator, then hardware search).")
    p.add_argument("--space", default="nb201", help="search space name or .toml/.json file (default nb201)")
    p.add_argument("--hw-space", default="systolic", help="hardware design space name or .toml file")
    p.add_argument("--method", choices=METHODS, default="exhaustive")
    p.add_argument("--objectives", default="accuracy,latency,energy,area",
                   help=f"comma list of {', '.join(OBJECTIVES)} (edp = latency x energy)")
    p.add_argument("--area-limit", type=float, default=None, help="mm^2 per accelerator")
    p.add_argument("--power-limit", type=float, default=None, help="W (average power of a pair)")
    p.add_argument("--latency-limit", type=float, default=None, help="ms per inference")
    p.add_argument("--budget", type=int, default=None, help="nsga2: distinct (arch, hw) pairs to evaluate")
    p.add_argument("--budget-accuracy", type=int, default=None,
                   help="nsga2: distinct architectures whose accuracy may be asked (default: no limit)")
    p.add_argument("--pop-size", type=int, default=100, help="nsga2 population (default 100)")
    p.add_argument("--default-hw", default=None,
                   help="sequential: the fixed accelerator, a config index or name=value,... "
                        "(default: every parameter at its middle value)")
    p.add_argument("--window", type=float, default=0.5,
                   help="accuracy points the compared co-design pair may lose vs sequential (default 0.5)")
    p.add_argument("--no-baseline", action="store_true", help="skip the sequential baseline and comparison")
    p.add_argument("--hv-from", default=None, metavar="codesign.json",
                   help="normalise the hypervolume like that run (default: this front's ideal and nadir)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--executor", choices=("local", "process", "ray"), default="local",
                   help="where sweep batches run (ray: a cluster, --address)")
    p.add_argument("--workers", type=int, default=None, help="processes for --executor process/ray")
    p.add_argument("--address", default=None, help="Ray cluster address (default: a local Ray instance)")
    p.add_argument("--out", default="codesign-out", help="output folder (rerun to resume)")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--keep-sweep", action="store_true",
                   help="keep the sweep's batches under OUT/.state/sweep after a finished run (large)")
    p.add_argument("--quiet", action="store_true")
    _add_evaluator_args(p)
    p.set_defaults(func=_codesign, evaluator="table")


def load_spaces(space: str, hw_space: str) -> tuple[Any, Any]:
    """The search space (name, .toml or .json) and the hardware space (name or .toml)."""
    from spaces.registry import get_space, load_space_json

    s = load_space_json(space) if space.endswith(".json") else get_space(space)
    try:
        from hwsim.hwspace import get_space as get_hw_space
    except ImportError:
        raise CodesignError("hardware design spaces (hwsim.hwspace) are not available in this build") from None
    return s, get_hw_space(hw_space)


def parse_default_hw(spec: str | None, hw: Any) -> int | None:
    if spec is None:
        return None
    if spec.strip().isdigit():
        return int(spec)
    point: dict[str, Any] = {}
    for item in spec.split(","):
        k, sep, v = item.partition("=")
        if not sep:
            raise CodesignError(f"--default-hw: {item!r} is not name=value")
        vals = hw.params.get(k.strip())
        if vals is None:
            raise CodesignError(f"--default-hw: unknown parameter {k.strip()!r}; expected {', '.join(hw.params)}")
        match = [x for x in vals if str(x) == v.strip()]
        if not match:
            raise CodesignError(f"--default-hw: {k.strip()}={v.strip()!r} is not one of {list(vals)}")
        point[k.strip()] = match[0]
    return int(hw.index(point))


def _map_fn(args: argparse.Namespace) -> Any:
    if args.executor == "local":
        return None
    from hwsim.sweep import process_map, ray_map

    workers = args.workers or os.cpu_count() or 1
    return process_map(workers) if args.executor == "process" else ray_map(args.address, workers if not args.address
                                                                          else None)


def merged_limits(args: argparse.Namespace, hw: Any) -> Limits:
    """CLI limits, tightened by the hardware space's own ``area_mm2`` / ``power_w`` limits."""
    lim = dict(getattr(hw, "limits", {}) or {})

    def tight(cli: float | None, key: str) -> float | None:
        vals = [v for v in (cli, lim.get(key)) if v is not None]
        return min(vals) if vals else None

    return Limits(tight(args.area_limit, "area_mm2"), tight(args.power_limit, "power_w"), args.latency_limit)


def build(args: argparse.Namespace, out: Path) -> tuple[Any, CodesignConfig, Describer, HvBounds | None]:
    """Source, config, describer and hypervolume normalisation of the command line."""
    from nas.cli import make_evaluator
    from nas.codesign.sources import SpaceAccuracy, SweepSource, arch_of

    space, hw = load_spaces(args.space, args.hw_space)
    if args.method == "nsga2" and args.budget is None:
        raise CodesignError("--method nsga2 needs --budget N (distinct pair evaluations)")
    objectives = tuple(o.strip() for o in args.objectives.split(",") if o.strip())
    evaluator = make_evaluator(args, space.model.input_size)
    cfg = CodesignConfig(args.method, objectives, merged_limits(args, hw), args.budget, args.budget_accuracy,
                         args.seed, args.pop_size, parse_default_hw(args.default_hw, hw), not args.no_baseline,
                         args.window)
    state = out / ".state"
    acc = SpaceAccuracy(space, evaluator, args.seed, state / "accuracy.json")
    source = SweepSource(space, hw, acc, sweep_dir=state / "sweep", map_fn=_map_fn(args))
    if cfg.method in ("exhaustive", "nsga2"):
        pass  # the grid is swept lazily on first use (resumable batches under .state/sweep)

    def workload_json(i: int) -> str:
        return space.to_workload(arch_of(space, i)).to_json()

    inputs = {"evaluator": evaluator.config() if hasattr(evaluator, "config") else evaluator.name,
              "space_size": int(space.size()), "hw_space_size": int(hw.size)}
    d = Describer(arch=lambda i: space.format(arch_of(space, i)), hw=lambda j: dict(hw.config(j)),
                  device_toml=lambda j: hw.to_toml(hw.config(j)), workload_json=workload_json,
                  space=space.name, hw_space=hw.name, inputs=inputs)
    bounds = None
    if args.hv_from:
        p = Path(args.hv_from)
        from nas.codesign.run import CODESIGN

        doc = CODESIGN.load(p)
        if "hypervolume_normalisation" not in doc:
            raise CodesignError(f"--hv-from {p}: codesign.json has no field 'hypervolume_normalisation'")
        bounds = HvBounds.from_dict(doc["hypervolume_normalisation"])
    return source, cfg, d, bounds


def _codesign(args: argparse.Namespace) -> int:
    out = Path(args.out)
    t0 = time.perf_counter()
    source, cfg, d, bounds = build(args, out)
    from nas.codesign.sources import GRID_LIMIT

    if cfg.method == "exhaustive" or (cfg.method == "nsga2" and source.n_arch * source.n_hw <= GRID_LIMIT):
        source.grid()  # one sweep of every pair (resumable); nsga2 then reads it and counts what it looks at
    doc = codesign(source, cfg, d, out, bounds, plots=not args.no_plots)
    if not args.keep_sweep:
        shutil.rmtree(out / ".state" / "sweep", ignore_errors=True)  # only a killed run needs the batches
    ev = doc["evaluations"]
    print(f"{cfg.method}: {len(doc['pareto'])} Pareto pairs from {ev['pairs']:,} pair evaluations and "
          f"{ev['accuracy_queries']:,} accuracy queries; hypervolume {doc['hypervolume']:.6g}; "
          f"{time.perf_counter() - t0:.1f} s")
    c = (doc.get("baseline") or {}).get("comparison")
    if c:
        r = c["ratios"]
        print(f"vs sequential: latency x{r['latency_ms']:.3f}, energy x{r['energy_mj']:.3f}, area x{r['area_mm2']:.3f}, "
              f"EDP x{r['edp']:.3f} at {c['accuracy_loss_pct']:+.2f} accuracy points lost")
    print(f"results in {out / 'codesign.json'} and {out / 'summary.md'}")
    return 0


def add_profile_hw_args(p: argparse.ArgumentParser) -> None:
    """Options of ``hwnas profile-space`` across a hardware space (the lead adds them to that parser and calls
    :func:`profile_hw_command` when ``--hw-space`` is given)."""
    g = p.add_argument_group("across a hardware design space")
    g.add_argument("--hw-space", default=None,
                   help="profile on every config of this hardware space (name or .toml) instead of --device")
    g.add_argument("--reference-hw", type=int, default=0,
                   help="config index whose device the accuracies are evaluated with (default 0)")
    g.add_argument("--map-x", default=None, help="hardware parameter on the map's x axis (default: the first)")
    g.add_argument("--map-y", default=None, help="hardware parameter on the map's y axis (default: the second)")


def profile_hw_command(args: argparse.Namespace) -> int:
    """``hwnas profile-space --hw-space S``: BBSSP on every config of S (:func:`profile_across_hw`)."""
    from nas.cli import _progress, family_spaces, make_evaluator
    from nas.codesign.profile_hw import profile_across_hw
    from nas.cost import CostParams
    from nas.executors import make_executor
    from nas.profiling import ProfileConfig
    from spaces.registry import get_space

    _, hw = load_spaces("nb201", args.hw_space)
    spaces = family_spaces(args.families, args.backbone)
    evaluator = make_evaluator(args, get_space(spaces[0]).model.input_size)
    cost = CostParams(args.theta, args.sigma, args.lam, args.k, args.proxy_spread)
    cfg = ProfileConfig(spaces, "reference", evaluator, cost, args.seed)
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    doc = profile_across_hw(cfg, hw, args.out, make_executor(args.executor, workers, args.address),
                            reference=args.reference_hw, x_param=args.map_x, y_param=args.map_y,
                            plots=not args.no_plots, progress=_progress(args.quiet))
    wins = ", ".join(f"{f} {n}" for f, n in doc["wins"].items())
    print(f"{len(doc['configs'])} hardware configs of {doc['hw_space']}: configs won per family: {wins}")
    print(f"results in {Path(args.out) / 'hw_profile.json'} and {Path(args.out) / 'summary.md'}")
    return 0


__all__ = ["HwnasError", "add_profile_hw_args", "build", "load_spaces", "profile_hw_command", "register"]
