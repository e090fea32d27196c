"""Correctors: turn a per-layer latency table into whole-network predictions fitted to measurements.

All share one interface: ``fit(measurements)`` (or ``fit_workloads(networks, latency_ms)``) returns a
*fitted copy* (correctors are immutable), ``predict(items)`` takes workloads, measurements, or archs of the
corrector's ``space``, ``save(path)`` / :func:`load_corrector` round-trip through JSON.

* :class:`GlobalAffine` -- ``T = a * sum(LUT) + b``, least squares, then anomaly removal: training networks whose
  fitted prediction is more than ``anomaly_threshold`` off are dropped and the fit repeated (the BBSSP authors'
  later framework removes profiles whose block sum is > 10% off).
* :class:`KernelTypeNNLS` -- ``T = sum_k (s_k * LUT_k + o_k * n_k) + c``: per kernel type ``k`` a scale on its
  summed LUT time, an offset per kernel and an intercept, all >= 0 (:func:`scipy.optimize.nnls`), so a
  prediction is never negative (a free-sign intercept predicted below zero for tiny networks: NB201 cells whose
  output ignores the input).
* :class:`ResidualModel` -- a per-type base fit times ``exp(g(features))``: ``g`` a seeded scikit-learn gradient
  boosting model on per-kernel-type features (LUT sums, counts, MACs), for devices where sums fail.

The BBSSP layer-adaptive LUT lives in :mod:`calibration.bbssp` (it is indexed by arch, not by layer).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy.optimize import nnls

from hwsim.formats import parse_json, read_text, short_repr, to_data
from hwsim.workload import Network
from calibration.corrector_core import (
    CORRECTOR,
    CORRECTOR_FORMAT,
    CORRECTOR_VERSION,
    AffineFit,
    CalibrationError,
    corrector_class,
    corrector_methods,
    fit_affine,
    read_corrector,
    saved_space,
)
from calibration.lut import LatencyLUT, LutError, build_lut, distinct_layers, kernel_type, layer_key
from calibration.measurements import Measurement, MeasurementSet


# ------------------------------------------------------------------------------------------------
# shared plumbing
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableSource:
    """Where per-layer times come from when a network holds a configuration the table lacks.

    ``device``: any object with ``profile_isolated(layer)`` (profiled on demand); ``unit``: every new
    configuration costs 1. Neither: unknown configurations are an error.
    """

    device: Any = None
    unit: bool = False

    def extend(self, lut: LatencyLUT, networks: Sequence[Network]) -> LatencyLUT:
        missing = [layer for layer in distinct_layers(networks).values() if layer not in lut]
        if not missing:
            return lut
        if self.device is not None:
            return build_lut(self.device, networks, lut)
        if self.unit:
            return lut.merged(LatencyLUT(lut.device, tuple(layer_key(x) for x in missing), (1.0,) * len(missing),
                                         tuple(kernel_type(x) for x in missing), lut.fingerprint))
        raise LutError(f"LUT {lut.device!r}: no entry for layer {missing[0].name!r} ({missing[0].kind}); "
                       f"give the corrector a device to profile new layer configurations")


def resolve_items(items: Sequence[Any], space: Any = None, resolver: Any = None) -> list[Network]:
    """Networks from a sequence of networks, measurements (via ``resolver``) or archs of ``space``."""
    out: list[Network] = []
    for it in items:
        if isinstance(it, Network):
            out.append(it)
        elif isinstance(it, Measurement):
            if resolver is None:
                from calibration.workloads import WorkloadResolver

                resolver = WorkloadResolver()
            out.append(resolver.workload(it))
        elif isinstance(it, (Mapping, str)):
            if space is None:
                raise CalibrationError("predicting archs needs the corrector's space (pass space=...)")
            arch = space.parse(it) if isinstance(it, str) else space.validate(it)
            out.append(space.to_workload(arch))
        else:
            raise CalibrationError(f"cannot predict an item of type {type(it).__name__}; expected Network, "
                                   f"Measurement or arch")
    return out


def _targets(latency_ms: Any, n: int) -> np.ndarray:
    y = np.asarray(latency_ms, dtype=float)
    if y.shape != (n,):
        raise CalibrationError(f"need one latency per network: {n} networks, latencies of shape {y.shape}")
    if not np.all(np.isfinite(y)) or np.any(y <= 0):
        raise CalibrationError("measured latencies must be finite and > 0 ms")
    return y


class _Base:
    """Mixin for LUT-based correctors (frozen dataclasses with fields ``lut``, ``source``, ``space``)."""

    method: ClassVar[str] = ""
    lut: LatencyLUT
    source: TableSource
    space: Any

    def _lut(self, networks: Sequence[Network]) -> LatencyLUT:
        return self.source.extend(self.lut, networks)

    def fit(self, measurements: MeasurementSet | Sequence[Measurement], resolver: Any = None) -> Any:
        """Fit to measured end-to-end latencies; returns the fitted corrector."""
        ms = list(measurements)
        nets = resolve_items(ms, self.space, resolver)
        return self.fit_workloads(nets, [m.latency_ms for m in ms])

    def fit_workloads(self, networks: Sequence[Network], latency_ms: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, items: Sequence[Any], resolver: Any = None) -> np.ndarray:
        """Predicted latency (ms) of each network / measurement / arch."""
        return self.predict_workloads(resolve_items(items, self.space, resolver))

    def predict_workloads(self, networks: Sequence[Network]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _require_fit(self, params: Any) -> None:
        if params is None:
            raise CalibrationError(f"{self.method} corrector is not fitted: call fit(...) first")

    def to_dict(self) -> dict[str, Any]:
        d = CORRECTOR.wrap({"method": self.method, "lut": self.lut.to_dict(), "unit": self.source.unit})
        if self.space is not None:
            d["space"] = self.space.name  # the space it was fitted on (files without it stay byte-identical)
        d.update(self._params_dict())
        return d

    def _params_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, path: str | Path) -> None:
        """Write the fitted corrector as JSON (atomically). The device, if any, is not saved."""
        CORRECTOR.write(path, self.to_dict(), indent=1)

    # --- reading ---------------------------------------------------------------------------------
    _doc: ClassVar[type]  # the file schema of the method (a _LutDoc subclass)

    @classmethod
    def unfitted(cls, lut: LatencyLUT, source: TableSource, space: Any = None, seed: int = 0) -> Any:
        """An unfitted corrector of this method over ``lut`` (``seed`` where the method has one)."""
        if "seed" in {f.name for f in dataclasses.fields(cls)}:
            return cls(lut, source, space, seed=seed)
        return cls(lut, source, space)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "corrector", device: Any = None, space: Any = None) -> Any:
        """Inverse of :meth:`to_dict` (envelope and every field checked); ``device`` profiles new layers."""
        method = CORRECTOR.check(d, source).get("method")
        if method != cls.method:
            raise CalibrationError(f"{source}: field 'method' is {short_repr(method)}, expected {cls.method!r}")
        doc = CORRECTOR.build(cls._doc, d, source)
        src = TableSource(device=device, unit=doc.unit)
        fields = {f.name for f in dataclasses.fields(doc)} - {f.name for f in dataclasses.fields(_LutDoc)}
        params = {k: getattr(doc, k) for k in fields}
        return cls(LatencyLUT.from_dict(doc.lut, source), src, saved_space(doc.space, space, source), **params)


@dataclass(frozen=True)
class _LutDoc:
    """Fields of every LUT-based corrector file (``space``: the name of the space the corrector predicts)."""

    method: str
    lut: Mapping[str, Any]
    unit: bool = False
    space: str | None = None


# ------------------------------------------------------------------------------------------------
# global affine
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _AffineDoc(_LutDoc):
    anomaly_threshold: float | None = None
    params: AffineFit | None = None


@dataclass(frozen=True)
class GlobalAffine(_Base):
    """``T = a * sum(LUT) + b`` fitted by least squares with anomaly removal (see :func:`fit_affine`)."""

    lut: LatencyLUT
    source: TableSource = field(default_factory=TableSource, compare=False)
    space: Any = field(default=None, compare=False)
    anomaly_threshold: float | None = 0.10
    params: AffineFit | None = None
    method: ClassVar[str] = "affine"
    _doc: ClassVar[type] = _AffineDoc

    def fit_workloads(self, networks: Sequence[Network], latency_ms: Any) -> GlobalAffine:
        y = _targets(latency_ms, len(networks))
        x = self._lut(networks).predict(networks)
        return dataclasses.replace(self, params=fit_affine(x, y, self.anomaly_threshold))

    def predict_workloads(self, networks: Sequence[Network]) -> np.ndarray:
        self._require_fit(self.params)
        assert self.params is not None
        return self.params.scale * self._lut(networks).predict(networks) + self.params.offset_ms

    def _params_dict(self) -> dict[str, Any]:
        return {"anomaly_threshold": self.anomaly_threshold, "params": to_data(self.params) if self.params else None}


# ------------------------------------------------------------------------------------------------
# per-kernel-type scale and offset
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TypeFit:
    """Per kernel type (``types`` order): ``scale`` on its summed LUT ms and ``offset_ms`` per kernel; plus
    ``intercept_ms``. Types absent when fitting are predicted with scale 1 and offset 0."""

    types: tuple[str, ...]
    scale: tuple[float, ...]
    offset_ms: tuple[float, ...]
    intercept_ms: float


def type_columns(lut: LatencyLUT, sums: np.ndarray, cnts: np.ndarray,
                 types: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From ``lut.type_features`` (per-type LUT ms ``sums`` and kernel counts ``cnts``, one row per network):
    (sums, counts) per requested type (zero for a type the LUT lacks), plus LUT ms of types not in ``types``
    (predicted unscaled)."""
    col = {t: i for i, t in enumerate(lut.type_names)}
    S = np.zeros((len(sums), len(types)))
    C = np.zeros((len(sums), len(types)))
    for j, t in enumerate(types):
        if t in col:
            S[:, j] = sums[:, col[t]]
            C[:, j] = cnts[:, col[t]]
    extra = sums[:, [col[t] for t in lut.type_names if t not in set(types)]].sum(axis=1)
    return S, C, extra


