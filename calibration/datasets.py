"""Loaders for the public real-board datasets in the shared data folder (see ``data/README.md`` there).

* NAS-Bench-201 latency tables (HELP ``nb201_help.csv``, nn-Meter ``nb201_nnmeter.csv``): one device column at a
  time -> :class:`~calibration.measurements.MeasurementSet`; :func:`nb201_columns` says per column whether it is
  a measurement or a simulator estimate, and how the measuring pipeline executed the cell (:data:`EXECUTION_SPACES`):

  - ``pruned``: a model converter removed every edge that cannot carry the input to the output (nn-Meter's
    TFLite/OpenVINO columns);
  - ``unpruned``: PyTorch eager ran every edge (HELP's GPU/CPU/phone columns; the eyeriss/fpga estimates are
    exact sums over every edge as well);
  - ``zero-folded``: HW-NAS-Bench's Pixel 3 / Raspberry Pi 4 converter turned ``none`` edges into constant zeros
    and removed code that cannot reach the output, but still ran the ops that read those zeros
    (:func:`spaces.nb201.zero_folded_cell`). Evidence in the data (both columns agree): a linear fit of latency on
    per-op counts gives an op reading a constant zero the same cost as a live op (Pixel 3: 6.27 vs 6.27 ms per
    ``nor_conv_3x3`` edge over the 15 cells; Raspberry Pi 4: 16.2 vs 16.0 ms), while edges that cannot reach the
    output cost ~0; in the 164 groups of cells with the same live edges, one more zero-fed ``nor_conv_3x3`` per
    cell adds a median 6.7 ms / 16.4 ms, where ``pruned`` would see the same network. The lone-convolution
    exception changes 690 cells and moves the count fit closer to the measurement in 92 % (Pixel 3) / 95 %
    (Raspberry Pi 4) of them.

  :func:`execution_fit` scores the modes on a column without any device model; on all 31 NB201 columns the
  declared mode scores best (e.g. Pixel 3: zero-folded 82 %, pruned 62 % of cells within +-10 %; nn-Meter
  Cortex-A76: pruned 99.5 %, zero-folded 91 %; GTX 1080 Ti batch 1: unpruned 99.9 %, zero-folded 87 %).
* HELP FBNet table ``fbnet_help.csv`` (op-index rows -> archs of the ``fbnet`` space).
* HW-NAS-Bench FBNet block LUT (``fbnet_hwnasbench_block_lut.csv``).
* Vitis AI model-zoo latencies and DPU per-node profiles (``dpu/``), and the BBSSP authors' ZCU102 layer-adaptive
  LUT (``dpu/bbssp_zcu102/``).

Empty cells in the shared tables mean "not measured" and are skipped (counted in ``skipped``); any other bad value
raises :class:`~calibration.measurements.MeasurementError` naming file, line and column.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from calibration.measurements import Measurement, MeasurementError, MeasurementSet
from calibration.workloads import UNPRUNED_NB201, ZERO_FOLDED_NB201

NB201_ID_COLUMNS = ("nb201_idx", "arch_str")
FBNET_ID_COLUMNS = ("row", "op_idx_list")
FBNET_OPS = ("k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip")


#: Execution mode of a NAS-Bench-201 column -> the workload space that models it (see module docstring).
EXECUTION_SPACES: Mapping[str, str] = MappingProxyType({
    "pruned": "nb201",
    "unpruned": UNPRUNED_NB201,
    "zero-folded": ZERO_FOLDED_NB201,
})


@dataclass(frozen=True)
class DatasetColumn:
    """One device column of a shared latency table.

    ``status``: ``measured`` or ``estimate`` (simulator output, not a board); ``execution``: a key of
    :data:`EXECUTION_SPACES` (see module docstring), which picks the workload space; ``resolution_ms``: the
    table's rounding step (whole milliseconds for some phones), None when finer; ``provenance``: where it comes from.
    """

    name: str
    status: str
    execution: str
    resolution_ms: float | None
    provenance: str

    def __post_init__(self) -> None:
        if self.execution not in EXECUTION_SPACES:
            raise MeasurementError(f"column {self.name!r}: unknown execution {self.execution!r}; expected one of "
                                   f"{', '.join(EXECUTION_SPACES)}")

    @property
    def space(self) -> str:
        """The workload space matching the execution (:data:`EXECUTION_SPACES`)."""
        return EXECUTION_SPACES[self.execution]


_HELP_ESTIMATES = ("eyeriss", "fpga")
_HELP_ZERO_FOLDED = ("pixel3", "raspi4")
_HELP_WHOLE_MS = ("essential_ph_1", "pixel2", "samsung_a50", "samsung_s7")

#: HELP and nn-Meter provenance of each column kind (see data/README.md).
PROVENANCE: Mapping[str, str] = MappingProxyType({
    "help": "HELP (HayeonLee/HELP data/nasbench201/latency): PyTorch eager NB201 network, every edge executed",
    "help-hwnasbench": "HW-NAS-Bench measurement via a model converter (none edges folded to zeros, ops on them "
                       "kept), as shipped by HELP",
    "help-estimate": "HW-NAS-Bench simulator estimate (not a measurement), as shipped by HELP",
    "nnmeter": "nn-Meter (microsoft/nn-Meter data/model_latency): TFLite/OpenVINO converted model (dead edges removed)",
})


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if not path.is_file():
        raise MeasurementError(f"{path}: dataset file not found")
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise MeasurementError(f"{path}: empty file") from None
        rows = []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise MeasurementError(f"{path}:{reader.line_num}: malformed row: {len(row)} fields, header has "
                                       f"{len(header)}")
            rows.append((reader.line_num, row))
    return header, rows


def _require_columns(path: Path, header: Sequence[str], need: Sequence[str]) -> None:
    """Fail with "missing column" naming the first of ``need`` not in ``header``."""
    for c in need:
        if c not in header:
            raise MeasurementError(f"{path}:1: missing column {c!r}")


def _read_table(path: Path, need: Sequence[str]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """:func:`_read_csv` with the ``need`` columns checked; each row as ``(line, {column: text})``."""
    header, rows = _read_csv(path)
    _require_columns(path, header, need)
    return header, [(line, dict(zip(header, row))) for line, row in rows]


def nb201_columns(path: str | Path) -> tuple[DatasetColumn, ...]:
    """The device columns of a NAS-Bench-201 latency table with their status and execution mode."""
    p = Path(path)
    header = _header_only(p)
    _require_columns(p, header, NB201_ID_COLUMNS)
    nnmeter = "nnmeter" in p.name
    out = []
    for c in header:
        if c in NB201_ID_COLUMNS:
            continue
        if nnmeter:
            out.append(DatasetColumn(c, "measured", "pruned", None, PROVENANCE["nnmeter"]))
        elif c in _HELP_ESTIMATES:
            out.append(DatasetColumn(c, "estimate", "unpruned", None, PROVENANCE["help-estimate"]))
        elif c in _HELP_ZERO_FOLDED:
            out.append(DatasetColumn(c, "measured", "zero-folded", None, PROVENANCE["help-hwnasbench"]))
        else:
            out.append(DatasetColumn(c, "measured", "unpruned", 1.0 if c in _HELP_WHOLE_MS else None,
                                     PROVENANCE["help"]))
    return tuple(out)


def _executed_ops(arch: Mapping[str, str], execution: str) -> tuple[bool, list[str]]:
    """(does the cell output read the cell input, ops one cell executes) under ``execution``."""
    from spaces.nb201 import EDGES, live_edges, zero_folded_cell

    ops = {(j, i): arch[f"edge_{j}_{i}"] for j, i in EDGES}
    if execution == "unpruned":
        return True, [ops[e] for e in EDGES]
    if execution == "pruned":
        live = live_edges(ops)
        return bool(live), [ops[e] for e in live]
    cell = zero_folded_cell(ops)
    return cell.reads_input, [ops[e] for e in cell.edges]


def execution_fit(arch_strings: Sequence[str], latency_ms: Sequence[float] | np.ndarray,
                  executions: Sequence[str] = tuple(EXECUTION_SPACES)) -> dict[str, float]:
    """How well each execution mode explains a NAS-Bench-201 latency column: share within +-10 %.

    Per mode, latency is fitted by least squares on relative error to the counts of each op the cells execute
    (plus an intercept; cells whose output ignores the cell input get their own intercept and counts, since only
    the last cell of those networks runs). No device model is involved: the mode that explains a column best is the
    one whose executed-op counts carry its latency. ``arch_strings`` are NB201 arch strings.
    """
    from spaces.nb201 import NB201_OPS
    from spaces.registry import get_space

    y = np.asarray(latency_ms, dtype=float)
    if y.shape != (len(arch_strings),) or not np.all(np.isfinite(y)) or np.any(y <= 0):
        raise MeasurementError(f"execution_fit: need one finite latency > 0 ms per arch ({len(arch_strings)}), "
                               f"got shape {y.shape}")
    for ex in executions:
        if ex not in EXECUTION_SPACES:
            raise MeasurementError(f"execution_fit: unknown execution {ex!r}; expected one of "
                                   f"{', '.join(EXECUTION_SPACES)}")
    space = get_space("nb201")
    archs = [space.parse(s) for s in arch_strings]
    width = len(NB201_OPS) + 1
    out = {}
    for ex in executions:
        X = np.zeros((len(archs), 2 * width))
        for r, a in enumerate(archs):
            reads, ops = _executed_ops(a, ex)
            base = 0 if reads else width
            X[r, base] = 1.0
            for op in ops:
                X[r, base + 1 + NB201_OPS.index(op)] += 1.0
        X = X[:, X.any(axis=0)]
        w, *_ = np.linalg.lstsq(X / y[:, None], np.ones(len(y)), rcond=None)
        out[ex] = float(np.mean(np.abs(X @ w / y - 1) <= 0.10))
    return out


def _header_only(path: Path) -> list[str]:
    if not path.is_file():
        raise MeasurementError(f"{path}: dataset file not found")
    with path.open(newline="") as fh:
        line = fh.readline()
    if not line:
        raise MeasurementError(f"{path}: empty file")
    return [h.strip() for h in next(csv.reader([line]))]


def _cell_float(path: Path, line: int, column: str, text: str, positive: bool, want: str) -> float | None:
    """The number in one CSV cell (None when blank); non-finite, or ``<= 0`` when ``positive``, fails with
    "column ... must be ``want``"."""
    t = text.strip()
    if not t:
        return None
    try:
        v = float(t)
    except ValueError:
        raise MeasurementError(f"{path}:{line}: column {column!r} is not a number: {text!r}") from None
    if not math.isfinite(v) or (positive and v <= 0):
        raise MeasurementError(f"{path}:{line}: column {column!r} must be {want}, got {text!r}")
    return v


def _latency(path: Path, line: int, column: str, text: str) -> float | None:
    return _cell_float(path, line, column, text, True, "a finite latency > 0 ms")


@dataclass(frozen=True)
class DatasetLoad:
    """A loaded column: its measurements, the column description, and how many empty cells were skipped."""

    measurements: MeasurementSet
    column: DatasetColumn
    skipped: int


def load_nb201_latency(path: str | Path, column: str, space: str | None = None) -> DatasetLoad:
    """One device column of ``nb201_help.csv`` / ``nb201_nnmeter.csv`` as measurements.

    Ids are ``nb201_<index>``; the space is the column's execution space unless ``space`` overrides it.
    """
    p = Path(path)
    cols = {c.name: c for c in nb201_columns(p)}
    if column not in cols:
        raise MeasurementError(f"{p}:1: unknown device column {column!r}; columns: {', '.join(cols)}")
    col = cols[column]
    header, rows = _read_csv(p)
    ci, ai, ii = header.index(column), header.index("arch_str"), header.index("nb201_idx")
    out, skipped = [], 0
    cond = f"batch={column.rsplit('_', 1)[1]}" if column.rsplit("_", 1)[-1].isdigit() else ""
    for line, row in rows:
        v = _latency(p, line, column, row[ci])
        if v is None:
            skipped += 1
            continue
        out.append(Measurement(id=f"nb201_{row[ii].strip()}", device=column, latency_ms=v, space=space or col.space,
                               arch=row[ai].strip(), conditions=cond, source=f"{p}:{line}"))
    return DatasetLoad(MeasurementSet(tuple(out), str(p)), col, skipped)


def fbnet_columns(path: str | Path) -> tuple[str, ...]:
    header = _header_only(Path(path))
    return tuple(c for c in header if c not in FBNET_ID_COLUMNS)


def load_fbnet_help(path: str | Path, column: str, space: str = "fbnet") -> DatasetLoad:
    """One device column of HELP's FBNet table; ``op_idx_list`` (HW-NAS-Bench op order) -> ``fbnet`` arch string."""
    p = Path(path)
    header, rows = _read_csv(p)
    if column not in header or column in FBNET_ID_COLUMNS:
        raise MeasurementError(f"{p}:1: unknown device column {column!r}; columns: "
                               f"{', '.join(c for c in header if c not in FBNET_ID_COLUMNS)}")
    ci, oi, ri = header.index(column), header.index("op_idx_list"), header.index("row")
    out, skipped = [], 0
    status = "estimate" if column in _HELP_ESTIMATES else "measured"
    for line, row in rows:
        v = _latency(p, line, column, row[ci])
        if v is None:
            skipped += 1
            continue
        try:
            ops = [FBNET_OPS[int(x)] for x in row[oi].strip().split("-")]
        except (ValueError, IndexError):
            raise MeasurementError(f"{p}:{line}: column 'op_idx_list' must be '-'-joined op indices 0..8, got "
                                   f"{row[oi]!r}") from None
        out.append(Measurement(id=f"fbnet_{row[ri].strip()}", device=column, latency_ms=v, space=space,
                               arch="-".join(ops), source=f"{p}:{line}"))
    col = DatasetColumn(column, status, "unpruned", 1.0 if column in _HELP_WHOLE_MS else None,
                        "HELP data/fbnet" + (" (block-LUT sum)" if column in ("pixel3", "raspi4", *_HELP_ESTIMATES)
                                             else ""))
    return DatasetLoad(MeasurementSet(tuple(out), str(p)), col, skipped)


