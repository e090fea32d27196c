"""Import an ONNX model into the workload IR, with shapes from ``onnx.shape_inference``.

The graph's batch axis is fixed to 1 (it must be 1 or symbolic), shapes are inferred for every tensor, and the
nodes are mapped, in file order, to IR layers with the conventions of :mod:`hwsim.importers.torch_fx`, so that
an ONNX export of a torch model imports to the same network as the torch model itself:

- ``Conv`` (2-D) -> :class:`Conv2d`; ``Gemm`` and ``MatMul`` with a constant weight -> :class:`Linear` (a
  ``MatMul`` whose only consumer adds a constant ``(N,)`` bias is one ``Linear`` with bias, as exported for
  ``nn.Linear`` on 3-D inputs); ``MatMul`` of two activations -> :class:`MatMul`;
- ``MaxPool``/``AveragePool`` -> :class:`Pool2d` (a 1x1/1 window, which is how an adaptive pooling to the
  input size exports, is dropped as the torch path drops it); ``GlobalAveragePool``/``GlobalMaxPool`` and
  ``ReduceMean``/``ReduceMax`` over H and W -> :class:`GlobalPool` (followed by a flatten when
  ``keepdims=0``);
- ``Relu``, ``Clip(0, 6)`` (relu6; ``Clip(0, none)`` is relu; other bounds are an error), ``Sigmoid``,
  ``HardSigmoid``, ``HardSwish``, ``Gelu``, ``Tanh``, ``Softmax`` -> :class:`Activation`. Patterns that older
  opsets export for one torch activation are fused back into it: ``Mul(x, Sigmoid(x))`` -> swish (SiLU),
  ``Mul(x, HardSigmoid(x))`` with alpha 1/6 -> hardswish, the ``Erf`` form of GELU -> gelu, and the
  ``ReduceMean/Sub/Pow/.../Sqrt/Div`` form of layer norm -> layernorm;
- ``BatchNormalization``/``LayerNormalization`` -> :class:`Norm` (always affine: an export cannot tell
  ``affine=False`` from unit weights);
- ``Add``/``Sub``/``Sum`` -> :class:`Elementwise` add, ``Mul``/``Div`` -> mul; constant operands with one
  element are dropped (like python scalars in torch), other constants are trailing ``param_inputs``;
- ``Concat`` -> :class:`Concat` (constant operands last); ``Flatten`` -> Reshape flatten; ``Reshape``,
  ``Squeeze``, ``Unsqueeze`` -> Reshape reshape, or flatten when the result merges the trailing axes into one
  (what ``torch.flatten(x, k)`` exports to; a ``view``/``reshape`` that merges trailing axes therefore reads
  'flatten' where the torch path says 'reshape': the one label that can differ); ``Transpose`` -> Reshape
  permute; ``Gather``/``Slice``/``Split``/``SplitToSequence + SequenceAt`` on activations -> Reshape slice;
  ``Identity``, ``Dropout``, ``Cast``, ``CastLike`` are dropped.

Nodes that read no activation (initializers, ``Constant``, ``Shape`` arithmetic) are constants, not layers.
A convolution or ``Gemm`` has a bias when its bias input is a stored tensor or a computed non-zero one (the
dynamo exporter feeds a computed ``Expand(0)`` to convolutions without bias). Softmax maps to the IR's softmax
whatever its axis (the cost is the same). Default exports fold BatchNorm into the preceding convolution;
export with ``do_constant_folding=False`` (TorchScript exporter) or ``optimize=False`` (dynamo exporter) to
keep the normalisation layers the torch path shows.
Asymmetric padding (as TensorFlow's 'SAME' exports with stride 2) is rounded to the symmetric padding that
gives the same output size, since the IR's convolution and pooling pad both sides equally; when no
symmetric padding reproduces the output size the import fails. Anything else raises
:class:`OnnxImportError` with one line naming the file, the node and the op type.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

from hwsim.errors import HwnasError
from hwsim.importers._common import Act as _Act
from hwsim.importers._common import unique_name
from hwsim.workload import (
    Activation,
    Concat,
    Conv2d,
    Elementwise,
    GlobalPool,
    Layer,
    Linear,
    MatMul,
    Network,
    Node,
    Norm,
    Pool2d,
    Reshape,
    Shape,
    WorkloadError,
    numel,
)

MIN_OPSET = 11
"""Oldest default-domain opset the importer reads."""


class OnnxImportError(HwnasError):
    """An ONNX file or model the importer cannot read or map; the message names the file and node."""


@dataclass(frozen=True)
class _Const:
    """A tensor computed from initializers and shapes only; ``shape`` as in the file (``None``: unknown)."""

    shape: tuple[int, ...] | None


@dataclass(frozen=True)
class _Seq:
    """A sequence of slices of activation ``base`` (``SplitToSequence``)."""

    base: _Act


_ACT_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax", "Gelu": "gelu",
            "HardSigmoid": "hardsigmoid", "HardSwish": "hardswish"}
_ADD_OPS = {"Add", "Sub", "Sum"}
_MUL_OPS = {"Mul", "Div"}
_PASS_OPS = {"Identity", "Dropout", "Cast", "CastLike"}
_META_OPS = {"Shape", "Size"}  # read only the (static) shape of an activation
_RESHAPE_OPS = {"Reshape", "Squeeze", "Unsqueeze"}
_SLICE_OPS = {"Gather", "Slice"}
_SANE = re.compile(r"[^A-Za-z0-9_.\-]+")


def from_onnx(model_or_path: onnx.ModelProto | str | os.PathLike[str], name: str | None = None) -> Network:
    """Import an ONNX model (a ``ModelProto`` or a ``.onnx`` file path) as a :class:`Network`.

    ``name`` defaults to the file stem, else the graph name. Per-sample input shapes are the graph inputs'
    shapes without their batch axis.
    """
    if isinstance(model_or_path, onnx.ModelProto):
        model = model_or_path
        source = f"ONNX model {model.graph.name or '(unnamed)'!r}"
        default_name = model.graph.name or "onnx_model"
    elif isinstance(model_or_path, (str, os.PathLike)):
        path = Path(model_or_path)
        source = str(path)
        model = _load(path)
        default_name = path.stem or model.graph.name or "onnx_model"
    else:
        raise OnnxImportError(f"from_onnx expects an onnx.ModelProto or a file path, got "
                              f"{type(model_or_path).__name__}")
    inferred, weights = _infer(model, source)
    return _Converter(inferred, weights, source, name or default_name).convert()


def _load(path: Path) -> onnx.ModelProto:
    if not path.is_file():
        raise OnnxImportError(f"{path}: no such file")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf DecodeError, missing external data, ... : all mean "cannot read"
        raise OnnxImportError(f"{path}: not a readable ONNX model ({_first_line(e)})") from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise OnnxImportError(f"{path}: not an ONNX model (no IR version or no graph nodes)")
    return model


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0].strip() if text else type(e).__name__


def _infer(model: onnx.ModelProto, source: str) -> tuple[onnx.ModelProto, frozenset[str]]:
    """A shapes-only copy of ``model`` with batch 1 on every input and shapes inferred for every tensor.

    Initializers with more than :data:`_INLINE_MAX_ELEMENTS` elements (weights) are not copied: they become
    graph inputs of their shape, returned as the second item, so that inference never serialises the
    weights. Shape computations that ONNX's data propagation does not follow (``Shape -> Slice -> Concat ->
    Reshape`` before opset 17) are folded into ``Constant`` nodes and inference is run again.
    """
    opset = _opset(model)
    if opset is None:
        raise OnnxImportError(f"{source}: no default-domain opset in opset_import")
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise OnnxImportError(f"{source}: opset {opset} is outside the supported range {MIN_OPSET}.."
                              f"{onnx.defs.onnx_opset_version()} (convert it with onnx.version_converter)")
    src = model.graph
    m = onnx.ModelProto(ir_version=model.ir_version)
    m.opset_import.extend(model.opset_import)
    m.functions.extend(model.functions)
    g = m.graph
    g.name = src.name
    g.node.extend(src.node)
    g.output.extend(src.output)
    inits = {t.name for t in src.initializer}
    for vi in src.input:
        if vi.name not in inits:
            g.input.append(vi)
            _fix_batch(g.input[-1], source)
    weights: set[str] = set()
    for t in src.initializer:
        if numel(t.dims) <= _INLINE_MAX_ELEMENTS:
            g.initializer.append(t)
        else:
            g.input.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
            weights.add(t.name)
    for vi in g.output:  # drop stored (possibly symbolic-batch) output shapes: inference fills them
        if vi.type.HasField("tensor_type"):
            vi.type.tensor_type.ClearField("shape")
    for _ in range(_FOLD_ROUNDS):
        inferred = _run_inference(m, source)
        if not _fold_shape_constants(m, inferred, weights):
            break
    return inferred, frozenset(weights)


_INLINE_MAX_ELEMENTS = 4096
_FOLD_ROUNDS = 4


def _opset(model: onnx.ModelProto) -> int | None:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def _run_inference(model: onnx.ModelProto, source: str) -> onnx.ModelProto:
    try:
        return shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except Exception as e:  # InferenceError / ValidationError from the C++ checker
        raise OnnxImportError(f"{source}: shape inference failed: {_first_line(e)}") from None


def _constant_tensors(graph: onnx.GraphProto, weights: frozenset[str] | set[str]) -> set[str]:
    """Tensors that do not depend on activation values: initializers and ``weights``, and outputs of nodes
    reading only constants (``Shape``/``Size`` read only static shapes; ``CastLike`` only its first input's
    values)."""
    const: set[str] = {t.name for t in graph.initializer} | set(weights)
    for n in graph.node:
        ins = n.input[:1] if n.op_type == "CastLike" else n.input
        if n.op_type in _META_OPS or all(x in const for x in ins if x):
            const.update(o for o in n.output if o)
    return const


def _static_shapes(graph: onnx.GraphProto) -> dict[str, tuple[int, ...] | None]:
    shapes = {vi.name: _vi_shape(vi) for vi in [*graph.value_info, *graph.input, *graph.output]}
    shapes.update({t.name: tuple(int(d) for d in t.dims) for t in graph.initializer})
    return shapes


def _fold_shape_constants(model: onnx.ModelProto, inferred: onnx.ModelProto, weights: set[str]) -> bool:
    """Replace, in ``model``, the computed constant inputs of nodes whose output shapes inference left
    unknown by ``Constant`` nodes holding their values; True when anything was folded."""
    graph = inferred.graph
    shapes = _static_shapes(graph)
    const = _constant_tensors(graph, weights)
    inits = {t.name for t in graph.initializer}
    producer = {o: (i, n) for i, n in enumerate(graph.node) for o in n.output if o}
    targets: list[str] = []
    for n in graph.node:
        if all(o in const for o in n.output if o) or all(shapes.get(o) is not None for o in n.output if o):
            continue
        for x in n.input:
            if x in const and x not in inits and x not in targets and producer[x][1].op_type != "Constant" \
                    and len(producer[x][1].output) == 1:
                targets.append(x)
    values = _evaluate(graph, targets, shapes, inferred.opset_import)
    for t, v in values.items():
        i = producer[t][0]
        model.graph.node[i].CopyFrom(onnx.helper.make_node("Constant", [], [t], name=model.graph.node[i].name,
                                                           value=numpy_helper.from_array(v, t)))
    return bool(values)


def _evaluate(graph: onnx.GraphProto, targets: Sequence[str], shapes: dict[str, tuple[int, ...] | None],
              opsets: Sequence[onnx.OperatorSetIdProto] = ()) -> dict[str, np.ndarray]:
    """Values of the constant tensors ``targets`` that can be computed from the graph's (inline)
    initializers and static shapes, with ONNX's reference evaluator; the others are left out."""
    inits = {t.name: t for t in graph.initializer}
    producer = {o: (i, n) for i, n in enumerate(graph.node) for o in n.output if o}
    needed: dict[int, onnx.NodeProto] = {}
    needed_inits: set[str] = set()
    ready: list[str] = []
    types: dict[str, int] | None = None
    for target in targets:  # a target that needs an unknown shape or a stripped weight is left out
        nodes: dict[int, onnx.NodeProto] = {}
        tensors: set[str] = set()
        stack = [target]
        while stack:
            t = stack.pop()
            if t in inits:
                tensors.add(t)
                continue
            if t not in producer:
                break
            i, n = producer[t]
            if i in nodes or i in needed:
                continue
            if n.op_type in _META_OPS:
                value = _meta_value(n, shapes.get(n.input[0]))
                if value is None:
                    break
                nodes[i] = onnx.helper.make_node("Constant", [], [t], value=numpy_helper.from_array(value, t))
                continue
            if n.op_type == "CastLike":  # its second input only gives the element type: cast to that type
                types = types if types is not None else _elem_types(graph)
                elem = types.get(n.input[1])
                n = (onnx.helper.make_node("Cast", [n.input[0]], [t], to=elem) if elem
                     else onnx.helper.make_node("Identity", [n.input[0]], [t]))
            nodes[i] = n
            stack.extend(x for x in n.input if x)
        else:
            needed.update(nodes)
            needed_inits |= tensors
            ready.append(target)
    if not ready:
        return {}
    values = _run_reference([needed[i] for i in sorted(needed)], [inits[t] for t in sorted(needed_inits)], ready,
                            opsets)
    if values is None and len(ready) > 1:  # one target the evaluator cannot compute: try them one by one
        values = {}
        for t in ready:
            values.update(_evaluate(graph, [t], shapes, opsets))
    return values or {}


