"""From a measurement to its workload: spaces by name, archs validated, workloads built once per structure.

Space names are those of :mod:`spaces.registry` plus two NAS-Bench-201 execution variants:

* ``nb201-unpruned``: the macro network as PyTorch eager mode executes it (every edge runs, ``none`` is a multiply
  by zero, disconnected cells keep their body). HELP's GPU/CPU/phone columns were measured that way.
* ``nb201-zero-folded``: the converter of HW-NAS-Bench's Pixel 3 / Raspberry Pi 4 columns: ``none`` edges become
  constant zeros, code that cannot reach the output is removed, but ops reading a constant zero still run (rules
  in :func:`spaces.nb201.zero_folded_cell`).

``nb201`` itself prunes every edge that cannot carry the input to the output, as the nn-Meter TFLite/OpenVINO
converters did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hwsim.errors import HwnasError
from hwsim.workload import Network
from calibration.measurements import Measurement, MeasurementError, MeasurementSet

if TYPE_CHECKING:
    from spaces.nb201 import FoldedCell

UNPRUNED_NB201 = "nb201-unpruned"
ZERO_FOLDED_NB201 = "nb201-zero-folded"


@dataclass(frozen=True)
class _NB201Variant:
    """Fields and validation shared by the NAS-Bench-201 execution variants below (the macro network of
    :class:`spaces.nb201.NB201Model`: ``channels`` C, ``cells_per_stage`` N)."""

    channels: int = 16
    cells_per_stage: int = 5
    input_size: int = 32
    num_classes: int = 10

    def check(self, space: Any) -> None:
        from spaces.nb201 import NB201Model

        NB201Model(self.channels, self.cells_per_stage, self.input_size, self.num_classes).check(space)


@dataclass(frozen=True)
class NB201UnprunedModel(_NB201Variant):
    """NAS-Bench-201 macro network with every edge executed (PyTorch eager semantics).

    ``none`` edges become an element-wise multiply by a scalar zero; each node sums all its incoming edges.
    Workload only (no torch twin).
    """

    kind: ClassVar[str] = "nb201-unpruned"

    def emit(self, space: Any, arch: Any, e: Any, num_classes: int) -> str:
        from spaces.nb201 import EDGES, emit_head, emit_stages

        ops = {(j, i): arch[f"edge_{j}_{i}"] for j, i in EDGES}

        def cell(x: str) -> str:
            nodes = [x]
            for j in (1, 2, 3):
                acc: str | None = None
                for i in range(j):
                    y = _edge_unpruned(e, nodes[i], ops[(j, i)])
                    acc = y if acc is None else e.add(acc, y)
                assert acc is not None
                nodes.append(acc)
            return nodes[3]

        return emit_head(e, emit_stages(e, self.channels, self.cells_per_stage, cell), num_classes)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "channels": self.channels, "cells_per_stage": self.cells_per_stage,
                "input_size": self.input_size, "num_classes": self.num_classes}


def _edge_unpruned(e: Any, x: str, op: str) -> str:
    if op == "none":
        return e.builder.eltwise("mul", x, params=[(1,)])
    if op == "skip_connect":
        return x
    if op == "avg_pool_3x3":
        return e.pool(x, "avg", 3, 1, 1)
    k = 1 if op == "nor_conv_1x1" else 3
    return e.bn(e.conv(e.act(x, "relu"), e.channels(x), k))


@dataclass(frozen=True)
class NB201ZeroFoldedModel(_NB201Variant):
    """NAS-Bench-201 macro network after a zero-folding converter (:func:`spaces.nb201.zero_folded_cell`).

    Each cell runs its executed edges; an edge whose source node is a constant zero reads the cell input in the
    IR (same shape; only the layer list matters for latency), except a ``skip_connect`` of a zero, which adds
    nothing; the value of a kept dead convolution is added into the cell output. When the cell output does not
    depend on the cell input, every earlier layer is dead: the network is the last cell on a constant graph input
    ``zeros`` (the last stage's shape) followed by the head (BN, ReLU, global pool, linear); the image input is
    then unused. Workload only (no torch twin).
    """

    kind: ClassVar[str] = "nb201-zero-folded"

    def emit(self, space: Any, arch: Any, e: Any, num_classes: int) -> str:
        from spaces.nb201 import EDGES, emit_head, emit_stages, zero_folded_cell

        ops = {(j, i): arch[f"edge_{j}_{i}"] for j, i in EDGES}
        cell = zero_folded_cell(ops)
        if cell.reads_input:
            x = emit_stages(e, self.channels, self.cells_per_stage, lambda y: _folded_cell(e, y, ops, cell))
        else:
            _, h, w = e.shape(e.input)
            x = e.builder.add_input("zeros", (self.channels * 4, -(-h // 4), -(-w // 4)))
            x = _folded_cell(e, x, ops, cell)
        return emit_head(e, x, num_classes)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "channels": self.channels, "cells_per_stage": self.cells_per_stage,
                "input_size": self.input_size, "num_classes": self.num_classes}


def _folded_cell(e: Any, x: str, ops: dict[tuple[int, int], str], cell: FoldedCell) -> str:
    """One cell's executed edges on ``x``; returns the cell output (``x`` itself when nothing reaches it)."""
    from spaces.nb201 import _edge

    nodes: dict[int, str] = {0: x}
    for j in (1, 2, 3):
        acc: str | None = None
        for t, i in cell.edges:
            if t != j or (i not in nodes and ops[(t, i)] == "skip_connect"):  # a zero passed on adds nothing
                continue
            y = _edge(e, nodes.get(i, x), ops[(t, i)])
            acc = y if acc is None else e.add(acc, y)
        if j == 3:
            for i in cell.kept:
                acc = nodes[i] if acc is None else e.add(acc, nodes[i])
        if acc is not None:
            nodes[j] = acc
    return nodes.get(3, x)


def nb201_zero_folded_space() -> Any:
    """The NB201 space whose workloads are those of a zero-folding converter (see module docstring)."""
    from spaces.core import Choice, SearchSpace
    from spaces.nb201 import LABELS, NB201_OPS, NB201Codec

    return SearchSpace(ZERO_FOLDED_NB201, tuple(Choice(lb, NB201_OPS) for lb in LABELS), NB201ZeroFoldedModel(),
                       description="NAS-Bench-201 cells, none edges folded to constant zeros",
                       codec=NB201Codec())


def nb201_unpruned_space() -> Any:
    """The NB201 space whose workloads execute every edge (see module docstring)."""
    from spaces.core import Choice, SearchSpace
    from spaces.nb201 import LABELS, NB201_OPS, NB201Codec

    return SearchSpace(UNPRUNED_NB201, tuple(Choice(lb, NB201_OPS) for lb in LABELS), NB201UnprunedModel(),
                       description="NAS-Bench-201 cells, every edge executed", codec=NB201Codec())


def space_names() -> tuple[str, ...]:
    from spaces.registry import space_names as _names

    return tuple(_names()) + (UNPRUNED_NB201, ZERO_FOLDED_NB201)


def get_space(name: str) -> Any:
    """A search space by name (``spaces.registry`` names, ``nb201-unpruned``, ``nb201-zero-folded``, or a ``.toml``
    path)."""
    if name == UNPRUNED_NB201:
        return nb201_unpruned_space()
    if name == ZERO_FOLDED_NB201:
        return nb201_zero_folded_space()
    from spaces.registry import get_space as _get

    return _get(name)


class WorkloadResolver:
    """Builds the workload of measurements, caching spaces and workloads (one build per distinct arch).

    Each instance owns its caches; no state is shared between instances.
    """

    def __init__(self, base_dir: str | Path | None = None) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else Path(".")
        self._spaces: dict[str, Any] = {}
        self._nets: dict[tuple[Any, ...], Network] = {}

    def space(self, name: str, where: str = "") -> Any:
        if name not in self._spaces:
            try:
                self._spaces[name] = get_space(name)
            except HwnasError as e:
                raise MeasurementError(f"{where}: field 'space': {e}" if where else str(e)) from None
        return self._spaces[name]

    def arch(self, space: str, arch: str, where: str = "") -> Any:
        """The parsed arch; an unknown arch raises :class:`MeasurementError` naming ``where``."""
        sp = self.space(space, where)
        try:
            return sp.parse(arch)
        except HwnasError as e:
            raise MeasurementError(f"{where}: unknown arch {arch!r} in space {space!r}: {e}") from None

    def workload(self, m: Measurement) -> Network:
        """The workload IR of measurement ``m``."""
        where = m.source or f"measurement {m.id!r}"
        if m.space is not None and m.arch is not None:
            key: tuple[Any, ...] = ("arch", m.space, m.arch, m.input_size)
            if key not in self._nets:
                sp = self.space(m.space, where)
                a = self.arch(m.space, m.arch, where)
                self._nets[key] = sp.to_workload(a, input_size=m.input_size)
            return self._nets[key]
        if m.network is not None:
            key = ("network", m.network)
            if key not in self._nets:
                p = Path(m.network)
                p = p if p.is_absolute() else self.base_dir / p
                if not p.is_file():
                    raise MeasurementError(f"{where}: field 'network': file {str(p)!r} not found")
                try:
                    self._nets[key] = Network.load(p)
                except HwnasError as e:
                    raise MeasurementError(f"{where}: field 'network': {e}") from None
            return self._nets[key]
        assert m.model is not None
        key = ("model", m.model, m.input_size)
        if key not in self._nets:
            from hwsim.zoo import get_model

            try:
                zm = get_model(m.model)
            except HwnasError as e:
                raise MeasurementError(f"{where}: field 'model': {e}") from None
            shape = None if m.input_size is None else (3, m.input_size, m.input_size)
            try:
                self._nets[key] = zm.build_ir(shape)
            except HwnasError as e:
                raise MeasurementError(f"{where}: field 'model': {e}") from None
        return self._nets[key]

    def workloads(self, ms: MeasurementSet | Sequence[Measurement]) -> list[Network]:
        return [self.workload(m) for m in ms]

    def validate(self, ms: MeasurementSet | Sequence[Measurement]) -> None:
        """Check every space/arch/network/model resolves (errors carry file and line) without building."""
        for m in ms:
            where = m.source or f"measurement {m.id!r}"
            if m.space is not None and m.arch is not None:
                self.arch(m.space, m.arch, where)
            else:
                self.workload(m)


__all__ = ["NB201UnprunedModel", "NB201ZeroFoldedModel", "UNPRUNED_NB201", "WorkloadResolver", "ZERO_FOLDED_NB201",
           "get_space", "nb201_unpruned_space", "nb201_zero_folded_space", "space_names"]
