"""Real-board check of the DPU model: predicted vs measured single-thread latency on ZCU102 / ZCU104 / KV260,
and per-node runtimes of VGG-16 convs (FCN8's encoder) and of ProxylessNAS-Mobile 0.5 vs :meth:`profile`.

Data: ``$HWNAS_SHARED_DATA/dpu/vitis_ai_zoo_latency.csv`` and ``dpu_layer_profiles.csv`` (default
``<repo>/../shared/data``). Rules: the DPU parameters are the presets' (public facts + fits on the layer
profiles, see each preset's [provenance]); per board ONE constant is fitted -- the host overhead (pre/post-
processing, ms) -- by least squares on relative error over at most three models (``FIT_MODELS``), and the
error is reported on the others. No per-model constant, no measured number enters a prediction.
A second check needs no fitted constant at all: the KV260 has one DPU core, so its multi-thread fps (host work
overlapped on the other CPU cores) measures 1 / DPU time, which ``run(...).device_ms`` predicts.
The ProxylessNAS-Mobile 0.5 network is rebuilt from its published architecture
(:data:`spaces.proxyless.PROXYLESS_MOBILE` at width 0.5) and matched to the profiled DPU nodes by their MOPs:
a node is a dense conv (or the FC) plus the depthwise conv that follows it, as the DNNDK compiler groups them.

Run: ``python benchmarks/dpu_vs_board.py`` (add ``--json`` for machine-readable output; ``--out DIR`` writes
``DIR/dpu_vs_board.json`` and the figures: predicted vs measured latency per board, VGG-16 and ProxylessNAS node
bars).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import sys
from pathlib import Path

from hwsim.devices import get_device
from hwsim.devices.base import AcceleratorDevice
from hwsim.workload import Conv2d, Linear, Network
from hwsim.zoo import get_model
from spaces.proxyless import PROXYLESS_MOBILE, proxyless_space

BOARDS = {"ZCU102": "dpu-b4096-zcu102", "ZCU104": "dpu-b4096-zcu104", "KV260": "dpu-b4096-kv260"}
VERSIONS = ("2.0", "1.4", "1.3")  # newest Vitis AI release with a single-thread latency column first

# zoo CSV model -> (zoo architecture, input H = W). Only rows whose architecture the zoo defines exactly.
MODELS: dict[str, tuple[str, int]] = {
    "tf_vgg16_imagenet_224_224_30.96G": ("vgg16", 224),
    "cf_resnet18_imagenet_224_224_3.65G": ("resnet18", 224),
    "pt_resnet50_imagenet_224_224_4.1G": ("resnet50", 224),
    "torchvision_resnet50": ("resnet50", 224),
    "tf_mlperf_resnet50_imagenet_224_224_8.19G": ("resnet50", 224),
    "tf_mobilenetv1_1.0_imagenet_224_224_1.14G": ("mobilenet_v1", 224),
    "tf2_mobilenetv1_imagenet_224_224_1.15G": ("mobilenet_v1", 224),
    "cf_mobilenetv2_imagenet_224_224_0.59G": ("mobilenet_v2", 224),
    "tf_mobilenetv2_1.0_imagenet_224_224_0.59G": ("mobilenet_v2", 224),
    "pt_squeezenet_imagenet_224_224_351.7M": ("squeezenet1_1", 224),
    "cf_squeezenet_imagenet_227_227_0.76G": ("squeezenet1_1", 227),
}
EXCLUDED = {
    "cf_resnet50 / tf_resnetv1_50 / tf2_resnet50": "ResNet-50 v1 (stride on the first 1x1); the zoo has v1.5",
    "torchvision_squeezenet": "SqueezeNet version not stated (1.0 or 1.1)",
    "mobilenet widths 0.25/0.5/1.4, mobilenetEdge, efficientnet-edgetpu": "width/variant not in the zoo",
    "inception*, resnetv1_101/152, resnetv2*, vgg19, OFA*, mobilenetv3": "architecture not in the zoo",
    "EfficientNet-B0": "no row in the CSV (only the EdgeTPU variants)",
}
FIT_MODELS = ("cf_resnet18_imagenet_224_224_3.65G", "tf_mobilenetv1_1.0_imagenet_224_224_1.14G",
              "tf_vgg16_imagenet_224_224_30.96G")
# FCN8 node -> torchvision VGG-16 conv index in features.*
VGG_NODES = {f"block{b}_conv{i}_convolution": idx for (b, i), idx in zip(
    [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3), (4, 1), (4, 2), (4, 3), (5, 1), (5, 2), (5, 3)],
    [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28])}


PROXYLESS_MODEL = "proxylessmobile05"  # the model column of dpu_layer_profiles.csv starts with this


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return Path(os.environ.get("HWNAS_SHARED_DATA", default))


def measured_rows(path: Path) -> list[dict[str, str]]:
    """One row per (model in MODELS, board): the newest release with a latency."""
    rows = [r for r in csv.DictReader(path.open()) if r["latency_ms"] and r["board"] in BOARDS]
    # the cf_squeezenet row is called cf_squeeze_... in the 1.3 README
    out = []
    for model in MODELS:
        for board in BOARDS:
            cand = [r for r in rows if r["model"] == model and r["board"] == board and r["vitis_ai_version"] in VERSIONS]
            if cand:
                out.append(min(cand, key=lambda r: VERSIONS.index(r["vitis_ai_version"])))
    return out


def no_host(dev: AcceleratorDevice) -> AcceleratorDevice:
    return dev.with_mechanisms(dataclasses.replace(dev.mechanisms, host_overhead_ms=0.0,
                                                   host_ns_per_input_element=0.0))


def fit_host(pairs: list[tuple[float, float]]) -> float:
    """argmin_c sum(((p + c - m) / m)^2) for (predicted p, measured m), clamped at 0."""
    num = math.fsum((m - p) / (m * m) for p, m in pairs)
    den = math.fsum(1.0 / (m * m) for _, m in pairs)
    return max(0.0, num / den)


def board_check(shared: Path) -> dict:
    rows = measured_rows(shared / "dpu" / "vitis_ai_zoo_latency.csv")
    nets = {}
    result: dict = {"boards": {}, "held_out": []}
    for board, preset in BOARDS.items():
        dev = no_host(get_device(preset))
        preds = {}
        for r in rows:
            if r["board"] != board:
                continue
            arch, hw = MODELS[r["model"]]
            key = (arch, hw)
            if key not in nets:
                nets[key] = get_model(arch).build_ir((3, hw, hw))
            preds[r["model"]] = (dev.run(nets[key]).latency_ms, float(r["latency_ms"]), r["vitis_ai_version"])
        host = fit_host([(p, m) for name, (p, m, _) in preds.items() if name in FIT_MODELS])
        table = []
        for name, (p, m, ver) in preds.items():
            pred = p + host
            err = (pred - m) / m
            fit = name in FIT_MODELS
            table.append({"model": name, "arch": MODELS[name][0], "input": MODELS[name][1], "version": ver,
                          "predicted_ms": pred, "measured_ms": m, "error": err, "fit": fit})
            if not fit:
                result["held_out"].append((board, name, err))
        result["boards"][board] = {"preset": preset, "host_overhead_ms": host, "rows": table,
                                   "preset_host_overhead_ms": get_device(preset).mechanisms.host_overhead_ms}
    return result


def kv260_throughput_check(shared: Path) -> list[dict]:
    """DPU-only time, no fitted constant at all: the KV260 has ONE DPU core, so its multi-thread throughput
    (pre/post-processing overlapped on the other CPU cores) is 1 / DPU time per inference."""
    rows = [r for r in csv.DictReader((shared / "dpu" / "vitis_ai_zoo_latency.csv").open())
            if r["board"] == "KV260" and r["model"] in MODELS and r["fps_multithread"]
            and r["vitis_ai_version"] in VERSIONS]
    dev = no_host(get_device(BOARDS["KV260"]))
    out = []
    for model in MODELS:
        cand = [r for r in rows if r["model"] == model]
        if not cand:
            continue
        r = min(cand, key=lambda r: VERSIONS.index(r["vitis_ai_version"]))
        arch, hw = MODELS[model]
        pred = 1000.0 / dev.run(get_model(arch).build_ir((3, hw, hw))).device_ms
        m = float(r["fps_multithread"])
        out.append({"model": model, "version": r["vitis_ai_version"], "predicted_fps": pred, "measured_fps": m,
                    "error": (pred - m) / m})
    return out


def vgg_check(shared: Path) -> list[dict]:
    rows = [r for r in csv.DictReader((shared / "dpu" / "dpu_layer_profiles.csv").open())
            if r["model"].startswith("fcn8") and r["node_name"] in VGG_NODES]
    dev = no_host(get_device("dpu-b4096-zcu102"))
    prof = dev.profile(get_model("vgg16").build_ir((3, 224, 224)))
    out = []
    for r in rows:
        k = prof.kernel_of(f"features.{VGG_NODES[r['node_name']]}")
        m = float(r["runtime_ms"])
        out.append({"node": r["node_name"], "kernel": k.name, "predicted_ms": k.latency_ms, "measured_ms": m,
                    "error": (k.latency_ms - m) / m})
    return out


def dnndk_build(dev: AcceleratorDevice) -> AcceleratorDevice:
    """``dev`` as the DNNDK compiler of the ProxylessNAS profile built it: residual adds fused into the conv that
    produces their last operand (the profile has no add nodes and the project convs' ``mem_mb`` includes the
    shortcut read). The Vitis AI 2.0 zoo presets keep adds as kernels of their own (FCN8's log has an add node)."""
    return dev.with_mechanisms(dataclasses.replace(dev.mechanisms, fuse_conv_eltwise=True))


def proxyless_network() -> Network:
    """ProxylessNAS-Mobile at width 0.5 (OFA/proxyless_nas ``proxyless_mobile``), 224x224, 1000 classes."""
    return proxyless_space(224, 1000, width_mult=0.5).to_workload(PROXYLESS_MOBILE, name=PROXYLESS_MODEL)


def proxyless_nodes(net: Network) -> list[tuple[str, ...]]:
    """The DNNDK node grouping of ``net``'s conv/FC layers: a dense conv or FC starts a node, a depthwise conv
    joins the node before it (``conv_1`` of the profile = stem conv + first depthwise conv)."""
    nodes: list[list[str]] = []
    for layer in net.layers:
        if isinstance(layer, Conv2d) and layer.is_depthwise and nodes:
            nodes[-1].append(layer.name)
        elif isinstance(layer, (Conv2d, Linear)):
            nodes.append([layer.name])
    return [tuple(n) for n in nodes]


def proxyless_check(shared: Path, device: AcceleratorDevice | None = None) -> list[dict]:
    """Per-node runtimes of ProxylessNAS-Mobile 0.5 on ZCU102 vs :meth:`profile` (``device`` defaults to the
    ZCU102 preset). Every kernel counts for the node of its anchor, or of the conv/FC layer before it (adds,
    poolings that stay kernels of their own). Raises ValueError when a node's MOPs differ from the profile's."""
    rows = [r for r in csv.DictReader((shared / "dpu" / "dpu_layer_profiles.csv").open())
            if r["model"].startswith(PROXYLESS_MODEL) and r["node_index"] != "TOTAL"]
    net = proxyless_network()
    nodes = proxyless_nodes(net)
    if len(nodes) != len(rows):
        raise ValueError(f"{len(nodes)} conv/FC nodes rebuilt, the profile lists {len(rows)}")
    for names, r in zip(nodes, rows):
        mops = 2 * sum(net[n].macs for n in names) / 1e6
        if abs(mops - float(r["workload_mops"])) > 0.0015:
            raise ValueError(f"node {r['node_name']}: layers {names} hold {mops:.3f} MOPs, the profile "
                             f"{r['workload_mops']}")
    node_of: dict[str, int] = {}
    current = 0
    first = {names[0]: i for i, names in enumerate(nodes)}
    for layer in net.layers:
        current = first.get(layer.name, current)
        node_of[layer.name] = current
    for i, names in enumerate(nodes):
        node_of.update({n: i for n in names})
    dev = device or dnndk_build(no_host(get_device("dpu-b4096-zcu102")))
    pred = [0.0] * len(nodes)
    kernels: list[list[str]] = [[] for _ in nodes]
    for k in dev.profile(net).kernels:
        i = node_of[k.layers[0]]
        pred[i] += k.latency_ms
        kernels[i].append(k.name)
    out = []
    for names, r, p, ks in zip(nodes, rows, pred, kernels):
        m = float(r["runtime_ms"])
        out.append({"node": r["node_name"].removeprefix(PROXYLESS_MODEL + "_"), "layers": list(names),
                    "kernels": ks, "mops": float(r["workload_mops"]), "predicted_ms": p, "measured_ms": m,
                    "error": (p - m) / m})
    return out


def fit_small_kernel_overheads(shared: Path, step: float = 0.5, max_pass_cycles: float = 20.0) -> dict[str, float]:
    """Fit the two small-kernel parameters of the presets on the ProxylessNAS-Mobile 0.5 rows: least squares on
    the relative per-node error, ``alu_pass_overhead_cycles`` on a grid of ``step`` cycles and, for each,
    ``kernel_overhead_cycles`` in closed form (every kernel of a node adds it once to the node's time)."""
    base = dnndk_build(no_host(get_device("dpu-b4096-zcu102")))
    best: tuple[float, float, float] | None = None
    n_rows = 0
    for i in range(int(max_pass_cycles / step) + 1):
        c = i * step
        dev = AcceleratorDevice(base.name, dataclasses.replace(base.cost_model, alu_pass_overhead_cycles=c),
                                dataclasses.replace(base.mechanisms, kernel_overhead_cycles=0),
                                base.bytes_per_element)
        rows = proxyless_check(shared, dev)
        n_rows = len(rows)
        p = [r["predicted_ms"] for r in rows]
        n = [len(r["kernels"]) for r in rows]
        m = [r["measured_ms"] for r in rows]
        o_ms = math.fsum(k * (mi - pi) / mi ** 2 for k, pi, mi in zip(n, p, m)) / math.fsum(
            k * k / mi ** 2 for k, mi in zip(n, m))
        sse = math.fsum(((pi + k * o_ms - mi) / mi) ** 2 for k, pi, mi in zip(n, p, m))
        if best is None or sse < best[0]:
            best = (sse, c, o_ms)
    assert best is not None
    sse, c, o_ms = best
    clock = base.cost_model.clock_mhz
    return {"alu_pass_overhead_cycles": c, "kernel_overhead_us": o_ms * 1e3,
            "kernel_overhead_cycles": o_ms * 1e3 * clock, "rms_relative_error": math.sqrt(sse / n_rows)}


def fitted_parameter_check(shared: Path) -> dict[str, float]:
    """Recompute the DPU parameters the presets fit on the AlexNet and ProxylessNAS layer profiles."""
    rows = {r["node_name"]: r for r in csv.DictReader((shared / "dpu" / "dpu_layer_profiles.csv").open())
            if r["model"].startswith("alexnet")}
    w6, w7 = 9216 * 4096 + 4096, 4096 * 4096 + 4096
    gbps = (w6 + w7) / ((float(rows["fc6"]["runtime_ms"]) + float(rows["fc7"]["runtime_ms"])) * 1e6)
    fc8_ms = float(rows["fc8"]["runtime_ms"])
    overhead_us = (fc8_ms - (4096 * 2 + 2) / (gbps * 1e6)) * 1e3
    small = fit_small_kernel_overheads(shared)
    return {"weight_stream_gbps": gbps, "bandwidth_efficiency_at_281MHz": gbps / (32 * 0.281),
            "alexnet_fc8_overhead_us": overhead_us,
            "kernel_overhead_us (ProxylessNAS fit)": small["kernel_overhead_us"],
            "kernel_overhead_cycles_at_281MHz": small["kernel_overhead_cycles"],
            "alu_pass_overhead_cycles": small["alu_pass_overhead_cycles"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON result and figures into this folder")
    args = ap.parse_args(argv)
    shared = data_dir()
    if not (shared / "dpu" / "vitis_ai_zoo_latency.csv").is_file():
        print(f"shared data not found under {shared} (set HWNAS_SHARED_DATA)", file=sys.stderr)
        return 2
    boards = board_check(shared)
    vgg = vgg_check(shared)
    proxyless = proxyless_check(shared)
    kv = kv260_throughput_check(shared)
    params = fitted_parameter_check(shared)
    held = boards["held_out"]
    mape = 100 * sum(abs(e) for *_, e in held) / len(held)
    within = sum(abs(e) <= 0.15 for *_, e in held) / len(held)
    vgg_within = sum(abs(r["error"]) <= 0.10 for r in vgg) / len(vgg)
    px_mape = 100 * sum(abs(r["error"]) for r in proxyless) / len(proxyless)
    px_within = sum(abs(r["error"]) <= 0.20 for r in proxyless)
    doc = {"boards": boards["boards"], "vgg16_nodes": vgg, "kv260_multithread": kv,
           "proxyless_nodes": proxyless, "fitted_parameters": params,
           "held_out_mape_pct": mape, "held_out_within_15pct": within,
           "vgg16_nodes_within_10pct": vgg_within, "proxyless_nodes_mape_pct": px_mape,
           "proxyless_nodes_within_20pct": px_within / len(proxyless)}
    if args.out is not None:
        write_outputs(args.out, doc)
    if args.json:
        print(json.dumps(doc, indent=1))
        return 0
    print("DPU parameters fitted on the AlexNet and ProxylessNAS layer profiles (presets' [provenance]):")
    for k, v in params.items():
        print(f"  {k:34s} {v:10.3f}")
    print(f"\nExcluded zoo rows: " + "; ".join(f"{k} ({v})" for k, v in EXCLUDED.items()))
    for board, b in boards["boards"].items():
        print(f"\n{board} ({b['preset']}): host overhead fitted on {len(FIT_MODELS)} models = "
              f"{b['host_overhead_ms']:.3f} ms (preset holds {b['preset_host_overhead_ms']:.3f} ms)")
        print(f"  {'model':45s} {'arch':14s} {'in':>4s} {'VAI':>4s} {'pred ms':>9s} {'meas ms':>9s} {'error':>8s}")
        for r in b["rows"]:
            tag = "  (fit)" if r["fit"] else ""
            print(f"  {r['model']:45s} {r['arch']:14s} {r['input']:4d} {r['version']:>4s} {r['predicted_ms']:9.2f} "
                  f"{r['measured_ms']:9.2f} {100 * r['error']:+7.1f}%{tag}")
    print(f"\nHeld-out (board, model) pairs: {len(held)}; MAPE {mape:.1f}%; within +-15%: "
          f"{sum(abs(e) <= 0.15 for *_, e in held)}/{len(held)} = {100 * within:.0f}% (target >= 80%)")
    print("\nKV260 (one DPU core) multi-thread throughput = 1 / predicted DPU time (no fitted constant):")
    print(f"  {'model':45s} {'VAI':>4s} {'pred fps':>9s} {'meas fps':>9s} {'error':>8s}")
    for r in kv:
        print(f"  {r['model']:45s} {r['version']:>4s} {r['predicted_fps']:9.1f} {r['measured_fps']:9.1f} "
              f"{100 * r['error']:+7.1f}%")
    kv_within = sum(abs(r["error"]) <= 0.15 for r in kv)
    print(f"  MAPE {100 * sum(abs(r['error']) for r in kv) / len(kv):.1f}%; within +-15%: {kv_within}/{len(kv)}")
    print("\nVGG-16 conv nodes (FCN8 encoder, ZCU102 profile) vs profile():")
    print(f"  {'node':28s} {'kernel':12s} {'pred ms':>8s} {'meas ms':>8s} {'error':>8s}")
    for r in vgg:
        print(f"  {r['node']:28s} {r['kernel']:12s} {r['predicted_ms']:8.3f} {r['measured_ms']:8.3f} "
              f"{100 * r['error']:+7.1f}%")
    print(f"  within +-10%: {sum(abs(r['error']) <= 0.10 for r in vgg)}/{len(vgg)} = {100 * vgg_within:.0f}% "
          f"(target 100%); max |error| {100 * max(abs(r['error']) for r in vgg):.1f}%")
    print("\nProxylessNAS-Mobile 0.5 DPU nodes (ZCU102 profile, OFA-FPGA) vs profile() (node = dense conv + the "
          "depthwise conv after it):")
    print(f"  {'node':9s} {'MOPs':>7s} {'kernels':28s} {'pred ms':>8s} {'meas ms':>8s} {'error':>8s}")
    for r in proxyless:
        print(f"  {r['node']:9s} {r['mops']:7.3f} {'+'.join(r['kernels']):28s} {r['predicted_ms']:8.3f} "
              f"{r['measured_ms']:8.3f} {100 * r['error']:+7.1f}%")
    total_p = math.fsum(r["predicted_ms"] for r in proxyless)
    total_m = math.fsum(r["measured_ms"] for r in proxyless)
    print(f"  sum of nodes: predicted {total_p:.3f} ms, measured {total_m:.3f} ms "
          f"({100 * (total_p / total_m - 1):+.1f}%); MAPE {px_mape:.1f}%; within +-20%: {px_within}/{len(proxyless)} = "
          f"{100 * px_within / len(proxyless):.0f}%")
    return 0


def write_outputs(out: Path, doc: dict) -> None:
    """JSON result (headline: held-out share within +-15%, VGG-16 nodes within +-10%) and the figures."""
    from hwsim import plots
    from hwsim.bench.results import Headline, write_result

    boards = doc["boards"]
    fig, axes = plots.new_figure(1, len(boards), width=4.8 * len(boards), height=4.9)
    for ax, (board, b) in zip(axes[0], boards.items()):
        series = {}
        for label, fit in (("held out", False), ("used to fit the host overhead", True)):
            rows = [r for r in b["rows"] if r["fit"] == fit]
            series[f"{label} ({len(rows)})"] = ([r["predicted_ms"] for r in rows], [r["measured_ms"] for r in rows])
        plots.predicted_vs_measured_ax(ax, series, f"{board} ({b['preset']})", band=0.15, log=True)
    plots.set_suptitle(fig, "DPU model vs Vitis AI zoo single-thread latency (predicted = run() + fitted host "
                            "overhead per board)")
    figs = [plots.save_png(fig, out / "dpu_vs_board_scatter.png")]
    for key, name, title in (("vgg16_nodes", "vgg16", "VGG-16 conv nodes (FCN8 encoder) on ZCU102"),
                             ("proxyless_nodes", "proxyless", "ProxylessNAS-Mobile 0.5 DPU nodes on ZCU102")):
        rows = doc[key]
        figs.append(plots.per_layer_panels(
            out / f"dpu_vs_board_{name}_nodes.png", [r["node"] for r in rows],
            {"predicted (profile())": [r["predicted_ms"] for r in rows],
             "measured (board profiler)": [r["measured_ms"] for r in rows]}, "runtime per node (ms)",
            {"error": [100 * r["error"] for r in rows]}, "prediction error (%)", f"{title}: predicted vs measured",
            xlabel="DPU node (execution order)"))
    headline = [Headline("held-out (board, model) pairs within +-15%", 100 * doc["held_out_within_15pct"], ">=",
                         80.0, "%"),
                Headline("held-out (board, model) MAPE", doc["held_out_mape_pct"], unit="%"),
                Headline("VGG-16 conv nodes within +-10%", 100 * doc["vgg16_nodes_within_10pct"], "==", 100.0, "%"),
                Headline("ProxylessNAS nodes MAPE", doc["proxyless_nodes_mape_pct"], unit="%"),
                Headline("KV260 multi-thread fps MAPE", 100 * sum(abs(r["error"]) for r in doc["kv260_multithread"])
                         / max(1, len(doc["kv260_multithread"])), unit="%")]
    write_result(out, "dpu_vs_board", headline, doc, figs)


if __name__ == "__main__":
    sys.exit(main())
