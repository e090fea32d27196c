"""The BBSSP profiling pipeline (Zeng et al., ASP-DAC 2020; see docs/bbssp.md).

families + device + accuracy evaluator
  -> SSBNs of each family (SSBN_0 and every single-layer replacement SSBN_(i,j))
  -> whole-network latency ``T`` of each SSBN (``device.run``) and the per-layer profile ``t_i^typ`` of SSBN_0
  -> accuracy ``A`` of each SSBN (train SSBN_0, fine-tune the others from it; or zero-cost proxies; or a table)
  -> cost ``C = exp(-(A - theta)/sigma) - lambda / T``
  -> pooled selection of the winning family and its per-layer candidates (:mod:`nas.cost`)
  -> tuned space + layer-adaptive LUT ``LUT[i][j] = t_i^typ + T(SSBN_ij) - T(SSBN_0)``.

Everything lands in a profile directory::

    run.json                 settings that decide SSBN results (checked when resuming)
    ssbn/<space>/<key>.json  one result per SSBN, written atomically as soon as it finishes
    weights/<space>.pt       SSBN_0's trained weights (train evaluator only)
    summary.json, summary.md, lut.json, tuned_space.json, plots/*.png

Rerunning the same command skips every SSBN whose result exists, and the summary is always rebuilt from the
files, so an interrupted and resumed run ends with the same results as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.errors import HwnasError
from hwsim.fileio import atomic_write_bytes, atomic_write_text
from hwsim.formats import Format, read_text, to_data
from calibration.bbssp import BBSSPLut, backbone_block_layers
from nas.cost import CostParams, FamilyCosts, Selection, proxy_accuracy, proxy_rank, select_family, ssbn_costs
from nas.evaluators.base import EvalTask, Evaluator, task_seed
from nas.executors import Executor, LocalExecutor
from spaces.core import SearchSpace
from spaces.ssbn import SSBN, ssbns

RECORD_FORMAT = "hwnas.ssbn-result"
SUMMARY_FORMAT = "hwnas.bbssp-profile"
LUT_FORMAT = "hwnas.bbssp-lut"
RUN_FORMAT = "hwnas.bbssp-run"
FORMAT_VERSION = 1
DEFAULT_NB201_TYPICAL = "nor_conv_3x3"


class ProfilingError(HwnasError):
    """Inconsistent profile directory or settings."""


RECORD = Format(RECORD_FORMAT, FORMAT_VERSION, "SSBN result", ProfilingError)
SUMMARY = Format(SUMMARY_FORMAT, FORMAT_VERSION, "BBSSP profile summary", ProfilingError)
PROFILE_LUT = Format(LUT_FORMAT, FORMAT_VERSION, "BBSSP LUT file", ProfilingError)
RUN = Format(RUN_FORMAT, FORMAT_VERSION, "profile run settings file", ProfilingError)


# ------------------------------------------------------------------------------------------------
# per-layer attribution of a profile
# ------------------------------------------------------------------------------------------------
def per_layer_times_ms(kernels: Sequence[Any], spans: Sequence[Collection[str]]) -> tuple[float, ...]:
    """Sum of profiled kernel latencies (``KernelProfile.latency_ms``) per searchable layer; a kernel counts for
    the layer that holds its anchor (first) layer; kernels outside every span (stem, head) are not counted.
    ``spans[i]``: the workload layer names of searchable layer i
    (:func:`calibration.bbssp.backbone_block_layers`)."""
    owner = {name: i for i, span in enumerate(spans) for name in span}
    out = [0.0] * len(spans)
    for k in kernels:
        i = owner.get(k.layers[0])
        if i is not None:
            out[i] += k.latency_ms
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# one SSBN: the unit of work
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SSBNJob:
    """Everything a worker needs for one SSBN (picklable)."""

    space: SearchSpace
    ssbn: SSBN
    device: str
    evaluator: Evaluator
    seed: int
    parent_state: bytes | None = None
    keep_state: bool = False
    latency_ms: float | None = None

    @property
    def is_base(self) -> bool:
        return self.ssbn.layer is None


@dataclass(frozen=True)
class SSBNRecord:
    """Result of one SSBN. ``latency_ms``: end-to-end device latency; ``layer_profile_ms``: per-layer profiled
    time (SSBN_0 only); ``accuracy`` (fraction) or ``scores`` (zero-cost proxies) from the evaluator."""

    space: str
    key: str
    layer: str | None
    block: str | None
    arch: str
    seed: int
    latency_ms: float
    kernel_sum_ms: float
    macs: int
    params: int
    accuracy: float | None
    scores: Mapping[str, float]
    details: Mapping[str, Any]
    layer_profile_ms: tuple[float, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return RECORD.wrap(to_data(self))  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str) -> SSBNRecord:
        """Inverse of :meth:`to_dict` (scores and accuracy may be non-finite, as evaluators report them)."""
        return RECORD.build(cls, d, source, finite=False)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SSBNOutcome:
    record: SSBNRecord
    state: bytes | None


def is_cell_space(space: SearchSpace) -> bool:
    """Whether ``space`` is not a layer-wise backbone (e.g. NAS-Bench-201 cells: one choice per edge)."""
    from spaces.backbone import BackboneModel

    return not isinstance(space.model, BackboneModel)


def run_ssbn_job(job: SSBNJob) -> SSBNOutcome:
    """Latency (given, from a latency model; or on the device, plus the per-layer profile of SSBN_0) and accuracy
    from the evaluator.

    A cell space (:func:`is_cell_space`) has no per-layer profile: the latency model is a black box over whole
    networks, so ``t_i^typ`` is 0 for every edge; the layer-adaptive LUT then holds ``T(SSBN_ij) - T(SSBN_0)``
    and its offset ``T(SSBN_0)``, which predicts exactly what it would with any split of ``T(SSBN_0)``."""
    space, arch = job.space, job.ssbn.arch
    cell = is_cell_space(space)
    profile_ms = None
    if job.latency_ms is not None or cell:
        net = space.to_workload(arch)
        if job.is_base:
            profile_ms = (0.0,) * len(space.labels)
    if job.latency_ms is not None:
        latency, kernel_sum = float(job.latency_ms), float(job.latency_ms)
    else:
        from hwsim.devices.registry import get_device

        device = get_device(job.device)
        if not cell:
            if job.is_base:
                net, blocks = backbone_block_layers(space, arch)
                profile_ms = per_layer_times_ms(device.profile(net).kernels, [blocks[lb] for lb in space.labels])
            else:
                net = space.to_workload(arch)
        run = device.run(net)
        latency, kernel_sum = float(run.latency_ms), float(run.kernel_sum_ms)
    res = job.evaluator.evaluate(EvalTask(space, arch, f"{space.name}/{job.ssbn.key}", job.seed,
                                          job.parent_state, job.keep_state))
    rec = SSBNRecord(space.name, job.ssbn.key, job.ssbn.layer, job.ssbn.block, space.format(arch), job.seed,
                     latency, kernel_sum, int(net.total_macs), int(net.total_params),
                     res.accuracy, dict(res.scores), dict(res.details), profile_ms)
    return SSBNOutcome(rec, res.state)


# ------------------------------------------------------------------------------------------------
# settings and the directory layout
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProfileConfig:
    """What to profile. ``spaces``: BBSSP family spaces (built-in names such as ``bbssp-res-cifar``) or one cell
    space (``nb201``); ``device``: preset name or device ``.toml``; ``seed``: run seed; ``cost``: cost knobs and K;
    ``typical``: SSBN_0's arch string (one space only; default: the space's typical arch, for NB201 every edge
    ``nor_conv_3x3``); ``latency``: a :class:`nas.latency_models.LatencyModel` for the SSBN latencies instead of
    running them on ``device``."""

    spaces: tuple[str, ...]
    device: str
    evaluator: Evaluator
    cost: CostParams = CostParams()
    seed: int = 0
    typical: str | None = None
    latency: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spaces", tuple(self.spaces))
        if not self.spaces:
            raise ProfilingError("profiling needs at least one family space")
        if len(set(self.spaces)) != len(self.spaces):
            raise ProfilingError(f"duplicate family spaces: {list(self.spaces)}")
        if (self.typical is not None or self.latency is not None) and len(self.spaces) != 1:
            raise ProfilingError("a typical arch or a latency model goes with a single space")

    def space_objects(self) -> list[SearchSpace]:
        """The spaces to profile, with SSBN_0 set from ``typical`` (or the NB201 default)."""
        from spaces.registry import get_space

        out = []
        for name in self.spaces:
            sp = get_space(name)
            typ = self.typical
            if typ is None and sp.typical is None and is_cell_space(sp) and sp.model.kind == "nb201":
                typ = "|" + "|+|".join("|".join(f"{DEFAULT_NB201_TYPICAL}~{i}" for i in range(j))
                                       for j in (1, 2, 3)) + "|"
            if typ is not None:
                a = sp.parse(typ)
                sp = dataclasses.replace(sp, typical=tuple(a[lb] for lb in sp.labels))
            out.append(sp)
        return out

    def fingerprint(self) -> dict[str, Any]:
        """The settings every SSBN result depends on (cost knobs are not among them: reselecting is free)."""
        fp = RUN.wrap({"device": self.device, "device_config": _device_tables(self.device),
                       "evaluator": self.evaluator.config(), "seed": self.seed})
        if self.typical is not None:
            fp["typical"] = self.typical
        if self.latency is not None:
            fp["latency"] = self.latency.describe()
        return fp


def _device_tables(device: str) -> Any:
    """The device's parsed config (preset or .toml), so a changed device model is not mixed with old results."""
    from hwsim.devices.config import read_toml
    from hwsim.devices.registry import builtin_presets, preset_tables

    if device in builtin_presets():
        return json.loads(json.dumps(preset_tables(device), default=str))
    return json.loads(json.dumps(read_toml(Path(device)), default=str))


