"""The zoo's reference networks, each written once as a description over an emitter (:mod:`hwsim.emit`).

``describe(e, num_classes) -> output`` emits the network into ``e``: a
:class:`~hwsim.emit.GraphEmitter` gives the workload IR (no torch needed), a
:class:`~hwsim.emit_torch.TorchEmitter` the same layers plus the ``nn.Module``
(:class:`~hwsim.emit_torch.GraphProgram`), whose ``torch.fx`` import equals the IR layer for layer.

Each description follows the published architecture layer for layer (torchvision's AlexNet, VGG-16,
ResNet-18/50, MobileNetV2, SqueezeNet 1.1 and EfficientNet-B0; the MobileNet paper's MobileNetV1; timm's
ViT-Tiny/16), so parameter counts equal the published ones exactly. Layer names (and torch module paths) follow
torchvision's module paths (``features.0.1``, ``layer1.0.conv1``, ``classifier.6``); functions that have no
module get a descriptive name (``layer1.0.add``, ``flatten``). Dropout exists on the torch side only.
Conventions of the torch.fx importer that the IR mirrors: an adaptive pool to 1x1 is a global pool, one to
the input size vanishes, one whose input is a multiple of its output is a fixed-window pool; learned tensors
used as operands (class token, position embedding) are trailing parameter operands.
"""

from __future__ import annotations

from hwsim.emit import GraphEmitter, conv_bn
from hwsim.errors import HwnasError
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

# --- AlexNet -----------------------------------------------------------------------------------------------


def alexnet(e: GraphEmitter, num_classes: int) -> str:
    """AlexNet (torchvision's single-tower variant, 61,100,840 parameters): five convs, three max pools,
    adaptive 6x6 average pool, three linear layers (dropout before the first two)."""
    x = e.input
    for i, (out_ch, k, s, p) in zip((0, 3, 6, 8, 10), ((64, 11, 4, 2), (192, 5, 1, 2), (384, 3, 1, 1),
                                                       (256, 3, 1, 1), (256, 3, 1, 1))):
        x = e.conv(x, out_ch, k, s, p, bias=True, name=f"features.{i}")
        x = e.act(x, "relu", name=f"features.{i + 1}")
        if i in (0, 3, 10):
            x = e.pool(x, "max", 3, 2, name=f"features.{i + 2}")
    x = e.adaptive_avg_pool(x, (6, 6), name="avgpool")
    x = e.flatten(x, name="flatten")
    x = e.dropout(x, 0.5, name="classifier.0")
    x = e.act(e.linear(x, 4096, name="classifier.1"), "relu", name="classifier.2")
    x = e.dropout(x, 0.5, name="classifier.3")
    x = e.act(e.linear(x, 4096, name="classifier.4"), "relu", name="classifier.5")
    return e.linear(x, num_classes, name="classifier.6")


# --- VGG-16 ------------------------------------------------------------------------------------------------


def vgg16(e: GraphEmitter, num_classes: int) -> str:
    """VGG-16 without batch norm (torchvision, 138,357,544 parameters): 13 3x3 convs, 5 max pools, adaptive
    7x7 average pool, 3 linear layers (dropout after the first two)."""
    x = e.input
    i = 0
    for v in VGG16_CONFIG:
        if v == "M":
            x = e.pool(x, "max", 2, 2, name=f"features.{i}")
            i += 1
        else:
            assert isinstance(v, int)
            x = e.conv(x, v, 3, 1, 1, bias=True, name=f"features.{i}")
            x = e.act(x, "relu", name=f"features.{i + 1}")
            i += 2
    x = e.adaptive_avg_pool(x, (7, 7), name="avgpool")
    x = e.flatten(x, name="flatten")
    x = e.act(e.linear(x, 4096, name="classifier.0"), "relu", name="classifier.1")
    x = e.dropout(x, 0.5, name="classifier.2")
    x = e.act(e.linear(x, 4096, name="classifier.3"), "relu", name="classifier.4")
    x = e.dropout(x, 0.5, name="classifier.5")
    return e.linear(x, num_classes, name="classifier.6")


# --- ResNet ------------------------------------------------------------------------------------------------


def _conv_bn_relu(e: GraphEmitter, x: str, p: str, i: int, out_ch: int, k: int, stride: int = 1,
                  relu: str | None = None) -> str:
    """``{p}.conv{i}`` -> ``{p}.bn{i}`` (-> ReLU named ``{p}.{relu}``), as in torchvision's blocks."""
    y = e.bn(e.conv(x, out_ch, k, stride, name=f"{p}.conv{i}"), name=f"{p}.bn{i}")
    return e.act(y, "relu", name=f"{p}.{relu}") if relu else y


