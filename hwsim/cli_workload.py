"""``hwnas workload show|export``: inspect a workload's layer table or save it as IR JSON."""

from __future__ import annotations

import argparse
import csv
import io
import json
from typing import Any

from hwsim.fileio import atomic_write_text
from hwsim.loader import load_workload, parse_shape
from hwsim.workload import Network

COLUMNS = ("name", "kind", "inputs", "input_shapes", "output_shape", "macs", "params")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("workload", help="inspect and convert workloads")
    wsub = p.add_subparsers(dest="workload_command", metavar="ACTION", parser_class=type(p))
    show = wsub.add_parser("show", help="print the layer table with shapes, MACs, params and totals")
    show.add_argument("model", help="zoo model name or a .json/.csv/.onnx file")
    show.add_argument("--input", help="per-sample input shape for zoo models, e.g. 3x224x224")
    show.add_argument("--format", choices=("table", "json", "csv"), default="table")
    show.add_argument("--plot", metavar="FILE.png", help="also write MACs and parameters per layer as bars")
    show.set_defaults(func=_show)
    exp = wsub.add_parser("export", help="write the workload as hwnas IR JSON")
    exp.add_argument("model", help="zoo model name or a .json/.csv/.onnx file")
    exp.add_argument("--input", help="per-sample input shape for zoo models, e.g. 3x224x224")
    exp.add_argument("--out", required=True, help="output .json path (written atomically)")
    exp.set_defaults(func=_export)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _load(args: argparse.Namespace) -> Network:
    shape = parse_shape(args.input) if args.input else None
    return load_workload(args.model, shape)


def layer_rows(net: Network) -> list[dict[str, Any]]:
    """One dict per layer with the :data:`COLUMNS` fields."""
    return [{
        "name": n.layer.name,
        "kind": n.layer.kind,
        "inputs": list(n.inputs),
        "input_shapes": [list(s) for s in n.layer.input_shapes],
        "output_shape": list(n.layer.output_shape),
        "macs": n.layer.macs,
        "params": n.layer.params,
    } for n in net.nodes]


def _fmt_shape(s: list[int]) -> str:
    return "x".join(str(d) for d in s)


def format_table(net: Network) -> str:
    rows = layer_rows(net)
    head = ("layer", "kind", "input", "output", "MACs", "params")
    body = [(r["name"], r["kind"], ",".join(_fmt_shape(s) for s in r["input_shapes"]), _fmt_shape(r["output_shape"]),
             f"{r['macs']:,}", f"{r['params']:,}") for r in rows]
    body.append(("TOTAL", f"{len(rows)} layers", "", "", f"{net.total_macs:,}", f"{net.total_params:,}"))
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    right = {4, 5}
    lines = []
    for k, r in enumerate([head, *body]):
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        lines.append("  ".join(cells).rstrip())
        if k == 0 or k == len(body) - 1:
            lines.append("  ".join("-" * w for w in widths))
    return f"{net.name}: {net.total_macs / 1e9:.3f} GMACs, {net.total_params / 1e6:.3f} M params\n" + "\n".join(lines)


def _show(args: argparse.Namespace) -> int:
    net = _load(args)
    if args.format == "json":
        print(json.dumps({"name": net.name, "inputs": [{"name": n, "shape": list(s)} for n, s in net.inputs],
                          "total_macs": net.total_macs, "total_params": net.total_params,
                          "layers": layer_rows(net)}, indent=1))
    elif args.format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in layer_rows(net):
            w.writerow([r["name"], r["kind"], " ".join(r["inputs"]),
                        " ".join(_fmt_shape(s) for s in r["input_shapes"]), _fmt_shape(r["output_shape"]),
                        r["macs"], r["params"]])
        print(buf.getvalue(), end="")
    else:
        print(format_table(net))
    if args.plot:
        write_plot(args.plot, net)
    return 0


def write_plot(path: str, net: Network) -> None:
    """MACs and parameters of every layer with MACs (execution order) as two bar panels."""
    from hwsim.errors import HwnasError
    from hwsim.plots import per_layer_panels

    layers = [n.layer for n in net.nodes if n.layer.macs > 0]
    if not layers:
        raise HwnasError(f"--plot: {net.name} has no layer with MACs")
    per_layer_panels(path, [x.name for x in layers], {"MACs": [x.macs for x in layers]}, "MACs per layer",
                     {"parameters": [x.params for x in layers]}, "parameters per layer",
                     f"{net.name}: {net.total_macs / 1e9:.3f} GMACs, {net.total_params / 1e6:.3f} M parameters "
                     f"({len(layers)} of {len(net)} layers have MACs)")


def _export(args: argparse.Namespace) -> int:
    net = _load(args)
    atomic_write_text(args.out, net.to_json() + "\n")
    print(f"wrote {args.out}: {len(net)} layers, {net.total_macs:,} MACs")
    return 0
