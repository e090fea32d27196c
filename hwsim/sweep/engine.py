"""The sweep: latency, energy and area of every (network, hardware config) pair of a network list x a hardware space.

``sweep(networks, hw_space)`` fuses each network once per fusion signature (template + fusion mechanisms), counts
its distinct kernels and consecutive kernel pairs (:mod:`hwsim.sweep.features`), tabulates those kernels on the
hardware configs batch by batch (:mod:`hwsim.sweep.tables`, vectorised over configs for the systolic template)
and multiplies: ``latency[n_net, n_hw] = A @ T``. The numbers equal :meth:`AcceleratorDevice.run` of each pair
up to float summation order (tests: relative 1e-9).

A hardware space is any object with ``size``, ``config(i) -> Mapping[str, Any]`` (a point) and
``device(point) -> AcceleratorDevice`` (:class:`hwsim.hwspace.HwSpace`, or :class:`DeviceListSpace` for a fixed
list of devices). With ``out_dir`` every finished batch of configs is written atomically
(``batch-NNNNN.npz``) next to a ``manifest.json``; a rerun with the same inputs loads finished batches instead of
recomputing them, so a killed sweep resumes. ``map_fn`` (see :mod:`hwsim.sweep.executors`) spreads the batches
(and the fusion of network chunks) over processes or a Ray cluster.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from hwsim.devices.base import AcceleratorDevice
from hwsim.fileio import atomic_write_bytes, atomic_write_text
from hwsim.sweep.executors import MapFn
from hwsim.sweep.features import NetworkFeatures, SweepError, fusion_signature, network_features, network_key
from hwsim.sweep.tables import network_metrics, tables_for
from hwsim.workload import Network

FORMAT = "hwnas-sweep-1"


@runtime_checkable
class HardwareSpace(Protocol):
    """What the sweep needs of a hardware design space."""

    @property
    def size(self) -> int: ...

    def config(self, index: int) -> Mapping[str, Any]: ...

    def device(self, point: Mapping[str, Any]) -> AcceleratorDevice: ...


class DeviceListSpace:
    """A hardware space made of given devices; point ``i`` is ``{"device": name}``."""

    def __init__(self, devices: Sequence[AcceleratorDevice]) -> None:
        devices = tuple(devices)
        if not devices:
            raise SweepError("DeviceListSpace needs at least one device")
        for i, d in enumerate(devices):
            if not isinstance(d, AcceleratorDevice):
                raise SweepError(f"devices[{i}] must be an AcceleratorDevice, got {type(d).__name__}")
        self._devices = devices

    @property
    def size(self) -> int:
        return len(self._devices)

    def config(self, index: int) -> Mapping[str, Any]:
        if not 0 <= index < len(self._devices):
            raise SweepError(f"config index {index} out of range [0, {len(self._devices)})")
        return {"device": self._devices[index].name, "index": index}

    def device(self, point: Mapping[str, Any]) -> AcceleratorDevice:
        return self._devices[int(point["index"])]

    def __getstate__(self) -> dict[str, Any]:  # AcceleratorDevice does not pickle; a list space stays local
        raise SweepError("DeviceListSpace cannot be sent to other processes; use an HwSpace")


def area_mm2(device: AcceleratorDevice) -> float:
    """Silicon area of ``device`` from :mod:`hwsim.silicon` (NaN for a template it does not model)."""
    from hwsim import silicon

    try:
        return float(silicon.area_mm2(device))
    except silicon.SiliconError:
        return math.nan


# ------------------------------------------------------------------------------------------------
# the result
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepResult:
    """Every (network, hardware config) pair: ``latency_ms`` / ``energy_mj`` / ``power_w`` (average, W) are
    float64 ``[n_net, n_hw]``, ``area_mm2`` is ``[n_hw]``; NaN where a model is missing (no energy model)."""

    network_ids: tuple[str, ...]
    hw_points: tuple[Mapping[str, Any], ...]
    latency_ms: np.ndarray
    energy_mj: np.ndarray
    area_mm2: np.ndarray
    power_w: np.ndarray

    def __post_init__(self) -> None:
        n, h = len(self.network_ids), len(self.hw_points)
        for name in ("latency_ms", "energy_mj", "power_w"):
            if getattr(self, name).shape != (n, h):
                raise SweepError(f"SweepResult.{name} has shape {getattr(self, name).shape}, expected {(n, h)}")
        if self.area_mm2.shape != (h,):
            raise SweepError(f"SweepResult.area_mm2 has shape {self.area_mm2.shape}, expected {(h,)}")

    def save(self, path: str | Path) -> None:
        """One ``.npz`` (columnar: key columns ``network_id``, ``hw_index``, ``hw.<param>`` and the metric
        matrices), written atomically."""
        cols = _param_columns(self.hw_points)
        buf = io.BytesIO()
        np.savez(buf, format=np.array(FORMAT), network_id=np.array(self.network_ids, dtype=str),
                 hw_index=np.arange(len(self.hw_points)),
                 hw_points_json=np.array([json.dumps(dict(p), sort_keys=True) for p in self.hw_points], dtype=str),
                 latency_ms=self.latency_ms, energy_mj=self.energy_mj, area_mm2=self.area_mm2,
                 power_w=self.power_w, **{f"hw.{k}": v for k, v in cols.items()})
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> SweepResult:
        """Read a file written by :meth:`save`."""
        p = Path(path)
        try:
            with np.load(p, allow_pickle=False) as z:
                if "format" not in z or str(z["format"]) != FORMAT:
                    raise SweepError(f"{p}: not a hwnas sweep result (format {FORMAT})")
                return cls(tuple(str(x) for x in z["network_id"]),
                           tuple(json.loads(str(s)) for s in z["hw_points_json"]),
                           z["latency_ms"], z["energy_mj"], z["area_mm2"], z["power_w"])
        except FileNotFoundError:
            raise SweepError(f"{p}: sweep result not found") from None
        except (OSError, ValueError, KeyError) as e:
            raise SweepError(f"{p}: unreadable sweep result ({e})") from None


def _param_columns(points: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """One column per parameter whose values are all numbers or all strings."""
    names: list[str] = []
    for p in points:
        names.extend(k for k in p if k not in names)
    cols = {}
    for k in names:
        vals = [p.get(k) for p in points]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            cols[k] = np.array(vals, dtype=np.float64)
        elif all(isinstance(v, (str, bool)) for v in vals):
            cols[k] = np.array([str(v) for v in vals], dtype=str)
    return cols


# ------------------------------------------------------------------------------------------------
# the engine
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _BatchJob:
    """Picklable: the metrics of one batch of configs. An item is ``(indices, specs)``: ``specs`` are the
    devices themselves (in this process), their TOML tables (``hw_space.device_tables``: rebuilt with
    :func:`hwsim.devices.config.device_from_tables` in a worker) or None (``hw_space.device(config(i))``)."""

    hw_space: Any
    features: Mapping[Any, NetworkFeatures]

    def __call__(self, item: tuple[Sequence[int], Sequence[Any] | None]) -> dict[str, np.ndarray]:
        indices, specs = item
        if specs is None:
            devices = [self.hw_space.device(self.hw_space.config(i)) for i in indices]
        elif all(isinstance(x, AcceleratorDevice) for x in specs):
            devices = list(specs)
        else:
            from hwsim.devices.config import device_from_tables

            devices = [device_from_tables(t, f"hardware config {i}") for i, t in zip(indices, specs)]
        n_net = next(iter(self.features.values())).n_networks
        lat = np.empty((n_net, len(devices)))
        en, pw = np.empty_like(lat), np.empty_like(lat)
        area = np.empty(len(devices))
        groups: dict[Any, list[int]] = {}
        for j, d in enumerate(devices):
            groups.setdefault(fusion_signature(d), []).append(j)
        for sig, cols in groups.items():
            feats = self.features[sig]
            table = tables_for([devices[j] for j in cols], feats.kernels)
            m = network_metrics(feats, table)
            lat[:, cols], en[:, cols], pw[:, cols], area[cols] = m.latency_ms, m.energy_mj, m.power_w, table.area_mm2
        return {"indices": np.asarray(indices, dtype=np.int64), "latency_ms": lat, "energy_mj": en,
                "power_w": pw, "area_mm2": area}


def _network_ids(networks: Sequence[Network] | Mapping[str, Network]) -> tuple[tuple[str, ...], list[Network]]:
    if isinstance(networks, Mapping):
        ids, nets = tuple(str(k) for k in networks), list(networks.values())
    else:
        nets = list(networks)
        ids = tuple(getattr(n, "name", "?") for n in nets)
    if not nets:
        raise SweepError("sweep needs at least one network")
    for i, n in enumerate(nets):
        if not isinstance(n, Network):
            raise SweepError(f"networks[{i}] must be a hwsim Network, got {type(n).__name__}")
    if len(set(ids)) != len(ids):
        dup = next(x for x in ids if ids.count(x) > 1)
        raise SweepError(f"network id {dup!r} appears twice; pass a mapping id -> network")
    return ids, nets


def _fingerprint(ids: Sequence[str], points: Sequence[Mapping[str, Any]], nets: Sequence[Network],
                 batch_size: int) -> str:
    """Stable digest of what a sweep directory holds: network ids and structures, config points, batching."""
    h = hashlib.sha256()
    h.update(json.dumps([list(ids), [dict(p) for p in points], batch_size], sort_keys=True, default=str).encode())
    for n in nets:
        h.update(repr(network_key(n)).encode())
    return h.hexdigest()


def _batch_path(out_dir: Path, b: int) -> Path:
    return out_dir / f"batch-{b:05d}.npz"


def _write_batch(path: Path, res: Mapping[str, np.ndarray]) -> None:
    buf = io.BytesIO()
    np.savez(buf, **res)
    atomic_write_bytes(path, buf.getvalue())


def _read_batch(path: Path, indices: Sequence[int]) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            res = {k: z[k] for k in ("indices", "latency_ms", "energy_mj", "power_w", "area_mm2")}
    except (OSError, ValueError, KeyError):
        return None  # a damaged file is recomputed (writes are atomic, so this is rare)
    return res if np.array_equal(res["indices"], np.asarray(indices)) else None


def sweep(networks: Sequence[Network] | Mapping[str, Network], hw_space: Any, *, batch_size: int = 256,
          out_dir: str | Path | None = None, map_fn: MapFn | None = None, feature_map_fn: MapFn | None = None,
          verify: int = 0, seed: int = 0, indices: Sequence[int] | None = None) -> SweepResult:
    """Latency (ms), energy (mJ), average power (W) of every pair, and the area (mm^2) of every config.

    ``networks``: a sequence (ids are the network names, which must be unique) or a mapping id -> network.
    ``hw_space``: see :class:`HardwareSpace`; ``indices``: the config indices to sweep (default all).
    ``batch_size``: configs per batch (the unit of resumption and of distribution). ``out_dir``: where batches
    and ``manifest.json`` go (resumable; see the module docstring). ``map_fn``: ordered map for the batches
    (default in this process; numpy's BLAS already uses every core there); ``feature_map_fn``: for the fusion
    of network chunks (default ``map_fn``); nothing is fused when every batch is already in ``out_dir``.
    ``verify``: this many pairs, drawn with ``seed``, are re-run through :meth:`AcceleratorDevice.run` and
    :func:`hwsim.silicon.silicon_report` and must agree to 1e-9 relative, else :class:`SweepError`.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise SweepError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(verify, bool) or not isinstance(verify, int) or verify < 0:
        raise SweepError(f"verify must be a non-negative integer, got {verify!r}")
    ids, nets = _network_ids(networks)
    size = hw_space.size
    idx = list(range(size)) if indices is None else [int(i) for i in indices]
    if not idx:
        raise SweepError("sweep needs at least one hardware config")
    for i in idx:
        if not 0 <= i < size:
            raise SweepError(f"hardware config index {i} out of range [0, {size})")
    points = [hw_space.config(i) for i in idx]
    batches = [idx[i:i + batch_size] for i in range(0, len(idx), batch_size)]

    results: dict[int, dict[str, np.ndarray]] = {}
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        fp = _fingerprint(ids, points, nets, batch_size)
        manifest = out / "manifest.json"
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text())
            except (OSError, ValueError) as e:
                raise SweepError(f"{manifest}: unreadable ({e})") from None
            if old.get("fingerprint") != fp:
                raise SweepError(f"{out}: holds a sweep of other networks/configs; use another --out directory")
        else:
            out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(manifest, json.dumps({"format": FORMAT, "fingerprint": fp, "n_networks": len(ids),
                                                    "n_hw": len(idx), "batch_size": batch_size}, indent=1))
        for b, bi in enumerate(batches):
            p = _batch_path(out, b)
            if p.exists():
                got = _read_batch(p, bi)
                if got is not None:
                    results[b] = got
    todo = [b for b in range(len(batches)) if b not in results]
    devices: list[AcceleratorDevice] = []
    if todo or verify:
        devices = [hw_space.device(p) for p in points]
    if todo:
        reps: dict[Any, AcceleratorDevice] = {}
        for d in devices:
            reps.setdefault(fusion_signature(d), d)
        fmap = feature_map_fn if feature_map_fn is not None else map_fn
        features = {sig: network_features(nets, d.mechanisms, d.cost_model, map_fn=fmap) for sig, d in reps.items()}
        by_index = dict(zip(idx, devices))
        if map_fn is None:  # in this process: reuse the devices built above
            job = _BatchJob(None, features)
            items = [(batches[b], [by_index[i] for i in batches[b]]) for b in todo]
        elif hasattr(hw_space, "device_tables"):  # to workers: plain TOML tables (picklable)
            job = _BatchJob(None, features)
            items = [(batches[b], [hw_space.device_tables(hw_space.config(i)) for i in batches[b]]) for b in todo]
        else:  # to workers: the space itself must pickle
            job = _BatchJob(hw_space, features)
            items = [(batches[b], None) for b in todo]
        for b, res in zip(todo, map_fn(job, items) if map_fn is not None else map(job, items)):
            results[b] = res
            if out is not None:
                _write_batch(_batch_path(out, b), res)
    order = [results[b] for b in range(len(batches))]
    res = SweepResult(ids, tuple(points), np.concatenate([r["latency_ms"] for r in order], axis=1),
                      np.concatenate([r["energy_mj"] for r in order], axis=1),
                      np.concatenate([r["area_mm2"] for r in order]),
                      np.concatenate([r["power_w"] for r in order], axis=1))
    if verify:
        verify_pairs(res, dict(zip(ids, nets)), devices, verify, seed)
    return res