@dataclass(frozen=True)
class BlockLutEntry:
    """One HW-NAS-Bench FBNet block (``kind`` ConvBlock/Skip/ConvNorm/AvgP/FC) with per-device latency (ms);
    shape fields are None where the block has none (an FC has no H/W/kernel)."""

    key: str
    kind: str
    h: int | None
    w: int | None
    cin: int
    cout: int
    exp: int | None
    kernel: int | None
    stride: int | None
    group: int | None
    latency_ms: Mapping[str, float]


def load_fbnet_block_lut(path: str | Path) -> tuple[BlockLutEntry, ...]:
    """The HW-NAS-Bench FBNet block LUT (CSV form): latency columns ``<device>_latency`` -> ``latency_ms[device]``."""
    p = Path(path)
    header, rows = _read_table(p, ("block_key", "kind", "H", "W", "Cin", "Cout", "exp", "kernel", "stride",
                                   "group"))
    lat_cols = [c for c in header if c.endswith("_latency")]
    out = []
    for line, d in rows:

        def num(c: str, optional: bool = False) -> int | None:
            t = d[c].strip()
            if not t and optional:
                return None
            try:
                return int(float(t))
            except ValueError:
                raise MeasurementError(f"{p}:{line}: column {c!r} is not a number: {d[c]!r}") from None

        lats = {}
        for c in lat_cols:
            t = d[c].strip()
            try:
                v = float(t)
            except ValueError:
                raise MeasurementError(f"{p}:{line}: column {c!r} is not a number: {d[c]!r}") from None
            if not math.isfinite(v) or v < 0:
                raise MeasurementError(f"{p}:{line}: column {c!r} must be a finite latency >= 0 ms, got {d[c]!r}")
            lats[c[: -len("_latency")]] = v
        out.append(BlockLutEntry(d["block_key"], d["kind"], num("H", True), num("W", True), num("Cin") or 0,
                                 num("Cout") or 0, num("exp", True), num("kernel", True), num("stride", True),
                                 num("group", True), MappingProxyType(lats)))
    return tuple(out)


