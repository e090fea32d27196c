"""Dataflows as small strategies over one shared memory model.

A dataflow decides how a layer's GEMM view (ofmap pixels x window x filters) lies on the R x C array:
which dimension spreads over rows (``Sr``), which over columns (``Sc``) and which streams in time
(``T``), and how long one fold takes. Everything else (demand streams, SRAM/DRAM behaviour) is shared:
the Numba kernels in :mod:`hwsim.systolic.memory` receive the dataflow's integer ``code``, and the
analytical engine uses the closed forms here. All counts are in words (1 byte each, as in scalesim).

Closed forms (scalesim 3.0, measured exact), with ``folds = ceil(Sr/R) * ceil(Sc/C)``:

====  ===============  ==========  ===========  =====================  ========================
df    Sr               Sc          T            rows per fold (L)      cycles in one fold report
====  ===============  ==========  ===========  =====================  ========================
os    ofmap pixels     filters     window       T + R + C - 2          T + R + C - 2
ws    window           filters     ofmap px     2R + C + T - 2         2R + 2C + T - 3
is    window           ofmap px    filters      2R + C + T - 2         2R + 2C + T - 3
====  ===============  ==========  ===========  =====================  ========================

Compute cycles (Total - Stall) are ``folds * L - 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from hwsim.systolic.topology import ScalesimLayer


@dataclass(frozen=True)
class FoldGeometry:
    """How one layer folds onto an R x C array under one dataflow (sizes in elements)."""

    sr: int
    sc: int
    t: int
    rows: int
    cols: int

    @property
    def row_folds(self) -> int:
        return math.ceil(self.sr / self.rows)

    @property
    def col_folds(self) -> int:
        return math.ceil(self.sc / self.cols)

    @property
    def folds(self) -> int:
        return self.row_folds * self.col_folds


@dataclass(frozen=True)
class SramCounts:
    """SRAM accesses in words, as scalesim's compute system counts them."""

    ifmap_reads: int
    filter_reads: int
    ofmap_writes: int


class Dataflow:
    """Strategy base: subclasses set ``name``/``code`` and the four small rules below."""

    name: ClassVar[str] = ""
    code: ClassVar[int] = -1

    def geometry(self, job: ScalesimLayer, rows: int, cols: int) -> FoldGeometry:
        raise NotImplementedError

    def fold_rows(self, g: FoldGeometry) -> int:
        """Demand-matrix rows (cycles) of one fold."""
        raise NotImplementedError

    def fold_report_cycles(self, g: FoldGeometry) -> int:
        """The per-fold cycle count scalesim uses for compute utilisation."""
        raise NotImplementedError

    def sram_counts(self, g: FoldGeometry, quirks: str) -> SramCounts:
        raise NotImplementedError

    # --- shared closed forms ---------------------------------------------------------------------
    def compute_cycles(self, g: FoldGeometry) -> int:
        """Cycles without stalls: the last demand row's index."""
        return g.folds * self.fold_rows(g) - 1

    def mapping_efficiency(self, g: FoldGeometry) -> float:
        """Average over folds of used PEs / all PEs (a fraction)."""
        return g.sr * g.sc / (g.rows * g.cols * g.folds)

    def compute_utilization(self, g: FoldGeometry) -> float:
        """Average over folds of MAC-cycles / (PEs x fold cycles) (a fraction)."""
        return g.t * g.sr * g.sc / (g.rows * g.cols * self.fold_report_cycles(g) * g.folds)


class OutputStationary(Dataflow):
    name = "os"
    code = 0

    def geometry(self, job: ScalesimLayer, rows: int, cols: int) -> FoldGeometry:
        return FoldGeometry(job.ofmap_px, job.num_filters, job.window, rows, cols)

    def fold_rows(self, g: FoldGeometry) -> int:
        return g.t + g.rows + g.cols - 2

    def fold_report_cycles(self, g: FoldGeometry) -> int:
        return g.t + g.rows + g.cols - 2

    def sram_counts(self, g: FoldGeometry, quirks: str) -> SramCounts:
        # scalesim adds the padded fold's R + C to the ofmap writes of every fold (quirk 3).
        extra = g.folds * (g.rows + g.cols) if quirks == "scalesim" else 0
        return SramCounts(g.col_folds * g.sr * g.t, g.row_folds * g.sc * g.t, g.sr * g.sc + extra)


class WeightStationary(Dataflow):
    name = "ws"
    code = 1

    def geometry(self, job: ScalesimLayer, rows: int, cols: int) -> FoldGeometry:
        return FoldGeometry(job.window, job.num_filters, job.ofmap_px, rows, cols)

    def fold_rows(self, g: FoldGeometry) -> int:
        return 2 * g.rows + g.cols + g.t - 2

    def fold_report_cycles(self, g: FoldGeometry) -> int:
        return 2 * g.rows + 2 * g.cols + g.t - 3

    def sram_counts(self, g: FoldGeometry, quirks: str) -> SramCounts:
        return SramCounts(g.col_folds * g.t * g.sr, g.sr * g.sc, g.row_folds * g.t * g.sc)


class InputStationary(Dataflow):
    name = "is"
    code = 2

    def geometry(self, job: ScalesimLayer, rows: int, cols: int) -> FoldGeometry:
        return FoldGeometry(job.window, job.ofmap_px, job.num_filters, rows, cols)

    def fold_rows(self, g: FoldGeometry) -> int:
        return 2 * g.rows + g.cols + g.t - 2

    def fold_report_cycles(self, g: FoldGeometry) -> int:
        return 2 * g.rows + 2 * g.cols + g.t - 3

    def sram_counts(self, g: FoldGeometry, quirks: str) -> SramCounts:
        return SramCounts(g.sr * g.sc, g.col_folds * g.t * g.sr, g.row_folds * g.t * g.sc)


DATAFLOW_STRATEGIES: dict[str, Dataflow] = {d.name: d for d in (OutputStationary(), WeightStationary(),
                                                                 InputStationary())}


def get_dataflow(name: str) -> Dataflow:
    return DATAFLOW_STRATEGIES[name]
