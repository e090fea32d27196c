"""Record golden scalesim 3.0 results for ResNet-18 and MobileNetV2 (32x32 array, os, 64 kB SRAMs).

The networks are the zoo's IR models mapped with ``hwsim.systolic.scalesim_view`` (grouped/depthwise convs
become ``groups`` identical jobs, as scalesim's "DP" layers do). scalesim simulates every layer with fresh
buffers (a new ``single_layer_sim`` and memory system per layer), so identical jobs give identical reports:
this script runs each *distinct* job once through the real scalesim (MobileNetV2's 7,000+ per-channel
depthwise jobs collapse to a few dozen) and records, per network layer, which job it runs and how often.

Usage: ``python benchmarks/make_systolic_golden.py [--models resnet18 mobilenet_v2] [--mode USER]
[--out tests/hwsim/systolic/golden]``. The output JSON records the scalesim version and the .cfg text.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hwsim.fileio import atomic_write_text
from hwsim.systolic import ScalesimLayer, SystolicConfig, scalesim_view
from hwsim.systolic.reference import run_scalesim, scalesim_version
from hwsim.zoo import get_model

JOB_FIELDS = ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride_h", "stride_w")


def golden_config(mode: str = "USER") -> SystolicConfig:
    """32x32 output-stationary array, 64 kB SRAMs, 10 words/cycle DRAM (scalesim-notes.md's setup)."""
    return SystolicConfig(32, 32, 64, 64, 64, "os", mode, (10,), 10, 10, run_name="golden")


def make(model: str, mode: str) -> dict:
    net = get_model(model).build_ir()
    cfg = golden_config(mode)
    distinct: dict[tuple[int, ...], int] = {}
    layers = []
    for layer in net.layers:
        m = scalesim_view(layer)
        if m.job is None:
            continue
        key = tuple(getattr(m.job, f) for f in JOB_FIELDS)
        distinct.setdefault(key, len(distinct))
        layers.append({"layer": layer.name, "job": distinct[key], "repeats": m.repeats})
    jobs = [ScalesimLayer(f"job{i}", *key) for key, i in sorted(distinct.items(), key=lambda kv: kv[1])]
    t0 = time.perf_counter()
    results = run_scalesim(cfg, jobs)
    seconds = time.perf_counter() - t0
    return {
        "format": "hwnas.systolic.golden", "version": 1, "scalesim_version": scalesim_version(),
        "model": model, "config_cfg": cfg.to_cfg_text(), "scalesim_seconds": round(seconds, 1),
        "jobs": [{"job": dict(zip(JOB_FIELDS, k)), "result": {**r.counts(), "overall_util_pct": r.overall_util_pct,
                                                               "mapping_efficiency_pct": r.mapping_efficiency_pct,
                                                               "compute_util_pct": r.compute_util_pct}}
                 for k, r in zip(distinct, results)],
        "layers": layers,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["resnet18", "mobilenet_v2"])
    ap.add_argument("--mode", choices=("USER", "CALC"), default="USER")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "tests/hwsim/systolic/golden"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for model in args.models:
        data = make(model, args.mode)
        path = out / f"{model}_32x32_os_{args.mode.lower()}.json"
        atomic_write_text(path, json.dumps(data, indent=1) + "\n")
        print(f"{model}: {len(data['jobs'])} distinct jobs, {len(data['layers'])} layers, "
              f"scalesim {data['scalesim_seconds']} s -> {path}")


if __name__ == "__main__":
    main()