@dataclass(frozen=True)
class ProfileDir:
    """Paths inside a profile directory."""

    root: Path

    @property
    def run_file(self) -> Path:
        return self.root / "run.json"

    def record(self, space: str, key: str) -> Path:
        return self.root / "ssbn" / space / f"{key}.json"

    def weights(self, space: str) -> Path:
        return self.root / "weights" / f"{space}.pt"


def _check_fingerprint(pdir: ProfileDir, fp: Mapping[str, Any]) -> None:
    if pdir.run_file.is_file():
        old = RUN.load(pdir.run_file)
        if old != fp:
            diff = sorted(k for k in set(old) | set(fp) if old.get(k) != fp.get(k))
            raise ProfilingError(f"{pdir.root}: holds SSBN results made with other settings (differing: "
                                 f"{', '.join(diff)}); use another --out directory")
    else:
        RUN.write(pdir.run_file, fp, indent=1, sort_keys=True)


def load_record(path: Path) -> SSBNRecord | None:
    if not path.is_file():
        return None
    return SSBNRecord.from_dict(RECORD.load(path), str(path))


# ------------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FamilyProfile:
    """All SSBN results of one family, as tables over (layer i, block j).

    ``latency_ms[i][j]`` and ``accuracy[i][j]`` are those of SSBN_(i,j) (SSBN_0's for the typical block);
    ``typical_layer_ms[i]`` is t_i^typ from SSBN_0's per-layer profile; ``lut_ms`` the layer-adaptive LUT.
    """

    space: SearchSpace
    blocks: tuple[str, ...]
    base: SSBNRecord
    records: tuple[SSBNRecord, ...]
    latency_ms: np.ndarray
    accuracy: np.ndarray
    typical_layer_ms: tuple[float, ...]

    @property
    def lut_ms(self) -> np.ndarray:
        """``LUT[i][j] = t_i^typ + T(SSBN_ij) - T(SSBN_0)``."""
        return np.asarray(self.typical_layer_ms)[:, None] + (self.latency_ms - self.base.latency_ms)


