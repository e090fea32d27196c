"""Search driver shared by ``hwnas search`` and the benchmarks: space + LUT resolution, search, end-to-end
re-simulation of the found archs on the device, Pareto front, JSON and plot outputs."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calibration.bbssp import BBSSPLut
from hwsim.fileio import atomic_write_text
from nas.evaluators.base import EvalTask, Evaluator, task_seed
from nas.search.differentiable import DifferentiableConfig, SearchError, differentiable_search
from nas.search.evolution import EvolutionConfig, evolve, fitness_of
from nas.search.pareto import pareto_front
from spaces.core import Arch, SearchSpace

SEARCH_FORMAT = "hwnas.search"


@dataclass(frozen=True)
class SearchTarget:
    """A space to search, the LUT that prices its archs, and the device to re-simulate them on."""

    space: SearchSpace
    lut: BBSSPLut
    device: str

    def predict_ms(self, arch: Arch) -> float:
        return float(self.lut.predict([arch])[0])

    def device_ms(self, arch: Arch) -> float:
        """End-to-end latency of ``arch`` re-simulated on the device (not the LUT's estimate)."""
        from hwsim.devices.registry import get_device

        return float(get_device(self.device).run(self.space.to_workload(arch)).latency_ms)


def target_from_profile(profile_dir: str | Path, full: bool = False, device: str | None = None) -> SearchTarget:
    """The tuned (or, with ``full``, the winner's full) space of a profile directory and its LUT."""
    from nas.profiling import ProfilingError, load_lut, load_summary
    from spaces.registry import space_from_dict

    d = Path(profile_dir)
    if not (d / "summary.json").is_file():
        raise ProfilingError(f"{d}: no summary.json; run hwnas profile-space --out {d} first")
    summary = load_summary(d / "summary.json")
    space = space_from_dict(summary["winner_space" if full else "tuned_space"], str(d / "summary.json"))
    lut = load_lut(d / "lut.json", space)
    return SearchTarget(space, lut, device or summary["device"])


def target_from_device(space: SearchSpace, device: str) -> SearchTarget:
    """Profile ``space``'s SSBNs on ``device`` (latency only) to build its layer-adaptive LUT."""
    from hwsim.devices.registry import get_device

    if space.typical is None:
        raise SearchError(f"space {space.name!r} has no typical arch; give --profile DIR with a BBSSP profile")
    return SearchTarget(space, BBSSPLut.from_device(space, get_device(device)), device)


def _record(target: SearchTarget, arch: Arch, evaluator: Evaluator | None, seed: int,
            fitness: float | None = None, accuracy: float | None = None) -> dict[str, Any]:
    if evaluator is not None and fitness is None:
        r = evaluator.evaluate(EvalTask(target.space, arch, "final", task_seed(seed, f"final/{target.space.format(arch)}")))
        fitness, accuracy = fitness_of(r), r.accuracy
    return {"arch": target.space.format(arch), "fitness": fitness, "accuracy": accuracy,
            "predicted_latency_ms": target.predict_ms(arch), "device_latency_ms": target.device_ms(arch)}


def run_evolution(target: SearchTarget, evaluator: Evaluator, config: EvolutionConfig, out: Path | None = None,
                  progress: Callable[[int, str], Any] | None = None) -> dict[str, Any]:
    """Evolution + Pareto front (predicted latency vs fitness) + end-to-end device latency of the front."""
    hist = evolve(target.space, evaluator, target.predict_ms, config, progress)
    uniq = list({h.arch: h for h in hist}.values())
    front = pareto_front([h.predicted_latency_ms for h in uniq], [h.fitness for h in uniq])
    front_rows = [_record(target, target.space.parse(uniq[i].arch), None, config.seed, uniq[i].fitness,
                          uniq[i].accuracy) for i in front]
    ok = [h for h in uniq if config.latency_limit_ms is None or h.predicted_latency_ms <= config.latency_limit_ms]
    best = max(ok, key=lambda h: (h.fitness, -h.predicted_latency_ms))
    summary = {"format": SEARCH_FORMAT, "version": 1, "space": target.space.name, "space_size": target.space.size(),
               "method": "evolution", "device": target.device, "evaluator": evaluator.config(),
               "config": vars(config) | {}, "evaluated": len(uniq),
               "best": _record(target, target.space.parse(best.arch), None, config.seed, best.fitness, best.accuracy),
               "pareto": front_rows,
               "history": [vars(h) for h in hist]}
    if out is not None:
        _write(out, summary, [(h.predicted_latency_ms, h.fitness, "evaluated") for h in uniq], list(front))
    return summary


def run_differentiable(target: SearchTarget, evaluator: Evaluator, data: Any, config: DifferentiableConfig,
                       input_size: int, out: Path | None = None,
                       progress: Callable[[int, str], Any] | None = None) -> dict[str, Any]:
    """FBNet-style search; the argmax arch is evaluated with ``evaluator`` and re-simulated on the device."""
    res = differentiable_search(target.space, data, target.lut, config, input_size, progress)
    best = _record(target, res.arch, evaluator, config.seed)
    summary = {"format": SEARCH_FORMAT, "version": 1, "space": target.space.name, "space_size": target.space.size(),
               "method": "differentiable", "device": target.device, "evaluator": evaluator.config(),
               "config": vars(config) | {}, "best": best, "pareto": [best],
               "probabilities": [list(p) for p in res.probabilities],
               "epochs": [vars(e) for e in res.epochs], "supernet_params": res.supernet_params,
               "supernet_paths": res.paths,
               "supernet_memory_bytes": {"params": res.memory.param_bytes, "activations": res.memory.activation_bytes,
                                         "training_total": res.memory.total_bytes}}
    if out is not None:
        _write(out, summary, [(best["predicted_latency_ms"], best["fitness"], "argmax")], [0])
    return summary


def _write(out: Path, summary: dict[str, Any], points: list[tuple[float, float, str]], front: list[int]) -> None:
    from nas.plots import pareto_plot

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "search.json", json.dumps(summary, indent=1, default=_json_default) + "\n")
    pareto_plot(points, front, out / "pareto.png",
                f"{summary['method']} in {summary['space']} on {summary['device']}")


