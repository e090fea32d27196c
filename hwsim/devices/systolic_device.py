"""The systolic array of :mod:`hwsim.systolic` (SCALE-Sim model) as a :class:`~hwsim.devices.base.Device`.

Compute cycles of a conv/linear/matmul kernel are the stall-free cycles of
:func:`hwsim.systolic.simulate.simulate_layer` (times the ``repeats`` of grouped convs / batched matmuls);
DRAM traffic and stalls come from the shared model of :mod:`hwsim.devices.base` (so the mechanisms behave as
on every other device), with the ifmap/filter SRAM sizes of the systolic config as on-chip buffers and
``ifmap_dram_bandwidth + filter_dram_bandwidth`` words (bytes) per cycle as the DRAM bandwidth.
Layers without MACs run on a vector unit at ``vector_ops_per_cycle`` (SCALE-Sim does not model them).
Energy uses :class:`hwsim.systolic.energy.EnergyTable` (its documented defaults): MACs and the simulator's SRAM
accesses, plus this model's DRAM words; element ops of non-MAC kernels are charged as MACs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from hwsim.devices.base import DeviceError, Kernel, KernelCost, _check_number, buffered_traffic
from hwsim.errors import HwnasError
from hwsim.workload import Concat, Conv2d, Layer, Linear, MatMul, Reshape

ENGINES = ("analytical", "memory")


@dataclass(frozen=True)
class SystolicDeviceConfig:
    """``preset``: a :func:`hwsim.systolic.config.preset` name; ``engine``: ``analytical`` or ``memory``
    (compute cycles are stall-free with either); ``clock_mhz``: array clock; ``vector_ops_per_cycle``: non-MAC
    element ops per cycle."""

    preset: str = "scalesim_32x32"
    engine: str = "analytical"
    clock_mhz: float = 1000.0
    vector_ops_per_cycle: int = 32
    bytes_per_element: int = 1
    provenance: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _check_number("systolic", "clock_mhz", self.clock_mhz, positive=True)
        _check_number("systolic", "vector_ops_per_cycle", self.vector_ops_per_cycle, positive=True, integer=True)
        if self.bytes_per_element != 1:
            raise DeviceError(f"systolic.bytes_per_element must be 1 (SCALE-Sim words), got {self.bytes_per_element!r}")
        if self.engine not in ENGINES:
            raise DeviceError(f"systolic.engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        _ = self.array  # validate the preset name now

    @cached_property
    def array(self):  # noqa: ANN201 - SystolicConfig, imported lazily
        """The :class:`hwsim.systolic.config.SystolicConfig` of ``preset``."""
        from hwsim.systolic.config import preset

        try:
            return preset(self.preset)
        except HwnasError as e:
            raise DeviceError(f"systolic.preset: {e}") from None

    @property
    def peak_macs_per_cycle(self) -> float:
        return float(self.array.num_pes)

    @property
    def dram_bytes_per_cycle(self) -> float:
        ifmap, filt, _ = self.array.effective_dram_bandwidths()
        return float(ifmap + filt)

    @property
    def static_power_mw(self) -> float | None:
        return None

    def unsupported(self, layer: Layer) -> str | None:
        if isinstance(layer, (Conv2d, Linear, MatMul)):
            from hwsim.systolic.topology import scalesim_view

            try:
                scalesim_view(layer)
            except HwnasError as e:
                return str(e)
        return None

    def can_fuse_activation(self, op: str) -> bool:
        return True

    def can_fuse_into_conv(self, layer: Layer) -> bool:
        return False  # no side engine: depthwise convs and global pools stay kernels of their own

    def kernel_cost(self, kernel: Kernel) -> KernelCost:
        return systolic_kernel_cost(self, kernel)


def systolic_kernel_cost(cfg: SystolicDeviceConfig, kernel: Kernel) -> KernelCost:
    """Stall-free array cycles (from :mod:`hwsim.systolic`) and DRAM traffic of one kernel."""
    from hwsim.systolic.energy import EnergyTable
    from hwsim.systolic.simulate import simulate_layer
    from hwsim.systolic.topology import scalesim_view

    anchor = kernel.anchor
    if isinstance(anchor, (Conv2d, Linear, MatMul)):
        res = simulate_layer(cfg.array, anchor, engine=cfg.engine)
        cycles = float(res.compute_cycles * scalesim_view(anchor).repeats)
        extra = sum(m.ops for m in kernel.layers[1:])
        cycles = max(cycles, extra / cfg.vector_ops_per_cycle)
        unit = f"array-{cfg.array.dataflow}"
    elif isinstance(anchor, (Concat, Reshape)):
        cycles, unit = 0.0, "dma"
    else:
        cycles, unit = kernel.ops / cfg.vector_ops_per_cycle, "vector"
    a = cfg.array
    t = buffered_traffic(kernel, 1, a.ifmap_sram_kb * 1024, a.filter_sram_kb * 1024)
    table = EnergyTable()
    energy = (kernel.macs + kernel.ops) * table.mac_pj
    energy += t.read_bytes * table.dram_read_pj + t.write_bytes * table.dram_write_pj
    if isinstance(anchor, (Conv2d, Linear, MatMul)):
        reps = scalesim_view(anchor).repeats
        energy += reps * ((res.ifmap_sram_reads + res.filter_sram_reads) * table.sram_read_pj
                          + res.ofmap_sram_writes * table.sram_write_pj)
    return KernelCost(cycles, t.read_bytes, t.write_bytes, t.weight_bytes, unit, energy)


__all__ = ["SystolicDeviceConfig", "systolic_kernel_cost"]
