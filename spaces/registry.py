"""Built-in spaces by name and space (de)serialisation. Factories build a fresh space per call."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from spaces.backbone import BackboneModel
from spaces.bbssp_families import bbssp_space
from spaces.core import JSON_SPACE_FORMAT, JSON_VERSION, Choice, DashCodec, SearchSpace, SpaceError
from spaces.fbnet import fbnet_space
from spaces.nb201 import NB201Codec, NB201Model, nb201_space
from spaces.proxyless import proxyless_space

SPACES: Mapping[str, Callable[[], SearchSpace]] = MappingProxyType({
    "bbssp-res": lambda: bbssp_space("res"),
    "bbssp-mobile": lambda: bbssp_space("mobile"),
    "bbssp-mobilev2": lambda: bbssp_space("mobilev2"),
    "bbssp-vgg": lambda: bbssp_space("vgg"),
    "bbssp-res-cifar": lambda: bbssp_space("res", cifar=True),
    "bbssp-mobile-cifar": lambda: bbssp_space("mobile", cifar=True),
    "bbssp-mobilev2-cifar": lambda: bbssp_space("mobilev2", cifar=True),
    "bbssp-vgg-cifar": lambda: bbssp_space("vgg", cifar=True),
    "fbnet": lambda: fbnet_space(),
    "fbnet-cifar": lambda: fbnet_space(cifar=True),
    "proxyless": lambda: proxyless_space(),
    "nb201": lambda: nb201_space(),
})


def space_names() -> tuple[str, ...]:
    return tuple(SPACES)


def get_space(name: str) -> SearchSpace:
    """A built-in space by name, or a user space from a ``.toml`` path."""
    if name.endswith(".toml"):
        from spaces.user import load_space_toml

        return load_space_toml(name)
    try:
        return SPACES[name]()
    except KeyError:
        raise SpaceError(f"unknown space {name!r}; expected one of {', '.join(SPACES)} or a .toml file") from None


def space_from_dict(d: Mapping[str, Any], source: str = "space") -> SearchSpace:
    """Inverse of :meth:`SearchSpace.to_dict`."""
    if not isinstance(d, Mapping) or d.get("format") != JSON_SPACE_FORMAT:
        raise SpaceError(f"{source}: not an hwnas space (field 'format' must be {JSON_SPACE_FORMAT!r})")
    if d.get("version") != JSON_VERSION:
        raise SpaceError(f"{source}: unsupported space version {d.get('version')!r}")
    for key in ("name", "model", "choices"):
        if key not in d:
            raise SpaceError(f"{source}: missing field {key!r}")
    md = d["model"]
    kind = md.get("kind") if isinstance(md, Mapping) else None
    model: Any
    codec: Any
    if kind == BackboneModel.kind:
        model, codec = BackboneModel.from_dict(dict(md), source), DashCodec()
    elif kind == NB201Model.kind:
        model, codec = NB201Model.from_dict(dict(md), source), NB201Codec()
    else:
        raise SpaceError(f"{source}: unknown model kind {kind!r}; expected backbone or nb201")
    try:
        choices = tuple(Choice(c["label"], tuple(c["candidates"])) for c in d["choices"])
    except (KeyError, TypeError) as err:
        raise SpaceError(f"{source}: malformed 'choices': {err}") from None
    typical = d.get("typical")
    return SearchSpace(d["name"], choices, model, typical=tuple(typical) if typical else None,
                       description=d.get("description", ""), codec=codec)


def space_from_json(text: str, source: str = "space") -> SearchSpace:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpaceError(f"{source}: invalid JSON at line {e.lineno}: {e.msg}") from None
    return space_from_dict(d, source)


def load_space_json(path: str | Path) -> SearchSpace:
    p = Path(path)
    return space_from_json(p.read_text(), str(p))