@dataclass(frozen=True)
class ZooLatency:
    """One Vitis AI model-zoo row: ``latency_ms`` (single thread, end to end; None where the release lists none),
    ``fps_1thread`` / ``fps_multithread`` (None where absent), ``gops`` as in the model name."""

    model: str
    framework: str
    input_hw: str
    gops: float
    board: str
    dpu_arch: str
    vitis_ai_version: str
    latency_ms: float | None
    fps_1thread: float | None
    fps_multithread: float | None
    source_path: str


def _opt_float(p: Path, line: int, col: str, text: str, positive: bool = True) -> float | None:
    return _cell_float(p, line, col, text, positive, "finite and > 0")


def load_vitis_zoo(path: str | Path) -> tuple[ZooLatency, ...]:
    p = Path(path)
    _, rows = _read_table(p, ("model", "framework", "input_hw", "gops", "board", "dpu_arch", "vitis_ai_version",
                              "latency_ms", "fps_1thread", "fps_multithread", "source_path"))
    out = []
    for line, d in rows:
        gops = _opt_float(p, line, "gops", d["gops"])
        out.append(ZooLatency(d["model"], d["framework"], d["input_hw"], gops or float("nan"), d["board"],
                              d["dpu_arch"], d["vitis_ai_version"], _opt_float(p, line, "latency_ms", d["latency_ms"]),
                              _opt_float(p, line, "fps_1thread", d["fps_1thread"]),
                              _opt_float(p, line, "fps_multithread", d["fps_multithread"]), d["source_path"]))
    return tuple(out)