def verify_pairs(result: SweepResult, networks: Mapping[str, Network], devices: Sequence[AcceleratorDevice],
                 n: int, seed: int, rtol: float = 1e-9) -> int:
    """Re-run ``n`` seeded pairs through :meth:`AcceleratorDevice.run` and :func:`hwsim.silicon.silicon_report`
    (what ``hwnas simulate --format json`` prints); raise :class:`SweepError` on the first latency, energy, power
    or area that differs by more than ``rtol`` (relative). Returns the number of pairs checked."""
    from hwsim.silicon import silicon_report

    rng = np.random.default_rng(seed)
    nn, nh = result.latency_ms.shape
    for _ in range(n):
        i, j = int(rng.integers(nn)), int(rng.integers(nh))
        net = networks[result.network_ids[i]]
        run = devices[j].run(net)
        pairs = [("latency_ms", run.latency_ms, result.latency_ms[i, j])]
        if not math.isnan(result.area_mm2[j]):
            sil = silicon_report(devices[j], net, run=run)
            pairs += [("energy_mj", sil.energy_mj, result.energy_mj[i, j]),
                      ("power_w", sil.power_w_avg, result.power_w[i, j]), ("area_mm2", sil.area_mm2, result.area_mm2[j])]
        for name, want, got in pairs:
            if not math.isclose(want, got, rel_tol=rtol, abs_tol=1e-15):
                raise SweepError(f"verify: {result.network_ids[i]} on {devices[j].name}: {name} sweep {got!r} != "
                                 f"run {want!r}")
    return n


__all__ = ["DeviceListSpace", "HardwareSpace", "SweepResult", "area_mm2", "sweep", "verify_pairs"]
