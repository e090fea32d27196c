"""User-defined spaces from TOML."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hwsim.workload import structure
from spaces.core import SpaceError
from spaces.registry import get_space
from spaces.ssbn import num_ssbn
from spaces.user import load_space_toml

CUSTOM = """
name = "tiny"
input_size = 32
num_classes = 5
blocks = ["res0", "mbv2_1", "vgg5", "k3_e1_g2"]
typical = "res0"

[stem]
out_channels = 16
stride = 1

[[layers]]
in_channels = 16
out_channels = 24
stride = 2

[[layers]]
out_channels = 24
candidates = ["res0", "skip"]

[head]
conv_channels = 64
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "space.toml"
    p.write_text(text)
    return p


def test_custom_backbone(tmp_path: Path) -> None:
    space = load_space_toml(_write(tmp_path, CUSTOM))
    assert space.name == "tiny" and space.size() == 4 * 2 and num_ssbn(space) == 1 + 3 + 1
    assert space.choices[1].candidates == ("res0", "skip")
    net = space.to_workload({"layer0": "k3_e1_g2", "layer1": "skip"})
    assert net.inputs[0][1] == (3, 32, 32) and net[net.outputs[0]].output_shape == (5,)
    assert [lay.out_channels for lay in net.layers if lay.kind == "conv2d"][-1] == 64
    from ._spaces_fx import fast_from_torch

    for arch in space.enumerate():
        assert structure(fast_from_torch(space.to_torch(arch, device="meta"), (3, 32, 32))) == \
            structure(space.to_workload(arch))


def test_builtin_backbone_with_mixed_blocks(tmp_path: Path) -> None:
    space = load_space_toml(_write(tmp_path, 'name = "mix"\nbackbone = "bbssp"\n'
                                              'blocks = ["res0", "mobile1", "vgg5"]\ntypical = "vgg5"\n'))
    assert space.size() == 3 ** 12 and num_ssbn(space) == 25
    ref = get_space("bbssp-vgg")
    assert space.to_workload(space.typical_arch()).to_dict()["layers"] == \
        ref.to_workload(ref.typical_arch()).to_dict()["layers"]
    assert space.contains(space.sample(np.random.default_rng(0)))
    assert get_space(str(_write(tmp_path, 'name = "m2"\nbackbone = "fbnet-cifar"\nblocks = ["skip"]\n'))).size() == 1


@pytest.mark.parametrize("text,match", [
    (CUSTOM.replace("in_channels = 16", "in_channels = 32"),
     r"space.toml: layers\[0\].in_channels = 32 does not match the stem out_channels = 16"),
    (CUSTOM.replace('out_channels = 24\ncandidates', 'in_channels = 16\nout_channels = 24\ncandidates'),
     r"layers\[1\].in_channels = 16 does not match the layers\[0\] out_channels = 24"),
    (CUSTOM.replace('"vgg5"', '"vgg99"'), "blocks names unknown block 'vgg99'"),
    (CUSTOM.replace('"skip"]', '"bogus"]'), r"layers\[1\].candidates names unknown block 'bogus'"),
    (CUSTOM.replace("stride = 2", "strides = 2"), r"layers\[0\]: unknown field 'strides'"),
    (CUSTOM.replace("num_classes", "classes"), "unknown field 'classes'"),
    (CUSTOM.replace('typical = "res0"', 'typical = "vgg5"'), r"typical block 'vgg5' is not a candidate of layers\[1\]"),
    (CUSTOM.replace("out_channels = 16", "out_channels = 15").replace("in_channels = 16\n", ""),
     "layer0: block 'k3_e1_g2' needs even channels, got 15 -> 24"),
    ('name = "x"\nbackbone = "resnet50"\nblocks = ["res0"]\n', "unknown backbone 'resnet50'"),
    ('name = "x"\nbackbone = "bbssp"\n', r"layers\[0\] has no candidates"),
    ('name = "x"\nbackbone = = 3\n', "invalid TOML"),
    (CUSTOM.replace("stride = 2", "stride = 3"), "stride must be 1 or 2, got 3"),
])
def test_bad_toml(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(SpaceError, match=match) as err:
        load_space_toml(_write(tmp_path, text))
    assert "\n" not in str(err.value) and "space.toml" in str(err.value)
