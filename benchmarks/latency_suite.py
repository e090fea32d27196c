"""Regenerate or check the deterministic latency suite (every zoo model x every device preset).

    python benchmarks/latency_suite.py            # regenerate, compare with the golden file, print the changes
    python benchmarks/latency_suite.py --write    # regenerate benchmarks/golden/latency_suite.json (intended change)
    python benchmarks/latency_suite.py --out DIR  # also write DIR/latency_suite.json and the figures below

Figures (``--out``): end-to-end latency of every (model, device) pair; the per-kernel latency breakdown
(compute / memory beyond compute / overhead) and the utilisation per kernel of one model (``--figure-model``,
default ResNet-18) on one preset of each device family; a roofline per device preset with that model's kernels.
``--models`` / ``--devices`` restrict the check to a subset (the golden file is restricted the same way).

The library lives in :mod:`hwsim.bench.latency_suite`; ``hwnas bench latency`` is the installed command.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.bench.latency_suite import (
    compare_suites,
    generate_suite,
    load_suite,
    plot_changes,
    plot_latency_heatmap,
    restrict_suite,
    write_suite,
)
from hwsim.bench.results import Headline, write_result
from hwsim.progress import progress_factory

GOLDEN = Path(__file__).resolve().parent / "golden" / "latency_suite.json"
NAME = "latency_suite"


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [x.strip() for x in text.split(",") if x.strip()]


def family_presets(devices: Sequence[str]) -> list[str]:
    """The first preset (sorted order) of each device family (cost-model template)."""
    from hwsim.devices import get_device

    seen: dict[str, str] = {}
    for d in devices:
        seen.setdefault(type(get_device(d).cost_model).__name__, d)
    return list(seen.values())


def write_figures(out: Path, suite: dict[str, Any], model: str) -> list[Path]:
    """The suite's figures into ``out``; returns their paths."""
    from hwsim import plots
    from hwsim.devices import DeviceError, get_device
    from hwsim.zoo import get_model

    figs = [plot_latency_heatmap(out / f"{NAME}_latency.png", suite)]
    devices = suite["devices"]
    net = get_model(model).build_ir()
    ok = []  # (device, profile) for every preset that can run the model, each profiled once
    for d in devices:
        dev = get_device(d)
        try:
            ok.append((dev, dev.profile(net)))
        except DeviceError:
            continue
    fams = set(family_presets(devices))
    profiles = [(dev, prof) for dev, prof in ok if dev.name in fams]
    if profiles:
        n = max(len(p.kernels) for _, p in profiles)
        width = plots.bar_width_inches(n)
        fig, axes = plots.new_figure(len(profiles), 1, width=width, height=3.3 * len(profiles) + 0.6)
        for i, (dev, prof) in enumerate(profiles):
            plots.profile_breakdown_ax(axes[i, 0], prof, legend=i == 0)
        plots.set_suptitle(fig, f"{model}: per-kernel latency breakdown on one preset per device family")
        figs.append(plots.save_png(fig, out / f"{NAME}_breakdown.png"))
        fig, axes = plots.new_figure(len(profiles), 1, width=width, height=3.0 * len(profiles) + 0.6)
        for i, (dev, prof) in enumerate(profiles):
            plots.utilisation_ax(axes[i, 0], [k.name for k in prof.kernels],
                                 [100 * k.utilization for k in prof.kernels], f"{model} on {dev.name}")
        plots.set_suptitle(fig, f"{model}: MAC utilisation per kernel (MACs / (peak MACs per cycle x kernel cycles))")
        figs.append(plots.save_png(fig, out / f"{NAME}_utilisation.png"))
    if ok:
        ncols = min(4, len(ok))
        nrows = math.ceil(len(ok) / ncols)
        fig, axes = plots.new_figure(nrows, ncols, width=4.6 * ncols, height=3.9 * nrows + 0.5)
        for i, (dev, prof) in enumerate(ok):
            plots.device_roofline_ax(axes[i // ncols, i % ncols], dev, prof, dev.name)
        for j in range(len(ok), nrows * ncols):
            axes[j // ncols, j % ncols].set_axis_off()
        plots.set_suptitle(fig, f"roofline per device preset with the kernels of {model} (colour = device unit)")
        figs.append(plots.save_png(fig, out / f"{NAME}_roofline.png"))
    return figs


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help=f"write the regenerated suite to {GOLDEN}")
    ap.add_argument("--golden", type=Path, default=GOLDEN, help="golden file (default: %(default)s)")
    ap.add_argument("--models", default=None, help="comma list of zoo models (default: all)")
    ap.add_argument("--devices", default=None, help="comma list of device presets (default: all)")
    ap.add_argument("--tolerance", type=float, default=0.0, help="largest relative change accepted (default 0)")
    ap.add_argument("--out", type=Path, default=None, help="write latency_suite.json and figures into this folder")
    ap.add_argument("--figure-model", default="resnet18", help="model of the per-kernel figures (default resnet18)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    models, devices = _names(args.models), _names(args.devices)
    if args.write and (models or devices):
        ap.error("--write regenerates the whole suite; drop --models/--devices")
    t0 = time.perf_counter()
    suite = generate_suite(models, devices, progress_factory(args.quiet))
    elapsed = time.perf_counter() - t0
    n = sum(len(v) for v in suite["results"].values())
    print(f"generated {n} entries ({len(suite['models'])} models x {len(suite['devices'])} devices, "
          f"{len(suite['excluded'])} excluded) in {elapsed:.2f} s")
    if args.write:
        write_suite(args.golden, suite)
        print(f"wrote {args.golden}")
        return 0
    golden = load_suite(args.golden)
    if models or devices:
        golden = restrict_suite(golden, suite["models"], suite["devices"])
    changes = compare_suites(golden, suite)
    failing = [c for c in changes if c.rel_change > args.tolerance]
    for c in changes:
        print(f"{c.model} {c.device} {c.field}: golden={c.golden!r} now={c.now!r} rel={c.rel_change:.3g}")
    print(f"{len(changes)} changed fields against {args.golden} ({len(failing)} beyond tolerance {args.tolerance:g})")
    if args.out is not None:
        figs = write_figures(args.out, suite, args.figure_model)
        if changes:
            figs.append(plot_changes(args.out / f"{NAME}_changes.png", changes, args.tolerance))
        worst = max((c.rel_change for c in changes), default=0.0)
        headline = [Headline("fields beyond tolerance vs golden", float(len(failing)), "==", 0.0),
                    Headline("changed fields vs golden", float(len(changes))),
                    Headline("largest relative change", worst if math.isfinite(worst) else None),
                    Headline("(model, device) entries", float(n)),
                    Headline("suite generation time", elapsed, unit=" s")]
        rows = [{"model": c.model, "device": c.device, "field": c.field, "golden": c.golden, "now": c.now,
                 "rel_change": c.rel_change} for c in changes]
        write_result(args.out, NAME, headline, {
            "golden": str(args.golden), "models": suite["models"], "devices": suite["devices"],
            "excluded": suite["excluded"], "tolerance": args.tolerance, "changes": rows,
            "latency_ms": {m: {d: e["latency_ms"] for d, e in per.items()} for m, per in suite["results"].items()},
            "generation_s": elapsed}, figs)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