def _run_reference(nodes: Sequence[onnx.NodeProto], inits: Sequence[onnx.TensorProto], outputs: Sequence[str],
                   opsets: Sequence[onnx.OperatorSetIdProto]) -> dict[str, np.ndarray] | None:
    """Run a graph without inputs on ONNX's reference evaluator; None when it cannot."""
    from onnx.reference import ReferenceEvaluator

    graph = onnx.helper.make_graph(list(nodes), "constants", [],
                                   [onnx.helper.make_empty_tensor_value_info(t) for t in outputs], list(inits))
    model = onnx.helper.make_model(graph, opset_imports=list(opsets) or [onnx.helper.make_opsetid("", 17)])
    try:
        values = ReferenceEvaluator(model).run(None, {})
    except Exception:  # an op the reference evaluator cannot run (custom domain, bad attribute, ...)
        return None
    return {t: np.asarray(v) for t, v in zip(outputs, values)}


def _elem_types(graph: onnx.GraphProto) -> dict[str, int]:
    """Element type (``TensorProto`` enum) of every typed value of ``graph``."""
    types = {vi.name: vi.type.tensor_type.elem_type for vi in [*graph.value_info, *graph.input, *graph.output]
             if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type}
    types.update({t.name: t.data_type for t in graph.initializer})
    return types


