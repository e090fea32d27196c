"""NAS-Bench-201 cell space (Dong & Yang, ICLR 2020): 6 edges x 5 ops = 15,625 cells.

Arch strings ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (node j's incoming edges from nodes 0..j-1). Macro network
(C=16, N=5, 32x32): stem 3x3 conv 16 + BN; three stages of N cells, with a ResNet basic block of stride 2 between
stages (ReLU-conv3x3(s2)-BN, ReLU-conv3x3-BN, shortcut 2x2 avg pool + 1x1 conv, output shortcut + block); final
BN + ReLU, global average pool, linear. nor_conv_kxk = ReLU-conv-BN; avg_pool_3x3 = 3x3 average pooling (stride 1,
padding 1, padding excluded); skip_connect = identity; none = zero. Each node sums its incoming edges.

Pruning (what model converters do to the traced graph): an edge is kept only if its op is not ``none``, its
source node is reachable from the cell input through kept ops and its target node reaches the cell output.
Decision for disconnected cells (no path from cell input to output, 341 of the 15,625): the cell output is a
constant zero, so every later layer is independent of the image and a converter folds the whole body into a
constant. We then build the smallest network that still maps the image to logits: the stem (conv3x3 + BN), global
average pool, flatten, linear(C -> classes) - about 0.44 M MACs instead of 7.8 - 220 M, matching the near-zero
latencies in ``latency/nb201_*.csv``.

Zero folding (what HW-NAS-Bench's Pixel 3 / Raspberry Pi 4 converter did, :func:`zero_folded_cell`): each ``none``
edge becomes a constant zero and every op whose result cannot reach the output is removed, but the ops that read
such a constant still run. An edge therefore runs when its op is not ``none`` and its target node reaches the
output through non-``none`` edges, even if its source node is a constant zero. One more behaviour of that
converter: a node that reaches the output only through ``none`` edges and whose value is a single
``nor_conv_*`` edge keeps that convolution (the zero multiply ends up inside the convolution instead of being
folded), together with what feeds it, except when node 1 is such a node and node 2 is dead too and adds
``x1 * 0`` to a real op on ``x0`` -- then neither convolution runs. These rules are read from the measured
columns (see ``calibration.datasets``), not from the converter's source.

MACs/params of the unpruned cells match the NAS-Bench-201 API: its FLOPs are our MACs plus the classifier bias
(its counter skips pooling), its params count conv/linear weights and BN affine terms, like ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from hwsim.emit import GraphEmitter
from hwsim.formats import build
from spaces.core import Arch, Choice, SearchSpace, SpaceError

NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES = tuple((j, i) for j in (1, 2, 3) for i in range(j))  # (target, source) in arch-string order
LABELS = tuple(f"edge_{j}_{i}" for j, i in EDGES)


def live_edges(ops: dict[tuple[int, int], str]) -> tuple[tuple[int, int], ...]:
    """Edges (target, source) that survive pruning, in arch-string order; empty when the cell is disconnected."""
    fwd = {0}
    for j in (1, 2, 3):
        if any(ops[(j, i)] != "none" and i in fwd for i in range(j)):
            fwd.add(j)
    bwd = {3}
    for i in (2, 1, 0):
        if any(ops[(j, i)] != "none" and j in bwd for j in range(i + 1, 4)):
            bwd.add(i)
    if 3 not in fwd:
        return ()
    return tuple((j, i) for j, i in EDGES if ops[(j, i)] != "none" and i in fwd and j in bwd)


_CONVS = ("nor_conv_1x1", "nor_conv_3x3")


@dataclass(frozen=True)
class FoldedCell:
    """What a zero-folding converter executes of one cell (see module docstring).

    ``edges``: executed edges (target, source) in arch-string order; ``kept``: dead nodes whose lone convolution
    still runs (its zero product enters the cell output); ``reads_input``: whether the cell output depends on the
    cell input (if not, every earlier layer is dead and only the last cell runs, on a constant).
    """

    edges: tuple[tuple[int, int], ...]
    kept: tuple[int, ...]
    reads_input: bool


def zero_folded_cell(ops: dict[tuple[int, int], str]) -> FoldedCell:
    """The edges a zero-folding converter keeps (module docstring); ``ops`` maps (target, source) to an op."""
    def real(e: tuple[int, int]) -> bool:
        return ops[e] != "none"

    bwd = {3}
    for i in (2, 1, 0):
        if any(real((j, i)) and j in bwd for j in range(i + 1, 4)):
            bwd.add(i)
    run = {e for e in EDGES if real(e) and e[0] in bwd}

    def lone_conv(i: int) -> bool:
        ins = [(i, s) for s in range(i) if real((i, s))]
        return (i not in bwd and len(ins) == 1 and ops[ins[0]] in _CONVS
                and not any(real((k, i)) for k in range(i + 1, 4)))

    folded_pair = lone_conv(1) and 2 not in bwd and real((2, 0))
    kept = tuple(i for i in (1, 2) if lone_conv(i) and not folded_pair)
    for i in kept:
        todo = [i]
        while todo:
            t = todo.pop()
            for s in range(t):
                if real((t, s)) and (t, s) not in run:
                    run.add((t, s))
                    todo.append(s)
    dep = {0}
    for j in (1, 2, 3):
        if any((j, i) in run and i in dep for i in range(j)):
            dep.add(j)
    return FoldedCell(tuple(e for e in EDGES if e in run), kept, 3 in dep or any(i in dep for i in kept))


def is_connected(arch: Arch) -> bool:
    return bool(live_edges({(j, i): arch[f"edge_{j}_{i}"] for j, i in EDGES}))


@dataclass(frozen=True)
class NB201Codec:
    """The NAS-Bench-201 arch string."""

    def format(self, space: SearchSpace, arch: Arch) -> str:
        nodes = ["|".join(f"{arch[f'edge_{j}_{i}']}~{i}" for i in range(j)) for j in (1, 2, 3)]
        return "|" + "|+|".join(nodes) + "|"

    def parse(self, space: SearchSpace, text: str) -> Arch:
        s = text.strip()
        if not (s.startswith("|") and s.endswith("|")):
            raise SpaceError(f"NB201 arch string {text!r} must start and end with '|'")
        nodes = s[1:-1].split("|+|")
        if len(nodes) != 3:
            raise SpaceError(f"NB201 arch string {text!r} has {len(nodes)} nodes, expected 3")
        items = []
        for j, node in enumerate(nodes, start=1):
            edges = node.split("|")
            if len(edges) != j:
                raise SpaceError(f"NB201 arch string {text!r}: node {j} has {len(edges)} edges, expected {j}")
            for i, tok in enumerate(edges):
                op, sep, src = tok.partition("~")
                if not sep or src != str(i):
                    raise SpaceError(f"NB201 arch string {text!r}: token {tok!r} must be 'op~{i}'")
                if op not in NB201_OPS:
                    raise SpaceError(f"NB201 arch string {text!r}: unknown op {op!r} in token {tok!r}; "
                                     f"expected one of {', '.join(NB201_OPS)}")
                items.append((f"edge_{j}_{i}", op))
        return space.validate(Arch(items))


def emit_stages(e: GraphEmitter, channels: int, cells_per_stage: int, cell: Callable[[str], str]) -> str:
    """The macro network's body: 3x3 stem conv + BN, then three stages of ``cells_per_stage`` cells (``cell`` emits
    one on its input) with a residual reduction block (channels x2, stride 2) before stages 2 and 3."""
    x = e.bn(e.conv(e.input, channels, 3))
    c = channels
    for stage in range(3):
        if stage:
            x = _reduction(e, x, c * 2)
            c *= 2
        for _ in range(cells_per_stage):
            x = cell(x)
    return x


def emit_head(e: GraphEmitter, x: str, num_classes: int) -> str:
    """BN, ReLU, global average pool, flatten, linear classifier."""
    x = e.act(e.bn(x), "relu")
    return e.linear(e.flatten(e.global_avg(x)), num_classes)


@dataclass(frozen=True)
class NB201Model:
    """The NAS-Bench-201 macro network: ``channels`` (C) and ``cells_per_stage`` (N)."""

    channels: int = 16
    cells_per_stage: int = 5
    input_size: int = 32
    num_classes: int = 10
    kind: ClassVar[str] = "nb201"

    def check(self, space: SearchSpace) -> None:
        if space.labels != LABELS:
            raise SpaceError(f"space {space.name!r}: NB201 model needs labels {LABELS}")
        for c in space.choices:
            for op in c.candidates:
                if op not in NB201_OPS:
                    raise SpaceError(f"space {space.name!r}: unknown NB201 op {op!r} for {c.label}")

    def emit(self, space: SearchSpace, arch: Arch, e: GraphEmitter, num_classes: int) -> str:
        ops = {(j, i): arch[f"edge_{j}_{i}"] for j, i in EDGES}
        live = live_edges(ops)
        if not live:  # disconnected: the body folds to a constant (see module docstring)
            x = e.bn(e.conv(e.input, self.channels, 3))
            return e.linear(e.flatten(e.global_avg(x)), num_classes)
        x = emit_stages(e, self.channels, self.cells_per_stage, lambda y: _cell(e, y, ops, live))
        return emit_head(e, x, num_classes)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "channels": self.channels, "cells_per_stage": self.cells_per_stage,
                "input_size": self.input_size, "num_classes": self.num_classes}

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "model") -> NB201Model:
        return build(cls, d, source, SpaceError, ignore=("kind",))  # type: ignore[no-any-return]


def _edge(e: GraphEmitter, x: str, op: str) -> str:
    c = e.channels(x)
    if op == "skip_connect":
        return x
    if op == "avg_pool_3x3":
        return e.pool(x, "avg", 3, 1, 1)
    k = 1 if op == "nor_conv_1x1" else 3
    return e.bn(e.conv(e.act(x, "relu"), c, k))


def _cell(e: GraphEmitter, x: str, ops: dict[tuple[int, int], str], live: tuple[tuple[int, int], ...]) -> str:
    nodes: dict[int, str] = {0: x}
    for j in (1, 2, 3):
        acc: str | None = None
        for (t, i) in live:
            if t != j:
                continue
            y = _edge(e, nodes[i], ops[(t, i)])
            acc = y if acc is None else e.add(acc, y)
        if acc is not None:
            nodes[j] = acc
    return nodes[3]


def _reduction(e: GraphEmitter, x: str, cout: int) -> str:
    a = e.bn(e.conv(e.act(x, "relu"), cout, 3, 2))
    a = e.bn(e.conv(e.act(a, "relu"), cout, 3, 1))
    r = e.conv(e.pool(x, "avg", 2, 2), cout, 1)
    return e.add(r, a)


def nb201_space(channels: int = 16, cells_per_stage: int = 5, input_size: int = 32,
                num_classes: int = 10) -> SearchSpace:
    """The 15,625-cell NAS-Bench-201 space with the standard CIFAR macro network by default."""
    return SearchSpace("nb201", tuple(Choice(lb, NB201_OPS) for lb in LABELS),
                       NB201Model(channels, cells_per_stage, input_size, num_classes),
                       description="NAS-Bench-201 cells", codec=NB201Codec())


__all__ = ["FoldedCell", "NB201_OPS", "NB201Codec", "NB201Model", "emit_head", "emit_stages", "is_connected",
           "live_edges", "nb201_space",
           "zero_folded_cell"]
