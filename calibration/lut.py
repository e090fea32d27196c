"""Per-layer-configuration latency tables (FBNet/NNI style: profile once, query cheaply).

A :class:`LatencyLUT` maps a layer *configuration* (its name-free signature: kind, shapes, kernel, stride...)
to milliseconds. It is built from any device's ``profile_isolated`` (:func:`build_lut`) or from measured
per-layer times (:func:`lut_from_layer_times`). Prediction of many networks at once is one sparse
matrix-vector product (:meth:`LatencyLUT.encode` gives the networks x configurations count matrix);
:meth:`LatencyLUT.predict_naive` is the obviously-correct loop it is tested against.

:class:`LutCache` keeps built tables on disk under a key hashed from the device config and the space, written
atomically, so a second run does not profile again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from hwsim.errors import HwnasError
from hwsim.fileio import atomic_write_text
from hwsim.progress import ProgressFactory, track
from hwsim.workload import (
    Activation,
    Concat,
    Conv2d,
    Elementwise,
    GlobalPool,
    Layer,
    Linear,
    MatMul,
    Network,
    Norm,
    Pool2d,
    Reshape,
)

LUT_FORMAT = "hwnas.lut"
LUT_VERSION = 1


class LutError(HwnasError):
    """A layer configuration missing from a table, or a malformed table file."""


def layer_key(layer: Layer) -> str:
    """Stable name-free key of a layer configuration: JSON of its kind and every field but the name.

    Two layers have equal keys exactly when :func:`hwsim.workload.layer_signature` says they are equal.
    """
    values = [getattr(layer, f.name) for f in dataclasses.fields(layer) if f.name != "name"]
    return json.dumps([layer.kind, *values], separators=(",", ":"))


@functools.singledispatch
def kernel_type(layer: Layer) -> str:
    """Coarse kernel type used by the per-type corrector (``conv3x3``, ``dwconv3x3``, ``avgpool``, ...): one rule
    per layer kind (default: the layer's ``kind``)."""
    return layer.kind


@kernel_type.register
def _(layer: Conv2d) -> str:
    k = f"{layer.kernel_h}x{layer.kernel_w}"
    if layer.is_depthwise:
        return f"dwconv{k}"
    return f"gconv{k}" if layer.groups > 1 else f"conv{k}"


@kernel_type.register
def _(layer: Linear) -> str:
    return "linear"


@kernel_type.register
def _(layer: MatMul) -> str:
    return "matmul"


@kernel_type.register
def _(layer: Pool2d) -> str:
    return f"{layer.op}pool"


@kernel_type.register
def _(layer: GlobalPool) -> str:
    return f"global_{layer.op}pool"


@kernel_type.register
def _(layer: Elementwise) -> str:
    return f"eltwise_{layer.op}"


@kernel_type.register
def _(layer: Activation) -> str:
    return f"act_{layer.op}"


@kernel_type.register
def _(layer: Norm) -> str:
    return layer.op


@kernel_type.register
def _(layer: Concat) -> str:
    return "concat"


@kernel_type.register
def _(layer: Reshape) -> str:
    return f"reshape_{layer.op}"


@dataclass(frozen=True)
class LatencyLUT:
    """Milliseconds per layer configuration for one device.

    ``keys[i]`` (see :func:`layer_key`) has latency ``latency_ms[i]`` and kernel type ``types[i]``;
    ``device`` names the source, ``fingerprint`` the exact device config it came from (cache key part).
    """

    device: str
    keys: tuple[str, ...]
    latency_ms: tuple[float, ...]
    types: tuple[str, ...]
    fingerprint: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(self.keys))
        object.__setattr__(self, "latency_ms", tuple(float(v) for v in self.latency_ms))
        object.__setattr__(self, "types", tuple(self.types))
        if not (len(self.keys) == len(self.latency_ms) == len(self.types)):
            raise LutError(f"LUT {self.device!r}: keys, latency_ms and types differ in length")
        if len(set(self.keys)) != len(self.keys):
            raise LutError(f"LUT {self.device!r}: duplicate layer configurations")
        for k, v in zip(self.keys, self.latency_ms):
            if not math.isfinite(v) or v < 0:
                raise LutError(f"LUT {self.device!r}: latency {v!r} of {k} must be finite and >= 0")
        object.__setattr__(self, "_index", {k: i for i, k in enumerate(self.keys)})
        object.__setattr__(self, "_vector", np.array(self.latency_ms, dtype=float))
        tnames = tuple(sorted(set(self.types)))
        object.__setattr__(self, "_type_names", tnames)
        tidx = {t: i for i, t in enumerate(tnames)}
        rows = np.arange(len(self.keys))
        cols = np.array([tidx[t] for t in self.types], dtype=int)
        object.__setattr__(self, "_type_matrix",
                           sp.csr_matrix((np.ones(len(self.keys)), (rows, cols)), shape=(len(self.keys), len(tnames))))

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def type_names(self) -> tuple[str, ...]:
        """Kernel types present, sorted (the column order of :meth:`type_features`)."""
        return self._type_names  # type: ignore[attr-defined,no-any-return]

    def __contains__(self, layer: Layer) -> bool:
        return layer_key(layer) in self._index  # type: ignore[attr-defined]

    def lookup(self, layer: Layer) -> float:
        """Latency (ms) of ``layer``'s configuration; :class:`LutError` when it was never profiled."""
        i = self._index.get(layer_key(layer))  # type: ignore[attr-defined]
        if i is None:
            raise LutError(f"LUT {self.device!r}: no entry for layer {layer.name!r} ({layer.kind}); "
                           f"build the table from networks that contain this configuration")
        return self.latency_ms[i]

    def layer_times(self, network: Network) -> np.ndarray:
        """Per-layer latencies (ms) of ``network`` in its topological order."""
        return np.array([self.lookup(layer) for layer in network.layers], dtype=float)

    def encode(self, networks: Sequence[Network]) -> sp.csr_matrix:
        """Sparse (networks x configurations) matrix of layer counts."""
        rows: list[int] = []
        cols: list[int] = []
        index = self._index  # type: ignore[attr-defined]
        key_memo: dict[int, int] = {}
        for r, net in enumerate(networks):
            for layer in net.layers:
                lid = id(layer)
                c = key_memo.get(lid)
                if c is None:
                    k = layer_key(layer)
                    if k not in index:
                        raise LutError(f"LUT {self.device!r}: no entry for layer {layer.name!r} ({layer.kind}) of "
                                       f"network {net.name!r}")
                    c = key_memo[lid] = index[k]
                rows.append(r)
                cols.append(c)
        data = np.ones(len(rows))
        return sp.csr_matrix((data, (rows, cols)), shape=(len(networks), len(self.keys)))

    def predict_encoded(self, counts: sp.csr_matrix) -> np.ndarray:
        """Sum-of-layers latency (ms) of encoded networks: one sparse mat-vec."""
        return np.asarray(counts @ self._vector, dtype=float)  # type: ignore[attr-defined]

    def predict(self, networks: Sequence[Network]) -> np.ndarray:
        """Sum of per-layer LUT latencies (ms) of each network (vectorised)."""
        return self.predict_encoded(self.encode(networks))

    def predict_naive(self, networks: Sequence[Network]) -> np.ndarray:
        """Slow reference of :meth:`predict`: a Python loop over layers."""
        return np.array([math.fsum(self.lookup(layer) for layer in net.layers) for net in networks], dtype=float)

    def type_features(self, counts: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """Per kernel type (columns in :attr:`type_names` order): summed LUT ms and layer counts."""
        tm = self._type_matrix  # type: ignore[attr-defined]
        sums = counts.multiply(self._vector[None, :]).tocsr() @ tm  # type: ignore[attr-defined]
        cnts = counts @ tm
        return np.asarray(sums.todense(), dtype=float), np.asarray(cnts.todense(), dtype=float)

    def merged(self, other: LatencyLUT) -> LatencyLUT:
        """This table plus the configurations of ``other`` it lacks (same device expected)."""
        keys = list(self.keys)
        lat = list(self.latency_ms)
        types = list(self.types)
        for k, v, t in zip(other.keys, other.latency_ms, other.types):
            if k not in self._index:  # type: ignore[attr-defined]
                keys.append(k)
                lat.append(v)
                types.append(t)
        return LatencyLUT(self.device, tuple(keys), tuple(lat), tuple(types), self.fingerprint)

    # --- JSON ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"format": LUT_FORMAT, "version": LUT_VERSION, "device": self.device, "fingerprint": self.fingerprint,
                "entries": [{"key": k, "latency_ms": v, "type": t}
                            for k, v, t in zip(self.keys, self.latency_ms, self.types)]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "lut") -> LatencyLUT:
        if not isinstance(d, Mapping) or d.get("format") != LUT_FORMAT:
            raise LutError(f"{source}: not an hwnas LUT (field 'format' must be {LUT_FORMAT!r})")
        if d.get("version") != LUT_VERSION:
            raise LutError(f"{source}: unsupported LUT version {d.get('version')!r}")
        try:
            entries = d["entries"]
            return cls(str(d["device"]), tuple(e["key"] for e in entries), tuple(float(e["latency_ms"]) for e in entries),
                       tuple(e["type"] for e in entries), str(d.get("fingerprint", "")))
        except (KeyError, TypeError, ValueError) as e:
            raise LutError(f"{source}: malformed LUT: {e}") from None

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=0) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> LatencyLUT:
        p = Path(path)
        try:
            d = json.loads(p.read_text())
        except json.JSONDecodeError as e:
            raise LutError(f"{p}:{e.lineno}: invalid JSON: {e.msg}") from None
        return cls.from_dict(d, str(p))