def _meta_value(node: onnx.NodeProto, shape: tuple[int, ...] | None) -> np.ndarray | None:
    """Value of ``Shape``/``Size`` of a tensor with static ``shape``."""
    if shape is None:
        return None
    if node.op_type == "Size":
        return np.asarray(numel(shape), dtype=np.int64)
    a = _attrs(node)
    start, end = int(a.get("start", 0)), a.get("end")
    return np.asarray(shape[start:None if end is None else int(end)], dtype=np.int64)


def _fix_batch(vi: onnx.ValueInfoProto, source: str) -> None:
    """Check a graph input's shape and set its batch axis to 1 in place."""
    where = f"{source}: graph input {vi.name!r}"
    if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
        raise OnnxImportError(f"{where} has no tensor shape")
    dims = vi.type.tensor_type.shape.dim
    if len(dims) < 2:
        raise OnnxImportError(f"{where}: shape of rank {len(dims)} has no per-sample axes after the batch axis")
    batch = dims[0]
    if batch.HasField("dim_value") and batch.dim_value != 1:
        raise OnnxImportError(f"{where}: batch axis is {batch.dim_value}; it must be 1 or symbolic")
    batch.Clear()
    batch.dim_value = 1
    for i, d in enumerate(dims[1:], start=1):
        if not d.HasField("dim_value"):
            raise OnnxImportError(f"{where}: axis {i} is symbolic ({d.dim_param or '?'}); export with a fixed "
                                  f"input size")
        if d.dim_value <= 0:
            raise OnnxImportError(f"{where}: axis {i} has size {d.dim_value}; sizes must be positive")


def _sanitise(name: str) -> str:
    return _SANE.sub("_", name.strip("/").replace("/", ".")).strip("._")


def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pair(values: Sequence[int], what: str) -> tuple[int, int]:
    if len(values) != 2:
        raise ValueError(f"{what} {list(values)} is not 2-D")
    return int(values[0]), int(values[1])


