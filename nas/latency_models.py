"""Latency models for search: one interface, ``predict_ms(archs) -> np.ndarray`` (milliseconds, one per arch).

Three sources (:func:`make_latency_model` picks one):

* a simulated device (preset name or device ``.toml``): for a space with a typical arch on a layer-wise backbone,
  the BBSSP layer-adaptive LUT profiled on the device (:meth:`calibration.bbssp.BBSSPLut.from_device`, as
  ``hwnas search`` always did); otherwise the sum of the device's per-layer-configuration LUT
  (:class:`calibration.lut.LatencyLUT`, profiled on demand) over each arch's workload;
* a saved corrector (``hwnas calibrate fit --save``, :func:`calibration.correctors.load_corrector`). The
  corrector JSON's ``space`` key names the space it was fitted on; its workloads are built in that space (an
  execution variant such as ``nb201-unpruned`` of the searched ``nb201``). It must hold every arch of the searched
  space (same labels, candidates a superset); otherwise a one-line :class:`LatencyModelError`. A corrector without
  the key is used in the searched space;
* a measured table used as an oracle (``--latency-table F --latency-column C``; shared ``latency/nb201_help.csv``),
  keyed by arch string or NB201 index (:func:`nas.evaluators.table.read_column_table`).

Vectorised prediction: :func:`calibration.batch.batch_predictor` binds the model's predictor (a per-layer LUT,
any corrector, the BBSSP LUT) to the space's layout of components (layer-wise backbones; NB201 cells executed
pruned, unpruned or zero-folded) and predicts a batch of archs with array operations, no workload per arch.
Where no layout applies (or the model is a table) the per-arch path is used (a workload per arch, memoised):
:meth:`LatencyModel.predict_per_arch`, the obviously correct twin the fast path is tested against.
:meth:`LatencyModel.predict_all` gives every arch of an enumerable space (in :meth:`SearchSpace.enumerate` order)
where vectorised, None otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.errors import HwnasError
from spaces.core import ENUMERATE_LIMIT, Arch, SearchSpace, holds_archs_of

ENUMERATE_ALL_LIMIT = 2_000_000


class LatencyModelError(HwnasError):
    """A latency model that cannot be built or used for a space (wrong space, missing file or column)."""


# ------------------------------------------------------------------------------------------------
# arch <-> candidate indices
# ------------------------------------------------------------------------------------------------
def arch_indices(space: SearchSpace, archs: Sequence[Mapping[str, str]]) -> np.ndarray:
    """``len(archs) x len(space.choices)`` int array of candidate indices."""
    pos = [{b: j for j, b in enumerate(c.candidates)} for c in space.choices]
    out = np.empty((len(archs), len(space.choices)), dtype=np.int64)
    for r, a in enumerate(archs):
        for i, c in enumerate(space.choices):
            try:
                out[r, i] = pos[i][a[c.label]]
            except KeyError:
                space.validate(a)  # raises the one-line SpaceError
                raise
    return out


def flat_index(space: SearchSpace, idx: np.ndarray) -> np.ndarray:
    """Position of each arch (rows of candidate indices) in :meth:`SearchSpace.enumerate` order."""
    sizes = [len(c.candidates) for c in space.choices]
    flat = np.zeros(idx.shape[0], dtype=np.int64)
    for i, n in enumerate(sizes):
        flat = flat * n + idx[:, i]
    return flat


# ------------------------------------------------------------------------------------------------
# the interface
# ------------------------------------------------------------------------------------------------
class LatencyModel:
    """Predicted latency (ms) of archs of ``space``. Subclasses give :meth:`_per_arch` (the obviously correct
    path) and :meth:`_make_batch` (the vectorised one, or None); prediction is vectorised where it can be
    (module docstring) and memoised per arch otherwise."""

    kind: str = "model"

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self._memo: dict[str, float] = {}
        self._batch: Any = None
        self._batch_tried = False
        self._all: np.ndarray | None = None

    # -- to implement --------------------------------------------------------------------------
    def _per_arch(self, archs: Sequence[Arch]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _make_batch(self) -> Any:
        """A :class:`calibration.batch.BatchPredictor` for this model and space, or None."""
        return None

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind}

    def measured_ms(self, arch: Mapping[str, str]) -> float | None:
        """The measured latency of ``arch`` where this model is a measured table; None otherwise."""
        return None

    # -- shared --------------------------------------------------------------------------------
    def batch(self) -> Any:
        """The vectorised predictor (:class:`calibration.batch.BatchPredictor`), or None where no layout applies."""
        if not self._batch_tried:
            self._batch_tried = True
            try:
                self._batch = self._make_batch()
            except HwnasError:  # no batch layout for this space/predictor: the per-arch path serves
                self._batch = None
        return self._batch

    def predict_per_arch(self, archs: Sequence[Mapping[str, str]]) -> np.ndarray:
        """The slow path, one arch at a time (memoised): the reference the vectorised path is tested against."""
        va = [self.space.validate(a) for a in archs]
        keys = [self.space.format(a) for a in va]
        todo = {k: a for k, a in zip(keys, va) if k not in self._memo}
        if todo:
            vals = np.asarray(self._per_arch(list(todo.values())), dtype=float)
            self._memo.update(zip(todo, map(float, vals)))
        return np.array([self._memo[k] for k in keys], dtype=float)

    def predict_ms(self, archs: Sequence[Mapping[str, str]]) -> np.ndarray:
        """Predicted latency (ms) of each arch."""
        if not archs:
            return np.empty(0)
        if self._all is not None:
            return self._all[flat_index(self.space, arch_indices(self.space, archs))]
        b = self.batch()
        if b is not None:
            return np.asarray(b.predict(list(archs)), dtype=float)
        return self.predict_per_arch(archs)

    def predict_all(self) -> np.ndarray | None:
        """Every arch of the space in :meth:`SearchSpace.enumerate` order where vectorised (cached); else None."""
        if self._all is None:
            self._all = self._predict_all()
        return self._all

    def _predict_all(self) -> np.ndarray | None:
        if self.space.size() > min(ENUMERATE_LIMIT, ENUMERATE_ALL_LIMIT):
            return None
        b = self.batch()
        return None if b is None else np.asarray(b.predict_all(ENUMERATE_ALL_LIMIT)[1], dtype=float)


class LutSumLatency(LatencyModel):
    """Sum of a device's per-layer-configuration LUT over each arch's workload (configurations profiled with
    ``device.profile_isolated`` when first seen)."""

    kind = "device-lut-sum"

    def __init__(self, space: SearchSpace, device: str) -> None:
        super().__init__(space)
        from hwsim.devices.registry import get_device

        self.device_name = device
        self.device = get_device(device)
        self._lut: Any = None

    def _make_batch(self) -> Any:
        from calibration.batch import arch_layout, batch_predictor, layout_lut

        lut = layout_lut(self.device, arch_layout(self.space), self._lut)
        return batch_predictor(lut, self.space)

    def _per_arch(self, archs: Sequence[Arch]) -> np.ndarray:
        from calibration.lut import build_lut

        nets = [self.space.to_workload(a) for a in archs]
        self._lut = build_lut(self.device, nets, self._lut)
        return np.asarray(self._lut.predict(nets), dtype=float)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "device": self.device_name}


class BBSSPLatency(LatencyModel):
    """A BBSSP layer-adaptive LUT (:class:`calibration.bbssp.BBSSPLut`): a sum of table entries plus an offset."""

    kind = "bbssp-lut"

    def __init__(self, space: SearchSpace, lut: Any, source: str = "") -> None:
        super().__init__(space)
        self.lut = lut
        self.source = source

    def _per_arch(self, archs: Sequence[Arch]) -> np.ndarray:
        return np.asarray(self.lut.predict(list(archs)), dtype=float)

    def _make_batch(self) -> Any:
        from calibration.batch import batch_predictor

        return batch_predictor(self.lut, self.space)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "mode": self.lut.mode}


class CorrectorLatency(LatencyModel):
    """A fitted corrector; workloads are built in ``workload_space`` (the space it was fitted on)."""

    kind = "corrector"

    def __init__(self, space: SearchSpace, corrector: Any, workload_space: SearchSpace, path: str = "") -> None:
        super().__init__(space)
        self.corrector = corrector
        self.workload_space = workload_space
        self.path = path
        self.method = str(getattr(corrector, "method", ""))

    def _make_batch(self) -> Any:
        from calibration.batch import VARIANTS, batch_predictor

        variant = self.workload_space.name
        nb201 = variant in ("nb201", "nb201-unpruned", "nb201-zero-folded") or variant in VARIANTS
        return batch_predictor(self.corrector, self.space, variant if nb201 else None)

    def _per_arch(self, archs: Sequence[Arch]) -> np.ndarray:
        if self.method == "bbssp":
            return np.asarray(self.corrector.predict([self.space.format(a) for a in archs]), dtype=float)
        nets = [self.workload_space.to_workload(self.workload_space.parse(self.space.format(a))) for a in archs]
        return np.asarray(self.corrector.predict_workloads(nets), dtype=float)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "method": self.method, "space": self.workload_space.name}


class TableLatency(LatencyModel):
    """Measured latency (ms) from one column of a table, used as an oracle (benchmarks) or to report the
    measured latency of found archs."""

    kind = "table"

    def __init__(self, space: SearchSpace, path: str, column: str) -> None:
        super().__init__(space)
        from nas.evaluators.table import read_column_table

        try:
            self.table = read_column_table(path, column)
        except HwnasError as e:
            raise LatencyModelError(f"--latency-table: {e}") from None
        if not self.table.by_arch:
            raise LatencyModelError(f"{path}: the latency table needs an arch string column (arch or arch_str)")
        self.path, self.column = path, column

    def lookup(self, arch: Mapping[str, str]) -> float | None:
        return self.table.value(self.space.format(arch), self.space.name)

    def _per_arch(self, archs: Sequence[Arch]) -> np.ndarray:
        out = np.empty(len(archs))
        for k, a in enumerate(archs):
            v = self.lookup(a)
            if v is None:
                raise LatencyModelError(f"{self.path}: no latency in column {self.column!r} for arch "
                                        f"{self.space.format(a)!r}")
            out[k] = v
        return out

    def measured_ms(self, arch: Mapping[str, str]) -> float | None:
        return self.lookup(arch)

    def _predict_all(self) -> np.ndarray | None:
        if self.space.size() > ENUMERATE_LIMIT:
            return None
        archs = list(self.space.enumerate())
        if any(self.lookup(a) is None for a in archs):
            return None
        return self.predict_per_arch(archs)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "column": self.column}


# ------------------------------------------------------------------------------------------------
# construction
# ------------------------------------------------------------------------------------------------
def _corrector_device(lut: Any) -> Any:
    """The device preset a saved corrector's LUT was profiled on, when it is a built-in preset with the same
    fingerprint (so configurations missing from the saved LUT can be profiled); else None."""
    from calibration.lut import device_fingerprint
    from hwsim.devices.registry import builtin_presets, get_device

    name = getattr(lut, "device", "")
    if name not in builtin_presets():
        return None
    dev = get_device(name)
    return dev if device_fingerprint(dev) == lut.fingerprint else None


def load_corrector_model(path: str | Path, space: SearchSpace) -> CorrectorLatency:
    """A saved corrector as a latency model for ``space`` (see the module docstring for the space rule)."""
    from calibration.corrector_core import CORRECTOR
    from calibration.correctors import corrector_from_dict
    from calibration.workloads import get_space as workload_space
    from hwsim.formats import load_json

    p = Path(path)
    if not p.exists():
        raise LatencyModelError(f"--latency-model: file {str(p)!r} not found")
    d = dict(CORRECTOR.check(load_json(p, LatencyModelError), str(p)))
    fitted_on = d.get("space")
    ws = space
    if fitted_on is not None:
        if not isinstance(fitted_on, str):
            raise LatencyModelError(f"{p}: field 'space' must be a space name, got {fitted_on!r}")
        try:
            ws = workload_space(fitted_on)
        except HwnasError as e:
            raise LatencyModelError(f"{p}: field 'space': {e}") from None
        if not holds_archs_of(ws, space):
            raise LatencyModelError(f"{p}: corrector fitted on space {fitted_on!r}, which does not hold the archs "
                                    f"of space {space.name!r}")
    if d.get("method") == "bbssp":
        d = {**d, "space": None}
    cor = corrector_from_dict(d, str(p), space=ws)
    if d.get("method") == "bbssp":
        import dataclasses

        cor = dataclasses.replace(cor, space=space)
        if tuple(cor.labels) != space.labels:
            raise LatencyModelError(f"{p}: BBSSP LUT over layers {list(cor.labels)} does not fit space {space.name!r}")
    else:
        from calibration.correctors import TableSource

        dev = _corrector_device(cor.lut)
        if dev is not None and not cor.source.unit:
            import dataclasses

            cor = _with_source(cor, TableSource(device=dev))
    return CorrectorLatency(space, cor, ws, str(p))


def _with_source(cor: Any, source: Any) -> Any:
    import dataclasses

    if getattr(cor, "chosen", None) is not None:
        return dataclasses.replace(cor, source=source, chosen=_with_source(cor.chosen, source))
    if hasattr(cor, "source"):
        return dataclasses.replace(cor, source=source)
    return cor


def device_latency_model(space: SearchSpace, device: str) -> LatencyModel:
    """Simulated latency on ``device``: the BBSSP LUT where the space has a typical arch on a layer-wise backbone,
    else a per-layer LUT sum (module docstring)."""
    from spaces.backbone import BackboneModel

    if space.typical is not None and isinstance(space.model, BackboneModel):
        return bbssp_device_model(space, device)
    return LutSumLatency(space, device)


def bbssp_device_model(space: SearchSpace, device: str) -> BBSSPLatency:
    """The BBSSP layer-adaptive LUT of ``space`` profiled on ``device`` (SSBN_0 = the space's typical arch)."""
    from calibration.bbssp import BBSSPLut
    from hwsim.devices.registry import get_device

    if space.typical is None:
        raise LatencyModelError(f"space {space.name!r} has no typical arch; the BBSSP LUT needs one (give --profile "
                                f"DIR, or use another latency model)")
    return BBSSPLatency(space, BBSSPLut.from_device(space, get_device(device)), f"device {device}")


def make_latency_model(space: SearchSpace, device: str | None = None, corrector: str | None = None,
                       table: str | None = None, column: str | None = None) -> LatencyModel:
    """One latency model from the CLI's choices: a corrector, else a measured table, else a simulated device."""
    if (table is None) != (column is None):
        raise LatencyModelError("--latency-table and --latency-column go together")
    if corrector is not None:
        return load_corrector_model(corrector, space)
    if table is not None:
        assert column is not None
        return TableLatency(space, table, column)
    if device is None:
        raise LatencyModelError("a latency model needs a device, a corrector or a latency table")
    return device_latency_model(space, device)


def fastest_ms(model: LatencyModel) -> float | None:
    """The smallest predicted latency over the whole space where the model predicts it vectorised; else None."""
    allv = model.predict_all()
    return None if allv is None else float(np.min(allv))


def finite_or_none(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


__all__ = ["BBSSPLatency", "CorrectorLatency", "LatencyModel", "LatencyModelError", "LutSumLatency",
           "TableLatency", "arch_indices", "bbssp_device_model", "device_latency_model", "fastest_ms", "flat_index", "holds_archs_of",
           "load_corrector_model", "make_latency_model"]
