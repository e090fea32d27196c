"""CLI handler for ``hwnas simulate --device NAME|FILE.toml --model NAME``: both views of a network on a device.

:func:`add_device_arguments` adds the options; :func:`simulate_device` takes the parsed ``argparse.Namespace``
(fields ``device``, ``model``, ``format`` and optionally ``plot``) and prints the per-kernel profile table and
the totals of both views, with ``--format json`` one object with ``end_to_end_latency_ms``,
``profile_latency_ms_sum``, the silicon cost of :func:`hwsim.silicon.silicon_report` (``area_mm2``, ``energy_mj``
per inference, average ``power_w``, ``power_peak_w``, ``silicon`` with the breakdowns; ``template_energy_mj``: the
template's own kernel energy, or null) and ``kernels``, with ``--format csv`` one row per kernel.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
from typing import TYPE_CHECKING

from hwsim.devices.base import AcceleratorDevice, DeviceError, Profile, RunResult
from hwsim.devices.registry import get_device, list_presets
from hwsim.errors import HwnasError
from hwsim.workload import Network

if TYPE_CHECKING:
    from hwsim.silicon import SiliconReport


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--device``, ``--model``, ``--format`` and ``--plot`` to ``parser``."""
    parser.add_argument("--device", required=True, metavar="NAME|FILE.toml",
                        help=f"device preset ({', '.join(list_presets())}) or a device TOML file")
    parser.add_argument("--model", metavar="NAME", help="zoo model to simulate (hwsim.zoo)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table",
                        help="output format (csv: one row per kernel)")
    parser.add_argument("--plot", metavar="FILE.png", help="also write a per-kernel latency bar chart")


def _network(args: argparse.Namespace) -> Network:
    topology = getattr(args, "topology", None)
    if topology:
        from hwsim.importers.scalesim_csv import read_topology

        return read_topology(topology)
    model = getattr(args, "model", None)
    if not model:
        raise DeviceError("--model is required with --device (a zoo model name or a .json/.csv/.onnx file)")
    from hwsim.loader import load_workload

    return load_workload(model)


def result_dict(device: AcceleratorDevice, profile: Profile, run: RunResult,
                silicon: SiliconReport | None = None) -> dict:
    """The JSON object printed by ``--format json`` (with ``silicon``: its area, energy and power keys)."""
    out = {
        "device": device.name,
        "network": profile.network,
        "end_to_end_latency_ms": run.latency_ms,
        "profile_latency_ms_sum": profile.latency_ms_sum,
        "overlap_saved_ms": run.overlap_saved_ms,
        "host_overhead_ms": run.host_overhead_ms,
        "energy_mj": run.energy_mj,
        "kernels": [k.to_dict() for k in profile.kernels],
    }
    if silicon is not None:
        out.update(area_mm2=silicon.area_mm2, energy_mj=silicon.energy_mj, power_w=silicon.power_w_avg,
                   power_peak_w=silicon.power_w_peak, template_energy_mj=run.energy_mj, silicon=silicon.to_dict())
    return out


def format_table(device: AcceleratorDevice, profile: Profile, run: RunResult) -> str:
    """Per-kernel table and totals of both views, as text."""
    lines = [f"device {device.name}: {device.description}", f"network {profile.network}", ""]
    head = (f"{'#':>3s} {'kernel':32s} {'unit':9s} {'fused':>5s} {'ms':>9s} {'compute':>9s} {'memory':>9s} "
            f"{'util%':>6s} {'read KB':>9s} {'write KB':>9s}  bound")
    lines.append(head)
    lines.append("-" * len(head))
    for i, k in enumerate(profile.kernels):
        lines.append(f"{i:3d} {k.name[:32]:32s} {k.unit[:9]:9s} {len(k.layers):5d} {k.latency_ms:9.4f} "
                     f"{k.compute_ms:9.4f} {k.memory_ms:9.4f} {100 * k.utilization:6.1f} "
                     f"{k.dram_read_bytes / 1e3:9.1f} {k.dram_write_bytes / 1e3:9.1f}  {k.bound}")
    energy = "n/a" if run.energy_mj is None else f"{run.energy_mj:.4f} mJ"
    lines += ["",
              f"profile (sum of {len(profile.kernels)} kernels): {profile.latency_ms_sum:.4f} ms",
              f"run (end to end):                {run.latency_ms:.4f} ms "
              f"= profile - overlap {run.overlap_saved_ms:.4f} ms + host {run.host_overhead_ms:.4f} ms",
              f"energy:                          {energy}"]
    return "\n".join(lines)


CSV_COLUMNS = ("name", "layers", "unit", "latency_ms", "compute_ms", "memory_ms", "weight_ms", "overhead_ms", "macs",
               "utilization", "dram_read_bytes", "dram_write_bytes", "energy_mj", "on_cpu", "bound")


def format_csv(profile: Profile) -> str:
    """One CSV row per kernel (fused layer names joined with '+')."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for k in profile.kernels:
        d = k.to_dict()
        d["layers"] = "+".join(k.layers)
        w.writerow(["" if d[c] is None else d[c] for c in CSV_COLUMNS])
    return buf.getvalue().rstrip("\n")


def write_plot(path: str | os.PathLike[str], profile: Profile) -> None:
    """Per-kernel latency breakdown (compute, memory beyond compute, overhead), written atomically."""
    from hwsim.plots import profile_breakdown

    profile_breakdown(path, profile)


def simulate_device(args: argparse.Namespace) -> int:
    """Run ``args.model`` on ``args.device`` and print both views; returns the exit status."""
    device = get_device(args.device)
    network = _network(args)
    profile = device.profile(network)
    run = device.run(network)
    fmt = getattr(args, "format", "table") or "table"
    if fmt == "json":
        from hwsim.silicon import silicon_report

        print(json.dumps(result_dict(device, profile, run, silicon_report(device, network, profile, run)), indent=1))
    elif fmt == "table":
        print(format_table(device, profile, run))
    elif fmt == "csv":
        print(format_csv(profile))
    else:
        raise DeviceError(f"--format must be table, json or csv, got {fmt!r}")
    plot = getattr(args, "plot", None)
    if plot:
        write_plot(plot, profile)
    return 0
