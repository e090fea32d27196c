"""What every corrector module shares, so that none of them imports another (no import circle).

* :class:`CalibrationError` and the corrector file envelope :data:`CORRECTOR` (``hwnas.corrector`` v1, with a
  ``method`` field naming the corrector);
* :func:`fit_affine` (``T = a * x + b`` with anomaly removal), used by the global-affine corrector and by the
  BBSSP layer-adaptive LUT;
* the **method registry**: :data:`CORRECTOR_CLASSES` maps each method a corrector file can hold to the module
  and class that read and write it (``from_dict(d, source, device=..., space=...)`` / ``to_dict()``). The
  table is data: the module of a method is imported only when a file of that method is read, so
  :mod:`calibration.correctors` and :mod:`calibration.bbssp` both import this module and never each other.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from hwsim.errors import HwnasError
from hwsim.formats import Format, short_repr

CORRECTOR_FORMAT = "hwnas.corrector"
CORRECTOR_VERSION = 1


class CalibrationError(HwnasError):
    """A corrector used wrongly: predicting before fitting, too few measurements, unknown method."""


CORRECTOR = Format(CORRECTOR_FORMAT, CORRECTOR_VERSION, "corrector", CalibrationError)

CORRECTOR_CLASSES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "affine": ("calibration.correctors", "GlobalAffine"),
    "kernel-type": ("calibration.correctors", "KernelTypeNNLS"),
    "residual": ("calibration.correctors", "ResidualModel"),
    "bbssp": ("calibration.bbssp", "BBSSPLut"),
})


def corrector_methods() -> tuple[str, ...]:
    """Every method a corrector file can hold (the registry's keys)."""
    return tuple(CORRECTOR_CLASSES)


def corrector_class(method: Any, source: str = "corrector") -> type:
    """The class of ``method`` (its module imported on first use); one-line error for an unknown method."""
    if not isinstance(method, str) or method not in CORRECTOR_CLASSES:
        raise CalibrationError(f"{source}: unknown corrector method {short_repr(method)} (field 'method'); "
                               f"expected one of {', '.join(CORRECTOR_CLASSES)}")
    module, name = CORRECTOR_CLASSES[method]
    cls: type = getattr(importlib.import_module(module), name)
    return cls


def read_corrector(d: Any, source: str = "corrector", device: Any = None, space: Any = None) -> Any:
    """A corrector from its ``to_dict`` form: the envelope is checked here, the body by its method's class."""
    doc = CORRECTOR.check(d, source)
    return corrector_class(doc.get("method"), source).from_dict(doc, source, device=device, space=space)


def saved_space(name: str | None, space: Any = None, source: str = "corrector") -> Any:
    """``space`` when given, else the built-in or ``.toml`` space a corrector file names (None: none)."""
    if space is not None or not name:
        return space
    from calibration.workloads import get_space

    try:
        return get_space(name)
    except HwnasError as e:
        raise CalibrationError(f"{source}: field 'space': {e}") from None


# ------------------------------------------------------------------------------------------------
# the affine fit shared by GlobalAffine and the BBSSP LUT
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AffineFit:
    """``T = scale * sum(LUT) + offset_ms``; ``n_used`` training networks kept after anomaly removal."""

    scale: float
    offset_ms: float
    n_used: int
    n_anomalies: int


def fit_affine(x: np.ndarray, y: np.ndarray, anomaly_threshold: float | None = 0.10,
               min_keep_fraction: float = 0.5) -> AffineFit:
    """Least-squares ``y ~ a x + b`` (``a >= 0``) with anomaly removal (the worst point is dropped and the fit repeated while its relative residual exceeds
    the threshold, keeping at least ``min_keep_fraction`` of the points and at least 2). One point fits ``b = y - x``."""
    n = len(x)
    if n == 0:
        raise CalibrationError("affine fit needs at least one measurement")
    if n == 1 or np.ptp(x) == 0:
        b = float(np.mean(y - x))
        return AffineFit(1.0, b, n, 0)

    def solve(mask: np.ndarray) -> tuple[float, float]:
        A = np.c_[x[mask], np.ones(int(mask.sum()))]
        (a, b), *_ = np.linalg.lstsq(A, y[mask], rcond=None)
        if a < 0:  # a slower LUT entry never makes a network faster: clamp the scale, refit the offset
            return 0.0, float(np.mean(y[mask]))
        return float(a), float(b)

    mask = np.ones(n, dtype=bool)
    a, b = solve(mask)
    keep = max(2, math.ceil(min_keep_fraction * n))
    if anomaly_threshold is not None:
        while int(mask.sum()) > keep:
            rel = np.where(mask, np.abs(a * x + b - y) / y, -1.0)
            worst = int(np.argmax(rel))
            if rel[worst] <= anomaly_threshold:
                break
            mask[worst] = False  # drop the single worst point, refit, repeat
            a, b = solve(mask)
    return AffineFit(a, b, int(mask.sum()), int(n - mask.sum()))


__all__ = ["CORRECTOR", "CORRECTOR_CLASSES", "CORRECTOR_FORMAT", "CORRECTOR_VERSION", "AffineFit", "CalibrationError",
           "corrector_class", "corrector_methods", "fit_affine", "read_corrector", "saved_space"]
