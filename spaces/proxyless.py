"""ProxylessNAS / MobileNetV2 search space (Cai et al., ICLR 2019, the supernet of proxyless_nas).

Stem 3x3 stride-2 conv-BN-ReLU6 with 32 channels, a fixed MBConv k3 e1 to 16 channels, then 21 searchable
layers in stages (channels, repeats, first stride) = (24,4,2) (40,4,2) (80,4,2) (96,4,1) (192,4,2) (320,1,1);
head 1x1 conv-BN-ReLU6 to 1280, global average pool, FC. Candidates: MBConv kernel 3/5/7 x expansion 3/6, plus
``skip`` (identity) on every layer except the first of a stage (where the shape changes).

``width_mult`` scales the stem, the fixed block and the stages as proxyless_nas / OFA do
(``make_divisible(c * width_mult, 8)``; the 1280-channel head is scaled only above 1.0).
:data:`PROXYLESS_MOBILE` is the published ProxylessNAS-Mobile architecture in this space.
"""

from __future__ import annotations

from spaces.backbone import BackboneModel, Head, LayerSpec, Stem
from spaces.core import Choice, SearchSpace, SpaceError

MBCONV_OPS = ("mb_k3_e3", "mb_k3_e6", "mb_k5_e3", "mb_k5_e6", "mb_k7_e3", "mb_k7_e6")
STAGES = ((24, 4, 2), (40, 4, 2), (80, 4, 2), (96, 4, 1), (192, 4, 2), (320, 1, 1))

PROXYLESS_MOBILE: dict[str, str] = {f"layer{i}": op for i, op in enumerate((
    "mb_k5_e3", "mb_k3_e3", "skip", "skip",
    "mb_k7_e3", "mb_k3_e3", "mb_k5_e3", "mb_k5_e3",
    "mb_k7_e6", "mb_k5_e3", "mb_k5_e3", "mb_k5_e3",
    "mb_k5_e6", "mb_k5_e3", "mb_k5_e3", "mb_k5_e3",
    "mb_k7_e6", "mb_k7_e6", "mb_k7_e3", "mb_k7_e3",
    "mb_k7_e6"))}
"""ProxylessNAS-Mobile (the ``proxyless_mobile`` net of proxyless_nas / OFA; Cai et al. 2019, Fig. 4), one
block per searchable layer. At ``width_mult = 0.5`` its per-node MOPs equal the DPU profile of
ProxylessNAS-Mobile 0.5 in ``../shared/data/dpu/dpu_layer_profiles.csv`` (checked by benchmarks/dpu_vs_board.py)."""


def _scaled(channels: int, width_mult: float) -> int:
    """proxyless_nas channel rounding: nearest multiple of 8, never below 90% of the scaled value."""
    value = channels * width_mult
    new = max(8, int(value + 4) // 8 * 8)
    return new + 8 if new < 0.9 * value else new


def proxyless_space(input_size: int = 224, num_classes: int = 1000, width_mult: float = 1.0) -> SearchSpace:
    """The ProxylessNAS space (6^6 x 7^15 architectures) at a channel ``width_mult`` (> 0)."""
    if isinstance(width_mult, bool) or not isinstance(width_mult, (int, float)) or not width_mult > 0:
        raise SpaceError(f"proxyless: width_mult must be a positive number, got {width_mult!r}")
    layers: list[LayerSpec] = []
    choices: list[Choice] = []
    for c, n, s in STAGES:
        for r in range(n):
            layers.append(LayerSpec(_scaled(c, width_mult), s if r == 0 else 1))
            choices.append(Choice(f"layer{len(choices)}", MBCONV_OPS if r == 0 else MBCONV_OPS + ("skip",)))
    head = _scaled(1280, width_mult) if width_mult > 1.0 else 1280
    model = BackboneModel(Stem(_scaled(32, width_mult), 3, 2, "relu6"), tuple(layers), Head(head, "relu6"),
                          fixed=(LayerSpec(_scaled(16, width_mult), 1, "mb_k3_e1"),), input_size=input_size,
                          num_classes=num_classes)
    if width_mult == 1.0:
        return SearchSpace("proxyless", tuple(choices), model, description="ProxylessNAS / MobileNetV2 space")
    return SearchSpace(f"proxyless-w{width_mult:g}", tuple(choices), model,
                       description=f"ProxylessNAS / MobileNetV2 space, width {width_mult:g}")