@dataclass(frozen=True)
class ProfileResult:
    """Outcome of :func:`profile_spaces` (also written to the profile directory)."""

    config: ProfileConfig
    families: tuple[FamilyProfile, ...]
    costs: tuple[FamilyCosts, ...]
    selection: Selection
    tuned_space: SearchSpace
    accuracy_kind: str
    summary: Mapping[str, Any] = field(default_factory=dict)

    def family(self, space_name: str) -> FamilyProfile:
        for f in self.families:
            if f.space.name == space_name:
                return f
        raise KeyError(space_name)

    @property
    def winner(self) -> FamilyProfile:
        return self.family(self.selection.winner)


def _family_blocks(space: SearchSpace) -> tuple[str, ...]:
    """The family's blocks (every layer of a BBSSP family space offers the same ones)."""
    first = space.choices[0].candidates
    for c in space.choices:
        if c.candidates != first:
            raise ProfilingError(f"space {space.name!r}: layers offer different blocks; BBSSP families must not")
    if space.typical is None:
        raise ProfilingError(f"space {space.name!r} has no typical block per layer")
    return first


def _assemble(space: SearchSpace, records: Mapping[str, SSBNRecord], acc_of: Callable[[SSBNRecord], float]
              ) -> FamilyProfile:
    blocks = _family_blocks(space)
    base = records["ssbn_0"]
    if base.layer_profile_ms is None:
        raise ProfilingError(f"{space.name}: SSBN_0 result lacks its per-layer profile")
    L, B = len(space.choices), len(blocks)
    by_pair = {(r.layer, r.block): r for r in records.values()}
    lat = np.empty((L, B))
    acc = np.empty((L, B))
    for i, c in enumerate(space.choices):
        for j, b in enumerate(blocks):
            r = base if b == space.typical[i] else by_pair[(c.label, b)]
            lat[i, j] = r.latency_ms
            acc[i, j] = acc_of(r)
    ordered = tuple(records[s.key] for s in ssbns(space))
    return FamilyProfile(space, blocks, base, ordered, lat, acc, base.layer_profile_ms)


