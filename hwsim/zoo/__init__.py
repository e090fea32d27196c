"""Model zoo: reference networks with published cost figures, each written once and materialised twice.

Every entry's ``describe`` (:mod:`hwsim.zoo.models`) is emitted into a :class:`~hwsim.emit.GraphEmitter` for
the workload IR (``get_model("resnet50").build_ir()``, no torch needed) or into a
:class:`~hwsim.emit_torch.TorchEmitter` for the ``nn.Module`` (``build_torch()``), which
:func:`hwsim.importers.torch_fx.from_torch` maps onto a structurally identical network.
``published_macs`` / ``published_params`` are the figures the cited source prints for a 224x224 input (MACs
per image, multiply-accumulates; torchvision calls them "GFLOPS").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from hwsim.emit import GraphEmitter
from hwsim.errors import HwnasError
from hwsim.workload import Network, Shape, WorkloadError
from hwsim.zoo import models

if TYPE_CHECKING:
    import torch
    from torch import nn

Description = Callable[[GraphEmitter, int], str]
"""``describe(emitter, num_classes) -> output tensor name``: a network written once (see :mod:`hwsim.zoo.models`)."""

_TORCHVISION = ("torchvision {weights} weights meta (torchvision/models/{file}.py; the model-docs table "
                "'GFLOPS' and 'Params' columns): _ops = {ops} GMACs, num_params = {params}")


def _check_args(model: str, input_shape: Sequence[int], num_classes: int) -> Shape:
    shape = tuple(input_shape)
    if (len(shape) != 3 or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)
            or shape[0] != 3):
        raise HwnasError(f"zoo model {model!r}: input_shape must be (3, H, W) with positive ints, "
                         f"got {tuple(input_shape)!r}")
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes <= 0:
        raise HwnasError(f"zoo model {model!r}: num_classes must be a positive integer, got {num_classes!r}")
    return shape


def _emit(name: str, describe: Description, e: GraphEmitter, shape: Shape, num_classes: int) -> str:
    try:
        return describe(e, num_classes)
    except WorkloadError as err:  # a layer that cannot run at this size: say which model and input
        raise HwnasError(f"zoo model {name!r} at input_shape {shape}: {err}") from None


def build_ir(name: str, describe: Description, input_shape: Sequence[int], num_classes: int = 1000) -> Network:
    """The workload IR of ``describe`` (network ``name``) for a per-sample ``input_shape`` (3, H, W)."""
    shape = _check_args(name, input_shape, num_classes)
    e = GraphEmitter(name, shape)
    return e.build(_emit(name, describe, e, shape, num_classes))


def build_torch(name: str, describe: Description, input_shape: Sequence[int], num_classes: int = 1000,
                generator: torch.Generator | None = None) -> nn.Module:
    """The torch module of ``describe`` (training mode), built by tracing it at ``input_shape``.

    Module paths are the layer names (``features.0.1``). Without ``generator`` parameters get PyTorch's
    default initialisation from the global RNG; with it the module is built on the meta device and every
    parameter is drawn from ``generator`` by :func:`hwsim.emit_torch.init_parameters` (the global RNG is
    neither used nor changed).
    """
    from hwsim.emit_torch import TorchEmitter, init_parameters

    shape = _check_args(name, input_shape, num_classes)
    e = TorchEmitter(name, shape, device=None if generator is None else "meta", module_prefix="")
    model = e.program(_emit(name, describe, e, shape, num_classes))
    if generator is None:
        return model
    return init_parameters(model.to_empty(device="cpu"), generator)


@dataclass(frozen=True)
class ZooModel:
    """One zoo entry.

    ``describe`` is the network's single description (:data:`Description`); :meth:`build_ir` and
    :meth:`build_torch` materialise it. ``published_macs`` is in MACs per image and ``published_params`` in
    parameters, both as printed by ``source`` for ``default_input_shape``; ``published_params_exact`` says
    whether the source gives an exact count (else it is rounded, e.g. "4.2 M").
    """

    name: str
    describe: Description
    default_input_shape: Shape
    published_macs: int
    published_params: int
    published_params_exact: bool
    source: str

    def __post_init__(self) -> None:
        if self.published_macs <= 0 or self.published_params <= 0:
            raise HwnasError(f"zoo model {self.name!r}: published figures must be positive")

    def build_ir(self, input_shape: Sequence[int] | None = None, num_classes: int = 1000) -> Network:
        """The workload IR for a per-sample ``input_shape`` (C, H, W); default ``default_input_shape``.

        Raises :class:`HwnasError` naming the model (and the layer) when the network cannot run at that size.
        """
        return build_ir(self.name, self.describe, self.default_input_shape if input_shape is None else input_shape,
                        num_classes)

    def build_torch(self, num_classes: int = 1000, generator: torch.Generator | None = None,
                    input_shape: Sequence[int] | None = None) -> nn.Module:
        """The PyTorch module (training mode), from the same description as :meth:`build_ir`.

        It is built at ``input_shape`` (default ``default_input_shape``); the convolutional models run at any
        size the IR allows, the ViT only at the size it was built for. ``generator``: see :func:`build_torch`.
        """
        return build_torch(self.name, self.describe,
                           self.default_input_shape if input_shape is None else input_shape, num_classes, generator)


_ENTRIES = (
    ZooModel("alexnet", models.alexnet, (3, 224, 224), 714_000_000, 61_100_840, True,
             _TORCHVISION.format(weights="AlexNet_Weights.IMAGENET1K_V1", file="alexnet", ops=0.714,
                                 params=61100840)),
    ZooModel("vgg16", models.vgg16, (3, 224, 224), 15_470_000_000, 138_357_544, True,
             _TORCHVISION.format(weights="VGG16_Weights.IMAGENET1K_V1", file="vgg", ops=15.47, params=138357544)),
    ZooModel("resnet18", models.resnet18, (3, 224, 224), 1_814_000_000, 11_689_512, True,
             _TORCHVISION.format(weights="ResNet18_Weights.IMAGENET1K_V1", file="resnet", ops=1.814,
                                 params=11689512)),
    ZooModel("resnet50", models.resnet50, (3, 224, 224), 4_089_000_000, 25_557_032, True,
             _TORCHVISION.format(weights="ResNet50_Weights.IMAGENET1K_V1", file="resnet", ops=4.089,
                                 params=25557032)),
    ZooModel("mobilenet_v1", models.mobilenet_v1, (3, 224, 224), 569_000_000, 4_200_000, False,
             "Howard et al. 2017, 'MobileNets: Efficient Convolutional Neural Networks for Mobile Vision "
             "Applications' (arXiv:1704.04861), Table 8 (also Table 4): 1.0 MobileNet-224, 569 million "
             "Mult-Adds, 4.2 million parameters"),
    ZooModel("mobilenet_v2", models.mobilenet_v2, (3, 224, 224), 301_000_000, 3_504_872, True,
             _TORCHVISION.format(weights="MobileNet_V2_Weights.IMAGENET1K_V1", file="mobilenetv2", ops=0.301,
                                 params=3504872)),
    ZooModel("squeezenet1_1", models.squeezenet1_1, (3, 224, 224), 349_000_000, 1_235_496, True,
             _TORCHVISION.format(weights="SqueezeNet1_1_Weights.IMAGENET1K_V1", file="squeezenet", ops=0.349,
                                 params=1235496)),
    ZooModel("efficientnet_b0", models.efficientnet_b0, (3, 224, 224), 386_000_000,
             5_288_548, True,
             _TORCHVISION.format(weights="EfficientNet_B0_Weights.IMAGENET1K_V1", file="efficientnet", ops=0.386,
                                 params=5288548)),
    ZooModel("vit_tiny", models.vit_tiny, (3, 224, 224), 1_260_000_000, 5_720_000, False,
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


__all__ = ["MODELS", "Description", "ZooModel", "build_ir", "build_torch", "get_model", "list_models"]
