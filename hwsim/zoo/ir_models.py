"""Direct workload-IR twins of :mod:`hwsim.zoo.torch_models`, built with :class:`NetworkBuilder`.

Each builder lists the same layers, in the same order and with the same wiring, as
:func:`hwsim.importers.torch_fx.from_torch` produces from the torch model, so
``structure(build(shape)) == structure(from_torch(model, shape))``. Conventions of that importer mirrored
here: dropout and identity adaptive pools vanish; an adaptive pool to 1x1 is a :class:`GlobalPool`, one whose
input is a multiple of its output is a :class:`Pool2d` with kernel = stride = input/output; ``flatten`` is a
``Reshape(op="flatten")``; learned tensors used as operands (class token, position embedding) are trailing
parameter operands. Layer names follow the torch module paths.

Every builder takes ``input_shape`` = (C, H, W) per sample and ``num_classes``; a size at which the network
cannot run raises :class:`~hwsim.errors.HwnasError` naming the model, the layer and the value.
"""

from __future__ import annotations

from collections.abc import Sequence

from hwsim.errors import HwnasError
from hwsim.workload import Network, NetworkBuilder, Shape
from hwsim.zoo.tables import (
    EFFICIENTNET_B0_STAGES,
    MOBILENET_V1_BLOCKS,
    MOBILENET_V2_SETTING,
    RESNET18_LAYERS,
    RESNET50_LAYERS,
    SQUEEZENET1_1_FIRES,
    VGG16_CONFIG,
    make_divisible,
)

DEFAULT_INPUT_SHAPE: Shape = (3, 224, 224)


def _check_args(model: str, input_shape: Sequence[int], num_classes: int) -> Shape:
    shape = tuple(input_shape)
    if (len(shape) != 3 or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)
            or shape[0] != 3):
        raise HwnasError(f"zoo model {model!r}: input_shape must be (3, H, W) with positive ints, "
                         f"got {tuple(input_shape)!r}")
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes <= 0:
        raise HwnasError(f"zoo model {model!r}: num_classes must be a positive integer, got {num_classes!r}")
    return shape