def _accuracy_function(all_records: Sequence[SSBNRecord], cost: CostParams
                       ) -> tuple[Callable[[SSBNRecord], float], str]:
    """Accuracy as reported, or for proxy evaluators the pooled rank of each proxy averaged over proxies and mapped
    onto ``cost.theta +- cost.proxy_spread / 2`` (:func:`nas.cost.proxy_accuracy`)."""
    if all(r.accuracy is not None for r in all_records):
        return (lambda r: float(r.accuracy)), "accuracy"  # type: ignore[arg-type]
    if any(r.accuracy is not None for r in all_records):
        raise ProfilingError("SSBN results mix accuracies and proxy scores")
    proxies = sorted(all_records[0].scores)
    if not proxies or any(sorted(r.scores) != proxies for r in all_records):
        raise ProfilingError("SSBN results carry neither accuracies nor the same proxy scores")
    ids = [(r.space, r.key) for r in all_records]
    ranks = np.mean([proxy_rank([r.scores[p] for r in all_records]) for p in proxies], axis=0)
    table = dict(zip(ids, proxy_accuracy(ranks, cost).tolist()))
    return ((lambda r: table[(r.space, r.key)]),
            f"proxy-rank({'+'.join(proxies)}) on {cost.theta:g} +- {cost.proxy_spread / 2:g}")


# ------------------------------------------------------------------------------------------------
# the pipeline
# ------------------------------------------------------------------------------------------------
ProgressFactory = Callable[[int, str], Any]


def _null_progress(total: int, desc: str) -> Any:
    class _P:
        def update(self, n: int = 1) -> None:
            pass

        def close(self) -> None:
            pass
    return _P()


