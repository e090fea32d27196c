"""Search spaces as data (NNI style): labelled categorical choices; an architecture is ``{label: choice}``.

A :class:`SearchSpace` is an immutable list of :class:`Choice` (one per searchable layer or edge) plus a
:class:`Model` that materialises an architecture as a workload (:meth:`SearchSpace.to_workload`) or as a
torch module (:meth:`SearchSpace.to_torch`), both from the same block descriptions (:mod:`spaces.ops`) through
the emitters of :mod:`hwsim.emit`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol

import numpy as np

from hwsim.errors import HwnasError
from hwsim.formats import Format
from hwsim.workload import Network

JSON_SPACE_FORMAT = "hwnas.space"
JSON_ARCH_FORMAT = "hwnas.arch"
JSON_VERSION = 1
ENUMERATE_LIMIT = 1_000_000
_TOKEN = re.compile(r"^[A-Za-z0-9_.]+$")


class SpaceError(HwnasError):
    """Bad search-space input (unknown op, wrong edge count, choice outside the space, bad TOML)."""


SPACE_FORMAT = Format(JSON_SPACE_FORMAT, JSON_VERSION, "space", SpaceError)
ARCH_FORMAT = Format(JSON_ARCH_FORMAT, JSON_VERSION, "arch", SpaceError)


@dataclass(frozen=True)
class _ArchDoc:
    """The body of an ``hwnas.arch`` file (``string``: the arch in its space's string form)."""

    space: str
    arch: Mapping[str, str]
    string: str = ""


@dataclass(frozen=True)
class Choice:
    """One labelled categorical choice: ``label`` (e.g. ``"layer3"``) and its ordered ``candidates``."""

    label: str
    candidates: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not _TOKEN.match(self.label):
            raise SpaceError(f"choice label {self.label!r} must be a non-empty [A-Za-z0-9_.] token")
        object.__setattr__(self, "candidates", tuple(self.candidates))
        if not self.candidates:
            raise SpaceError(f"choice {self.label!r}: candidates must not be empty")
        for c in self.candidates:
            if not isinstance(c, str) or not _TOKEN.match(c):
                raise SpaceError(f"choice {self.label!r}: candidate {c!r} must be a [A-Za-z0-9_.] token")
        if len(set(self.candidates)) != len(self.candidates):
            raise SpaceError(f"choice {self.label!r}: duplicate candidates in {list(self.candidates)}")


class Arch(Mapping[str, str]):
    """An immutable, hashable architecture: a mapping ``{label: chosen candidate}`` in the space's label order."""

    __slots__ = ("_items", "_map")

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        pairs = tuple(items.items()) if isinstance(items, Mapping) else tuple(items)
        self._items: tuple[tuple[str, str], ...] = tuple((str(k), str(v)) for k, v in pairs)
        self._map = dict(self._items)
        if len(self._map) != len(self._items):
            raise SpaceError(f"arch has duplicate labels: {[k for k, _ in self._items]}")

    def __getitem__(self, label: str) -> str:
        return self._map[label]

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._items) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"Arch({dict(self._items)!r})"

    def to_dict(self) -> dict[str, str]:
        return dict(self._items)


class ArchCodec(Protocol):
    """Stable string form of archs of one space."""

    def format(self, space: SearchSpace, arch: Arch) -> str: ...

    def parse(self, space: SearchSpace, text: str) -> Arch: ...


@dataclass(frozen=True)
class DashCodec:
    """Default string form: the chosen candidates in label order joined by ``-`` (e.g. ``res0-res3-...``)."""

    sep: ClassVar[str] = "-"

    def format(self, space: SearchSpace, arch: Arch) -> str:
        return self.sep.join(arch[c.label] for c in space.choices)

    def parse(self, space: SearchSpace, text: str) -> Arch:
        tokens = text.strip().split(self.sep)
        if len(tokens) != len(space.choices):
            raise SpaceError(f"space {space.name!r}: arch string {text!r} has {len(tokens)} choices, "
                             f"expected {len(space.choices)}")
        arch = Arch(zip((c.label for c in space.choices), tokens))
        space.validate(arch)
        return arch