def distinct_layers(networks: Iterable[Network]) -> dict[str, Layer]:
    """One representative layer per configuration, in first-seen order."""
    out: dict[str, Layer] = {}
    for net in networks:
        for layer in net.layers:
            k = layer_key(layer)
            if k not in out:
                out[k] = layer
    return out


def device_fingerprint(device: Any) -> str:
    """A stable text of everything that determines a device's timings (class, config, mechanisms)."""
    def plain(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.compare}
        if isinstance(obj, Mapping):
            return {str(k): plain(v) for k, v in sorted(obj.items())}
        if isinstance(obj, (list, tuple)):
            return [plain(x) for x in obj]
        if isinstance(obj, (str, int, float, bool)) or obj is None:
            return obj
        return repr(obj)

    custom = getattr(device, "fingerprint", None)
    if callable(custom):
        return str(custom())
    d = {"class": f"{type(device).__module__}.{type(device).__qualname__}", "name": getattr(device, "name", ""),
         "cost_model": plain(getattr(device, "cost_model", None)),
         "mechanisms": plain(getattr(device, "mechanisms", None)),
         "bytes_per_element": getattr(device, "bytes_per_element", None),
         "fields": plain(device) if dataclasses.is_dataclass(device) else None}
    return json.dumps(d, sort_keys=True)


