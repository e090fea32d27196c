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

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

from hwsim.devices.base import LAYOUT_LAYERS, MAC_LAYERS, DeviceError, Kernel, KernelCost, buffered_traffic
from hwsim.devices.params import param, positive
from hwsim.devices.template import TemplateConfig
from hwsim.errors import HwnasError
from hwsim.workload import Layer

# Copies of hwsim.systolic's PRESETS, DATAFLOWS and ENGINES (importing hwsim.systolic loads Numba; the device
# layer stays light until a systolic kernel is costed). tests/hwsim/devices/test_params.py checks they agree.
SYSTOLIC_PRESETS = ("scalesim_32x32", "scalesim_128x128", "tpu_v1")
DATAFLOWS = ("os", "ws", "is")
ENGINES = ("analytical", "memory")

#: Inline array parameter -> the :class:`hwsim.systolic.config.SystolicConfig` field it overrides.
_ARRAY_FIELDS = {"array_rows": "array_rows", "array_cols": "array_cols", "dataflow": "dataflow",
                 "ifmap_sram_kib": "ifmap_sram_kb", "filter_sram_kib": "filter_sram_kb",
                 "ofmap_sram_kib": "ofmap_sram_kb"}


@dataclass(frozen=True)
class SystolicDeviceConfig(TemplateConfig):
    """``preset``: a :func:`hwsim.systolic.config.preset` name, the array the inline parameters start from;
    ``array_rows`` .. ``dram_bandwidth`` (unset: the preset's value) override it: PE rows and columns, dataflow,
    the three SRAM sizes (KiB of 1-byte words) and the DRAM bandwidth of each of the ifmap, filter and ofmap
    interfaces (words/cycle; setting it selects SCALE-Sim's USER bandwidth mode); ``engine``: ``analytical`` or
    ``memory`` (compute cycles are stall-free with either); ``clock_mhz``: array clock; ``vector_ops_per_cycle``:
    non-MAC element ops per cycle; ``bytes_per_element``: word size (SCALE-Sim models 1-byte words only)."""

    kind: ClassVar[str] = "systolic"

    preset: str = param("scalesim_32x32", str, choices=SYSTOLIC_PRESETS,
                        doc="hwsim.systolic preset the inline array parameters override")
    engine: str = param("analytical", str, choices=ENGINES, doc="hwsim.systolic engine for the compute cycles")
    clock_mhz: float = positive(1000.0, float, "MHz", doc="array clock")
    vector_ops_per_cycle: int = positive(32, int, "ops/cycle", doc="non-MAC element ops per cycle")
    bytes_per_element: int = param(1, int, "bytes", choices=(1,), doc="word size (SCALE-Sim: 1 byte)")
    array_rows: int | None = positive(None, int, "PEs", optional=True, doc="PE rows (unset: the preset's)")
    array_cols: int | None = positive(None, int, "PEs", optional=True, doc="PE columns (unset: the preset's)")
    dataflow: str | None = param(None, str, choices=DATAFLOWS, optional=True,
                                 doc="output/weight/input stationary (unset: the preset's)")
    ifmap_sram_kib: int | None = positive(None, int, "KiB", optional=True, doc="ifmap SRAM (unset: the preset's)")
    filter_sram_kib: int | None = positive(None, int, "KiB", optional=True, doc="filter SRAM (unset: the preset's)")
    ofmap_sram_kib: int | None = positive(None, int, "KiB", optional=True, doc="ofmap SRAM (unset: the preset's)")
    dram_bandwidth: int | None = positive(None, int, "words/cycle", optional=True,
                                          doc="DRAM bandwidth of each SRAM interface (unset: the preset's)")

    def validate(self) -> None:
        _ = self.array  # resolve the preset and the overrides now

    @cached_property
    def array(self):  # noqa: ANN201 - SystolicConfig, imported lazily
        """The :class:`hwsim.systolic.config.SystolicConfig` of ``preset`` with the inline parameters applied."""
        from hwsim.systolic.config import preset

        try:
            base = preset(self.preset)
            changes = {field_: getattr(self, name) for name, field_ in _ARRAY_FIELDS.items()
                       if getattr(self, name) is not None}
            bw = self.dram_bandwidth
            if bw is not None:
                changes.update(bandwidth_mode="USER", bandwidths=(bw,), ifmap_dram_bandwidth=bw,
                               filter_dram_bandwidth=bw)
            return base.replace(**changes) if changes else base
        except HwnasError as e:
            raise DeviceError(f"systolic.preset {self.preset!r} with the inline array parameters: {e}") from None

    def inline(self) -> SystolicDeviceConfig:
        """The same array with every inline parameter set explicitly (from the preset where unset)."""
        a = self.array
        values = {name: getattr(a, field_) for name, field_ in _ARRAY_FIELDS.items()}
        ifmap, filt, ofmap = a.effective_dram_bandwidths()
        if not ifmap == filt == ofmap:
            raise DeviceError(f"systolic.preset {self.preset!r}: DRAM bandwidths {ifmap}/{filt}/{ofmap} differ, "
                              f"one dram_bandwidth cannot express them")
        return dataclasses.replace(self, **values, dram_bandwidth=ifmap)

    @property
    def peak_macs_per_cycle(self) -> float:
        return float(self.array.num_pes)

    @property
    def dram_bytes_per_cycle(self) -> float:
        ifmap, filt, _ = self.array.effective_dram_bandwidths()
        return float(ifmap + filt)

    def unsupported(self, layer: Layer) -> str | None:
        if isinstance(layer, MAC_LAYERS):
            from hwsim.systolic.topology import scalesim_view

            try:
                scalesim_view(layer)
            except HwnasError as e:
                return str(e)
        return None

    def kernel_cost(self, kernel: Kernel) -> KernelCost:
        return systolic_kernel_cost(self, kernel)


