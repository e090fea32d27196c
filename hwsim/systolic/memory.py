"""The shared memory model (private Numba kernels): SCALE-Sim's double-buffered scratchpads and DRAM.

One kernel, :func:`_run_layer`, replays a layer cycle by cycle exactly as scalesim 3.0's
``double_buffered_scratchpad.service_memory_requests`` does, but without building any matrix: the demand
addresses of every (fold, cycle, lane) and the prefetch order are computed on the fly from the dataflow
code (0 os, 1 ws, 2 is), so the three dataflows share every line of the memory model.

Buffers (all sizes in 1-byte words; half of each SRAM is the active buffer):

- USER bandwidth mode, ifmap/filter: ``read_buffer``. The operand's prefetch order is cut into "lines" of
  ``ceil(total/100)`` words; the active buffer is a circular window of lines; a demanded word outside it
  triggers a prefetch that slides the window by the prefetch-buffer's lines and costs
  ``ceil(prefetch/bw)`` DRAM cycles (``ceil(prefetch/bw)*bw`` words counted).
- CALC mode, ifmap/filter: ``ReadBufferEstimateBw``: misses fill sets of ``floor(total/100)`` words; every
  50 sets the window restarts; DRAM reads = misses. No stalls.
- ofmap (both modes): ``write_buffer``: writes fill ``bw``-word lines, a drain of ``ceil(drain/bw)`` lines
  starts when the active half is full, the array stalls while the buffer is full.

``quirks=0`` reproduces scalesim 3.0 (stalls of a prefetch are added twice when positive and subtracted when
negative; DRAM reads count whole bandwidth rows); ``quirks=1`` adds each positive stall once and counts the
words of the lines actually brought in. The public entry is :func:`hwsim.systolic.simulate.simulate_layer`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# indices of the int64 result vector
R_TOTAL, R_STALL = 0, 1
R_IF_SRAM_START, R_IF_SRAM_STOP, R_F_SRAM_START, R_F_SRAM_STOP, R_OF_SRAM_START, R_OF_SRAM_STOP = 2, 3, 4, 5, 6, 7
R_IF_DRAM_START, R_IF_DRAM_STOP, R_IF_DRAM = 8, 9, 10
R_F_DRAM_START, R_F_DRAM_STOP, R_F_DRAM = 11, 12, 13
R_OF_DRAM_START, R_OF_DRAM_STOP, R_OF_DRAM = 14, 15, 16
N_RESULTS = 17

# geometry vector layout (int64): see _geometry_vector in simulate.py
G_DF, G_R, G_C, G_H, G_W, G_FH, G_FW, G_CH, G_K, G_SH, G_SW, G_OFH, G_OFW = range(13)


@njit(cache=True)
def _tables(g: np.ndarray) -> np.ndarray:
    """Division-free address tables: rows 0-2 per ofmap pixel p (base address, input row, input column of
    its window), rows 3-5 per window element w (offset, row in window, column in window)."""
    npx = g[G_OFH] * g[G_OFW]
    win = g[G_FH] * g[G_FW] * g[G_CH]
    tab = np.zeros((6, max(npx, win)), dtype=np.int64)
    fwc = g[G_FW] * g[G_CH]
    for p in range(npx):
        ir = (p // g[G_OFW]) * g[G_SH]
        ic = (p % g[G_OFW]) * g[G_SW]
        tab[0, p] = (ir * g[G_W] + ic) * g[G_CH]
        tab[1, p] = ir
        tab[2, p] = ic
    for w in range(win):
        cr = w // fwc
        k = w % fwc
        cc = k // g[G_CH]
        tab[3, w] = (cr * g[G_W] + cc) * g[G_CH] + k % g[G_CH]
        tab[4, w] = cr
        tab[5, w] = cc
    return tab


@njit(cache=True, inline="always")
def _if_addr(g: np.ndarray, tab: np.ndarray, p: int, w: int) -> int:
    """Local ifmap address of ofmap pixel ``p``, window element ``w``; -1 where the window overhangs."""
    if tab[1, p] + tab[4, w] < g[G_H] and tab[2, p] + tab[5, w] < g[G_W]:
        return tab[0, p] + tab[3, w]
    return -1


@njit(cache=True, inline="always")
def _f_addr(g: np.ndarray, w: int, k: int) -> int:
    return k * (g[G_FH] * g[G_FW] * g[G_CH]) + w


@njit(cache=True, inline="always")
def _srsct(g: np.ndarray) -> tuple[int, int, int]:
    npx = g[G_OFH] * g[G_OFW]
    win = g[G_FH] * g[G_FW] * g[G_CH]
    df = g[G_DF]
    if df == 0:
        return npx, g[G_K], win
    if df == 1:
        return win, g[G_K], npx
    return win, npx, g[G_K]


@njit(cache=True, inline="always")
def _demand(g: np.ndarray, tab: np.ndarray, op: int, fc: int, fr: int, tau: int, lane: int) -> int:
    """Address demanded by operand ``op`` (0 ifmap, 1 filter, 2 ofmap) in fold (fc, fr), fold-row ``tau``,
    array lane ``lane``; -1 for none. Ofmap returns 0 for a write (its address does not matter)."""
    df = g[G_DF]
    R = g[G_R]
    C = g[G_C]
    sr, sc, t_len = _srsct(g)
    if df == 0:
        if op == 0:
            t = tau - lane
            p = fr * R + lane
            if t < 0 or t >= t_len or p >= sr or lane >= R:
                return -1
            return _if_addr(g, tab, p, t)
        if op == 1:
            t = tau - lane
            k = fc * C + lane
            if t < 0 or t >= t_len or k >= sc or lane >= C:
                return -1
            return _f_addr(g, t, k)
        i = tau - lane - (t_len - 1)
        if i < 0 or i >= R or lane >= C:
            return -1
        p = fr * R + R - 1 - i
        k = fc * C + lane
        if p >= sr or k >= sc:
            return -1
        return 0
    if df == 1:
        if op == 0:
            t = tau - lane - R
            w = fr * R + lane
            if t < 0 or t >= t_len or w >= sr or lane >= R:
                return -1
            return _if_addr(g, tab, t, w)
        if op == 1:
            if tau >= R or lane >= C:
                return -1
            w = fr * R + R - 1 - tau
            k = fc * C + lane
            if w >= sr or k >= sc:
                return -1
            return _f_addr(g, w, k)
        t = tau - lane - (2 * R - 1)
        k = fc * C + lane
        if t < 0 or t >= t_len or k >= sc or lane >= C:
            return -1
        return 0
    # is
    if op == 0:
        if tau >= R or lane >= C:
            return -1
        w = fr * R + R - 1 - tau
        p = fc * C + lane
        if w >= sr or p >= sc:
            return -1
        return _if_addr(g, tab, p, w)
    if op == 1:
        t = tau - lane - R
        w = fr * R + lane
        if t < 0 or t >= t_len or w >= sr or lane >= R:
            return -1
        return _f_addr(g, w, t)
    t = tau - lane - (2 * R - 1)
    p = fc * C + lane
    if t < 0 or t >= t_len or p >= sc or lane >= C:
        return -1
    return 0


@njit(cache=True, inline="always")
def _lane_range(g: np.ndarray, op: int, tau: int) -> tuple[int, int]:
    """Lanes [lo, hi) that may hold a demand in fold-row ``tau`` (a superset; _demand decides)."""
    df = g[G_DF]
    R = g[G_R]
    C = g[G_C]
    sr, sc, t_len = _srsct(g)
    # number of lanes of this operand's demand matrix
    if (df == 0 and op == 0) or (df == 1 and op == 0) or (df == 2 and op == 1):
        nl = R
    else:
        nl = C
    block = (df == 1 and op == 1) or (df == 2 and op == 0)
    if block:
        if tau < R:
            return 0, nl
        return 0, 0
    if df == 0:
        off = 0 if op < 2 else t_len - 1
        ln = t_len if op < 2 else R
    else:
        off = R if op < 2 else 2 * R - 1
        ln = t_len
    lo = tau - off - ln + 1
    hi = tau - off + 1
    if lo < 0:
        lo = 0
    if hi > nl:
        hi = nl
    if hi < lo:
        hi = lo
    return lo, hi


@njit(cache=True, inline="always")
def _prefetch_shape(g: np.ndarray, op: int) -> tuple[int, int, int, bool]:
    """(matrix rows, matrix cols, rows per fold block, diagonal order?) of scalesim's prefetch matrix."""
    df = g[G_DF]
    R = g[G_R]
    C = g[G_C]
    sr, sc, t_len = _srsct(g)
    rf = (sr + R - 1) // R
    cf = (sc + C - 1) // C
    if df == 0:
        if op == 0:
            return rf * t_len, R, t_len, True
        return cf * t_len, C, t_len, True
    if df == 1:
        if op == 0:
            return rf * t_len, R, t_len, True
        return cf * sr, C, sr, False
    if op == 0:
        return cf * sr, C, sr, False
    return rf * t_len, R, t_len, True


