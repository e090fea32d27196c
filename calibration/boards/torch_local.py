"""A real local board: this machine's CPU (and CUDA when present) timed through PyTorch.

* :func:`measure_module` -- end-to-end latency of a module: warm-up, timed repeats, median and spread, with a
  fixed intra-op thread count (``torch.set_num_threads``, restored afterwards) under ``torch.inference_mode``.
* :class:`TorchLocalDevice` -- ``profile_isolated(layer)`` runs one workload layer alone as the equivalent torch op
  (so :func:`calibration.lut.build_lut` builds a LUT of *measured* per-layer times on this machine).
* :func:`profile_ops` -- per-operator times of one forward pass from ``torch.profiler``.

Inputs and weights are drawn from an explicit seeded ``torch.Generator``; the global RNG is not touched.
"""

from __future__ import annotations

import functools
import json
import math
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from hwsim.errors import HwnasError
from hwsim.workload import (
    Activation,
    Concat,
    Conv2d,
    Elementwise,
    GlobalPool,
    Layer,
    Linear,
    MatMul,
    Norm,
    Pool2d,
    Reshape,
)


class BoardError(HwnasError):
    """Bad timing settings or a layer the local board cannot run."""


@dataclass(frozen=True)
class TimingStats:
    """Latency statistics over ``repeats`` timed runs after ``warmup`` untimed ones (milliseconds).

    ``threads``: intra-op threads used; ``device``: ``cpu`` or ``cuda``; ``clock``: ``wall`` or ``thread_cpu``
    (see :func:`time_callable`).
    """

    median_ms: float
    mean_ms: float
    std_ms: float
    p10_ms: float
    p90_ms: float
    min_ms: float
    repeats: int
    warmup: int
    threads: int
    device: str
    clock: str = "wall"

    @classmethod
    def from_samples(cls, samples_ms: Any, warmup: int, threads: int, device: str,
                     clock: str = "wall") -> TimingStats:
        s = np.asarray(samples_ms, dtype=float)
        if s.ndim != 1 or len(s) == 0 or not np.all(np.isfinite(s)):
            raise BoardError("timing needs at least one finite sample")
        return cls(float(np.median(s)), float(s.mean()), float(s.std(ddof=1)) if len(s) > 1 else 0.0,
                   float(np.percentile(s, 10)), float(np.percentile(s, 90)), float(s.min()), len(s), warmup,
                   threads, device, clock)

    @property
    def conditions(self) -> str:
        """``key=value`` text for the measurement file's ``conditions`` column."""
        return (f"device={self.device};threads={self.threads};warmup={self.warmup};batch=1;clock={self.clock};"
                f"torch={_torch_version()};cpu={platform.machine()}")


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def _check_settings(warmup: int, repeats: int, threads: int, device: str) -> None:
    for name, v, lo in (("warmup", warmup, 0), ("repeats", repeats, 1), ("threads", threads, 1)):
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise BoardError(f"{name} must be an integer >= {lo}, got {v!r}")
    if device not in ("cpu", "cuda"):
        raise BoardError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise BoardError("device 'cuda' requested but torch.cuda.is_available() is False")


@contextmanager
def fixed_threads(threads: int) -> Iterator[None]:
    """``torch.set_num_threads(threads)`` inside the block; the previous count is restored after."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old)


CLOCKS = ("wall", "thread_cpu")


def time_callable(fn: Callable[[], Any], warmup: int = 5, repeats: int = 20, threads: int = 1,
                  device: str = "cpu", clock: str = "wall") -> TimingStats:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` timed ones (CUDA synchronised when used).

    ``clock="wall"`` measures elapsed time; ``clock="thread_cpu"`` the CPU time of the calling thread
    (``time.thread_time_ns``), valid only for the CPU with one intra-op thread (every op then runs inline in the
    calling thread): it excludes time the thread waits descheduled, so it estimates the latency of an unloaded
    machine when other processes share the cores.
    """
    import torch

    _check_settings(warmup, repeats, threads, device)
    if clock not in CLOCKS:
        raise BoardError(f"clock must be one of {', '.join(CLOCKS)}, got {clock!r}")
    if clock == "thread_cpu" and (device != "cpu" or threads != 1):
        raise BoardError("clock 'thread_cpu' needs device 'cpu' and threads=1")
    now = time.thread_time_ns if clock == "thread_cpu" else time.perf_counter_ns
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    samples = []
    with fixed_threads(threads), torch.inference_mode():
        for _ in range(warmup):
            fn()
        sync()
        for _ in range(repeats):
            t0 = now()
            fn()
            sync()
            samples.append((now() - t0) / 1e6)
    return TimingStats.from_samples(samples, warmup, threads, device, clock)