def profile_spaces(config: ProfileConfig, out_dir: str | Path, executor: Executor | None = None,
                   progress: ProgressFactory | None = None, plots: bool = True) -> ProfileResult:
    """Run (or resume) the whole BBSSP profiling pipeline into ``out_dir`` and return its result."""
    executor = executor or LocalExecutor()
    progress = progress or _null_progress
    pdir = ProfileDir(Path(out_dir))
    pdir.root.mkdir(parents=True, exist_ok=True)
    _check_fingerprint(pdir, config.fingerprint())
    spaces = config.space_objects()
    for s in spaces:
        _family_blocks(s)
    ev = config.evaluator
    lat: dict[tuple[str, str], float] = {}
    if config.latency is not None:  # one batch over every SSBN, in this process
        for s in spaces:
            nets = ssbns(s)
            for sb, v in zip(nets, config.latency.predict_ms([sb.arch for sb in nets])):
                lat[(s.name, sb.key)] = float(v)

    def job(space: SearchSpace, sb: SSBN, parent: bytes | None = None) -> SSBNJob:
        return SSBNJob(space, sb, config.device, ev, task_seed(config.seed, f"{space.name}/{sb.key}"), parent,
                       keep_state=sb.layer is None and ev.needs_parent, latency_ms=lat.get((space.name, sb.key)))

    def done(space: SearchSpace, sb: SSBN) -> bool:
        if not pdir.record(space.name, sb.key).is_file():
            return False
        return not (sb.layer is None and ev.needs_parent and not pdir.weights(space.name).is_file())

    def persist(jobs: Sequence[SSBNJob], bar: Any) -> Callable[[int, SSBNOutcome], None]:
        def on_done(i: int, out: SSBNOutcome) -> None:
            j = jobs[i]
            if out.state is not None:
                atomic_write_bytes(pdir.weights(j.space.name), out.state)
            RECORD.write(pdir.record(j.space.name, j.ssbn.key), out.record.to_dict(), indent=1)
            bar.update(1)
        return on_done

    all_ssbns = {s.name: ssbns(s) for s in spaces}
    total = sum(len(v) for v in all_ssbns.values())
    bar = progress(total, "SSBNs")
    try:
        bar.update(sum(done(s, sb) for s in spaces for sb in all_ssbns[s.name]))
        stage1 = [job(s, all_ssbns[s.name][0]) for s in spaces if not done(s, all_ssbns[s.name][0])]
        executor.map(run_ssbn_job, stage1, persist(stage1, bar))
        stage2 = []
        for s in spaces:
            parent = pdir.weights(s.name).read_bytes() if ev.needs_parent else None
            stage2 += [job(s, sb, parent) for sb in all_ssbns[s.name][1:] if not done(s, sb)]
        executor.map(run_ssbn_job, stage2, persist(stage2, bar))
    finally:
        bar.close()
    return summarise(config, pdir.root, plots=plots)


def summarise(config: ProfileConfig, out_dir: str | Path, plots: bool = True) -> ProfileResult:
    """Selection, tuned space, LUT and reports from the SSBN results stored in ``out_dir``."""
    pdir = ProfileDir(Path(out_dir))
    spaces = config.space_objects()
    recs: dict[str, dict[str, SSBNRecord]] = {}
    for s in spaces:
        recs[s.name] = {}
        for sb in ssbns(s):
            r = load_record(pdir.record(s.name, sb.key))
            if r is None:
                raise ProfilingError(f"{pdir.record(s.name, sb.key)}: SSBN result missing; rerun profiling")
            recs[s.name][sb.key] = r
    flat = [r for s in spaces for r in recs[s.name].values()]
    acc_of, kind = _accuracy_function(flat, config.cost)
    fams = tuple(_assemble(s, recs[s.name], acc_of) for s in spaces)
    costs = tuple(FamilyCosts(f.space.name, f.blocks, f.space.typical or (),
                              ssbn_costs(f.accuracy, f.latency_ms, config.cost).tolist()) for f in fams)
    sel = select_family(costs, config.cost.k)
    win = next(f for f in fams if f.space.name == sel.winner)
    tuned = win.space.restrict({c.label: cands for c, cands in zip(win.space.choices, sel.candidates)},
                               name=f"{win.space.name}-tuned")
    result = ProfileResult(config, fams, costs, sel, tuned, kind)
    summary = summary_dict(result)
    result = dataclasses.replace(result, summary=summary)
    write_reports(result, pdir.root, plots=plots)
    return result


