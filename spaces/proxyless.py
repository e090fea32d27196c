"""ProxylessNAS / MobileNetV2 search space (Cai et al., ICLR 2019, the supernet of proxyless_nas).

Stem 3x3 stride-2 conv-BN-ReLU6 with 32 channels, a fixed MBConv k3 e1 to 16 channels, then 21 searchable
layers in stages (channels, repeats, first stride) = (24,4,2) (40,4,2) (80,4,2) (96,4,1) (192,4,2) (320,1,1);
head 1x1 conv-BN-ReLU6 to 1280, global average pool, FC. Candidates: MBConv kernel 3/5/7 x expansion 3/6, plus
``skip`` (identity) on every layer except the first of a stage (where the shape changes).
"""

from __future__ import annotations

from spaces.backbone import BackboneModel, Head, LayerSpec, Stem
from spaces.core import Choice, SearchSpace

MBCONV_OPS = ("mb_k3_e3", "mb_k3_e6", "mb_k5_e3", "mb_k5_e6", "mb_k7_e3", "mb_k7_e6")
STAGES = ((24, 4, 2), (40, 4, 2), (80, 4, 2), (96, 4, 1), (192, 4, 2), (320, 1, 1))


def proxyless_space(input_size: int = 224, num_classes: int = 1000) -> SearchSpace:
    """The ProxylessNAS space (6^6 x 7^15 architectures)."""
    layers: list[LayerSpec] = []
    choices: list[Choice] = []
    for c, n, s in STAGES:
        for r in range(n):
            layers.append(LayerSpec(c, s if r == 0 else 1))
            choices.append(Choice(f"layer{len(choices)}", MBCONV_OPS if r == 0 else MBCONV_OPS + ("skip",)))
    model = BackboneModel(Stem(32, 3, 2, "relu6"), tuple(layers), Head(1280, "relu6"),
                          fixed=(LayerSpec(16, 1, "mb_k3_e1"),), input_size=input_size, num_classes=num_classes)
    return SearchSpace("proxyless", tuple(choices), model, description="ProxylessNAS / MobileNetV2 space")