@dataclass(frozen=True)
class DpuNodeProfile:
    """One DPU node of a per-layer board profile: ``runtime_ms``, ``workload_mops`` (millions of ops),
    ``perf_gops``, ``utilization_pct``. The profiler's ``TOTAL`` row has ``node_index`` None."""

    model: str
    board: str
    node_index: int | None
    node_name: str
    workload_mops: float
    runtime_ms: float
    perf_gops: float | None
    utilization_pct: float | None


def load_dpu_layer_profiles(path: str | Path) -> tuple[DpuNodeProfile, ...]:
    p = Path(path)
    _, rows = _read_table(p, ("model", "board", "node_index", "node_name", "workload_mops", "runtime_ms"))
    out = []
    for line, d in rows:
        rt = _opt_float(p, line, "runtime_ms", d["runtime_ms"])
        if rt is None:
            raise MeasurementError(f"{p}:{line}: column 'runtime_ms' is empty")
        try:
            idx = None if d["node_index"].strip() == "TOTAL" else int(d["node_index"])
        except ValueError:
            raise MeasurementError(f"{p}:{line}: column 'node_index' is not an integer: {d['node_index']!r}") from None
        out.append(DpuNodeProfile(d["model"], d["board"], idx, d["node_name"],
                                  _opt_float(p, line, "workload_mops", d["workload_mops"], positive=False) or 0.0, rt,
                                  _opt_float(p, line, "perf_gops", d.get("perf_gops", ""), positive=False),
                                  _opt_float(p, line, "utilization_pct", d.get("utilization_pct", ""), positive=False)))
    return tuple(out)