def _adaptive_avg_pool(b: NetworkBuilder, x: str, out_hw: tuple[int, int], name: str) -> str:
    """``nn.AdaptiveAvgPool2d(out_hw)`` as the torch.fx importer maps it."""
    _, h, w = b.shape(x)
    oh, ow = out_hw
    if (oh, ow) == (1, 1):
        return b.global_pool(x, "avg", name=name)
    if (h, w) == (oh, ow):
        return x
    if h % oh == 0 and w % ow == 0:
        return b.pool(x, "avg", (h // oh, w // ow), (h // oh, w // ow), name=name)
    raise HwnasError(f"network {b.name!r}: layer {name!r}: adaptive average pool from {h}x{w} to {oh}x{ow} "
                     f"has no fixed window (input not a multiple of the output)")


def _conv_bn_act(b: NetworkBuilder, x: str, prefix: str, out_ch: int, kernel: int, stride: int = 1,
                 groups: int = 1, act: str | None = "relu") -> str:
    """Conv (no bias, 'same' padding) + batch norm (+ activation), named ``prefix.0/1/2`` as an nn.Sequential."""
    x = b.conv(x, out_ch, kernel, stride, (kernel - 1) // 2, groups=groups, name=f"{prefix}.0")
    x = b.bn(x, name=f"{prefix}.1")
    if act is not None:
        x = b.act(x, act, name=f"{prefix}.2")
    return x


# --- AlexNet -----------------------------------------------------------------------------------------------


def alexnet(input_shape: Sequence[int] = DEFAULT_INPUT_SHAPE, num_classes: int = 1000) -> Network:
    """AlexNet (torchvision): five convs, three max pools, adaptive 6x6 average pool, three linear layers."""
    b = NetworkBuilder("alexnet", _check_args("alexnet", input_shape, num_classes))
    x = b.input
    for i, (out_ch, k, s, p) in zip((0, 3, 6, 8, 10), ((64, 11, 4, 2), (192, 5, 1, 2), (384, 3, 1, 1),
                                                       (256, 3, 1, 1), (256, 3, 1, 1))):
        x = b.conv(x, out_ch, k, s, p, bias=True, name=f"features.{i}")
        x = b.relu(x, name=f"features.{i + 1}")
        if i in (0, 3, 10):
            x = b.pool(x, "max", 3, 2, name=f"features.{i + 2}")
    x = _adaptive_avg_pool(b, x, (6, 6), "avgpool")
    x = b.flatten(x, name="flatten")
    x = b.relu(b.linear(x, 4096, name="classifier.1"), name="classifier.2")
    x = b.relu(b.linear(x, 4096, name="classifier.4"), name="classifier.5")
    b.linear(x, num_classes, name="classifier.6")
    return b.build()


# --- VGG-16 ------------------------------------------------------------------------------------------------


def vgg16(input_shape: Sequence[int] = DEFAULT_INPUT_SHAPE, num_classes: int = 1000) -> Network:
    """VGG-16 (torchvision, no batch norm): 13 3x3 convs, 5 max pools, adaptive 7x7 pool, 3 linear layers."""
    b = NetworkBuilder("vgg16", _check_args("vgg16", input_shape, num_classes))
    x = b.input
    i = 0
    for v in VGG16_CONFIG:
        if v == "M":
            x = b.pool(x, "max", 2, 2, name=f"features.{i}")
            i += 1
        else:
            assert isinstance(v, int)
            x = b.conv(x, v, 3, 1, 1, bias=True, name=f"features.{i}")
            x = b.relu(x, name=f"features.{i + 1}")
            i += 2
    x = _adaptive_avg_pool(b, x, (7, 7), "avgpool")
    x = b.flatten(x, name="flatten")
    x = b.relu(b.linear(x, 4096, name="classifier.0"), name="classifier.1")
    x = b.relu(b.linear(x, 4096, name="classifier.3"), name="classifier.4")
    b.linear(x, num_classes, name="classifier.6")
    return b.build()


# --- ResNet ------------------------------------------------------------------------------------------------


def _resnet(name: str, bottleneck: bool, layers: Sequence[int], input_shape: Sequence[int],
            num_classes: int) -> Network:
    b = NetworkBuilder(name, _check_args(name, input_shape, num_classes))
    x = b.conv(b.input, 64, 7, 2, 3, name="conv1")
    x = b.relu(b.bn(x, name="bn1"), name="relu")
    x = b.pool(x, "max", 3, 2, 1, name="maxpool")
    expansion = 4 if bottleneck else 1
    in_ch = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers), start=1):
        for j in range(blocks):
            stride = 2 if stage > 1 and j == 0 else 1
            p = f"layer{stage}.{j}"
            out_ch = planes * expansion
            if bottleneck:
                out = b.relu(b.bn(b.conv(x, planes, 1, name=f"{p}.conv1"), name=f"{p}.bn1"), name=f"{p}.relu")
                out = b.relu(b.bn(b.conv(out, planes, 3, stride, 1, name=f"{p}.conv2"), name=f"{p}.bn2"),
                             name=f"{p}.relu_1")
                out = b.bn(b.conv(out, out_ch, 1, name=f"{p}.conv3"), name=f"{p}.bn3")
            else:
                out = b.relu(b.bn(b.conv(x, planes, 3, stride, 1, name=f"{p}.conv1"), name=f"{p}.bn1"),
                             name=f"{p}.relu")
                out = b.bn(b.conv(out, planes, 3, 1, 1, name=f"{p}.conv2"), name=f"{p}.bn2")
            identity = x
            if stride != 1 or in_ch != out_ch:
                identity = b.bn(b.conv(x, out_ch, 1, stride, name=f"{p}.downsample.0"), name=f"{p}.downsample.1")
            x = b.relu(b.eltwise("add", out, identity, name=f"{p}.add"), name=f"{p}.relu_out")
            in_ch = out_ch
    x = _adaptive_avg_pool(b, x, (1, 1), "avgpool")
    x = b.flatten(x, name="flatten")
    b.linear(x, num_classes, name="fc")
    return b.build()


def resnet18(input_shape: Sequence[int] = DEFAULT_INPUT_SHAPE, num_classes: int = 1000) -> Network:
    """ResNet-18: basic blocks (2, 2, 2, 2)."""
    return _resnet("resnet18", False, RESNET18_LAYERS, input_shape, num_classes)


def resnet50(input_shape: Sequence[int] = DEFAULT_INPUT_SHAPE, num_classes: int = 1000) -> Network:
    """ResNet-50 v1.5: bottleneck blocks (3, 4, 6, 3), stride on the 3x3 conv."""
    return _resnet("resnet50", True, RESNET50_LAYERS, input_shape, num_classes)


# --- MobileNetV1 -------------------------------------------------------------------------------------------


def mobilenet_v1(input_shape: Sequence[int] = DEFAULT_INPUT_SHAPE, num_classes: int = 1000) -> Network:
    """MobileNetV1 1.0 (Howard et al. 2017, Table 1): conv + 13 depthwise-separable blocks + pool + fc."""
    b = NetworkBuilder("mobilenet_v1", _check_args("mobilenet_v1", input_shape, num_classes))
    x = _conv_bn_act(b, b.input, "features.0", 32, 3, 2)
    in_ch = 32
    for i, (out_ch, stride) in enumerate(MOBILENET_V1_BLOCKS, start=1):
        x = _conv_bn_act(b, x, f"features.{i}.0", in_ch, 3, stride, groups=in_ch)
        x = _conv_bn_act(b, x, f"features.{i}.1", out_ch, 1)
        in_ch = out_ch
    x = _adaptive_avg_pool(b, x, (1, 1), "avgpool")
    x = b.flatten(x, name="flatten")
    b.linear(x, num_classes, name="classifier.1")
    return b.build()


# --- MobileNetV2 -------------------------------------------------------------------------------------------


def mobilenet_v2(input_shape: Sequence[int] = DEFAULT_INPUT_SHAPE, num_classes: int = 1000) -> Network:
    """MobileNetV2 1.0 (torchvision): inverted residual blocks with ReLU6 and linear bottlenecks."""
    b = NetworkBuilder("mobilenet_v2", _check_args("mobilenet_v2", input_shape, num_classes))
    x = _conv_bn_act(b, b.input, "features.0", 32, 3, 2, act="relu6")
    in_ch, idx = 32, 1
    for t, c, n, s in MOBILENET_V2_SETTING:
        out_ch = make_divisible(c)
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{idx}.conv"
            hidden = in_ch * t
            y, k = x, 0
            if t != 1:
                y = _conv_bn_act(b, y, f"{p}.0", hidden, 1, act="relu6")
                k = 1
            y = _conv_bn_act(b, y, f"{p}.{k}", hidden, 3, stride, groups=hidden, act="relu6")
            y = b.conv(y, out_ch, 1, name=f"{p}.{k + 1}")
            y = b.bn(y, name=f"{p}.{k + 2}")
            if stride == 1 and in_ch == out_ch:
                y = b.eltwise("add", x, y, name=f"features.{idx}.add")
            x, in_ch, idx = y, out_ch, idx + 1
    x = _conv_bn_act(b, x, f"features.{idx}", 1280, 1, act="relu6")
    x = _adaptive_avg_pool(b, x, (1, 1), "avgpool")
    x = b.flatten(x, name="flatten")
    b.linear(x, num_classes, name="classifier.1")
    return b.build()


# --- SqueezeNet 1.1 ----------------------------------------------------------------------------------------


def squeezenet1_1(input_shape: Sequence[int] = DEFAULT_INPUT_SHAPE, num_classes: int = 1000) -> Network:
    """SqueezeNet 1.1 (torchvision): 3x3/2 stem, fire modules, ceil-mode max pools, conv classifier."""
    b = NetworkBuilder("squeezenet1_1", _check_args("squeezenet1_1", input_shape, num_classes))
    x = b.relu(b.conv(b.input, 64, 3, 2, bias=True, name="features.0"), name="features.1")
    x = b.pool(x, "max", 3, 2, ceil_mode=True, name="features.2")
    for i, fire in enumerate(SQUEEZENET1_1_FIRES, start=3):
        p = f"features.{i}"
        if fire is None:
            x = b.pool(x, "max", 3, 2, ceil_mode=True, name=p)
            continue
        _, squeeze, e1, e3 = fire
        x = b.relu(b.conv(x, squeeze, 1, bias=True, name=f"{p}.squeeze"), name=f"{p}.squeeze_activation")
        y1 = b.relu(b.conv(x, e1, 1, bias=True, name=f"{p}.expand1x1"), name=f"{p}.expand1x1_activation")
        y3 = b.relu(b.conv(x, e3, 3, padding=1, bias=True, name=f"{p}.expand3x3"),
                    name=f"{p}.expand3x3_activation")
        x = b.concat(y1, y3, axis=0, name=f"{p}.cat")
    x = b.relu(b.conv(x, num_classes, 1, bias=True, name="classifier.1"), name="classifier.2")
    x = _adaptive_avg_pool(b, x, (1, 1), "classifier.3")
    b.flatten(x, name="flatten")
    return b.build()


# --- EfficientNet-B0 ---------------------------------------------------------------------------------------


def efficientnet_b0(input_shape: Sequence[int] = DEFAULT_INPUT_SHAPE, num_classes: int = 1000) -> Network:
    """EfficientNet-B0 (torchvision): MBConv blocks with squeeze-and-excitation and swish (SiLU)."""
    b = NetworkBuilder("efficientnet_b0", _check_args("efficientnet_b0", input_shape, num_classes))
    x = _conv_bn_act(b, b.input, "features.0", 32, 3, 2, act="swish")
    for stage, (expand, kernel, stride0, in0, out_ch, repeats) in enumerate(EFFICIENTNET_B0_STAGES, start=1):
        for j in range(repeats):
            in_ch, stride = (in0, stride0) if j == 0 else (out_ch, 1)
            p = f"features.{stage}.{j}.block"
            hidden = make_divisible(in_ch * expand)
            y, k = x, 0
            if hidden != in_ch:
                y = _conv_bn_act(b, y, f"{p}.0", hidden, 1, act="swish")
                k = 1
            y = _conv_bn_act(b, y, f"{p}.{k}", hidden, kernel, stride, groups=hidden, act="swish")
            se = f"{p}.{k + 1}"
            s = b.global_pool(y, "avg", name=f"{se}.avgpool")
            s = b.act(b.conv(s, max(1, in_ch // 4), 1, bias=True, name=f"{se}.fc1"), "swish",
                      name=f"{se}.activation")
            s = b.act(b.conv(s, hidden, 1, bias=True, name=f"{se}.fc2"), "sigmoid", name=f"{se}.scale_activation")
            y = b.eltwise("mul", s, y, name=f"{se}.mul")
            y = _conv_bn_act(b, y, f"{p}.{k + 2}", out_ch, 1, act=None)
            if stride == 1 and in_ch == out_ch:
                y = b.eltwise("add", y, x, name=f"features.{stage}.{j}.add")
            x = y
    last_in = EFFICIENTNET_B0_STAGES[-1][4]
    x = _conv_bn_act(b, x, f"features.{len(EFFICIENTNET_B0_STAGES) + 1}", 4 * last_in, 1, act="swish")
    x = _adaptive_avg_pool(b, x, (1, 1), "avgpool")
    x = b.flatten(x, name="flatten")
    b.linear(x, num_classes, name="classifier.1")
    return b.build()


# --- ViT-Tiny/16 -------------------------------------------------------------------------------------------


def vision_transformer(input_shape: Sequence[int] = DEFAULT_INPUT_SHAPE, num_classes: int = 1000, patch: int = 16,
                       dim: int = 192, depth: int = 12, heads: int = 3, mlp_hidden: int = 768,
                       name: str = "vit") -> Network:
    """ViT: patch-embedding conv, class token (a learned operand, so listed last by the IR's concat although
    torch puts it first), learned position embedding, pre-norm blocks with explicit attention (qkv linear,
    reshape, permute, slice, q @ k^T, scale, softmax, @ v), final norm, head on the class token."""
    c, h, w = _check_args(name, input_shape, num_classes)
    if dim % heads:
        raise HwnasError(f"zoo model {name!r}: heads={heads} must divide dim={dim}")
    if h != w or h % patch:
        raise HwnasError(f"zoo model {name!r}: input_shape must be square with a side that is a multiple of "
                         f"the patch size {patch}, got {tuple(input_shape)!r}")
    b = NetworkBuilder(name, (c, h, w))
    grid = h // patch
    tokens = grid * grid + 1
    hd = dim // heads
    x = b.conv(b.input, dim, patch, patch, bias=True, name="patch_embed")
    x = b.reshape(x, (dim, grid * grid), "flatten", name="flatten")
    x = b.reshape(x, (grid * grid, dim), "permute", name="transpose")
    x = b.concat(x, axis=0, params=[(1, dim)], name="cat_cls_token")
    x = b.eltwise("add", x, params=[(tokens, dim)], name="add_pos_embed")
    for i in range(depth):
        p = f"blocks.{i}"
        y = b.layernorm(x, name=f"{p}.norm1")
        y = b.linear(y, 3 * dim, name=f"{p}.attn.qkv")
        y = b.reshape(y, (tokens, 3, heads, hd), name=f"{p}.attn.reshape")
        qkv = b.reshape(y, (3, heads, tokens, hd), "permute", name=f"{p}.attn.permute")
        q = b.reshape(qkv, (heads, tokens, hd), "slice", name=f"{p}.attn.q")
        k = b.reshape(qkv, (heads, tokens, hd), "slice", name=f"{p}.attn.k")
        v = b.reshape(qkv, (heads, tokens, hd), "slice", name=f"{p}.attn.v")
        kt = b.reshape(k, (heads, hd, tokens), "permute", name=f"{p}.attn.k_t")
        a = b.matmul(q, kt, name=f"{p}.attn.q_kt")
        a = b.eltwise("mul", a, name=f"{p}.attn.scale")
        a = b.act(a, "softmax", name=f"{p}.attn.softmax")
        y = b.matmul(a, v, name=f"{p}.attn.attn_v")
        y = b.reshape(y, (tokens, heads, hd), "permute", name=f"{p}.attn.transpose")
        y = b.reshape(y, (tokens, dim), name=f"{p}.attn.merge_heads")
        y = b.linear(y, dim, name=f"{p}.attn.proj")
        x = b.eltwise("add", x, y, name=f"{p}.add_attn")
        y = b.layernorm(x, name=f"{p}.norm2")
        y = b.act(b.linear(y, mlp_hidden, name=f"{p}.mlp.fc1"), "gelu", name=f"{p}.mlp.act")
        y = b.linear(y, dim, name=f"{p}.mlp.fc2")
        x = b.eltwise("add", x, y, name=f"{p}.add_mlp")
    x = b.layernorm(x, name="norm")
    x = b.reshape(x, (dim,), "slice", name="cls_token_out")
    b.linear(x, num_classes, name="head")
    return b.build()


def vit_tiny(input_shape: Sequence[int] = DEFAULT_INPUT_SHAPE, num_classes: int = 1000) -> Network:
    """ViT-Tiny/16 (= DeiT-Ti): embed 192, depth 12, 3 heads, MLP 768."""
    return vision_transformer(input_shape, num_classes, name="vit_tiny")


__all__ = ["DEFAULT_INPUT_SHAPE", "alexnet", "efficientnet_b0", "mobilenet_v1", "mobilenet_v2", "resnet18",
           "resnet50", "squeezenet1_1", "vgg16", "vision_transformer", "vit_tiny"]