def systolic_kernel_cost(cfg: SystolicDeviceConfig, kernel: Kernel) -> KernelCost:
    """Array cycles (from :mod:`hwsim.systolic`; in USER bandwidth mode plus the DRAM-prefetch stalls of the
    double-buffered SRAMs, :func:`hwsim.systolic.stall_model.stall_cycles`) and DRAM traffic of one kernel."""
    from hwsim.systolic.energy import EnergyTable
    from hwsim.systolic.simulate import simulate_layer
    from hwsim.systolic.topology import scalesim_view

    anchor = kernel.anchor
    if isinstance(anchor, MAC_LAYERS):
        res = simulate_layer(cfg.array, anchor, engine=cfg.engine)
        stall = 0
        if cfg.array.bandwidth_mode == "USER":
            from hwsim.systolic.stall_model import stall_cycles

            stall = stall_cycles(cfg.array, scalesim_view(anchor).job).stall_cycles
        cycles = float((res.compute_cycles + stall) * scalesim_view(anchor).repeats)
        extra = sum(m.ops for m in kernel.layers[1:])
        cycles = max(cycles, extra / cfg.vector_ops_per_cycle)
        unit = f"array-{cfg.array.dataflow}"
    elif isinstance(anchor, LAYOUT_LAYERS):
        cycles, unit = 0.0, "dma"
    else:
        cycles, unit = kernel.ops / cfg.vector_ops_per_cycle, "vector"
    a = cfg.array
    t = buffered_traffic(kernel, 1, a.ifmap_sram_kb * 1024, a.filter_sram_kb * 1024)
    table = EnergyTable()
    energy = (kernel.macs + kernel.ops) * table.mac_pj
    energy += t.read_bytes * table.dram_read_pj + t.write_bytes * table.dram_write_pj
    if isinstance(anchor, MAC_LAYERS):
        reps = scalesim_view(anchor).repeats
        energy += reps * ((res.ifmap_sram_reads + res.filter_sram_reads) * table.sram_read_pj
                          + res.ofmap_sram_writes * table.sram_write_pj)
    return KernelCost(cycles, t.read_bytes, t.write_bytes, t.weight_bytes, unit, energy)


__all__ = ["SystolicDeviceConfig", "systolic_kernel_cost"]
