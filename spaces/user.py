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

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

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

_TOP = {"name", "description", "backbone", "blocks", "typical", "input_size", "num_classes", "stem", "layers", "head"}
_STEM = {"out_channels", "kernel", "stride", "act"}
_LAYER = {"in_channels", "out_channels", "stride", "candidates"}
_HEAD = {"conv_channels", "act"}


def _keys(src: str, where: str, table: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise SpaceError(f"{src}: {where} must be a table, got {type(table).__name__}")
    for k in table:
        if k not in allowed:
            raise SpaceError(f"{src}: unknown field {where + '.' if where != 'top level' else ''}{k!r}; "
                             f"expected one of {', '.join(sorted(allowed))}")
    return table


def _int(src: str, field: str, v: Any, minimum: int = 1) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise SpaceError(f"{src}: {field} must be an integer >= {minimum}, got {v!r}")
    return v


def _blocks(src: str, field: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not v or not all(isinstance(b, str) for b in v):
        raise SpaceError(f"{src}: {field} must be a non-empty list of block names, got {v!r}")
    for b in v:
        if b not in BLOCKS:
            raise SpaceError(f"{src}: {field} names unknown block {b!r}")
    return tuple(v)


def space_from_toml_dict(d: dict[str, Any], src: str = "space.toml") -> SearchSpace:
    """Build a user space from parsed TOML; every error names ``src`` and the field."""
    _keys(src, "top level", d, _TOP)
    name = d.get("name")
    if not isinstance(name, str) or not name:
        raise SpaceError(f"{src}: field 'name' must be a non-empty string, got {name!r}")
    default_blocks = _blocks(src, "blocks", d["blocks"]) if "blocks" in d else None
    layer_cands: list[tuple[str, ...] | None] = []
    if "backbone" in d:
        if any(k in d for k in ("stem", "layers", "head")):
            raise SpaceError(f"{src}: give either 'backbone' or [stem]/[[layers]]/[head], not both")
        bb = d["backbone"]
        if bb not in BACKBONES:
            raise SpaceError(f"{src}: unknown backbone {bb!r}; expected one of {', '.join(BACKBONES)}")
        model = BACKBONES[bb]()
        layer_cands = [None] * len(model.layers)
    else:
        for k in ("stem", "layers"):
            if k not in d:
                raise SpaceError(f"{src}: missing field {k!r} (or give 'backbone')")
        st = _keys(src, "stem", d["stem"], _STEM)
        if "out_channels" not in st:
            raise SpaceError(f"{src}: missing field stem.out_channels")
        stem = Stem(_int(src, "stem.out_channels", st["out_channels"]), _int(src, "stem.kernel", st.get("kernel", 3)),
                    _int(src, "stem.stride", st.get("stride", 1)), st.get("act", "relu"))
        if not isinstance(d["layers"], list) or not d["layers"]:
            raise SpaceError(f"{src}: 'layers' must be a non-empty array of tables ([[layers]])")
        layers = []
        prev = stem.out_channels
        for i, lt in enumerate(d["layers"]):
            where = f"layers[{i}]"
            lt = _keys(src, where, lt, _LAYER)
            if "out_channels" not in lt:
                raise SpaceError(f"{src}: missing field {where}.out_channels")
            out = _int(src, f"{where}.out_channels", lt["out_channels"])
            if "in_channels" in lt and _int(src, f"{where}.in_channels", lt["in_channels"]) != prev:
                raise SpaceError(f"{src}: {where}.in_channels = {lt['in_channels']} does not match the "
                                 f"{'stem' if i == 0 else f'layers[{i - 1}]'} out_channels = {prev}")
            layers.append(LayerSpec(out, _int(src, f"{where}.stride", lt.get("stride", 1))))
            layer_cands.append(_blocks(src, f"{where}.candidates", lt["candidates"]) if "candidates" in lt else None)
            prev = out
        hd = _keys(src, "head", d.get("head", {}), _HEAD)
        head = Head(_int(src, "head.conv_channels", hd.get("conv_channels", 0), 0), hd.get("act", "relu"))
        model = BackboneModel(stem, tuple(layers), head, input_size=224, num_classes=1000)
    if "input_size" in d:
        model = replace(model, input_size=_int(src, "input_size", d["input_size"]))
    if "num_classes" in d:
        model = replace(model, num_classes=_int(src, "num_classes", d["num_classes"]))
    choices = []
    for i, cands in enumerate(layer_cands):
        cands = cands or default_blocks
        if cands is None:
            raise SpaceError(f"{src}: layers[{i}] has no candidates (set 'blocks' or layers[{i}].candidates)")
        choices.append(Choice(f"layer{i}", cands))
    typical = None
    if "typical" in d:
        t = d["typical"]
        for i, c in enumerate(choices):
            if t not in c.candidates:
                raise SpaceError(f"{src}: typical block {t!r} is not a candidate of layers[{i}]")
        typical = (t,) * len(choices)
    try:
        return SearchSpace(name, tuple(choices), model, typical=typical, description=str(d.get("description", "")))
    except SpaceError as err:
        raise SpaceError(f"{src}: {err}") from None


def load_space_toml(path: str | Path) -> SearchSpace:
    """Read a user space from a TOML file (see the module docstring for the schema)."""
    p = Path(path)
    try:
        d = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as err:
        raise SpaceError(f"{p}: invalid TOML: {err}") from None
    return space_from_toml_dict(d, str(p))