def measure_module(module: Any, input_shape: tuple[int, ...], *, device: str = "cpu", threads: int = 1,
                   warmup: int = 5, repeats: int = 20, seed: int = 0, clock: str = "wall") -> TimingStats:
    """End-to-end latency of ``module`` on one input of per-sample ``input_shape`` (batch 1), eval mode."""
    import torch

    _check_settings(warmup, repeats, threads, device)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((1, *input_shape), generator=g).to(device)
    module = module.to(device).eval()
    return time_callable(lambda: module(x), warmup, repeats, threads, device, clock)


@dataclass(frozen=True)
class _Draw:
    """Seeded random tensors for one layer op: ``rnd(*shape)`` is a batch-1 input, ``tensor(shape)`` a weight."""

    generator: Any
    device: str

    def rnd(self, *shape: int) -> Any:
        import torch

        return torch.randn((1, *shape), generator=self.generator).to(self.device)

    def tensor(self, shape: tuple[int, ...]) -> Any:
        import torch

        return torch.randn(shape, generator=self.generator).to(self.device)


def layer_op(layer: Layer, seed: int = 0, device: str = "cpu") -> Callable[[], Any]:
    """A zero-argument callable running ``layer`` alone as the equivalent torch op on seeded random data."""
    import torch

    return _torch_op(layer, _Draw(torch.Generator().manual_seed(seed), device))


@functools.singledispatch
def _torch_op(layer: Layer, d: _Draw) -> Callable[[], Any]:
    """The torch op of ``layer`` on data drawn from ``d``, one rule per layer kind."""
    raise BoardError(f"layer {layer.name!r}: kind {layer.kind!r} has no local torch op")


