"""Template parameters as data (hwsim.devices.params) and the one template base (hwsim.devices.template)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from hwsim.devices import DeviceError, get_device, list_presets
from hwsim.devices.base import AcceleratorDevice, Mechanisms
from hwsim.devices.config import build_config, device_kinds
from hwsim.devices.dpu import DPU_ARCHS, DpuConfig
from hwsim.devices.eyeriss import EyerissConfig, eyeriss_kernel_cost
from hwsim.devices.params import PARAM_KINDS, Param, params_of, template_classes, template_kinds, template_params
from hwsim.devices.registry import preset_tables
from hwsim.devices.systolic_device import DATAFLOWS, ENGINES, SYSTOLIC_PRESETS, SystolicDeviceConfig
from hwsim.devices.template import TemplateConfig
from hwsim.workload import NetworkBuilder

KINDS = ("dpu", "eyeriss", "nvdla", "roofline", "systolic")


def _net():
    b = NetworkBuilder("p", (16, 20, 20))
    x = b.relu(b.bn(b.conv(b.input, 32, 3, padding=1, name="c1"), name="bn1"), name="r1")
    y = b.relu(b.conv(x, 32, 3, padding=1, groups=32, name="dw"), name="r2")
    y = b.eltwise("add", x, y, name="add")
    y = b.global_pool(y, name="gp")
    b.linear(b.flatten(y, name="fl"), 10, name="fc")
    return b.build()


# --- enumeration ---------------------------------------------------------------------------------------------
def test_every_template_enumerates_its_parameters():
    assert template_kinds() == KINDS
    assert set(device_kinds()) == set(KINDS)
    for kind in KINDS:
        cls = template_classes()[kind]
        assert issubclass(cls, TemplateConfig) and cls.kind == kind
        ps = template_params(kind)
        assert ps == cls.params() == params_of(cls)
        # every [hardware] field is a parameter, in field order, and nothing else is
        fields = [f.name for f in dataclasses.fields(cls) if f.name != "provenance"]
        assert [p.name for p in ps] == fields
        assert any(p.name == "clock_mhz" and p.unit == "MHz" for p in ps)
        for p in ps:
            assert isinstance(p, Param) and p.kind in PARAM_KINDS and isinstance(p.unit, str) and p.doc
            if p.kind in (int, float) and p.choices is None:
                assert p.low is not None, f"{kind}.{p.name} has no lower bound"
            if p.low is not None and p.high is not None:
                assert p.low <= p.high
            if p.choices is not None:
                assert p.choices and all(isinstance(c, p.kind) for c in p.choices)
            assert p.name in p.describe()


def test_unknown_template_is_named():
    with pytest.raises(DeviceError, match="unknown device template 'tpu'; expected one of dpu, eyeriss"):
        template_params("tpu")


def test_design_space_parameters_of_issue_15():
    names = {k: {p.name: p for p in template_params(k)} for k in KINDS}
    sys_ = names["systolic"]
    for n in ("array_rows", "array_cols", "dataflow", "ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib",
              "dram_bandwidth", "bytes_per_element", "clock_mhz"):
        assert n in sys_
    assert sys_["dataflow"].choices == ("os", "ws", "is")
    assert sys_["bytes_per_element"].choices == (1,)  # SCALE-Sim models 1-byte words only
    assert sys_["dram_bandwidth"].unit == "words/cycle" and sys_["ifmap_sram_kib"].unit == "KiB"
    for n in ("pe_rows", "pe_cols", "glb_kib", "filter_spad_words", "ifmap_spad_words", "psum_spad_words"):
        assert n in names["eyeriss"]
    arch = names["dpu"]["arch"]
    assert arch.choices == ("B512", "B800", "B1024", "B1152", "B1600", "B2304", "B3136", "B4096")
    for a in arch.choices:  # the B number is the peak operations (2 per MAC) per cycle (PG338)
        assert 2 * DpuConfig(arch=a).peak_macs_per_cycle == int(a[1:])


def test_systolic_copies_agree_with_hwsim_systolic():
    from hwsim.systolic.config import DATAFLOWS as SYS_DATAFLOWS
    from hwsim.systolic.config import PRESETS
    from hwsim.systolic.simulate import ENGINES as SYS_ENGINES

    assert SYSTOLIC_PRESETS == PRESETS and DATAFLOWS == SYS_DATAFLOWS and ENGINES == SYS_ENGINES


# --- Param.check -----------------------------------------------------------------------------------------------
def test_param_check_rules():
    clock = Param("clock_mhz", float, "MHz", low=0, low_open=True)
    assert clock.check(300, "x") == 300.0 and isinstance(clock.check(300, "x"), float)
    for bad, rule in ((0, "positive"), (-1.0, "positive"), (True, "a number"), ("300", "a number"),
                      (math.nan, "a number"), (math.inf, "a number"), (None, "a number")):
        with pytest.raises(DeviceError) as e:
            clock.check(bad, "dpu")
        assert str(e.value) == f"dpu.clock_mhz must be {rule} (MHz), got {bad!r}"
    rows = Param("rows", int, "PEs", low=1, high=4096)
    assert rows.check(8, "s") == 8
    for bad in (0, 4097, 8.0, False):
        with pytest.raises(DeviceError, match=r"^s\.rows must be .* \(PEs\), got "):
            rows.check(bad, "s")
    assert rows.rule() == "in [1, 4096]" and not rows.contains(0) and rows.contains(4096)
    flow = Param("dataflow", str, choices=("os", "ws"), optional=True)
    assert flow.check(None, "s") is None and flow.check("ws", "s") == "ws"
    with pytest.raises(DeviceError, match=r"^s\.dataflow must be one of os, ws, got 'xs'$"):
        flow.check("xs", "s")
    acts = Param("activations", str, many=True)
    assert acts.check(["relu"], "d") == ("relu",)
    with pytest.raises(DeviceError, match="must be a list of str"):
        acts.check("relu", "d")
    with pytest.raises(DeviceError, match=r"d\.activations must be a string"):
        acts.check(["relu", 3], "d")
    assert Param("x", float, low=0).rule() == "non-negative"
    assert Param("x", float, low=0.5, low_open=True).rule() == "> 0.5"
    assert Param("x", float, high=2).rule() == "<= 2"
    with pytest.raises(TypeError):
        Param("x", list)


# --- presets pass; bad values are named -------------------------------------------------------------------------
@pytest.mark.parametrize("preset", list_presets())
def test_every_preset_value_passes_its_param(preset):
    dev = get_device(preset)
    cfg = dev.cost_model
    values = cfg.values()
    for p in cfg.params():
        if p.name in values:
            assert p.contains(values[p.name])
    # the values rebuild the same config, through the TOML builder too
    assert type(cfg)(**values) == cfg
    assert build_config(type(cfg), values, "t") == cfg
    assert set(preset_tables(preset).get("hardware", {})) <= set(values)


def _bad_values(p: Param) -> list:
    if p.choices is not None:
        return ["no-such-choice" if p.kind is str else 999]
    if p.kind is bool:
        return [1]
    if p.kind is str:
        return [3]
    out = ["1"] if not p.many else [["x", 1]]
    if p.low is not None:
        out.append(p.low if p.low_open else p.low - 1)
    if p.high is not None:
        out.append(p.high + 1)
    if p.kind is int:
        out.append(2.5)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_bad_values_are_rejected_naming_the_parameter(kind, tmp_path):
    cls = template_classes()[kind]
    n = 0
    for p in cls.params():
        for bad in _bad_values(p):
            with pytest.raises(DeviceError) as e:
                cls(**{p.name: bad})
            msg = str(e.value)
            assert msg.startswith(f"{kind}.{p.name} must be ") and msg.endswith(f"got {bad!r}") and "\n" not in msg
            n += 1
    assert n >= len(cls.params())
    # and in a device file: one line naming the file, the table and the parameter
    path = tmp_path / "bad.toml"
    first = next(p for p in cls.params() if p.kind is int and p.choices is None)
    path.write_text(f'[device]\nname = "b"\nkind = "{kind}"\n[hardware]\n{first.name} = 0\n')
    with pytest.raises(DeviceError, match=rf"bad\.toml: \[hardware\]: {kind}\.{first.name} must be positive"):
        get_device(str(path))


def test_sampled_in_range_values_build_devices_that_run():
    """Any value a Param accepts (within the cross-field rules) gives a working device: what a design space needs."""
    rng = np.random.default_rng(0)
    net = _net()
    for kind in KINDS:
        cls = template_classes()[kind]
        for _ in range(3):
            values = {}
            for p in cls.params():
                if p.choices is not None:
                    values[p.name] = p.choices[int(rng.integers(len(p.choices)))]
                elif p.kind in (int, float) and not p.many:
                    lo = max(1, p.low or 0)
                    hi = p.high if p.high is not None else (64 if p.kind is int else 500.0)
                    v = int(rng.integers(lo, int(hi) + 1)) if p.kind is int else float(rng.uniform(lo, hi))
                    values[p.name] = v
            if kind == "dpu":
                values["alu_parallelism"] = min(values["alu_parallelism"], DPU_ARCHS[values["arch"]][0])
            if kind == "systolic":
                values["array_rows"] = min(values["array_rows"], 16)
                values["array_cols"] = min(values["array_cols"], 16)
                values["preset"] = "scalesim_32x32"
            cfg = cls(**values)
            for name, v in values.items():
                assert getattr(cfg, name) == v
            dev = AcceleratorDevice(kind, cfg, Mechanisms(cpu_fallback=True), getattr(cfg, "bytes_per_element", 1))
            r = dev.run(net)
            assert r.latency_ms > 0 and math.isfinite(r.latency_ms)


def test_mechanisms_are_params_too():
    assert Mechanisms.switches() == ("fuse_conv_bn_act", "fuse_conv_eltwise", "fuse_conv_pool", "fuse_conv_depthwise",
                                     "fuse_conv_global_pool", "fuse_layout", "overlap_weight_load",
                                     "shared_bandwidth", "cpu_fallback")
    with pytest.raises(DeviceError, match=r"^mechanisms\.cpu_gmacs_per_s must be positive \(GMAC/s\), got 0$"):
        Mechanisms(cpu_gmacs_per_s=0)
    assert Mechanisms(host_overhead_ms=1).host_overhead_ms == 1.0


# --- template defaults ------------------------------------------------------------------------------------------
def test_template_defaults_live_in_the_base():
    for kind in ("eyeriss", "roofline", "systolic", "nvdla"):
        cls = template_classes()[kind]
        assert cls.static_power_mw is TemplateConfig.static_power_mw
        assert cls.can_fuse_into_conv is TemplateConfig.can_fuse_into_conv
    for kind in ("eyeriss", "roofline"):
        assert template_classes()[kind].unsupported is TemplateConfig.unsupported
    assert template_classes()["roofline"]().can_fuse_activation("gelu")
    assert not EyerissConfig().can_fuse_activation("gelu")


def test_eyeriss_register_files_do_not_change_timing():
    net = _net()
    from hwsim.devices.base import isolated_kernel

    a, b = EyerissConfig(), EyerissConfig(ifmap_spad_words=48, psum_spad_words=96)
    for layer in net.layers:
        assert eyeriss_kernel_cost(a, isolated_kernel(layer)) == eyeriss_kernel_cost(b, isolated_kernel(layer))


# --- systolic inline parameters -----------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", SYSTOLIC_PRESETS)
def test_inline_systolic_params_equal_the_preset_they_copy(preset):
    from hwsim.systolic.config import preset as systolic_preset

    ref = SystolicDeviceConfig(preset=preset)
    inline = ref.inline()
    assert inline.array == ref.array == systolic_preset(preset)
    assert inline.values()["array_rows"] == ref.array.array_rows
    # the same array given inline on top of another preset: equal up to the run name, same timings
    other = next(p for p in SYSTOLIC_PRESETS if p != preset)
    copied = dataclasses.replace(inline, preset=other)
    assert copied.array.replace(run_name="x") == ref.array.replace(run_name="x")
    net = _net()
    mech = Mechanisms(kernel_overhead_cycles=100)
    r1 = AcceleratorDevice("a", ref, mech).profile(net)
    r2 = AcceleratorDevice("a", copied, mech).profile(net)
    assert [k.latency_ms for k in r1.kernels] == [k.latency_ms for k in r2.kernels]
    assert [k.energy_mj for k in r1.kernels] == [k.energy_mj for k in r2.kernels]


def test_inline_systolic_toml_equals_the_preset_device(tmp_path):
    ref = get_device("systolic-tpu-like")
    p = tmp_path / "inline.toml"
    p.write_text("""
