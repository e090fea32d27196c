"""SCALE-Sim topology CSV files: read them into a :class:`Network` (or scalesim jobs), write them back.

Two formats, read unchanged (as scalesim 3.0's ``topology_utils`` reads them):

- conv: header ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter,
  Strides,`` (skipped), one row per layer, every row ending with a comma (the field after the last comma is
  dropped), an optional trailing ``N:M`` sparsity field (only ``1:1``, dense, is accepted);
- GEMM: header ``Layer, M, N, K`` (detected from the header), rows ``name, M, N, K,``: M output rows,
  K-long dot products, N outputs each.

Mapping to the workload IR:

- a conv row becomes a ``Conv2d`` with no padding (the IFMAP size in a scalesim CSV already includes it),
  square stride; a row whose name contains "DP" is depthwise, as scalesim treats it (``groups = channels``,
  one filter per channel: scalesim runs it as one single-channel job per channel);
- a GEMM row becomes a ``Linear`` with input ``(M, K)`` and N outputs;
- the CSV has no connectivity: every layer reads its own graph input ``<layer>_in`` of its input shape.

scalesim computes ``ceil((H - F + S) / S)`` outputs where PyTorch computes ``floor((H - F) / S) + 1``; they
differ only when ``(H - F) % S != 0``, where scalesim adds one partial window. :func:`read_jobs` keeps
scalesim's exact jobs for simulation; :func:`read_topology` gives the IR layer (PyTorch semantics).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from hwsim.errors import HwnasError
from hwsim.fileio import atomic_write_text
from hwsim.systolic.topology import ScalesimLayer, scalesim_view
from hwsim.workload import Conv2d, Layer, Linear, Network, Node

CONV_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
               "Strides,")
GEMM_HEADER = "Layer, M, N, K,"
_CONV_COLS = ("IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels", "Num Filter", "Strides")
_GEMM_COLS = ("M", "N", "K")


class TopologyCsvError(HwnasError):
    """Malformed topology CSV: the message names file, line, column and value."""


def _is_gemm_header(header: str) -> bool:
    cols = [c.strip().lower() for c in header.split(",") if c.strip()]
    return cols[:4] == ["layer", "m", "n", "k"]


def _parse(path: Path) -> tuple[str, list[tuple[int, str, list[int], bool]]]:
    """-> (format, [(line, name, ints, depthwise)])."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TopologyCsvError(f"{path}: topology file not found") from None
    except UnicodeDecodeError as e:
        raise TopologyCsvError(f"{path}: not a UTF-8 text file (byte {e.start})") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise TopologyCsvError(f"{path}:1: empty file (expected a header row)")
    fmt = "gemm" if _is_gemm_header(lines[0]) else "conv"
    names = _GEMM_COLS if fmt == "gemm" else _CONV_COLS
    rows = []
    seen: set[str] = set()
    for lineno, raw in enumerate(lines[1:], 2):
        row = raw.strip()
        if not row:
            continue
        if not row.endswith(","):
            raise TopologyCsvError(f"{path}:{lineno}: row must end with a comma (scalesim drops the last field): "
                                   f"{row!r}")
        fields = [f.strip() for f in row.split(",")[:-1]]
        if len(fields) < len(names) + 1:
            raise TopologyCsvError(f"{path}:{lineno}: expected {len(names) + 1} fields "
                                   f"(name, {', '.join(names)}), got {len(fields)}")
        extra = fields[len(names) + 1:]
        if extra and not (len(extra) == 1 and extra[0].replace(" ", "") == "1:1"):
            raise TopologyCsvError(f"{path}:{lineno}: column {len(names) + 2} (sparsity) = {extra!r}: only dense "
                                   "'1:1' is supported")
        name = fields[0]
        if not name:
            raise TopologyCsvError(f"{path}:{lineno}: column 1 (layer name) is empty")
        if name in seen:
            raise TopologyCsvError(f"{path}:{lineno}: column 1 (layer name) {name!r} is repeated")
        seen.add(name)
        vals = []
        for col, (cname, v) in enumerate(zip(names, fields[1:]), 2):
            try:
                iv = int(v)
            except ValueError:
                raise TopologyCsvError(f"{path}:{lineno}: column {col} ({cname}) must be an integer, got {v!r}") \
                    from None
            if iv <= 0:
                raise TopologyCsvError(f"{path}:{lineno}: column {col} ({cname}) must be positive, got {v!r}")
            vals.append(iv)
        if fmt == "conv":
            if vals[2] > vals[0] or vals[3] > vals[1]:
                raise TopologyCsvError(f"{path}:{lineno}: filter {vals[2]}x{vals[3]} larger than IFMAP "
                                       f"{vals[0]}x{vals[1]}")
        rows.append((lineno, name, vals, fmt == "conv" and "DP" in name))
    return fmt, rows