def _sym_pad(begin: int, end: int, size: int, kernel: int, stride: int, dilation: int, out: int,
             ceil_mode: bool) -> int | None:
    """Symmetric pad equal to ``(begin, end)`` or giving the same output size; ``None`` when there is none."""
    if begin == end:
        return begin
    eff = dilation * (kernel - 1) + 1
    for p in sorted({(begin + end + 1) // 2, (begin + end) // 2, max(begin, end), min(begin, end)}, reverse=True):
        span = size + 2 * p - eff
        if span < 0:
            continue
        o = -(-span // stride) + 1 if ceil_mode else span // stride + 1
        if ceil_mode and (o - 1) * stride >= size + p:
            o -= 1
        if o == out:
            return p
    return None


class _Converter:
    def __init__(self, model: onnx.ModelProto, weights: frozenset[str], source: str, name: str) -> None:
        self.model = model
        self.graph = model.graph
        self.source = source
        self.name = name
        self.env: dict[str, _Act | _Const | _Seq] = {}
        self.nodes: list[Node] = []
        self.inputs: list[tuple[str, Shape]] = []
        self.used: set[str] = set()
        self.skip: set[int] = set()
        self.shapes = _static_shapes(self.graph)
        self.initializers = {t.name: t for t in self.graph.initializer}
        self.producer: dict[str, onnx.NodeProto] = {o: n for n in self.graph.node for o in n.output if o}
        self.consumers: dict[str, list[int]] = {}
        for i, n in enumerate(self.graph.node):
            for x in n.input:
                if x:
                    self.consumers.setdefault(x, []).append(i)
        self.graph_outputs = {o.name for o in self.graph.output}
        self.index = {id(n): i for i, n in enumerate(self.graph.node)}
        self.weights = weights
        self.values: dict[str, np.ndarray] = {}
        self.const_tensors = _constant_tensors(self.graph, weights)

    # --- errors, names, shapes --------------------------------------------------------------------------
    def _where(self, node: onnx.NodeProto) -> str:
        op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}"
        return f"{self.source}: node {node.name or '(unnamed)'!r} ({op})"

    def _fail(self, node: onnx.NodeProto, what: str) -> OnnxImportError:
        return OnnxImportError(f"{self._where(node)}: {what}")

    def _unique(self, base: str) -> str:
        return unique_name(self.used, base)

    def _per_sample(self, node: onnx.NodeProto, tensor: str) -> Shape:
        shp = self.shapes.get(tensor)
        if shp is None:
            raise self._fail(node, f"shape inference gave no static shape for output {tensor!r}")
        if len(shp) < 2 or shp[0] != 1:
            raise self._fail(node, f"output {tensor!r} of shape {list(shp)} does not keep the batch axis first")
        if any(d <= 0 for d in shp):
            raise self._fail(node, f"output {tensor!r} has an empty dimension: {list(shp)}")
        return tuple(shp[1:])

    def _emit(self, node: onnx.NodeProto, factory: Callable[[str], Layer], srcs: Sequence[_Act],
              out: str | None = None, suffix: str = "", shape: Shape | None = None) -> _Act:
        """Add the layer ``factory(name)`` reading ``srcs``; it produces tensor ``out`` (default: output 0),
        whose inferred per-sample shape (or ``shape`` for an intermediate of one node) it must give."""
        out = out if out is not None else node.output[0]
        base = _sanitise(node.name) or node.op_type.lower()
        nm = self._unique(base + suffix)
        try:
            layer = factory(nm)
        except WorkloadError as e:
            raise self._fail(node, str(e)) from None
        want = shape if shape is not None else self._per_sample(node, out)
        if tuple(layer.output_shape) != want:
            raise self._fail(node, f"IR output shape {layer.output_shape} differs from the inferred shape {want}")
        self.nodes.append(Node(layer, tuple(a.src for a in srcs)))
        act = _Act(nm, want)
        if shape is None:
            self.env[out] = act
        return act

    # --- constants --------------------------------------------------------------------------------------
    def _const_value(self, tensor: str) -> np.ndarray | None:
        """Value of a constant tensor (not a stripped weight), or None when it cannot be computed."""
        if tensor not in self.const_tensors or tensor in self.weights:
            return None
        if tensor in self.initializers:
            return numpy_helper.to_array(self.initializers[tensor])
        if tensor not in self.values:
            self.values.update(_evaluate(self.graph, [tensor], self.shapes, self.model.opset_import))
        return self.values.get(tensor)

    def _has_bias(self, node: onnx.NodeProto, idx: int) -> bool:
        """Whether input ``idx`` is a bias: a stored tensor (initializer or ``Constant``), or a computed one that
        is not all zeros (the dynamo exporter feeds ``Expand(0)`` to convolutions without bias)."""
        if len(node.input) <= idx or not node.input[idx]:
            return False
        tensor = node.input[idx]
        while tensor in self.producer and self.producer[tensor].op_type in ("Identity", "Cast", "CastLike"):
            tensor = self.producer[tensor].input[0]  # the legacy exporter shares equal tensors via Identity
        stored = tensor in self.producer and self.producer[tensor].op_type == "Constant"
        if stored or tensor in self.initializers or tensor in self.weights or tensor not in self.const_tensors:
            return True
        value = self._const_value(tensor)
        return value is None or bool(np.any(value))

    def _single_consumer(self, tensor: str) -> onnx.NodeProto | None:
        """The one node reading ``tensor`` once, when ``tensor`` is not also a graph output."""
        users = self.consumers.get(tensor, [])
        if len(users) != 1 or tensor in self.graph_outputs:
            return None
        return self.graph.node[users[0]]

    def _is_const(self, tensor: str) -> bool:
        return tensor in self.const_tensors

    def _other_input(self, node: onnx.NodeProto, tensor: str) -> str | None:
        ins = [x for x in node.input if x]
        if len(ins) != 2 or tensor not in ins:
            return None
        return ins[1] if ins[0] == tensor else ins[0]

    def _is_scalar_const(self, tensor: str, value: float | None = None, tol: float = 1e-4) -> bool:
        if not self._is_const(tensor):
            return False
        if value is None:
            shp = self._const_shape(tensor)
            return shp is not None and numel(shp) == 1
        v = self._const_value(tensor)
        return v is not None and v.size == 1 and abs(float(v.reshape(-1)[0]) - value) <= tol * max(1.0, abs(value))

    def _const_shape(self, tensor: str) -> tuple[int, ...] | None:
        if tensor in self.initializers:
            return tuple(int(d) for d in self.initializers[tensor].dims)
        return self.shapes.get(tensor) if tensor in self.const_tensors else None

    # --- conversion -------------------------------------------------------------------------------------
    def convert(self) -> Network:
        for vi in self.graph.input:
            if vi.name in self.initializers or vi.name in self.weights:
                continue
            shp = self.shapes[vi.name] or ()  # _fix_batch made every input shape static with a batch axis
            nm = self._unique(_sanitise(vi.name) or "input")
            self.inputs.append((nm, tuple(shp[1:])))
            self.env[vi.name] = _Act(nm, tuple(shp[1:]))
        for t in [*self.initializers, *self.weights]:
            self.env[t] = _Const(self._const_shape(t))
        for i, node in enumerate(self.graph.node):
            if i in self.skip:
                continue
            self._convert_node(node)
        outputs: list[str] = []
        input_names = {nm for nm, _ in self.inputs}
        for o in self.graph.output:
            val = self.env.get(o.name)
            if isinstance(val, _Act) and val.src not in input_names and val.src not in outputs:
                outputs.append(val.src)
        if not self.nodes:
            raise OnnxImportError(f"{self.source}: the graph has no layers (only constants)")
        try:
            return Network(self.name, tuple(self.inputs), tuple(self.nodes), tuple(outputs))
        except WorkloadError as e:
            raise OnnxImportError(f"{self.source}: {e}") from None

    def _convert_node(self, node: onnx.NodeProto) -> None:
        if all(o in self.const_tensors for o in node.output if o):  # constant folding: no activation flows in
            for o in node.output:
                if o:
                    self.env[o] = _Const(self._const_shape(o))
            return
        vals = [self.env.get(x) if x else None for x in node.input]
        for x, v in zip(node.input, vals):
            if x and v is None:
                raise self._fail(node, f"reads tensor {x!r} that no earlier node produces")
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise self._fail(node, "unsupported ONNX op (custom domain)")
        x = vals[0]
        if op in _PASS_OPS:
            if op == "Dropout" and len(node.output) > 1 and node.output[1] in self.consumers:
                raise self._fail(node, "dropout mask output is used")
            if not isinstance(x, _Act):
                raise self._fail(node, "first input is not an activation")
            self.env[node.output[0]] = x
            return
        handler = _HANDLERS.get(op)
        if handler is None:
            raise self._fail(node, "unsupported ONNX op")
        handler(self, node, vals)

    def _act(self, node: onnx.NodeProto, vals: Sequence[Any], idx: int = 0) -> _Act:
        v = vals[idx] if idx < len(vals) else None
        if not isinstance(v, _Act):
            raise self._fail(node, f"input {idx} is not an activation tensor")
        return v

    def _weight(self, node: onnx.NodeProto, vals: Sequence[Any], idx: int) -> tuple[int, ...]:
        v = vals[idx] if idx < len(vals) else None
        if not isinstance(v, _Const):
            raise self._fail(node, f"input {idx} (weights) is computed from activations; only constant weights")
        if v.shape is None:
            raise self._fail(node, f"input {idx} (weights) has no static shape")
        return v.shape

    # --- compute layers ---------------------------------------------------------------------------------
    def _conv(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        w = self._weight(node, vals, 1)
        if len(w) != 4 or len(x.shape) != 3:
            raise self._fail(node, f"only 2-D convolution is supported (weights {list(w)}, input {list(x.shape)})")
        a = _attrs(node)
        c, h, wd = x.shape
        kh, kw = w[2], w[3]
        try:
            sh, sw = _pair(a.get("strides", [1, 1]), "strides")
            dh, dw = _pair(a.get("dilations", [1, 1]), "dilations")
        except ValueError as e:
            raise self._fail(node, str(e)) from None
        groups = int(a.get("group", 1))
        out = self._per_sample(node, node.output[0])
        ph, pw = self._pads(node, a, (h, wd), (kh, kw), (sh, sw), (dh, dw), out[1:], False)
        bias = self._has_bias(node, 2)
        self._emit(node, lambda nm: Conv2d(nm, c, w[0], h, wd, kh, kw, sh, sw, ph, pw, dh, dw, groups, bias), [x])

    def _pads(self, node: onnx.NodeProto, a: dict[str, Any], size: tuple[int, int], kernel: tuple[int, int],
              stride: tuple[int, int], dilation: tuple[int, int], out: Sequence[int],
              ceil_mode: bool) -> tuple[int, int]:
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else str(auto)
        if auto == "VALID":
            pads = [0, 0, 0, 0]
        elif auto in ("SAME_UPPER", "SAME_LOWER"):
            pads = [0, 0, 0, 0]
            for i in range(2):
                eff = dilation[i] * (kernel[i] - 1) + 1
                total = max((-(-size[i] // stride[i]) - 1) * stride[i] + eff - size[i], 0)
                small, big = total // 2, total - total // 2
                pads[i], pads[i + 2] = (small, big) if auto == "SAME_UPPER" else (big, small)
        elif auto == "NOTSET":
            pads = [int(p) for p in a.get("pads", [0, 0, 0, 0])]
            if len(pads) != 4:
                raise self._fail(node, f"pads {pads} are not 2-D")
        else:
            raise self._fail(node, f"unknown auto_pad {auto!r}")
        if len(out) != 2:
            raise self._fail(node, f"output {list(out)} is not a 2-D feature map")
        result = []
        for i, axis in enumerate("hw"):
            p = _sym_pad(pads[i], pads[i + 2], size[i], kernel[i], stride[i], dilation[i], out[i], ceil_mode)
            if p is None:
                raise self._fail(node, f"asymmetric padding {pads} on axis {axis} has no symmetric equivalent "
                                       f"giving output size {out[i]}")
            result.append(p)
        return result[0], result[1]

    def _gemm(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        a = _attrs(node)
        if int(a.get("transA", 0)):
            raise self._fail(node, "transA=1 (the activation would be transposed over the batch axis)")
        w = self._weight(node, vals, 1)
        if len(w) != 2:
            raise self._fail(node, f"weights of shape {list(w)} are not 2-D")
        n = w[0] if int(a.get("transB", 0)) else w[1]
        bias = self._has_bias(node, 2)
        self._emit(node, lambda nm: Linear(nm, x.shape, n, bias), [x])

    def _matmul(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        a, b = vals[0], vals[1]
        if isinstance(a, _Act) and isinstance(b, _Act):
            self._emit(node, lambda nm: MatMul(nm, a.shape, b.shape), [a, b])
            return
        if not isinstance(a, _Act):
            raise self._fail(node, "constant left operand (weights @ activation) is not supported")
        w = self._weight(node, vals, 1)
        if len(w) != 2:
            raise self._fail(node, f"constant operand of shape {list(w)} is not a 2-D weight matrix")
        n = w[1]
        out = node.output[0]
        add = self._single_consumer(out)
        bias_in = self._other_input(add, out) if add is not None and add.op_type == "Add" else None
        if add is not None and bias_in is not None and self._is_const(bias_in):
            bshape = self._const_shape(bias_in)
            if bshape is not None and numel(bshape) == n and bshape[-1] == n:
                self.skip.add(self.index[id(add)])
                act = self._emit(node, lambda nm: Linear(nm, a.shape, n, True), [a], out=add.output[0])
                self.env[out] = act
                return
        self._emit(node, lambda nm: Linear(nm, a.shape, n, False), [a])

    # --- pooling ----------------------------------------------------------------------------------------
    def _pool(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        if len(x.shape) != 3:
            raise self._fail(node, f"only 2-D pooling is supported (input {list(x.shape)})")
        if len(node.output) > 1 and node.output[1] in self.consumers:
            raise self._fail(node, "the indices output of max pooling is used")
        a = _attrs(node)
        try:
            kh, kw = _pair(a.get("kernel_shape", []), "kernel_shape")
            sh, sw = _pair(a.get("strides", [1, 1]), "strides")
            dil = _pair(a.get("dilations", [1, 1]), "dilations")
        except ValueError as e:
            raise self._fail(node, str(e)) from None
        if dil != (1, 1):
            raise self._fail(node, f"dilated pooling (dilations={list(dil)})")
        ceil = bool(a.get("ceil_mode", 0))
        c, h, w = x.shape
        out = self._per_sample(node, node.output[0])
        ph, pw = self._pads(node, a, (h, w), (kh, kw), (sh, sw), (1, 1), out[1:], ceil)
        if (kh, kw, sh, sw, ph, pw) == (1, 1, 1, 1, 0, 0):  # adaptive pooling to the input size
            self.env[node.output[0]] = x
            return
        op = "max" if node.op_type == "MaxPool" else "avg"
        self._emit(node, lambda nm: Pool2d(nm, op, c, h, w, kh, kw, sh, sw, ph, pw, ceil), [x])

    def _global_pool(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        if len(x.shape) != 3:
            raise self._fail(node, f"only 2-D global pooling is supported (input {list(x.shape)})")
        op = "max" if node.op_type == "GlobalMaxPool" else "avg"
        c, h, w = x.shape
        self._emit(node, lambda nm: GlobalPool(nm, op, c, h, w), [x])

    def _reduce(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        rank = len(x.shape) + 1
        axes = self._axes(node, rank)
        if node.op_type == "ReduceMean" and axes == (rank - 1,) and self._layernorm_pattern(node, x):
            return
        a = _attrs(node)
        if len(x.shape) != 3 or axes != (2, 3):
            raise self._fail(node, f"reduction over axes {list(axes)} of a rank-{rank} tensor (only the spatial "
                                   f"axes 2, 3 of a feature map, or a layer norm pattern)")
        op = "max" if node.op_type == "ReduceMax" else "avg"
        c, h, w = x.shape
        if int(a.get("keepdims", 1)):
            self._emit(node, lambda nm: GlobalPool(nm, op, c, h, w), [x])
            return
        pooled = self._emit(node, lambda nm: GlobalPool(nm, op, c, h, w), [x], shape=(c, 1, 1))
        self._emit(node, lambda nm: Reshape(nm, "flatten", pooled.shape, (c,)), [pooled], suffix="_flatten")

    def _axes(self, node: onnx.NodeProto, rank: int) -> tuple[int, ...]:
        a = _attrs(node)
        if "axes" in a:
            axes = list(a["axes"])
        elif len(node.input) > 1 and node.input[1]:
            v = self._const_value(node.input[1])
            if v is None:
                raise self._fail(node, "reduction axes are computed at run time")
            axes = [int(i) for i in v.reshape(-1)]
        else:
            axes = [] if int(a.get("noop_with_empty_axes", 0)) else list(range(rank))
        return tuple(sorted(int(i) % rank for i in axes))

    # --- activations and norms --------------------------------------------------------------------------
    def _activation(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        op = _ACT_OPS[node.op_type]
        if node.op_type == "Sigmoid" or (node.op_type == "HardSigmoid" and _is_torch_hardsigmoid(node)):
            mul = self._single_consumer(node.output[0])
            if mul is not None and mul.op_type == "Mul" and self._other_input(mul, node.output[0]) == node.input[0]:
                fused = "swish" if node.op_type == "Sigmoid" else "hardswish"  # x * sigmoid(x), x * hardsigmoid(x)
                self.skip.add(self.index[id(mul)])
                self._emit(mul, lambda nm: Activation(nm, fused, x.shape), [x])
                return
        self._emit(node, lambda nm: Activation(nm, op, x.shape), [x])

    def _clip(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        bounds: list[float | None] = []
        for i, key in ((1, "min"), (2, "max")):  # inputs since opset 11
            if len(node.input) > i and node.input[i]:
                v = self._const_value(node.input[i])
                if v is None or v.size != 1:
                    raise self._fail(node, f"Clip {key} bound is not a constant scalar")
                bounds.append(float(v.reshape(-1)[0]))
            else:
                bounds.append(None)
        lo, hi = (None if b is None or not np.isfinite(b) else b for b in bounds)
        if lo == 0.0 and hi == 6.0:
            op = "relu6"
        elif lo == 0.0 and hi is None:
            op = "relu"
        else:
            raise self._fail(node, f"Clip bounds ({lo}, {hi}) are not (0, 6) (ReLU6) or (0, none) (ReLU)")
        self._emit(node, lambda nm: Activation(nm, op, x.shape), [x])

    def _gelu(self, node: onnx.NodeProto, x: _Act) -> bool:
        """Fuse ``x * 0.5 * (1 + erf(x / sqrt 2))`` (GELU before opset 20) from its head ``x / c``; True if done."""
        if node.op_type not in ("Div", "Mul") or len(node.input) != 2 or not self._is_scalar_const(node.input[1]):
            return False
        erf = self._single_consumer(node.output[0])
        if erf is None or erf.op_type != "Erf":
            return False
        chain = self._gelu_tail(erf, node.input[0])
        if chain is None:
            return False
        for n in [erf, *chain]:
            self.skip.add(self.index[id(n)])
        self._emit(chain[-1], lambda nm: Activation(nm, "gelu", x.shape), [x])
        return True

    def _gelu_tail(self, erf: onnx.NodeProto, x_name: str) -> list[onnx.NodeProto] | None:
        add = self._single_consumer(erf.output[0])
        if add is None or add.op_type != "Add" or not self._is_scalar_const(
                self._other_input(add, erf.output[0]) or "", 1.0):
            return None
        chain, tail, used_x = [add], add.output[0], False
        for _ in range(2):
            mul = self._single_consumer(tail)
            other = self._other_input(mul, tail) if mul is not None and mul.op_type == "Mul" else None
            if other is None:
                break
            if other == x_name and not used_x:
                used_x = True
            elif not self._is_scalar_const(other, 0.5):
                break
            chain.append(mul)
            tail = mul.output[0]
        return chain if used_x and len(chain) == 3 else None

    def _layernorm_pattern(self, node: onnx.NodeProto, x: _Act) -> bool:
        """``(x - mean) / sqrt(var + eps) [* g + b]`` over the last axis (layer norm before opset 17)."""
        xin = node.input[0]
        sub = self._single_consumer(node.output[0])
        if sub is None or sub.op_type != "Sub" or list(sub.input) != [xin, node.output[0]]:
            return False
        users = [self.graph.node[i] for i in self.consumers.get(sub.output[0], [])]
        if len(users) != 2 or sub.output[0] in self.graph_outputs:
            return False
        pow_ = next((u for u in users if u.op_type == "Pow" and u.input[0] == sub.output[0]), None)
        div = next((u for u in users if u.op_type == "Div" and u.input[0] == sub.output[0]), None)
        if pow_ is None or div is None or not self._is_scalar_const(pow_.input[1], 2.0):
            return False
        chain = [sub, pow_]
        tail = pow_.output[0]
        for op in ("ReduceMean", "Add", "Sqrt"):
            nxt = self._single_consumer(tail)
            if nxt is None or nxt.op_type != op:
                return False
            if op == "ReduceMean" and self._axes(nxt, len(x.shape) + 1) != (len(x.shape),):
                return False
            if op == "Add" and not self._is_scalar_const(self._other_input(nxt, tail) or ""):
                return False
            chain.append(nxt)
            tail = nxt.output[0]
        if self._single_consumer(tail) is not div or div.input[1] != tail:
            return False
        chain.append(div)
        tail = div.output[0]
        for op in ("Mul", "Add"):  # the affine part, when present
            nxt = self._single_consumer(tail)
            other = self._other_input(nxt, tail) if nxt is not None and nxt.op_type == op else None
            shp = self._const_shape(other) if other is not None and self._is_const(other) else None
            if shp is None or numel(shp) != x.shape[-1]:
                break
            chain.append(nxt)
            tail = nxt.output[0]
        affine = chain[-1].op_type in ("Mul", "Add") and chain[-1] is not div
        for n in chain:
            self.skip.add(self.index[id(n)])
        act = self._emit(chain[-1], lambda nm: Norm(nm, "layernorm", x.shape, affine), [x], out=tail)
        self.env[node.output[0]] = act
        return True

    def _batchnorm(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        if any(o in self.consumers for o in node.output[1:] if o):
            raise self._fail(node, "training-mode outputs (running mean/var) are used")
        self._emit(node, lambda nm: Norm(nm, "batchnorm", x.shape, True), [x])

    def _layernorm(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        axis = int(_attrs(node).get("axis", -1)) % (len(x.shape) + 1)
        if axis != len(x.shape):
            raise self._fail(node, f"layer norm over axes from {axis} of a rank-{len(x.shape) + 1} tensor "
                                   f"(only the last axis)")
        if any(o in self.consumers for o in node.output[1:] if o):
            raise self._fail(node, "mean / inverse std outputs are used")
        self._emit(node, lambda nm: Norm(nm, "layernorm", x.shape, True), [x])

    # --- element-wise and data movement -----------------------------------------------------------------
    def _eltwise(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        if isinstance(vals[0], _Act) and self._gelu(node, vals[0]):
            return
        op = "add" if node.op_type in _ADD_OPS else "mul"
        out_nd = len(self._per_sample(node, node.output[0]))
        acts = [v for v in vals if isinstance(v, _Act)]
        params: list[Shape] = []
        for x, v in zip(node.input, vals):
            if isinstance(v, _Const):
                shp = self._const_shape(x)
                if shp is None:
                    raise self._fail(node, f"constant operand {x!r} has no static shape")
                if numel(shp) == 1:
                    continue  # a scalar: part of the op, like a python number in torch
                if len(shp) == out_nd + 1 and shp[0] == 1:
                    shp = shp[1:]
                params.append(tuple(shp))
        shapes = tuple(a.shape for a in acts) + tuple(params)
        self._emit(node, lambda nm: Elementwise(nm, op, shapes, len(params)), acts)

    def _concat(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        acts = [v for v in vals if isinstance(v, _Act)]
        nd = len(acts[0].shape)
        axis = int(_attrs(node).get("axis", 0)) % (nd + 1)
        if axis == 0:
            raise self._fail(node, "concatenation along the batch axis")
        params: list[Shape] = []
        for x, v in zip(node.input, vals):
            if isinstance(v, _Const):
                shp = self._const_shape(x)
                if shp is None or len(shp) != nd + 1:
                    raise self._fail(node, f"constant operand {x!r} of shape {shp} does not match rank {nd + 1}")
                params.append(tuple(shp[1:]))
        shapes = tuple(a.shape for a in acts) + tuple(params)
        self._emit(node, lambda nm: Concat(nm, shapes, axis - 1, len(params)), acts)

    def _movement(self, node: onnx.NodeProto, x: _Act, op: str, out: str | None = None, suffix: str = "") -> None:
        out = out if out is not None else node.output[0]
        target = self._per_sample(node, out)
        if target == x.shape:
            self.env[out] = x
            return
        self._emit(node, lambda nm: Reshape(nm, op, x.shape, target), [x], out=out, suffix=suffix)

    def _flatten(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        if int(_attrs(node).get("axis", 1)) % (len(x.shape) + 1) != 1:
            raise self._fail(node, "flatten must keep the batch axis alone (axis=1)")
        self._movement(node, x, "flatten")

    def _reshape(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        target = self._per_sample(node, node.output[0])
        k = len(target) - 1  # torch.flatten(x, start_dim): the trailing axes from k on merge into one
        merges_tail = len(x.shape) - k >= 2 and target[:k] == x.shape[:k]
        self._movement(node, x, "flatten" if merges_tail else "reshape")

    def _transpose(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        perm = _attrs(node).get("perm")
        if perm is not None and int(perm[0]) != 0:
            raise self._fail(node, f"permutation {list(perm)} moves the batch axis")
        self._movement(node, x, "permute")

    def _slice(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        if not isinstance(vals[0], _Act):
            raise self._fail(node, "gather from a constant table by activation indices (embedding lookup)")
        x = self._act(node, vals)
        if any(isinstance(v, _Act) for v in vals[1:]):
            raise self._fail(node, "indices computed from activations")
        if node.op_type == "Gather" and int(_attrs(node).get("axis", 0)) % (len(x.shape) + 1) == 0:
            raise self._fail(node, "gather along the batch axis")
        self._movement(node, x, "slice")

    def _split(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        if int(_attrs(node).get("axis", 0)) % (len(x.shape) + 1) == 0:
            raise self._fail(node, "split along the batch axis")
        for i, o in enumerate(node.output):
            if o and (o in self.consumers or o in self.graph_outputs):
                self._movement(node, x, "slice", out=o, suffix=f"_{i}")

    def _split_to_sequence(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        x = self._act(node, vals)
        if int(_attrs(node).get("axis", 0)) % (len(x.shape) + 1) == 0:
            raise self._fail(node, "split along the batch axis")
        self.env[node.output[0]] = _Seq(x)

    def _sequence_at(self, node: onnx.NodeProto, vals: Sequence[Any]) -> None:
        seq = vals[0]
        if not isinstance(seq, _Seq) or any(isinstance(v, (_Act, _Seq)) for v in vals[1:]):
            raise self._fail(node, "only a constant position in a split of an activation is supported")
        self._movement(node, seq.base, "slice")


_HANDLERS: dict[str, Callable[[_Converter, onnx.NodeProto, Sequence[Any]], None]] = {
    "Conv": _Converter._conv,
    "Gemm": _Converter._gemm,
    "MatMul": _Converter._matmul,
    "MaxPool": _Converter._pool,
    "AveragePool": _Converter._pool,
    "GlobalAveragePool": _Converter._global_pool,
    "GlobalMaxPool": _Converter._global_pool,
    "ReduceMean": _Converter._reduce,
    "ReduceMax": _Converter._reduce,
    "Clip": _Converter._clip,
    "BatchNormalization": _Converter._batchnorm,
    "LayerNormalization": _Converter._layernorm,
    "Concat": _Converter._concat,
    "Flatten": _Converter._flatten,
    "Transpose": _Converter._transpose,
    "Split": _Converter._split,
    "SplitToSequence": _Converter._split_to_sequence,
    "SequenceAt": _Converter._sequence_at,
    **{op: _Converter._activation for op in _ACT_OPS},
    **{op: _Converter._eltwise for op in _ADD_OPS | _MUL_OPS},
    **{op: _Converter._reshape for op in _RESHAPE_OPS},
    **{op: _Converter._slice for op in _SLICE_OPS},
}


def _is_torch_hardsigmoid(node: onnx.NodeProto) -> bool:
    """HardSigmoid with torch's slope 1/6 and offset 1/2 (ONNX defaults are 0.2 and 0.5)."""
    a = _attrs(node)
    return abs(float(a.get("alpha", 0.2)) - 1 / 6) < 1e-4 and abs(float(a.get("beta", 0.5)) - 0.5) < 1e-6


def _vi_shape(vi: onnx.ValueInfoProto) -> tuple[int, ...] | None:
    """Static shape of a value, or None when the type is not a tensor or any axis is unknown."""
    t = vi.type
    if not t.HasField("tensor_type") or not t.tensor_type.HasField("shape"):
        return None
    dims = []
    for d in t.tensor_type.shape.dim:
        if not d.HasField("dim_value"):
            return None
        dims.append(int(d.dim_value))
    return tuple(dims)