#: Column order of the authors' ``layer_block_lut_ms_allblock.txt`` in hwnas block names.
BBSSP_ZCU102_BLOCKS = tuple([f"res{j}" for j in range(9)] + [f"mobile{j}" for j in range(9)]
                            + [f"vgg{j}" for j in range(13)])


@dataclass(frozen=True)
class LayerBlockTable:
    """A layer-adaptive LUT: ``latency_ms[i][j]`` of block ``blocks[j]`` in searchable layer ``labels[i]`` (ms)."""

    labels: tuple[str, ...]
    blocks: tuple[str, ...]
    latency_ms: tuple[tuple[float, ...], ...]

    def as_array(self) -> np.ndarray:
        return np.array(self.latency_ms, dtype=float)

    def as_mapping(self) -> dict[str, dict[str, float]]:
        return {lb: dict(zip(self.blocks, row)) for lb, row in zip(self.labels, self.latency_ms)}


def load_bbssp_zcu102(folder: str | Path) -> LayerBlockTable:
    """The BBSSP authors' 12 x 31 ZCU102 table (``layer_block_lut_ms_allblock.txt``) with hwnas block names."""
    p = Path(folder) / "layer_block_lut_ms_allblock.txt"
    if not p.is_file():
        raise MeasurementError(f"{p}: file not found")
    rows = []
    for line_no, line in enumerate(p.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            vals = tuple(float(x) for x in line.split())
        except ValueError:
            raise MeasurementError(f"{p}:{line_no}: not a row of numbers: {line[:60]!r}") from None
        if len(vals) != len(BBSSP_ZCU102_BLOCKS):
            raise MeasurementError(f"{p}:{line_no}: {len(vals)} values, expected {len(BBSSP_ZCU102_BLOCKS)}")
        if any(not math.isfinite(v) or v <= 0 for v in vals):
            raise MeasurementError(f"{p}:{line_no}: latencies must be finite and > 0 ms")
        rows.append(vals)
    return LayerBlockTable(tuple(f"layer{i}" for i in range(len(rows))), BBSSP_ZCU102_BLOCKS, tuple(rows))


__all__ = ["BBSSP_ZCU102_BLOCKS", "BlockLutEntry", "DatasetColumn", "DatasetLoad", "DpuNodeProfile", "EXECUTION_SPACES",
           "FBNET_OPS", "LayerBlockTable", "ZooLatency", "execution_fit", "fbnet_columns", "load_bbssp_zcu102",
           "load_dpu_layer_profiles", "load_fbnet_block_lut", "load_fbnet_help", "load_nb201_latency", "load_vitis_zoo",
           "nb201_columns"]