def _resnet(e: GraphEmitter, num_classes: int, bottleneck: bool, layers: tuple[int, ...]) -> str:
    """torchvision's ResNet: 7x7/2 stem, 3x3/2 max pool, four stages (64/128/256/512 planes), avg pool, fc."""
    x = e.act(e.bn(e.conv(e.input, 64, 7, 2, 3, name="conv1"), name="bn1"), "relu", name="relu")
    x = e.pool(x, "max", 3, 2, 1, name="maxpool")
    expansion = 4 if bottleneck else 1
    in_ch = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers), start=1):
        for j in range(blocks):
            stride = 2 if stage > 1 and j == 0 else 1
            p = f"layer{stage}.{j}"
            out_ch = planes * expansion
            if bottleneck:  # v1.5: stride on the 3x3 conv
                out = _conv_bn_relu(e, x, p, 1, planes, 1, relu="relu")
                out = _conv_bn_relu(e, out, p, 2, planes, 3, stride, relu="relu_1")
                out = _conv_bn_relu(e, out, p, 3, out_ch, 1)
            else:
                out = _conv_bn_relu(e, x, p, 1, planes, 3, stride, relu="relu")
                out = _conv_bn_relu(e, out, p, 2, planes, 3)
            identity = x
            if stride != 1 or in_ch != out_ch:
                identity = conv_bn(e, x, out_ch, 1, stride, act=None, name=f"{p}.downsample")
            x = e.act(e.add(out, identity, name=f"{p}.add"), "relu", name=f"{p}.relu_out")
            in_ch = out_ch
    x = e.adaptive_avg_pool(x, (1, 1), name="avgpool")
    x = e.flatten(x, name="flatten")
    return e.linear(x, num_classes, name="fc")


def resnet18(e: GraphEmitter, num_classes: int) -> str:
    """ResNet-18: basic blocks (2, 2, 2, 2), 11,689,512 parameters."""
    return _resnet(e, num_classes, False, RESNET18_LAYERS)


def resnet50(e: GraphEmitter, num_classes: int) -> str:
    """ResNet-50 v1.5: bottleneck blocks (3, 4, 6, 3), 25,557,032 parameters."""
    return _resnet(e, num_classes, True, RESNET50_LAYERS)


# --- MobileNetV1 -------------------------------------------------------------------------------------------


def mobilenet_v1(e: GraphEmitter, num_classes: int) -> str:
    """MobileNetV1 1.0-224 (Howard et al. 2017, Table 1): 3x3/2 conv, 13 depthwise-separable blocks, avg pool,
    fc. Every conv is followed by BatchNorm and ReLU; the softmax of the paper is left to the loss."""
    x = conv_bn(e, e.input, 32, 3, 2, name="features.0")
    in_ch = 32
    for i, (out_ch, stride) in enumerate(MOBILENET_V1_BLOCKS, start=1):
        x = conv_bn(e, x, in_ch, 3, stride, groups=in_ch, name=f"features.{i}.0")
        x = conv_bn(e, x, out_ch, 1, name=f"features.{i}.1")
        in_ch = out_ch
    x = e.adaptive_avg_pool(x, (1, 1), name="avgpool")
    x = e.flatten(x, name="flatten")
    x = e.dropout(x, 0.0, name="classifier.0")
    return e.linear(x, num_classes, name="classifier.1")


# --- MobileNetV2 -------------------------------------------------------------------------------------------


def mobilenet_v2(e: GraphEmitter, num_classes: int) -> str:
    """MobileNetV2 1.0 (torchvision, 3,504,872 parameters): inverted residual blocks (1x1 expand, 3x3 depthwise,
    both ReLU6, linear 1x1 projection, residual when shapes agree)."""
    x = conv_bn(e, e.input, 32, 3, 2, act="relu6", name="features.0")
    in_ch, idx = 32, 1
    for t, c, n, s in MOBILENET_V2_SETTING:
        out_ch = make_divisible(c)
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{idx}.conv"
            hidden = in_ch * t
            y, k = x, 0
            if t != 1:
                y = conv_bn(e, y, hidden, 1, act="relu6", name=f"{p}.0")
                k = 1
            y = conv_bn(e, y, hidden, 3, stride, groups=hidden, act="relu6", name=f"{p}.{k}")
            y = e.conv(y, out_ch, 1, name=f"{p}.{k + 1}")
            y = e.bn(y, name=f"{p}.{k + 2}")
            if stride == 1 and in_ch == out_ch:
                y = e.add(x, y, name=f"features.{idx}.add")
            x, in_ch, idx = y, out_ch, idx + 1
    x = conv_bn(e, x, 1280, 1, act="relu6", name=f"features.{idx}")
    x = e.adaptive_avg_pool(x, (1, 1), name="avgpool")
    x = e.flatten(x, name="flatten")
    x = e.dropout(x, 0.2, name="classifier.0")
    return e.linear(x, num_classes, name="classifier.1")