[device]
name = "systolic-tpu-like"
kind = "systolic"
[hardware]
preset = "scalesim_32x32"
clock_mhz = 700.0
vector_ops_per_cycle = 256
array_rows = 256
array_cols = 256
dataflow = "ws"
ifmap_sram_kib = 12288
filter_sram_kib = 256
ofmap_sram_kib = 4096
dram_bandwidth = 48
[mechanisms]
kernel_overhead_cycles = 1000
""")
    dev = get_device(str(p))
    net = _net()
    assert dev.run(net) == ref.run(net)
    assert dev.profile(net).kernels == ref.profile(net).kernels


def test_inline_systolic_overrides_one_field():
    cfg = SystolicDeviceConfig(array_rows=8, dataflow="is", dram_bandwidth=4)
    a = cfg.array
    assert (a.array_rows, a.array_cols, a.dataflow) == (8, 32, "is")
    assert a.effective_dram_bandwidths() == (4, 4, 4) and cfg.dram_bytes_per_cycle == 8.0
    assert cfg.peak_macs_per_cycle == 8 * 32
    with pytest.raises(DeviceError, match=r"systolic\.bytes_per_element must be one of 1 \(bytes\), got 2"):
        SystolicDeviceConfig(bytes_per_element=2)


@pytest.mark.parametrize("line,match", [
    ("array_rows = 0", r"systolic\.array_rows must be positive \(PEs\), got 0$"),
    ('dataflow = "xs"', r"systolic\.dataflow must be one of os, ws, is, got 'xs'$"),
    ("bytes_per_element = 2", r"systolic\.bytes_per_element must be one of 1 \(bytes\), got 2$"),
    ("dram_bandwidth = 2.5", r"key 'dram_bandwidth' must be int, got 2\.5$"),
])
def test_bad_inline_systolic_file(tmp_path, line, match):
    p = tmp_path / "sys.toml"
    p.write_text(f'[device]\nname = "s"\nkind = "systolic"\n[hardware]\n{line}\n')
    with pytest.raises(DeviceError, match=r"sys\.toml: \[hardware\]: .*" + match) as e:
        get_device(str(p))
    assert "\n" not in str(e.value)


def test_docs_name_every_parameter():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "devices.md").read_text()
    for kind in KINDS:
        for p in template_params(kind):
            assert f"`{p.name}`" in text, f"docs/devices.md does not describe {kind}.{p.name}"
