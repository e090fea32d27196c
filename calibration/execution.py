"""Which NAS-Bench-201 execution variant a board ran, chosen from its training measurements only (``nb201-auto``).

A board's NB201 latencies come from one of three executions of the same cells (:mod:`calibration.workloads`,
:data:`calibration.datasets.EXECUTION_SPACES`): ``pruned`` (converters that drop dead edges), ``unpruned`` (PyTorch
eager: every edge runs) and ``zero-folded`` (HW-NAS-Bench's converter). :func:`choose_execution` scores each variant
by the leave-one-out error of the per-kernel-type corrector (:func:`calibration.correctors.fit_type_nnls`, the
``kernel-type`` model: per type a scale on its summed LUT ms and an offset per kernel, all >= 0) on the per-arch
type features of that variant's workloads, computed by :mod:`calibration.batch` (no workload built per arch), and
picks the lowest mean relative error. Variants whose workloads are identical on every training arch (pruned and
zero-folded often are) tie exactly; ties go to the first in :data:`VARIANT_ORDER` (pruned, unpruned, zero-folded).

What 10 training archs can decide: the variants differ only on archs with dead edges (and, unpruned, by cheap
``none`` multiplies and adds), so a training set with few such archs leaves a near tie that noise decides. Over the
31 NB201 columns of the shared tables with ``roofline-reference`` LUTs, the declared variant is picked on 30, 31, 31,
28, 28, 28, 24, 30, 22, 24 columns for training seeds 0..9 (mean 27.6). A one-standard-error rule favouring pruned
(as :class:`~calibration.correctors.AutoSelect` uses) did worse (26 at seed 0), as did the median, RMS or a
trimmed mean of the errors and simpler models (per-type scales only, one offset per kernel).

Unlike :func:`calibration.datasets.execution_fit` (op counts, all rows of a column), this needs only the training
measurements and a device LUT (a device preset, or none: every layer configuration costs 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calibration.batch import arch_layout, layout_lut
from calibration.correctors import CalibrationError, fit_type_nnls
from calibration.lut import LatencyLUT, unit_lut

NB201_AUTO = "nb201-auto"
#: Variants in tie-break order, with their workload spaces.
VARIANT_ORDER = (("pruned", "nb201"), ("unpruned", "nb201-unpruned"), ("zero-folded", "nb201-zero-folded"))


@dataclass(frozen=True)
class ExecutionChoice:
    """The chosen variant (``execution``) and its workload space name (``space``); ``loo_mape``: per variant, the
    leave-one-out MAPE (%) of the kernel-type model on the training measurements."""

    execution: str
    space: str
    loo_mape: tuple[tuple[str, float], ...]

    def to_text(self) -> str:
        errs = ", ".join(f"{e} {v:.2f}%" for e, v in self.loo_mape)
        return f"{NB201_AUTO} -> {self.space} (leave-one-out MAPE: {errs})"


def variant_features(archs: Sequence[Any], execution: str, device: Any = None, lut: LatencyLUT | None = None,
                     input_size: int | None = None) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Per arch, LUT ms summed per kernel type and kernel counts per type (columns: the type names returned) of the
    NB201 workloads under ``execution``; the LUT is ``lut``, else ``device``'s over the layout's layers, else unit."""
    from calibration.batch import _features
    from calibration.workloads import get_space

    space = get_space("nb201")
    lay = arch_layout(space, execution, input_size)
    comps = [c for c in lay.components if c.layers]
    if lut is None:
        lut = layout_lut(device, lay) if device is not None else unit_lut(comps)
    f = _features(lut, list(lay.components))
    codes = np.asarray([space.indices(space.parse(a) if isinstance(a, str) else a) for a in archs], dtype=np.int64)
    F = np.c_[f.S, f.C]
    A = lay.combine(lay.check_codes(codes), F)
    T = f.S.shape[1]
    return A[:, :T], A[:, T:], tuple(lut.type_names)


def loo_errors(S: np.ndarray, C: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Leave-one-out relative errors ``|pred / y - 1|`` of the kernel-type NNLS model on rows ``(S, C)``."""
    n = len(y)
    out = np.empty(n)
    for k in range(n):
        tr = np.arange(n) != k
        scale, offset, c = fit_type_nnls(S[tr], C[tr], y[tr])
        out[k] = abs((S[k] @ scale + C[k] @ offset + c) / y[k] - 1)
    return out


def choose_execution(archs: Sequence[Any], latency_ms: Any, device: Any = None,
                     executions: Sequence[str] = tuple(e for e, _ in VARIANT_ORDER),
                     input_size: int | None = None) -> ExecutionChoice:
    """The NB201 execution variant that explains training measurements best (module docstring).

    ``archs``: NB201 arch strings or mappings; ``latency_ms``: their measured latencies; ``device``: the LUT device
    (None: unit LUT); ``input_size``: image pixels (None: the space's 32). Needs at least 3 measurements."""
    y = np.asarray(latency_ms, dtype=float)
    if y.shape != (len(archs),) or not np.all(np.isfinite(y)) or np.any(y <= 0):
        raise CalibrationError(f"{NB201_AUTO}: need one finite latency > 0 ms per arch ({len(archs)} archs), "
                               f"got shape {y.shape}")
    if len(y) < 3:
        raise CalibrationError(f"{NB201_AUTO}: choosing the execution variant needs at least 3 training "
                               f"measurements, got {len(y)}")
    names = dict(VARIANT_ORDER)
    for e in executions:
        if e not in names:
            raise CalibrationError(f"{NB201_AUTO}: unknown execution {e!r}; expected one of {', '.join(names)}")
    order = [e for e, _ in VARIANT_ORDER if e in executions]
    mape = {e: float(100 * loo_errors(*variant_features(archs, e, device, input_size=input_size)[:2], y).mean())
            for e in order}
    low = min(mape.values())
    best = next(e for e in order if mape[e] <= low * (1 + 1e-9))  # exact ties (same workloads): first in order
    return ExecutionChoice(best, names[best], tuple((e, mape[e]) for e in order))


__all__ = ["ExecutionChoice", "NB201_AUTO", "VARIANT_ORDER", "choose_execution", "loo_errors", "variant_features"]
