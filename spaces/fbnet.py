"""FBNet search space as benchmarked by HW-NAS-Bench: 22 searchable layers x 9 ops.

Op order (HW-NAS-Bench, so ``latency/fbnet_*.csv`` op-index rows decode directly with
:meth:`SearchSpace.from_indices`): k3_e1, k3_e1_g2, k3_e3, k3_e6, k5_e1, k5_e1_g2, k5_e3, k5_e6, skip.

Macro-architecture (FBNet Table 1 as used by HW-NAS-Bench): stem 3x3 conv-BN-ReLU 16; stages of
(channels, repeats, first stride) = (16,1,1) (24,4,2) (32,4,2) (64,4,2) (112,4,1) (184,4,2) (352,1,1); head 1x1
conv-BN-ReLU (1984 on ImageNet, 1504 on CIFAR), global average pool, FC. ImageNet: 224 input, stem stride 2.
CIFAR (HW-NAS-Bench's 32x32 variant, as in its block LUT): stem stride 1 and the 24-channel stage at stride 1.
Blocks: HW-NAS-Bench ConvBlock (1x1 grouped expansion of C_in, channel shuffle for g2, depthwise kxk, grouped
1x1 projection, identity shortcut when the shape is unchanged); ``skip`` is identity or a 1x1 conv-BN-ReLU when
the shape changes.
"""

from __future__ import annotations

from spaces.backbone import BackboneModel, Head, LayerSpec, Stem, layer_labels
from spaces.core import Choice, SearchSpace

FBNET_OPS = ("k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip")
STAGES = ((16, 1, 1), (24, 4, 2), (32, 4, 2), (64, 4, 2), (112, 4, 1), (184, 4, 2), (352, 1, 1))


def _layers(first_strides: tuple[int, ...]) -> tuple[LayerSpec, ...]:
    out = []
    for (c, n, _), s in zip(STAGES, first_strides):
        out += [LayerSpec(c, s)] + [LayerSpec(c, 1)] * (n - 1)
    return tuple(out)


def fbnet_space(cifar: bool = False) -> SearchSpace:
    """FBNet space (ImageNet 224 by default, or HW-NAS-Bench's CIFAR 32x32 variant with 100 classes)."""
    if cifar:
        model = BackboneModel(Stem(16, 3, 1), _layers((1, 1, 2, 2, 1, 2, 1)), Head(1504), input_size=32,
                              num_classes=100)
    else:
        model = BackboneModel(Stem(16, 3, 2), _layers(tuple(s for _, _, s in STAGES)), Head(1984),
                              input_size=224, num_classes=1000)
    labels = layer_labels(len(model.layers))
    return SearchSpace("fbnet-cifar" if cifar else "fbnet", tuple(Choice(lb, FBNET_OPS) for lb in labels), model,
                       description="FBNet space (HW-NAS-Bench op order)")
