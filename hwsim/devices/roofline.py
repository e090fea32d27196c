"""The simplest reference device: a roofline with a peak MAC rate, a vector rate and one DRAM bandwidth.

A kernel takes ``max(macs / macs_per_cycle + ops / ops_per_cycle, bytes / bandwidth)`` (plus the shared
per-kernel overhead); traffic is every activation crossing the kernel boundary plus the weights, once.
Energy, when ``pj_per_mac`` and ``pj_per_dram_byte`` are given, is ``macs * pj_per_mac + bytes * pj_per_dram_byte``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hwsim.devices.base import Kernel, KernelCost, _check_number
from hwsim.workload import Layer


@dataclass(frozen=True)
class RooflineConfig:
    """Peak compute ``macs_per_cycle`` (MAC/cycle) and ``ops_per_cycle`` (non-MAC element ops/cycle) at
    ``clock_mhz``; DRAM ``bandwidth_gbps`` (GB/s); ``bytes_per_element`` of activations and weights;
    optional energy per MAC and per DRAM byte (picojoules)."""

    clock_mhz: float = 1000.0
    macs_per_cycle: float = 1024.0
    ops_per_cycle: float = 256.0
    bandwidth_gbps: float = 25.6
    bytes_per_element: int = 1
    pj_per_mac: float | None = None
    pj_per_dram_byte: float | None = None
    provenance: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for name in ("clock_mhz", "macs_per_cycle", "ops_per_cycle", "bandwidth_gbps"):
            _check_number("roofline", name, getattr(self, name), positive=True)
        _check_number("roofline", "bytes_per_element", self.bytes_per_element, positive=True, integer=True)
        for name in ("pj_per_mac", "pj_per_dram_byte"):
            if getattr(self, name) is not None:
                _check_number("roofline", name, getattr(self, name))

    @property
    def peak_macs_per_cycle(self) -> float:
        return self.macs_per_cycle

    @property
    def dram_bytes_per_cycle(self) -> float:
        return self.bandwidth_gbps * 1e3 / self.clock_mhz

    @property
    def static_power_mw(self) -> float | None:
        return None

    def unsupported(self, layer: Layer) -> str | None:
        return None

    def can_fuse_activation(self, op: str) -> bool:
        return True

    def can_fuse_into_conv(self, layer: Layer) -> bool:
        return False  # no side engine: depthwise convs and global pools stay kernels of their own

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
