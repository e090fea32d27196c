"""The BBSSP candidate block families (Zeng et al., ASP-DAC 2020) on the FBNet-like backbone.

Exactly as in ``docs/bbssp.md``: Res (9 blocks, typical 0), Mobile (9, typical 1; the authors' PyTorch form
``mobile`` and the MobileNetV2 depthwise form ``mobilev2``, built as the authors' Caffe scripts built the blocks
they measured: the 1x1 expand is kept at e = 1 and a ReLU follows the block), VGG (13, typical 5).

* ImageNet backbone: 224 input, 3x3 stride-2 stem with 16 channels, 12 searchable layers (channels 16, 24, 24,
  32, 32, 64, 64, 112, 112, 184, 184, 352; stride 2 at layers 1, 3, 5, 9), 1x1 conv to 1504, global average
  pool, FC (1000 classes).
* CIFAR backbone: 32 input, 3x3 stride-1 stem with 16 channels, 10 layers (channels 16, 24, 24, 32, 32, 64, 64,
  128, 128, 256; strides 1,2,1,2,1,2,1,2,1,1). bbssp.md does not name its head: we use a 1x1 conv to 1024
  (about 4x the last width, as 1504/352 on ImageNet), global average pool, FC (10 classes).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from spaces.backbone import BackboneModel, Head, LayerSpec, Stem, layer_labels
from spaces.core import Choice, SearchSpace, SpaceError

IMAGENET_CHANNELS = (16, 24, 24, 32, 32, 64, 64, 112, 112, 184, 184, 352)
IMAGENET_STRIDES = tuple(2 if i in (1, 3, 5, 9) else 1 for i in range(12))
CIFAR_CHANNELS = (16, 24, 24, 32, 32, 64, 64, 128, 128, 256)
CIFAR_STRIDES = (1, 2, 1, 2, 1, 2, 1, 2, 1, 1)

#: family -> (candidate block names in the authors' order, typical block)
FAMILIES: Mapping[str, tuple[tuple[str, ...], str]] = MappingProxyType({
    "res": (tuple(f"res{j}" for j in range(9)), "res0"),
    "mobile": (tuple(f"mobile{j}" for j in range(9)), "mobile1"),
    "mobilev2": (tuple(f"mbv2_{j}" for j in range(9)), "mbv2_1"),
    "vgg": (tuple(f"vgg{j}" for j in range(13)), "vgg5"),
})


def bbssp_backbone(cifar: bool = False) -> BackboneModel:
    """The FBNet-like backbone of bbssp.md (ImageNet 224 or CIFAR 32 variant)."""
    if cifar:
        return BackboneModel(Stem(16, 3, 1), tuple(LayerSpec(c, s) for c, s in zip(CIFAR_CHANNELS, CIFAR_STRIDES)),
                             Head(1024), input_size=32, num_classes=10)
    return BackboneModel(Stem(16, 3, 2), tuple(LayerSpec(c, s) for c, s in zip(IMAGENET_CHANNELS, IMAGENET_STRIDES)),
                         Head(1504), input_size=224, num_classes=1000)


def bbssp_space(family: str, cifar: bool = False) -> SearchSpace:
    """Search space of one BBSSP family: every layer chooses among the family's blocks."""
    if family not in FAMILIES:
        raise SpaceError(f"unknown BBSSP family {family!r}; expected one of {', '.join(FAMILIES)}")
    blocks, typical = FAMILIES[family]
    model = bbssp_backbone(cifar)
    labels = layer_labels(len(model.layers))
    name = f"bbssp-{family}" + ("-cifar" if cifar else "")
    return SearchSpace(name, tuple(Choice(lb, blocks) for lb in labels), model, typical=(typical,) * len(labels),
                       description=f"BBSSP {family} family on the {'CIFAR' if cifar else 'ImageNet'} backbone")
