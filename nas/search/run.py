"""Search driver shared by ``hwnas search`` (see :mod:`nas.cli`) and the benchmarks: a space and its latency model
(:mod:`nas.latency_models`), the search, the found archs' measured or re-simulated latency, Pareto front, JSON and
plot outputs. Library code only: it imports nothing of :mod:`nas.cli`.

``search.json`` (format ``hwnas.search``, version 2) holds ``best`` (``arch`` string, ``accuracy`` as a fraction,
``accuracy_percent``, ``fitness``, ``predicted_latency_ms``, and where known ``measured_latency_ms`` from a latency
table and ``device_latency_ms`` from an end-to-end re-simulation), ``evaluations`` (accuracy queries spent),
``budget``, ``latency_limit_ms``, ``latency_model``, ``pareto`` and ``history``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwsim.fileio import atomic_write_text
from nas.evaluators.base import EvalTask, Evaluator, task_seed
from nas.latency_models import BBSSPLatency, LatencyModel, fastest_ms
from nas.search.differentiable import DifferentiableConfig, SearchError, differentiable_search
from nas.search.evolution import EvolutionConfig, SearchRun, best_feasible, evolve, fitness_of, random_search
from nas.search.pareto import pareto_front
from nas.search.predictor import predictor_search
from spaces.core import Arch, SearchSpace

SEARCH_FORMAT = "hwnas.search"
SEARCH_VERSION = 2
METHODS = ("evolution", "random", "predictor", "differentiable")


@dataclass(frozen=True)
class SearchTarget:
    """A space to search and the latency model that prices its archs. ``device``: where found archs are
    re-simulated end to end (simulated latency models only); ``measured``: a latency table reporting the measured
    latency of found archs (optional)."""

    space: SearchSpace
    latency: LatencyModel
    device: str | None = None
    measured: LatencyModel | None = field(default=None, compare=False)

    def predict_ms(self, arch: Arch) -> float:
        return float(self.latency.predict_ms([arch])[0])

    def device_ms(self, arch: Arch) -> float | None:
        """End-to-end latency of ``arch`` re-simulated on the device (None without a device)."""
        if self.device is None:
            return None
        from hwsim.devices.registry import get_device

        return float(get_device(self.device).run(self.space.to_workload(arch)).latency_ms)

    def measured_ms(self, arch: Arch) -> float | None:
        for m in (self.measured, self.latency):
            if m is not None:
                v = m.measured_ms(arch)
                if v is not None:
                    return float(v)
        return None


def target_from_profile(profile_dir: str | Path, full: bool = False, device: str | None = None) -> SearchTarget:
    """The tuned (or, with ``full``, the winner's full) space of a profile directory and its BBSSP LUT."""
    from nas.profiling import ProfilingError, load_lut, load_summary
    from spaces.registry import space_from_dict

    d = Path(profile_dir)
    if not (d / "summary.json").is_file():
        raise ProfilingError(f"{d}: no summary.json; run hwnas profile-space --out {d} first")
    summary = load_summary(d / "summary.json")
    space = space_from_dict(summary["winner_space" if full else "tuned_space"], str(d / "summary.json"))
    lut = load_lut(d / "lut.json", space)
    dev = device or (None if summary.get("latency_model") else summary.get("device"))
    return SearchTarget(space, BBSSPLatency(space, lut, str(d / "lut.json")), dev)


def target_from_device(space: SearchSpace, device: str) -> SearchTarget:
    """Profile ``space``'s SSBNs on ``device`` (latency only) to build its layer-adaptive BBSSP LUT."""
    from nas.latency_models import bbssp_device_model

    return SearchTarget(space, bbssp_device_model(space, device), device)


def record(target: SearchTarget, arch: Arch, fitness: float | None, accuracy: float | None,
           resimulate: bool = True) -> dict[str, Any]:
    """JSON row of one arch: string, fitness, accuracy (fraction and percent), predicted / measured / device ms."""
    row: dict[str, Any] = {"arch": target.space.format(arch), "fitness": fitness, "accuracy": accuracy,
                           "accuracy_percent": None if accuracy is None else 100.0 * accuracy,
                           "predicted_latency_ms": target.predict_ms(arch)}
    meas = target.measured_ms(arch)
    if meas is not None:
        row["measured_latency_ms"] = meas
    if resimulate and target.device is not None:
        row["device_latency_ms"] = target.device_ms(arch)
    return row


def run_search(target: SearchTarget, evaluator: Evaluator, config: EvolutionConfig, method: str = "evolution",
               out: Path | None = None, progress: Callable[[int, str], Any] | None = None) -> dict[str, Any]:
    """Evolution, random or predictor-guided search (:mod:`nas.search.predictor`) + Pareto front (predicted
    latency vs fitness); returns the summary dict."""
    if method not in ("evolution", "random", "predictor"):
        raise SearchError(f"method must be evolution, random or predictor here, got {method!r}")
    limit = config.latency_limit_ms
    all_ms = target.latency.predict_all()
    if limit is not None:
        fast = fastest_ms(target.latency)
        if fast is not None and fast > limit:
            raise SearchError(f"no arch of space {target.space.name!r} meets --latency-limit {limit:g} ms (fastest "
                              f"predicted by the latency model: {fast:.4g} ms)")
    fn = {"evolution": evolve, "random": random_search, "predictor": predictor_search}[method]
    run: SearchRun = fn(target.space, evaluator, target.latency.predict_ms, config, progress, all_ms)
    hist = run.history
    if not hist:
        raise SearchError(f"{method} evaluated no arch ({run.stopped})")
    front = pareto_front([h.predicted_latency_ms for h in hist], [h.fitness for h in hist])
    best = best_feasible(hist, limit)
    resim = target.device is not None
    front_rows = [record(target, target.space.parse(hist[i].arch), hist[i].fitness, hist[i].accuracy, resim)
                  for i in front]
    summary = {"format": SEARCH_FORMAT, "version": SEARCH_VERSION, "space": target.space.name,
               "space_size": target.space.size(), "method": method, "device": target.device,
               "latency_model": target.latency.describe(), "evaluator": evaluator.config(),
               "config": _plain(vars(config)), "budget": config.budget, "latency_limit_ms": limit,
               "evaluations": len(hist), "proposals": run.proposals, "stopped": run.stopped or None,
               "feasible_archs": None if all_ms is None else int((all_ms <= limit).sum()) if limit is not None
               else len(all_ms),
               "best": record(target, target.space.parse(best.arch), best.fitness, best.accuracy, resim),
               "pareto": front_rows,
               "history": [vars(h) for h in hist]}
    summary["evaluated"] = summary["evaluations"]
    if out is not None:
        write_outputs(out, summary, [(h.predicted_latency_ms, h.fitness, "evaluated") for h in hist], list(front))
    return summary


def run_evolution(target: SearchTarget, evaluator: Evaluator, config: EvolutionConfig, out: Path | None = None,
                  progress: Callable[[int, str], Any] | None = None) -> dict[str, Any]:
    """:func:`run_search` with regularised evolution."""
    return run_search(target, evaluator, config, "evolution", out, progress)


def run_differentiable(target: SearchTarget, evaluator: Evaluator, data: Any, config: DifferentiableConfig,
                       input_size: int, out: Path | None = None,
                       progress: Callable[[int, str], Any] | None = None) -> dict[str, Any]:
    """FBNet-style search over a BBSSP LUT; the argmax arch is evaluated with ``evaluator`` and re-simulated."""
    if not isinstance(target.latency, BBSSPLatency):
        raise SearchError("the differentiable search needs a BBSSP layer-adaptive LUT: give --profile DIR, or a "
                          "space with a typical arch and --device")
    res = differentiable_search(target.space, data, target.latency.lut, config, input_size, progress)
    r = evaluator.evaluate(EvalTask(target.space, res.arch, "final",
                                    task_seed(config.seed, f"final/{target.space.format(res.arch)}")))
    best = record(target, res.arch, fitness_of(r), r.accuracy)
    summary = {"format": SEARCH_FORMAT, "version": SEARCH_VERSION, "space": target.space.name,
               "space_size": target.space.size(), "method": "differentiable", "device": target.device,
               "latency_model": target.latency.describe(), "evaluator": evaluator.config(),
               "config": _plain(vars(config)), "evaluations": 1, "best": best, "pareto": [best],
               "probabilities": [list(p) for p in res.probabilities],
               "epochs": [vars(e) for e in res.epochs], "supernet_params": res.supernet_params,
               "supernet_paths": res.paths,
               "supernet_memory_bytes": {"params": res.memory.param_bytes, "activations": res.memory.activation_bytes,
                                         "training_total": res.memory.total_bytes}}
    if out is not None:
        write_outputs(out, summary, [(best["predicted_latency_ms"], best["fitness"], "argmax")], [0])
    return summary


def write_outputs(out: Path, summary: dict[str, Any], points: list[tuple[float, float, str]],
                  front: list[int]) -> None:
    """``search.json`` and ``pareto.png`` in ``out`` (atomically)."""
    from nas.plots import pareto_plot

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "search.json", json.dumps(summary, indent=1, default=_json_default) + "\n")
    where = summary["device"] or summary["latency_model"].get("kind", "")
    pareto_plot(points, front, out / "pareto.png", f"{summary['method']} in {summary['space']} ({where})")


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def _json_default(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, tuple):
        return list(v)
    raise TypeError(type(v).__name__)


__all__ = ["METHODS", "SEARCH_FORMAT", "SearchTarget", "record", "run_differentiable", "run_evolution", "run_search",
           "target_from_device", "target_from_profile", "write_outputs"]