def _type_columns(lut: LatencyLUT, networks: Sequence[Network], types: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`type_columns` of ``networks``."""
    sums, cnts = lut.type_features(lut.encode(networks))
    return type_columns(lut, sums, cnts, types)


def fit_type_nnls(S: np.ndarray, C: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Non-negative per-type scales/offsets and intercept minimising ``||[S C 1] w - y||`` (``w >= 0``)."""
    n = len(y)
    A = np.c_[S, C, np.ones(n)]
    norm = np.abs(A).max(axis=0)
    norm[norm == 0] = 1.0
    w, _ = nnls(A / norm, y, maxiter=50 * A.shape[1])
    w = w / norm
    k = S.shape[1]
    return w[:k], w[k:2 * k], float(w[-1])


@dataclass(frozen=True)
class _TypeDoc(_LutDoc):
    params: TypeFit | None = None


@dataclass(frozen=True)
class KernelTypeNNLS(_Base):
    """Per-kernel-type scale and offset fitted by non-negative least squares (see module docstring)."""

    lut: LatencyLUT
    source: TableSource = field(default_factory=TableSource, compare=False)
    space: Any = field(default=None, compare=False)
    params: TypeFit | None = None
    method: ClassVar[str] = "kernel-type"
    _doc: ClassVar[type] = _TypeDoc

    def fit_workloads(self, networks: Sequence[Network], latency_ms: Any) -> KernelTypeNNLS:
        y = _targets(latency_ms, len(networks))
        lut = self._lut(networks)
        types = lut.type_names
        S, C, _ = _type_columns(lut, networks, types)
        scale, offset, c = fit_type_nnls(S, C, y)
        return dataclasses.replace(self, params=TypeFit(tuple(types), tuple(map(float, scale)),
                                                        tuple(map(float, offset)), c))

    def predict_workloads(self, networks: Sequence[Network]) -> np.ndarray:
        self._require_fit(self.params)
        assert self.params is not None
        p = self.params
        S, C, extra = _type_columns(self._lut(networks), networks, p.types)
        return S @ np.array(p.scale) + C @ np.array(p.offset_ms) + p.intercept_ms + extra

    def _params_dict(self) -> dict[str, Any]:
        return {"params": None if self.params is None else to_data(self.params)}


# ------------------------------------------------------------------------------------------------
# learned residual
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResidualFit:
    """The per-type base fit, the feature types, and the training set of the residual model (features ``X``,
    relative residuals ``r``): the model is refitted deterministically from them (seeded) on load."""

    base: TypeFit
    types: tuple[str, ...]
    X: tuple[tuple[float, ...], ...]
    r: tuple[float, ...]
    floor_ms: float


@dataclass(frozen=True)
class _ResidualDoc(_LutDoc):
    seed: int = 0
    n_estimators: int = 200
    max_depth: int = 2
    learning_rate: float = 0.05
    params: ResidualFit | None = None


@dataclass(frozen=True)
class ResidualModel(_Base):
    """Per-type NNLS base ``b`` (floored at half the smallest training latency) times ``exp(g(features))``;
    ``g`` a seeded gradient-boosting regressor (scikit-learn) fitted to ``log(T / b)`` on log1p of per-type LUT
    sums and counts, total MACs and the base prediction."""

    lut: LatencyLUT
    source: TableSource = field(default_factory=TableSource, compare=False)
    space: Any = field(default=None, compare=False)
    seed: int = 0
    n_estimators: int = 200
    max_depth: int = 2
    learning_rate: float = 0.05
    params: ResidualFit | None = None
    method: ClassVar[str] = "residual"
    _doc: ClassVar[type] = _ResidualDoc

    def _features(self, lut: LatencyLUT, networks: Sequence[Network], types: Sequence[str],
                  base: np.ndarray) -> np.ndarray:
        S, C, extra = _type_columns(lut, networks, types)
        macs = np.array([net.total_macs for net in networks], dtype=float)
        return np.c_[np.log1p(S), np.log1p(C), np.log1p(extra), np.log1p(macs), np.log(np.maximum(base, 1e-9))]

    def _regressor(self, X: np.ndarray, r: np.ndarray) -> Any:
        from sklearn.ensemble import GradientBoostingRegressor

        leaf = max(1, len(r) // 10)
        model = GradientBoostingRegressor(n_estimators=self.n_estimators, max_depth=self.max_depth,
                                          learning_rate=self.learning_rate, min_samples_leaf=leaf,
                                          random_state=self.seed)
        return model.fit(X, r)

    def fit_workloads(self, networks: Sequence[Network], latency_ms: Any) -> ResidualModel:
        y = _targets(latency_ms, len(networks))
        base = KernelTypeNNLS(self.lut, self.source, self.space).fit_workloads(networks, y)
        assert base.params is not None
        floor = 0.5 * float(y.min())
        b = np.maximum(base.predict_workloads(networks), floor)
        lut = self._lut(networks)
        X = self._features(lut, networks, base.params.types, b)
        r = np.log(y / b)
        fit = ResidualFit(base.params, base.params.types, tuple(tuple(map(float, row)) for row in X),
                          tuple(map(float, r)), floor)
        return dataclasses.replace(self, params=fit)

    def predict_workloads(self, networks: Sequence[Network]) -> np.ndarray:
        self._require_fit(self.params)
        assert self.params is not None
        p = self.params
        base = np.maximum(KernelTypeNNLS(self.lut, self.source, self.space, p.base).predict_workloads(networks),
                          p.floor_ms)
        X = self._features(self._lut(networks), networks, p.types, base)
        g = self._regressor(np.array(p.X), np.array(p.r))
        return base * np.exp(g.predict(X))

    def _params_dict(self) -> dict[str, Any]:
        if self.params is None:
            return {"seed": self.seed, "params": None}
        return {"seed": self.seed, "n_estimators": self.n_estimators, "max_depth": self.max_depth,
                "learning_rate": self.learning_rate, "params": to_data(self.params)}


# ------------------------------------------------------------------------------------------------
# model selection by cross-validation
# ------------------------------------------------------------------------------------------------
METHODS = ("affine", "kernel-type", "residual")


def one_se_pick(errors: Mapping[str, np.ndarray], default: str) -> str:
    """The method to use given per-network out-of-fold errors of each: ``default`` unless another method's mean
    error is lower by more than one standard error of the paired differences; of those, the lowest mean wins."""
    base = np.asarray(errors[default], dtype=float)
    n = len(base)
    pick = default
    for m, e in errors.items():
        d = np.asarray(e, dtype=float) - base
        se = d.std(ddof=1) / math.sqrt(n) if n > 1 else math.inf
        if d.mean() + se < 0 and float(np.mean(e)) < float(np.mean(errors[pick])):
            pick = m
    return pick


@dataclass(frozen=True)
class AutoSelect(_Base):
    """Picks the corrector method by k-fold cross-validation on the training networks, then fits it on all of them.

    ``default`` (kernel-type) is kept unless another method has a lower out-of-fold MAPE by more than one standard
    error of the paired per-network differences (a one-standard-error rule: with 10 training networks the fold
    estimates are too noisy to switch on a small difference); among the methods that pass, the lowest MAPE wins.
    Folds come from a permutation seeded by ``seed``. ``chosen`` is the fitted corrector, ``cv_mape`` the
    out-of-fold MAPE (%) of each method; ``save`` writes the chosen corrector, so :func:`load_corrector` returns
    that method."""

    lut: LatencyLUT
    source: TableSource = field(default_factory=TableSource, compare=False)
    space: Any = field(default=None, compare=False)
    seed: int = 0
    folds: int = 5
    methods: tuple[str, ...] = METHODS
    default: str = "kernel-type"
    chosen: Any = None
    cv_mape: tuple[tuple[str, float], ...] = ()
    method: ClassVar[str] = "auto"

    def __post_init__(self) -> None:
        if isinstance(self.folds, bool) or not isinstance(self.folds, int) or self.folds < 2:
            raise CalibrationError(f"auto corrector folds must be an integer >= 2, got {self.folds!r}")
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise CalibrationError(f"auto corrector methods must be among {', '.join(METHODS)}, got {self.methods!r}")
        if self.default not in self.methods:
            raise CalibrationError(f"auto corrector default {self.default!r} is not among its methods {self.methods!r}")

    def _make(self, method: str) -> Any:
        return make_corrector(method, self.lut, self.source, self.space, self.seed)

    def fit_workloads(self, networks: Sequence[Network], latency_ms: Any) -> AutoSelect:
        y = _targets(latency_ms, len(networks))
        n = len(networks)
        if n < 3 or len(self.methods) == 1:
            return dataclasses.replace(self, chosen=self._make(self.default).fit_workloads(networks, y))
        k = min(self.folds, n)
        fold = np.empty(n, dtype=int)
        fold[np.random.default_rng(self.seed).permutation(n)] = np.arange(n) % k
        err: dict[str, np.ndarray] = {}
        for m in self.methods:
            pred = np.empty(n)
            for f in range(k):
                tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
                cor = self._make(m).fit_workloads([networks[i] for i in tr], y[tr])
                pred[te] = cor.predict_workloads([networks[i] for i in te])
            err[m] = np.abs(pred / y - 1)
        chosen = self._make(one_se_pick(err, self.default)).fit_workloads(networks, y)
        return dataclasses.replace(self, chosen=chosen,
                                   cv_mape=tuple((m, float(100 * err[m].mean())) for m in self.methods))

    def predict_workloads(self, networks: Sequence[Network]) -> np.ndarray:
        self._require_fit(self.chosen)
        return self.chosen.predict_workloads(networks)

    def to_dict(self) -> dict[str, Any]:
        """The chosen fitted corrector's dict (``save`` writes it)."""
        self._require_fit(self.chosen)
        return self.chosen.to_dict()


# ------------------------------------------------------------------------------------------------
# construction by name and loading
# ------------------------------------------------------------------------------------------------


def make_corrector(method: str, lut: LatencyLUT, source: TableSource | None = None, space: Any = None,
                   seed: int = 0) -> GlobalAffine | KernelTypeNNLS | ResidualModel | AutoSelect:
    """An unfitted corrector of ``method`` (one of :data:`METHODS`, or ``auto``: :class:`AutoSelect`) over
    ``lut``."""
    src = source or TableSource()
    if method == "auto":
        return AutoSelect(lut, src, space, seed=seed)
    if method not in METHODS:
        raise CalibrationError(f"unknown corrector method {method!r}; expected one of {', '.join(METHODS)}, auto "
                               f"(or bbssp)")
    return corrector_class(method).unfitted(lut, src, space, seed)  # type: ignore[no-any-return]


def corrector_from_dict(d: Mapping[str, Any], source: str = "corrector", device: Any = None,
                        space: Any = None) -> Any:
    """Inverse of ``to_dict`` for every method (BBSSP included), through the method registry."""
    return read_corrector(d, source, device, space)


def load_corrector(path: str | Path, device: Any = None, space: Any = None) -> Any:
    """Load a corrector saved with ``save``; ``device`` lets it profile layer configurations it lacks."""
    p = Path(path)
    return corrector_from_dict(parse_json(read_text(p, CalibrationError), str(p), CalibrationError), str(p), device,
                               space)


__all__ = ["CORRECTOR_FORMAT", "CORRECTOR_VERSION", "AffineFit", "AutoSelect", "CalibrationError", "GlobalAffine", "KernelTypeNNLS", "METHODS", "ResidualFit",
           "ResidualModel", "TableSource", "TypeFit", "corrector_from_dict", "corrector_methods", "fit_affine", "fit_type_nnls",
           "load_corrector", "make_corrector", "one_se_pick", "resolve_items", "type_columns"]
