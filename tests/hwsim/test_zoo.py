"""Model zoo: published MACs/params, torch forward, exact parameter agreement, fx-import vs direct-IR structure."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import subprocess
import sys
from collections.abc import Iterator

import pytest

from hwsim.errors import HwnasError
from hwsim.workload import Network, structure
from hwsim.emit import GraphEmitter
from hwsim.zoo import MODELS, ZooModel, build_ir, build_torch, get_model, list_models, models

torch = pytest.importorskip("torch")

NAMES = ("alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v1", "mobilenet_v2", "squeezenet1_1",
         "efficientnet_b0", "vit_tiny")

_TV = "torchvision weights meta ('_ops' GFLOPS = GMACs, 'num_params') of {}"
# name -> (published MACs at 224x224, published parameters, source), written out here independently of the
# registry so that a typo in either is caught.
PUBLISHED: dict[str, tuple[float, int, str]] = {
    "alexnet": (0.714e9, 61_100_840, _TV.format("AlexNet_Weights.IMAGENET1K_V1: 0.714 / 61100840")),
    "vgg16": (15.47e9, 138_357_544, _TV.format("VGG16_Weights.IMAGENET1K_V1: 15.47 / 138357544")),
    "resnet18": (1.814e9, 11_689_512, _TV.format("ResNet18_Weights.IMAGENET1K_V1: 1.814 / 11689512")),
    "resnet50": (4.089e9, 25_557_032, _TV.format("ResNet50_Weights.IMAGENET1K_V1: 4.089 / 25557032")),
    "mobilenet_v1": (569e6, 4_200_000, "Howard et al. 2017 (arXiv:1704.04861) Table 8: 1.0 MobileNet-224, "
                                       "569 M Mult-Adds, 4.2 M parameters"),
    "mobilenet_v2": (0.301e9, 3_504_872, _TV.format("MobileNet_V2_Weights.IMAGENET1K_V1: 0.301 / 3504872")),
    "squeezenet1_1": (0.349e9, 1_235_496, _TV.format("SqueezeNet1_1_Weights.IMAGENET1K_V1: 0.349 / 1235496")),
    "efficientnet_b0": (0.386e9, 5_288_548, _TV.format("EfficientNet_B0_Weights.IMAGENET1K_V1: 0.386 / 5288548")),
    "vit_tiny": (1.26e9, 5_720_000, "MMPretrain configs/deit/README.md, deit-tiny_4xb256_in1k (DeiT-Ti): "
                                    "Flops 1.26 G, Params 5.72 M"),
}
# exact parameter counts of the reference implementations (torchvision num_params; timm's ViT-Tiny/16 and
# the MobileNet paper's layer table counted by hand: 3,206,976 conv/BN + 1,025,000 fc)
EXACT_PARAMS = {"mobilenet_v1": 4_231_976, "vit_tiny": 5_717_416}

TOLERANCE = 0.02


@pytest.fixture(scope="module")
def torch_models() -> Iterator[dict[str, torch.nn.Module]]:
    """Every zoo torch model, built once in eval mode from a forked, seeded global RNG."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        yield {name: get_model(name).build_torch().eval() for name in NAMES}


# --- registry ----------------------------------------------------------------------------------------------


def test_registry_names_and_order():
    assert list_models() == NAMES
    assert tuple(MODELS) == NAMES
    for name in NAMES:
        m = get_model(name)
        assert isinstance(m, ZooModel) and m.name == name and m.default_input_shape == (3, 224, 224)
        assert m.source


