"""A co-design run end to end: method on a pair source, the sequential baseline, and the output folder.

Output folder (``out``):

- ``codesign.json``: ``pareto`` (one object per front pair: ``arch``, ``arch_index``, ``hw`` (parameter -> value),
  ``hw_index``, ``accuracy`` (%), ``latency_ms``, ``energy_mj``, ``area_mm2``, ``power_w``, ``edp`` (ms x mJ),
  ``device_file``, ``workload_file``), ``hypervolume`` (float) with ``hypervolume_normalisation``,
  ``evaluations`` (distinct ``pairs`` and ``accuracy_queries``), ``method``, ``objectives``, ``limits``,
  ``method_details`` and, unless disabled, ``baseline`` (the sequential design and the co-design comparison);
- ``summary.md``; ``plots/front_projections.png``, ``plots/hw_along_front.png``,
  ``plots/codesign_vs_sequential.png``; ``devices/pNNNN.toml`` and ``networks/pNNNN.json`` per front pair;
- ``.state/``: what a rerun resumes from (sweep batches, accuracy cache, NSGA-II evaluations), keyed by a
  fingerprint of the run's inputs (another run in the same folder is an error).

codesign.json holds no timings, so the same inputs and seed give the same file.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.fileio import atomic_write_bytes, atomic_write_text
from hwsim.formats import Format
from nas.codesign.pareto import CodesignError, check_objectives
from nas.codesign.search import (METHODS, CodesignResult, Front, HvBounds, Limits, PairCache, exhaustive,
                                 hypervolume, nsga2, sequential)

CODESIGN = Format("hwnas.codesign", 1, "co-design result", CodesignError)  # codesign.json
STATE = Format("hwnas.codesign-state", 1, "co-design run state", CodesignError)  # .state/run.json
#: NASAIC (Yang et al., DAC 2020) against NAS-then-hardware: 17.77% lower latency, 2.49x lower energy, 2.32x
#: smaller area, at 0.76% accuracy loss (../shared/docs/silicon-cost.md), as co-design / sequential ratios.
NASAIC = {"latency_ms": 1 - 0.1777, "energy_mj": 1 / 2.49, "area_mm2": 1 / 2.32, "accuracy_loss_pct": 0.76}


@dataclass(frozen=True)
class CodesignConfig:
    """What to run. ``budget``: distinct pair evaluations (nsga2); ``budget_accuracy``: distinct architectures
    whose accuracy may be asked (nsga2; None = no limit); ``default_hw``: the fixed accelerator of the
    sequential method (None = the middle value of every hardware parameter); ``baseline``: also run the
    sequential method and compare; ``window``: accuracy points the compared co-design pair may lose."""

    method: str
    objectives: tuple[str, ...] = ("accuracy", "latency", "energy", "area")
    limits: Limits = Limits()
    budget: int | None = None
    budget_accuracy: int | None = None
    seed: int = 0
    pop_size: int = 100
    default_hw: int | None = None
    baseline: bool = True
    window: float = 0.5

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise CodesignError(f"unknown method {self.method!r}; expected one of {', '.join(METHODS)}")
        object.__setattr__(self, "objectives", check_objectives(self.objectives))
        if self.method == "nsga2" and self.budget is None:
            raise CodesignError("--method nsga2 needs --budget N (distinct pair evaluations)")
        if not (isinstance(self.window, (int, float)) and math.isfinite(self.window) and self.window >= 0):
            raise CodesignError(f"accuracy window must be a non-negative number, got {self.window!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "objectives": list(self.objectives), "limits": self.limits.to_dict(),
                "budget": self.budget, "budget_accuracy": self.budget_accuracy, "seed": self.seed,
                "pop_size": self.pop_size, "default_hw": self.default_hw, "baseline": self.baseline,
                "window": self.window}


@dataclass(frozen=True)
class Describer:
    """Names and files of pairs: ``arch(i)`` arch string, ``hw(j)`` parameter -> value, ``device_toml(j)`` and
    ``workload_json(i)`` file texts (None: no file written), ``space``/``hw_space`` names for the report."""

    arch: Callable[[int], str]
    hw: Callable[[int], dict[str, Any]]
    device_toml: Callable[[int], str] | None = None
    workload_json: Callable[[int], str] | None = None
    space: str = "space"
    hw_space: str = "hw-space"
    inputs: Mapping[str, Any] = field(default_factory=dict)


def middle_hw(hw_radix: tuple[int, ...]) -> int:
    """Index of the config with every parameter at its middle value (lower middle for even counts)."""
    idx = 0
    for r in hw_radix:
        idx = idx * r + (r - 1) // 2
    return idx


def _rows(front: Front, d: Describer) -> list[dict[str, Any]]:
    rows = []
    for k in range(len(front)):
        a, h = int(front.arch[k]), int(front.hw[k])
        lat, en = float(front.latency_ms[k]), float(front.energy_mj[k])
        rows.append({"arch": d.arch(a), "arch_index": a, "hw": d.hw(h), "hw_index": h,
                     "accuracy": float(front.accuracy[k]), "latency_ms": lat, "energy_mj": en,
                     "area_mm2": float(front.area_mm2[k]),
                     "power_w": None if front.power_w is None else float(front.power_w[k]),
                     "edp": lat * en})
    return rows


def compare(pareto: list[dict[str, Any]], design: Mapping[str, Any], window: float) -> dict[str, Any] | None:
    """The lowest-EDP front pair whose accuracy is at least the sequential design's minus ``window`` points,
    and its latency / energy / area / EDP ratios to the design (co-design / sequential; < 1 is better)."""
    cand = [p for p in pareto if p["accuracy"] >= design["accuracy"] - window - 1e-12]
    if not cand:
        return None
    best = min(cand, key=lambda p: (p["edp"], -p["accuracy"], p["arch_index"], p["hw_index"]))
    ratios = {k: best[k] / design[k] for k in ("latency_ms", "energy_mj", "area_mm2", "edp")}
    return {"pair": best, "ratios": ratios, "accuracy_loss_pct": design["accuracy"] - best["accuracy"],
            "window_pct": window}


def _fingerprint(cfg: CodesignConfig, d: Describer) -> str:
    blob = json.dumps({"config": cfg.to_dict(), "space": d.space, "hw_space": d.hw_space,
                       "inputs": dict(d.inputs)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def check_state(out: Path, cfg: CodesignConfig, d: Describer) -> Path:
    """``out/.state``, created for this run or checked to belong to it."""
    state = out / ".state"
    fp = _fingerprint(cfg, d)
    f = state / "run.json"
    if f.exists():
        old = STATE.load(f).get("fingerprint")
        if old != fp:
            raise CodesignError(f"{out}: holds another co-design run (other inputs); use another --out directory")
    else:
        STATE.write(f, {"fingerprint": fp, "config": cfg.to_dict()}, default=str)
    return state


def _load_cache(path: Path) -> PairCache | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return PairCache.from_arrays({"flat": z["flat"], "values": z["values"]})
    except (OSError, ValueError, KeyError) as e:
        raise CodesignError(f"{path}: unreadable NSGA-II state ({e})") from None


def _save_cache(path: Path, cache: PairCache) -> None:
    buf = io.BytesIO()
    np.savez(buf, **cache.to_arrays())
    atomic_write_bytes(path, buf.getvalue())


def run_method(source: Any, cfg: CodesignConfig, state: Path | None = None,
               on_generation: Callable[[PairCache], None] | None = None) -> CodesignResult:
    """The configured method on ``source`` (NSGA-II saves its evaluations under ``state`` every 10 generations
    and resumes from them)."""
    if cfg.method == "exhaustive":
        return exhaustive(source, cfg.objectives, cfg.limits)
    if cfg.method == "sequential":
        h0 = middle_hw(tuple(source.hw_radix)) if cfg.default_hw is None else cfg.default_hw
        return sequential(source, cfg.objectives, cfg.limits, h0)
    path = state / f"nsga2-seed{cfg.seed}.npz" if state is not None else None
    cache = _load_cache(path) if path is not None else None
    gen = [0]

    def save(c: PairCache) -> None:
        gen[0] += 1
        if path is not None and gen[0] % 10 == 0:
            _save_cache(path, c)
        if on_generation is not None:
            on_generation(c)

    res = nsga2(source, cfg.objectives, cfg.limits, int(cfg.budget), cfg.seed, cfg.budget_accuracy, cfg.pop_size,
                cache, save)
    return res


def codesign(source: Any, cfg: CodesignConfig, d: Describer, out: str | Path | None = None,
             hv_bounds: HvBounds | None = None, plots: bool = True,
             on_generation: Callable[[PairCache], None] | None = None) -> dict[str, Any]:
    """Run ``cfg`` on ``source`` and (with ``out``) write the output folder; returns codesign.json's content.
    ``hv_bounds``: the hypervolume normalisation (default: the ideal and nadir of this run's front)."""
    outp = Path(out) if out is not None else None
    state = check_state(outp, cfg, d) if outp is not None else None
    res = run_method(source, cfg, state, on_generation)
    pareto = _rows(res.front, d)
    f = res.front.objectives(cfg.objectives)
    bounds = hv_bounds or HvBounds.of(cfg.objectives, f)
    if tuple(bounds.objectives) != tuple(cfg.objectives):
        raise CodesignError(f"hypervolume normalisation is for objectives {','.join(bounds.objectives)}, "
                            f"this run has {','.join(cfg.objectives)}")
    doc: dict[str, Any] = {
        **CODESIGN.envelope(), "method": cfg.method, "space": d.space, "hw_space": d.hw_space,
        "inputs": dict(d.inputs), "config": cfg.to_dict(), "objectives": list(cfg.objectives),
        "limits": cfg.limits.to_dict(), "evaluations": res.evaluations,
        "hypervolume": hypervolume(f, bounds), "hypervolume_normalisation": bounds.to_dict(),
        "method_details": _details(res, d), "pareto": pareto}
    if cfg.baseline:
        seq = res if cfg.method == "sequential" else run_method(source, CodesignConfig(
            "sequential", cfg.objectives, cfg.limits, default_hw=cfg.default_hw, baseline=False))
        sd = seq.extra
        design = _rows(_single(seq.front, source, sd["chosen_arch"], sd["design_hw"]), d)[0]
        doc["baseline"] = {"method": "sequential", "default_hw": sd["default_hw"], "design": design,
                           "hypervolume": hypervolume(seq.front.objectives(cfg.objectives), bounds),
                           "comparison": compare(pareto, design, cfg.window),
                           "nasaic": NASAIC}
    if outp is not None:
        write_outputs(outp, doc, d, plots)
    return doc


def _single(front: Front, source: Any, arch: int, hw: int) -> Front:
    from nas.codesign.search import make_front

    return make_front(source, np.array([arch]), np.array([hw]), source.n_hw)


def _details(res: CodesignResult, d: Describer) -> dict[str, Any]:
    out = dict(res.extra)
    if res.method == "sequential":
        out["chosen_arch_string"] = d.arch(out["chosen_arch"])
        out["design_hw_point"] = d.hw(out["design_hw"])
    return out


def write_outputs(out: Path, doc: dict[str, Any], d: Describer, plots: bool = True) -> None:
    """Device and network files per front pair, then codesign.json, summary.md and the figures."""
    for k, p in enumerate(doc["pareto"]):
        p["device_file"] = p["workload_file"] = None
        if d.device_toml is not None:
            p["device_file"] = f"devices/p{k:04d}.toml"
            atomic_write_text(out / p["device_file"], d.device_toml(p["hw_index"]))
        if d.workload_json is not None:
            p["workload_file"] = f"networks/p{k:04d}.json"
            atomic_write_text(out / p["workload_file"], d.workload_json(p["arch_index"]))
    atomic_write_text(out / "codesign.json", json.dumps(doc, indent=1, sort_keys=False, default=_json_default))
    atomic_write_text(out / "summary.md", summary_md(doc))
    if plots:
        from nas.codesign import plots as P

        title = f"{doc['method']}: {doc['space']} x {doc['hw_space']}"
        marks = {}
        base = doc.get("baseline")
        if base:
            marks["sequential"] = base["design"]
            if base["comparison"]:
                marks["co-design (lowest EDP within window)"] = base["comparison"]["pair"]
        if doc["pareto"]:
            P.front_projections(out / "plots" / "front_projections.png", doc["pareto"],
                                f"{title}: Pareto front ({len(doc['pareto'])} pairs)", marks)
            P.hw_along_front(out / "plots" / "hw_along_front.png", doc["pareto"],
                             f"{title}: hardware parameters along the front")
        if base and base["comparison"]:
            P.codesign_vs_sequential(out / "plots" / "codesign_vs_sequential.png", base["comparison"]["pair"],
                                     base["design"], "co-design vs sequential",
                                     {k: NASAIC[k] for k in ("latency_ms", "energy_mj", "area_mm2")})


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


def _fmt_pair(p: Mapping[str, Any]) -> str:
    hw = ", ".join(f"{k}={v}" for k, v in p["hw"].items())
    return (f"{p['accuracy']:.2f}% | {p['latency_ms']:.4g} ms | {p['energy_mj']:.4g} mJ | {p['area_mm2']:.3f} mm² | "
            f"{p['edp']:.4g} | `{p['arch']}` | {hw}")


def summary_md(doc: Mapping[str, Any]) -> str:
    """The run in Markdown: inputs, evaluations, hypervolume, the front (up to 40 rows), the baseline."""
    lim = ", ".join(f"{k} <= {v}" for k, v in doc["limits"].items() if v is not None) or "none"
    ev = doc["evaluations"]
    lines = [f"# Co-design: {doc['method']} on {doc['space']} x {doc['hw_space']}", "",
             f"- objectives: {', '.join(doc['objectives'])} (accuracy maximised, the others minimised)",
             f"- limits: {lim}",
             f"- evaluations: {ev['pairs']} pairs of {ev['pairs_in_space']} "
             f"({100.0 * ev['pairs'] / max(1, ev['pairs_in_space']):.3g}%), {ev['accuracy_queries']} accuracy queries",
             f"- Pareto front: {len(doc['pareto'])} pairs; hypervolume {doc['hypervolume']:.6g} "
             f"(normalised by the front's ideal/nadir unless given, reference point {doc['hypervolume_normalisation']['reference_point']})",
             "", "| accuracy | latency | energy | area | EDP (ms·mJ) | arch | hardware |", "|---|---|---|---|---|---|---|"]
    for p in doc["pareto"][:40]:
        lines.append("| " + _fmt_pair(p) + " |")
    if len(doc["pareto"]) > 40:
        lines.append(f"| ... {len(doc['pareto']) - 40} more in codesign.json | | | | | | |")
    base = doc.get("baseline")
    if base:
        lines += ["", "## Co-design vs sequential (NAS on a fixed accelerator, then hardware search)", "",
                  "| design | accuracy | latency | energy | area | EDP (ms·mJ) | arch | hardware |",
                  "|---|---|---|---|---|---|---|---|", "| sequential | " + _fmt_pair(base["design"]) + " |"]
        c = base["comparison"]
        if c:
            lines.append("| co-design | " + _fmt_pair(c["pair"]) + " |")
            r = c["ratios"]
            n = base["nasaic"]
            lines += ["", f"Lowest-EDP front pair within {c['window_pct']} accuracy points of the sequential design "
                      f"(accuracy loss {c['accuracy_loss_pct']:.2f} points; NASAIC: {n['accuracy_loss_pct']}%):", "",
                      "| ratio co-design / sequential | this run | NASAIC |", "|---|---|---|",
                      f"| latency | {r['latency_ms']:.3f} | {n['latency_ms']:.3f} |",
                      f"| energy | {r['energy_mj']:.3f} | {n['energy_mj']:.3f} |",
                      f"| area | {r['area_mm2']:.3f} | {n['area_mm2']:.3f} |",
                      f"| EDP | {r['edp']:.3f} | - |"]
        else:
            lines.append("\nNo front pair within the accuracy window of the sequential design.")
        lines.append(f"\nSequential front hypervolume (same normalisation): {base['hypervolume']:.6g}")
    return "\n".join(lines) + "\n"
