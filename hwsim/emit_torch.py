"""Torch side of the network descriptions (see :mod:`hwsim.emit`).

:class:`TorchEmitter` adds the workload layers exactly as :class:`~hwsim.emit.GraphEmitter` does and records,
for every op, the torch module (``nn.Conv2d``, ...) or function (``a + b``, ``torch.flatten``, ...) that the
``torch.fx`` importer maps back onto the same layer. :class:`GraphProgram` runs the recorded steps in emission
order. :func:`init_parameters` re-draws every parameter from a ``torch.Generator``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from types import MappingProxyType
from typing import Any, NamedTuple

import torch
from torch import nn

from hwsim.emit import EmitError, GraphEmitter
from hwsim.workload import Shape


class ChannelShuffle(nn.Module):
    """ShuffleNet channel shuffle for a fixed per-sample shape (C, H, W)."""

    def __init__(self, groups: int, c: int, h: int, w: int) -> None:
        super().__init__()
        self.groups, self.c, self.h, self.w = groups, c, h, w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g, c, h, w = self.groups, self.c, self.h, self.w
        x = x.reshape(-1, g, c // g, h, w)
        x = x.transpose(1, 2)
        return x.reshape(-1, c, h, w)


# --- functions of the function steps (module level, so programs pickle and deep-copy) -----------------
def _flatten(x: torch.Tensor, start_dim: int = 1) -> torch.Tensor:
    return torch.flatten(x, start_dim)


def _reshape(x: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    return x.reshape(-1, *shape)


def _permute(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    return x.permute(0, *(d + 1 for d in dims))


def _select(x: torch.Tensor, axis: int, index: int) -> torch.Tensor:
    return x[(slice(None),) * (axis + 1) + (index,)]


def _concat(*xs: torch.Tensor, axis: int) -> torch.Tensor:
    return torch.cat(list(xs), axis + 1)


def _scale(x: torch.Tensor, factor: float) -> torch.Tensor:
    return x * factor


def _cat_param(x: torch.Tensor, p: torch.Tensor, axis: int, ndim: int) -> torch.Tensor:
    return torch.cat([p.expand(x.shape[0], *([-1] * ndim)), x], axis + 1)


_ACT_MODULES: Mapping[str, Callable[[], nn.Module]] = MappingProxyType({
    "relu": nn.ReLU, "relu6": nn.ReLU6, "swish": nn.SiLU, "sigmoid": nn.Sigmoid, "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid, "gelu": nn.GELU, "tanh": nn.Tanh, "softmax": partial(nn.Softmax, dim=-1),
})


def _pool(p: dict[str, Any]) -> nn.Module:
    if p["op"] == "max":
        return nn.MaxPool2d(p["kernel"], p["stride"], p["padding"], ceil_mode=p["ceil_mode"])
    return nn.AvgPool2d(p["kernel"], p["stride"], p["padding"], ceil_mode=p["ceil_mode"], count_include_pad=False)


# step kind -> module factory (params, device); the module path is the layer name
_MODULES: Mapping[str, Callable[[dict[str, Any], Any], nn.Module]] = MappingProxyType({
    "conv": lambda p, dev: nn.Conv2d(p["cin"], p["cout"], p["kernel"], p["stride"], p["padding"],
                                     groups=p["groups"], bias=p["bias"], device=dev),
    "bn": lambda p, dev: nn.BatchNorm2d(p["channels"], device=dev),
    "layernorm": lambda p, dev: nn.LayerNorm(p["features"], eps=p["eps"], device=dev),
    "act": lambda p, dev: _ACT_MODULES[p["op"]](),
    "pool": lambda p, dev: _pool(p),
    "global_avg": lambda p, dev: nn.AdaptiveAvgPool2d(1),
    "adaptive_avg": lambda p, dev: nn.AdaptiveAvgPool2d(p["out_hw"]),
    "linear": lambda p, dev: nn.Linear(p["fin"], p["fout"], bias=p["bias"], device=dev),
    "dropout": lambda p, dev: nn.Dropout(p["p"]),
    "shuffle": lambda p, dev: ChannelShuffle(p["groups"], p["c"], p["h"], p["w"]),
})

# step kind -> function factory (params)
_FUNCTIONS: Mapping[str, Callable[[dict[str, Any]], Callable[..., torch.Tensor]]] = MappingProxyType({
    "add": lambda p: operator.add,
    "mul": lambda p: operator.mul,
    "matmul": lambda p: operator.matmul,
    "scale": lambda p: partial(_scale, factor=p["factor"]),
    "flatten": lambda p: partial(_flatten, start_dim=p["start_dim"]),
    "reshape": lambda p: partial(_reshape, shape=p["shape"]),
    "permute": lambda p: partial(_permute, dims=p["dims"]),
    "select": lambda p: partial(_select, axis=p["axis"], index=p["index"]),
    "concat": lambda p: partial(_concat, axis=p["axis"]),
    "cat_param": lambda p: partial(_cat_param, axis=p["axis"], ndim=p["ndim"]),
    "add_param": lambda p: operator.add,
})


class Step(NamedTuple):
    """One recorded op: ``env[out] = module_or_fn(*env[inputs], *learned tensors)``."""

    out: str
    module: str | None
    fn: Callable[..., torch.Tensor] | None
    inputs: tuple[str, ...]
    learned: tuple[str, ...] = ()


class TorchEmitter(GraphEmitter):
    """Emits workload layers and records the torch module/function of each, in the same order.

    Modules are created as they are emitted (so a seeded global RNG gives the same weights as before);
    ``device="meta"`` builds them weightless. A module's path is ``module_prefix.<layer name>`` (the layer
    name alone when ``module_prefix`` is empty); dotted names nest in ``nn.ModuleDict`` containers.
    """

    def __init__(self, name: str, input_shape: Shape, device: torch.device | str | None = None,
                 module_prefix: str = "ops") -> None:
        super().__init__(name, input_shape)
        self.device = device
        self.module_prefix = module_prefix
        self.modules: dict[str, nn.Module] = {}
        self.learned: dict[str, nn.Parameter] = {}
        self.plan: list[Step] = []

    def _module_path(self, out: str, inputs: tuple[str, ...], kind: str, path: str | None) -> str:
        if path is None:
            if out not in inputs:
                path = out
            else:  # an op the IR dropped: a fresh torch-only name
                k, path = 0, kind
                while self._full(path) in self.modules:
                    k += 1
                    path = f"{kind}_{k}"
        full = self._full(path)
        if full in self.modules:
            raise EmitError(f"network {self.name!r}: torch module path {full!r} is used twice")
        return full

    def _full(self, path: str) -> str:
        return f"{self.module_prefix}.{path}" if self.module_prefix else path

    def _step(self, out: str, inputs: tuple[str, ...], kind: str, path: str | None = None, **params: Any) -> None:
        learned = tuple(params.pop("learned", ()))
        if kind in _MODULES:
            key = self._module_path(out, inputs, kind, path)
            self.modules[key] = _MODULES[kind](params, self.device)
            self.plan.append(Step(out, key, None, inputs, learned))
        else:
            if kind == "cat_param":
                params["ndim"] = len(self.learned[learned[0]].shape) - 1
            self.plan.append(Step(out, None, _FUNCTIONS[kind](params), inputs, learned))

    def _param(self, name: str, shape: Shape) -> None:
        if not name.isidentifier() or name in self.learned:
            raise EmitError(f"network {self.name!r}: learned tensor name {name!r} must be a new identifier")
        self.learned[name] = nn.Parameter(torch.zeros(1, *shape, device=self.device))

    def program(self, output: str) -> GraphProgram:
        containers = (self.module_prefix,) if self.module_prefix else ()
        return GraphProgram(self.input, self.modules, tuple(self.plan), output, self.learned, containers)


class GraphProgram(nn.Module):
    """A torch model that runs a recorded plan of modules/functions in emission order.

    Submodules live at the paths the emitter gave them: ``model.ops["conv_3"]`` (spaces) or
    ``model.features["0"]["1"]`` with state-dict keys ``features.0.1.weight`` (zoo), the torch counterpart of
    the workload layer of that name. Learned operands (``cat_param`` / ``add_param``) are root parameters.
    """

    def __init__(self, input_name: str, modules: Mapping[str, nn.Module], plan: Sequence[Step], output: str,
                 learned: Mapping[str, nn.Parameter] = MappingProxyType({}), containers: Sequence[str] = ()) -> None:
        super().__init__()
        for name, p in learned.items():
            self.register_parameter(name, p)
        for path in containers:
            self._container(path.split("."), path)
        for path, module in modules.items():
            *parents, leaf = path.split(".")
            parent = self._container(parents, path)
            if leaf in parent._modules:
                raise EmitError(f"torch module path {path!r} is used twice")
            try:
                parent.add_module(leaf, module)
            except KeyError as e:
                raise EmitError(f"torch module path {path!r}: {e.args[0]}") from None
        self._input = input_name
        self._plan = tuple(plan)
        self._output = output

    def _container(self, parts: Sequence[str], path: str) -> nn.Module:
        """The nested ``nn.ModuleDict`` at ``parts`` (created on first use)."""
        node: nn.Module = self
        for i, part in enumerate(parts):
            child = node._modules.get(part)
            if child is None:
                child = nn.ModuleDict()
                try:
                    node.add_module(part, child)
                except KeyError as e:
                    raise EmitError(f"torch module path {path!r}: {e.args[0]}") from None
            elif not isinstance(child, nn.ModuleDict):
                raise EmitError(f"torch module path {path!r}: {'.'.join(parts[:i + 1])!r} is a layer, not a "
                                f"container")
            node = child
        return node

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        env: dict[str, torch.Tensor] = {self._input: x}
        for step in self._plan:
            args = [env[i] for i in step.inputs] + [getattr(self, p) for p in step.learned]
            fn = self.get_submodule(step.module) if step.module is not None else step.fn
            env[step.out] = fn(*args)  # type: ignore[misc]
        return env[self._output]


@torch.no_grad()
def init_parameters(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-draw every parameter of ``model`` from ``generator`` (the global RNG is not touched); returns it.

    Convolutions: Kaiming normal (fan-out, ReLU gain); linear layers and free tensors (class token, position
    embedding): truncated normal with std 0.02; norm layers: weight 1, bias 0; all biases 0. BatchNorm running
    statistics are reset. Equal generator states give bit-identical parameters.
    """
    done: set[int] = set()
    for module in model.modules():
        weight = getattr(module, "weight", None)
        bias = getattr(module, "bias", None)
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu", generator=generator)
        elif isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=0.02, generator=generator)
        elif isinstance(module, (nn.BatchNorm2d, nn.LayerNorm)):
            if weight is not None:
                nn.init.ones_(weight)
            if isinstance(module, nn.BatchNorm2d) and module.track_running_stats:
                module.reset_running_stats()
        else:
            continue
        for p in (weight, bias):
            if p is not None:
                done.add(id(p))
        if bias is not None:
            nn.init.zeros_(bias)
    for p in model.parameters():
        if id(p) not in done:
            nn.init.trunc_normal_(p, std=0.02, generator=generator)
    return model


__all__ = ["ChannelShuffle", "GraphProgram", "Step", "TorchEmitter", "init_parameters"]