class Model(Protocol):
    """Materialises archs of a space: emits the network into an emitter (see :mod:`hwsim.emit`)."""

    kind: ClassVar[str]
    input_size: int
    num_classes: int

    def emit(self, space: SearchSpace, arch: Arch, e: Any, num_classes: int) -> str: ...

    def check(self, space: SearchSpace) -> None: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class SearchSpace:
    """A search space: labelled choices plus the model that turns an :class:`Arch` into networks.

    ``typical`` (optional) is the per-layer typical choice (the BBSSP SSBN_0); ``codec`` gives the string form.
    """

    name: str
    choices: tuple[Choice, ...]
    model: Model
    typical: tuple[str, ...] | None = None
    description: str = ""
    codec: ArchCodec = field(default_factory=DashCodec)

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if not self.choices:
            raise SpaceError(f"space {self.name!r} has no choices")
        labels = [c.label for c in self.choices]
        if len(set(labels)) != len(labels):
            raise SpaceError(f"space {self.name!r}: duplicate choice labels")
        if self.typical is not None:
            object.__setattr__(self, "typical", tuple(self.typical))
            if len(self.typical) != len(self.choices):
                raise SpaceError(f"space {self.name!r}: typical has {len(self.typical)} entries, expected "
                                 f"{len(self.choices)}")
            for c, t in zip(self.choices, self.typical):
                if t not in c.candidates:
                    raise SpaceError(f"space {self.name!r}: typical choice {t!r} of {c.label!r} is not a candidate")
        self.model.check(self)

    # --- structure ---------------------------------------------------------------------------------
    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c.label for c in self.choices)

    def choice(self, label: str) -> Choice:
        for c in self.choices:
            if c.label == label:
                return c
        raise SpaceError(f"space {self.name!r} has no choice {label!r}")

    def size(self) -> int:
        """Exact number of architectures (Python int)."""
        return math.prod(len(c.candidates) for c in self.choices)

    # --- archs -------------------------------------------------------------------------------------
    def validate(self, arch: Mapping[str, str]) -> Arch:
        """``arch`` as an :class:`Arch` in label order; raises :class:`SpaceError` naming the bad label/choice."""
        for label in arch:
            if label not in self.labels:
                raise SpaceError(f"space {self.name!r}: unknown label {label!r}")
        items = []
        for c in self.choices:
            if c.label not in arch:
                raise SpaceError(f"space {self.name!r}: arch misses label {c.label!r}")
            v = arch[c.label]
            if v not in c.candidates:
                raise SpaceError(f"space {self.name!r}: {c.label}={v!r} is not a candidate "
                                 f"(candidates: {', '.join(c.candidates)})")
            items.append((c.label, v))
        return Arch(items)

    def contains(self, arch: Mapping[str, str]) -> bool:
        try:
            self.validate(arch)
        except SpaceError:
            return False
        return True

    def sample(self, rng: np.random.Generator) -> Arch:
        """One uniformly random architecture drawn with ``rng``."""
        if not isinstance(rng, np.random.Generator):
            raise SpaceError("sample() needs a numpy.random.Generator (numpy.random.default_rng(seed))")
        return Arch((c.label, c.candidates[int(rng.integers(len(c.candidates)))]) for c in self.choices)

    def enumerate(self, limit: int = ENUMERATE_LIMIT) -> Iterator[Arch]:
        """All architectures in lexicographic candidate order (refuses spaces larger than ``limit``)."""
        if self.size() > limit:
            raise SpaceError(f"space {self.name!r} has {self.size()} archs, more than the enumerate limit {limit}")
        labels = self.labels
        for combo in itertools.product(*(c.candidates for c in self.choices)):
            yield Arch(zip(labels, combo))

    def indices(self, arch: Mapping[str, str]) -> tuple[int, ...]:
        """Candidate index per choice (e.g. HW-NAS-Bench FBNet op indices)."""
        a = self.validate(arch)
        return tuple(c.candidates.index(a[c.label]) for c in self.choices)

    def from_indices(self, indices: Sequence[int]) -> Arch:
        if len(indices) != len(self.choices):
            raise SpaceError(f"space {self.name!r}: {len(indices)} indices, expected {len(self.choices)}")
        items = []
        for c, i in zip(self.choices, indices):
            if not isinstance(i, (int, np.integer)) or not 0 <= int(i) < len(c.candidates):
                raise SpaceError(f"space {self.name!r}: index {i!r} for {c.label!r} outside 0..{len(c.candidates) - 1}")
            items.append((c.label, c.candidates[int(i)]))
        return Arch(items)

    def format(self, arch: Mapping[str, str]) -> str:
        """Stable human-readable string of ``arch``."""
        return self.codec.format(self, self.validate(arch))

    def parse(self, text: str) -> Arch:
        """Inverse of :meth:`format`; bad tokens raise :class:`SpaceError` naming them."""
        if not isinstance(text, str):
            raise SpaceError(f"space {self.name!r}: arch string must be a str, got {type(text).__name__}")
        return self.codec.parse(self, text)

    def typical_arch(self) -> Arch:
        if self.typical is None:
            raise SpaceError(f"space {self.name!r} has no typical architecture")
        return Arch(zip(self.labels, self.typical))

    # --- sub-spaces --------------------------------------------------------------------------------
    def restrict(self, candidates: Mapping[str, Sequence[str]], name: str | None = None) -> SearchSpace:
        """Sub-space with per-label candidate lists (labels not named keep theirs); order follows this space."""
        for label, cands in candidates.items():
            c = self.choice(label)
            if isinstance(cands, str) or not cands:
                raise SpaceError(f"space {self.name!r}: restrict({label!r}) needs a non-empty list of candidates")
            for v in cands:
                if v not in c.candidates:
                    raise SpaceError(f"space {self.name!r}: restrict {label}={v!r} is not a candidate")
        new = tuple(Choice(c.label, tuple(v for v in c.candidates if v in set(candidates[c.label])))
                    if c.label in candidates else c for c in self.choices)
        typical = self.typical
        if typical is not None and any(t not in c.candidates for t, c in zip(typical, new)):
            typical = None
        return replace(self, name=name or f"{self.name}-restricted", choices=new, typical=typical)

    # --- materialisation ---------------------------------------------------------------------------
    def _input_shape(self, input_size: int | None) -> tuple[int, int, int]:
        s = self.model.input_size if input_size is None else input_size
        if not isinstance(s, int) or isinstance(s, bool) or s <= 0:
            raise SpaceError(f"space {self.name!r}: input_size must be a positive int, got {s!r}")
        return (3, s, s)

    def to_workload(self, arch: Mapping[str, str], input_size: int | None = None,
                    num_classes: int | None = None, name: str | None = None) -> Network:
        """The workload IR of ``arch`` for a ``3 x input_size x input_size`` image."""
        from hwsim.emit import GraphEmitter

        a = self.validate(arch)
        e = GraphEmitter(name or f"{self.name}:{self.format(a)}", self._input_shape(input_size))
        out = self.model.emit(self, a, e, num_classes or self.model.num_classes)
        return e.build(out)

    def to_torch(self, arch: Mapping[str, str], num_classes: int | None = None,
                 input_size: int | None = None, device: Any = None, seed: int | None = None) -> Any:
        """A ``torch.nn.Module`` of ``arch``; its fx import equals :meth:`to_workload` layer for layer.

        Weights use torch's default initialisation drawn from a private RNG seeded with ``seed`` (the global
        torch RNG is left untouched), or from the global RNG when ``seed`` is None. ``device="meta"`` builds a
        weightless module for tracing.
        """
        import torch

        from hwsim.emit_torch import TorchEmitter

        a = self.validate(arch)
        e = TorchEmitter(f"{self.name}:{self.format(a)}", self._input_shape(input_size), device)
        if seed is None:
            out = self.model.emit(self, a, e, num_classes or self.model.num_classes)
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                out = self.model.emit(self, a, e, num_classes or self.model.num_classes)
        return e.program(out)

    # --- JSON --------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {**SPACE_FORMAT.envelope(), "name": self.name, "description": self.description,
                "model": self.model.to_dict(),
                "choices": [{"label": c.label, "candidates": list(c.candidates)} for c in self.choices],
                "typical": list(self.typical) if self.typical is not None else None}

    def to_json(self, indent: int | None = 1) -> str:
        return SPACE_FORMAT.dumps(self.to_dict(), indent=indent, newline=False)

    def arch_to_json(self, arch: Mapping[str, str]) -> str:
        a = self.validate(arch)
        return ARCH_FORMAT.dumps({"space": self.name, "arch": a.to_dict(), "string": self.format(a)}, indent=None,
                                 newline=False)

    def arch_from_json(self, text: str, source: str = "arch") -> Arch:
        doc = ARCH_FORMAT.build(_ArchDoc, ARCH_FORMAT.parse(text, source), source)
        try:
            return self.validate(doc.arch)
        except SpaceError as e:
            raise SpaceError(f"{source}: {e}") from None


def holds_archs_of(outer: SearchSpace, inner: SearchSpace) -> bool:
    """Whether every arch of ``inner`` is an arch of ``outer`` (same labels, candidates a subset)."""
    if outer.labels != inner.labels:
        return False
    return all(set(ci.candidates) <= set(co.candidates) for co, ci in zip(outer.choices, inner.choices))
