"""Model zoo: reference networks as PyTorch modules and as workload-IR twins, with published cost figures.

``get_model("resnet50").build_ir()`` gives the :class:`~hwsim.workload.Network` directly (no torch needed);
``build_torch()`` gives the equivalent ``nn.Module``, which :func:`hwsim.importers.torch_fx.from_torch` maps
onto a structurally identical network. ``published_macs`` / ``published_params`` are the figures the cited
source prints for a 224x224 input (MACs per image, multiply-accumulates; torchvision calls them "GFLOPS").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from hwsim.errors import HwnasError
from hwsim.workload import Network, Shape, WorkloadError
from hwsim.zoo import ir_models

if TYPE_CHECKING:
    import torch
    from torch import nn

_TORCHVISION = ("torchvision {weights} weights meta (torchvision/models/{file}.py; the model-docs table "
                "'GFLOPS' and 'Params' columns): _ops = {ops} GMACs, num_params = {params}")


@dataclass(frozen=True)
class ZooModel:
    """One zoo entry.

    ``torch_factory`` names a callable in :mod:`hwsim.zoo.torch_models` taking ``num_classes``;
    ``ir_factory`` builds the IR twin from ``(input_shape, num_classes)``. ``published_macs`` is in MACs
    per image and ``published_params`` in parameters, both as printed by ``source`` for
    ``default_input_shape``; ``published_params_exact`` says whether the source gives an exact count
    (else it is rounded, e.g. "4.2 M").
    """

    name: str
    torch_factory: str
    ir_factory: Callable[[Sequence[int], int], Network]
    default_input_shape: Shape
    published_macs: int
    published_params: int
    published_params_exact: bool
    source: str

    def __post_init__(self) -> None:
        if self.published_macs <= 0 or self.published_params <= 0:
            raise HwnasError(f"zoo model {self.name!r}: published figures must be positive")

    def build_ir(self, input_shape: Sequence[int] | None = None, num_classes: int = 1000) -> Network:
        """The workload-IR twin for a per-sample ``input_shape`` (C, H, W); default ``default_input_shape``.

        Raises :class:`HwnasError` naming the model (and the layer) when the network cannot run at that size.
        """
        shape = self.default_input_shape if input_shape is None else tuple(input_shape)
        try:
            return self.ir_factory(shape, num_classes)
        except WorkloadError as e:  # a layer that cannot run at this size: say which model and input
            raise HwnasError(f"zoo model {self.name!r} at input_shape {shape}: {e}") from None

    def build_torch(self, num_classes: int = 1000, generator: torch.Generator | None = None) -> nn.Module:
        """The PyTorch module (training mode, as constructed).

        Without ``generator`` parameters get PyTorch's default initialisation from the global RNG (seed it
        yourself for reproducibility). With ``generator`` the module is built on the meta device and every
        parameter is drawn from ``generator`` by :func:`hwsim.zoo.torch_models.init_parameters`, so the
        global RNG is neither used nor changed.
        """
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes <= 0:
            raise HwnasError(f"zoo model {self.name!r}: num_classes must be a positive integer, got {num_classes!r}")
        import torch

        tm = importlib.import_module("hwsim.zoo.torch_models")
        factory = getattr(tm, self.torch_factory)
        if generator is None:
            return factory(num_classes)
        with torch.device("meta"):
            model = factory(num_classes)
        model = model.to_empty(device="cpu")
        return tm.init_parameters(model, generator)


_ENTRIES = (
    ZooModel("alexnet", "AlexNet", ir_models.alexnet, (3, 224, 224), 714_000_000, 61_100_840, True,
             _TORCHVISION.format(weights="AlexNet_Weights.IMAGENET1K_V1", file="alexnet", ops=0.714,
                                 params=61100840)),
    ZooModel("vgg16", "VGG16", ir_models.vgg16, (3, 224, 224), 15_470_000_000, 138_357_544, True,
             _TORCHVISION.format(weights="VGG16_Weights.IMAGENET1K_V1", file="vgg", ops=15.47, params=138357544)),
    ZooModel("resnet18", "resnet18", ir_models.resnet18, (3, 224, 224), 1_814_000_000, 11_689_512, True,
             _TORCHVISION.format(weights="ResNet18_Weights.IMAGENET1K_V1", file="resnet", ops=1.814,
                                 params=11689512)),
    ZooModel("resnet50", "resnet50", ir_models.resnet50, (3, 224, 224), 4_089_000_000, 25_557_032, True,
             _TORCHVISION.format(weights="ResNet50_Weights.IMAGENET1K_V1", file="resnet", ops=4.089,
                                 params=25557032)),
    ZooModel("mobilenet_v1", "MobileNetV1", ir_models.mobilenet_v1, (3, 224, 224), 569_000_000, 4_200_000, False,
             "Howard et al. 2017, 'MobileNets: Efficient Convolutional Neural Networks for Mobile Vision "
             "Applications' (arXiv:1704.04861), Table 8 (also Table 4): 1.0 MobileNet-224, 569 million "
             "Mult-Adds, 4.2 million parameters"),
    ZooModel("mobilenet_v2", "MobileNetV2", ir_models.mobilenet_v2, (3, 224, 224), 301_000_000, 3_504_872, True,
             _TORCHVISION.format(weights="MobileNet_V2_Weights.IMAGENET1K_V1", file="mobilenetv2", ops=0.301,
                                 params=3504872)),
    ZooModel("squeezenet1_1", "SqueezeNet11", ir_models.squeezenet1_1, (3, 224, 224), 349_000_000, 1_235_496, True,
             _TORCHVISION.format(weights="SqueezeNet1_1_Weights.IMAGENET1K_V1", file="squeezenet", ops=0.349,
                                 params=1235496)),
    ZooModel("efficientnet_b0", "EfficientNetB0", ir_models.efficientnet_b0, (3, 224, 224), 386_000_000,
             5_288_548, True,
             _TORCHVISION.format(weights="EfficientNet_B0_Weights.IMAGENET1K_V1", file="efficientnet", ops=0.386,
                                 params=5288548)),
    ZooModel("vit_tiny", "vit_tiny", ir_models.vit_tiny, (3, 224, 224), 1_260_000_000, 5_720_000, False,
             "OpenMMLab MMPretrain, configs/deit/README.md, model deit-tiny_4xb256_in1k (DeiT-Ti = ViT-Tiny/16, "
             "Touvron et al. 2021): Params 5.72 M, Flops 1.26 G (MACs, attention products included). "
             "Touvron et al. 2021, Table 1 gives only '5M' parameters"),
)

MODELS: Mapping[str, ZooModel] = MappingProxyType({m.name: m for m in _ENTRIES})
"""All zoo entries by name (read-only)."""


def list_models() -> tuple[str, ...]:
    """Names of the zoo models, in registry order."""
    return tuple(MODELS)


def get_model(name: str) -> ZooModel:
    """The zoo entry called ``name``; :class:`HwnasError` naming the valid names when unknown."""
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise HwnasError(f"unknown zoo model {name!r}; expected one of {', '.join(MODELS)}") from None


__all__ = ["MODELS", "ZooModel", "get_model", "list_models"]