def build_lut(device: Any, networks: Iterable[Network], base: LatencyLUT | None = None,
              progress: ProgressFactory | None = None) -> LatencyLUT:
    """Profile every distinct layer configuration of ``networks`` with ``device.profile_isolated``.

    Configurations already in ``base`` are not profiled again. ``progress`` (a :mod:`hwsim.progress` factory)
    gets one step per configuration profiled (what takes time on a real board).
    """
    layers = distinct_layers(networks)
    todo = [(k, layer) for k, layer in layers.items() if base is None or layer not in base]
    keys, lat, types = [], [], []
    for k, layer in track(todo, len(todo), f"LUT on {getattr(device, 'name', 'device')}", progress):
        keys.append(k)
        lat.append(float(device.profile_isolated(layer).latency_ms))
        types.append(kernel_type(layer))
    new = LatencyLUT(str(getattr(device, "name", "device")), tuple(keys), tuple(lat), tuple(types),
                     device_fingerprint(device))
    return base.merged(new) if base is not None else new


def lut_from_layer_times(device: str, rows: Iterable[tuple[Layer, float]]) -> LatencyLUT:
    """A table from measured per-layer times; repeated configurations take the median of their times."""
    groups: dict[str, list[float]] = {}
    types: dict[str, str] = {}
    for layer, ms in rows:
        if not math.isfinite(ms) or ms < 0:
            raise LutError(f"measured time {ms!r} of layer {layer.name!r} must be finite and >= 0")
        k = layer_key(layer)
        groups.setdefault(k, []).append(float(ms))
        types[k] = kernel_type(layer)
    keys = tuple(groups)
    return LatencyLUT(device, keys, tuple(float(np.median(groups[k])) for k in keys), tuple(types[k] for k in keys),
                      f"measured:{device}")


def unit_lut(networks: Iterable[Network]) -> LatencyLUT:
    """Every configuration costs 1 "ms": with the per-type corrector this becomes a count-per-kernel-type model."""
    layers = distinct_layers(networks)
    return LatencyLUT("unit", tuple(layers), tuple(1.0 for _ in layers),
                      tuple(kernel_type(layer) for layer in layers.values()), "unit")


def cache_key(device: Any, space: Any, input_size: int | None = None) -> str:
    """SHA-256 over the device fingerprint, the space's JSON (or its str) and the input size."""
    sp_text = space.to_json() if hasattr(space, "to_json") else str(space)
    h = hashlib.sha256()
    for part in (device_fingerprint(device), sp_text, str(input_size)):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


class LutCache:
    """On-disk tables under ``root/<key>.json`` (written atomically); a stale or partial table is extended."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def get_or_build(self, device: Any, space: Any, networks: Sequence[Network],
                     input_size: int | None = None) -> LatencyLUT:
        """The cached table for (device, space) covering ``networks``; profiles only missing configurations."""
        key = cache_key(device, space, input_size)
        p = self.path(key)
        base = LatencyLUT.load(p) if p.is_file() else None
        if base is not None and base.fingerprint != device_fingerprint(device):
            base = None  # hash collision guard: never trust a table of another device
        missing = base is None or any(layer not in base for layer in distinct_layers(networks).values())
        if not missing:
            assert base is not None
            return base
        lut = build_lut(device, networks, base)
        lut.save(p)
        return lut


__all__ = ["LatencyLUT", "LutCache", "LutError", "build_lut", "cache_key", "device_fingerprint", "distinct_layers",
           "kernel_type", "layer_key", "lut_from_layer_times", "unit_lut"]
