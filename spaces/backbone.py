"""Layer-wise backbones: stem -> fixed blocks -> searchable layers (one :class:`~spaces.core.Choice` each) -> head.

Shared by the BBSSP families, FBNet, ProxylessNAS and user TOML spaces. The head is an optional 1x1 conv-BN-act,
global average pooling, flatten and a linear classifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from hwsim.emit import GraphEmitter, conv_bn
from hwsim.formats import build
from spaces.core import Arch, SearchSpace, SpaceError
from spaces.ops import ACTS, get_block


def _pos(where: str, **values: Any) -> None:
    for k, v in values.items():
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise SpaceError(f"{where}: {k} must be a positive integer, got {v!r}")


@dataclass(frozen=True)
class Stem:
    """First conv-BN-act: ``out_channels`` x ``kernel`` x ``kernel``, ``stride``."""

    out_channels: int
    kernel: int = 3
    stride: int = 2
    act: str = "relu"

    def __post_init__(self) -> None:
        _pos("stem", out_channels=self.out_channels, kernel=self.kernel, stride=self.stride)
        if self.act not in ACTS:
            raise SpaceError(f"stem: act must be one of {ACTS}, got {self.act!r}")


@dataclass(frozen=True)
class LayerSpec:
    """A layer slot: output channels and stride; ``block`` is set for fixed (non-searchable) layers."""

    out_channels: int
    stride: int = 1
    block: str | None = None

    def __post_init__(self) -> None:
        _pos("layer", out_channels=self.out_channels, stride=self.stride)


@dataclass(frozen=True)
class Head:
    """Classifier head: optional 1x1 conv-BN-act to ``conv_channels`` (0 = none), global avg pool, linear."""

    conv_channels: int = 0
    act: str = "relu"

    def __post_init__(self) -> None:
        if not isinstance(self.conv_channels, int) or self.conv_channels < 0:
            raise SpaceError(f"head: conv_channels must be a non-negative integer, got {self.conv_channels!r}")
        if self.act not in ACTS:
            raise SpaceError(f"head: act must be one of {ACTS}, got {self.act!r}")


@dataclass(frozen=True)
class BackboneModel:
    """Stem, ``fixed`` blocks, one searchable layer per choice (in choice order), head.

    ``input_size`` (pixels) and ``num_classes`` are the defaults of :meth:`SearchSpace.to_workload`.
    """

    stem: Stem
    layers: tuple[LayerSpec, ...]
    head: Head
    fixed: tuple[LayerSpec, ...] = ()
    input_size: int = 224
    num_classes: int = 1000
    in_channels: int = 3
    kind: ClassVar[str] = "backbone"

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "fixed", tuple(self.fixed))
        _pos("backbone", input_size=self.input_size, num_classes=self.num_classes)
        for i, f in enumerate(self.fixed):
            if f.block is None:
                raise SpaceError(f"backbone: fixed[{i}] needs a block")
            get_block(f.block, f"backbone: fixed[{i}].block")

    def check(self, space: SearchSpace) -> None:
        """Every candidate block must be known and fit its layer's channels/stride."""
        if len(space.choices) != len(self.layers):
            raise SpaceError(f"space {space.name!r}: {len(space.choices)} choices for {len(self.layers)} layers")
        cin = self.stem.out_channels
        for f in self.fixed:
            cin = f.out_channels
        for i, (c, layer) in enumerate(zip(space.choices, self.layers)):
            for b in c.candidates:
                get_block(b, f"space {space.name!r}: {c.label}").check(cin, layer.out_channels, layer.stride,
                                                                        f"space {space.name!r}: {c.label}")
            cin = layer.out_channels

    def emit(self, space: SearchSpace, arch: Arch, e: GraphEmitter, num_classes: int) -> str:
        x = conv_bn(e, e.input, self.stem.out_channels, self.stem.kernel, self.stem.stride, act=self.stem.act)
        for f in self.fixed:
            x = get_block(f.block or "").fn(e, x, f.out_channels, f.stride)
        for c, layer in zip(space.choices, self.layers):
            x = get_block(arch[c.label]).fn(e, x, layer.out_channels, layer.stride)
        if self.head.conv_channels:
            x = conv_bn(e, x, self.head.conv_channels, 1, act=self.head.act)
        x = e.flatten(e.global_avg(x))
        return e.linear(x, num_classes)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "input_size": self.input_size, "num_classes": self.num_classes,
                "stem": vars(self.stem).copy(),
                "fixed": [vars(f).copy() for f in self.fixed],
                "layers": [{"out_channels": lay.out_channels, "stride": lay.stride} for lay in self.layers],
                "head": vars(self.head).copy()}

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "model") -> BackboneModel:
        return build(cls, d, source, SpaceError, ignore=("kind",))  # type: ignore[no-any-return]


def layer_labels(n: int) -> tuple[str, ...]:
    """``layer0`` .. ``layer{n-1}``."""
    return tuple(f"layer{i}" for i in range(n))
