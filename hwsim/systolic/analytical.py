"""Analytical engine: closed-form cycles and access counts per layer, no memory replay.

Exact (identical to scalesim 3.0 in CALC bandwidth mode, which never stalls): total, stall (0) and compute
cycles, utilisations, SRAM reads/writes, SRAM start/stop cycles. DRAM traffic uses scalesim's CALC
("estimate bandwidth") read-buffer rule in closed form: an operand whose distinct words fit in the 50
active sets (``50 * floor(sram_words / 100)``) is read from DRAM exactly once (exact); a larger one is
estimated as re-read once per pass over the other operand's folds (os: ifmap once per column fold; ws:
ifmap once per column fold; is: filter once per column fold), which is an *estimate*. Ofmap DRAM writes are
estimated as the distinct output words (scalesim's write buffer can count a few padding words more).
Use ``engine="memory"`` for exact DRAM numbers in every case.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.dataflows import FoldGeometry, get_dataflow
from hwsim.systolic.memory import _demand, _lane_range, _srsct, _tables
from hwsim.systolic.results import SystolicLayerResult
from hwsim.systolic.topology import ScalesimLayer


def geometry_vector(config: SystolicConfig, job: ScalesimLayer) -> np.ndarray:
    """The int64 vector the Numba kernels read (layout: ``memory.G_*``)."""
    return np.array([get_dataflow(config.dataflow).code, config.array_rows, config.array_cols, job.ifmap_h,
                     job.ifmap_w, job.filter_h, job.filter_w, job.channels, job.num_filters, job.stride_h,
                     job.stride_w, job.ofmap_h, job.ofmap_w], dtype=np.int64)


@njit(cache=True)
def _row_valid(g: np.ndarray, tab: np.ndarray, op: int, fc: int, fr: int, tau: int) -> bool:
    lo, hi = _lane_range(g, op, tau)
    for lane in range(lo, hi):
        if _demand(g, tab, op, fc, fr, tau, lane) >= 0:
            return True
    return False


@njit(cache=True)
def _first_last_rows(g: np.ndarray, fold_rows: int) -> np.ndarray:
    """(first, last) demand-row index holding a request, per operand: shape (3, 2)."""
    R = g[1]
    C = g[2]
    sr, sc, t_len = _srsct(g)
    rf = (sr + R - 1) // R
    cf = (sc + C - 1) // C
    out = np.full((3, 2), -1, dtype=np.int64)
    tab = _tables(g)
    nf = rf * cf
    for op in range(3):
        found = False
        for f in range(nf):
            fc = f // rf
            fr = f % rf
            for tau in range(fold_rows):
                if _row_valid(g, tab, op, fc, fr, tau):
                    out[op, 0] = f * fold_rows + tau
                    found = True
                    break
            if found:
                break
        found = False
        for f in range(nf - 1, -1, -1):
            fc = f // rf
            fr = f % rf
            for tau in range(fold_rows - 1, -1, -1):
                if _row_valid(g, tab, op, fc, fr, tau):
                    out[op, 1] = f * fold_rows + tau
                    found = True
                    break
            if found:
                break
    return out


def _covered(size: int, filt: int, stride: int, out: int) -> int:
    """Input rows (or columns) read by ``out`` windows of ``filt`` at ``stride`` over ``size``."""
    if stride >= filt:  # disjoint windows; the last one may overhang (or start past) the edge
        return (out - 1) * filt + max(0, min(filt, size - (out - 1) * stride))
    return min(size, (out - 1) * stride + filt)


def valid_ifmap_entries(job: ScalesimLayer) -> int:
    """Entries of the ifmap operand matrix (pixels x window) that address the input (not overhanging)."""
    rows = sum(max(0, min(job.filter_h, job.ifmap_h - o * job.stride_h)) for o in range(job.ofmap_h))
    cols = sum(max(0, min(job.filter_w, job.ifmap_w - o * job.stride_w)) for o in range(job.ofmap_w))
    return rows * cols * job.channels


def unique_footprints(job: ScalesimLayer) -> tuple[int, int, int]:
    """Distinct (ifmap, filter, ofmap) words the layer touches."""
    rows = _covered(job.ifmap_h, job.filter_h, job.stride_h, job.ofmap_h)
    cols = _covered(job.ifmap_w, job.filter_w, job.stride_w, job.ofmap_w)
    return rows * cols * job.channels, job.window * job.num_filters, job.ofmap_px * job.num_filters


def analytical_layer(config: SystolicConfig, job: ScalesimLayer, quirks: str = "scalesim") -> SystolicLayerResult:
    """Closed-form result of one scalesim job (see the module docstring for what is exact)."""
    df = get_dataflow(config.dataflow)
    g: FoldGeometry = df.geometry(job, config.array_rows, config.array_cols)
    L = df.fold_rows(g)
    total = df.compute_cycles(g)
    sram = df.sram_counts(g, quirks)
    rows = _first_last_rows(geometry_vector(config, job), L)
    # reads are serviced one cycle after the request (hit latency), writes in the request cycle
    if_start, if_stop = int(rows[0, 0]) + 1, int(rows[0, 1]) + 1
    f_start, f_stop = int(rows[1, 0]) + 1, int(rows[1, 1]) + 1
    of_start, of_stop = int(rows[2, 0]), int(rows[2, 1])

    u_if, u_f, u_of = unique_footprints(job)
    passes = {"os": (g.col_folds, 1), "ws": (g.col_folds, 1), "is": (1, g.col_folds)}[config.dataflow]
    dram = []
    for u, size_kb, npass in ((u_if, config.ifmap_sram_kb, passes[0]), (u_f, config.filter_sram_kb, passes[1])):
        ips = (size_kb * 1024) // 100
        if u < 50 * ips:
            nsets = math.ceil(u / ips)
            cn = math.ceil(nsets * ips / 10)
            dram.append((u, -cn, -1))
        else:
            reads = u * npass
            cn = math.ceil(50 * ips / 10)
            dram.append((reads, -cn, total))
    of_writes = u_of if config.dataflow == "os" else g.row_folds * g.t * g.sc
    of_bw = config.array_cols
    of_dram_start = of_start
    of_dram_stop = max(total, of_stop) + math.ceil(min(of_writes, (config.ofmap_sram_kb * 1024) // 2) / of_bw) - 1
    incl = int(of_dram_stop - min(dram[0][1], dram[1][1]))
    return SystolicLayerResult(
        name=job.name, dataflow=config.dataflow, engine="analytical", quirks=quirks, bandwidth_mode="CALC",
        macs=job.macs, total_cycles=total, stall_cycles=0, total_cycles_incl_prefetch=incl,
        overall_util_pct=job.macs * 100 / (total * config.num_pes),
        mapping_efficiency_pct=df.mapping_efficiency(g) * 100, compute_util_pct=df.compute_utilization(g) * 100,
        ifmap_sram_reads=sram.ifmap_reads, filter_sram_reads=sram.filter_reads, ofmap_sram_writes=sram.ofmap_writes,
        ifmap_sram_start_cycle=if_start, ifmap_sram_stop_cycle=if_stop,
        filter_sram_start_cycle=f_start, filter_sram_stop_cycle=f_stop,
        ofmap_sram_start_cycle=of_start, ofmap_sram_stop_cycle=of_stop,
        ifmap_dram_reads=dram[0][0], filter_dram_reads=dram[1][0], ofmap_dram_writes=of_writes,
        ifmap_dram_start_cycle=dram[0][1], ifmap_dram_stop_cycle=dram[0][2],
        filter_dram_start_cycle=dram[1][1], filter_dram_stop_cycle=dram[1][2],
        ofmap_dram_start_cycle=of_dram_start, ofmap_dram_stop_cycle=of_dram_stop,
    )
