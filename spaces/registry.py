"""Built-in spaces by name and space (de)serialisation. Factories build a fresh space per call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hwsim.formats import parse_json, read_text, short_repr
from spaces.backbone import BackboneModel
from spaces.bbssp_families import bbssp_space
from spaces.core import SPACE_FORMAT, Choice, DashCodec, SearchSpace, SpaceError
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


MODEL_KINDS: Mapping[str, tuple[Any, Callable[[], Any]]] = MappingProxyType({
    BackboneModel.kind: (BackboneModel, DashCodec),
    NB201Model.kind: (NB201Model, NB201Codec),
})


@dataclass(frozen=True)
class _SpaceDoc:
    """The body of an ``hwnas.space`` file (the model is read by its kind's ``from_dict``)."""

    name: str
    model: Mapping[str, Any]
    choices: tuple[Choice, ...]
    typical: tuple[str, ...] | None = None
    description: str = ""


def space_from_dict(d: Mapping[str, Any], source: str = "space") -> SearchSpace:
    """Inverse of :meth:`SearchSpace.to_dict`."""
    doc = SPACE_FORMAT.build(_SpaceDoc, d, source)
    kind = doc.model.get("kind")
    if not isinstance(kind, str) or kind not in MODEL_KINDS:
        raise SpaceError(f"{source}: unknown model kind {short_repr(kind)}; expected one of {', '.join(MODEL_KINDS)}")
    model_cls, codec = MODEL_KINDS[kind]
    model = model_cls.from_dict(doc.model, f"{source}: model")
    try:
        return SearchSpace(doc.name, doc.choices, model, typical=doc.typical or None, description=doc.description,
                           codec=codec())
    except SpaceError as e:
        raise SpaceError(f"{source}: {e}") from None


def space_from_json(text: str, source: str = "space") -> SearchSpace:
    return space_from_dict(parse_json(text, source, SpaceError), source)


def load_space_json(path: str | Path) -> SearchSpace:
    return space_from_json(read_text(path, SpaceError), str(path))
