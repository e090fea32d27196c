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

from dataclasses import dataclass
from typing import ClassVar

from hwsim.devices.base import DeviceError, Kernel, KernelCost, buffered_traffic, ceil_div
from hwsim.devices.params import non_negative, positive
from hwsim.devices.template import TemplateConfig, gbps_to_bytes_per_cycle
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
        if isinstance(layer, MatMul):
            return "NVDLA has no activation-by-activation matrix multiply"
        if isinstance(layer, Activation) and layer.op in ("softmax", "gelu"):
            return f"activation {layer.op!r} has no SDP lookup-table mode in this model"
        return None

    def can_fuse_activation(self, op: str) -> bool:
        return op not in ("softmax", "gelu")

    def kernel_cost(self, kernel: Kernel) -> KernelCost:
        return nvdla_kernel_cost(self, kernel)


def _cycles(cfg: NvdlaConfig, layer: Layer) -> tuple[float, str]:
    ac, ak = cfg.atomic_c, cfg.atomic_k
    if isinstance(layer, Conv2d):
        g = layer.groups
        cin, cout = layer.in_channels // g, layer.out_channels // g
        c = g * layer.out_h * layer.out_w * layer.kernel_h * layer.kernel_w * ceil_div(cin, ac) * ceil_div(cout, ak)
        return float(c), "cmac"
    if isinstance(layer, Linear):
        return float(layer.m * ceil_div(layer.k, ac) * ceil_div(layer.n, ak)), "cmac"
    if isinstance(layer, (Pool2d, GlobalPool)):
        return layer.ops / cfg.pdp_elements_per_cycle, "pdp"
    if isinstance(layer, (Elementwise, Activation, Norm)):
        return layer.output_elements * max(1, len(layer.input_shapes)) / cfg.sdp_elements_per_cycle, "sdp"
    if isinstance(layer, (Concat, Reshape)):
        return 0.0, "bdma"
    raise DeviceError(f"layer {layer.name!r}: the NVDLA model has no cost for kind {layer.kind!r}")


def nvdla_kernel_cost(cfg: NvdlaConfig, kernel: Kernel) -> KernelCost:
    """Cycles and DRAM traffic of one kernel on the NVDLA-style engine (pure)."""
    cycles, unit = _cycles(cfg, kernel.anchor)
    for pool in kernel.members(Pool2d):
        cycles = max(cycles, _cycles(cfg, pool)[0])
    half = cfg.cbuf_kib * 1024 / 2
    t = buffered_traffic(kernel, cfg.bytes_per_element, half, half)
    energy = None
    if cfg.pj_per_mac is not None and cfg.pj_per_dram_byte is not None:
        energy = kernel.macs * cfg.pj_per_mac + (t.read_bytes + t.write_bytes) * cfg.pj_per_dram_byte
    return KernelCost(cycles, t.read_bytes, t.write_bytes, t.weight_bytes, unit, energy)


__all__ = ["NvdlaConfig", "nvdla_kernel_cost"]
