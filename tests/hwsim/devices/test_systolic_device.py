"""The systolic-array adapter: compute cycles come from hwsim.systolic.simulate_layer, unchanged."""

from __future__ import annotations

import pytest

from hwsim.devices import DeviceError, get_device
from hwsim.devices.base import isolated_kernel
from hwsim.devices.systolic_device import SystolicDeviceConfig, systolic_kernel_cost
from hwsim.workload import Conv2d, Linear, NetworkBuilder

systolic = pytest.importorskip("hwsim.systolic.simulate")


def test_cycles_come_from_systolic_simulator():
    from hwsim.systolic.config import preset

    cfg = SystolicDeviceConfig(preset="scalesim_32x32", clock_mhz=500.0)
    for layer, repeats in ((Conv2d("c", 16, 32, 14, 14, 3, 3, 1, 1, 1, 1), 1),
                           (Conv2d("dw", 8, 8, 10, 10, 3, 3, 1, 1, 1, 1, groups=8), 8),
                           (Linear("fc", (64,), 10), 1)):
        ref = systolic.simulate_layer(preset("scalesim_32x32"), layer, engine="analytical")
        cost = systolic_kernel_cost(cfg, isolated_kernel(layer))
        assert cost.compute_cycles == ref.compute_cycles * repeats
        assert cost.unit == "array-" + preset("scalesim_32x32").dataflow
        # energy: EnergyTable defaults over MACs, the simulator's SRAM accesses and the DRAM bytes
        from hwsim.systolic.energy import EnergyTable

        t = EnergyTable()
        sram = repeats * ((ref.ifmap_sram_reads + ref.filter_sram_reads) * t.sram_read_pj
                          + ref.ofmap_sram_writes * t.sram_write_pj)
        dram = (cost.dram_read_bytes + cost.dram_write_bytes) * t.dram_read_pj
        assert cost.energy_pj == pytest.approx(layer.macs * t.mac_pj + sram + dram)
    assert cfg.peak_macs_per_cycle == 32 * 32


def test_memory_engine_gives_same_compute_cycles():
    layer = Conv2d("c", 16, 32, 14, 14, 3, 3, 1, 1, 1, 1)
    a = systolic_kernel_cost(SystolicDeviceConfig(engine="analytical"), isolated_kernel(layer))
    m = systolic_kernel_cost(SystolicDeviceConfig(engine="memory"), isolated_kernel(layer))
    assert a.compute_cycles == m.compute_cycles


def test_unmappable_layer_error_or_cpu():
    b = NetworkBuilder("dil", (8, 16, 16))
    b.conv(b.input, 8, 3, padding=2, dilation=2, name="d")
    net = b.build()
    dev = get_device("systolic-tpu-like")
    with pytest.raises(DeviceError, match="layer 'd' .*dilation"):
        dev.profile(net)
    import dataclasses

    fb = dev.with_mechanisms(dataclasses.replace(dev.mechanisms, cpu_fallback=True))
    assert fb.profile(net).kernels[0].on_cpu


def test_bad_config():
    with pytest.raises(DeviceError, match="systolic.preset must be one of scalesim_32x32, scalesim_128x128, tpu_v1, got 'nope'"):
        SystolicDeviceConfig(preset="nope")
    with pytest.raises(DeviceError, match="engine"):
        SystolicDeviceConfig(engine="cycle")
    with pytest.raises(DeviceError, match="clock_mhz must be positive"):
        SystolicDeviceConfig(clock_mhz=-1.0)
