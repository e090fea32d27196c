"""User-defined spaces from a TOML file: a backbone plus candidate blocks.

Example (every key is checked; unknown keys are errors)::

    name = "my-space"
    backbone = "bbssp-cifar"          # or bbssp, fbnet, fbnet-cifar, proxyless; or give [stem]/[[layers]]/[head]
    blocks = ["res0", "res3", "vgg5"] # candidates of every layer (a layer's own `candidates` overrides)
    typical = "res0"                  # optional typical block (SSBN_0)
    input_size = 32                   # optional
    num_classes = 10                  # optional

    [stem]                            # custom backbone
    out_channels = 16
    kernel = 3
    stride = 1
    act = "relu"

    [[layers]]
    in_channels = 16                  # optional; must equal the previous layer's out_channels
    out_channels = 24
    stride = 2
    candidates = ["res0", "vgg5"]

    [head]
    conv_channels = 1024              # 0: no 1x1 conv before pooling
    act = "relu"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hwsim.formats import build, load_toml
from spaces.backbone import BackboneModel, Head, LayerSpec, Stem
from spaces.bbssp_families import bbssp_backbone
from spaces.core import Choice, SearchSpace, SpaceError
from spaces.fbnet import fbnet_space
from spaces.ops import BLOCKS
from spaces.proxyless import proxyless_space

BACKBONES: Mapping[str, Callable[[], BackboneModel]] = MappingProxyType({
    "bbssp": lambda: bbssp_backbone(False),
    "bbssp-cifar": lambda: bbssp_backbone(True),
    "fbnet": lambda: fbnet_space().model,  # type: ignore[return-value,attr-defined]
    "fbnet-cifar": lambda: fbnet_space(cifar=True).model,  # type: ignore[return-value,attr-defined]
    "proxyless": lambda: proxyless_space().model,  # type: ignore[return-value,attr-defined]
})

@dataclass(frozen=True)
class _StemDoc:
    out_channels: int
    kernel: int = 3
    stride: int = 1
    act: str = "relu"


@dataclass(frozen=True)
class _LayerDoc:
    out_channels: int
    in_channels: int | None = None
    stride: int = 1
    candidates: tuple[str, ...] | None = None


@dataclass(frozen=True)
class _HeadDoc:
    conv_channels: int = 0
    act: str = "relu"


@dataclass(frozen=True)
class _UserSpaceDoc:
    """A user space file (see the module docstring); types are checked here, meaning below."""

    name: str
    description: str = ""
    backbone: str | None = None
    blocks: tuple[str, ...] | None = None
    typical: str | None = None
    input_size: int | None = None
    num_classes: int | None = None
    stem: _StemDoc | None = None
    layers: tuple[_LayerDoc, ...] | None = None
    head: _HeadDoc | None = None


def _blocks(src: str, field: str, v: tuple[str, ...]) -> tuple[str, ...]:
    if not v:
        raise SpaceError(f"{src}: {field} must be a non-empty list of block names, got []")
    for b in v:
        if b not in BLOCKS:
            raise SpaceError(f"{src}: {field} names unknown block {b!r}")
    return v


def space_from_toml_dict(d: dict[str, Any], src: str = "space.toml") -> SearchSpace:
    """Build a user space from parsed TOML; every error names ``src`` and the field."""
    doc = build(_UserSpaceDoc, d, src, SpaceError)
    if not doc.name:
        raise SpaceError(f"{src}: field 'name' must be a non-empty string, got ''")
    default_blocks = _blocks(src, "blocks", doc.blocks) if doc.blocks is not None else None
    layer_cands: list[tuple[str, ...] | None] = []
    if doc.backbone is not None:
        if any(k in d for k in ("stem", "layers", "head")):
            raise SpaceError(f"{src}: give either 'backbone' or [stem]/[[layers]]/[head], not both")
        if doc.backbone not in BACKBONES:
            raise SpaceError(f"{src}: unknown backbone {doc.backbone!r}; expected one of {', '.join(BACKBONES)}")
        model = BACKBONES[doc.backbone]()
        layer_cands = [None] * len(model.layers)
    else:
        if doc.stem is None or doc.layers is None:
            raise SpaceError(f"{src}: missing field {'stem' if doc.stem is None else 'layers'!r} (or give 'backbone')")
        if not doc.layers:
            raise SpaceError(f"{src}: 'layers' must be a non-empty array of tables ([[layers]])")
        head_doc = doc.head or _HeadDoc()
        try:
            stem = Stem(doc.stem.out_channels, doc.stem.kernel, doc.stem.stride, doc.stem.act)
            layers = []
            prev = stem.out_channels
            for i, lt in enumerate(doc.layers):
                if lt.in_channels is not None and lt.in_channels != prev:
                    raise SpaceError(f"layers[{i}].in_channels = {lt.in_channels} does not match the "
                                     f"{'stem' if i == 0 else f'layers[{i - 1}]'} out_channels = {prev}")
                layers.append(LayerSpec(lt.out_channels, lt.stride))
                layer_cands.append(_blocks(src, f"layers[{i}].candidates", lt.candidates)
                                   if lt.candidates is not None else None)
                prev = lt.out_channels
            model = BackboneModel(stem, tuple(layers), Head(head_doc.conv_channels, head_doc.act), input_size=224,
                                  num_classes=1000)
        except SpaceError as err:
            raise SpaceError(f"{src}: {err}") from None
    try:
        if doc.input_size is not None:
            model = replace(model, input_size=doc.input_size)
        if doc.num_classes is not None:
            model = replace(model, num_classes=doc.num_classes)
    except SpaceError as err:
        raise SpaceError(f"{src}: {err}") from None
    choices = []
    for i, cands in enumerate(layer_cands):
        cands = cands or default_blocks
        if cands is None:
            raise SpaceError(f"{src}: layers[{i}] has no candidates (set 'blocks' or layers[{i}].candidates)")
        choices.append(Choice(f"layer{i}", cands))
    typical = None
    if doc.typical is not None:
        t = doc.typical
        for i, c in enumerate(choices):
            if t not in c.candidates:
                raise SpaceError(f"{src}: typical block {t!r} is not a candidate of layers[{i}]")
        typical = (t,) * len(choices)
    try:
        return SearchSpace(doc.name, tuple(choices), model, typical=typical, description=doc.description)
    except SpaceError as err:
        raise SpaceError(f"{src}: {err}") from None


def load_space_toml(path: str | Path) -> SearchSpace:
    """Read a user space from a TOML file (see the module docstring for the schema)."""
    return space_from_toml_dict(load_toml(path, SpaceError), str(path))
