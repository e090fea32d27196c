"""Workload IR: immutable layer specs and the :class:`Network` DAG that every hwnas model consumes.

Shapes are per sample (no batch axis): feature maps are ``(C, H, W)``, token tensors ``(T, D)``, vectors
``(D,)``. Every layer is a frozen dataclass that knows its input and output shapes, its multiply-accumulate
count (MACs; only conv, linear and matmul multiply-accumulate), its parameter count, and the bytes it moves
for a data width. A :class:`Network` is a DAG of named layers kept in a stable topological order, with an
exact, versioned JSON form.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import networkx as nx

Shape = tuple[int, ...]

JSON_FORMAT = "hwnas.network"
JSON_VERSION = 1


from hwsim.errors import HwnasError
from hwsim.formats import Format, build, convert, kind_name, parse_json, read_text, short_repr


class WorkloadError(HwnasError):
    """Invalid workload: the message names the layer, field and value."""


NETWORK_FORMAT = Format(JSON_FORMAT, JSON_VERSION, "network", WorkloadError)


class DataType(enum.Enum):
    """Element data width of activations and weights."""

    INT8 = "int8"
    FP16 = "fp16"
    FP32 = "fp32"

    @property
    def bytes(self) -> int:
        """Bytes per element."""
        return {"int8": 1, "fp16": 2, "fp32": 4}[self.value]

    @classmethod
    def parse(cls, value: DataType | str) -> DataType:
        if isinstance(value, DataType):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            raise WorkloadError(f"unknown data type {value!r}; expected one of int8, fp16, fp32") from None


def numel(shape: Sequence[int]) -> int:
    """Number of elements of a shape."""
    return math.prod(shape)


def _check_shape(layer: str, fld: str, shape: Any) -> Shape:
    if not isinstance(shape, tuple) or not shape or not all(isinstance(d, int) for d in shape):
        raise WorkloadError(f"layer {layer!r}: {fld} must be a non-empty tuple of ints, got {shape!r}")
    for d in shape:
        if d <= 0:
            raise WorkloadError(f"layer {layer!r}: {fld} has a non-positive dimension: {shape!r}")
    return shape


def _check_pos(layer: str, **values: int) -> None:
    for k, v in values.items():
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise WorkloadError(f"layer {layer!r}: {k} must be a positive integer, got {v!r}")


def _check_nonneg(layer: str, **values: int) -> None:
    for k, v in values.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise WorkloadError(f"layer {layer!r}: {k} must be a non-negative integer, got {v!r}")


def _check_choice(layer: str, fld: str, value: str, choices: Iterable[str]) -> None:
    choices = tuple(choices)
    if value not in choices:
        raise WorkloadError(f"layer {layer!r}: {fld} must be one of {', '.join(choices)}; got {value!r}")


def _sliding_out(layer: str, axis: str, size: int, kernel: int, stride: int, pad: int, dilation: int,
                 ceil_mode: bool = False) -> int:
    eff = dilation * (kernel - 1) + 1
    span = size + 2 * pad - eff
    if span < 0:
        raise WorkloadError(
            f"layer {layer!r}: kernel_{axis}={kernel} (effective {eff}) is larger than the padded input "
            f"{axis}={size}+2*{pad}={size + 2 * pad}")
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + pad:  # PyTorch: the last window must start inside input or left pad
            out -= 1
        return out
    return span // stride + 1


@dataclass(frozen=True)
class Layer:
    """Base of every layer kind. Subclasses set ``kind`` and implement the shape/cost properties."""

    name: str
    kind: ClassVar[str] = "layer"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise WorkloadError(f"layer name must be a non-empty string, got {self.name!r}")

    # --- interface ---------------------------------------------------------------------------------
    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        """Shapes of the activation inputs, in argument order."""
        raise NotImplementedError

    @property
    def output_shape(self) -> Shape:
        raise NotImplementedError

    @property
    def macs(self) -> int:
        """Multiply-accumulate operations per sample."""
        return 0

    @property
    def params(self) -> int:
        """Learned parameters (weights, biases, affine terms)."""
        return 0

    @property
    def ops(self) -> int:
        """Non-MAC element operations per sample (comparisons, adds, activations), for units without MACs."""
        return 0

    # --- derived -----------------------------------------------------------------------------------
    @property
    def input_elements(self) -> int:
        return sum(numel(s) for s in self.input_shapes)

    @property
    def output_elements(self) -> int:
        return numel(self.output_shape)

    def bytes_moved(self, dtype: DataType | str = DataType.INT8) -> int:
        """Bytes read and written once each: input activations + weights + output activations."""
        return (self.input_elements + self.params + self.output_elements) * DataType.parse(dtype).bytes

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                v = [list(x) if isinstance(x, tuple) else x for x in v]
            d[f.name] = v
        return d

    def replace(self, **changes: Any) -> Layer:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Conv2d(Layer):
    """2-D convolution (groups == in_channels == out_channels/multiplier gives a depthwise conv)."""

    in_channels: int = 1
    out_channels: int = 1
    in_h: int = 1
    in_w: int = 1
    kernel_h: int = 1
    kernel_w: int = 1
    stride_h: int = 1
    stride_w: int = 1
    pad_h: int = 0
    pad_w: int = 0
    dilation_h: int = 1
    dilation_w: int = 1
    groups: int = 1
    bias: bool = False
    kind: ClassVar[str] = "conv2d"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_pos(self.name, in_channels=self.in_channels, out_channels=self.out_channels, in_h=self.in_h,
                   in_w=self.in_w, kernel_h=self.kernel_h, kernel_w=self.kernel_w, stride_h=self.stride_h,
                   stride_w=self.stride_w, dilation_h=self.dilation_h, dilation_w=self.dilation_w,
                   groups=self.groups)
        _check_nonneg(self.name, pad_h=self.pad_h, pad_w=self.pad_w)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise WorkloadError(f"layer {self.name!r}: groups={self.groups} must divide in_channels="
                                f"{self.in_channels} and out_channels={self.out_channels}")
        _ = self.out_h, self.out_w  # raises if the kernel does not fit

    @property
    def out_h(self) -> int:
        return _sliding_out(self.name, "h", self.in_h, self.kernel_h, self.stride_h, self.pad_h, self.dilation_h)

    @property
    def out_w(self) -> int:
        return _sliding_out(self.name, "w", self.in_w, self.kernel_w, self.stride_w, self.pad_w, self.dilation_w)

    @property
    def is_depthwise(self) -> bool:
        return self.groups > 1 and self.groups == self.in_channels

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        return ((self.in_channels, self.in_h, self.in_w),)

    @property
    def output_shape(self) -> Shape:
        return (self.out_channels, self.out_h, self.out_w)

    @property
    def macs(self) -> int:
        return (self.out_channels * self.out_h * self.out_w
                * (self.in_channels // self.groups) * self.kernel_h * self.kernel_w)

    @property
    def params(self) -> int:
        w = self.out_channels * (self.in_channels // self.groups) * self.kernel_h * self.kernel_w
        return w + (self.out_channels if self.bias else 0)


@dataclass(frozen=True)
class Linear(Layer):
    """Fully connected layer / GEMM with weights: input ``(..., K)`` -> output ``(..., N)``; M = prod(...)."""

    input_shape: Shape = (1,)
    out_features: int = 1
    bias: bool = True
    kind: ClassVar[str] = "linear"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_shape(self.name, "input_shape", self.input_shape)
        _check_pos(self.name, out_features=self.out_features)

    @property
    def m(self) -> int:
        return numel(self.input_shape[:-1])

    @property
    def k(self) -> int:
        return self.input_shape[-1]

    @property
    def n(self) -> int:
        return self.out_features

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        return (self.input_shape,)

    @property
    def output_shape(self) -> Shape:
        return self.input_shape[:-1] + (self.out_features,)

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k

    @property
    def params(self) -> int:
        return self.k * self.n + (self.n if self.bias else 0)


@dataclass(frozen=True)
class MatMul(Layer):
    """Product of two activations ``(..., M, K) @ (..., K, N)`` (attention scores, attention x values)."""

    a_shape: Shape = (1, 1)
    b_shape: Shape = (1, 1)
    kind: ClassVar[str] = "matmul"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_shape(self.name, "a_shape", self.a_shape)
        _check_shape(self.name, "b_shape", self.b_shape)
        if len(self.a_shape) < 2 or len(self.b_shape) < 2:
            raise WorkloadError(f"layer {self.name!r}: matmul operands need >= 2 dims, got "
                                f"{self.a_shape} @ {self.b_shape}")
        if self.a_shape[-1] != self.b_shape[-2] or self.a_shape[:-2] != self.b_shape[:-2]:
            raise WorkloadError(f"layer {self.name!r}: matmul shapes do not agree: {self.a_shape} @ {self.b_shape}")

    @property
    def batch(self) -> int:
        return numel(self.a_shape[:-2])

    @property
    def m(self) -> int:
        return self.a_shape[-2]

    @property
    def k(self) -> int:
        return self.a_shape[-1]

    @property
    def n(self) -> int:
        return self.b_shape[-1]

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        return (self.a_shape, self.b_shape)

    @property
    def output_shape(self) -> Shape:
        return self.a_shape[:-1] + (self.n,)

    @property
    def macs(self) -> int:
        return self.batch * self.m * self.n * self.k


POOL_OPS = ("max", "avg")


@dataclass(frozen=True)
class Pool2d(Layer):
    """Windowed max or average pooling over ``(C, H, W)``."""

    op: str = "max"
    channels: int = 1
    in_h: int = 1
    in_w: int = 1
    kernel_h: int = 1
    kernel_w: int = 1
    stride_h: int = 1
    stride_w: int = 1
    pad_h: int = 0
    pad_w: int = 0
    ceil_mode: bool = False
    kind: ClassVar[str] = "pool2d"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice(self.name, "op", self.op, POOL_OPS)
        _check_pos(self.name, channels=self.channels, in_h=self.in_h, in_w=self.in_w, kernel_h=self.kernel_h,
                   kernel_w=self.kernel_w, stride_h=self.stride_h, stride_w=self.stride_w)
        _check_nonneg(self.name, pad_h=self.pad_h, pad_w=self.pad_w)
        _ = self.out_h, self.out_w

    @property
    def out_h(self) -> int:
        return _sliding_out(self.name, "h", self.in_h, self.kernel_h, self.stride_h, self.pad_h, 1, self.ceil_mode)

    @property
    def out_w(self) -> int:
        return _sliding_out(self.name, "w", self.in_w, self.kernel_w, self.stride_w, self.pad_w, 1, self.ceil_mode)

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        return ((self.channels, self.in_h, self.in_w),)

    @property
    def output_shape(self) -> Shape:
        return (self.channels, self.out_h, self.out_w)

    @property
    def ops(self) -> int:
        return self.channels * self.out_h * self.out_w * self.kernel_h * self.kernel_w


@dataclass(frozen=True)
class GlobalPool(Layer):
    """Global max/average pooling ``(C, H, W) -> (C, 1, 1)``."""

    op: str = "avg"
    channels: int = 1
    in_h: int = 1
    in_w: int = 1
    kind: ClassVar[str] = "global_pool"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice(self.name, "op", self.op, POOL_OPS)
        _check_pos(self.name, channels=self.channels, in_h=self.in_h, in_w=self.in_w)

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        return ((self.channels, self.in_h, self.in_w),)

    @property
    def output_shape(self) -> Shape:
        return (self.channels, 1, 1)

    @property
    def ops(self) -> int:
        return self.channels * self.in_h * self.in_w


ELTWISE_OPS = ("add", "mul")


def broadcast_shape(name: str, shapes: Sequence[Shape]) -> Shape:
    """NumPy broadcasting of ``shapes``; raises :class:`WorkloadError` naming the layer when they clash."""
    ndim = max(len(s) for s in shapes)
    out = []
    for axis in range(ndim):
        dims = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0} - {1}
        if len(dims) > 1:
            raise WorkloadError(f"layer {name!r}: shapes {list(shapes)} do not broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


@dataclass(frozen=True)
class Elementwise(Layer):
    """Element-wise add or mul of two or more tensors (NumPy broadcasting).

    The last ``param_inputs`` entries of ``input_shapes`` are learned tensors (e.g. a position embedding),
    counted as parameters and not fed by other layers.
    """

    op: str = "add"
    operand_shapes: tuple[Shape, ...] = ((1,), (1,))
    param_inputs: int = 0
    kind: ClassVar[str] = "eltwise"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice(self.name, "op", self.op, ELTWISE_OPS)
        if len(self.operand_shapes) < 1:
            raise WorkloadError(f"layer {self.name!r}: eltwise needs at least one operand")
        for i, s in enumerate(self.operand_shapes):
            _check_shape(self.name, f"operand_shapes[{i}]", s)
        _check_nonneg(self.name, param_inputs=self.param_inputs)
        if self.param_inputs >= len(self.operand_shapes):
            raise WorkloadError(f"layer {self.name!r}: param_inputs={self.param_inputs} leaves no activation input")
        broadcast_shape(self.name, self.operand_shapes)

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        return self.operand_shapes[: len(self.operand_shapes) - self.param_inputs]

    @cached_property
    def output_shape(self) -> Shape:
        return broadcast_shape(self.name, self.operand_shapes)

    @property
    def params(self) -> int:
        return sum(numel(s) for s in self.operand_shapes[len(self.operand_shapes) - self.param_inputs:])

    @property
    def ops(self) -> int:
        return numel(self.output_shape) * max(1, len(self.operand_shapes) - 1)


ACTIVATION_OPS = ("relu", "relu6", "sigmoid", "swish", "hardswish", "hardsigmoid", "gelu", "tanh", "softmax")


@dataclass(frozen=True)
class Activation(Layer):
    """Element-wise non-linearity (softmax normalises over the last axis)."""

    op: str = "relu"
    shape: Shape = (1,)
    kind: ClassVar[str] = "activation"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice(self.name, "op", self.op, ACTIVATION_OPS)
        _check_shape(self.name, "shape", self.shape)

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        return (self.shape,)

    @property
    def output_shape(self) -> Shape:
        return self.shape

    @property
    def ops(self) -> int:
        return numel(self.shape)


NORM_OPS = ("batchnorm", "layernorm")


@dataclass(frozen=True)
class Norm(Layer):
    """Batch norm (per channel, axis 0) or layer norm (over the last axis), with affine parameters."""

    op: str = "batchnorm"
    shape: Shape = (1,)
    affine: bool = True
    kind: ClassVar[str] = "norm"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice(self.name, "op", self.op, NORM_OPS)
        _check_shape(self.name, "shape", self.shape)

    @property
    def features(self) -> int:
        return self.shape[0] if self.op == "batchnorm" else self.shape[-1]

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        return (self.shape,)

    @property
    def output_shape(self) -> Shape:
        return self.shape

    @property
    def params(self) -> int:
        return 2 * self.features if self.affine else 0

    @property
    def ops(self) -> int:
        return 2 * numel(self.shape)


@dataclass(frozen=True)
class Concat(Layer):
    """Concatenation along ``axis`` (0 = channels for feature maps). Trailing ``param_inputs`` are learned."""

    operand_shapes: tuple[Shape, ...] = ((1,), (1,))
    axis: int = 0
    param_inputs: int = 0
    kind: ClassVar[str] = "concat"

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.operand_shapes) < 1:
            raise WorkloadError(f"layer {self.name!r}: concat needs at least one operand")
        for i, s in enumerate(self.operand_shapes):
            _check_shape(self.name, f"operand_shapes[{i}]", s)
        _check_nonneg(self.name, param_inputs=self.param_inputs, axis=self.axis)
        if self.param_inputs >= len(self.operand_shapes):
            raise WorkloadError(f"layer {self.name!r}: param_inputs={self.param_inputs} leaves no activation input")
        ref = self.operand_shapes[0]
        for s in self.operand_shapes:
            if len(s) != len(ref) or self.axis >= len(s) or any(
                    a != b for i, (a, b) in enumerate(zip(s, ref)) if i != self.axis):
                raise WorkloadError(f"layer {self.name!r}: cannot concatenate {list(self.operand_shapes)} "
                                    f"along axis {self.axis}")

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        return self.operand_shapes[: len(self.operand_shapes) - self.param_inputs]

    @property
    def output_shape(self) -> Shape:
        ref = list(self.operand_shapes[0])
        ref[self.axis] = sum(s[self.axis] for s in self.operand_shapes)
        return tuple(ref)

    @property
    def params(self) -> int:
        return sum(numel(s) for s in self.operand_shapes[len(self.operand_shapes) - self.param_inputs:])


RESHAPE_OPS = ("flatten", "reshape", "permute", "slice")


@dataclass(frozen=True)
class Reshape(Layer):
    """Data movement without arithmetic: flatten, reshape/view, permute/transpose, or slice/select."""

    op: str = "reshape"
    input_shape: Shape = (1,)
    target_shape: Shape = (1,)
    kind: ClassVar[str] = "reshape"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice(self.name, "op", self.op, RESHAPE_OPS)
        _check_shape(self.name, "input_shape", self.input_shape)
        _check_shape(self.name, "target_shape", self.target_shape)
        if self.op == "slice":
            if numel(self.target_shape) > numel(self.input_shape):
                raise WorkloadError(f"layer {self.name!r}: slice {self.target_shape} larger than input "
                                    f"{self.input_shape}")
        elif numel(self.input_shape) != numel(self.target_shape):
            raise WorkloadError(f"layer {self.name!r}: cannot {self.op} {self.input_shape} into "
                                f"{self.target_shape}")

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        return (self.input_shape,)

    @property
    def output_shape(self) -> Shape:
        return self.target_shape


LAYER_KINDS: dict[str, type[Layer]] = {
    cls.kind: cls for cls in (Conv2d, Linear, MatMul, Pool2d, GlobalPool, Elementwise, Activation, Norm, Concat,
                              Reshape)
}


def layer_from_dict(d: Mapping[str, Any], where: str = "layer") -> Layer:
    """Build a layer from its :meth:`Layer.to_dict` form; errors name ``where`` and the bad field."""
    if not isinstance(d, Mapping):
        raise WorkloadError(f"{where}: expected an object, got {kind_name(d)}")
    kind = d.get("kind")
    if not isinstance(kind, str) or kind not in LAYER_KINDS:
        raise WorkloadError(f"{where}: unknown layer kind {short_repr(kind)}; expected one of {', '.join(LAYER_KINDS)}")
    return build(LAYER_KINDS[kind], d, where, WorkloadError, ignore=("kind", "inputs"))


@dataclass(frozen=True)
class _InputDoc:
    """A graph input as the network JSON holds it."""

    name: str
    shape: Shape


@dataclass(frozen=True)
class _NetworkDoc:
    """The body of an ``hwnas.network`` file (layers are read per kind by :func:`layer_from_dict`)."""

    name: str
    inputs: tuple[_InputDoc, ...]
    layers: tuple[Mapping[str, Any], ...]
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Node:
    """A layer placed in a network: ``inputs`` names the producers (layers or graph inputs), in order."""

    layer: Layer
    inputs: tuple[str, ...]


@dataclass(frozen=True, eq=True)
class Network:
    """An immutable DAG of named layers in a stable topological order.

    ``inputs`` are the graph inputs (name, shape); every node's ``inputs`` name graph inputs or earlier
    layers; ``outputs`` name the layers whose results leave the network (default: layers nobody consumes).
    The order of ``nodes`` is preserved when it is topological, otherwise nodes are sorted topologically
    with ties broken by the given order, so equal graphs always list their layers the same way.
    """

    name: str
    inputs: tuple[tuple[str, Shape], ...]
    nodes: tuple[Node, ...]
    outputs: tuple[str, ...] = ()
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise WorkloadError(f"network name must be a non-empty string, got {self.name!r}")
        input_names: dict[str, Shape] = {}
        for nm, shp in self.inputs:
            if nm in input_names:
                raise WorkloadError(f"network {self.name!r}: duplicate input name {nm!r}")
            input_names[nm] = _check_shape(nm, "input shape", tuple(shp))
        seen: dict[str, Layer] = {}
        for node in self.nodes:
            nm = node.layer.name
            if nm in seen or nm in input_names:
                raise WorkloadError(f"network {self.name!r}: duplicate layer name {nm!r}")
            seen[nm] = node.layer
        defined = set(input_names)
        in_order = True
        for node in self.nodes:
            for src in node.inputs:
                if src not in seen and src not in input_names:
                    raise WorkloadError(f"network {self.name!r}: layer {node.layer.name!r} reads unknown "
                                        f"input {src!r}")
                in_order = in_order and src in defined
            defined.add(node.layer.name)
        if not in_order:  # slow path: sort topologically, ties broken by the given order
            graph = nx.DiGraph()
            order = {n.layer.name: i for i, n in enumerate(self.nodes)}
            graph.add_nodes_from(order)
            graph.add_edges_from((src, n.layer.name) for n in self.nodes for src in n.inputs if src in seen)
            if not nx.is_directed_acyclic_graph(graph):
                cycle = nx.find_cycle(graph)
                raise WorkloadError(f"network {self.name!r}: layers form a cycle: {cycle}")
            topo = list(nx.lexicographical_topological_sort(graph, key=order.__getitem__))
            by_name = {n.layer.name: n for n in self.nodes}
            object.__setattr__(self, "nodes", tuple(by_name[n] for n in topo))
        # shape agreement along every edge
        for node in self.nodes:
            expected = node.layer.input_shapes
            if len(node.inputs) != len(expected):
                raise WorkloadError(f"network {self.name!r}: layer {node.layer.name!r} ({node.layer.kind}) takes "
                                    f"{len(expected)} input(s), wired to {len(node.inputs)}: {list(node.inputs)}")
            for src, want in zip(node.inputs, expected):
                got = seen[src].output_shape if src in seen else input_names[src]
                if tuple(got) != tuple(want):
                    raise WorkloadError(f"network {self.name!r}: layer {node.layer.name!r} expects input shape "
                                        f"{want} from {src!r}, which gives {got}")
        consumed = {s for n in self.nodes for s in n.inputs}
        if not self.outputs:
            object.__setattr__(self, "outputs", tuple(n.layer.name for n in self.nodes
                                                      if n.layer.name not in consumed))
        for out in self.outputs:
            if out not in seen:
                raise WorkloadError(f"network {self.name!r}: output {out!r} is not a layer")
        object.__setattr__(self, "inputs", tuple((nm, tuple(s)) for nm, s in self.inputs))
        self._index.update({n.layer.name: i for i, n in enumerate(self.nodes)})

    # --- access ------------------------------------------------------------------------------------
    @property
    def layers(self) -> tuple[Layer, ...]:
        """Layers in stable topological order."""
        return tuple(n.layer for n in self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __getitem__(self, name: str) -> Layer:
        try:
            return self.nodes[self._index[name]].layer
        except KeyError:
            raise KeyError(f"network {self.name!r} has no layer {name!r}") from None

    def node(self, name: str) -> Node:
        return self.nodes[self._index[name]]

    def predecessors(self, name: str) -> tuple[str, ...]:
        """Producing layers of ``name`` (graph inputs excluded), in argument order."""
        return tuple(s for s in self.node(name).inputs if s in self._index)

    def successors(self, name: str) -> tuple[str, ...]:
        return tuple(self.graph.successors(name))

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The layer DAG (networkx); node attribute ``layer`` holds the layer."""
        g = nx.DiGraph()
        for n in self.nodes:
            g.add_node(n.layer.name, layer=n.layer)
        for n in self.nodes:
            for s in n.inputs:
                if s in self._index:
                    g.add_edge(s, n.layer.name)
        return g

    # --- totals ------------------------------------------------------------------------------------
    @property
    def total_macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def total_params(self) -> int:
        return sum(layer.params for layer in self.layers)

    def total_bytes_moved(self, dtype: DataType | str = DataType.INT8) -> int:
        return sum(layer.bytes_moved(dtype) for layer in self.layers)

    def compute_layers(self) -> tuple[Layer, ...]:
        """Layers that multiply-accumulate (conv, linear, matmul)."""
        return tuple(layer for layer in self.layers if layer.macs > 0)

    # --- JSON --------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return NETWORK_FORMAT.wrap({
            "name": self.name,
            "inputs": [{"name": nm, "shape": list(s)} for nm, s in self.inputs],
            "layers": [{**n.layer.to_dict(), "inputs": list(n.inputs)} for n in self.nodes],
            "outputs": list(self.outputs),
        })

    def to_json(self, indent: int | None = 1) -> str:
        return NETWORK_FORMAT.dumps(self.to_dict(), indent=indent, newline=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "network") -> Network:
        doc = NETWORK_FORMAT.build(_NetworkDoc, d, source)
        nodes = []
        for i, ld in enumerate(doc.layers):
            where = f"{source}: layers[{i}]"
            layer = layer_from_dict(ld, where)
            if "inputs" not in ld:
                raise WorkloadError(f"{where}: missing field 'inputs'")
            nodes.append(Node(layer, convert(ld["inputs"], tuple[str, ...], where, "inputs", WorkloadError)))
        try:
            return cls(doc.name, tuple((x.name, x.shape) for x in doc.inputs), tuple(nodes), doc.outputs)
        except WorkloadError as e:
            raise WorkloadError(f"{source}: {e}") from None

    @classmethod
    def from_json(cls, text: str, source: str = "network") -> Network:
        return cls.from_dict(parse_json(text, source, WorkloadError), source)

    @classmethod
    def load(cls, path: str | Path) -> Network:
        """Read an ``hwnas.network`` JSON file."""
        return cls.from_json(read_text(path, WorkloadError), str(path))

    def replace_layer(self, name: str, layer: Layer) -> Network:
        """A copy with layer ``name`` replaced (same wiring)."""
        nodes = tuple(Node(layer, n.inputs) if n.layer.name == name else n for n in self.nodes)
        return Network(self.name, self.inputs, nodes, self.outputs)


