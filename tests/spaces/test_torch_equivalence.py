"""to_torch vs to_workload: the fx import of the torch module equals the workload, layer for layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hwsim.importers.torch_fx import from_torch
from hwsim.workload import structure
from spaces.registry import SPACES, get_space
from ._spaces_fx import fast_from_torch

# Smallest input each space supports (five stride-2 stages -> 32 px keeps every map >= 1x1).
PRIMARY = ("bbssp-res", "bbssp-mobile", "bbssp-mobilev2", "bbssp-vgg", "fbnet", "proxyless", "nb201")
VARIANTS = tuple(n for n in SPACES if n not in PRIMARY)


def _check_many(name: str, n: int, seed: int) -> None:
    space = get_space(name)
    rng = np.random.default_rng(seed)
    seen = set()
    for _ in range(n):
        arch = space.sample(rng)
        seen.add(space.format(arch))
        module = space.to_torch(arch, input_size=32, device="meta")  # weightless: tracing only
        got = structure(fast_from_torch(module, (3, 32, 32)))
        want = structure(space.to_workload(arch, input_size=32))
        assert got == want, f"{name}: {space.format(arch)}"
    assert len(seen) == n  # really different archs


@pytest.mark.parametrize("name", PRIMARY)
def test_fx_import_equals_workload_50_archs(name: str) -> None:
    _check_many(name, 50, seed=11)


@pytest.mark.parametrize("name", VARIANTS)
def test_fx_import_equals_workload_variants(name: str) -> None:
    _check_many(name, 8, seed=12)


@pytest.mark.parametrize("name", ("bbssp-mobilev2-cifar", "nb201"))
def test_fast_import_matches_from_torch(name: str) -> None:
    """The public importer (fake-tensor shapes) agrees with the fast path and with to_workload."""
    space = get_space(name)
    arch = space.sample(np.random.default_rng(3))
    module = space.to_torch(arch, input_size=32)
    public = structure(from_torch(module, (3, 32, 32)))
    assert public == structure(fast_from_torch(module, (3, 32, 32)))
    assert public == structure(space.to_workload(arch, input_size=32))


@pytest.mark.parametrize("name,size", [("bbssp-mobilev2-cifar", 32), ("fbnet-cifar", 32), ("nb201", 32),
                                       ("bbssp-vgg", 64)])
def test_forward_pass_shapes(name: str, size: int) -> None:
    space = get_space(name)
    arch = space.sample(np.random.default_rng(5))
    module = space.to_torch(arch, num_classes=7, input_size=size, seed=0).eval()
    with torch.no_grad():
        out = module(torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0)))
    assert out.shape == (2, 7)
    assert torch.isfinite(out).all()
    net = space.to_workload(arch, input_size=size, num_classes=7)
    assert net[net.outputs[0]].output_shape == (7,)
    assert sum(p.numel() for p in module.parameters()) == net.total_params


def test_module_names_are_layer_names() -> None:
    space = get_space("bbssp-res-cifar")
    arch = space.typical_arch()
    module = space.to_torch(arch)
    net = space.to_workload(arch)
    conv_names = [lay.name for lay in net.layers if lay.kind == "conv2d"]
    assert conv_names and all(isinstance(module.ops[nm], torch.nn.Conv2d) for nm in conv_names)
    assert module.ops[conv_names[3]].weight.shape[0] == net[conv_names[3]].out_channels


def test_skip_adds_no_layer_and_nb201_none_is_pruned() -> None:
    fb = get_space("fbnet")
    base = {c.label: "k3_e1" for c in fb.choices}
    with_skip = {**base, "layer2": "skip"}  # 24 -> 24, stride 1: identity
    n0, n1 = len(fb.to_workload(base, 32)), len(fb.to_workload(with_skip, 32))
    assert n0 - n1 == 9  # the k3_e1 block's 3 conv + 3 BN + 2 ReLU + residual add disappear
    nb = get_space("nb201")
    a = nb.parse("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|")
    # node 2 has no input, so its 3x3 conv to node 3 is dropped; node 1 then reaches no output, so only the
    # 0->3 skip survives: the cells add no layer, only the skeleton's convs remain (stem, 2 x 3 reduction convs)
    net = nb.to_workload(a)
    assert sum(lay.kind == "conv2d" for lay in net.layers) == 7
    module = nb.to_torch(a)
    assert structure(fast_from_torch(module, (3, 32, 32))) == structure(nb.to_workload(a))


def test_seeded_weights_are_deterministic_and_private() -> None:
    space = get_space("nb201")
    arch = space.parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    before = torch.random.get_rng_state()
    a, b = space.to_torch(arch, seed=3).state_dict(), space.to_torch(arch, seed=3).state_dict()
    assert torch.equal(torch.random.get_rng_state(), before)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    c = space.to_torch(arch, seed=4).state_dict()
    assert not all(torch.equal(a[k], c[k]) for k in a)