def test_registry_is_read_only():
    with pytest.raises(TypeError):
        MODELS["x"] = MODELS["alexnet"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        MODELS["alexnet"].published_macs = 1  # type: ignore[misc]


def test_unknown_model_names_value_and_choices():
    with pytest.raises(HwnasError) as e:
        get_model("resnet1000")
    msg = str(e.value)
    assert "'resnet1000'" in msg and all(n in msg for n in NAMES) and "\n" not in msg


@pytest.mark.parametrize("name", NAMES)
def test_registry_figures_match_cited_sources(name):
    macs, params, source = PUBLISHED[name]
    m = get_model(name)
    assert (m.published_macs, m.published_params) == (round(macs), params), source
    assert m.published_params_exact == (name not in EXACT_PARAMS)


def test_ir_builders_do_not_import_torch():
    code = ("import sys; from hwsim.zoo import MODELS; [m.build_ir() for m in MODELS.values()]; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- published figures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_ir_macs_within_2pct_of_published(name):
    macs, _, source = PUBLISHED[name]
    got = get_model(name).build_ir().total_macs
    assert abs(got / macs - 1) <= TOLERANCE, f"{name}: IR {got:,} MACs vs {macs:,.0f} published by {source}"


@pytest.mark.parametrize("name", NAMES)
def test_ir_params_match_published(name):
    _, params, source = PUBLISHED[name]
    got = get_model(name).build_ir().total_params
    assert abs(got / params - 1) <= TOLERANCE, f"{name}: IR {got:,} params vs {params:,} published by {source}"
    assert got == EXACT_PARAMS.get(name, params), f"{name}: exact parameter count ({source})"


def test_ir_macs_hand_counted_resnet18():
    """ResNet-18 MACs summed by hand from He et al. 2016, Table 1 (convs + downsample 1x1s + fc)."""
    conv = lambda cin, cout, k, hw: cin * cout * k * k * hw * hw  # noqa: E731
    stem = conv(3, 64, 7, 112)
    stages = 0
    for cin, cout, hw in ((64, 64, 56), (64, 128, 28), (128, 256, 14), (256, 512, 7)):
        stages += conv(cin, cout, 3, hw) + 3 * conv(cout, cout, 3, hw)
        if cin != cout:
            stages += conv(cin, cout, 1, hw)
    assert get_model("resnet18").build_ir().total_macs == stem + stages + 512 * 1000


# --- torch models ------------------------------------------------------------------------------------------


def _forward_counting_macs(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Run ``model`` once; MACs per sample summed by forward hooks on every Conv2d / Linear (a slow twin)."""
    total = 0

    def conv_hook(m: torch.nn.Conv2d, _inp: object, out: torch.Tensor) -> None:
        nonlocal total
        total += out[0].numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m: torch.nn.Linear, _inp: object, out: torch.Tensor) -> None:
        nonlocal total
        total += out[0].numel() * m.in_features

    hooks = [m.register_forward_hook(conv_hook if isinstance(m, torch.nn.Conv2d) else linear_hook)
             for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    try:
        with torch.no_grad():
            y = model(x)
    finally:
        for h in hooks:
            h.remove()
    return y, total


@pytest.mark.parametrize("name", NAMES)
def test_torch_forward_gives_logits_and_ir_macs(name, torch_models):
    """Forward a (1, 3, 224, 224) image; the IR's MACs equal the hook count (ViT adds its two attention
    products per block, which are not modules)."""
    x = torch.zeros(1, 3, 224, 224).normal_(generator=torch.Generator().manual_seed(1))
    y, hooked = _forward_counting_macs(torch_models[name], x)
    assert y.shape == (1, 1000) and bool(torch.isfinite(y).all())
    if name == "vit_tiny":
        tokens, dim, depth = 197, 192, 12
        hooked += depth * 2 * tokens * tokens * dim  # q @ k^T and attn @ v over all heads
    assert get_model(name).build_ir().total_macs == hooked


@pytest.mark.parametrize("name", NAMES)
def test_ir_params_equal_torch_params_exactly(name, torch_models):
    assert get_model(name).build_ir().total_params == sum(p.numel() for p in torch_models[name].parameters())


@pytest.mark.parametrize("name", NAMES)
def test_fx_import_equals_direct_ir(name, torch_models):
    from hwsim.importers.torch_fx import from_torch

    imported = from_torch(torch_models[name], (3, 224, 224))
    direct = get_model(name).build_ir()
    assert structure(imported) == structure(direct)
    assert imported.total_macs == direct.total_macs and imported.total_params == direct.total_params


@pytest.mark.parametrize("name,shape", [("resnet18", (3, 160, 192)), ("squeezenet1_1", (3, 113, 113)),
                                        ("vgg16", (3, 448, 448))])
def test_fx_import_equals_direct_ir_other_sizes(name, shape, torch_models):
    from hwsim.importers.torch_fx import from_torch

    assert structure(from_torch(torch_models[name], shape)) == structure(get_model(name).build_ir(shape))


def test_vit_other_image_size_matches_torch():
    from hwsim.importers.torch_fx import from_torch

    describe = functools.partial(models.vision_transformer, depth=2)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_torch("vit", describe, (3, 160, 160), num_classes=10)
    direct = build_ir("vit", describe, (3, 160, 160), num_classes=10)
    assert structure(from_torch(model, (3, 160, 160))) == structure(direct)
    assert direct.total_params == sum(p.numel() for p in model.parameters())
    assert direct["add_pos_embed"].params == 101 * 192
    assert tuple(model.pos_embed.shape) == (1, 101, 192)


# --- one description per model ------------------------------------------------------------------------------


def test_old_twin_modules_are_gone():
    assert importlib.util.find_spec("hwsim.zoo.ir_models") is None
    assert importlib.util.find_spec("hwsim.zoo.torch_models") is None


@pytest.mark.parametrize("name", NAMES)
def test_both_twins_come_from_the_single_description(name):
    """build_ir and build_torch each call the entry's one ``describe`` (and nothing else builds layers)."""
    from hwsim.emit_torch import TorchEmitter

    m = get_model(name)
    assert m.describe is getattr(models, name)
    calls: list[type] = []

    def spy(e: GraphEmitter, num_classes: int) -> str:
        calls.append(type(e))
        return m.describe(e, num_classes)

    spied = dataclasses.replace(m, describe=spy)
    net = spied.build_ir()
    with torch.device("meta"):  # weightless: nothing drawn
        module = spied.build_torch()
    assert calls == [GraphEmitter, TorchEmitter]
    assert net.total_params == sum(p.numel() for p in module.parameters())


def test_torch_module_paths_follow_torchvision():
    """Module paths are the layer names, torchvision's state-dict keys (so its checkpoints map 1:1)."""
    sd = get_model("resnet50").build_torch(generator=torch.Generator().manual_seed(0)).state_dict()
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.downsample.0.weight", "layer4.2.bn3.bias",
            "fc.weight", "fc.bias"} <= set(sd)
    assert len(sd) == 320  # torchvision resnet50: 161 params + 159 BN buffers
    keys = set(get_model("efficientnet_b0").build_torch().state_dict())
    assert {"features.1.0.block.1.fc1.weight", "features.2.0.block.0.0.weight", "classifier.1.weight"} <= keys
    vit = get_model("vit_tiny").build_torch()
    assert {"cls_token", "pos_embed", "patch_embed.weight", "blocks.11.attn.qkv.weight", "head.bias"} <= set(
        vit.state_dict())


def test_torch_model_keeps_dropout_and_ir_drops_it():
    module = get_model("alexnet").build_torch()
    assert isinstance(module.get_submodule("classifier.0"), torch.nn.Dropout)
    assert module.get_submodule("classifier.0").p == 0.5
    names = {layer.name for layer in get_model("alexnet").build_ir()}
    assert "classifier.0" not in names and "classifier.1" in names


def test_vgg16_large_input_pools_adaptively():
    net = get_model("vgg16").build_ir((3, 448, 448))
    pool = net["avgpool"]
    assert (pool.kind, pool.kernel_h, pool.stride_h, pool.output_shape) == ("pool2d", 2, 2, (512, 7, 7))
    assert "avgpool" not in {layer.name for layer in get_model("vgg16").build_ir()}  # identity at 224


def test_num_classes_changes_head_only():
    torch_model = get_model("mobilenet_v2").build_torch(num_classes=10).eval()
    with torch.no_grad():
        assert torch_model(torch.zeros(2, 3, 64, 64)).shape == (2, 10)
    net = get_model("mobilenet_v2").build_ir(num_classes=10)
    assert net.layers[-1].output_shape == (10,)
    assert net.total_params == sum(p.numel() for p in torch_model.parameters())
    assert get_model("mobilenet_v2").build_ir().total_params - net.total_params == 990 * 1281


def test_generator_init_is_deterministic_and_leaves_global_rng():
    state = torch.get_rng_state()
    a, b, c = (get_model("mobilenet_v2").build_torch(generator=torch.Generator().manual_seed(seed))
               for seed in (7, 7, 8))
    assert torch.equal(torch.get_rng_state(), state)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["features.0.0.weight"], sc["features.0.0.weight"])
    assert torch.equal(sa["features.0.1.running_var"], torch.ones(32))
    assert torch.equal(sa["features.0.1.weight"], torch.ones(32))
    vit = get_model("vit_tiny").build_torch(generator=torch.Generator().manual_seed(0))
    assert float(vit.pos_embed.detach().std()) == pytest.approx(0.02, rel=0.1)
    assert torch.equal(torch.get_rng_state(), state)


