"""Fold-level model of the memory engine's DRAM prefetches and stalls (USER bandwidth mode, quirks "fixed").

The memory engine (:mod:`hwsim.systolic.memory`) replays SCALE-Sim's read buffers cycle by cycle: an operand's
prefetch order (im2col order per dataflow) is cut into lines of ``ceil(sram/100)`` words, the active window
holds half the SRAM, and a read outside it slides the window forward (circularly over the whole order) by the
other half, one prefetch of ``ceil(half/bw) + 1`` DRAM cycles each. Prefetches are back to back: a read stalls
until the cumulative prefetch time reaches it.

This model replays the same window per *fold*, not per cycle: a fold reads a contiguous range of its
prefetch order (a band of anti-diagonals, or a block of rows read backwards), so it touches the line of its
first read and then the line of its last read; each touch slides the window by the closed-form number of
prefetches that bring the line in, and the fold stalls while the cumulative prefetch time is ahead of it.
Approximations (what the engine does that this does not): the padding cells of the last fold block are
counted exactly, but cells of windows overhanging the ifmap map to entries linearly; an address read again
through another entry of the order (overlapping ifmap windows) still counts as a miss of its own line (the
main error left: input-stationary ifmaps of 3x3 convolutions); the ofmap write buffer's drains are replayed
drain by drain on the stall-free fold write schedule (see the end of ``_layer``). ``hwsim.sweep.stalls``
measures the agreement.

The Numba kernels are private; :func:`stall_cycles` (one layer) and :func:`stall_cycles_batch` (one layer on
many arrays) validate their inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from hwsim.errors import HwnasError

# result vector: total cycles (stalls included), stall cycles, DRAM words of ifmap, filter, ofmap
N_OUT = 5


@njit(cache=True, inline="always")
def _diag_cells(mr: int, n: int, d: int) -> int:
    """Cells of an ``mr`` x ``n`` matrix on the anti-diagonals row + col < d (clipped to 0 <= d <= mr + n - 1)."""
    if d <= 0:
        return 0
    if d >= mr + n - 1:
        return mr * n
    m1 = min(mr, n)
    m2 = max(mr, n)
    t = min(d, m1)
    cells = t * (t + 1) // 2
    if d > m1:
        cells += m1 * (min(d, m2) - m1)
    if d > m2:
        top = m1 - 1
        bottom = mr + n - d
        cells += (top + bottom) * (top - bottom + 1) // 2
    return cells


@njit(cache=True, inline="always")
def _clamp_sum(x: int, m: int) -> int:
    """sum of min(max(u, 0), m) over the integers u <= x."""
    if x <= 0:
        return 0
    if x <= m:
        return x * (x + 1) // 2
    return m * (m + 1) // 2 + (x - m) * m


@njit(cache=True, inline="always")
def _diag_invalid(mr: int, n: int, r0: int, jv: int, d: int) -> int:
    """Cells (r, j) of an ``mr`` x ``n`` matrix with r >= r0 and j >= jv (the padding of the last fold block)
    on the anti-diagonals r + j < d."""
    m = mr - r0
    return _clamp_sum(d - r0 - jv, m) - _clamp_sum(d - r0 - n, m)


@njit(cache=True, inline="always")
def _cell_entry(c: int, nvalid: int, cells: int) -> int:
    """Entry of the prefetch order at valid cell ``c``: cells map linearly onto the ``nvalid`` entries
    (equal unless windows overhang the ifmap)."""
    if c < 0:
        c = 0
    q = c * nvalid // cells
    return nvalid - 1 if q >= nvalid else q


@njit(cache=True, inline="always")
def _row_cell(row: int, col: int, n: int, r0: int, jv: int) -> int:
    """Valid cells before cell (row, col) of a row-major ``n``-column prefetch matrix whose rows >= r0 hold
    only ``jv`` valid columns."""
    c = row * n + col
    if row >= r0:
        c -= (row - r0) * (n - jv) + max(0, col - jv)
    return c


@njit(cache=True, inline="always")
def _row_entry(row: int, col: int, n: int, r0: int, jv: int, nvalid: int, cells: int) -> int:
    return _cell_entry(_row_cell(row, col, n, r0, jv), nvalid, cells)


@njit(cache=True)
def _write_time(x: int, df: int, R: int, C: int, sr: int, sc: int, t_len: int, rf: int, L: int) -> float:
    """Stall-free cycle of the ``x``-th ofmap write (0-based). Folds run column fold outer, row fold inner;
    fold (fc, fr) writes rows(fr) x cols(fc) words (os) or t_len x cols(fc) (ws, is) over its output phase,
    evenly: ``rows + cols - 1`` fold-rows from row ``t_len - 1`` (os) or ``t_len + cols - 1`` from ``2R - 1``."""
    full_block = (sr if df == 0 else rf * t_len) * C  # words of a full column fold
    fc = x // full_block
    cf_full = sc // C  # column folds with all C columns
    if fc >= cf_full:
        fc = cf_full
    cols = C if fc < cf_full else sc - cf_full * C
    y = x - fc * full_block
    if df == 0:
        per_full = R * cols
        fr = y // per_full
        if fr >= rf - 1:
            fr = rf - 1
        rows = R if fr < rf - 1 else sr - (rf - 1) * R
        off = t_len - 1
        phase = rows + cols - 1
        per = rows * cols
    else:
        per = t_len * cols
        fr = y // per
        if fr >= rf:
            fr = rf - 1
        off = 2 * R - 1
        phase = t_len + cols - 1
    z = y - fr * (R * cols if df == 0 else per)
    return (fc * rf + fr) * L + off + z / per * phase


@njit(cache=True)
def _layer(df: int, R: int, C: int, sr: int, sc: int, t_len: int, sizes: np.ndarray, bws: np.ndarray,
           n_if: int, n_f: int, out: np.ndarray) -> None:
    """Fold-level replay of one layer (dataflow code ``df`` 0 os / 1 ws / 2 is, array R x C, fold geometry
    ``sr, sc, t_len``, SRAM words and DRAM words/cycle of ifmap, filter, ofmap, valid prefetch entries of ifmap
    and filter); writes the :data:`N_OUT` results into ``out``."""
    rf = (sr + R - 1) // R
    cf = (sc + C - 1) // C
    L = t_len + R + C - 2 if df == 0 else 2 * R + C + t_len - 2
    # per operand: window state and prefetch geometry
    st = np.zeros((2, 14), dtype=np.int64)
    # columns: 0 e, 1 nl, 2 nact, 3 npf, 4 start, 5 skip, 6 last_pf, 7 words, 8 mr, 9 n, 10 blk, 11 diag,
    # 12 r0, 13 jv: the last fold block starts at matrix row r0 and only its columns < jv hold an address
    for op in range(2):
        total = sizes[op]
        active = (total + 1) // 2
        pfsize = total - active
        nvalid = n_if if op == 0 else n_f
        e = (total + 99) // 100
        nl = nvalid // e + 1
        maxa = (active + e - 1) // e
        maxp = (pfsize + e - 1) // e
        nact = maxa if nl > maxa else nl
        npf = maxp if nl - nact > maxp else nl - nact
        st[op, 0] = e
        st[op, 1] = nl
        st[op, 2] = nact
        st[op, 3] = npf
        st[op, 4] = 0
        st[op, 5] = 1 if nl <= maxa else 0
        st[op, 6] = -1
        words = 0
        for ln in range(nact):
            words += min(e, nvalid - ln * e)
        st[op, 7] = words
        # prefetch matrix shape (hwsim.systolic.memory._prefetch_shape)
        # (cnt: the lanes of the operand, cut into blocks of n columns)
        if df == 0:
            if op == 0:
                mr, n, blk, dg, cnt = rf * t_len, R, t_len, 1, sr
            else:
                mr, n, blk, dg, cnt = cf * t_len, C, t_len, 1, sc
        elif df == 1:
            if op == 0:
                mr, n, blk, dg, cnt = rf * t_len, R, t_len, 1, sr
            else:
                mr, n, blk, dg, cnt = cf * sr, C, sr, 0, sc
        else:
            if op == 0:
                mr, n, blk, dg, cnt = cf * sr, C, sr, 0, sc
            else:
                mr, n, blk, dg, cnt = rf * t_len, R, t_len, 1, sr
        nb = mr // blk
        st[op, 12] = (nb - 1) * blk
        st[op, 13] = cnt - (nb - 1) * n
        st[op, 8] = mr
        st[op, 9] = n
        st[op, 10] = blk
        st[op, 11] = dg
    stall = 0
    fold = 0
    for fc in range(cf if st[0, 5] == 0 or st[1, 5] == 0 else 0):  # no fold to replay when both fit
        for fr in range(rf):
            for op in range(2):
                if st[op, 5] != 0:
                    continue
                nvalid = n_if if op == 0 else n_f
                mr = st[op, 8]
                n = st[op, 9]
                blk = st[op, 10]
                r0 = st[op, 12]
                jv = st[op, 13]
                cells = mr * n - (mr - r0) * (n - jv)  # cells holding an address (before overhang)
                e = st[op, 0]
                nl = st[op, 1]
                nact = st[op, 2]
                npf = st[op, 3]
                pf_words = sizes[op] - (sizes[op] + 1) // 2
                npl = (pf_words + bws[op] - 1) // bws[op]
                last_size = nvalid - (nl - 1) * e
                diag = st[op, 11] != 0
                if diag:
                    # a band of anti-diagonals, read forward: its first line, then sweep to its last
                    b = fc if (df == 0 and op == 1) else fr
                    n_touch = 2
                    tau0 = 0 if df == 0 else R
                else:
                    # rows x_hi down to x_lo of block fc, each read left to right
                    x_hi = min(fr * R + R, sr) - 1
                    x_lo = fr * R
                    n_touch = 2 * (x_hi - x_lo + 1)
                    # fast path: every line of the fold's rows is in the window (no slide)
                    s = st[op, 4]
                    d_lo = (_row_entry(fc * sr + x_lo, 0, n, r0, jv, nvalid, cells) // e - s) % nl
                    d_hi = (_row_entry(fc * sr + x_hi, n - 1, n, r0, jv, nvalid, cells) // e - s) % nl
                    if d_lo <= d_hi < nact:
                        n_touch = 0
                prev_line = -1
                for touch in range(n_touch):
                    if diag:
                        # valid cells before the first diagonal of the band / after its last one
                        d = b * blk if touch == 0 else b * blk + blk + n - 1
                        c = _diag_cells(mr, n, d) - _diag_invalid(mr, n, r0, jv, d) - touch
                        tau = tau0 if touch == 0 else tau0 + blk + n - 2
                    else:
                        c = _row_cell(fc * sr + x_hi - touch // 2, (n - 1) * (touch % 2), n, r0, jv)
                        tau = touch // 2
                    q = _cell_entry(c, nvalid, cells)
                    line = q // e
                    s = st[op, 4]
                    if diag and touch == 1:
                        # forward sweep from prev_line (in the window at offset pos) to line, without wrapping
                        pos = (prev_line - s) % nl
                        dist = pos + (line - prev_line)
                    else:
                        dist = (line - s) % nl
                    prev_line = line
                    if dist < nact:
                        continue
                    k = (dist - nact + npf) // npf  # ceil((dist - nact + 1) / npf)
                    # lines brought in: [s + nact, s + nact + k * npf) mod nl; the last line holds last_size
                    lo = s + nact
                    hi = lo + k * npf
                    n_last = (hi - (nl - 1) + nl - 1) // nl - (lo - (nl - 1) + nl - 1) // nl
                    st[op, 7] += k * npf * e - n_last * (e - last_size)
                    st[op, 4] = (s + k * npf) % nl
                    st[op, 6] += k * (npl + 1)
                    cycle = fold * L + tau + stall
                    pot = st[op, 6] - cycle
                    if pot > 0:
                        stall += pot
            fold += 1
    compute = cf * rf * L - 1
    total = compute + stall
    if df == 0:
        of_words = sr * sc
    else:
        of_words = rf * t_len * sc
    # ofmap write buffer (hwsim.systolic.memory._store_word): a drain starts when the buffer holds more than
    # half of its sizes[2] words and no drain is in flight; it frees the filled lines (at most drain_lines
    # lines of bw words) at once and lasts (lines - 1) cycles; the array stalls while a drain is in flight
    # and the buffer is full. Drain by drain: drain k starts when drain k-1 has ended and the writes (on
    # the stall-free fold schedule, delayed by the stalls so far) have refilled half the buffer; the writes
    # before it are capped at sizes[2] + the words freed so far. (The layer ends with the last write.)
    w_act = (sizes[2] + 1) // 2
    drain_lines = (sizes[2] - w_act + bws[2] - 1) // bws[2]
    drained = drain_lines * bws[2]
    first = sizes[2] - w_act + 1
    if of_words > sizes[2] + first:
        freed = first
        t_k = _write_time(first - 1, df, R, C, sr, sc, t_len, rf, L)
        lines = (first + bws[2] - 1) // bws[2]
        of_stall = 0.0
        while sizes[2] + freed < of_words:
            end = t_k + lines - 1
            # the write that fills the buffer while this drain is in flight
            t_full = _write_time(sizes[2] + freed - 1, df, R, C, sr, sc, t_len, rf, L) + of_stall
            t_half = _write_time(freed + first - 1, df, R, C, sr, sc, t_len, rf, L) + of_stall
            if t_full < end:
                of_stall += end - t_full
                t_k = end
                lines = drain_lines
                freed += drained
            else:
                t_k = max(end, t_half)
                if t_half >= end:
                    lines = (first + bws[2] - 1) // bws[2]
                    freed += first
                else:
                    lines = drain_lines
                    freed += drained
        # the read stalls slow the writes down too: the larger delay wins
        if compute + int(of_stall) > total:
            stall = int(of_stall)
            total = compute + stall
    out[0] = total
    out[1] = stall
    out[2] = st[0, 7]
    out[3] = st[1, 7]
    out[4] = of_words


@njit(cache=True)
def _layer_batch(df: np.ndarray, R: np.ndarray, C: np.ndarray, sr: np.ndarray, sc: np.ndarray, t_len: np.ndarray,
                 sizes: np.ndarray, bws: np.ndarray, n_if: int, n_f: int) -> np.ndarray:
    out = np.zeros((df.shape[0], N_OUT), dtype=np.int64)
    for j in range(df.shape[0]):
        _layer(df[j], R[j], C[j], sr[j], sc[j], t_len[j], sizes[j], bws[j], n_if, n_f, out[j])
    return out


@dataclass(frozen=True)
class StallEstimate:
    """One layer (one repeat) on one array: ``total_cycles`` (stalls included) and ``stall_cycles``, and the
    DRAM words of each interface (words)."""

    total_cycles: int
    stall_cycles: int
    ifmap_dram_words: int
    filter_dram_words: int
    ofmap_dram_words: int


def _fold_geometry(df: np.ndarray, px: int, nf: int, win: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sr = np.choose(df, [px, win, win]).astype(np.int64)
    sc = np.choose(df, [nf, nf, px]).astype(np.int64)
    t = np.choose(df, [win, px, nf]).astype(np.int64)
    return sr, sc, t


def stall_cycles_batch(dataflow: np.ndarray, rows: np.ndarray, cols: np.ndarray, sram_words: np.ndarray,
                       dram_bandwidth: np.ndarray, job) -> np.ndarray:  # noqa: ANN001 - ScalesimLayer
    """``[n_arrays, 5]`` int64: (total cycles, stall cycles, ifmap, filter, ofmap DRAM words) of scalesim job
    ``job`` on each array: ``dataflow`` codes (0 os, 1 ws, 2 is), ``rows``/``cols`` PEs, ``sram_words`` and
    ``dram_bandwidth`` ``[n, 3]`` (ifmap, filter, ofmap; words, words/cycle)."""
    from hwsim.systolic.analytical import valid_ifmap_entries

    df = np.asarray(dataflow, dtype=np.int64)
    R = np.asarray(rows, dtype=np.int64)
    C = np.asarray(cols, dtype=np.int64)
    sizes = np.ascontiguousarray(sram_words, dtype=np.int64)
    bws = np.ascontiguousarray(dram_bandwidth, dtype=np.int64)
    n = df.shape[0]
    if df.ndim != 1 or R.shape != (n,) or C.shape != (n,) or sizes.shape != (n, 3) or bws.shape != (n, 3):
        raise HwnasError(f"stall_cycles_batch: shapes {df.shape} {R.shape} {C.shape} {sizes.shape} {bws.shape} "
                         f"do not describe n arrays")
    if n and (((df < 0) | (df > 2)).any() or (R < 1).any() or (C < 1).any() or (sizes < 2).any()
              or (bws < 1).any()):
        raise HwnasError("stall_cycles_batch: dataflow codes must be 0-2, rows/cols/bandwidths >= 1, SRAMs >= 2 words")
    if job.macs <= 0:
        raise HwnasError(f"stall_cycles_batch: layer {job.name!r} has no MACs")
    sr, sc, t = _fold_geometry(df, job.ofmap_px, job.num_filters, job.window)
    return _layer_batch(df, R, C, sr, sc, t, sizes, bws, int(valid_ifmap_entries(job)),
                        int(job.window * job.num_filters))


def stall_cycles(config, job) -> StallEstimate:  # noqa: ANN001 - SystolicConfig, ScalesimLayer
    """The fold-level estimate of the memory engine's cycles (USER mode, quirks "fixed") of ``job`` on the
    array ``config`` (a :class:`hwsim.systolic.config.SystolicConfig`)."""
    from hwsim.systolic.dataflows import get_dataflow

    r = stall_cycles_batch(np.array([get_dataflow(config.dataflow).code]), np.array([config.array_rows]),
                           np.array([config.array_cols]),
                           np.array([[config.ifmap_sram_kb * 1024, config.filter_sram_kb * 1024,
                                      config.ofmap_sram_kb * 1024]]),
                           np.array([config.effective_dram_bandwidths()]), job)[0]
    return StallEstimate(*(int(x) for x in r))


__all__ = ["StallEstimate", "stall_cycles", "stall_cycles_batch"]
