"""Architecture tables shared by the torch models and their IR twins (no torch import here)."""

from __future__ import annotations

VGG16_CONFIG: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                                       512, 512, 512, "M")
"""torchvision's VGG configuration "D": output channels of the 3x3 convs, "M" for a 2x2/2 max pool."""

RESNET18_LAYERS: tuple[int, ...] = (2, 2, 2, 2)
"""Basic blocks per stage of ResNet-18 (He et al. 2016, Table 1)."""

RESNET50_LAYERS: tuple[int, ...] = (3, 4, 6, 3)
"""Bottleneck blocks per stage of ResNet-50 (He et al. 2016, Table 1)."""

MOBILENET_V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
"""Depthwise-separable blocks of Howard et al. 2017, Table 1: (pointwise output channels, depthwise stride)."""

MOBILENET_V2_SETTING: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
"""Sandler et al. 2018, Table 2: (expansion t, output channels c, repeats n, first stride s)."""

SQUEEZENET1_1_FIRES: tuple[tuple[int, int, int, int] | None, ...] = (
    (64, 16, 64, 64), (128, 16, 64, 64), None, (128, 32, 128, 128), (256, 32, 128, 128), None,
    (256, 48, 192, 192), (384, 48, 192, 192), (384, 64, 256, 256), (512, 64, 256, 256))
"""torchvision's SqueezeNet 1.1 after the stem: Fire(in, squeeze, e1x1, e3x3), None for a 3x3/2 ceil max pool."""

EFFICIENTNET_B0_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1))
"""Tan & Le 2019, Table 1: (expand ratio, kernel, first stride, input channels, output channels, repeats)."""


def make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's channel rounding: nearest multiple of ``divisor``, never below 90% of ``value``."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new
