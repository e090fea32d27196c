"""One description per network, two materialisations: the workload IR and a torch module.

A network (a zoo model, a search-space block) is a plain function written against an *emitter* ``e``:
``y = e.conv(x, 64, 3); y = e.act(e.bn(y))``. Tensors are named by strings (the workload layer names).
:class:`GraphEmitter` turns each call into :mod:`hwsim.workload` layers through
:class:`~hwsim.workload.NetworkBuilder`; :class:`hwsim.emit_torch.TorchEmitter` (imported only when torch
models are built; this module never imports torch) does the same and records the torch module or function of
every call. :class:`hwsim.emit_torch.GraphProgram` then runs the recorded steps in emission order, so the
``torch.fx`` import (:func:`hwsim.importers.torch_fx.from_torch`) of the module equals the workload layer for
layer.

Torch counterparts (what the fx importer maps back onto the same layer):

* ``conv`` -> ``nn.Conv2d`` (no bias unless asked); ``bn`` -> ``nn.BatchNorm2d``;
  ``layernorm`` -> ``nn.LayerNorm`` over the last axis
* ``act`` -> ``nn.ReLU``, ``nn.ReLU6``, ``nn.SiLU`` (swish), ``nn.Sigmoid``, ``nn.GELU``, ``nn.Softmax(dim=-1)``...
* ``add`` / ``mul`` / ``scale`` -> ``a + b`` / ``a * b`` / ``x * factor``
* ``pool`` -> ``nn.MaxPool2d`` / ``nn.AvgPool2d`` (average excludes padding); ``global_avg`` ->
  ``nn.AdaptiveAvgPool2d(1)``; ``adaptive_avg_pool`` -> ``nn.AdaptiveAvgPool2d(out)``, which the IR gets as a
  global pool, a fixed-window pool or nothing (identity), as the importer maps it at this input size
* ``flatten`` -> ``torch.flatten(x, 1 + start)``; ``reshape`` -> ``x.reshape(-1, *shape)``;
  ``permute`` -> ``x.permute(0, ...)``; ``select`` -> ``x[:, ..., index]`` (IR ``slice``)
* ``linear`` -> ``nn.Linear``; ``matmul`` -> ``a @ b``; ``concat`` -> ``torch.cat(xs, 1 + axis)``
* ``cat_param`` / ``add_param`` -> a learned tensor concatenated in front (a class token) / added (a position
  embedding); the IR lists it as a trailing parameter operand
* ``dropout`` -> ``nn.Dropout(p)``; nothing in the IR
* ``shuffle`` -> ``reshape`` / ``transpose`` / ``reshape`` (ShuffleNet channel shuffle; three Reshape layers)

Every op takes an optional ``name``: the workload layer name (auto-numbered by the builder when None) and, on
the torch side, the module path (``"features.0.1"`` nests like ``nn.Sequential``). An op the IR drops at this
input size (``dropout``, an identity ``adaptive_avg_pool``) returns its input name; the torch side rebinds that
name to the module's output (an identity at this size), which later reads of the name then get. A description
that returns its input (a skip) adds nothing on either side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from hwsim.errors import HwnasError
from hwsim.workload import ACTIVATION_OPS, Network, NetworkBuilder, Shape


class EmitError(HwnasError):
    """A description asked an emitter for something it cannot build (unknown activation, uneven pool...)."""


class GraphEmitter:
    """Emits workload layers only (the fast path: no torch)."""

    def __init__(self, name: str, input_shape: Shape) -> None:
        self.builder = NetworkBuilder(name, tuple(input_shape))

    @property
    def name(self) -> str:
        """The network's name."""
        return self.builder.name

    @property
    def input(self) -> str:
        return self.builder.input

    def shape(self, x: str) -> Shape:
        """Per-sample shape of a produced tensor, ``(C, H, W)`` for feature maps."""
        return self.builder.shape(x)

    def channels(self, x: str) -> int:
        return self.builder.shape(x)[0]

    # --- hooks for the torch side ----------------------------------------------------------------
    def _step(self, out: str, inputs: tuple[str, ...], kind: str, path: str | None = None, **params: Any) -> None:
        """Record the torch counterpart of the layer(s) ending in ``out`` (no-op for the IR-only emitter).

        ``path`` is the torch module path when it is not ``out`` (ops the IR drops)."""

    def _param(self, name: str, shape: Shape) -> None:
        """Declare a learned tensor of per-sample ``shape`` (no-op for the IR-only emitter)."""

    # --- convolution, normalisation, activation ---------------------------------------------------
    def conv(self, x: str, out_channels: int, kernel: int, stride: int = 1, padding: int | None = None,
             groups: int = 1, bias: bool = False, name: str | None = None) -> str:
        """k x k convolution; ``padding`` defaults to ``kernel // 2`` (same size at stride 1)."""
        pad = kernel // 2 if padding is None else padding
        cin = self.channels(x)
        y = self.builder.conv(x, out_channels, kernel, stride, pad, groups, bias, name=name)
        self._step(y, (x,), "conv", cin=cin, cout=out_channels, kernel=kernel, stride=stride, padding=pad,
                   groups=groups, bias=bias)
        return y

    def bn(self, x: str, name: str | None = None) -> str:
        y = self.builder.bn(x, name=name)
        self._step(y, (x,), "bn", channels=self.channels(x))
        return y

    def layernorm(self, x: str, eps: float = 1e-5, name: str | None = None) -> str:
        """Layer norm over the last axis (``eps`` only matters to the torch side)."""
        y = self.builder.layernorm(x, name=name)
        self._step(y, (x,), "layernorm", features=self.shape(x)[-1], eps=eps)
        return y

    def act(self, x: str, op: str = "relu", name: str | None = None) -> str:
        if op not in ACTIVATION_OPS:
            raise EmitError(f"network {self.name!r}: unknown activation {op!r}; expected one of "
                            f"{', '.join(ACTIVATION_OPS)}")
        y = self.builder.act(x, op, name=name)
        self._step(y, (x,), "act", op=op)
        return y

    # --- element-wise ----------------------------------------------------------------------------
    def add(self, a: str, b: str, name: str | None = None) -> str:
        y = self.builder.eltwise("add", a, b, name=name)
        self._step(y, (a, b), "add")
        return y

    def mul(self, a: str, b: str, name: str | None = None) -> str:
        """Element-wise (broadcast) product, e.g. a squeeze-and-excitation scale ``(C,1,1) * (C,H,W)``."""
        y = self.builder.eltwise("mul", a, b, name=name)
        self._step(y, (a, b), "mul")
        return y

    def scale(self, x: str, factor: float, name: str | None = None) -> str:
        """Multiplication by a constant (one activation operand in the IR)."""
        y = self.builder.eltwise("mul", x, name=name)
        self._step(y, (x,), "scale", factor=factor)
        return y

    # --- pooling ---------------------------------------------------------------------------------
    def pool(self, x: str, op: str, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False,
             name: str | None = None) -> str:
        y = self.builder.pool(x, op, kernel, stride, padding, ceil_mode, name=name)
        self._step(y, (x,), "pool", op=op, kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
        return y

    def global_avg(self, x: str, name: str | None = None) -> str:
        y = self.builder.global_pool(x, "avg", name=name)
        self._step(y, (x,), "global_avg")
        return y

    def adaptive_avg_pool(self, x: str, out_hw: tuple[int, int], name: str | None = None) -> str:
        """``nn.AdaptiveAvgPool2d(out_hw)``: a global pool to 1x1, nothing when the input is already
        ``out_hw``, a fixed-window pool when the input is a multiple of ``out_hw``; else :class:`EmitError`."""
        _, h, w = self.shape(x)
        oh, ow = out_hw
        if (oh, ow) == (1, 1):
            y = self.builder.global_pool(x, "avg", name=name)
        elif (h, w) == (oh, ow):
            y = x
        elif h % oh == 0 and w % ow == 0:
            y = self.builder.pool(x, "avg", (h // oh, w // ow), (h // oh, w // ow), name=name)
        else:
            raise EmitError(f"network {self.name!r}: layer {name or 'adaptive pool'!r}: adaptive average pool "
                            f"from {h}x{w} to {oh}x{ow} has no fixed window (input not a multiple of the output)")
        self._step(y, (x,), "adaptive_avg", path=name, out_hw=(oh, ow))
        return y

    # --- data movement ---------------------------------------------------------------------------
    def flatten(self, x: str, start: int = 0, name: str | None = None) -> str:
        """Merge the per-sample axes from ``start`` on (``torch.flatten(x, 1 + start)``)."""
        shp = self.shape(x)
        if start == 0:
            y = self.builder.flatten(x, name=name)
        else:
            y = self.builder.reshape(x, (*shp[:start], math.prod(shp[start:])), "flatten", name=name)
        self._step(y, (x,), "flatten", start_dim=start + 1)
        return y

    def reshape(self, x: str, shape: Sequence[int], name: str | None = None) -> str:
        y = self.builder.reshape(x, tuple(shape), "reshape", name=name)
        self._step(y, (x,), "reshape", shape=tuple(shape))
        return y

    def permute(self, x: str, dims: Sequence[int], name: str | None = None) -> str:
        """Reorder the per-sample axes (``dims`` as in ``torch.permute``, batch axis excluded)."""
        shp = self.shape(x)
        if sorted(dims) != list(range(len(shp))):
            raise EmitError(f"network {self.name!r}: permute dims {tuple(dims)} do not reorder {len(shp)} axes")
        y = self.builder.reshape(x, tuple(shp[d] for d in dims), "permute", name=name)
        self._step(y, (x,), "permute", dims=tuple(dims))
        return y

    def select(self, x: str, axis: int, index: int, name: str | None = None) -> str:
        """Pick ``index`` along per-sample ``axis``, dropping that axis (an IR ``slice``)."""
        shp = self.shape(x)
        if not 0 <= axis < len(shp) or not 0 <= index < shp[axis]:
            raise EmitError(f"network {self.name!r}: select index {index} on axis {axis} of shape {shp}")
        y = self.builder.reshape(x, shp[:axis] + shp[axis + 1:], "slice", name=name)
        self._step(y, (x,), "select", axis=axis, index=index)
        return y

    def concat(self, *xs: str, axis: int = 0, name: str | None = None) -> str:
        y = self.builder.concat(*xs, axis=axis, name=name)
        self._step(y, tuple(xs), "concat", axis=axis)
        return y

    def shuffle(self, x: str, groups: int) -> str:
        """Channel shuffle: (C,H,W) -> (g,C/g,H,W) -> (C/g,g,H,W) -> (C,H,W)."""
        c, h, w = self.shape(x)
        a = self.builder.reshape(x, (groups, c // groups, h, w), "reshape")
        p = self.builder.reshape(a, (c // groups, groups, h, w), "permute")
        y = self.builder.reshape(p, (c, h, w), "reshape")
        self._step(y, (x,), "shuffle", groups=groups, c=c, h=h, w=w)
        return y

    def dropout(self, x: str, p: float, name: str | None = None) -> str:
        """Dropout: torch only (inference drops it, as the importer does); returns ``x``."""
        self._step(x, (x,), "dropout", path=name, p=p)
        return x

    # --- dense -----------------------------------------------------------------------------------
    def linear(self, x: str, out_features: int, bias: bool = True, name: str | None = None) -> str:
        fin = self.shape(x)[-1]
        y = self.builder.linear(x, out_features, bias=bias, name=name)
        self._step(y, (x,), "linear", fin=fin, fout=out_features, bias=bias)
        return y

    def matmul(self, a: str, b: str, name: str | None = None) -> str:
        y = self.builder.matmul(a, b, name=name)
        self._step(y, (a, b), "matmul")
        return y

    # --- learned tensors as operands -------------------------------------------------------------
    def cat_param(self, x: str, param: str, shape: Sequence[int], axis: int = 0, name: str | None = None) -> str:
        """Concatenate a learned tensor ``param`` of per-sample ``shape`` in front of ``x`` along ``axis``
        (a class token). The IR lists learned operands last; the concatenated size is the same."""
        self._param(param, tuple(shape))
        y = self.builder.concat(x, axis=axis, params=[tuple(shape)], name=name)
        self._step(y, (x,), "cat_param", learned=(param,), axis=axis)
        return y

    def add_param(self, x: str, param: str, shape: Sequence[int], name: str | None = None) -> str:
        """Add a learned tensor ``param`` of per-sample ``shape`` to ``x`` (a position embedding)."""
        self._param(param, tuple(shape))
        y = self.builder.eltwise("add", x, params=[tuple(shape)], name=name)
        self._step(y, (x,), "add_param", learned=(param,))
        return y

    def build(self, output: str | None = None) -> Network:
        """The workload network; ``output`` None lets the network take its sink layers."""
        return self.builder.build(() if output is None else (output,))


def conv_bn(e: GraphEmitter, x: str, cout: int, k: int, stride: int = 1, act: str | None = "relu",
            groups: int = 1, name: str | None = None) -> str:
    """conv (no bias, ``k // 2`` padding) -> BN (-> activation); with ``name`` the layers are
    ``name.0`` / ``name.1`` / ``name.2`` as in an ``nn.Sequential``."""
    def sub(i: int) -> str | None:
        return None if name is None else f"{name}.{i}"

    y = e.bn(e.conv(x, cout, k, stride, groups=groups, name=sub(0)), name=sub(1))
    return e.act(y, act, name=sub(2)) if act else y


__all__ = ["EmitError", "GraphEmitter", "conv_bn"]
