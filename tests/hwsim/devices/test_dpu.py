"""DPU model: hand-computed examples, a loop-nest reference for the conv engine, operator limits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hwsim.devices import AcceleratorDevice, DeviceError, Mechanisms, get_device
from hwsim.devices.base import Kernel, isolated_kernel
from hwsim.devices.dpu import DPU_ARCHS, DpuConfig, dpu_kernel_cost
from hwsim.workload import Conv2d, Linear, NetworkBuilder


def naive_conv_cycles(cfg: DpuConfig, conv: Conv2d) -> int:
    """Walk the engine's schedule tile by tile: one cycle per (row, PP column tile, ICP group, OCP group, tap)."""
    pp, icp, ocp = cfg.parallelism
    cycles = 0
    groups = 1 if conv.is_depthwise else conv.groups
    cin = conv.in_channels if conv.is_depthwise else conv.in_channels // conv.groups
    cout_tiles = conv.out_channels // conv.in_channels if conv.is_depthwise else None
    for _g in range(groups):
        for _row in range(conv.out_h):
            for _col0 in range(0, conv.out_w, pp):
                for _c0 in range(0, cin, icp):
                    if cout_tiles is not None:  # depthwise: the OCP dimension is idle
                        cycles += conv.kernel_h * conv.kernel_w * cout_tiles
                        continue
                    for _k0 in range(0, conv.out_channels // conv.groups, ocp):
                        cycles += conv.kernel_h * conv.kernel_w
    return cycles


def test_parallelism_table():
    for name, (pp, icp, ocp) in DPU_ARCHS.items():
        assert 2 * pp * icp * ocp == int(name[1:])  # Bxxxx = peak ops per cycle
    assert DpuConfig(arch="B4096").peak_macs_per_cycle == 2048


def test_vgg_block_hand_example():
    # VGG-16 block1_conv2: 3x3, 64 -> 64 on 224x224: 224 rows x 28 column tiles x 4 x 4 groups x 9 taps
    cfg = get_device("dpu-b4096-zcu102").cost_model
    conv = Conv2d("c", 64, 64, 224, 224, 3, 3, 1, 1, 1, 1)
    cost = dpu_kernel_cost(cfg, isolated_kernel(conv))
    assert cost.compute_cycles == 224 * 28 * 4 * 4 * 9 == 903_168
    assert cost.unit == "conv"
    # 903168 cycles at 281 MHz = 3.2141 ms; the board's profile reads 3.251 ms (dpu_layer_profiles.csv)
    assert cost.compute_cycles / 281e3 == pytest.approx(3.2141, abs=1e-4)
    # traffic: the 36,864 B of weights fit the 256 KiB weight bank, so the input streams through once
    inp, w = 64 * 224 * 224, 64 * 64 * 9
    assert cost.dram_read_bytes == inp + w
    assert cost.dram_write_bytes == 64 * 224 * 224
    # 1x1, 1024 -> 1024 on 28x28: weights 1 MiB = 4 weight-bank tiles, input 784 KiB = 2 feature-bank tiles;
    # re-reading the weights per input tile (802,816 + 2 x 1,048,576 B) beats re-reading the input 4 times
    big = Conv2d("b", 1024, 1024, 28, 28, 1, 1)
    cost = dpu_kernel_cost(cfg, isolated_kernel(big))
    assert cost.dram_read_bytes == 1024 * 28 * 28 + 2 * 1024 * 1024
    assert cost.weight_read_bytes == 1024 * 1024


def test_first_layer_and_depthwise_and_fc():
    cfg = DpuConfig(clock_mhz=300.0)
    first = Conv2d("c", 3, 64, 224, 224, 3, 3, 1, 1, 1, 1)  # 3 input channels still take a whole ICP group
    assert dpu_kernel_cost(cfg, isolated_kernel(first)).compute_cycles == 224 * 28 * 1 * 4 * 9
    dw = Conv2d("dw", 32, 32, 112, 112, 3, 3, 1, 1, 1, 1, groups=32)  # PP x ICP only
    cost = dpu_kernel_cost(cfg, isolated_kernel(dw))
    assert cost.compute_cycles == 112 * 14 * 2 * 9 and cost.unit == "dwconv"
    fc = Linear("fc", (4096,), 1000)
    cost = dpu_kernel_cost(cfg, isolated_kernel(fc))
    assert cost.compute_cycles == 256 * 63 and cost.unit == "fc"
    assert cost.weight_read_bytes == 4096 * 1000 + 1000


@pytest.mark.parametrize("seed", range(3))
def test_conv_cycles_match_loop_nest(seed):
    rng = np.random.default_rng(seed)
    for arch in DPU_ARCHS:
        cfg = DpuConfig(arch=arch)
        for _ in range(15):
            c = int(rng.integers(1, 70))
            k = int(rng.choice([1, 3, 5]))
            hw = int(rng.integers(k, 30))
            if rng.random() < 0.3:
                conv = Conv2d("c", c, c * int(rng.integers(1, 3)), hw, hw, k, k, 1, 1, k // 2, k // 2, groups=c)
            else:
                g = int(rng.choice([1, 1, 2])) if c % 2 == 0 else 1
                out = g * int(rng.integers(1, 40))
                conv = Conv2d("c", c, out, hw, hw, k, k, int(rng.integers(1, 3)), 1, k // 2, k // 2, groups=g)
            got = dpu_kernel_cost(cfg, isolated_kernel(conv)).compute_cycles
            assert got == naive_conv_cycles(cfg, conv), (arch, conv)


def test_memory_bound_fc_matches_alexnet_profile():
    # AlexNet fc6 (9216 x 4096 int8 weights) is weight-streaming bound: the profile says 5.327 ms on ZCU102
    dev = get_device("dpu-b4096-zcu102")
    p = dev.profile_isolated(Linear("fc6", (9216,), 4096))
    assert p.bound == "memory"
    assert p.latency_ms == pytest.approx(5.327, rel=0.02)


def test_fused_pool_is_pipelined():
    cfg = DpuConfig()
    b = NetworkBuilder("cp", (64, 56, 56))
    x = b.relu(b.conv(b.input, 64, 3, padding=1, name="c"), name="r")
    b.pool(x, "max", 2, 2, name="p")
    net = b.build()
    k = Kernel("c", (net["c"], net["r"], net["p"]), 64 * 56 * 56, 64 * 28 * 28)
    assert dpu_kernel_cost(cfg, k).compute_cycles == dpu_kernel_cost(cfg, isolated_kernel(net["c"])).compute_cycles


# --- bad input ---------------------------------------------------------------------------------------------
def _dw_net(kernel: int):
    b = NetworkBuilder("bigdw", (16, 40, 40))
    x = b.conv(b.input, 16, kernel, padding=kernel // 2, groups=16, name="dw")
    b.conv(x, 32, 1, name="pw")
    return b.build()


def test_depthwise_kernel_above_limit_is_an_error_or_cpu_kernel():
    dev = get_device("dpu-b4096-zcu102")
    strict = dev.with_mechanisms(dataclasses.replace(dev.mechanisms, cpu_fallback=False))
    with pytest.raises(DeviceError, match=r"layer 'dw' \(conv2d\): depthwise kernel 17x17 .* exceeds the DPU limit 16") as e:
        strict.profile(_dw_net(17))
    assert "\n" not in str(e.value)
    prof = dev.profile(_dw_net(17))  # the preset falls back to the CPU, as the Vitis AI compiler does
    assert [(k.name, k.on_cpu, k.unit) for k in prof.kernels] == [("dw", True, "cpu"), ("pw", False, "conv")]
    assert not any(k.on_cpu for k in dev.profile(_dw_net(15)).kernels)
    with pytest.raises(DeviceError, match="depthwise kernel"):
        strict.profile_isolated(_dw_net(17)["dw"])


def test_unsupported_ops_listed():
    cfg = DpuConfig()
    b = NetworkBuilder("u", (8, 4, 4))
    x = b.act(b.input, "gelu", name="g")
    y = b.reshape(x, (8, 16), name="rs")
    b.matmul(y, b.reshape(x, (16, 8), name="rt"), name="mm")
    net = b.build()
    assert "gelu" in cfg.unsupported(net["g"])
    assert "matrix multiply" in cfg.unsupported(net["mm"])


@pytest.mark.parametrize("field,value,match", [
    ("clock_mhz", -281.0, "clock_mhz must be positive"),
    ("ddr_bandwidth_gbps", -1.0, "ddr_bandwidth_gbps must be positive"),
    ("arch", "B9999", "dpu.arch must be one of"),
    ("bandwidth_efficiency", 1.5, "<= 1"),
    ("cores", 0, "cores must be positive"),
])
def test_bad_config(field, value, match):
    with pytest.raises(DeviceError, match=match):
        DpuConfig(**{field: value})


def test_presets_clocks_and_bandwidth():
    z102, z104, kv = (get_device(n).cost_model for n in ("dpu-b4096-zcu102", "dpu-b4096-zcu104", "dpu-b4096-kv260"))
    assert (z102.clock_mhz, z104.clock_mhz, kv.clock_mhz) == (281.0, 300.0, 300.0)
    assert (z102.cores, z104.cores, kv.cores) == (3, 2, 1)
    # 32 B/cycle x 281 MHz x 0.79 = 7.10 GB/s (the AlexNet fc6/fc7 weight-stream rate)
    assert z102.dram_bytes_per_cycle * 281e6 / 1e9 == pytest.approx(7.10, abs=0.01)
    for cfg in (z102, z104, kv):
        assert set(cfg.provenance) >= {"arch", "clock_mhz", "bandwidth_efficiency", "axi_bytes_per_cycle"}
        assert all(v.split(":")[0] in ("public", "fitted", "assumed") for v in cfg.provenance.values())


def test_dpu_device_is_immutable():
    dev = AcceleratorDevice("d", DpuConfig(), Mechanisms())
    with pytest.raises(AttributeError):
        dev.name = "x"  # type: ignore[misc]
