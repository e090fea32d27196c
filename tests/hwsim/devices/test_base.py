"""The shared fusion pass, scheduler and the Device invariants, checked on every template."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import textwrap

import pytest

from hwsim.devices import AcceleratorDevice, DeviceError, Mechanisms, get_device
from hwsim.devices.base import KernelProfile, fuse, isolated_kernel, overlap_savings_ms
from hwsim.devices.roofline import RooflineConfig
from hwsim.workload import NetworkBuilder
from hwsim.zoo import get_model

PRESETS = ("dpu-b4096-zcu102", "eyeriss-v1", "nvdla-small", "nvdla-full", "roofline-reference", "systolic-tpu-like")


def _all_on(dev: AcceleratorDevice, host: float = 0.0) -> AcceleratorDevice:
    m = dataclasses.replace(dev.mechanisms, fuse_conv_bn_act=True, fuse_conv_eltwise=True, fuse_conv_pool=True,
                            fuse_layout=True, overlap_weight_load=True, kernel_overhead_cycles=500,
                            shared_bandwidth=True, host_overhead_ms=host, cpu_fallback=True)
    return dev.with_mechanisms(m)


def _nets(resblock, mixed):
    return [resblock, mixed, get_model("resnet18").build_ir((3, 64, 64)),
            get_model("mobilenet_v2").build_ir((3, 64, 64)), get_model("squeezenet1_1").build_ir((3, 64, 64))]


# --- fusion rules ------------------------------------------------------------------------------------
def _dpu_all_fusion() -> AcceleratorDevice:
    dev = get_device("dpu-b4096-zcu102")
    return dev.with_mechanisms(dataclasses.replace(dev.mechanisms, fuse_conv_eltwise=True))


def test_fusion_groups_resblock(resblock):
    dev = _dpu_all_fusion()
    ks = dev.kernels(resblock)
    assert [k.layer_names for k in ks] == [
        ("c1", "bn1", "r1"), ("c2", "bn2"), ("sc", "bnsc", "add", "r2"), ("pool",), ("gap", "flat"), ("fc",)]
    # traffic: the fused add reads the other operand (c2's output) from DRAM besides its own input
    sc = ks[2]
    assert sc.input_elements == 16 * 16 * 16 + 32 * 16 * 16
    assert sc.output_elements == 32 * 16 * 16


def test_each_fusion_switch(resblock):
    dev = _dpu_all_fusion()
    none = dev.with_mechanisms(dev.mechanisms.all_off())
    assert len(none.kernels(resblock)) == len(resblock)
    no_add = dataclasses.replace(dev.mechanisms, fuse_conv_eltwise=False)
    names = [k.layer_names for k in dev.with_mechanisms(no_add).kernels(resblock)]
    assert ("add", "r2") in names and ("sc", "bnsc") in names
    no_bn = dataclasses.replace(dev.mechanisms, fuse_conv_bn_act=False)
    names = [k.layer_names for k in dev.with_mechanisms(no_bn).kernels(resblock)]
    assert ("c1",) in names and ("bn1",) in names
    no_layout = dataclasses.replace(dev.mechanisms, fuse_layout=False)
    names = [k.layer_names for k in dev.with_mechanisms(no_layout).kernels(resblock)]
    assert ("flat",) in names


def test_conv_pool_fusion_and_concat_alias(mixed):
    dev = _dpu_all_fusion()
    ks = {k.name: k for k in dev.kernels(mixed)}
    assert ks["side"].layer_names == ("side", "side_act", "side_pool")
    assert "cat" in ks["pw"].layer_names and "cat" not in [x.name for x in ks["pw"].layers]
    # consumers of an eliminated concat read the whole concatenated tensor
    assert ks["scale"].input_elements == 2 * 32 * 20 * 20
    off = dev.with_mechanisms(dataclasses.replace(dev.mechanisms, fuse_conv_pool=False))
    assert ("side_pool",) in [k.layer_names for k in off.kernels(mixed)]


def test_kernel_order_respects_dependencies():
    # the add joins the operand produced last (conv b); conv a's kernel must run before it
    b = NetworkBuilder("order", (8, 8, 8))
    a = b.conv(b.input, 8, 3, padding=1, name="a")
    c = b.conv(b.input, 8, 3, padding=1, name="b")
    b.eltwise("add", a, c, name="add")
    net = b.build()
    ks = get_device("roofline-reference").with_mechanisms(Mechanisms()).kernels(net)
    assert [k.layer_names for k in ks] == [("a",), ("b", "add")]


def test_every_layer_in_exactly_one_kernel(resblock, mixed):
    for net in _nets(resblock, mixed):
        for name in PRESETS:
            dev = _all_on(get_device(name))
            seen = [n for k in dev.kernels(net) for n in k.layer_names]
            assert sorted(seen) == sorted(layer.name for layer in net.layers), (name, net.name)


# --- scheduler -------------------------------------------------------------------------------------------
def _row(name: str, compute: float, memory: float, weight: float) -> KernelProfile:
    return KernelProfile(name, (name,), "x", max(compute, memory), compute, memory, weight, 0.0, 0, 0.0, 0, 0, None)


def test_overlap_savings_hand_example():
    # k0 leaves 3 ms of idle bus; k1 is memory bound (5 ms, 4 of weights): without weights it takes
    # max(2, 1) = 2 ms, gain 3 ms, all of it hidden. k2 gains min(1, idle of k1 = 0) = 0.
    rows = [_row("k0", 4.0, 1.0, 0.5), _row("k1", 2.0, 5.0, 4.0), _row("k2", 3.0, 1.0, 1.0)]
    assert overlap_savings_ms(rows, Mechanisms()) == pytest.approx(3.0)
    assert overlap_savings_ms(rows, Mechanisms(overlap_weight_load=False)) == 0.0
    rows[0] = _row("k0", 2.0, 1.0, 0.5)  # only 1 ms idle
    assert overlap_savings_ms(rows, Mechanisms()) == pytest.approx(1.0)


def test_roofline_worked_example():
    # 1x1 conv 64 -> 64 on 8x8, int8: 262144 MACs at 1024 MAC/cycle = 256 cycles; traffic 4096 + 4096 + 4096
    # bytes at 2 bytes/cycle = 6144 cycles -> memory bound, 6.144 us at 1 GHz; + 100 overhead cycles
    cfg = RooflineConfig(clock_mhz=1000.0, macs_per_cycle=1024.0, ops_per_cycle=64.0, bandwidth_gbps=2.0,
                         pj_per_mac=1.0, pj_per_dram_byte=10.0)
    dev = AcceleratorDevice("r", cfg, Mechanisms(kernel_overhead_cycles=100))
    b = NetworkBuilder("one", (64, 8, 8))
    b.conv(b.input, 64, 1, name="c")
    layer = b.build()["c"]
    p = dev.profile_isolated(layer)
    assert p.compute_ms == pytest.approx(256e-6)
    assert p.memory_ms == pytest.approx(6144e-6)
    assert p.latency_ms == pytest.approx(6244e-6)
    assert p.energy_mj == pytest.approx((262144 * 1.0 + 12288 * 10.0) * 1e-9)
    sep = dev.with_mechanisms(Mechanisms(kernel_overhead_cycles=100, shared_bandwidth=False))
    assert sep.profile_isolated(layer).memory_ms == pytest.approx(4096 * 2 / 2 * 1e-6)  # max(read, write)


# --- invariants on every template ---------------------------------------------------------------------------
@pytest.mark.parametrize("preset", PRESETS)
def test_invariants(preset, resblock, mixed):
    base = get_device(preset)
    for net in _nets(resblock, mixed):
        on = _all_on(base, host=0.0)
        isolated = math.fsum(on.profile_isolated(layer).latency_ms for layer in net.layers)
        run = on.run(net)
        assert run.latency_ms <= isolated + 1e-12, (preset, net.name)
        off = base.with_mechanisms(dataclasses.replace(base.mechanisms.all_off(), cpu_fallback=True))
        iso_off = math.fsum(off.profile_isolated(layer).latency_ms for layer in net.layers)
        assert off.run(net).latency_ms == pytest.approx(iso_off, rel=1e-12, abs=1e-15), (preset, net.name)
        # profile sums to run minus the overlap and host terms
        hosted = _all_on(base, host=0.7)
        r, p = hosted.run(net), hosted.profile(net)
        assert r.host_overhead_ms == 0.7
        assert p.latency_ms_sum == pytest.approx(r.latency_ms + r.overlap_saved_ms - r.host_overhead_ms, rel=1e-12)
        assert r.kernel_count == len(p.kernels)


def test_fusion_and_overlap_strictly_help_on_resnet():
    net = get_model("resnet18").build_ir((3, 64, 64))
    dev = _all_on(get_device("dpu-b4096-zcu102"))
    iso = math.fsum(dev.profile_isolated(layer).latency_ms for layer in net.layers)
    r = dev.run(net)
    assert r.latency_ms < 0.9 * iso
    assert r.overlap_saved_ms >= 0


# --- noise and determinism ---------------------------------------------------------------------------------
def test_noise_off_by_default_and_seeded(resblock):
    dev = get_device("dpu-b4096-zcu102")
    assert dev.mechanisms.noise_std_fraction == 0.0
    assert dev.run(resblock, trial=0) == dev.run(resblock, trial=5)
    noisy = dev.with_mechanisms(dataclasses.replace(dev.mechanisms, noise_std_fraction=0.05, noise_seed=7))
    a, b, c = noisy.run(resblock, trial=0), noisy.run(resblock, trial=0), noisy.run(resblock, trial=1)
    assert a == b and a.latency_ms != c.latency_ms
    assert abs(a.latency_ms / dev.run(resblock).latency_ms - 1) < 0.5
    with pytest.raises(DeviceError, match="trial"):
        noisy.run(resblock, trial=-1)


_CHILD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {path!r})
    from conftest import build_mixed, build_resblock
    from hwsim.devices import get_device
    out = {{}}
    for preset in {presets!r}:
        d = get_device(preset)
        for net in (build_resblock(), build_mixed()):
            r = d.run(net)
            out[preset + "/" + net.name] = [r.latency_ms.hex()] + [k.latency_ms.hex() for k in d.profile(net).kernels]
    print(json.dumps(out))
""")