# --- SqueezeNet 1.1 ----------------------------------------------------------------------------------------


def squeezenet1_1(e: GraphEmitter, num_classes: int) -> str:
    """SqueezeNet 1.1 (torchvision, 1,235,496 parameters): 3x3/2 stem, fire modules (1x1 squeeze, parallel
    1x1 and 3x3 expands concatenated), ceil-mode max pools, conv classifier."""
    x = e.act(e.conv(e.input, 64, 3, 2, 0, bias=True, name="features.0"), "relu", name="features.1")
    x = e.pool(x, "max", 3, 2, ceil_mode=True, name="features.2")
    for i, fire in enumerate(SQUEEZENET1_1_FIRES, start=3):
        p = f"features.{i}"
        if fire is None:
            x = e.pool(x, "max", 3, 2, ceil_mode=True, name=p)
            continue
        _, squeeze, e1, e3 = fire
        x = e.act(e.conv(x, squeeze, 1, bias=True, name=f"{p}.squeeze"), "relu", name=f"{p}.squeeze_activation")
        y1 = e.act(e.conv(x, e1, 1, bias=True, name=f"{p}.expand1x1"), "relu", name=f"{p}.expand1x1_activation")
        y3 = e.act(e.conv(x, e3, 3, padding=1, bias=True, name=f"{p}.expand3x3"), "relu",
                   name=f"{p}.expand3x3_activation")
        x = e.concat(y1, y3, axis=0, name=f"{p}.cat")
    x = e.dropout(x, 0.5, name="classifier.0")
    x = e.act(e.conv(x, num_classes, 1, bias=True, name="classifier.1"), "relu", name="classifier.2")
    x = e.adaptive_avg_pool(x, (1, 1), name="classifier.3")
    return e.flatten(x, name="flatten")


# --- EfficientNet-B0 ---------------------------------------------------------------------------------------


def _squeeze_excitation(e: GraphEmitter, x: str, squeeze: int, p: str) -> str:
    """SE: global average pool, 1x1 conv reduce (SiLU), 1x1 conv expand (sigmoid), channel-wise rescale."""
    s = e.global_avg(x, name=f"{p}.avgpool")
    s = e.act(e.conv(s, squeeze, 1, bias=True, name=f"{p}.fc1"), "swish", name=f"{p}.activation")
    s = e.act(e.conv(s, e.channels(x), 1, bias=True, name=f"{p}.fc2"), "sigmoid", name=f"{p}.scale_activation")
    return e.mul(s, x, name=f"{p}.mul")