@njit(cache=True, inline="always")
def _prefetch_elem(g: np.ndarray, tab: np.ndarray, op: int, i: int, j: int, blk: int) -> int:
    df = g[G_DF]
    R = g[G_R]
    C = g[G_C]
    sr, sc, t_len = _srsct(g)
    b = i // blk
    x = i % blk
    if df == 0:
        if op == 0:
            p = b * R + j
            return _if_addr(g, tab, p, x) if p < sr else -1
        k = b * C + j
        return _f_addr(g, x, k) if k < sc else -1
    if df == 1:
        if op == 0:
            w = b * R + j
            return _if_addr(g, tab, x, w) if w < sr else -1
        k = b * C + j
        return _f_addr(g, x, k) if k < sc else -1
    if op == 0:
        p = b * C + j
        return _if_addr(g, tab, p, x) if p < sc else -1
    w = b * R + j
    return _f_addr(g, w, x) if w < sr else -1


@njit(cache=True)
def _prefetch_sequence(g: np.ndarray, tab: np.ndarray, op: int) -> tuple[np.ndarray, int]:
    """Valid addresses of the operand's prefetch matrix in scalesim's order, and the matrix's size."""
    mr, n, blk, diag = _prefetch_shape(g, op)
    out = np.empty(mr * n, dtype=np.int64)
    m = 0
    if diag:
        for d in range(mr + n - 1):
            hi = d if d < mr - 1 else mr - 1
            lo = d - n + 1 if d - n + 1 > 0 else 0
            for row in range(hi, lo - 1, -1):
                a = _prefetch_elem(g, tab, op, row, d - row, blk)
                if a >= 0:
                    out[m] = a
                    m += 1
    else:
        for row in range(mr):
            for col in range(n):
                a = _prefetch_elem(g, tab, op, row, col, blk)
                if a >= 0:
                    out[m] = a
                    m += 1
    return out[:m], mr * n


