"""DPU model: hand-computed examples, a loop-nest reference for the conv and ALU engines, operator limits, and
the small-kernel mechanisms (ALU parallelism and pass overhead, conv+depthwise / conv+global-pool fusion)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hwsim.devices import AcceleratorDevice, DeviceError, Mechanisms, get_device
from hwsim.devices.base import Kernel, isolated_kernel
from hwsim.devices.dpu import DPU_ARCHS, DpuConfig, dpu_kernel_cost
from hwsim.devices.roofline import RooflineConfig
from hwsim.workload import Conv2d, Linear, Network, NetworkBuilder


def naive_conv_cycles(cfg: DpuConfig, conv: Conv2d) -> float:
    """Walk the engines' schedules tile by tile. Conv engine: one cycle per (row, PP column tile, ICP group, OCP
    group, tap). Depthwise convs run on the ALU: per (ICP channel group, tap, channel multiplier) one pass over
    the output map, one cycle per (row, ALU column tile) plus the pass overhead."""
    pp, icp, ocp = cfg.parallelism
    cycles = 0.0
    if conv.is_depthwise:
        for _c0 in range(0, conv.in_channels, icp):
            for _tap in range(conv.kernel_h * conv.kernel_w * (conv.out_channels // conv.in_channels)):
                cycles += cfg.alu_pass_overhead_cycles
                for _row in range(conv.out_h):
                    for _col0 in range(0, conv.out_w, cfg.alu_pixels):
                        cycles += 1
        return cycles
    cin = conv.in_channels // conv.groups
    for _g in range(conv.groups):
        for _row in range(conv.out_h):
            for _col0 in range(0, conv.out_w, pp):
                for _c0 in range(0, cin, icp):
                    for _k0 in range(0, conv.out_channels // conv.groups, ocp):
                        cycles += conv.kernel_h * conv.kernel_w
    return cycles


def _mbconv_node(cin: int = 48, mid: int = 144, hw: int = 14, k: int = 5) -> Network:
    """1x1 expand conv-BN-ReLU6 then kxk depthwise conv-BN-ReLU6 (ProxylessNAS-Mobile 0.5 node conv_40)."""
    b = NetworkBuilder("mb", (cin, hw, hw))
    x = b.act(b.bn(b.conv(b.input, mid, 1, bias=False, name="expand"), name="bn1"), "relu6", name="a1")
    b.act(b.bn(b.conv(x, mid, k, padding=k // 2, groups=mid, bias=False, name="dw"), name="bn2"), "relu6", name="a2")
    return b.build()


def _head(cin: int = 160, cout: int = 1280, hw: int = 7) -> Network:
    """1x1 head conv-BN-ReLU6 then global average pooling (ProxylessNAS-Mobile 0.5 node conv_61)."""
    b = NetworkBuilder("head", (cin, hw, hw))
    x = b.act(b.bn(b.conv(b.input, cout, 1, bias=False, name="head"), name="bn"), "relu6", name="a")
    b.global_pool(x, name="gap")
    return b.build()


def _with(dev: AcceleratorDevice, **mech: object) -> AcceleratorDevice:
    return dev.with_mechanisms(dataclasses.replace(dev.mechanisms, **mech))


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
    # depthwise on the ALU: AP = PP / 2 = 4 pixels x ICP channels; 2 channel groups x 9 taps = 18 passes over
    # 112 rows x 28 column tiles (no pass overhead in the bare config)
    dw = Conv2d("dw", 32, 32, 112, 112, 3, 3, 1, 1, 1, 1, groups=32)
    cost = dpu_kernel_cost(cfg, isolated_kernel(dw))
    assert cfg.alu_pixels == 4
    assert cost.compute_cycles == 2 * 9 * (112 * 28) == 56_448 and cost.unit == "dwconv"
    fc = Linear("fc", (4096,), 1000)
    cost = dpu_kernel_cost(cfg, isolated_kernel(fc))
    assert cost.compute_cycles == 256 * 63 and cost.unit == "fc"
    assert cost.weight_read_bytes == 4096 * 1000 + 1000


def test_alu_pass_overhead_on_and_off():
    # the preset's ALU pays 10 cycles per (channel group, tap) pass: 18 passes x (3136 + 10) cycles
    dw = Conv2d("dw", 32, 32, 112, 112, 3, 3, 1, 1, 1, 1, groups=32)
    on = get_device("dpu-b4096-zcu102").cost_model
    assert on.alu_pass_overhead_cycles == 10.0
    assert dpu_kernel_cost(on, isolated_kernel(dw)).compute_cycles == 18 * (112 * 28 + 10) == 56_628
    off = dataclasses.replace(on, alu_pass_overhead_cycles=0.0)
    assert dpu_kernel_cost(off, isolated_kernel(dw)).compute_cycles == 56_448
    # on a 7x7 map the overhead dominates: 7x7 depthwise on 576 channels (ProxylessNAS conv_49) =
    # 36 groups x 49 taps x (7 rows x 2 tiles + 10) = 42,336 cycles instead of 24,696
    small = Conv2d("dw7", 576, 576, 7, 7, 7, 7, 1, 1, 3, 3, groups=576)
    assert dpu_kernel_cost(on, isolated_kernel(small)).compute_cycles == 36 * 49 * (14 + 10) == 42_336
    assert dpu_kernel_cost(off, isolated_kernel(small)).compute_cycles == 36 * 49 * 14 == 24_696
    # global average pooling runs on the same ALU: 7x7 window on 1280 channels = 80 groups x 49 taps x (1 + 10)
    b = NetworkBuilder("gap", (1280, 7, 7))
    b.global_pool(b.input, name="gap")
    gap = b.build()["gap"]
    assert dpu_kernel_cost(on, isolated_kernel(gap)).compute_cycles == 80 * 49 * 11 == 43_120
    assert dpu_kernel_cost(off, isolated_kernel(gap)).compute_cycles == 80 * 49 * 1


def test_alu_parallelism_default_explicit_and_limits():
    assert DpuConfig().alu_pixels == 4 and DpuConfig(arch="B512").alu_pixels == 2  # PP // 2
    cfg = DpuConfig(alu_parallelism=8)  # the whole pixel parallelism: twice the default throughput
    dw = Conv2d("dw", 16, 16, 56, 56, 3, 3, 1, 1, 1, 1, groups=16)
    assert dpu_kernel_cost(cfg, isolated_kernel(dw)).compute_cycles == 9 * 56 * 7
    assert dpu_kernel_cost(DpuConfig(), isolated_kernel(dw)).compute_cycles == 9 * 56 * 14
    assert get_device("dpu-b4096-kv260").cost_model.alu_parallelism == 4


def test_mbconv_node_hand_example():
    # ProxylessNAS-Mobile 0.5 node conv_40 on the ZCU102 preset: 1x1 48 -> 144 and 5x5 depthwise on 144 channels
    # at 14x14 run as ONE kernel (fuse_conv_depthwise), the 144 x 14 x 14 map between them stays on chip.
    dev = get_device("dpu-b4096-zcu102")
    (k,) = dev.profile(_mbconv_node()).kernels
    assert k.layers == ("expand", "bn1", "a1", "dw", "bn2", "a2")
    # conv engine: 14 rows x 2 tiles x 3 ICP x 9 OCP groups = 756 cycles; ALU: 9 channel groups x 25 taps x
    # (14 rows x ceil(14 / 4) tiles + 10) = 14,850 cycles; the depthwise runs after the conv: 15,606 cycles
    assert k.compute_ms * 281e3 == pytest.approx(756 + 14_850)
    # traffic: input 48 x 196 + weights (48 x 144 + 144 x 25 + 2 x 2 x 144 BN) in, 144 x 196 out
    assert (k.dram_read_bytes, k.dram_write_bytes) == (9408 + 6912 + 3600 + 576, 28_224)
    assert k.memory_ms * 281e3 == pytest.approx((20_496 + 28_224) / (32 * 0.79))  # 1,927 cycles: compute bound
    # 5869 overhead cycles + 15,606 = 21,475 cycles at 281 MHz = 0.07642 ms; the board measured 0.079 ms
    assert k.latency_ms == pytest.approx((5869 + 15_606) / 281e3)


def test_fuse_conv_depthwise_on_and_off():
    dev = get_device("dpu-b4096-zcu102")
    assert dev.mechanisms.fuse_conv_depthwise
    net = _mbconv_node()
    off = _with(dev, fuse_conv_depthwise=False)
    assert [k.layer_names for k in off.kernels(net)] == [("expand", "bn1", "a1"), ("dw", "bn2", "a2")]
    a, b = off.profile(net).kernels
    # expand: (5869 + max(756, (16,608 + 28,224) / 25.28 B per cycle)) cycles; the 28,224-byte map goes to DRAM
    # and comes back for the depthwise kernel, which also pays its own overhead
    assert a.dram_write_bytes == b.dram_read_bytes - 3600 - 288 == 28_224
    assert a.latency_ms == pytest.approx((5869 + (16_608 + 28_224) / 25.28) / 281e3)
    assert b.latency_ms == pytest.approx((5869 + 14_850) / 281e3)
    fused = dev.profile(net).kernels[0].latency_ms
    assert fused == pytest.approx(b.latency_ms + 756 / 281e3) and fused < a.latency_ms + b.latency_ms
    # a depthwise conv whose producer feeds another consumer too stays a kernel of its own
    g = NetworkBuilder("two", (16, 8, 8))
    x = g.relu(g.conv(g.input, 16, 1, name="c"), name="r")
    g.eltwise("add", g.conv(x, 16, 3, padding=1, groups=16, name="dw"), x, name="add")
    assert ("dw",) in [k.layer_names[:1] for k in dev.kernels(g.build())]


def test_fuse_conv_global_pool_on_and_off():
    dev = get_device("dpu-b4096-zcu102")
    assert dev.mechanisms.fuse_conv_global_pool
    net = _head()
    (k,) = dev.profile(net).kernels  # ProxylessNAS-Mobile 0.5 node conv_61 (the pool has no node of its own)
    assert k.layers == ("head", "bn", "a", "gap")
    # max(conv 7 x 1 x 10 x 80 = 5600, ALU 80 x 49 x (1 + 10) = 43,120) cycles (pooling is pipelined behind the
    # conv); only the pooled 1280 B are written
    assert k.compute_ms * 281e3 == pytest.approx(43_120)
    assert (k.dram_read_bytes, k.dram_write_bytes) == (7840 + 204_800 + 2560, 1280)
    assert k.latency_ms == pytest.approx((5869 + 43_120) / 281e3)  # 0.1743 ms; the board measured 0.170 ms
    off = _with(dev, fuse_conv_global_pool=False)
    assert [k.layer_names for k in off.kernels(net)] == [("head", "bn", "a"), ("gap",)]
    conv, gap = off.profile(net).kernels
    assert conv.dram_write_bytes == gap.dram_read_bytes == 1280 * 49
    assert conv.latency_ms + gap.latency_ms > k.latency_ms


def test_residual_add_kernel_on_the_presets_and_fused_when_switched_on():
    # the zoo presets keep the add as a kernel of its own; with fuse_conv_eltwise (the DNNDK build of the
    # ProxylessNAS profile) the add reads the shortcut from DRAM inside the project conv's kernel
    dev = get_device("dpu-b4096-zcu102")
    assert not dev.mechanisms.fuse_conv_eltwise
    b = NetworkBuilder("res", (24, 28, 28))
    x = b.relu(b.bn(b.conv(b.input, 72, 1, name="e"), name="bn_e"), name="r")
    y = b.bn(b.conv(x, 24, 1, name="p"), name="bn_p")
    b.eltwise("add", y, b.input, name="add")
    assert [k.layer_names for k in dev.kernels(b.build())][-2:] == [("p", "bn_p"), ("add",)]
    ks = _with(dev, fuse_conv_eltwise=True).kernels(b.build())
    assert [k.layer_names for k in ks] == [("e", "bn_e", "r"), ("p", "bn_p", "add")]
    assert ks[1].input_elements == 72 * 784 + 24 * 784


def test_templates_without_a_side_engine_keep_depthwise_kernels():
    dev = AcceleratorDevice("r", RooflineConfig(), Mechanisms(fuse_conv_depthwise=True, fuse_conv_global_pool=True))
    assert [k.layer_names[0] for k in dev.kernels(_mbconv_node())] == ["expand", "dw"]
    assert [k.layer_names[0] for k in dev.kernels(_head())] == ["head", "gap"]
    for name in ("eyeriss-v1", "nvdla-small", "systolic-tpu-like"):
        assert not get_device(name).cost_model.can_fuse_into_conv(_mbconv_node()["dw"])


@pytest.mark.parametrize("seed", range(3))
def test_conv_cycles_match_loop_nest(seed):
    rng = np.random.default_rng(seed)
    for arch in DPU_ARCHS:
        cfg = DpuConfig(arch=arch, alu_pass_overhead_cycles=float(rng.choice([0.0, 11.0, 2.5])))
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
    ("bandwidth_efficiency", 1.5, r"bandwidth_efficiency must be in \(0, 1\], got 1.5"),
    ("cores", 0, "cores must be positive"),
    ("alu_parallelism", 9, "alu_parallelism must be <= the pixel parallelism 8"),
    ("alu_parallelism", 0, "alu_parallelism must be positive"),
    ("alu_pass_overhead_cycles", -1.0, "alu_pass_overhead_cycles must be non-negative"),
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