def read_jobs(path: str | Path) -> list[ScalesimLayer]:
    """The scalesim jobs of a topology CSV exactly as scalesim runs them (a "DP" row becomes one
    single-channel job per channel, named ``<name>Channel_<i>`` as scalesim names them)."""
    p = Path(path)
    fmt, rows = _parse(p)
    jobs: list[ScalesimLayer] = []
    for _, name, v, dp in rows:
        if fmt == "gemm":
            jobs.append(ScalesimLayer.gemm(name, v[0], v[1], v[2]))
        elif dp:
            jobs.extend(ScalesimLayer(f"{name}Channel_{i}", v[0], v[1], v[2], v[3], 1, v[5], v[6], v[6])
                        for i in range(v[4]))
        else:
            jobs.append(ScalesimLayer(name, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[6]))
    return jobs


def read_topology(path: str | Path) -> Network:
    """A topology CSV as a :class:`Network` (see the module docstring for the mapping)."""
    p = Path(path)
    fmt, rows = _parse(p)
    inputs: list[tuple[str, tuple[int, ...]]] = []
    nodes: list[Node] = []
    for lineno, name, v, dp in rows:
        try:
            if fmt == "gemm":
                layer: Layer = Linear(name, (v[0], v[2]), v[1], bias=False)
            elif dp:
                # scalesim: one job per channel, each with all Num Filter filters of that channel
                layer = Conv2d(name, v[4], v[4] * v[5], v[0], v[1], v[2], v[3], v[6], v[6], groups=v[4])
            else:
                layer = Conv2d(name, v[4], v[5], v[0], v[1], v[2], v[3], v[6], v[6])
        except HwnasError as e:
            raise TopologyCsvError(f"{p}:{lineno}: {e}") from None
        inp = f"{name}_in"
        inputs.append((inp, layer.input_shapes[0]))
        nodes.append(Node(layer, (inp,)))
    name = p.stem or "topology"
    return Network(name, tuple(inputs), tuple(nodes))


def write_topology(layers: Network | Iterable[Layer | ScalesimLayer], path: str | Path) -> Path:
    """Write a conv-format topology CSV that scalesim reads (padding folded into the IFMAP size).

    Workload layers go through :func:`hwsim.systolic.topology.scalesim_view`; layers without MACs are left
    out; a grouped conv (groups > 1) is written as ``groups`` identical rows ``<name>_g<i>`` (a depthwise conv
    could be one "DP" row, but scalesim gives a DP row ``Num Filter`` filters *per channel*; separate rows are
    exact for every group size). Linear/MatMul layers are written in the conv form of scalesim's GEMM mapping.
    """
    items = layers.layers if isinstance(layers, Network) else list(layers)
    rows = [CONV_HEADER]
    for item in items:
        if isinstance(item, ScalesimLayer):
            jobs: Sequence[ScalesimLayer] = [item]
        else:
            m = scalesim_view(item)
            if m.job is None:
                continue
            j = m.job
            jobs = [j] if m.repeats == 1 else [
                ScalesimLayer(f"{j.name}_g{i}", j.ifmap_h, j.ifmap_w, j.filter_h, j.filter_w, j.channels,
                              j.num_filters, j.stride_h, j.stride_w) for i in range(m.repeats)]
        for j in jobs:
            if "," in j.name or "DP" in j.name:
                raise TopologyCsvError(f"{path}: layer name {j.name!r} contains ',' or 'DP' (scalesim would "
                                       "misread it)")
            if j.stride_h != j.stride_w:
                raise TopologyCsvError(f"{path}: layer {j.name!r} has strides ({j.stride_h}, {j.stride_w}); a "
                                       "scalesim row has one stride")
            rows.append(j.csv_row())
    out = Path(path)
    atomic_write_text(out, "\n".join(rows) + "\n")
    return out