class NetworkBuilder:
    """Imperative construction of a :class:`Network` in program order.

    Each method adds one layer reading the named producer(s) and returns the new layer's name, so model
    definitions read like a forward pass: ``x = b.conv(x, 64, 3, padding=1); x = b.relu(x)``.
    """

    def __init__(self, name: str, input_shape: Shape, input_name: str = "input") -> None:
        self.name = name
        self.input_name = input_name
        self._inputs: list[tuple[str, Shape]] = [(input_name, tuple(input_shape))]
        self._nodes: list[Node] = []
        self._shapes: dict[str, Shape] = {input_name: tuple(input_shape)}
        self._counts: dict[str, int] = {}

    @property
    def input(self) -> str:
        return self.input_name

    def shape(self, src: str) -> Shape:
        return self._shapes[src]

    def add_input(self, name: str, shape: Shape) -> str:
        """Declare one more graph input (e.g. a constant a converter left unevaluated); returns its name."""
        if name in self._shapes:
            raise WorkloadError(f"builder {self.name!r}: input name {name!r} is already used")
        self._inputs.append((name, tuple(shape)))
        self._shapes[name] = tuple(shape)
        return name

    def _name(self, base: str, name: str | None) -> str:
        if name is not None:
            return name
        k = self._counts.get(base, 0)
        self._counts[base] = k + 1
        return base if k == 0 else f"{base}_{k}"

    def add(self, layer: Layer, *inputs: str) -> str:
        for s in inputs:
            if s not in self._shapes:
                raise WorkloadError(f"builder {self.name!r}: unknown producer {s!r}")
        self._nodes.append(Node(layer, tuple(inputs)))
        self._shapes[layer.name] = layer.output_shape
        return layer.name

    def conv(self, x: str, out_channels: int, kernel: int | tuple[int, int], stride: int | tuple[int, int] = 1,
             padding: int | tuple[int, int] = 0, groups: int = 1, bias: bool = False,
             dilation: int | tuple[int, int] = 1, name: str | None = None) -> str:
        c, h, w = self._shapes[x]
        kh, kw = _pair(kernel)
        sh, sw = _pair(stride)
        ph, pw = _pair(padding)
        dh, dw = _pair(dilation)
        return self.add(Conv2d(self._name("conv", name), c, out_channels, h, w, kh, kw, sh, sw, ph, pw, dh, dw,
                               groups, bias), x)

    def linear(self, x: str, out_features: int, bias: bool = True, name: str | None = None) -> str:
        return self.add(Linear(self._name("linear", name), self._shapes[x], out_features, bias), x)

    def matmul(self, a: str, b: str, name: str | None = None) -> str:
        return self.add(MatMul(self._name("matmul", name), self._shapes[a], self._shapes[b]), a, b)

    def pool(self, x: str, op: str, kernel: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
             padding: int | tuple[int, int] = 0, ceil_mode: bool = False, name: str | None = None) -> str:
        c, h, w = self._shapes[x]
        kh, kw = _pair(kernel)
        sh, sw = _pair(stride if stride is not None else kernel)
        ph, pw = _pair(padding)
        return self.add(Pool2d(self._name(f"{op}pool", name), op, c, h, w, kh, kw, sh, sw, ph, pw, ceil_mode), x)

    def global_pool(self, x: str, op: str = "avg", name: str | None = None) -> str:
        c, h, w = self._shapes[x]
        return self.add(GlobalPool(self._name(f"global_{op}pool", name), op, c, h, w), x)

    def act(self, x: str, op: str, name: str | None = None) -> str:
        return self.add(Activation(self._name(op, name), op, self._shapes[x]), x)

    def relu(self, x: str, name: str | None = None) -> str:
        return self.act(x, "relu", name)

    def bn(self, x: str, name: str | None = None) -> str:
        return self.add(Norm(self._name("bn", name), "batchnorm", self._shapes[x]), x)

    def layernorm(self, x: str, name: str | None = None) -> str:
        return self.add(Norm(self._name("ln", name), "layernorm", self._shapes[x]), x)

    def eltwise(self, op: str, *xs: str, params: Sequence[Shape] = (), name: str | None = None) -> str:
        shapes = tuple(self._shapes[x] for x in xs) + tuple(tuple(p) for p in params)
        return self.add(Elementwise(self._name(op, name), op, shapes, len(params)), *xs)

    def concat(self, *xs: str, axis: int = 0, params: Sequence[Shape] = (), name: str | None = None) -> str:
        shapes = tuple(self._shapes[x] for x in xs) + tuple(tuple(p) for p in params)
        return self.add(Concat(self._name("cat", name), shapes, axis, len(params)), *xs)

    def reshape(self, x: str, shape: Shape, op: str = "reshape", name: str | None = None) -> str:
        return self.add(Reshape(self._name(op, name), op, self._shapes[x], tuple(shape)), x)

    def flatten(self, x: str, name: str | None = None) -> str:
        return self.reshape(x, (numel(self._shapes[x]),), "flatten", name)

    def build(self, outputs: Sequence[str] = ()) -> Network:
        return Network(self.name, tuple(self._inputs), tuple(self._nodes), tuple(outputs))


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def layer_signature(layer: Layer) -> tuple[Any, ...]:
    """Everything that defines a layer's work except its name (for comparing networks built two ways)."""
    d = layer.to_dict()
    d.pop("name")
    return tuple(sorted((k, json.dumps(v)) for k, v in d.items()))


def structure(net: Network) -> list[tuple[tuple[Any, ...], tuple[int | str, ...]]]:
    """Name-free form of a network: per layer its signature and the positions of its producers."""
    pos = {n.layer.name: i for i, n in enumerate(net.nodes)}
    in_pos = {nm: f"input{i}" for i, (nm, _) in enumerate(net.inputs)}
    return [(layer_signature(n.layer), tuple(pos.get(s, in_pos.get(s)) for s in n.inputs)) for n in net.nodes]
