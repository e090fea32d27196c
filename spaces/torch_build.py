"""Torch side of the block descriptions: :class:`TorchEmitter` records the torch module/function of every
layer the :class:`~spaces.ops.GraphEmitter` adds, and :class:`GraphProgram` runs them in that order."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import torch
from torch import nn

from hwsim.workload import Shape
from spaces.ops import GraphEmitter


def _flatten(x: torch.Tensor) -> torch.Tensor:
    return torch.flatten(x, 1)


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


def _make_module(kind: str, p: dict[str, Any], device: torch.device | str | None) -> nn.Module | None:
    if kind == "conv":
        return nn.Conv2d(p["cin"], p["cout"], p["kernel"], p["stride"], p["padding"], groups=p["groups"],
                         bias=p["bias"], device=device)
    if kind == "bn":
        return nn.BatchNorm2d(p["channels"], device=device)
    if kind == "act":
        return nn.ReLU() if p["op"] == "relu" else nn.ReLU6()
    if kind == "pool":
        if p["op"] == "max":
            return nn.MaxPool2d(p["kernel"], p["stride"], p["padding"])
        return nn.AvgPool2d(p["kernel"], p["stride"], p["padding"], count_include_pad=False)
    if kind == "global_avg":
        return nn.AdaptiveAvgPool2d(1)
    if kind == "linear":
        return nn.Linear(p["fin"], p["fout"], device=device)
    if kind == "shuffle":
        return ChannelShuffle(p["groups"], p["c"], p["h"], p["w"])
    return None


_FUNCTIONS: Mapping[str, Callable[..., torch.Tensor]] = MappingProxyType({"add": operator.add,
                                                                            "flatten": _flatten})


class TorchEmitter(GraphEmitter):
    """Emits workload layers and records the torch module/function of each, in the same order."""

    def __init__(self, name: str, input_shape: Shape, device: torch.device | str | None = None) -> None:
        super().__init__(name, input_shape)
        self.device = device
        self.modules: dict[str, nn.Module] = {}
        self.plan: list[tuple[str, str | None, str | None, tuple[str, ...]]] = []

    def _step(self, out: str, inputs: tuple[str, ...], kind: str, **params: Any) -> None:
        module = _make_module(kind, params, self.device)
        if module is not None:
            self.modules[out] = module
            self.plan.append((out, out, None, inputs))
        else:
            self.plan.append((out, None, kind, inputs))

    def program(self, output: str) -> GraphProgram:
        return GraphProgram(self.input, self.modules, tuple(self.plan), output)


class GraphProgram(nn.Module):
    """A torch model that runs a recorded plan of modules/functions in emission order.

    Submodules live in ``self.ops`` under the names of the workload layers they produce, so
    ``model.ops["conv_3"]`` is the torch counterpart of ``network["conv_3"]``.
    """

    def __init__(self, input_name: str, modules: Mapping[str, nn.Module],
                 plan: tuple[tuple[str, str | None, str | None, tuple[str, ...]], ...], output: str) -> None:
        super().__init__()
        self.ops = nn.ModuleDict(dict(modules))
        self._input = input_name
        self._plan = plan
        self._output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        env: dict[str, torch.Tensor] = {self._input: x}
        for out, module_key, fn, inputs in self._plan:
            args = [env[i] for i in inputs]
            if module_key is not None:
                env[out] = self.ops[module_key](*args)
            else:
                env[out] = _FUNCTIONS[fn](*args)  # type: ignore[index]
        return env[self._output]
