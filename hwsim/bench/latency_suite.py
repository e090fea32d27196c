"""The deterministic latency suite: every zoo model on every device preset, as one JSON golden table.

Each (model, device) entry holds the end-to-end :class:`~hwsim.devices.base.RunResult` figures
(milliseconds, millijoules), the device clock (MHz), the compute cycles the device's cost model reports
(summed over accelerator kernels; CPU-fallback kernels have none) and the per-kernel breakdown
(kernel name, the layers fused into it, unit, latency in ms, compute cycles). A pair the device cannot run
(a :class:`~hwsim.devices.base.DeviceError`, e.g. NVDLA has no activation-by-activation matmul for a ViT)
is listed under ``excluded`` with the device's one-line reason, so a change in what is supported is a diff too.

Floats are written by :func:`json.dumps` (``repr`` of a Python float), which round-trips exactly, so a golden
comparison can be bit-exact. The file is written atomically with sorted keys and indentation so that a
regeneration after an intended model change gives a readable diff::

    python benchmarks/latency_suite.py --write      # regenerate benchmarks/golden/latency_suite.json
    hwnas bench latency [--against GOLDEN] [--tolerance REL]
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwsim.devices import AcceleratorDevice, DeviceError, get_device, list_presets
from hwsim.errors import HwnasError
from hwsim.fileio import atomic_write_text
from hwsim.formats import Format, to_data
from hwsim.progress import ProgressFactory, null_progress
from hwsim.workload import Network
from hwsim.zoo import get_model, list_models

log = logging.getLogger(__name__)

SUITE_FORMAT = "hwnas-latency-suite"
SUITE_VERSION = 1

SUITE = Format(SUITE_FORMAT, SUITE_VERSION, "latency suite", HwnasError)


@dataclass(frozen=True)
class _KernelRow:
    """One kernel of a suite entry (file schema; ``compute_cycles`` None for kernels run on the host CPU)."""

    name: str
    layers: tuple[str, ...]
    unit: str
    latency_ms: float
    compute_cycles: float | None
    on_cpu: bool


@dataclass(frozen=True)
class _Entry:
    """The suite entry of one (model, device) pair (file schema)."""

    latency_ms: float
    device_ms: float
    kernel_sum_ms: float
    overlap_saved_ms: float
    host_overhead_ms: float
    kernel_count: int
    energy_mj: float | None
    clock_mhz: float
    compute_cycles: float
    kernels: tuple[_KernelRow, ...]


@dataclass(frozen=True)
class _Excluded:
    model: str
    device: str
    reason: str


@dataclass(frozen=True)
class _SuiteDoc:
    """The body of a ``hwnas-latency-suite`` file."""

    models: tuple[str, ...]
    devices: tuple[str, ...]
    results: Mapping[str, Mapping[str, _Entry]]
    excluded: tuple[_Excluded, ...]


@dataclass(frozen=True)
class Change:
    """One field that differs between a golden suite and a fresh one.

    ``field`` is a path inside the entry (``latency_ms``, ``kernels[3].latency_ms``, ``excluded``, ...);
    ``golden``/``now`` are the two values (None where absent); ``rel_change`` is ``|now - golden| / |golden|``
    for two numbers (``inf`` when golden is 0 and now is not), and ``inf`` for any non-numeric difference.
    """

    model: str
    device: str
    field: str
    golden: Any
    now: Any
    rel_change: float


def default_golden_path() -> Path:
    """``benchmarks/golden/latency_suite.json`` of the source checkout this package was installed from."""
    return Path(__file__).resolve().parent.parent.parent / "benchmarks" / "golden" / "latency_suite.json"


def _entry(device: AcceleratorDevice, net: Network) -> dict[str, Any]:
    """The suite entry of one pair; raises :class:`DeviceError` where the device cannot run the network."""
    kernels = device.kernels(net)
    prof = device.profile(net)
    run = device.run(net)
    rows = []
    total_cycles = 0.0
    for kernel, row in zip(kernels, prof.kernels, strict=True):
        if kernel.name != row.name:  # profile() uses the same fusion pass; guard the pairing anyway
            raise DeviceError(f"{device.name}/{net.name}: kernel order differs between kernels() and profile()")
        cycles = None if kernel.on_cpu else float(device.cost_model.kernel_cost(kernel).compute_cycles)
        if cycles is not None:
            total_cycles += cycles
        rows.append(_KernelRow(row.name, tuple(row.layers), row.unit, row.latency_ms, cycles, row.on_cpu))
    entry = _Entry(run.latency_ms, run.device_ms, run.kernel_sum_ms, run.overlap_saved_ms, run.host_overhead_ms,
                   run.kernel_count, run.energy_mj, float(device.cost_model.clock_mhz), total_cycles, tuple(rows))
    return to_data(entry)  # type: ignore[no-any-return]


def generate_suite(models: Sequence[str] | None = None, devices: Sequence[str] | None = None,
                   progress: ProgressFactory | None = None) -> dict[str, Any]:
    """The suite as a JSON-ready dict: ``results[model][device]`` entries plus the ``excluded`` pairs.

    ``models``/``devices`` default to every zoo model and every built-in preset; ``progress`` (a
    :mod:`hwsim.progress` factory) gets one step per (model, device) pair. Pure and deterministic:
    the same code gives the same dict (bit-identical floats) in any process.
    """
    models = list_models() if models is None else tuple(models)
    devices = list_presets() if devices is None else tuple(devices)
    results: dict[str, dict[str, Any]] = {}
    excluded: list[dict[str, str]] = []
    built = {dev: get_device(dev) for dev in devices}
    bar = (progress or null_progress)(len(models) * len(devices), "latency suite")
    try:
        for model in models:
            net = get_model(model).build_ir()
            results[model] = {}
            for dev in devices:
                try:
                    results[model][dev] = _entry(built[dev], net)
                    log.debug("%s on %s: %.6g ms", model, dev, results[model][dev]["latency_ms"])
                except DeviceError as e:
                    excluded.append({"model": model, "device": dev, "reason": str(e)})
                    log.info("%s on %s excluded: %s", model, dev, e)
                bar.update(1)
    finally:
        bar.close()
    return SUITE.wrap({"models": list(models), "devices": list(devices), "results": results, "excluded": excluded})


def dumps_suite(suite: Mapping[str, Any]) -> str:
    """The suite as JSON text: sorted keys, indent 1, exact float reprs, trailing newline."""
    return SUITE.dumps(suite, sort_keys=True, indent=1, allow_nan=False)


def write_suite(path: str | Path, suite: Mapping[str, Any]) -> None:
    """Write the suite to ``path`` atomically (temp file + ``os.replace``)."""
    atomic_write_text(path, dumps_suite(suite))


def load_suite(path: str | Path) -> dict[str, Any]:
    """Read and validate a golden suite file (the parsed JSON); :class:`HwnasError` (one line) when it is not one."""
    data = SUITE.load(path)
    SUITE.build(_SuiteDoc, data, str(path))
    return dict(data)


def restrict_suite(suite: Mapping[str, Any], models: Sequence[str], devices: Sequence[str]) -> dict[str, Any]:
    """The part of ``suite`` about the given models and devices (to compare with a partial regeneration)."""
    ms, ds = set(models), set(devices)
    results = {m: {d: e for d, e in per.items() if d in ds} for m, per in suite["results"].items() if m in ms}
    excluded = [x for x in suite["excluded"] if x["model"] in ms and x["device"] in ds]
    return {**suite, "models": [m for m in suite["models"] if m in ms],
            "devices": [d for d in suite["devices"] if d in ds], "results": results, "excluded": excluded}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _rel(golden: Any, now: Any) -> float:
    if _is_number(golden) and _is_number(now):
        if golden == now:
            return 0.0
        return math.inf if golden == 0 else abs(now - golden) / abs(golden)
    return 0.0 if golden == now else math.inf


def _diff(golden: Any, now: Any, path: str) -> Iterator[tuple[str, Any, Any, float]]:
    """Leaf differences between two JSON values: ``(path, golden, now, rel_change)``."""
    if isinstance(golden, dict) and isinstance(now, dict):
        for key in sorted(set(golden) | set(now)):
            sub = f"{path}.{key}" if path else key
            if key not in golden or key not in now:
                yield sub, golden.get(key), now.get(key), math.inf
            else:
                yield from _diff(golden[key], now[key], sub)
    elif isinstance(golden, list) and isinstance(now, list) and not (
            golden and not isinstance(golden[0], (dict, list))):
        if len(golden) != len(now):
            yield f"{path}.length", len(golden), len(now), math.inf
        for i, (g, n) in enumerate(zip(golden, now)):
            yield from _diff(g, n, f"{path}[{i}]")
    else:
        rel = _rel(golden, now)
        if rel != 0.0 or (_is_number(golden) and type(golden) is not type(now)):  # 1 vs 1.0 differ as text
            yield path, golden, now, max(rel, 0.0) if rel else math.inf


def compare_suites(golden: Mapping[str, Any], now: Mapping[str, Any]) -> list[Change]:
    """Every leaf that differs between two suites, in (model, device, field) order.

    Entries present in one suite only are reported with field ``<entry>``; a change of the excluded pairs is
    reported under model/device ``*`` with field ``excluded``.
    """
    changes: list[Change] = []
    g_res, n_res = golden.get("results", {}), now.get("results", {})
    for model in sorted(set(g_res) | set(n_res)):
        g_dev, n_dev = g_res.get(model, {}), n_res.get(model, {})
        for dev in sorted(set(g_dev) | set(n_dev)):
            if dev not in g_dev or dev not in n_dev:
                changes.append(Change(model, dev, "<entry>", "present" if dev in g_dev else None,
                                      "present" if dev in n_dev else None, math.inf))
                continue
            for field, g, n, rel in _diff(g_dev[dev], n_dev[dev], ""):
                changes.append(Change(model, dev, field, g, n, rel))
    g_ex = sorted((x["model"], x["device"], x["reason"]) for x in golden.get("excluded", []))
    n_ex = sorted((x["model"], x["device"], x["reason"]) for x in now.get("excluded", []))
    for item in sorted(set(g_ex) ^ set(n_ex)):
        changes.append(Change(item[0], item[1], "excluded", item[2] if item in g_ex else None,
                              item[2] if item in n_ex else None, math.inf))
    return changes


def plot_latency_heatmap(path: str | Path, suite: Mapping[str, Any]) -> Path:
    """End-to-end latency of every (model, device) pair of ``suite`` as an annotated heatmap PNG."""
    import numpy as np

    from hwsim.plots import heatmap

    models, devices = suite["models"], suite["devices"]
    lat = np.array([[suite["results"].get(m, {}).get(d, {}).get("latency_ms", math.nan) for d in devices]
                    for m in models], dtype=float)
    return heatmap(path, lat, devices, models, "end-to-end latency per (model, device); blank = excluded "
                   "(unsupported)", "latency (ms, log scale)", log=True, annotate=True)


def plot_changes(path: str | Path, changes: Sequence[Change], tolerance: float = 0.0, top: int = 40) -> Path:
    """Horizontal bars of the ``top`` largest relative changes (log scale; structural changes, infinite, drawn
    at twice the largest finite one and marked), the tolerance as a dashed line."""
    from hwsim.plots import grouped_bars

    ranked = sorted(changes, key=lambda c: -c.rel_change)[:top]
    finite = [c.rel_change for c in ranked if math.isfinite(c.rel_change) and c.rel_change > 0]
    cap = 2 * max(finite, default=1.0)
    labels = [f"{c.model} / {c.device} / {c.field}" + ("" if math.isfinite(c.rel_change) else " (structural)")
              for c in ranked]
    values = [c.rel_change if math.isfinite(c.rel_change) else cap for c in ranked]
    values = [max(v, 1e-16) for v in values]
    shown = f"largest {len(ranked)} of {len(changes)}" if len(changes) > len(ranked) else f"all {len(changes)}"
    return grouped_bars(path, labels, {"relative change": values}, f"changed fields vs golden ({shown})",
                        "relative change |now - golden| / |golden| (log scale)", log=True, horizontal=True,
                        targets={f"tolerance {tolerance:g}": tolerance} if tolerance > 0 else None)


__all__ = ["SUITE_FORMAT", "SUITE_VERSION", "Change", "compare_suites", "default_golden_path",
           "dumps_suite", "generate_suite", "load_suite", "plot_changes", "plot_latency_heatmap", "restrict_suite",
           "write_suite"]