def _json_default(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, tuple):
        return list(v)
    raise TypeError(type(v).__name__)


def run_search_cli(args: argparse.Namespace, make_evaluator: Callable[..., Evaluator], make_executor: Any,
                   progress: Callable[[int, str], Any]) -> dict[str, Any]:
    from nas.cli import DEFAULT_DEVICE
    from nas.evaluators.datasets import load_dataset
    from spaces.registry import get_space

    if args.profile:
        target = target_from_profile(args.profile, args.full, args.device)
        if args.space:
            raise SearchError("give --space or --profile, not both")
    elif args.space:
        target = target_from_device(get_space(args.space), args.device or DEFAULT_DEVICE)
    else:
        raise SearchError("hwnas search needs --profile DIR (from profile-space) or --space NAME")
    size = target.space.model.input_size
    evaluator = make_evaluator(args, size)
    out = Path(args.out)
    if args.method == "evolution":
        cfg = EvolutionConfig(args.budget, min(args.population, args.budget), latency_limit_ms=args.latency_limit,
                              seed=args.seed)
        return run_evolution(target, evaluator, cfg, out, progress)
    ds = getattr(evaluator, "dataset", None)
    if ds is None:
        raise SearchError("the differentiable search trains a supernet: use --evaluator train or zero-cost "
                          "(for the dataset)")
    cfg = DifferentiableConfig(args.epochs, alpha=args.alpha, beta=args.beta, loss=args.loss, seed=args.seed,
                               max_steps_per_epoch=args.steps_per_epoch)
    return run_differentiable(target, evaluator, load_dataset(ds), cfg, ds.input_size, out, progress)