def efficientnet_b0(e: GraphEmitter, num_classes: int) -> str:
    """EfficientNet-B0 (torchvision, 5,288,548 parameters): MBConv blocks (1x1 expand, kxk depthwise, SE with
    squeeze = input channels / 4, linear 1x1 projection; SiLU) with residuals when shapes agree (stochastic
    depth is a no-op at inference and is left out)."""
    x = conv_bn(e, e.input, 32, 3, 2, act="swish", name="features.0")
    for stage, (expand, kernel, stride0, in0, out_ch, repeats) in enumerate(EFFICIENTNET_B0_STAGES, start=1):
        for j in range(repeats):
            in_ch, stride = (in0, stride0) if j == 0 else (out_ch, 1)
            p = f"features.{stage}.{j}.block"
            hidden = make_divisible(in_ch * expand)
            y, k = x, 0
            if hidden != in_ch:
                y = conv_bn(e, y, hidden, 1, act="swish", name=f"{p}.0")
                k = 1
            y = conv_bn(e, y, hidden, kernel, stride, groups=hidden, act="swish", name=f"{p}.{k}")
            y = _squeeze_excitation(e, y, max(1, in_ch // 4), f"{p}.{k + 1}")
            y = conv_bn(e, y, out_ch, 1, act=None, name=f"{p}.{k + 2}")
            if stride == 1 and in_ch == out_ch:
                y = e.add(y, x, name=f"features.{stage}.{j}.add")
            x = y
    last_in = EFFICIENTNET_B0_STAGES[-1][4]
    x = conv_bn(e, x, 4 * last_in, 1, act="swish", name=f"features.{len(EFFICIENTNET_B0_STAGES) + 1}")
    x = e.adaptive_avg_pool(x, (1, 1), name="avgpool")
    x = e.flatten(x, name="flatten")
    x = e.dropout(x, 0.2, name="classifier.0")
    return e.linear(x, num_classes, name="classifier.1")


# --- ViT ---------------------------------------------------------------------------------------------------


def vision_transformer(e: GraphEmitter, num_classes: int, patch: int = 16, dim: int = 192, depth: int = 12,
                       heads: int = 3, mlp_hidden: int = 768) -> str:
    """ViT (Dosovitskiy et al. 2021) laid out as timm's ``VisionTransformer``: patch-embedding conv, class token
    (a learned operand: first in torch, last in the IR's concat), learned position embedding, pre-norm blocks
    with explicit attention (qkv linear, reshape, permute, select q/k/v, q @ k^T, scale, softmax, @ v), final
    norm, head on the class token. Layer norms use eps 1e-6. The input must be square, a multiple of ``patch``.
    """
    c, h, w = e.shape(e.input)
    if dim % heads:
        raise HwnasError(f"zoo model {e.name!r}: heads={heads} must divide dim={dim}")
    if h != w or h % patch:
        raise HwnasError(f"zoo model {e.name!r}: input_shape must be square with a side that is a multiple of "
                         f"the patch size {patch}, got {(c, h, w)!r}")
    grid = h // patch
    tokens = grid * grid + 1
    hd = dim // heads
    x = e.conv(e.input, dim, patch, patch, 0, bias=True, name="patch_embed")
    x = e.flatten(x, start=1, name="flatten")
    x = e.permute(x, (1, 0), name="transpose")
    x = e.cat_param(x, "cls_token", (1, dim), axis=0, name="cat_cls_token")
    x = e.add_param(x, "pos_embed", (tokens, dim), name="add_pos_embed")
    for i in range(depth):
        p = f"blocks.{i}"
        y = e.layernorm(x, eps=1e-6, name=f"{p}.norm1")
        y = e.linear(y, 3 * dim, name=f"{p}.attn.qkv")
        y = e.reshape(y, (tokens, 3, heads, hd), name=f"{p}.attn.reshape")
        qkv = e.permute(y, (1, 2, 0, 3), name=f"{p}.attn.permute")
        q = e.select(qkv, 0, 0, name=f"{p}.attn.q")
        k = e.select(qkv, 0, 1, name=f"{p}.attn.k")
        v = e.select(qkv, 0, 2, name=f"{p}.attn.v")
        kt = e.permute(k, (0, 2, 1), name=f"{p}.attn.k_t")
        a = e.matmul(q, kt, name=f"{p}.attn.q_kt")
        a = e.scale(a, hd ** -0.5, name=f"{p}.attn.scale")
        a = e.act(a, "softmax", name=f"{p}.attn.softmax")
        y = e.matmul(a, v, name=f"{p}.attn.attn_v")
        y = e.permute(y, (1, 0, 2), name=f"{p}.attn.transpose")
        y = e.reshape(y, (tokens, dim), name=f"{p}.attn.merge_heads")
        y = e.linear(y, dim, name=f"{p}.attn.proj")
        x = e.add(x, y, name=f"{p}.add_attn")
        y = e.layernorm(x, eps=1e-6, name=f"{p}.norm2")
        y = e.act(e.linear(y, mlp_hidden, name=f"{p}.mlp.fc1"), "gelu", name=f"{p}.mlp.act")
        y = e.linear(y, dim, name=f"{p}.mlp.fc2")
        x = e.add(x, y, name=f"{p}.add_mlp")
    x = e.layernorm(x, eps=1e-6, name="norm")
    x = e.select(x, 0, 0, name="cls_token_out")
    return e.linear(x, num_classes, name="head")


def vit_tiny(e: GraphEmitter, num_classes: int) -> str:
    """ViT-Tiny/16 (= DeiT-Ti, 5,717,416 parameters at 224x224): embed 192, depth 12, 3 heads, MLP 768."""
    return vision_transformer(e, num_classes)


__all__ = ["alexnet", "efficientnet_b0", "mobilenet_v1", "mobilenet_v2", "resnet18", "resnet50",
           "squeezenet1_1", "vgg16", "vision_transformer", "vit_tiny"]
