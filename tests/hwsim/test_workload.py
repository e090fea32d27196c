"""Workload IR: shapes, MACs, params, bytes, DAG order, JSON round trip, validation messages."""

from __future__ import annotations

import json

import pytest

from hwsim.workload import (
    Activation,
    Concat,
    Conv2d,
    DataType,
    Elementwise,
    GlobalPool,
    Linear,
    MatMul,
    Network,
    NetworkBuilder,
    Node,
    Norm,
    Pool2d,
    Reshape,
    WorkloadError,
    structure,
)


def naive_conv_macs(c: int, k: int, h: int, w: int, kh: int, kw: int, s: int, p: int, g: int) -> int:
    """Count MACs by walking every output element and every tap inside the padded input."""
    oh = len(range(0, h + 2 * p - kh + 1, s))
    ow = len(range(0, w + 2 * p - kw + 1, s))
    return sum(1 for _ in range(k) for _ in range(oh) for _ in range(ow)) * (c // g) * kh * kw


@pytest.mark.parametrize("c,k,h,w,kh,kw,s,p,g", [
    (3, 64, 224, 224, 7, 7, 2, 3, 1), (32, 32, 56, 56, 3, 3, 1, 1, 32), (16, 48, 15, 9, 5, 3, 2, 0, 4),
    (8, 8, 7, 7, 1, 1, 1, 0, 1), (64, 128, 28, 28, 3, 3, 2, 1, 2),
])
def test_conv_macs_and_shapes_match_naive_count(c, k, h, w, kh, kw, s, p, g):
    layer = Conv2d("c", c, k, h, w, kh, kw, s, s, p, p, groups=g)
    assert layer.macs == naive_conv_macs(c, k, h, w, kh, kw, s, p, g)
    assert layer.params == k * (c // g) * kh * kw
    assert layer.output_shape[0] == k


def test_conv_worked_example():
    # ResNet stem: 224x224x3, 7x7/2 pad 3 -> 112x112x64; 118,013,952 MACs (64*112*112*3*49)
    stem = Conv2d("stem", 3, 64, 224, 224, 7, 7, 2, 2, 3, 3)
    assert stem.output_shape == (64, 112, 112)
    assert stem.macs == 118_013_952
    assert stem.params == 9408
    assert stem.bytes_moved("int8") == 3 * 224 * 224 + 9408 + 64 * 112 * 112
    assert stem.bytes_moved(DataType.FP32) == 4 * stem.bytes_moved("int8")


def test_dilated_and_depthwise_conv():
    d = Conv2d("d", 8, 8, 32, 32, 3, 3, 1, 1, 2, 2, 2, 2, groups=8)
    assert d.output_shape == (8, 32, 32) and d.is_depthwise and d.macs == 8 * 32 * 32 * 9


def test_linear_matmul_and_pooling():
    lin = Linear("fc", (197, 192), 576)
    assert (lin.m, lin.n, lin.k, lin.output_shape) == (197, 576, 192, (197, 576))
    assert lin.macs == 197 * 576 * 192 and lin.params == 192 * 576 + 576
    mm = MatMul("qk", (3, 197, 64), (3, 64, 197))
    assert mm.output_shape == (3, 197, 197) and mm.macs == 3 * 197 * 197 * 64 and mm.params == 0
    pool = Pool2d("p", "max", 64, 112, 112, 3, 3, 2, 2, 1, 1)
    assert pool.output_shape == (64, 56, 56) and pool.macs == 0
    ceil = Pool2d("p", "max", 96, 55, 55, 3, 3, 2, 2, ceil_mode=True)  # SqueezeNet: 55 -> 27 with ceil
    assert ceil.output_shape == (96, 27, 27)
    assert Pool2d("p", "max", 1, 6, 6, 3, 3, 2, 2, ceil_mode=True).output_shape == (1, 3, 3)
    assert GlobalPool("g", "avg", 1280, 7, 7).output_shape == (1280, 1, 1)


def test_eltwise_concat_norm_reshape():
    se = Elementwise("se", "mul", ((32, 56, 56), (32, 1, 1)))
    assert se.output_shape == (32, 56, 56)
    pos = Elementwise("pos", "add", ((197, 192), (197, 192)), param_inputs=1)
    assert pos.input_shapes == ((197, 192),) and pos.params == 197 * 192
    cat = Concat("cat", ((64, 28, 28), (32, 28, 28)))
    assert cat.output_shape == (96, 28, 28)
    assert Norm("bn", "batchnorm", (64, 7, 7)).params == 128
    assert Norm("ln", "layernorm", (197, 192)).params == 384
    assert Reshape("f", "flatten", (512, 7, 7), (25088,)).output_shape == (25088,)
    assert Activation("a", "hardswish", (16, 8, 8)).ops == 16 * 64


@pytest.mark.parametrize("make,message", [
    (lambda: Conv2d("c1", 3, 8, 5, 5, 7, 7), "kernel_h=7 (effective 7) is larger than the padded input h=5"),
    (lambda: Conv2d("c2", 0, 8, 5, 5, 3, 3), "in_channels must be a positive integer, got 0"),
    (lambda: Conv2d("c3", 3, 8, -4, 5, 3, 3), "in_h must be a positive integer, got -4"),
    (lambda: Conv2d("c4", 6, 8, 5, 5, 1, 1, groups=4), "groups=4 must divide"),
    (lambda: Pool2d("p", "median", 3, 5, 5, 2, 2), "op must be one of max, avg; got 'median'"),
    (lambda: Linear("l", (0, 4), 3), "non-positive dimension"),
    (lambda: MatMul("m", (4, 5), (4, 5)), "matmul shapes do not agree"),
    (lambda: Elementwise("e", "add", ((3, 4), (5, 4))), "do not broadcast"),
    (lambda: Concat("k", ((3, 4, 4), (3, 5, 4))), "cannot concatenate"),
    (lambda: Reshape("r", "reshape", (3, 4), (5,)), "cannot reshape"),
])
def test_bad_layers_have_one_line_messages(make, message):
    with pytest.raises(WorkloadError) as err:
        make()
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def _residual() -> Network:
    b = NetworkBuilder("res", (8, 16, 16))
    x = b.conv(b.input, 8, 3, padding=1, name="c1")
    y = b.relu(b.bn(x, name="bn1"), name="r1")
    z = b.eltwise("add", y, b.input, name="add")
    g = b.global_pool(z, name="gap")
    f = b.flatten(g, name="flat")
    b.linear(f, 10, name="fc")
    return b.build()


def test_network_totals_order_and_graph():
    net = _residual()
    assert [layer.name for layer in net] == ["c1", "bn1", "r1", "add", "gap", "flat", "fc"]
    assert net.total_macs == 8 * 16 * 16 * 8 * 9 + 80
    assert net.total_params == 8 * 8 * 9 + 16 + 8 * 10 + 10
    assert net.outputs == ("fc",)
    assert net.predecessors("add") == ("r1",)
    assert set(net.successors("c1")) == {"bn1"}
    assert net.graph.number_of_edges() == 6


def test_topological_order_is_stable_whatever_the_given_order():
    net = _residual()
    shuffled = Network(net.name, net.inputs, tuple(reversed(net.nodes)), net.outputs)
    assert [layer.name for layer in shuffled] == [layer.name for layer in net]
    assert shuffled == net


def test_json_round_trip_is_exact():
    net = _residual()
    text = net.to_json()
    again = Network.from_json(text)
    assert again == net
    assert again.to_json() == text
    assert json.loads(text)["version"] == 1


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d.update(version=7), "unsupported network version 7"),
    (lambda d: d["layers"][0].update(kind="lstm"), "layers[0]: unknown layer kind 'lstm'"),
    (lambda d: d["layers"][0].update(in_h=-3), "layers[0]: layer 'c1': in_h must be a positive integer, got -3"),
    (lambda d: d["layers"][0].update(colour="red"), "layers[0]: unknown field 'colour'"),
    (lambda d: d["layers"][1].update(inputs=["nope"]), "reads unknown input 'nope'"),
    (lambda d: d["layers"][6].update(inputs=["r1"]), "expects input shape (8,) from 'r1'"),
])
def test_bad_json_messages(mutate, message):
    d = _residual().to_dict()
    mutate(d)
    with pytest.raises(WorkloadError) as err:
        Network.from_dict(d, source="net.json")
    assert message in str(err.value) and str(err.value).startswith("net.json")


