"""NVDLA-style engine: an atomic-C x atomic-K MAC array (weight-stationary per atomic operation), with the
single-point (SDP) and planar (PDP) data processors and a convolution buffer (CBUF).

Direct convolution (NVDLA hardware architecture spec, "Convolution Core"): each cycle the MAC array takes an
atomic cube of ``atomic_c`` input channels of one input pixel and multiplies it with ``atomic_k`` kernels, so a
conv takes ``groups * E * F * R * S * ceil(C_g / atomic_c) * ceil(M_g / atomic_k)`` cycles. Grouped and depthwise
convolutions waste the array (one channel per group): that is the template's characteristic weakness.
Batch norm, activations and a residual add fused into the conv run in the SDP on the fly; a fused pooling
runs in the PDP on the fly (the kernel takes the longer of conv and pooling). Standalone element-wise layers run
in the SDP at ``sdp_elements_per_cycle`` and pooling in the PDP at ``pdp_elements_per_cycle`` (window elements).
The CBUF is split evenly between data and weights for the re-read model.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

from hwsim.devices.base import Kernel, KernelCost, buffered_traffic, ceil_div
from hwsim.devices.params import non_negative, positive
from hwsim.devices.template import TemplateConfig, gbps_to_bytes_per_cycle, layer_cost_rules
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


@dataclass(frozen=True)
class NvdlaConfig(TemplateConfig):
    """NVDLA-style engine: ``atomic_c`` x ``atomic_k`` MACs per cycle at ``clock_mhz``; ``cbuf_kib`` conv
    buffer; ``sdp_elements_per_cycle`` / ``pdp_elements_per_cycle`` post-processing rates; DRAM
    ``bandwidth_gbps``; optional energy per MAC and per DRAM byte (pJ)."""

    kind: ClassVar[str] = "nvdla"

    atomic_c: int = positive(64, int, "channels", doc="input channels per atomic operation")
    atomic_k: int = positive(32, int, "kernels", doc="output kernels per atomic operation")
    clock_mhz: float = positive(1000.0, float, "MHz", doc="engine clock")
    cbuf_kib: float = positive(512.0, float, "KiB", doc="convolution buffer (half data, half weights)")
    sdp_elements_per_cycle: int = positive(16, int, "elements/cycle", doc="single-point processor rate")
    pdp_elements_per_cycle: int = positive(8, int, "elements/cycle", doc="planar processor rate")
    bandwidth_gbps: float = positive(25.6, float, "GB/s", doc="DRAM bandwidth")
    bytes_per_element: int = positive(1, int, "bytes", doc="data word width")
    pj_per_mac: float | None = non_negative(None, float, "pJ", optional=True, doc="energy per MAC")
    pj_per_dram_byte: float | None = non_negative(None, float, "pJ", optional=True, doc="energy per DRAM byte")

    @property
    def peak_macs_per_cycle(self) -> float:
        return float(self.atomic_c * self.atomic_k)

    @property
    def dram_bytes_per_cycle(self) -> float:
        return gbps_to_bytes_per_cycle(self.bandwidth_gbps, self.clock_mhz)

    def unsupported(self, layer: Layer) -> str | None:
        return _unsupported(layer)

    def can_fuse_activation(self, op: str) -> bool:
        return op not in _NO_SDP_ACTIVATIONS

    def kernel_cost(self, kernel: Kernel) -> KernelCost:
        return nvdla_kernel_cost(self, kernel)


#: Activations the SDP has no mode for in this model.
_NO_SDP_ACTIVATIONS = ("softmax", "gelu")


@functools.singledispatch
def _unsupported(layer: Layer) -> str | None:
    """Why NVDLA cannot run ``layer``, one rule per layer kind (default: it can)."""
    return None


@_unsupported.register
def _(layer: MatMul) -> str | None:
    return "NVDLA has no activation-by-activation matrix multiply"


@_unsupported.register
def _(layer: Activation) -> str | None:
    if layer.op in _NO_SDP_ACTIVATIONS:
        return f"activation {layer.op!r} has no SDP lookup-table mode in this model"
    return None


_layer_cycles = layer_cost_rules("NVDLA")
"""(cycles, unit) of ``layer`` alone: ``_layer_cycles(layer, cfg)``, one rule per layer kind."""


@_layer_cycles.register
def _(layer: Conv2d, cfg: NvdlaConfig) -> tuple[float, str]:
    ac, ak = cfg.atomic_c, cfg.atomic_k
    g = layer.groups
    cin, cout = layer.in_channels // g, layer.out_channels // g
    c = g * layer.out_h * layer.out_w * layer.kernel_h * layer.kernel_w * ceil_div(cin, ac) * ceil_div(cout, ak)
    return float(c), "cmac"


@_layer_cycles.register
def _(layer: Linear, cfg: NvdlaConfig) -> tuple[float, str]:
    return float(layer.m * ceil_div(layer.k, cfg.atomic_c) * ceil_div(layer.n, cfg.atomic_k)), "cmac"


@_layer_cycles.register(Pool2d)
@_layer_cycles.register(GlobalPool)
def _(layer: Layer, cfg: NvdlaConfig) -> tuple[float, str]:
    return layer.ops / cfg.pdp_elements_per_cycle, "pdp"


@_layer_cycles.register(Elementwise)
@_layer_cycles.register(Activation)
@_layer_cycles.register(Norm)
def _(layer: Layer, cfg: NvdlaConfig) -> tuple[float, str]:
    return layer.output_elements * max(1, len(layer.input_shapes)) / cfg.sdp_elements_per_cycle, "sdp"


@_layer_cycles.register(Concat)
@_layer_cycles.register(Reshape)
def _(layer: Layer, cfg: NvdlaConfig) -> tuple[float, str]:
    return 0.0, "bdma"


def nvdla_kernel_cost(cfg: NvdlaConfig, kernel: Kernel) -> KernelCost:
    """Cycles and DRAM traffic of one kernel on the NVDLA-style engine (pure)."""
    cycles, unit = _layer_cycles(kernel.anchor, cfg)
    for pool in kernel.members(Pool2d):
        cycles = max(cycles, _layer_cycles(pool, cfg)[0])
    half = cfg.cbuf_kib * 1024 / 2
    t = buffered_traffic(kernel, cfg.bytes_per_element, half, half)
    energy = None
    if cfg.pj_per_mac is not None and cfg.pj_per_dram_byte is not None:
        energy = kernel.macs * cfg.pj_per_mac + (t.read_bytes + t.write_bytes) * cfg.pj_per_dram_byte
    return KernelCost(cycles, t.read_bytes, t.write_bytes, t.weight_bytes, unit, energy)


__all__ = ["NvdlaConfig", "nvdla_kernel_cost"]