def test_bit_identical_across_processes(resblock, mixed):
    from pathlib import Path

    here = str(Path(__file__).resolve().parent)
    code = _CHILD.format(path=here, presets=PRESETS)
    child = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                      text=True).stdout)
    for preset in PRESETS:
        d = get_device(preset)
        for net in (resblock, mixed):
            r = d.run(net)
            mine = [r.latency_ms.hex()] + [k.latency_ms.hex() for k in d.profile(net).kernels]
            assert child[preset + "/" + net.name] == mine


# --- bad input ----------------------------------------------------------------------------------------------
def test_mechanisms_validation():
    with pytest.raises(DeviceError, match="host_overhead_ms"):
        Mechanisms(host_overhead_ms=-1.0)
    with pytest.raises(DeviceError, match="kernel_overhead_cycles"):
        Mechanisms(kernel_overhead_cycles=1.5)
    with pytest.raises(DeviceError, match="fuse_layout"):
        Mechanisms(fuse_layout=1)
    with pytest.raises(DeviceError, match="fuse_conv_depthwise"):
        Mechanisms(fuse_conv_depthwise="yes")
    off = Mechanisms(fuse_conv_depthwise=True, fuse_conv_global_pool=True).all_off()
    assert not (off.fuse_conv_depthwise or off.fuse_conv_global_pool or off.any_fusion)
    with pytest.raises(DeviceError, match="cpu_gmacs_per_s"):
        Mechanisms(cpu_gmacs_per_s=0.0)


def test_profile_isolated_rejects_non_layer():
    with pytest.raises(DeviceError, match="expects a Layer"):
        get_device("roofline-reference").profile_isolated("conv1")


def test_isolated_kernel_reads_everything(resblock):
    k = isolated_kernel(resblock["add"])
    assert k.input_elements == 2 * 32 * 16 * 16 and k.output_elements == 32 * 16 * 16
    assert fuse(resblock, Mechanisms().all_off(), get_device("roofline-reference").cost_model)[0].name == "c1"
