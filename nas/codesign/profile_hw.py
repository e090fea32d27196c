"""BBSSP across a hardware design space: which block family and tuned space wins on which accelerator.

:func:`profile_across_hw` profiles the families once on a reference config of the hardware space with
:func:`nas.profiling.profile_spaces` (that gives every SSBN's accuracy, which does not depend on the hardware),
then sweeps every SSBN network over every config of the space (:func:`hwsim.sweep.sweep`) and, per config, rebuilds
the BBSSP cost tables (:func:`nas.cost.ssbn_costs`) from those latencies and the same accuracies and runs the
pooled selection (:func:`nas.cost.select_family`). Output folder:

- ``reference/``: the single-device profile (resumable, as ``hwnas profile-space`` writes it) and its device TOML;
- ``hw_profile.json``: per config the point, the winner, the entries each family collected, the candidates per
  layer, their counts and the tuned space size; plus the share of configs each family wins;
- ``summary.md`` and ``plots/winner_map.png`` (winner by two hardware parameters; where other parameters vary
  within a cell, the family winning most of the cell's configs, the number annotated).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.fileio import atomic_write_text
from hwsim.formats import Format
from nas.codesign.pareto import CodesignError
from nas.cost import FamilyCosts, select_family, ssbn_costs

PROFILE_HW = Format("hwnas.profile-hw", 1, "hardware-space profile", CodesignError)  # hw_profile.json


def family_latency(space: Any, lat_of: dict[str, float]) -> np.ndarray:
    """[layers, blocks] latency of one family from SSBN latencies by key (typical entries = SSBN_0's)."""
    from nas.profiling import _family_blocks

    blocks = _family_blocks(space)
    out = np.empty((len(space.choices), len(blocks)))
    for i, c in enumerate(space.choices):
        for j, b in enumerate(blocks):
            out[i, j] = lat_of["ssbn_0" if b == space.typical[i] else f"ssbn_{c.label}_{b}"]
    return out


def select_per_config(families: Sequence[Any], accuracy: Sequence[np.ndarray], latency: Sequence[np.ndarray],
                      cost: Any) -> Any:
    """BBSSP's pooled selection from per-family accuracy and latency tables ([layers, blocks] each)."""
    costs = [FamilyCosts(f.name, tuple(f.choices[0].candidates), tuple(f.typical or ()),
                         ssbn_costs(a, lat, cost).tolist()) for f, a, lat in zip(families, accuracy, latency)]
    return select_family(costs, cost.k)


def profile_across_hw(config: Any, hw_space: Any, out_dir: str | Path, executor: Any = None,
                      map_fn: Any = None, reference: int = 0, x_param: str | None = None,
                      y_param: str | None = None, plots: bool = True, progress: Any = None) -> dict[str, Any]:
    """Profile ``config.spaces`` (a :class:`nas.profiling.ProfileConfig`; its ``device`` is replaced by config
    ``reference`` of ``hw_space``) on every config of ``hw_space``; returns hw_profile.json's content."""
    from hwsim.sweep import sweep
    from nas.profiling import profile_spaces
    from spaces.registry import get_space
    from spaces.ssbn import ssbns

    out = Path(out_dir)
    if not 0 <= reference < hw_space.size:
        raise CodesignError(f"reference config {reference} outside 0..{hw_space.size - 1}")
    names = list(getattr(hw_space, "params", {}) or {})
    for p, what in ((x_param, "--map-x"), (y_param, "--map-y")):
        if p is not None and p not in names:
            raise CodesignError(f"{what}: unknown hardware parameter {p!r}; expected one of {', '.join(names)}")
    ref_toml = out / "reference" / "device.toml"
    atomic_write_text(ref_toml, hw_space.to_toml(hw_space.config(reference)))
    ref = profile_spaces(replace(config, device=str(ref_toml)), out / "reference", executor, progress, plots=plots)
    spaces = [get_space(n) for n in config.spaces]
    acc = [ref.family(s.name).accuracy for s in spaces]
    nets: dict[str, Any] = {}
    for s in spaces:
        for sb in ssbns(s):
            nets[f"{s.name}/{sb.key}"] = s.to_workload(sb.arch)
    sw = sweep(nets, hw_space, out_dir=out / "sweep", map_fn=map_fn)
    row = {k: i for i, k in enumerate(sw.network_ids)}
    configs = []
    for j in range(hw_space.size):
        lats = [family_latency(s, {sb.key: float(sw.latency_ms[row[f"{s.name}/{sb.key}"], j]) for sb in ssbns(s)})
                for s in spaces]
        sel = select_per_config(spaces, acc, lats, config.cost)
        configs.append({"hw_index": j, "hw": dict(hw_space.config(j)), "area_mm2": float(sw.area_mm2[j]),
                        "winner": sel.winner, "entries": dict(sel.counts),
                        "candidate_counts": list(sel.candidate_counts), "candidates": [list(c) for c in sel.candidates],
                        "tuned_space_size": int(sel.tuned_space_size),
                        "ssbn0_latency_ms": {s.name: float(sw.latency_ms[row[f"{s.name}/ssbn_0"], j])
                                             for s in spaces}})
    wins = Counter(c["winner"] for c in configs)
    doc = {**PROFILE_HW.envelope(), "families": [s.name for s in spaces], "hw_space": hw_space.name,
           "reference_config": reference, "reference_winner": ref.selection.winner,
           "cost": config.cost.to_dict(), "accuracy_kind": ref.accuracy_kind,
           "wins": {s.name: wins.get(s.name, 0) for s in spaces}, "configs": configs}
    atomic_write_text(out / "hw_profile.json", json.dumps(doc, indent=1, default=str))
    atomic_write_text(out / "summary.md", _summary(doc))
    if plots and len(names) >= 1:
        x = x_param or names[0]
        y = y_param or (names[1] if len(names) > 1 and names[1] != x else names[0])
        winner_map_figure(doc, x, y, out / "plots" / "winner_map.png")
    return doc


def winner_map_figure(doc: dict[str, Any], x: str, y: str, path: Path) -> Path:
    """Per (x value, y value) cell, the family that wins most of the cell's configs (count annotated)."""
    from nas.codesign.plots import winner_map

    fams = doc["families"]
    xs = list(dict.fromkeys(c["hw"][x] for c in doc["configs"]))
    ys = list(dict.fromkeys(c["hw"][y] for c in doc["configs"]))
    cells: dict[tuple[int, int], Counter] = {}
    for c in doc["configs"]:
        cells.setdefault((ys.index(c["hw"][y]), xs.index(c["hw"][x])), Counter())[c["winner"]] += 1
    win = np.full((len(ys), len(xs)), -1)
    cnt = np.zeros((len(ys), len(xs)), dtype=int)
    for (i, j), ctr in cells.items():
        fam, n = min(ctr.items(), key=lambda kv: (-kv[1], fams.index(kv[0])))
        win[i, j], cnt[i, j] = fams.index(fam), n
    per = max(sum(ctr.values()) for ctr in cells.values())
    return winner_map(path, xs, ys, win, fams, x, y,
                      f"BBSSP winner family on {doc['hw_space']} by {x} x {y} "
                      f"(number: configs of the cell it wins, of {per})", cnt)


def _summary(doc: dict[str, Any]) -> str:
    n = len(doc["configs"])
    lines = [f"# BBSSP across hardware: {', '.join(doc['families'])} on {doc['hw_space']} ({n} configs)", "",
             f"Accuracies evaluated once ({doc['accuracy_kind']}) on reference config {doc['reference_config']} "
             f"(winner there: {doc['reference_winner']}); latency per config from the sweep.", "",
             "| family | configs won | share |", "|---|---|---|"]
    for f, w in doc["wins"].items():
        lines.append(f"| {f} | {w} | {100.0 * w / max(1, n):.1f}% |")
    lines += ["", "| config | hardware | winner | candidates per layer | tuned space |", "|---|---|---|---|---|"]
    for c in doc["configs"][:60]:
        hw = ", ".join(f"{k}={v}" for k, v in c["hw"].items())
        lines.append(f"| {c['hw_index']} | {hw} | {c['winner']} | {','.join(map(str, c['candidate_counts']))} | "
                     f"{c['tuned_space_size']:,} |")
    if n > 60:
        lines.append(f"| ... {n - 60} more in hw_profile.json | | | | |")
    return "\n".join(lines) + "\n"
