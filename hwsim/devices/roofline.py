"""The simplest reference device: a roofline with a peak MAC rate, a vector rate and one DRAM bandwidth.

A kernel takes ``max(macs / macs_per_cycle + ops / ops_per_cycle, bytes / bandwidth)`` (plus the shared
per-kernel overhead); traffic is every activation crossing the kernel boundary plus the weights, once.
Energy, when ``pj_per_mac`` and ``pj_per_dram_byte`` are given, is ``macs * pj_per_mac + bytes * pj_per_dram_byte``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hwsim.devices.base import Kernel, KernelCost
from hwsim.devices.params import non_negative, positive
from hwsim.devices.template import TemplateConfig, gbps_to_bytes_per_cycle
from hwsim.workload import Layer


@dataclass(frozen=True)
class RooflineConfig(TemplateConfig):
    """Peak compute ``macs_per_cycle`` (MAC/cycle) and ``ops_per_cycle`` (non-MAC element ops/cycle) at
    ``clock_mhz``; DRAM ``bandwidth_gbps`` (GB/s); ``bytes_per_element`` of activations and weights;
    optional energy per MAC and per DRAM byte (picojoules)."""

    kind: ClassVar[str] = "roofline"

    clock_mhz: float = positive(1000.0, float, "MHz", doc="clock")
    macs_per_cycle: float = positive(1024.0, float, "MACs/cycle", doc="peak MAC rate")
    ops_per_cycle: float = positive(256.0, float, "ops/cycle", doc="peak non-MAC element-op rate")
    bandwidth_gbps: float = positive(25.6, float, "GB/s", doc="DRAM bandwidth")
    bytes_per_element: int = positive(1, int, "bytes", doc="data word width")
    pj_per_mac: float | None = non_negative(None, float, "pJ", optional=True, doc="energy per MAC")
    pj_per_dram_byte: float | None = non_negative(None, float, "pJ", optional=True, doc="energy per DRAM byte")

    @property
    def peak_macs_per_cycle(self) -> float:
        return self.macs_per_cycle

    @property
    def dram_bytes_per_cycle(self) -> float:
        return gbps_to_bytes_per_cycle(self.bandwidth_gbps, self.clock_mhz)

    def kernel_cost(self, kernel: Kernel) -> KernelCost:
        return roofline_kernel_cost(self, kernel)


def roofline_kernel_cost(cfg: RooflineConfig, kernel: Kernel) -> KernelCost:
    """Compute cycles and DRAM bytes of one kernel on the roofline (pure)."""
    b = cfg.bytes_per_element
    cycles = kernel.macs / cfg.macs_per_cycle + kernel.ops / cfg.ops_per_cycle
    read = (kernel.input_elements + kernel.params) * b
    write = kernel.output_elements * b
    energy = None
    if cfg.pj_per_mac is not None and cfg.pj_per_dram_byte is not None:
        energy = kernel.macs * cfg.pj_per_mac + (read + write) * cfg.pj_per_dram_byte
    return KernelCost(cycles, float(read), float(write), float(kernel.params * b), "roofline", energy)


__all__ = ["RooflineConfig", "roofline_kernel_cost"]
