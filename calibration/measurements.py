"""Measurement files: the schema users write for their board, loaders and one-line validation errors.

A *measurement* is one network measured end to end on one device. CSV form (one row per network; header
required; column order free; unknown columns are errors so typos do not pass silently)::

    id,space,arch,input_size,device,latency_ms,latency_std_ms,repeats,conditions
    a0,nb201,|nor_conv_3x3~0|+|...|,32,my-board,12.31,0.05,50,threads=1;batch=1

Columns:

``id`` (required)
    unique name of the measured network in the file.
``device`` (required)
    name of the board/setting the numbers come from.
``latency_ms`` (required)
    measured end-to-end latency in milliseconds: the median over ``repeats`` runs; finite and > 0.
how to build the workload (exactly one of)
    ``space`` + ``arch`` (a space name of :func:`calibration.workloads.space_names` and the arch in that
    space's string form), ``network`` (path of an ``hwnas.network`` JSON file, relative to the measurement
    file) or ``model`` (an :mod:`hwsim.zoo` model name). ``input_size`` (pixels, optional) overrides the
    space's/model's default input.
``latency_std_ms``, ``latency_p10_ms``, ``latency_p90_ms`` (optional)
    spread over the repeats, milliseconds, >= 0.
``repeats`` (optional)
    number of timed runs behind the statistics, integer >= 1.
``conditions`` (optional)
    free text: threads, batch, clocks, framework version (``key=value;key=value``).

Per-kernel profile rows (optional) live in a second CSV with columns ``id`` (the measurement's id),
``kernel`` (name as the profiler prints it), ``latency_ms`` and optionally ``label`` (the search-space layer
label the kernel belongs to, e.g. ``layer3``; used by the BBSSP corrector for the per-layer typical times)
and ``layers`` (``;``-separated workload layer names).

JSON form: ``{"format": "hwnas.measurements", "version": 1, "measurements": [{...same keys...,
"kernels": [{"kernel": ..., "latency_ms": ..., "label": ...}]}]}``.

Every problem raises :class:`MeasurementError` with one line naming the file, the line (CSV) or entry
index (JSON), the field and the value.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hwsim.errors import HwnasError
from hwsim.fileio import atomic_write_text
from hwsim.formats import Format, read_text

JSON_FORMAT = "hwnas.measurements"
JSON_VERSION = 1

REQUIRED_COLUMNS = ("id", "device", "latency_ms")
WORKLOAD_COLUMNS = ("space", "arch", "network", "model", "input_size")
OPTIONAL_COLUMNS = ("latency_std_ms", "latency_p10_ms", "latency_p90_ms", "repeats", "conditions")
ALL_COLUMNS = REQUIRED_COLUMNS + WORKLOAD_COLUMNS + OPTIONAL_COLUMNS
KERNEL_COLUMNS = ("id", "kernel", "latency_ms", "label", "layers")


class MeasurementError(HwnasError):
    """A bad measurement file: one line naming file, line, field and value."""


MEASUREMENTS = Format(JSON_FORMAT, JSON_VERSION, "measurement file", MeasurementError)


@dataclass(frozen=True)
class KernelTime:
    """One per-kernel profile row of a measurement (milliseconds).

    ``label`` ties the kernel to a search-space layer (``layer3``), ``layers`` to workload layer names.
    """

    kernel: str
    latency_ms: float
    label: str | None = None
    layers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.kernel, str) or not self.kernel:
            raise MeasurementError(f"kernel name must be a non-empty string, got {self.kernel!r}")
        _check_latency("kernel latency_ms", self.latency_ms)


@dataclass(frozen=True)
class Measurement:
    """One network measured end to end on one device.

    ``latency_ms`` is the median over ``repeats`` runs; ``latency_std_ms`` / ``latency_p10_ms`` /
    ``latency_p90_ms`` describe the spread (None when unknown). The workload is given by ``space`` + ``arch``,
    ``network`` (a JSON path) or ``model`` (a zoo name). ``source`` is ``file:line`` for error messages.
    """

    id: str
    device: str
    latency_ms: float
    space: str | None = None
    arch: str | None = None
    network: str | None = None
    model: str | None = None
    input_size: int | None = None
    latency_std_ms: float | None = None
    latency_p10_ms: float | None = None
    latency_p90_ms: float | None = None
    repeats: int | None = None
    conditions: str = ""
    kernels: tuple[KernelTime, ...] = ()
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        where = self.source or f"measurement {self.id!r}"
        if not isinstance(self.id, str) or not self.id:
            raise MeasurementError(f"{where}: field 'id' must be a non-empty string, got {self.id!r}")
        if not isinstance(self.device, str) or not self.device:
            raise MeasurementError(f"{where}: field 'device' must be a non-empty string, got {self.device!r}")
        _check_latency(f"{where}: field 'latency_ms'", self.latency_ms)
        for name in ("latency_std_ms", "latency_p10_ms", "latency_p90_ms"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0):
                raise MeasurementError(f"{where}: field {name!r} must be a finite number >= 0, got {v!r}")
        if self.repeats is not None and (not isinstance(self.repeats, int) or self.repeats < 1):
            raise MeasurementError(f"{where}: field 'repeats' must be an integer >= 1, got {self.repeats!r}")
        if self.input_size is not None and (not isinstance(self.input_size, int) or self.input_size < 1):
            raise MeasurementError(f"{where}: field 'input_size' must be a positive integer, got {self.input_size!r}")
        ways = [self.arch is not None or self.space is not None, self.network is not None, self.model is not None]
        if sum(ways) != 1:
            raise MeasurementError(f"{where}: give exactly one way to build the workload: 'space'+'arch', "
                                   f"'network' or 'model'")
        if ways[0] and (not self.space or not self.arch):
            raise MeasurementError(f"{where}: 'space' and 'arch' go together (space={self.space!r}, "
                                   f"arch={self.arch!r})")

    def to_row(self) -> dict[str, str]:
        """CSV row (strings; empty for None)."""
        out: dict[str, str] = {}
        for c in ALL_COLUMNS:
            v = getattr(self, c)
            out[c] = "" if v is None else (repr(v) if isinstance(v, float) else str(v))
        return out


@dataclass(frozen=True)
class MeasurementSet:
    """Measurements of one file, in file order, with unique ids."""

    measurements: tuple[Measurement, ...]
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "measurements", tuple(self.measurements))
        seen: dict[str, str] = {}
        for m in self.measurements:
            if m.id in seen:
                raise MeasurementError(f"{m.source or self.source}: duplicate id {m.id!r} (first at {seen[m.id]})")
            seen[m.id] = m.source or "?"

    def __len__(self) -> int:
        return len(self.measurements)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.measurements)

    def __getitem__(self, i: int) -> Measurement:
        return self.measurements[i]

    @property
    def devices(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.device for m in self.measurements))

    @property
    def latencies_ms(self) -> Any:
        import numpy as np

        return np.array([m.latency_ms for m in self.measurements], dtype=float)

    def subset(self, indices: Iterable[int]) -> MeasurementSet:
        return MeasurementSet(tuple(self.measurements[i] for i in indices), self.source)

    def for_device(self, device: str) -> MeasurementSet:
        return MeasurementSet(tuple(m for m in self.measurements if m.device == device), self.source)


def _check_latency(where: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise MeasurementError(f"{where} must be a finite latency > 0 ms, got {v!r}")


def _parse_float(where: str, name: str, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise MeasurementError(f"{where}: field {name!r} is not a number: {text!r}") from None
    return v


def _parse_int(where: str, name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise MeasurementError(f"{where}: field {name!r} is not an integer: {text!r}") from None


def _from_mapping(d: Mapping[str, Any], where: str, kernels: tuple[KernelTime, ...] = ()) -> Measurement:
    """Build a measurement from a CSV row (strings) or JSON object (typed values)."""
    def get(name: str) -> Any:
        v = d.get(name)
        return None if v is None or (isinstance(v, str) and v.strip() == "") else v

    for name in REQUIRED_COLUMNS:
        if get(name) is None:
            raise MeasurementError(f"{where}: missing value for required field {name!r}")
    lat = get("latency_ms")
    lat = _parse_float(where, "latency_ms", lat) if isinstance(lat, str) else lat
    if isinstance(lat, bool) or not isinstance(lat, (int, float)) or not math.isfinite(lat) or lat <= 0:
        raise MeasurementError(f"{where}: field 'latency_ms' must be a finite latency > 0 ms, got {d.get('latency_ms')!r}")
    kw: dict[str, Any] = {}
    for name in ("latency_std_ms", "latency_p10_ms", "latency_p90_ms"):
        v = get(name)
        kw[name] = _parse_float(where, name, v) if isinstance(v, str) else (float(v) if v is not None else None)
    for name in ("repeats", "input_size"):
        v = get(name)
        kw[name] = _parse_int(where, name, v) if isinstance(v, str) else v
    text = {name: (str(get(name)).strip() if get(name) is not None else None)
            for name in ("id", "device", "space", "arch", "network", "model")}
    return Measurement(id=text["id"] or "", device=text["device"] or "", latency_ms=float(lat), space=text["space"],
                       arch=text["arch"], network=text["network"], model=text["model"],
                       conditions=str(get("conditions") or ""), kernels=kernels, source=where, **kw)


def parse_measurements_csv(text: str, source: str = "<csv>",
                           kernels: Mapping[str, tuple[KernelTime, ...]] | None = None) -> MeasurementSet:
    """Parse the CSV schema (see the module docstring); errors name ``source`` and the line."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise MeasurementError(f"{source}: empty file (expected a header line)") from None
    header = [h.strip() for h in header]
    for h in header:
        if h not in ALL_COLUMNS:
            raise MeasurementError(f"{source}:1: unknown column {h!r}; expected columns from {', '.join(ALL_COLUMNS)}")
    for req in REQUIRED_COLUMNS:
        if req not in header:
            raise MeasurementError(f"{source}:1: missing required column {req!r}")
    if not ({"space", "arch"} <= set(header) or "network" in header or "model" in header):
        raise MeasurementError(f"{source}:1: missing workload columns: need 'space'+'arch', 'network' or 'model'")
    out = []
    kernels = kernels or {}
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{source}:{line}"
        if len(row) != len(header):
            raise MeasurementError(f"{where}: malformed row: {len(row)} fields, header has {len(header)}")
        d = dict(zip(header, row))
        out.append(_from_mapping(d, where, kernels.get(d.get("id", "").strip(), ())))
    if not out:
        raise MeasurementError(f"{source}: no measurement rows")
    ids = {m.id for m in out}
    for mid in kernels:
        if mid not in ids:
            raise MeasurementError(f"{source}: kernel rows refer to unknown measurement id {mid!r}")
    return MeasurementSet(tuple(out), source)