@_torch_op.register
def _(layer: Conv2d, d: _Draw) -> Callable[[], Any]:
    import torch.nn.functional as F

    x = d.rnd(layer.in_channels, layer.in_h, layer.in_w)
    w = d.tensor((layer.out_channels, layer.in_channels // layer.groups, layer.kernel_h, layer.kernel_w))
    b = d.tensor((layer.out_channels,)) if layer.bias else None
    st, pd, dl = (layer.stride_h, layer.stride_w), (layer.pad_h, layer.pad_w), (layer.dilation_h, layer.dilation_w)
    return lambda: F.conv2d(x, w, b, st, pd, dl, layer.groups)


@_torch_op.register
def _(layer: Linear, d: _Draw) -> Callable[[], Any]:
    import torch.nn.functional as F

    x = d.rnd(*layer.input_shape)
    w = d.tensor((layer.out_features, layer.k))
    b = d.tensor((layer.out_features,)) if layer.bias else None
    return lambda: F.linear(x, w, b)


@_torch_op.register
def _(layer: MatMul, d: _Draw) -> Callable[[], Any]:
    import torch

    a, bm = d.rnd(*layer.a_shape), d.rnd(*layer.b_shape)
    return lambda: torch.matmul(a, bm)


@_torch_op.register
def _(layer: Pool2d, d: _Draw) -> Callable[[], Any]:
    import torch.nn.functional as F

    x = d.rnd(layer.channels, layer.in_h, layer.in_w)
    k, s, p = (layer.kernel_h, layer.kernel_w), (layer.stride_h, layer.stride_w), (layer.pad_h, layer.pad_w)
    if layer.op == "max":
        return lambda: F.max_pool2d(x, k, s, p, ceil_mode=layer.ceil_mode)
    return lambda: F.avg_pool2d(x, k, s, p, ceil_mode=layer.ceil_mode, count_include_pad=False)


@_torch_op.register
def _(layer: GlobalPool, d: _Draw) -> Callable[[], Any]:
    import torch.nn.functional as F

    x = d.rnd(layer.channels, layer.in_h, layer.in_w)
    return (lambda: F.adaptive_avg_pool2d(x, 1)) if layer.op == "avg" else (lambda: F.adaptive_max_pool2d(x, 1))


@_torch_op.register
def _(layer: Elementwise, d: _Draw) -> Callable[[], Any]:
    import torch

    xs = [d.rnd(*s) for s in layer.operand_shapes]
    op = torch.add if layer.op == "add" else torch.mul

    def elt() -> Any:
        y = xs[0]
        for t in xs[1:]:
            y = op(y, t)
        return y
    return elt


@_torch_op.register
def _(layer: Activation, d: _Draw) -> Callable[[], Any]:
    import torch
    import torch.nn.functional as F

    x = d.rnd(*layer.shape)
    fns = {"relu": F.relu, "relu6": F.relu6, "sigmoid": torch.sigmoid, "swish": F.silu, "hardswish": F.hardswish,
           "hardsigmoid": F.hardsigmoid, "gelu": F.gelu, "tanh": torch.tanh,
           "softmax": lambda t: torch.softmax(t, -1)}
    f = fns[layer.op]
    return lambda: f(x)


@_torch_op.register
def _(layer: Norm, d: _Draw) -> Callable[[], Any]:
    import torch
    import torch.nn.functional as F

    x = d.rnd(*layer.shape)
    c = layer.features
    wt, bs = torch.ones(c).to(d.device), torch.zeros(c).to(d.device)
    if layer.op == "batchnorm":
        rm, rv = torch.zeros(c).to(d.device), torch.ones(c).to(d.device)
        return lambda: F.batch_norm(x, rm, rv, wt, bs, False)
    return lambda: F.layer_norm(x, (c,), wt, bs)


@_torch_op.register
def _(layer: Concat, d: _Draw) -> Callable[[], Any]:
    import torch

    xs = [d.rnd(*s) for s in layer.operand_shapes]
    return lambda: torch.cat(xs, dim=layer.axis + 1)


@_torch_op.register
def _(layer: Reshape, d: _Draw) -> Callable[[], Any]:
    x = d.rnd(*layer.input_shape)
    if layer.op == "slice":
        n = math.prod(layer.target_shape)
        return lambda: x.reshape(-1)[:n].reshape((1, *layer.target_shape)).contiguous()
    return lambda: x.reshape((1, *layer.target_shape)).contiguous()


class TorchLocalDevice:
    """This machine as a device: ``profile_isolated`` times one layer alone with torch (median of repeats).

    Not a simulator: results vary run to run (that is what calibration measures). ``statistic`` picks the
    reported time: ``median`` (default) or ``min`` (robust on a machine shared with other work: contention only
    ever adds time). Immutable settings.
    """

    __slots__ = ("name", "device", "threads", "warmup", "repeats", "seed", "statistic", "clock")

    def __init__(self, device: str = "cpu", threads: int = 1, warmup: int = 3, repeats: int = 15,
                 seed: int = 0, statistic: str = "median", clock: str = "wall") -> None:
        _check_settings(warmup, repeats, threads, device)
        if statistic not in ("median", "min"):
            raise BoardError(f"statistic must be 'median' or 'min', got {statistic!r}")
        for k, v in (("name", f"torch-local-{device}-{threads}t"), ("device", device), ("threads", threads),
                     ("warmup", warmup), ("repeats", repeats), ("seed", seed), ("statistic", statistic),
                     ("clock", clock)):
            object.__setattr__(self, k, v)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("TorchLocalDevice is immutable")

    def fingerprint(self) -> str:
        """Everything that identifies this board for a LUT cache key."""
        return json.dumps({"class": "TorchLocalDevice", "device": self.device, "threads": self.threads,
                           "torch": _torch_version(), "machine": platform.machine(),
                           "processor": platform.processor(), "node": platform.node(),
                           "warmup": self.warmup, "repeats": self.repeats, "statistic": self.statistic, "clock": self.clock},
                          sort_keys=True)

    def time_layer(self, layer: Layer) -> TimingStats:
        return time_callable(layer_op(layer, self.seed, self.device), self.warmup, self.repeats, self.threads,
                             self.device, self.clock)

    def profile_isolated(self, layer: Layer) -> Any:
        """A :class:`hwsim.devices.base.KernelProfile` whose ``latency_ms`` is the measured median (or min)."""
        from hwsim.devices.base import KernelProfile

        st = self.time_layer(layer)
        ms = st.median_ms if self.statistic == "median" else st.min_ms
        return KernelProfile(layer.name, (layer.name,), self.device, ms, ms, 0.0, 0.0, 0.0,
                             layer.macs, 0.0, 0, 0, None, on_cpu=self.device == "cpu")


@dataclass(frozen=True)
class OpTime:
    """One operator row of a torch.profiler run: total self time over ``calls`` calls (milliseconds)."""

    op: str
    calls: int
    self_ms: float


def profile_ops(module: Any, input_shape: tuple[int, ...], *, threads: int = 1, warmup: int = 3,
                seed: int = 0) -> tuple[OpTime, ...]:
    """Per-operator self CPU time of one forward pass (after warm-up) from ``torch.profiler``, largest first."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    _check_settings(warmup, 1, threads, "cpu")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((1, *input_shape), generator=g)
    module = module.eval()
    with fixed_threads(threads), torch.inference_mode():
        for _ in range(warmup):
            module(x)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            module(x)
    rows = [OpTime(str(e.key), int(e.count), float(e.self_cpu_time_total) / 1e3) for e in prof.key_averages()]
    return tuple(sorted(rows, key=lambda r: (-r.self_ms, r.op)))


__all__ = ["BoardError", "OpTime", "TimingStats", "TorchLocalDevice", "fixed_threads", "layer_op",
           "measure_module", "profile_ops", "time_callable"]