@njit(cache=True)
def _line_index(seq: np.ndarray, space: int, eps: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (ptr, lines): for each address, the ascending ids of the eps-word lines that hold it."""
    n = seq.shape[0]
    last = np.full(space, -1, dtype=np.int32)
    cnt = np.zeros(space + 1, dtype=np.int64)
    ln = 0
    for j0 in range(0, n, eps):
        for j in range(j0, min(j0 + eps, n)):
            a = seq[j]
            if last[a] != ln:
                last[a] = ln
                cnt[a + 1] += 1
        ln += 1
    for a in range(space):
        cnt[a + 1] += cnt[a]
    lines = np.empty(cnt[space], dtype=np.int32)
    fill = cnt[:space].copy()
    last[:] = -1
    ln = 0
    for j0 in range(0, n, eps):
        for j in range(j0, min(j0 + eps, n)):
            a = seq[j]
            if last[a] != ln:
                last[a] = ln
                lines[fill[a]] = ln
                fill[a] += 1
        ln += 1
    return cnt, lines


@njit(cache=True)
def _line_index_unique(seq: np.ndarray, space: int, eps: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_line_index` for a sequence holding every address of [0, space) exactly once (the filter)."""
    ptr = np.arange(space + 1, dtype=np.int64)
    lines = np.empty(space, dtype=np.int32)
    ln = 0
    n = seq.shape[0]
    for j0 in range(0, n, eps):
        for j in range(j0, min(j0 + eps, n)):
            lines[seq[j]] = ln
        ln += 1
    return ptr, lines


@njit(cache=True)
def _in_window(ptr: np.ndarray, lines: np.ndarray, a: int, start: int, end: int) -> bool:
    lo = ptr[a]
    hi = ptr[a + 1]
    if lo == hi:
        return False
    if start < end:
        # first line >= start
        x, y = lo, hi
        while x < y:
            mid = (x + y) // 2
            if lines[mid] < start:
                x = mid + 1
            else:
                y = mid
        return x < hi and lines[x] < end
    return lines[hi - 1] >= start or lines[lo] < end


@njit(cache=True, nogil=True)
def _run_layer(g: np.ndarray, mode: int, quirks: int, sizes: np.ndarray, bws: np.ndarray, fl: np.ndarray,
               info: np.ndarray) -> np.ndarray:
    """Replay one layer. ``g`` geometry vector, ``mode`` 0 USER / 1 CALC, ``quirks`` 0 scalesim / 1 fixed,
    ``sizes`` (ifmap, filter, ofmap) SRAM words, ``bws`` (ifmap, filter, ofmap) DRAM words/cycle,
    ``fl`` (3, 2) first/last demand row holding a request per operand, ``info`` (valid prefetch words of
    ifmap, filter; distinct words of ifmap, filter).

    Shortcut (exact): an operand whose whole prefetch order fits the active window (USER) or whose distinct
    words fit the 50 estimate sets (CALC) never misses after the first touch, so its demands are not walked;
    only its first/last request rows matter (SRAM start/stop cycles, CALC's first-request cycle)."""
    res = np.zeros(N_RESULTS, dtype=np.int64)
    tab = _tables(g)
    # an immutable copy of the geometry: lets LLVM keep it in registers in the hot loops below
    gt = (g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12])
    R = g[G_R]
    C = g[G_C]
    sr, sc, t_len = _srsct(g)
    rf = (sr + R - 1) // R
    cf = (sc + C - 1) // C
    df = g[G_DF]
    if df == 0:
        L = t_len + R + C - 2
    else:
        L = 2 * R + C + t_len - 2
    nrows = rf * cf * L
    spaces = np.empty(2, dtype=np.int64)
    spaces[0] = g[G_H] * g[G_W] * g[G_CH]
    spaces[1] = g[G_FH] * g[G_FW] * g[G_CH] * g[G_K]

    # ---------------- read buffers (ifmap = 0, filter = 1) ----------------
    # USER mode state
    u_ptr0 = np.zeros(1, dtype=np.int64)
    u_lines0 = np.zeros(1, dtype=np.int32)
    u_ptr1 = np.zeros(1, dtype=np.int64)
    u_lines1 = np.zeros(1, dtype=np.int32)
    nlines = np.zeros(2, dtype=np.int64)
    nact = np.zeros(2, dtype=np.int64)
    npf = np.zeros(2, dtype=np.int64)
    wstart = np.zeros(2, dtype=np.int64)
    wend = np.zeros(2, dtype=np.int64)
    last_pf = np.zeros(2, dtype=np.int64)
    pf_rows = np.zeros(2, dtype=np.int64)
    nvalid = np.zeros(2, dtype=np.int64)
    eps = np.zeros(2, dtype=np.int64)
    dram_reads = np.zeros(2, dtype=np.int64)
    dram_start = np.zeros(2, dtype=np.int64)
    dram_stop = np.zeros(2, dtype=np.int64)
    # CALC mode state
    c_last0 = np.zeros(1, dtype=np.int64)
    c_last1 = np.zeros(1, dtype=np.int64)
    ips = np.zeros(2, dtype=np.int64)
    cur = np.zeros(2, dtype=np.int64)
    elems = np.zeros(2, dtype=np.int64)
    rstart = np.zeros(2, dtype=np.int64)
    rend = np.zeros(2, dtype=np.int64)
    act_done = np.zeros(2, dtype=np.bool_)
    pfs = np.zeros(2, dtype=np.int64)
    lstart = np.zeros(2, dtype=np.int64)
    lend = np.zeros(2, dtype=np.int64)
    first_req = np.zeros(2, dtype=np.int64)
    first_seen = np.zeros(2, dtype=np.bool_)
    trace_started = np.zeros(2, dtype=np.bool_)
    N_SETS_ACT = 50
    N_SETS_PF = 50
    skip = np.zeros(2, dtype=np.bool_)

    for op in range(2):
        total = sizes[op]
        active = (total + 1) // 2
        pfsize = total - active
        bw = bws[op]
        if mode == 0:
            mr, mn, _, _ = _prefetch_shape(g, op)
            msize = mr * mn
            e = (total + 99) // 100
            eps[op] = e
            nvalid[op] = info[op]
            nl = info[op] // e + 1
            nlines[op] = nl
            maxa = (active + e - 1) // e
            maxp = (pfsize + e - 1) // e
            if nl <= maxa:
                skip[op] = True
            else:
                seq, _ = _prefetch_sequence(gt, tab, op)
                if seq.shape[0] != info[op]:
                    res[0] = -2
                    return res
                if op == 1 and seq.shape[0] == spaces[1]:
                    ptr, lines = _line_index_unique(seq, spaces[op], e)
                else:
                    ptr, lines = _line_index(seq, spaces[op], e)
                if op == 0:
                    u_ptr0 = ptr
                    u_lines0 = lines
                else:
                    u_ptr1 = ptr
                    u_lines1 = lines
            nact[op] = maxa if nl > maxa else nl
            rem = nl - nact[op]
            npf[op] = maxp if rem > maxp else rem
            wstart[op] = 0
            wend[op] = nact[op]
            pf_rows[op] = (msize + bw - 1) // bw
            # initial active-buffer prefetch at cycle 0
            n0 = (active + bw - 1) // bw
            if n0 > pf_rows[op]:
                n0 = pf_rows[op]
            if quirks == 0:
                dram_reads[op] = n0 * bw
            else:
                words = 0
                for ln in range(nact[op]):
                    words += min(e, nvalid[op] - ln * e)
                dram_reads[op] = words
            last_pf[op] = -1
            dram_start[op] = -n0
            dram_stop[op] = -1
        else:
            ips[op] = total // 100
            skip[op] = info[2 + op] < N_SETS_ACT * ips[op]
            rend[op] = N_SETS_ACT - 1
            lstart[op] = -2
            lend[op] = -1
            if op == 0:
                c_last0 = np.full(spaces[0], -1, dtype=np.int64)
            else:
                c_last1 = np.full(spaces[1], -1, dtype=np.int64)

    # ---------------- write buffer (ofmap) ----------------
    w_total = sizes[2]
    w_active = (w_total + 1) // 2
    w_drain = w_total - w_active
    w_bw = bws[2]
    if df == 0:
        max_lines = sr * sc + 16
    else:
        max_lines = rf * t_len * sc + 16
    w_line_fill = np.zeros(max_lines, dtype=np.int32)
    w_nlines = 0
    w_cur = 0
    w_free = w_total
    w_dstart = 0
    w_drain_end = 0
    w_access = 0
    w_cmin = 1 << 62
    w_cmax = -(1 << 62)
    w_drain_lines = (w_drain + w_bw - 1) // w_bw

    stall = 0
    total_cycles = -(1 << 62)
    sram_first = np.full(3, -(1 << 62), dtype=np.int64)
    sram_last = np.full(3, -(1 << 62), dtype=np.int64)
    seen = np.zeros(3, dtype=np.bool_)
    out_last = 0
    row = 0
    for fc in range(cf):
        for fr in range(rf):
            for tau in range(L):
                cycle = row + stall
                row_stall = 0
                # ---- ifmap then filter reads ----
                for op in range(2):
                    offset = 1
                    any_valid = False
                    if skip[op]:
                        lo, hi = 0, 0
                        if row == fl[op, 0] or row == fl[op, 1]:
                            any_valid = True
                            if mode == 1 and not first_seen[op]:
                                first_seen[op] = True
                                first_req[op] = cycle
                    else:
                        lo, hi = _lane_range(gt, op, tau)
                    if op == 0:
                        ptr = u_ptr0
                        lines = u_lines0
                        cl = c_last0
                    else:
                        ptr = u_ptr1
                        lines = u_lines1
                        cl = c_last1
                    for lane in range(lo, hi):
                        a = _demand(gt, tab, op, fc, fr, tau, lane)
                        if a < 0:
                            continue
                        any_valid = True
                        if mode == 0:
                            guard = 0
                            while not _in_window(ptr, lines, a, wstart[op], wend[op]):
                                guard += 1
                                if guard > nlines[op] + 2:
                                    res[0] = -1  # address never reachable: cannot happen for valid input
                                    return res
                                nl = nlines[op]
                                s = (wstart[op] + npf[op]) % nl
                                e2 = (s + nact[op]) % nl
                                wstart[op] = s
                                wend[op] = e2
                                npl = (sizes[op] - (sizes[op] + 1) // 2 + bws[op] - 1) // bws[op]
                                if quirks == 0:
                                    dram_reads[op] += npl * bws[op]
                                else:
                                    words = 0
                                    for q in range(npf[op]):
                                        ln = (e2 - npf[op] + q + nl) % nl
                                        words += min(eps[op], nvalid[op] - ln * eps[op])
                                    dram_reads[op] += words
                                last_pf[op] = last_pf[op] + npl + 1
                                dram_stop[op] = last_pf[op]
                                pot = last_pf[op] - (cycle + offset)
                                if quirks == 0:
                                    offset += pot
                                    if pot > 0:
                                        offset += pot
                                elif pot > 0:
                                    offset += pot
                        else:
                            if not first_seen[op]:
                                first_seen[op] = True
                                first_req[op] = cycle
                            if cl[a] >= rstart[op]:
                                continue
                            cl[a] = cur[op]
                            elems[op] += 1
                            dram_reads[op] += 1
                            if elems[op] == ips[op]:
                                elems[op] = 0
                                cur[op] += 1
                                if cur[op] == rend[op] + 1:
                                    if not act_done[op]:
                                        lend[op] = first_req[op] - 2
                                        cn = (N_SETS_PF * ips[op] + bws[op] - 1) // bws[op]
                                        lstart[op] = lend[op] - cn + 1
                                        if not trace_started[op]:
                                            trace_started[op] = True
                                            dram_start[op] = lstart[op] + 1
                                        dram_stop[op] = lend[op] + 1
                                        pfs[op] = rend[op] + 1
                                        act_done[op] = True
                                    else:
                                        if not trace_started[op]:
                                            trace_started[op] = True
                                            dram_start[op] = lstart[op] + 1
                                        dram_stop[op] = lend[op] + 1
                                        pfs[op] += N_SETS_PF
                                    rstart[op] += N_SETS_PF
                                    rend[op] += N_SETS_PF
                                    lstart[op] = lend[op] + 1
                                    lend[op] = cycle
                    out = cycle + offset
                    if any_valid:
                        if not seen[op]:
                            seen[op] = True
                            sram_first[op] = out
                        sram_last[op] = out
                    if op == 0:
                        row_stall = offset - 1
                    elif offset - 1 > row_stall:
                        row_stall = offset - 1
                # ---- ofmap writes ----
                lo, hi = _lane_range(gt, 2, tau)
                current = cycle
                any_valid = False
                for lane in range(lo, hi):
                    if _demand(gt, tab, 2, fc, fr, tau, lane) < 0:
                        continue
                    any_valid = True
                    # store one word
                    w_cur += 1
                    w_free -= 1
                    if w_cur == w_bw:
                        w_line_fill[w_nlines] = w_bw
                        w_nlines += 1
                        w_cur = 0
                    if current < w_drain_end:
                        if w_free <= 0:
                            current = w_drain_end
                    elif w_free < w_active:
                        if w_cur != 0:
                            w_line_fill[w_nlines] = w_cur
                            w_nlines += 1
                            w_cur = 0
                        end = w_dstart + w_drain_lines
                        if end > w_nlines:
                            end = w_nlines
                        n = end - w_dstart
                        if n > 0:
                            size = n * w_bw - (w_bw - w_line_fill[end - 1])
                            w_access += size
                            w_free += size
                            if current < w_cmin:
                                w_cmin = current
                            if current + n - 1 > w_cmax:
                                w_cmax = current + n - 1
                            w_dstart = end
                            w_drain_end = current + n - 1
                if any_valid:
                    if not seen[2]:
                        seen[2] = True
                        sram_first[2] = current
                    sram_last[2] = current
                of_stall = current - cycle
                if of_stall > row_stall:
                    row_stall = of_stall
                if current > total_cycles:
                    total_cycles = current
                out_last = current
                stall += row_stall
                row += 1

    # ---------------- end of layer ----------------
    if mode == 1:
        for op in range(2):
            if skip[op]:
                dram_reads[op] = info[2 + op]
                cur[op] = info[2 + op] // ips[op]
                elems[op] = info[2 + op] % ips[op]
            if elems[op] == 0:
                cur[op] -= 1
            if not act_done[op]:
                lend[op] = -2
                nsets = cur[op] + 1
                cn = (nsets * ips[op] + bws[op] - 1) // bws[op]
                lstart[op] = lend[op] - cn + 1
            if not trace_started[op]:
                trace_started[op] = True
                dram_start[op] = lstart[op] + 1
            dram_stop[op] = lend[op] + 1
    # drain everything left in the ofmap buffer
    if w_cur != 0:
        w_line_fill[w_nlines] = w_cur
        w_nlines += 1
        w_cur = 0
    cyc = out_last
    while w_dstart < w_nlines:
        end = w_dstart + w_drain_lines
        if end > w_nlines:
            end = w_nlines
        n = end - w_dstart
        size = n * w_bw - (w_bw - w_line_fill[end - 1])
        w_access += size
        if cyc < w_cmin:
            w_cmin = cyc
        if cyc + n - 1 > w_cmax:
            w_cmax = cyc + n - 1
        w_dstart = end
        w_drain_end = cyc + n - 1
        cyc = w_drain_end + 1

    res[R_TOTAL] = total_cycles
    res[R_STALL] = stall
    res[R_IF_SRAM_START] = sram_first[0]
    res[R_IF_SRAM_STOP] = sram_last[0]
    res[R_F_SRAM_START] = sram_first[1]
    res[R_F_SRAM_STOP] = sram_last[1]
    res[R_OF_SRAM_START] = sram_first[2]
    res[R_OF_SRAM_STOP] = sram_last[2]
    res[R_IF_DRAM_START] = dram_start[0]
    res[R_IF_DRAM_STOP] = dram_stop[0]
    res[R_IF_DRAM] = dram_reads[0]
    res[R_F_DRAM_START] = dram_start[1]
    res[R_F_DRAM_STOP] = dram_stop[1]
    res[R_F_DRAM] = dram_reads[1]
    res[R_OF_DRAM_START] = w_cmin
    res[R_OF_DRAM_STOP] = w_cmax
    res[R_OF_DRAM] = w_access
    return res
