"""BBSSP families, FBNet and ProxylessNAS spaces: block definitions, macro tables, SSBNs, shared-data decoding."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from hwsim.workload import Conv2d, Network
from spaces.core import SpaceError
from spaces.fbnet import FBNET_OPS
from spaces.proxyless import PROXYLESS_MOBILE, proxyless_space
from spaces.registry import get_space
from spaces.ssbn import num_ssbn, ssbns
from spaces.user import space_from_toml_dict


def _one_layer(block: str, cin: int, cout: int, stride: int, size: int = 16) -> Network:
    """Workload of stem (cin ch, stride 1) + one layer holding ``block``, with the stem/head layers stripped off."""
    sp = space_from_toml_dict({"name": "t", "input_size": size, "num_classes": 10, "blocks": [block],
                               "stem": {"out_channels": cin, "stride": 1},
                               "layers": [{"out_channels": cout, "stride": stride}]})
    return sp.to_workload(sp.typical_arch() if sp.typical else {"layer0": block})


def _convs(net: Network) -> list[tuple[int, int, int, int, int]]:
    """(C_in, C_out, kernel, stride, groups) of each conv of the searchable layer (stem conv dropped)."""
    return [(c.in_channels, c.out_channels, c.kernel_h, c.stride_h, c.groups)
            for c in net.layers if isinstance(c, Conv2d)][1:]


def _kinds(net: Network) -> list[str]:
    return [lay.kind if lay.kind not in ("activation", "eltwise", "pool2d") else getattr(lay, "op")
            for lay in net.layers][3:-3]  # drop stem conv/bn/relu and pool/flatten/linear


def test_res_blocks() -> None:
    # Resblock_4: k = 5, e = 1/2; branch a 1x1(8)-5x5(8, s2)-1x1(24), branch b 5x5(16, s2)-1x1(24); ReLU(a + b)
    net = _one_layer("res4", 16, 24, 2)
    assert _convs(net) == [(16, 8, 1, 1, 1), (8, 8, 5, 2, 1), (8, 24, 1, 1, 1), (16, 16, 5, 2, 1), (16, 24, 1, 1, 1)]
    assert _kinds(net) == ["conv2d", "norm", "relu", "conv2d", "norm", "relu", "conv2d", "norm",
                           "conv2d", "norm", "relu", "conv2d", "norm", "add", "relu"]
    assert _convs(_one_layer("res8", 16, 16, 1))[:3] == [(16, 4, 1, 1, 1), (4, 4, 7, 1, 1), (4, 16, 1, 1, 1)]


def test_mobile_blocks_authors_pytorch() -> None:
    # Mobileblock_7: k = 5, e = 1/6 -> int(24/6) = 4 plain (not depthwise) convs; residual at same shape; ReLU
    net = _one_layer("mobile7", 24, 24, 1)
    assert _convs(net) == [(24, 4, 1, 1, 1), (4, 4, 5, 1, 1), (4, 24, 1, 1, 1)]
    assert _kinds(net)[-2:] == ["add", "relu"]
    assert "add" not in _kinds(_one_layer("mobile7", 24, 32, 2))
    assert _kinds(_one_layer("mobile1", 24, 32, 2))[-1] == "relu"


def test_mobile_blocks_mobilenetv2_form() -> None:
    # the authors' Caffe generate_mobile_block: kernel-major order, mbv2_j has k = (3,5,7)[j // 3],
    # e = (1,3,6)[j % 3]; 1x1 expand (kept at e = 1), depthwise, linear projection, add, final ReLU
    assert _convs(_one_layer("mbv2_5", 16, 16, 1)) == [(16, 96, 1, 1, 1), (96, 96, 5, 1, 96), (96, 16, 1, 1, 1)]
    assert _convs(_one_layer("mbv2_6", 16, 24, 2)) == [(16, 16, 1, 1, 1), (16, 16, 7, 2, 16), (16, 24, 1, 1, 1)]
    kinds = _kinds(_one_layer("mbv2_5", 16, 16, 1))
    assert kinds[-2:] == ["add", "relu"] and kinds.count("relu") == 3
    assert "add" not in _kinds(_one_layer("mbv2_6", 16, 24, 2))


@pytest.mark.parametrize("j,kernels", [(0, [1]), (2, [1, 3]), (5, [3, 3]), (9, [3, 5]), (12, [1, 3, 3, 3])])
def test_vgg_blocks(j: int, kernels: list[int]) -> None:
    net = _one_layer(f"vgg{j}", 16, 24, 2)
    assert [c[2] for c in _convs(net)] == kernels
    assert [c[:2] for c in _convs(net)] == [(16, 24)] + [(24, 24)] * (len(kernels) - 1)
    assert all(c[3] == 1 for c in _convs(net))
    pools = [lay for lay in net.layers if lay.kind == "pool2d"]
    assert [(p.op, p.kernel_h, p.stride_h) for p in pools] == [("max", 2, 2)]
    assert not [lay for lay in _one_layer(f"vgg{j}", 16, 24, 1).layers if lay.kind == "pool2d"]


def test_bbssp_backbones() -> None:
    net = get_space("bbssp-res").to_workload(get_space("bbssp-res").typical_arch())
    assert net.inputs[0][1] == (3, 224, 224)
    convs = [lay for lay in net.layers if isinstance(lay, Conv2d)]
    assert (convs[0].out_channels, convs[0].stride_h, convs[0].out_h) == (16, 2, 112)
    assert (convs[-1].in_channels, convs[-1].out_channels, convs[-1].kernel_h, convs[-1].in_h) == (352, 1504, 1, 7)
    assert net[net.outputs[0]].output_shape == (1000,)
    cifar = get_space("bbssp-vgg-cifar")
    cnet = cifar.to_workload(cifar.typical_arch())
    assert cnet.inputs[0][1] == (3, 32, 32) and cnet[cnet.outputs[0]].output_shape == (10,)
    assert [c.out_channels for c in cnet.layers if isinstance(c, Conv2d)][1::2][:10] == \
        [16, 24, 24, 32, 32, 64, 64, 128, 128, 256]  # vgg5 = [3, 3]: every second conv closes a layer
    assert len(cifar.choices) == 10


def test_ssbn_counts_and_contents() -> None:
    assert [num_ssbn(get_space(n)) for n in ("bbssp-res", "bbssp-mobile", "bbssp-vgg")] == [97, 97, 145]
    space = get_space("bbssp-vgg")
    nets = ssbns(space)
    assert len(nets) == 145 and len({n.arch for n in nets}) == 145
    assert nets[0].key == "ssbn_0" and nets[0].arch == space.typical_arch()
    assert set(space.typical or ()) == {"vgg5"}
    for s in nets[1:]:
        diff = [lb for lb in space.labels if s.arch[lb] != "vgg5"]
        assert diff == [s.layer] and s.arch[s.layer] == s.block
    assert nets[1].key == "ssbn_layer0_vgg0"
    assert get_space("bbssp-mobile").typical == ("mobile1",) * 12
    assert get_space("bbssp-res").typical == ("res0",) * 12
    assert num_ssbn(get_space("bbssp-res-cifar")) == 81


def _fbnet_lut(shared_data) -> set[str]:
    with open(shared_data / "latency" / "fbnet_hwnasbench_block_lut.csv") as f:
        return {row["block_key"] for row in csv.DictReader(f)}


@pytest.mark.parametrize("name,size,head", [("fbnet", 224, 1984), ("fbnet-cifar", 32, 1504)])
def test_fbnet_macro_matches_hwnasbench_lut(shared_data, name: str, size: int, head: int) -> None:
    """Every (op, H, C_in, C_out, stride) of the space is a block HW-NAS-Bench profiled (so LUT rows apply)."""
    lut = _fbnet_lut(shared_data)
    space = get_space(name)
    model = space.model
    h = size // model.stem.stride
    assert f"ConvNorm_H{size}_W{size}_Cin3_Cout16_kernel3_stride{model.stem.stride}_group1" in lut
    cin = 16
    for layer in model.layers:
        for op in FBNET_OPS:
            if op == "skip":
                key = f"Skip_H{h}_W{h}_Cin{cin}_Cout{layer.out_channels}_stride{layer.stride}"
            else:
                k, e = op[1], op.split("_")[1][1:]
                g = 2 if op.endswith("g2") else 1
                key = (f"ConvBlock_H{h}_W{h}_Cin{cin}_Cout{layer.out_channels}_exp{e}_kernel{k}"
                       f"_stride{layer.stride}_group{g}")
            assert key in lut, key
        h //= layer.stride
        cin = layer.out_channels
    assert f"ConvNorm_H{h}_W{h}_Cin352_Cout{head}_kernel1_stride1_group1" in lut
    net = space.to_workload(space.sample(np.random.default_rng(0)))
    pool = [lay for lay in net.layers if lay.kind == "global_pool"][0]
    assert (pool.channels, pool.in_h) == (head, h)


def test_fbnet_block_structure() -> None:
    # k5_e1_g2 (16 -> 16, s1): grouped 1x1, shuffle (3 Reshape), depthwise 5x5, grouped 1x1, residual add
    net = _one_layer("k5_e1_g2", 16, 16, 1)
    assert _convs(net) == [(16, 16, 1, 1, 2), (16, 16, 5, 1, 16), (16, 16, 1, 1, 2)]
    assert [lay.op for lay in net.layers if lay.kind == "reshape"][:3] == ["reshape", "permute", "reshape"]
    assert _kinds(net)[-1] == "add"
    assert _convs(_one_layer("k3_e6", 16, 24, 2)) == [(16, 96, 1, 1, 1), (96, 96, 3, 2, 96), (96, 24, 1, 1, 1)]
    assert _convs(_one_layer("skip", 16, 24, 2)) == [(16, 24, 1, 2, 1)]
    assert _convs(_one_layer("skip", 16, 16, 1)) == []


def test_fbnet_help_rows_decode_and_encode(shared_data) -> None:
    space = get_space("fbnet")
    with open(shared_data / "latency" / "fbnet_help.csv") as f:
        rows = [r["op_idx_list"] for r in csv.DictReader(f)]
    assert len(rows) == 5000
    for text in rows:
        arch = space.from_indices([int(t) for t in text.split("-")])
        assert space.contains(arch)
        assert "-".join(str(i) for i in space.indices(arch)) == text
        assert space.parse(space.format(arch)) == arch


def test_proxyless_mobile_at_width_half() -> None:
    # proxyless_nas / OFA channel rounding at width 0.5: stem 16, first block 8, stages 16, 24, 40, 48, 96, 160,
    # head 1280 (not scaled below width 1); ProxylessNAS-Mobile 0.5 is 103.6 M MACs (207.171 MOPs as the DPU
    # profile in ../shared/data/dpu/dpu_layer_profiles.csv counts it)
    space = proxyless_space(width_mult=0.5)
    assert space.name == "proxyless-w0.5" and space.contains(PROXYLESS_MOBILE)
    net = space.to_workload(PROXYLESS_MOBILE)
    convs = [c for c in net.layers if isinstance(c, Conv2d)]
    assert [c.out_channels for c in convs if not c.is_depthwise][:3] == [16, 8, 24]
    assert sorted({c.out_channels for c in convs if c.kernel_h == 1 and c.in_channels > c.out_channels}) == [
        8, 16, 24, 40, 48, 96, 160]
    assert convs[-1].out_channels == 1280
    assert 2 * net.total_macs == 207_171_456
    assert proxyless_space(width_mult=1.0).to_dict() == get_space("proxyless").to_dict()
    with pytest.raises(SpaceError, match="width_mult"):
        proxyless_space(width_mult=0)


def test_proxyless_space() -> None:
    space = get_space("proxyless")
    assert len(space.choices) == 21
    firsts = [i for i, c in enumerate(space.choices) if "skip" not in c.candidates]
    assert firsts == [0, 4, 8, 12, 16, 20]
    net = space.to_workload({c.label: c.candidates[-1] if "skip" in c.candidates else "mb_k3_e6"
                             for c in space.choices})
    convs = [c for c in net.layers if isinstance(c, Conv2d)]
    assert (convs[0].out_channels, convs[0].stride_h) == (32, 2)
    assert [(c.in_channels, c.out_channels, c.groups) for c in convs[1:3]] == [(32, 32, 32), (32, 16, 1)]
    assert (convs[-1].in_channels, convs[-1].out_channels, convs[-1].in_h) == (320, 1280, 7)
    assert {lay.op for lay in net.layers if lay.kind == "activation"} == {"relu6"}
    # all-skip where allowed: 1 fixed + 6 stage-first MBConvs x 3 convs + stem + head
    assert len(convs) == 1 + 2 + 6 * 3 + 1