# --- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,kwargs,message", [
    ("resnet18", {"input_shape": (1, 224, 224)}, "input_shape must be (3, H, W)"),
    ("resnet18", {"input_shape": (3, 224)}, "input_shape must be (3, H, W)"),
    ("resnet18", {"num_classes": 0}, "num_classes must be a positive integer, got 0"),
    ("alexnet", {"input_shape": (3, 256, 256)}, "'avgpool': adaptive average pool from 7x7 to 6x6"),
    ("vit_tiny", {"input_shape": (3, 200, 200)}, "multiple of the patch size 16"),
    ("vit_tiny", {"input_shape": (3, 224, 240)}, "must be square"),
    ("vgg16", {"input_shape": (3, 8, 8)}, "larger than the padded input"),
])
def test_bad_ir_arguments_raise_one_line(name, kwargs, message):
    with pytest.raises(HwnasError) as e:
        get_model(name).build_ir(**kwargs)
    assert message in str(e.value) and repr(name) in str(e.value) and "\n" not in str(e.value)


def test_bad_torch_num_classes():
    with pytest.raises(HwnasError, match="'vgg16': num_classes must be a positive integer, got -1"):
        get_model("vgg16").build_torch(num_classes=-1)


def test_ir_networks_round_trip_json():
    for name in ("efficientnet_b0", "vit_tiny"):
        net = get_model(name).build_ir()
        assert Network.from_json(net.to_json()) == net