def family_lut(fam: FamilyProfile) -> BBSSPLut:
    """The family's layer-adaptive LUT (offset mode: ``T(arch) = T(SSBN_0) - sum t^typ + sum_i LUT[i][arch_i]``)."""
    times = {(c.label, b): float(fam.latency_ms[i, j]) for i, c in enumerate(fam.space.choices)
             for j, b in enumerate(fam.blocks)}
    return BBSSPLut.from_ssbn_times(fam.space.labels, fam.space.typical or (), fam.typical_layer_ms,
                                    fam.base.latency_ms, times, fam.space)


def summary_dict(result: ProfileResult) -> dict[str, Any]:
    sel = result.selection
    cost_of = {c.family: c for c in result.costs}
    fams = []
    ssbn_rows = []
    for f in result.families:
        fc = cost_of[f.space.name]
        fams.append({"space": f.space.name, "num_ssbn": len(f.records), "ssbn0_latency_ms": f.base.latency_ms,
                     "ssbn0_accuracy": f.base.accuracy, "entries_at_selection": sel.counts[f.space.name],
                     "min_cost": min(min(r) for r in fc.cost), "typical_layer_ms": list(f.typical_layer_ms)})
        L = {c.label: i for i, c in enumerate(f.space.choices)}
        for r in f.records:
            i = L[r.layer] if r.layer is not None else None
            j = f.blocks.index(r.block) if r.block is not None else None
            acc = float(f.accuracy[i, j]) if i is not None else float(f.accuracy[0, f.blocks.index(
                f.space.typical[0])])  # type: ignore[index]
            cost = fc.cost[i][j] if i is not None and j is not None else fc.cost[0][f.blocks.index(
                f.space.typical[0])]  # type: ignore[index]
            ssbn_rows.append({"space": r.space, "key": r.key, "layer": r.layer, "block": r.block, "arch": r.arch,
                              "latency_ms": r.latency_ms, "accuracy": r.accuracy, "scores": dict(r.scores),
                              "accuracy_for_cost": acc, "cost": cost, "seed": r.seed, "macs": r.macs,
                              "params": r.params})
    win = result.winner
    return {
        **SUMMARY.envelope(),
        "device": result.config.device, "evaluator": result.config.evaluator.config(),
        "latency_model": None if result.config.latency is None else result.config.latency.describe(),
        "seed": result.config.seed, "cost": result.config.cost.to_dict(), "accuracy_kind": result.accuracy_kind,
        "families": fams,
        "winner": sel.winner,
        "candidates_per_layer": [list(c) for c in sel.candidates],
        "candidate_counts": list(sel.candidate_counts),
        "tuned_space_size": sel.tuned_space_size,
        "full_space_size": win.space.size(),
        "selected_entries": [{"layer": e.layer, "block": e.block, "cost": e.cost} for e in sel.entries],
        "tuned_space": result.tuned_space.to_dict(),
        "winner_space": win.space.to_dict(),
        "ssbn": ssbn_rows,
    }


def _markdown(result: ProfileResult) -> str:
    s = result.summary
    lm = s.get("latency_model")
    on = s["device"] if not lm else "latency model " + ", ".join(f"{k} {v}" for k, v in lm.items())
    lines = [f"# BBSSP profile on `{on}`", "",
             f"Evaluator: `{s['evaluator']['name']}` ({s['accuracy_kind']}); seed {s['seed']}; cost "
             f"theta={s['cost']['theta']}, sigma={s['cost']['sigma']}, lambda={s['cost']['lam']}, K={s['cost']['k']}.",
             "", "| family | SSBNs | T(SSBN_0) ms | A(SSBN_0) | entries when the winner reached K | min cost |",
             "|---|---|---|---|---|---|"]
    for f in s["families"]:
        a = "-" if f["ssbn0_accuracy"] is None else f"{f['ssbn0_accuracy']:.4f}"
        lines.append(f"| {f['space']} | {f['num_ssbn']} | {f['ssbn0_latency_ms']:.4f} | {a} | "
                     f"{f['entries_at_selection']} | {f['min_cost']:.4f} |")
    lines += ["", f"**Winner: `{s['winner']}`** -- tuned space {s['tuned_space_size']:,} architectures "
              f"(full space {s['full_space_size']:,}).", "", "| layer | candidates |", "|---|---|"]
    for label, cands in zip(result.tuned_space.labels, s["candidates_per_layer"]):
        lines.append(f"| {label} | {', '.join(cands)} ({len(cands)}) |")
    lines += ["", "Candidate counts per layer: " + ",".join(str(c) for c in s["candidate_counts"]), "",
              "Files: `summary.json`, `lut.json` (layer-adaptive LUT of every family), `tuned_space.json`, "
              "`plots/cost_scatter.png`, `plots/candidates_heatmap.png`, `ssbn/<space>/<key>.json`.", ""]
    return "\n".join(lines)