def test_invalid_json_text_names_line():
    with pytest.raises(WorkloadError, match=r"net.json: invalid JSON at line 2"):
        Network.from_json('{"a":\n ]', source="net.json")


def test_cycle_and_duplicate_names_rejected():
    c = Conv2d("c", 4, 4, 8, 8, 3, 3, pad_h=1, pad_w=1)
    d = Conv2d("d", 4, 4, 8, 8, 3, 3, pad_h=1, pad_w=1)
    with pytest.raises(WorkloadError, match="cycle"):
        Network("n", (("x", (4, 8, 8)),), (Node(c, ("d",)), Node(d, ("c",))))
    with pytest.raises(WorkloadError, match="duplicate layer name 'c'"):
        Network("n", (("x", (4, 8, 8)),), (Node(c, ("x",)), Node(c, ("x",))))


def test_structure_ignores_names_only():
    a = _residual()
    b = NetworkBuilder("other", (8, 16, 16))
    x = b.conv(b.input, 8, 3, padding=1)
    y = b.relu(b.bn(x))
    z = b.eltwise("add", y, b.input)
    b.linear(b.flatten(b.global_pool(z)), 10)
    assert structure(b.build()) == structure(a)
    c = a.replace_layer("c1", Conv2d("c1", 8, 8, 16, 16, 3, 3, 1, 1, 1, 1, bias=True))
    assert structure(c) != structure(a)
