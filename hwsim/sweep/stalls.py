"""How well the systolic template's stall model agrees with the cycle-accurate memory engine, layer by layer.

The sweep (and ``hwnas simulate``) time a systolic kernel as ``max(compute, DRAM traffic / bandwidth)``
(:func:`hwsim.devices.systolic_device.systolic_kernel_cost` + :func:`hwsim.devices.base.time_kernel`), where in
USER bandwidth mode ``compute`` includes the DRAM-prefetch stalls of the fold-level model
:func:`hwsim.systolic.stall_model.stall_cycles`; the
memory engine of :mod:`hwsim.systolic` replays SCALE-Sim's double-buffered scratchpads cycle by cycle
(``quirks="fixed"``: the corrected mode). :func:`stall_agreement` runs both on every (distinct array job of the
given layers, device) and reports the relative difference of the layer's cycles (kernel launch overhead
excluded: the memory engine has none).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hwsim.devices.base import AcceleratorDevice, isolated_kernel, time_kernel
from hwsim.sweep.features import SweepError
from hwsim.workload import Conv2d, Layer, Linear, MatMul


@dataclass(frozen=True)
class StallRow:
    """One (layer, device): ``fast_cycles`` of the template's model, ``engine_cycles`` (total, stalls included)
    and ``engine_stall_cycles`` of the memory engine, ``rel_error = fast / engine - 1``."""

    layer: str
    device: int
    fast_cycles: float
    compute_cycles: float
    engine_cycles: float
    engine_stall_cycles: float
    engine_dram_words: float
    fast_dram_words: float

    @property
    def rel_error(self) -> float:
        return self.fast_cycles / self.engine_cycles - 1.0


def array_layers(layers: Iterable[Layer]) -> list[Layer]:
    """The conv/linear/matmul layers of ``layers`` with distinct shapes (first of each, in order)."""
    from hwsim.sweep.features import layer_key

    seen: dict[tuple, Layer] = {}
    for layer in layers:
        if isinstance(layer, (Conv2d, Linear, MatMul)) and layer.macs:
            seen.setdefault(layer_key(layer), layer)
    return list(seen.values())


def stall_agreement(layers: Sequence[Layer], devices: Sequence[AcceleratorDevice]) -> list[StallRow]:
    """Every layer alone on every device: the template's cycles vs the memory engine's (``quirks="fixed"``)."""
    from hwsim.devices.systolic_device import SystolicDeviceConfig
    from hwsim.systolic.simulate import simulate_layer
    from hwsim.systolic.topology import scalesim_view

    rows = []
    for j, dev in enumerate(devices):
        cm = dev.cost_model
        if not isinstance(cm, SystolicDeviceConfig):
            raise SweepError(f"stall_agreement: device {dev.name!r} is not a systolic array")
        cyc_ms = 1.0 / (cm.clock_mhz * 1e3)
        for layer in layers:
            prof = time_kernel(isolated_kernel(layer), cm, dev.mechanisms, dev.bytes_per_element)
            reps = scalesim_view(layer).repeats
            eng = simulate_layer(cm.array, layer, engine="memory", quirks="fixed")
            rows.append(StallRow(layer.name, j, (prof.latency_ms - prof.overhead_ms) / cyc_ms,
                                 prof.compute_ms / cyc_ms, float(eng.total_cycles * reps),
                                 float(eng.stall_cycles * reps),
                                 float((eng.ifmap_dram_reads + eng.filter_dram_reads + eng.ofmap_dram_writes) * reps),
                                 float(prof.dram_read_bytes + prof.dram_write_bytes)))
    return rows


__all__ = ["StallRow", "array_layers", "stall_agreement"]