def write_reports(result: ProfileResult, out_dir: Path, plots: bool = True) -> None:
    """summary.json, summary.md, lut.json, tuned_space.json and the plots (all written atomically)."""
    SUMMARY.write(out_dir / "summary.json", result.summary, indent=1)
    atomic_write_text(out_dir / "summary.md", _markdown(result))
    luts = {"device": result.config.device, "winner": result.selection.winner,
            "note": "LUT[i][j] = t_i^typ + T(SSBN_ij) - T(SSBN_0); T(arch) = offset_ms + sum_i LUT[i][arch_i]",
            "families": {f.space.name: family_lut(f).to_dict() for f in result.families}}
    PROFILE_LUT.write(out_dir / "lut.json", luts, indent=1)
    atomic_write_text(out_dir / "tuned_space.json", result.tuned_space.to_json() + "\n")
    if plots:
        from nas.plots import candidate_heatmap, cost_scatter

        cost_scatter(result, out_dir / "plots" / "cost_scatter.png")
        candidate_heatmap(result, out_dir / "plots" / "candidates_heatmap.png")


@dataclass(frozen=True)
class _LutFileDoc:
    """The body of a profile's ``lut.json``: one BBSSP corrector dict per family."""

    device: str
    winner: str
    families: Mapping[str, Mapping[str, Any]]
    note: str = ""


@dataclass(frozen=True)
class _SummaryDoc:
    """The body of a profile's ``summary.json`` (nested rows are checked as objects)."""

    device: str
    evaluator: Mapping[str, Any]
    seed: int
    cost: Mapping[str, Any]
    accuracy_kind: str
    families: tuple[Mapping[str, Any], ...]
    winner: str
    candidates_per_layer: tuple[tuple[str, ...], ...]
    candidate_counts: tuple[int, ...]
    tuned_space_size: int
    full_space_size: int
    selected_entries: tuple[Mapping[str, Any], ...]
    tuned_space: Mapping[str, Any]
    winner_space: Mapping[str, Any]
    ssbn: tuple[Mapping[str, Any], ...]
    latency_model: str | Mapping[str, Any] | None = None


def load_summary(path: str | Path) -> dict[str, Any]:
    """A profile's ``summary.json`` (the parsed JSON, its envelope and fields checked)."""
    doc = SUMMARY.load(path)
    SUMMARY.build(_SummaryDoc, doc, str(path), finite=False)
    return dict(doc)


def load_lut(path: str | Path, space: SearchSpace | None = None) -> BBSSPLut:
    """One family's LUT from a profile's ``lut.json`` (``space``'s, or the winner's when None)."""
    p = Path(path)
    doc = PROFILE_LUT.build(_LutFileDoc, PROFILE_LUT.parse(read_text(p, ProfilingError), str(p)), str(p))
    name = space.name.removesuffix("-tuned") if space is not None else doc.winner
    if name not in doc.families:
        raise ProfilingError(f"{p}: no LUT for space {name!r}; has {', '.join(doc.families)}")
    entry = {**doc.families[name], "space": None}
    return dataclasses.replace(BBSSPLut.from_dict(entry, f"{p}: families.{name}"), space=space)
