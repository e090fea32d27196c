"""Fuzz the simulators with random valid conv/linear layers: no crash, no negative or NaN outputs, and at
least ``MACs / PEs`` cycles wherever the model exposes cycles."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from ._strategies import FUZZ, FUZZ_SMALL
from hwsim.devices import DeviceError, get_device, list_presets
from hwsim.devices.base import isolated_kernel
from hwsim.systolic import ENGINES, PRESETS, preset, simulate_layer
from hwsim.systolic.topology import SystolicMappingError, scalesim_view
from hwsim.workload import Conv2d, Layer, Linear, NetworkBuilder

_DEVICES = {name: get_device(name) for name in list_presets()}


@st.composite
def conv_layers(draw: st.DrawFn) -> Conv2d:
    groups = draw(st.sampled_from([1, 1, 2, 4]))
    depthwise = draw(st.booleans()) and groups == 1
    cin = draw(st.integers(1, 24)) * groups
    cout = cin if depthwise else draw(st.integers(1, 24)) * groups
    if depthwise:
        groups = cin
    k = draw(st.sampled_from([1, 3, 5, 7]))
    h = draw(st.integers(k, 28))
    w = draw(st.integers(k, 28))
    return Conv2d(name="conv", in_channels=cin, out_channels=cout, in_h=h, in_w=w, kernel_h=k, kernel_w=k,
                  stride_h=draw(st.integers(1, 3)), stride_w=draw(st.integers(1, 3)),
                  pad_h=draw(st.integers(0, k // 2)), pad_w=draw(st.integers(0, k // 2)), groups=groups, bias=draw(st.booleans()))


@st.composite
def linear_layers(draw: st.DrawFn) -> Linear:
    shape = tuple(draw(st.lists(st.integers(1, 64), min_size=1, max_size=2)))
    return Linear(name="fc", input_shape=shape, out_features=draw(st.integers(1, 300)), bias=draw(st.booleans()))


layers = st.one_of(conv_layers(), linear_layers())


def _finite_nonneg(where: str, obj: object) -> None:
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        v = getattr(obj, f.name)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            assert math.isfinite(v) and v >= 0, f"{where}: {f.name} = {v!r}"


@FUZZ
@given(layer=layers)
def test_devices_on_random_layers(layer: Layer, fuzz_cases: Counter) -> None:
    fuzz_cases["devices (profile_isolated/run x 8 presets)"] += 1
    b = NetworkBuilder("one", layer.input_shapes[0])
    if isinstance(layer, Conv2d):
        out = b.conv(b.input, layer.out_channels, (layer.kernel_h, layer.kernel_w), (layer.stride_h, layer.stride_w),
                     (layer.pad_h, layer.pad_w), groups=layer.groups, bias=layer.bias, name=layer.name)
    else:
        out = b.linear(b.input, layer.out_features, bias=layer.bias, name=layer.name)
    net = b.build([out])
    for name, dev in _DEVICES.items():
        try:
            row = dev.profile_isolated(layer)
        except DeviceError as e:  # a layer the device cannot run: a one-line error is the contract
            assert "\n" not in str(e)
            continue
        _finite_nonneg(f"{name} profile_isolated", row)
        assert row.latency_ms > 0 and row.utilization <= 1.0
        if not row.on_cpu:
            cost = dev.cost_model.kernel_cost(isolated_kernel(layer))
            _finite_nonneg(f"{name} kernel_cost", cost)
            assert cost.compute_cycles >= layer.macs / dev.cost_model.peak_macs_per_cycle * (1 - 1e-12), name
        run = dev.run(net)
        _finite_nonneg(f"{name} run", run)
        assert run.latency_ms > 0


@FUZZ_SMALL
@given(layer=layers, cfg=st.sampled_from(sorted(PRESETS)), engine=st.sampled_from(ENGINES),
       quirks=st.sampled_from(["scalesim", "fixed"]))
def test_systolic_simulate_layer(layer: Layer, cfg: str, engine: str, quirks: str, fuzz_cases: Counter) -> None:
    fuzz_cases["systolic simulate_layer"] += 1
    config = preset(cfg)
    try:
        res = simulate_layer(config, layer, engine=engine, quirks=quirks)
    except SystolicMappingError as e:  # e.g. unequal strides: no scalesim row; a documented one-line error
        assert "\n" not in str(e)
        fuzz_cases["systolic simulate_layer: not mappable"] += 1
        return
    for f in dataclasses.fields(res):
        v = getattr(res, f.name)
        if isinstance(v, float):
            assert math.isfinite(v), f.name
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not f.name.endswith("_start_cycle") \
                and not f.name.endswith("_stop_cycle"):
            assert v >= 0, f"{f.name} = {v!r}"
    job = scalesim_view(layer).job
    assert job is not None
    assert res.total_cycles >= res.macs / config.num_pes
    assert res.compute_cycles >= res.macs / config.num_pes
