from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from calibration.boards.torch_local import (  # noqa: E402
    BoardError,
    TimingStats,
    TorchLocalDevice,
    layer_op,
    measure_module,
    profile_ops,
)
from hwsim.workload import NetworkBuilder  # noqa: E402


def tiny_net():
    b = NetworkBuilder("t", (3, 8, 8))
    x = b.relu(b.bn(b.conv(b.input, 4, 3, padding=1)))
    y = b.conv(x, 4, 1)
    z = b.eltwise("add", x, y)
    z = b.pool(z, "avg", 3, 1, 1)
    z = b.pool(z, "max", 2)
    c = b.concat(z, z)
    g = b.flatten(b.global_pool(c))
    return b.build([b.linear(g, 5)])


def test_layer_ops_have_the_layer_output_shape() -> None:
    for layer in tiny_net().layers:
        out = layer_op(layer)()
        assert tuple(out.shape[1:]) == layer.output_shape, layer.name


def test_measure_restores_threads_and_reports_spread() -> None:
    before = torch.get_num_threads()
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    st = measure_module(m, (3, 16, 16), threads=1, warmup=1, repeats=5)
    assert torch.get_num_threads() == before
    assert st.repeats == 5 and st.min_ms <= st.median_ms <= st.p90_ms and st.median_ms > 0
    assert "threads=1" in st.conditions


def test_stats_from_samples() -> None:
    st = TimingStats.from_samples([1.0, 2.0, 3.0, 4.0, 100.0], 2, 1, "cpu")
    assert st.median_ms == 3.0 and st.min_ms == 1.0 and st.repeats == 5


def test_settings_validated() -> None:
    with pytest.raises(BoardError, match="repeats"):
        TorchLocalDevice(repeats=0)
    with pytest.raises(BoardError, match="device"):
        TorchLocalDevice(device="tpu")


def test_device_profiles_layers_and_profiler_rows() -> None:
    dev = TorchLocalDevice(warmup=1, repeats=3)
    net = tiny_net()
    assert dev.profile_isolated(net.layers[0]).latency_ms > 0
    rows = profile_ops(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)), (3, 8, 8), warmup=1)
    assert any("conv" in r.op for r in rows)


def test_thread_cpu_clock() -> None:
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3))
    st = measure_module(m, (3, 8, 8), warmup=1, repeats=3, clock="thread_cpu")
    assert st.clock == "thread_cpu" and st.median_ms > 0 and "clock=thread_cpu" in st.conditions
    with pytest.raises(BoardError, match="threads=1"):
        measure_module(m, (3, 8, 8), threads=2, repeats=1, clock="thread_cpu")
    with pytest.raises(BoardError, match="clock must be"):
        measure_module(m, (3, 8, 8), repeats=1, clock="sundial")
