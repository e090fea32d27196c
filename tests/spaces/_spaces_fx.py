"""Cheap fx import for many archs: symbolic trace + analytic per-node shapes + the importer's own converter.

``hwsim.importers.torch_fx.from_torch`` propagates shapes on fake tensors, ~1-3 s per 190-layer network on this
machine; the equality test needs hundreds of networks. Here the shapes of the few node kinds our models use are
computed from the module attributes (torch's documented output-size formulas), then the importer's converter
maps the traced graph exactly as ``from_torch`` does. The converter checks every IR layer's output shape against
these shapes, and ``test_fast_import_matches_from_torch`` checks this path against the public ``from_torch``.
"""

from __future__ import annotations

import math
import operator
from types import SimpleNamespace

import torch
import torch.fx
from torch import nn

from hwsim.importers import torch_fx
from hwsim.workload import Network

BATCH = 2


def _win(size: int, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _module_shape(m: nn.Module, x: tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(m, nn.Conv2d):
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (_pair(m.kernel_size), _pair(m.stride), _pair(m.padding),
                                                  _pair(m.dilation))
        return (x[0], m.out_channels, _win(x[2], kh, sh, ph, dh), _win(x[3], kw, sw, pw, dw))
    if isinstance(m, (nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.Identity, nn.Dropout)):
        return x
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        (kh, kw), (sh, sw), (ph, pw) = _pair(m.kernel_size), _pair(m.stride or m.kernel_size), _pair(m.padding)
        return (x[0], x[1], _win(x[2], kh, sh, ph, 1, m.ceil_mode), _win(x[3], kw, sw, pw, 1, m.ceil_mode))
    if isinstance(m, nn.AdaptiveAvgPool2d):
        assert _pair(m.output_size) == (1, 1)
        return (x[0], x[1], 1, 1)
    if isinstance(m, nn.Linear):
        return x[:-1] + (m.out_features,)
    raise AssertionError(f"no shape rule for {type(m).__name__}")


def _reshape(x: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...]:
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        dims = tuple(math.prod(x) // known if d == -1 else d for d in dims)
    assert math.prod(dims) == math.prod(x)
    return dims


def infer_shapes(gm: torch.fx.GraphModule, input_shape: tuple[int, ...]) -> None:
    """Set ``node.meta['tensor_meta'].shape`` (batch BATCH) for every node of our models' graphs."""
    mods = dict(gm.named_modules())
    shapes: dict[torch.fx.Node, tuple[int, ...]] = {}
    for n in gm.graph.nodes:
        if n.op == "placeholder":
            s = (BATCH, *input_shape)
        elif n.op == "call_module":
            s = _module_shape(mods[n.target], shapes[n.args[0]])
        elif n.op == "call_function" and n.target is operator.add:
            a, b = shapes[n.args[0]], shapes[n.args[1]]
            assert a == b
            s = a
        elif n.op == "call_function" and n.target is torch.flatten:
            x = shapes[n.args[0]]
            assert n.args[1:] == (1,)
            s = (x[0], math.prod(x[1:]))
        elif n.op == "call_method" and n.target in ("reshape", "view"):
            s = _reshape(shapes[n.args[0]], tuple(n.args[1:]))
        elif n.op == "call_method" and n.target == "transpose":
            x, (d0, d1) = list(shapes[n.args[0]]), n.args[1:]
            x[d0], x[d1] = x[d1], x[d0]
            s = tuple(x)
        elif n.op == "output":
            continue
        else:
            raise AssertionError(f"no shape rule for node {n.op} {n.target}")
        shapes[n] = s
        n.meta["tensor_meta"] = SimpleNamespace(shape=torch.Size(s))


def fast_from_torch(module: nn.Module, input_shape: tuple[int, ...]) -> Network:
    """``from_torch`` with analytic shapes instead of fake-tensor propagation (see module docstring)."""
    gm = torch.fx.symbolic_trace(module)
    infer_shapes(gm, input_shape)
    return torch_fx._Converter(gm, tuple(input_shape), type(module).__name__).convert()