def parse_kernels_csv(text: str, source: str = "<kernels csv>") -> dict[str, tuple[KernelTime, ...]]:
    """Per-kernel profile rows grouped by measurement id, in file order."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise MeasurementError(f"{source}: empty file (expected a header line)") from None
    for h in header:
        if h not in KERNEL_COLUMNS:
            raise MeasurementError(f"{source}:1: unknown column {h!r}; expected {', '.join(KERNEL_COLUMNS)}")
    for req in ("id", "kernel", "latency_ms"):
        if req not in header:
            raise MeasurementError(f"{source}:1: missing required column {req!r}")
    groups: dict[str, list[KernelTime]] = {}
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{source}:{reader.line_num}"
        if len(row) != len(header):
            raise MeasurementError(f"{where}: malformed row: {len(row)} fields, header has {len(header)}")
        d = {k: v.strip() for k, v in zip(header, row)}
        if not d["id"] or not d["kernel"]:
            raise MeasurementError(f"{where}: fields 'id' and 'kernel' must not be empty")
        lat = _parse_float(where, "latency_ms", d["latency_ms"])
        if not math.isfinite(lat) or lat <= 0:
            raise MeasurementError(f"{where}: field 'latency_ms' must be a finite latency > 0 ms, got {d['latency_ms']!r}")
        layers = tuple(x for x in d.get("layers", "").split(";") if x)
        groups.setdefault(d["id"], []).append(KernelTime(d["kernel"], lat, d.get("label") or None, layers))
    return {k: tuple(v) for k, v in groups.items()}


@dataclass(frozen=True)
class _KernelDoc:
    """A per-kernel row inside a JSON measurement (see :class:`KernelTime`)."""

    kernel: str
    latency_ms: float
    label: str | None = None
    layers: tuple[str, ...] = ()


@dataclass(frozen=True)
class _MeasurementDoc:
    """One JSON measurement: the CSV columns, typed, plus its kernel rows."""

    id: str
    device: str
    latency_ms: float
    space: str | None = None
    arch: str | None = None
    network: str | None = None
    model: str | None = None
    input_size: int | None = None
    latency_std_ms: float | None = None
    latency_p10_ms: float | None = None
    latency_p90_ms: float | None = None
    repeats: int | None = None
    conditions: str = ""
    kernels: tuple[_KernelDoc, ...] = ()


@dataclass(frozen=True)
class _MeasurementsDoc:
    """The body of an ``hwnas.measurements`` file."""

    measurements: tuple[_MeasurementDoc, ...]


def parse_measurements_json(text: str, source: str = "<json>") -> MeasurementSet:
    """Parse the JSON form (see the module docstring); errors name ``source``, the entry and the field."""
    doc = MEASUREMENTS.build(_MeasurementsDoc, MEASUREMENTS.parse(text, source), source)
    if not doc.measurements:
        raise MeasurementError(f"{source}: field 'measurements' must be a non-empty list")
    out = []
    for i, item in enumerate(doc.measurements):
        where = f"{source}: measurements[{i}]"
        kts = []
        for j, k in enumerate(item.kernels):
            try:
                kts.append(KernelTime(k.kernel, k.latency_ms, k.label, k.layers))
            except MeasurementError as e:
                raise MeasurementError(f"{where}: kernels[{j}]: {e}") from None
        row = {c: getattr(item, c) for c in ALL_COLUMNS}
        out.append(_from_mapping(row, where, tuple(kts)))
    return MeasurementSet(tuple(out), source)


def load_measurements(path: str | Path, kernels: str | Path | None = None) -> MeasurementSet:
    """Load a ``.csv`` (optionally with a kernel-rows CSV) or ``.json`` measurement file."""
    p = Path(path)
    if not p.is_file():
        raise MeasurementError(f"{p}: measurement file not found")
    text = read_text(p, MeasurementError)
    if p.suffix.lower() == ".json":
        if kernels is not None:
            raise MeasurementError(f"{p}: JSON measurement files carry their kernel rows inline")
        return parse_measurements_json(text, str(p))
    kt = None
    if kernels is not None:
        kp = Path(kernels)
        if not kp.is_file():
            raise MeasurementError(f"{kp}: kernel-rows file not found")
        kt = parse_kernels_csv(read_text(kp, MeasurementError), str(kp))
    return parse_measurements_csv(text, str(p), kt)


def measurements_to_csv(ms: Sequence[Measurement]) -> str:
    """The CSV text of ``ms`` (only the columns some measurement uses, in schema order)."""
    rows = [m.to_row() for m in ms]
    cols = [c for c in ALL_COLUMNS if c in REQUIRED_COLUMNS or any(r[c] for r in rows)]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def kernels_to_csv(ms: Sequence[Measurement]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(KERNEL_COLUMNS)
    for m in ms:
        for k in m.kernels:
            w.writerow([m.id, k.kernel, repr(k.latency_ms), k.label or "", ";".join(k.layers)])
    return buf.getvalue()


def write_measurements(path: str | Path, ms: Sequence[Measurement], kernels_path: str | Path | None = None) -> None:
    """Write ``ms`` atomically as CSV (``.csv``) or JSON (``.json``); kernel rows go to ``kernels_path`` (CSV)."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        items = []
        for m in ms:
            d: dict[str, Any] = {k: v for k, v in
                                 ((c, getattr(m, c)) for c in ALL_COLUMNS) if v is not None and v != ""}
            if m.kernels:
                d["kernels"] = [{"kernel": k.kernel, "latency_ms": k.latency_ms, "label": k.label,
                                 "layers": list(k.layers)} for k in m.kernels]
            items.append(d)
        MEASUREMENTS.write(p, {"measurements": items}, indent=1)
        return
    atomic_write_text(p, measurements_to_csv(ms))
    if kernels_path is not None:
        atomic_write_text(kernels_path, kernels_to_csv(ms))


def with_source(m: Measurement, source: str) -> Measurement:
    return replace(m, source=source)


__all__ = [
    "ALL_COLUMNS", "KernelTime", "Measurement", "MeasurementError", "MeasurementSet", "load_measurements",
    "measurements_to_csv", "parse_kernels_csv", "parse_measurements_csv", "parse_measurements_json",
    "write_measurements",
]
