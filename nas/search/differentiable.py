"""FBNet-style differentiable search (Wu et al. 2019) with a layer-adaptive latency LUT.

A supernet holds every candidate block of every searchable layer; layer ``l`` outputs
``sum_j m_lj * block_lj(x)`` with ``m_l = GumbelSoftmax(theta_l, tau)``. The expected latency is
``E[LAT] = offset + sum_l sum_j softmax(theta_l)_j * LUT[l][j]`` and the loss is
``CE * alpha * E[LAT]^beta`` (``power``, the BBSSP setting) or ``CE * alpha * log(E[LAT])^beta`` (``log``, FBNet).
Weights train on 80% of the training split, ``theta`` on the other 20%, alternately each step; the temperature
starts at 5.0 and decays x0.956 per epoch. The result is ``argmax theta`` per layer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hwsim.errors import HwnasError
from nas.evaluators.base import torch_worker
from nas.evaluators.datasets import Dataset
from spaces.core import Arch, SearchSpace


class SearchError(HwnasError):
    """Bad search settings."""


def _program(space: SearchSpace, shape: tuple[int, ...], build: Callable[[Any, str], str]) -> tuple[nn.Module,
                                                                                                       tuple[int, ...]]:
    from hwsim.emit_torch import TorchEmitter

    e = TorchEmitter(space.name, shape)
    out = build(e, e.input)
    return e.program(out), tuple(e.shape(out))


class Supernet(nn.Module):
    """Stem, one mixed layer per choice (all candidates), head -- built from the backbone of ``space``."""

    def __init__(self, space: SearchSpace, num_classes: int, input_size: int) -> None:
        super().__init__()
        from spaces.backbone import BackboneModel
        from hwsim.emit import conv_bn
        from spaces.ops import get_block

        model = space.model
        if not isinstance(model, BackboneModel):
            raise SearchError(f"space {space.name!r}: the differentiable search needs a layer-wise backbone space")

        def stem(e: Any, x: str) -> str:
            x = conv_bn(e, x, model.stem.out_channels, model.stem.kernel, model.stem.stride, act=model.stem.act)
            for f in model.fixed:
                x = get_block(f.block or "").fn(e, x, f.out_channels, f.stride)
            return x

        self.stem, shape = _program(space, (model.in_channels, input_size, input_size), stem)
        self.layers = nn.ModuleList()
        for c, spec in zip(space.choices, model.layers):
            ops = nn.ModuleList()
            out_shape = None
            for b in c.candidates:
                prog, out_shape = _program(space, shape, lambda e, x, b=b, spec=spec: get_block(b).fn(
                    e, x, spec.out_channels, spec.stride))
                ops.append(prog)
            self.layers.append(ops)
            shape = out_shape  # type: ignore[assignment]

        def head(e: Any, x: str) -> str:
            if model.head.conv_channels:
                x = conv_bn(e, x, model.head.conv_channels, 1, act=model.head.act)
            return e.linear(e.flatten(e.global_avg(x)), num_classes)

        self.head, _ = _program(space, shape, head)
        self.theta = nn.Parameter(torch.zeros(sum(len(c.candidates) for c in space.choices)))
        self.sizes = tuple(len(c.candidates) for c in space.choices)

    def thetas(self) -> list[torch.Tensor]:
        return list(torch.split(self.theta, self.sizes))

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for n, p in self.named_parameters() if n != "theta"]

    def forward(self, x: torch.Tensor, tau: float, gen: torch.Generator) -> torch.Tensor:
        x = self.stem(x)
        for ops, th in zip(self.layers, self.thetas()):
            m = _gumbel_softmax(th, tau, gen)
            x = sum(m[j] * op(x) for j, op in enumerate(ops))  # type: ignore[assignment]
        return self.head(x)


def _gumbel_softmax(logits: torch.Tensor, tau: float, gen: torch.Generator) -> torch.Tensor:
    u = torch.rand(logits.shape, generator=gen).clamp(1e-9, 1 - 1e-9)
    return F.softmax((logits - torch.log(-torch.log(u))) / tau, dim=-1)


def expected_latency(thetas: Sequence[torch.Tensor], lut: Sequence[torch.Tensor], offset_ms: float) -> torch.Tensor:
    """``offset + sum_l softmax(theta_l) . LUT_l`` (ms)."""
    return offset_ms + sum(torch.dot(F.softmax(th, dim=-1), t) for th, t in zip(thetas, lut))  # type: ignore[return-value]


def latency_loss(ce: torch.Tensor, lat_ms: torch.Tensor, alpha: float, beta: float, kind: str) -> torch.Tensor:
    """``CE * alpha * LAT^beta`` (``power``) or ``CE * alpha * log(LAT)^beta`` (``log``); LAT in milliseconds.

    The log form needs LAT > 1 ms to be positive (FBNet's phones ran ~20 ms); below that it is clamped to ~0,
    so sub-millisecond targets should use ``power``."""
    if kind == "power":
        return ce * alpha * lat_ms.clamp_min(1e-9) ** beta
    if kind == "log":
        return ce * alpha * torch.log(lat_ms.clamp_min(1.0 + 1e-6)) ** beta
    raise SearchError(f"latency loss must be power or log, got {kind!r}")


@dataclass(frozen=True)
class DifferentiableConfig:
    """``epochs`` over the weight split; ``tau0`` x ``tau_decay`` per epoch; ``alpha``/``beta``/``loss`` as in the
    module docstring; SGD on weights (``lr``), Adam on theta (``theta_lr``); ``max_steps_per_epoch`` caps an
    epoch (0 = full pass)."""

    epochs: int = 4
    batch_size: int = 32
    lr: float = 0.05
    theta_lr: float = 0.01
    tau0: float = 5.0
    tau_decay: float = 0.956
    alpha: float = 0.2
    beta: float = 0.6
    loss: str = "power"
    max_steps_per_epoch: int = 0
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        if self.loss not in ("power", "log"):
            raise SearchError(f"loss must be power or log, got {self.loss!r}")
        for fld in ("epochs", "batch_size"):
            v = getattr(self, fld)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise SearchError(f"{fld} must be a positive integer, got {v!r}")
        for fld in ("lr", "theta_lr", "tau0", "tau_decay", "alpha"):
            v = getattr(self, fld)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise SearchError(f"{fld} must be a positive number, got {v!r}")


@dataclass(frozen=True)
class EpochStats:
    """One supernet epoch: wall seconds, mean losses, expected latency (ms) and temperature at its end."""

    seconds: float
    ce: float
    loss: float
    expected_latency_ms: float
    tau: float


@dataclass(frozen=True)
class DifferentiableResult:
    arch: Arch
    probabilities: tuple[tuple[float, ...], ...]
    epochs: tuple[EpochStats, ...]
    supernet_params: int
    paths: int
    memory: Any = field(default=None)


@dataclass(frozen=True)
class MemoryEstimate:
    """Training memory of one step (bytes): parameters with gradient and momentum (3 copies, fp32) plus the
    activations autograd saves for the backward pass (measured with saved-tensor hooks)."""

    param_bytes: int
    activation_bytes: int

    @property
    def total_bytes(self) -> int:
        return 3 * self.param_bytes + self.activation_bytes


def measure_training_memory(net: Supernet, x: torch.Tensor, y: torch.Tensor, tau: float,
                            gen: torch.Generator) -> MemoryEstimate:
    """Bytes saved for backward by one forward pass of ``net`` on ``x`` (storage counted once)."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        seen[st.data_ptr()] = max(seen.get(st.data_ptr(), 0), st.nbytes())
        return t

    params = {p.untyped_storage().data_ptr() for p in net.parameters()}
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(net(x, tau, gen), y)
    loss.backward()
    net.zero_grad()
    act = sum(v for k, v in seen.items() if k not in params)
    return MemoryEstimate(sum(p.numel() * p.element_size() for p in net.parameters()), act)


def differentiable_search(space: SearchSpace, data: Dataset, lut: Any, config: DifferentiableConfig,
                          input_size: int, progress: Callable[[int, str], Any] | None = None) -> DifferentiableResult:
    """Run the FBNet-style search; ``lut`` is a :class:`calibration.bbssp.BBSSPLut` covering the space."""
    with torch_worker(config.threads):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            net = Supernet(space, data.num_classes, input_size)
        lut_t = [torch.tensor([lut.entry(c.label, b) for b in c.candidates], dtype=torch.float32)
                 for c in space.choices]
        offset = float(lut.offset_ms) if math.isfinite(lut.offset_ms) else 0.0
        gen = torch.Generator().manual_seed(config.seed)
        n = len(data.y_train)
        order = torch.randperm(n, generator=gen)
        n_w = max(1, int(n * 0.8))
        w_idx, t_idx = order[:n_w], order[n_w:] if n - n_w > 0 else order[:n_w]
        opt_w = torch.optim.SGD(net.weight_parameters(), lr=config.lr, momentum=0.9, weight_decay=1e-4)
        opt_t = torch.optim.Adam([net.theta], lr=config.theta_lr, weight_decay=5e-4)
        steps = math.ceil(n_w / config.batch_size)
        if config.max_steps_per_epoch:
            steps = min(steps, config.max_steps_per_epoch)
        memory = measure_training_memory(net, data.x_train[w_idx[:config.batch_size]],
                                         data.y_train[w_idx[:config.batch_size]], config.tau0, gen)
        bar = progress(config.epochs * steps, "supernet") if progress else None
        tau = config.tau0
        stats = []
        for _ in range(config.epochs):
            t0 = time.perf_counter()
            perm_w = w_idx[torch.randperm(len(w_idx), generator=gen)]
            perm_t = t_idx[torch.randperm(len(t_idx), generator=gen)]
            ces, losses = [], []
            for s in range(steps):
                bw = perm_w[(s * config.batch_size) % len(perm_w):][:config.batch_size]
                bt = perm_t[(s * config.batch_size) % len(perm_t):][:config.batch_size]
                net.train()
                opt_w.zero_grad()
                ce = F.cross_entropy(net(data.x_train[bw], tau, gen), data.y_train[bw])
                ce.backward()
                net.theta.grad = None
                opt_w.step()
                opt_t.zero_grad()
                ce_t = F.cross_entropy(net(data.x_train[bt], tau, gen), data.y_train[bt])
                loss = latency_loss(ce_t, expected_latency(net.thetas(), lut_t, offset), config.alpha,
                                    config.beta, config.loss)
                loss.backward()
                opt_t.step()
                ces.append(float(ce.item()))
                losses.append(float(loss.item()))
                if bar is not None:
                    bar.update(1)
            with torch.no_grad():
                lat = float(expected_latency(net.thetas(), lut_t, offset))
            stats.append(EpochStats(time.perf_counter() - t0, float(np.mean(ces)), float(np.mean(losses)), lat, tau))
            tau *= config.tau_decay
        if bar is not None:
            bar.close()
        probs = tuple(tuple(F.softmax(th.detach(), dim=-1).tolist()) for th in net.thetas())
        arch = Arch((c.label, c.candidates[int(np.argmax(p))]) for c, p in zip(space.choices, probs))
        return DifferentiableResult(arch, probs, tuple(stats), sum(p.numel() for p in net.weight_parameters()),
                                    sum(net.sizes), memory)
