"""Import a ``torch.nn.Module`` into the workload IR with ``torch.fx`` tracing and shape propagation.

The module is traced symbolically, shapes are propagated with a batch of 2 (on meta tensors, so nothing is
computed), and every node is mapped to an IR layer:

- ``nn.Conv2d`` -> :class:`Conv2d`; ``nn.Linear`` -> :class:`Linear`; ``@``/``matmul``/``bmm`` -> :class:`MatMul`
  (or :class:`Linear` without bias when one operand is a parameter);
- batch norm / layer norm -> :class:`Norm`; ReLU, ReLU6, sigmoid, SiLU (swish), hard-swish, hard-sigmoid, GELU,
  tanh, softmax (modules, ``F.*`` and ``torch.*`` forms) -> :class:`Activation`;
- max/avg pooling -> :class:`Pool2d`; adaptive pooling to 1x1 -> :class:`GlobalPool`; adaptive pooling to the
  input size is dropped; adaptive pooling by an integer factor -> :class:`Pool2d`;
- ``+``/``add``/``-``/``sub`` -> :class:`Elementwise` add, ``*``/``mul``/``/``/``div`` -> :class:`Elementwise` mul
  (a subtraction costs what an addition does); learned tensors become trailing ``param_inputs``;
- ``cat`` -> :class:`Concat`; flatten / view / reshape / (un)squeeze / permute / transpose / indexing /
  chunk / split / unbind -> :class:`Reshape`;
- dropout, identity, ``contiguous`` and dtype casts are dropped.

Shapes in the IR are per sample: the batch axis must stay first, which is checked by propagating a batch
of 2. Anything else raises :class:`TorchImportError` naming the module path or function.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

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
)

_BATCH = 2


class TorchImportError(HwnasError):
    """A module or op the torch importer cannot map, or a model it cannot trace."""


# --- value kinds flowing along the fx graph ---------------------------------------------------------
@dataclass(frozen=True)
class _Param:
    """A tensor computed from parameters/buffers only (constant); ``shape`` as traced (with any batch axis)."""

    shape: tuple[int, ...]


@dataclass(frozen=True)
class _Multi:
    """A tuple of slices of one activation (chunk/split/unbind)."""

    base: _Act


_SCALAR = object()  # python numbers, sizes, dtypes, None

_ACT_MODULES: dict[type, str] = {
    nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Sigmoid: "sigmoid", nn.SiLU: "swish", nn.Hardswish: "hardswish",
    nn.Hardsigmoid: "hardsigmoid", nn.GELU: "gelu", nn.Tanh: "tanh", nn.Softmax: "softmax",
}
_ACT_FUNCS: dict[Any, str] = {
    F.relu: "relu", torch.relu: "relu", F.relu6: "relu6", torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid",
    F.silu: "swish", F.hardswish: "hardswish", F.hardsigmoid: "hardsigmoid", F.gelu: "gelu",
    torch.tanh: "tanh", F.tanh: "tanh", F.softmax: "softmax", torch.softmax: "softmax",
}
_ACT_METHODS = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax"}
_IDENTITY_MODULES = (nn.Identity, nn.Dropout, nn.Dropout2d, nn.Dropout1d, nn.AlphaDropout)
_SUPPORTED_MODULES = (*_IDENTITY_MODULES, *_ACT_MODULES, nn.Conv2d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d,
                      nn.LayerNorm, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Flatten)
_IDENTITY_METHODS = {"contiguous", "clone", "detach", "float", "half", "to", "type", "type_as", "cpu"}
_ADD_FUNCS = {operator.add, operator.iadd, torch.add, operator.sub, operator.isub, torch.sub}
_MUL_FUNCS = {operator.mul, operator.imul, torch.mul, operator.truediv, operator.itruediv, torch.div}
_ADD_METHODS = {"add", "add_", "sub", "sub_"}
_MUL_METHODS = {"mul", "mul_", "div", "div_"}
_MATMUL_FUNCS = {operator.matmul, torch.matmul, torch.bmm}
_RESHAPE_METHODS = {"view": "reshape", "reshape": "reshape", "flatten": "flatten", "permute": "permute",
                    "transpose": "permute", "squeeze": "reshape", "unsqueeze": "reshape", "t": "permute"}
_RESHAPE_FUNCS = {torch.flatten: "flatten", torch.reshape: "reshape", torch.permute: "permute",
                  torch.transpose: "permute", torch.squeeze: "reshape", torch.unsqueeze: "reshape"}
_SPLIT_FUNCS = {torch.chunk, torch.split, torch.unbind}
_SPLIT_METHODS = {"chunk", "split", "unbind"}
_SCALAR_METHODS = {"size", "dim", "numel"}


def _fn_name(target: Any) -> str:
    return getattr(target, "__name__", None) or repr(target)


def from_torch(module: nn.Module, input_shape: Sequence[int], name: str | None = None) -> Network:
    """Trace ``module`` on a per-sample ``input_shape`` (e.g. ``(3, 224, 224)``) and return its workload.

    The module's train/eval flags are restored afterwards; no parameter is changed.
    """
    shape = tuple(int(d) for d in input_shape)
    if not shape or any(d <= 0 for d in shape):
        raise TorchImportError(f"input shape must be positive dimensions, got {tuple(input_shape)}")
    net_name = name or type(module).__name__
    try:
        gm = torch.fx.symbolic_trace(module)
    except Exception as e:  # fx raises many types for untraceable control flow
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise TorchImportError(f"torch.fx cannot trace {net_name}: {msg}") from None
    modules = dict(gm.named_modules())
    for node in gm.graph.nodes:
        if node.op == "call_module" and not isinstance(modules[node.target], _SUPPORTED_MODULES):
            raise TorchImportError(f"{net_name}: unsupported torch module: module '{node.target}' "
                                   f"({type(modules[node.target]).__name__})")
    flags = {m: m.training for m in module.modules()}
    try:
        module.eval()
        gm.eval()
        _propagate_shapes(gm, shape, net_name)
    finally:
        for m, t in flags.items():
            m.training = t
    return _Converter(gm, shape, net_name).convert()


def _propagate_shapes(gm: torch.fx.GraphModule, shape: Shape, net_name: str) -> None:
    """Fill ``node.meta['tensor_meta']`` on meta tensors (nothing computed), falling back to a real forward pass.

    ShapeProp prints tracebacks of failing nodes to stderr; they are captured and reduced to one line.
    """
    x = torch.zeros((_BATCH, *shape))
    fake_log = logging.getLogger("torch._subclasses.fake_tensor")
    level = fake_log.level
    fake_log.setLevel(logging.CRITICAL)
    try:
        with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
            try:  # meta tensors: parameters swapped for shape-only copies, nothing computed or copied
                from torch.nn.utils.stateless import _reparametrize_module

                meta = {k: torch.empty_like(v, device="meta")
                        for k, v in [*gm.named_parameters(), *gm.named_buffers()]}
                with _reparametrize_module(gm, meta):
                    ShapeProp(gm).propagate(torch.zeros((_BATCH, *shape), device="meta"))
                return
            except Exception:
                pass  # an op without a meta kernel: fall back to a real forward pass
            try:
                ShapeProp(gm).propagate(x)
            except Exception as e:
                root = e.__cause__ or e
                msg = str(root).splitlines()[0] if str(root) else type(root).__name__
                where = str(e).split(" with meta=")[0].replace("ShapeProp error for: ", "") if e.__cause__ else ""
                raise TorchImportError(f"{net_name}: forward pass on input {shape} failed"
                                       f"{' at ' + where if where else ''}: {msg}") from None
    finally:
        fake_log.setLevel(level)


class _Converter:
    def __init__(self, gm: torch.fx.GraphModule, input_shape: Shape, name: str) -> None:
        self.gm = gm
        self.name = name
        self.input_shape = input_shape
        self.modules = dict(gm.named_modules())
        self.values: dict[torch.fx.Node, Any] = {}
        self.nodes: list[Node] = []
        self.used: set[str] = set()
        self.inputs: list[tuple[str, Shape]] = []

    # --- helpers -------------------------------------------------------------------------------------
    def _where(self, node: torch.fx.Node) -> str:
        if node.op == "call_module":
            return f"module '{node.target}' ({type(self.modules[node.target]).__name__})"
        if node.op == "call_method":
            return f"method '.{node.target}()' at node '{node.name}'"
        return f"function '{_fn_name(node.target)}' at node '{node.name}'"

    def _fail(self, node: torch.fx.Node, what: str) -> TorchImportError:
        return TorchImportError(f"{self.name}: {what}: {self._where(node)}")

    def _unique(self, base: str) -> str:
        return unique_name(self.used, base)

    def _meta_shape(self, node: torch.fx.Node) -> tuple[int, ...] | None:
        tm = node.meta.get("tensor_meta")
        if tm is None or not hasattr(tm, "shape"):
            return None
        return tuple(int(d) for d in tm.shape)

    def _out_shape(self, node: torch.fx.Node) -> Shape:
        shp = self._meta_shape(node)
        if shp is None:
            raise self._fail(node, "no tensor shape was propagated")
        if not shp or shp[0] != _BATCH:
            raise self._fail(node, f"the batch axis must stay first (traced shape {shp} with batch {_BATCH})")
        if len(shp) == 1:
            raise self._fail(node, "reduces over the batch axis")
        return shp[1:]

    def _param_shape(self, val: _Param, ndim: int) -> Shape:
        """Per-sample shape of a learned operand broadcast against an ``ndim``-dimensional activation."""
        shp = val.shape
        if len(shp) == ndim + 1 and shp[0] in (1, _BATCH):
            shp = shp[1:]
        return shp if shp else (1,)

    def _emit(self, node: torch.fx.Node, layer_factory: Callable[[str], Layer], *srcs: _Act) -> _Act:
        base = str(node.target) if node.op == "call_module" else node.name
        nm = self._unique(base)
        try:
            layer = layer_factory(nm)
        except WorkloadError as e:
            raise TorchImportError(f"{self.name}: {self._where(node)}: {e}") from None
        out = self._out_shape(node)
        if tuple(layer.output_shape) != out:
            raise self._fail(node, f"IR output shape {layer.output_shape} differs from traced shape {out}")
        self.nodes.append(Node(layer, tuple(a.src for a in srcs)))
        return _Act(nm, out)

    def _flat_args(self, node: torch.fx.Node) -> list[Any]:
        vals: list[Any] = []

        def visit(a: Any) -> None:
            if isinstance(a, torch.fx.Node):
                vals.append(self.values[a])
            elif isinstance(a, (list, tuple)):
                for x in a:
                    visit(x)

        for a in list(node.args) + list(node.kwargs.values()):
            visit(a)
        return vals

    def _act_arg(self, node: torch.fx.Node, idx: int = 0) -> _Act:
        arg = node.args[idx] if idx < len(node.args) else None
        val = self.values.get(arg) if isinstance(arg, torch.fx.Node) else None
        if not isinstance(val, _Act):
            raise self._fail(node, f"argument {idx} is not an activation tensor")
        return val

    # --- conversion ----------------------------------------------------------------------------------
    def convert(self) -> Network:
        outputs: list[str] = []
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                if self.inputs:
                    raise self._fail(node, "only single-input models are supported; extra input")
                nm = self._unique(node.name)
                self.inputs.append((nm, self.input_shape))
                self.values[node] = _Act(nm, self.input_shape)
            elif node.op == "get_attr":
                shp = self._meta_shape(node)
                self.values[node] = _Param(shp if shp is not None else (1,))
            elif node.op == "output":
                for v in self._flat_args(node):
                    if isinstance(v, _Act) and v.src not in outputs and v.src not in dict(self.inputs):
                        outputs.append(v.src)
            else:
                self.values[node] = self._convert_call(node)
        try:
            return Network(self.name, tuple(self.inputs), tuple(self.nodes), tuple(outputs))
        except WorkloadError as e:
            raise TorchImportError(f"{self.name}: {e}") from None

    def _convert_call(self, node: torch.fx.Node) -> Any:
        args = self._flat_args(node)
        has_act = any(isinstance(a, (_Act, _Multi)) for a in args)
        if not has_act:  # constant folding: computed from parameters, buffers and python values only
            shp = self._meta_shape(node)
            return _Param(shp) if shp is not None else _SCALAR
        if node.op == "call_module":
            return self._convert_module(node, self.modules[node.target])
        if node.op == "call_method":
            return self._convert_method(node)
        return self._convert_function(node)

    def _convert_module(self, node: torch.fx.Node, mod: nn.Module) -> Any:
        if isinstance(mod, _IDENTITY_MODULES):
            return self._act_arg(node)
        x = self._act_arg(node)
        if isinstance(mod, nn.Conv2d):
            return self._conv(node, mod, x)
        if isinstance(mod, nn.Linear):
            return self._emit(node, lambda nm: Linear(nm, x.shape, mod.out_features, mod.bias is not None), x)
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            return self._emit(node, lambda nm: Norm(nm, "batchnorm", x.shape, mod.affine), x)
        if isinstance(mod, nn.LayerNorm):
            if len(mod.normalized_shape) != 1:
                raise self._fail(node, f"layer norm over {tuple(mod.normalized_shape)} (only the last axis)")
            return self._emit(node, lambda nm: Norm(nm, "layernorm", x.shape, mod.elementwise_affine), x)
        for cls, op in _ACT_MODULES.items():
            if type(mod) is cls:
                return self._emit(node, lambda nm: Activation(nm, op, x.shape), x)
        if isinstance(mod, nn.MaxPool2d):
            if _pair(mod.dilation) != (1, 1):
                raise self._fail(node, f"dilated max pooling (dilation={mod.dilation})")
            return self._pool(node, x, "max", mod.kernel_size, mod.stride, mod.padding, mod.ceil_mode)
        if isinstance(mod, nn.AvgPool2d):
            return self._pool(node, x, "avg", mod.kernel_size, mod.stride, mod.padding, mod.ceil_mode)
        if isinstance(mod, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            op = "avg" if isinstance(mod, nn.AdaptiveAvgPool2d) else "max"
            return self._adaptive(node, x, op, mod.output_size)
        if isinstance(mod, nn.Flatten):
            return self._reshape(node, x, "flatten")
        raise self._fail(node, "unsupported torch module")

    def _convert_method(self, node: torch.fx.Node) -> Any:
        m = str(node.target)
        if m in _IDENTITY_METHODS:
            return self._act_arg(node)
        if m in _SCALAR_METHODS:
            return _SCALAR
        if m in _RESHAPE_METHODS:
            return self._reshape(node, self._act_arg(node), _RESHAPE_METHODS[m])
        if m in _ACT_METHODS:
            x = self._act_arg(node)
            return self._emit(node, lambda nm: Activation(nm, _ACT_METHODS[m], x.shape), x)
        if m in _ADD_METHODS:
            return self._eltwise(node, "add")
        if m in _MUL_METHODS:
            return self._eltwise(node, "mul")
        if m == "matmul":
            return self._matmul(node)
        if m in _SPLIT_METHODS:
            return _Multi(self._act_arg(node))
        if m == "mean":
            return self._mean(node)
        raise self._fail(node, "unsupported tensor method")

    def _convert_function(self, node: torch.fx.Node) -> Any:
        t = node.target
        if t in _ACT_FUNCS:
            x = self._act_arg(node)
            return self._emit(node, lambda nm: Activation(nm, _ACT_FUNCS[t], x.shape), x)
        if t in _ADD_FUNCS:
            return self._eltwise(node, "add")
        if t in _MUL_FUNCS:
            return self._eltwise(node, "mul")
        if t in _MATMUL_FUNCS:
            return self._matmul(node)
        if t in (torch.cat, torch.concat):
            return self._cat(node)
        if t in _RESHAPE_FUNCS:
            return self._reshape(node, self._act_arg(node), _RESHAPE_FUNCS[t])
        if t in _SPLIT_FUNCS:
            return _Multi(self._act_arg(node))
        if t is operator.getitem:
            return self._getitem(node)
        if t is getattr:
            return _SCALAR
        if t in (F.max_pool2d, F.avg_pool2d):
            return self._functional_pool(node)
        if t in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
            op = "avg" if t is F.adaptive_avg_pool2d else "max"
            size = node.args[1] if len(node.args) > 1 else node.kwargs.get("output_size")
            return self._adaptive(node, self._act_arg(node), op, size)
        if t in (F.dropout, F.dropout2d):
            return self._act_arg(node)
        if t is torch.mean:
            return self._mean(node)
        raise self._fail(node, "unsupported torch function")

    # --- layer makers --------------------------------------------------------------------------------
    def _conv(self, node: torch.fx.Node, mod: nn.Conv2d, x: _Act) -> _Act:
        if mod.padding_mode != "zeros":
            raise self._fail(node, f"padding_mode={mod.padding_mode!r} (only 'zeros')")
        kh, kw = _pair(mod.kernel_size)
        dh, dw = _pair(mod.dilation)
        if isinstance(mod.padding, str):
            if mod.padding == "valid":
                ph, pw = 0, 0
            else:  # 'same' (stride 1)
                th, tw = dh * (kh - 1), dw * (kw - 1)
                if th % 2 or tw % 2:
                    raise self._fail(node, "padding='same' with an even kernel pads asymmetrically")
                ph, pw = th // 2, tw // 2
        else:
            ph, pw = _pair(mod.padding)
        sh, sw = _pair(mod.stride)
        if len(x.shape) != 3:
            raise self._fail(node, f"conv2d input must be (C, H, W), got {x.shape}")
        c, h, w = x.shape
        return self._emit(node, lambda nm: Conv2d(nm, c, mod.out_channels, h, w, kh, kw, sh, sw, ph, pw, dh, dw,
                                                  mod.groups, mod.bias is not None), x)

    def _pool(self, node: torch.fx.Node, x: _Act, op: str, kernel: Any, stride: Any, padding: Any,
              ceil_mode: bool) -> _Act:
        if len(x.shape) != 3:
            raise self._fail(node, f"2-D pooling input must be (C, H, W), got {x.shape}")
        kh, kw = _pair(kernel)
        sh, sw = _pair(stride if stride not in (None, (), []) else kernel)
        ph, pw = _pair(padding)
        c, h, w = x.shape
        return self._emit(node, lambda nm: Pool2d(nm, op, c, h, w, kh, kw, sh, sw, ph, pw, bool(ceil_mode)), x)

    def _functional_pool(self, node: torch.fx.Node) -> _Act:
        is_max = node.target is F.max_pool2d
        names = (["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode"] if is_max
                 else ["input", "kernel_size", "stride", "padding", "ceil_mode"])
        a = dict(zip(names, node.args))
        a.update(node.kwargs)
        if is_max and _pair(a.get("dilation", 1)) != (1, 1):
            raise self._fail(node, "dilated max pooling")
        return self._pool(node, self._act_arg(node), "max" if is_max else "avg", a["kernel_size"],
                          a.get("stride"), a.get("padding", 0), a.get("ceil_mode", False))

    def _adaptive(self, node: torch.fx.Node, x: _Act, op: str, size: Any) -> _Act:
        if len(x.shape) != 3:
            raise self._fail(node, f"2-D pooling input must be (C, H, W), got {x.shape}")
        c, h, w = x.shape
        oh, ow = _pair(size) if size is not None else (h, w)
        oh, ow = oh or h, ow or w
        if (oh, ow) == (1, 1):
            return self._emit(node, lambda nm: GlobalPool(nm, op, c, h, w), x)
        if (oh, ow) == (h, w):
            return x
        if h % oh or w % ow:
            raise self._fail(node, f"adaptive pooling {h}x{w} -> {oh}x{ow} with uneven windows")
        kh, kw = h // oh, w // ow
        return self._emit(node, lambda nm: Pool2d(nm, op, c, h, w, kh, kw, kh, kw), x)

    def _reshape(self, node: torch.fx.Node, x: _Act, op: str) -> _Act:
        out = self._out_shape(node)
        if out == x.shape:
            return x
        return self._emit(node, lambda nm: Reshape(nm, op, x.shape, out), x)

    def _getitem(self, node: torch.fx.Node) -> Any:
        base = self.values.get(node.args[0]) if isinstance(node.args[0], torch.fx.Node) else None
        if isinstance(base, _Multi):
            x = base.base
        elif isinstance(base, _Act):
            x = base
        else:
            shp = self._meta_shape(node)
            return _Param(shp) if shp is not None and isinstance(base, _Param) else _SCALAR
        out = self._out_shape(node)
        if out == x.shape:
            return x
        return self._emit(node, lambda nm: Reshape(nm, "slice", x.shape, out), x)

    def _eltwise(self, node: torch.fx.Node, op: str) -> _Act:
        operands = [self.values[a] if isinstance(a, torch.fx.Node) else _SCALAR for a in node.args[:2]]
        acts = [v for v in operands if isinstance(v, _Act)]
        params = [v for v in operands if isinstance(v, _Param)]
        if not acts:
            raise self._fail(node, "element-wise op without an activation operand")
        out_nd = len(self._out_shape(node))
        shapes = tuple(a.shape for a in acts) + tuple(self._param_shape(p, out_nd) for p in params)
        return self._emit(node, lambda nm: Elementwise(nm, op, shapes, len(params)), *acts)

    def _matmul(self, node: torch.fx.Node) -> _Act:
        a, b = (self.values.get(x) if isinstance(x, torch.fx.Node) else _SCALAR for x in node.args[:2])
        if isinstance(a, _Act) and isinstance(b, _Act):
            return self._emit(node, lambda nm: MatMul(nm, a.shape, b.shape), a, b)
        if isinstance(a, _Act) and isinstance(b, _Param) and len(b.shape) == 2:
            k, n = b.shape
            if a.shape[-1] != k:
                raise self._fail(node, f"matmul shapes {a.shape} @ {b.shape}")
            return self._emit(node, lambda nm: Linear(nm, a.shape, n, False), a)
        raise self._fail(node, "matmul operands (parameter on the left or batched parameter)")

    def _cat(self, node: torch.fx.Node) -> _Act:
        tensors = node.args[0] if node.args else node.kwargs.get("tensors")
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
        vals = [self.values[t] if isinstance(t, torch.fx.Node) else _SCALAR for t in tensors]
        acts = [v for v in vals if isinstance(v, _Act)]
        params = [v for v in vals if isinstance(v, _Param)]
        if len(acts) + len(params) != len(vals) or not acts:
            raise self._fail(node, "concatenation of non-tensor operands")
        nd = len(acts[0].shape)
        d = int(dim) if dim >= 0 else int(dim) + nd + 1
        if d == 0:
            raise self._fail(node, "concatenation along the batch axis")
        # learned operands (e.g. a class token) go last in the IR; the concatenated size is the same
        shapes = tuple(a.shape for a in acts) + tuple(self._param_shape(p, nd) for p in params)
        return self._emit(node, lambda nm: Concat(nm, shapes, d - 1, len(params)), *acts)

    def _mean(self, node: torch.fx.Node) -> _Act:
        x = self._act_arg(node)
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
        dims = tuple(sorted(int(d) % (len(x.shape) + 1) for d in (dim if isinstance(dim, (list, tuple)) else [dim])))
        if len(x.shape) == 3 and dims == (2, 3):
            out = self._out_shape(node)
            c, h, w = x.shape
            if out == (c, 1, 1):
                return self._emit(node, lambda nm: GlobalPool(nm, "avg", c, h, w), x)
        raise self._fail(node, f"mean over dims {dim} (only spatial mean with keepdim=True)")


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return int(v[0]), int(v[0])
        return int(v[0]), int(v[1])
    return int(v), int(v)


def count_macs_torch(module: nn.Module, input_shape: Sequence[int]) -> int:
    """Independent MAC count from forward hooks on Conv2d/Linear modules (a twin for tests)."""
    total = 0

    def conv_hook(m: nn.Conv2d, inp: Any, out: torch.Tensor) -> None:
        nonlocal total
        kh, kw = _pair(m.kernel_size)
        total += math.prod(out.shape[1:]) * (m.in_channels // m.groups) * kh * kw

    def lin_hook(m: nn.Linear, inp: Any, out: torch.Tensor) -> None:
        nonlocal total
        total += math.prod(out.shape[1:]) * m.in_features

    hooks = []
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    flags = {m: m.training for m in module.modules()}
    try:
        module.eval()
        with torch.no_grad():
            module(torch.zeros((1, *input_shape)))
    finally:
        for h in hooks:
            h.remove()
        for m, t in flags.items():
            m.training = t
    return total
