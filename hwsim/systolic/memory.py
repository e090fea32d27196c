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
  The order is walked once per layer (:func:`_prefetch_order`) to link each entry to the previous one with
  the same address; addresses themselves are never stored. A fold-row's reads are consecutive entries of
  the order (:func:`_read_cells`), so when their lines are all in the window the fold-row hits in O(1);
  otherwise its reads are replayed one by one (:func:`_user_reads`).
- CALC mode, ifmap/filter: ``ReadBufferEstimateBw``: misses fill sets of ``floor(total/100)`` words; every
  50 sets the window restarts; DRAM reads = misses. No stalls.
- ofmap (both modes): ``write_buffer``: writes fill ``bw``-word lines, a drain of ``ceil(drain/bw)`` lines
  starts when the active half is full, the array stalls while the buffer is full. A fold-row's writes are
  stored in bulk up to the next such event (:func:`_quiet_words`), events one word at a time.

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
def _diag_start(mr: int, n: int, d: int) -> int:
    """Number of cells of an ``mr`` x ``n`` matrix on the anti-diagonals row + col < d (0 <= d < mr + n)."""
    m1 = min(mr, n)
    m2 = max(mr, n)
    t = min(d, m1)
    cells = t * (t + 1) // 2  # diagonals k < m1 hold k + 1 cells
    if d > m1:
        cells += m1 * (min(d, m2) - m1)  # diagonals m1 <= k < m2 hold m1 cells
    if d > m2:
        # diagonals m2 <= k < d hold mr + n - 1 - k cells: from m1 - 1 down to mr + n - d
        top = m1 - 1
        bottom = mr + n - d
        cells += (top + bottom) * (top - bottom + 1) // 2
    return cells


@njit(cache=True, inline="always")
def _read_cells(g: np.ndarray, op: int, fc: int, fr: int, tau: int, mr: int, n: int, blk: int,
                diag: bool) -> tuple[int, int, int]:
    """Where the reads of operand ``op`` (0 ifmap, 1 filter) in fold (fc, fr), fold-row ``tau`` sit in its
    prefetch matrix: (lo, hi, f0) with lanes [lo, hi) a superset of those with a demand and lane ``l``
    reading the cell at index ``f0 + l`` of the matrix in prefetch order (counting invalid cells too).

    The cells of one fold-row are one anti-diagonal (os; ws ifmap; is filter) or one row (ws filter; is
    ifmap) of that matrix, read in the very order of the prefetch, so they are consecutive in it.
    ``mr, n, blk, diag``: :func:`_prefetch_shape` of the operand (hoisted out of the cycle loop: it divides)."""
    df = g[G_DF]
    R = g[G_R]
    sr, _, _ = _srsct(g)
    lo, hi = _lane_range(g, op, tau)
    if diag:
        # lane l reads row d - l, column l of anti-diagonal d (rows of a diagonal run from high to low)
        off = 0 if df == 0 else R
        block = fc if (df == 0 and op == 1) else fr
        d = block * blk + tau - off
        return lo, hi, _diag_start(mr, n, d) + min(d, mr - 1) - d
    # fold-row tau < R reads matrix row fc * sr + (fr * R + R - 1 - tau), one lane per column
    x = fr * R + R - 1 - tau
    if x >= sr:
        return 0, 0, 0
    return lo, hi, (fc * sr + x) * n


@njit(cache=True, inline="always")
def _ofmap_lanes(g: np.ndarray, fc: int, fr: int, tau: int) -> tuple[int, int]:
    """Lanes [lo, hi) that write an output in fold (fc, fr), fold-row ``tau`` (exactly those where
    :func:`_demand` with op 2 returns 0; a contiguous range)."""
    R = g[G_R]
    C = g[G_C]
    sr, sc, t_len = _srsct(g)
    lo, hi = _lane_range(g, 2, tau)
    # the last column fold holds only sc - fc * C columns
    if hi > sc - fc * C:
        hi = sc - fc * C
    if g[G_DF] == 0:
        # os: lane l writes pixel fr * R + R - 1 - i with i = tau - l - (t_len - 1); the last row fold holds
        # only sr - fr * R pixels, so i >= fr * R + R - sr
        top = tau - t_len + 2 - (fr * R + R - sr)
        if hi > top:
            hi = top
    if hi < lo:
        hi = lo
    return lo, hi


@njit(cache=True, inline="always")
def _single_entries(g: np.ndarray, op: int) -> bool:
    """Whether every address of the operand appears once in its prefetch order: always for the filter (one
    entry per window element and filter); for the ifmap iff windows never overlap (stride >= filter size,
    or a single window, in each dimension), e.g. a 1x1 convolution or a GEMM."""
    if op == 1:
        return True
    rows = g[G_SH] >= g[G_FH] or g[G_OFH] == 1
    cols = g[G_SW] >= g[G_FW] or g[G_OFW] == 1
    return rows and cols


@njit(cache=True, inline="always")
def _prefetch_elem(g: np.ndarray, tab: np.ndarray, op: int, b: int, x: int, j: int, dense: bool) -> int:
    """Address in row ``x`` of fold block ``b``, column ``j`` of the operand's prefetch matrix; -1 if none.
    ``dense``: every cell of the matrix is known to hold an address (the checks are skipped)."""
    df = g[G_DF]
    R = g[G_R]
    C = g[G_C]
    sr, sc, t_len = _srsct(g)
    if df == 0:
        if op == 0:
            p = b * R + j
            if dense:
                return tab[0, p] + tab[3, x]
            return _if_addr(g, tab, p, x) if p < sr else -1
        k = b * C + j
        return _f_addr(g, x, k) if dense or k < sc else -1
    if df == 1:
        if op == 0:
            w = b * R + j
            if dense:
                return tab[0, x] + tab[3, w]
            return _if_addr(g, tab, x, w) if w < sr else -1
        k = b * C + j
        return _f_addr(g, x, k) if dense or k < sc else -1
    if op == 0:
        p = b * C + j
        if dense:
            return tab[0, p] + tab[3, x]
        return _if_addr(g, tab, p, x) if p < sc else -1
    w = b * R + j
    return _f_addr(g, w, x) if dense or w < sr else -1


@njit(cache=True, inline="always")
def _popcount32(x: int) -> int:
    """Set bits of 0 <= x < 2**32."""
    x = x - ((x >> 1) & 0x55555555)
    x = (x & 0x33333333) + ((x >> 2) & 0x33333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F
    return ((x * 0x01010101) & 0xFFFFFFFF) >> 24


@njit(cache=True, inline="always")
def _rank_word(w: int, f: int) -> int:
    """Entry of the prefetch order at or after matrix cell ``f`` (cells in prefetch order, invalid ones
    included): the number of valid cells before ``f``, from its rank word ``w``. A non-dense operand has
    one rank word per 32 cells: word k holds the valid cells before cell 32k (high 32 bits) and the
    validity bits of cells 32k .. 32k + 31 (low 32 bits). In a dense operand (every cell valid) the entry
    is ``f`` itself."""
    return (w >> 32) + _popcount32(w & ((1 << (f & 31)) - 1))


@njit(cache=True, inline="always")
def _valid(rank: np.ndarray, base: int, dense: bool, f: int) -> bool:
    """Whether matrix cell ``f`` (in prefetch order) holds an address (rank words from ``base``)."""
    return dense or ((rank[base + (f >> 5)] >> (f & 31)) & 1) == 1


@njit(cache=True, inline="always")
def _rank_words(g: np.ndarray, op: int) -> int:
    """Number of rank words (:func:`_rank_word`) of a non-dense operand."""
    mr, n, _, _ = _prefetch_shape(g, op)
    return ((mr * n) >> 5) + 1


@njit(cache=True)
def _prefetch_order(g: np.ndarray, tab: np.ndarray, op: int, dense: bool, link: bool, prv: np.ndarray,
                    tail: np.ndarray, rank: np.ndarray) -> int:
    """Walk the operand's prefetch matrix in scalesim's prefetch order (invalid cells are not fetched),
    filling, if ``link``, ``prv[i]``: the previous entry of the order with the same address as entry ``i``
    (-1 for none) and ``tail[a]`` (all -1 on entry): the last entry of address ``a``, and, unless ``dense``
    (every cell valid), ``rank`` (zeros on entry, one word per 32 cells): the cell -> entry map of
    :func:`_rank_word`.
    Returns the number of entries (``prv`` is filled up to its size only: the caller checks the count). No
    address is stored: the replay recomputes one when it needs it.
    int32 is enough for entries and addresses: both stay far below 2**31 for any layer that fits memory."""
    mr, n, blk, diag = _prefetch_shape(g, op)
    cap = prv.shape[0]
    m = 0
    f = 0
    if diag:
        # anti-diagonal d = row + col, rows from high to low (columns ascending)
        for d in range(mr + n - 1):
            hi = d if d < mr - 1 else mr - 1
            lo = d - n + 1 if d - n + 1 > 0 else 0
            b = hi // blk
            x = hi - b * blk
            for row in range(hi, lo - 1, -1):
                a = _prefetch_elem(g, tab, op, b, x, d - row, dense)
                if a >= 0:
                    if not dense:
                        rank[f >> 5] |= 1 << (f & 31)
                    if link and m < cap:
                        prv[m] = tail[a]
                        tail[a] = m
                    m += 1
                f += 1
                x -= 1
                if x < 0:
                    x = blk - 1
                    b -= 1
    else:
        for row in range(mr):
            b = row // blk
            x = row - b * blk
            for col in range(n):
                a = _prefetch_elem(g, tab, op, b, x, col, dense)
                if a >= 0:
                    if not dense:
                        rank[f >> 5] |= 1 << (f & 31)
                    if link and m < cap:
                        prv[m] = tail[a]
                        tail[a] = m
                    m += 1
                f += 1
    if not dense:
        before = 0
        for k in range(rank.shape[0]):
            bits = rank[k]
            rank[k] = (before << 32) | bits
            before += _popcount32(bits)
    return m


@njit(cache=True, inline="always")
def _lines_in_window(l1: int, l2: int, start: int, end: int) -> bool:
    """Whether every line id in [l1, l2] (l1 <= l2) lies in the circular window [start, end) of lines
    (wrapped, i.e. [start, n) + [0, end), when start >= end; the window never holds every line). Also
    valid in entries: l1, l2 entries and start, end the window's bounds times the line size."""
    if start < end:
        return start <= l1 and l2 < end
    return l1 >= start or l2 < end


@njit(cache=True, inline="always")
def _before(links: np.ndarray, base: int, r: int, bound: int) -> int:
    """Walk back from entry ``r`` along the entries with the same address (``links[base + i]``: the
    previous one of entry i, see :func:`_prefetch_order`) to the first one below ``bound`` (-1 if none);
    at most the address's number of entries."""
    while r >= bound:
        r = links[base + r]
    return r


# read-buffer state matrix rb[op, field] (int64): DRAM counters (both modes), then USER mode's window:
# lines of the prefetch order, lines of the active window, lines per prefetch, the window [start, end),
# entries (words) per line, entries of the order, last DRAM cycle of the latest prefetch
RB_DRAM_READS, RB_DRAM_START, RB_DRAM_STOP = range(3)
RB_NLINES, RB_NACT, RB_NPF, RB_START, RB_END, RB_EPS, RB_NVALID, RB_LAST_PF = range(3, 11)
# where the operand's prefetch order lives: prv / tail offsets in the shared ``links`` array (-1: no links,
# every address has a single entry), rank offset in the shared ``rank`` array; dense: every cell of its
# prefetch matrix is valid (no rank words)
RB_PRV, RB_TAIL, RB_RANK, RB_DENSE = range(11, 15)
N_RB = 15


@njit(cache=True, inline="always")
def _address_in_window(links: np.ndarray, prv: int, tail: int, q: int, a: int, start: int, end: int,
                       e: int) -> bool:
    """Whether address ``a`` of entry ``q`` is held by a line of the circular window [start, end) of
    ``e``-entry lines: q's own line, or the line of another entry of ``a`` (``links``: previous entries from
    ``prv``, last entries from ``tail``, see :func:`_prefetch_order`; entries are in line order; ``prv`` < 0:
    no links, every address of the operand has a single entry)."""
    lo_q = start * e  # the window in entries: [lo_q, hi_q), wrapped if start >= end
    hi_q = end * e
    if _lines_in_window(q, q, lo_q, hi_q):
        return True
    if prv < 0:
        return False  # no links: every address has a single entry
    if start < end:
        # the latest entry before the window's end: walk back from q if q is past it, else from a's last
        r = q if q >= hi_q else links[tail + a]
        return _before(links, prv, r, hi_q) >= lo_q
    # wrapped: an entry in a line >= start (a's last one) or < end (behind q)
    return links[tail + a] >= lo_q or _before(links, prv, q, hi_q) >= 0


@njit(cache=True)
def _prefetch_until_hit(links: np.ndarray, rb: np.ndarray, op: int, q: int, a: int, cycle: int, offset: int,
                        quirks: int, total: int, bw: int) -> tuple[int, bool]:
    """A read of entry ``q`` (address ``a``) missed: slide the window by prefetches of the other half
    (``total`` words SRAM, ``bw`` words/cycle) until it holds ``a``, as scalesim's ``read_buffer`` does.
    Returns (offset, ok): the cycle offset after the stalls (scalesim's arithmetic) and False if ``a`` is
    never reached (cannot happen for valid input)."""
    e = rb[op, RB_EPS]
    nl = rb[op, RB_NLINES]
    npf = rb[op, RB_NPF]
    npl = (total - (total + 1) // 2 + bw - 1) // bw  # DRAM cycles (bandwidth rows) of one prefetch
    guard = 0
    while not _address_in_window(links, rb[op, RB_PRV], rb[op, RB_TAIL], q, a, rb[op, RB_START], rb[op, RB_END],
                                 e):
        guard += 1
        if guard > nl + 2:
            return offset, False
        s = (rb[op, RB_START] + npf) % nl
        e2 = (s + rb[op, RB_NACT]) % nl
        rb[op, RB_START] = s
        rb[op, RB_END] = e2
        if quirks == 0:
            rb[op, RB_DRAM_READS] += npl * bw
        else:
            words = 0
            for k in range(npf):
                ln = (e2 - npf + k + nl) % nl
                words += min(e, rb[op, RB_NVALID] - ln * e)
            rb[op, RB_DRAM_READS] += words
        rb[op, RB_LAST_PF] += npl + 1
        rb[op, RB_DRAM_STOP] = rb[op, RB_LAST_PF]
        pot = rb[op, RB_LAST_PF] - (cycle + offset)
        if quirks == 0:
            offset += pot
            if pot > 0:
                offset += pot
        elif pot > 0:
            offset += pot
    return offset, True


@njit(cache=True)
def _user_reads(g: np.ndarray, tab: np.ndarray, op: int, fc: int, fr: int, tau: int, lo: int, hi: int, f0: int,
                q: int, links: np.ndarray, rank: np.ndarray, rb: np.ndarray, cycle: int, quirks: int, total: int,
                bw: int) -> tuple[int, bool]:
    """USER ``read_buffer.service_reads`` for one fold-row, lane by lane (lane l reads matrix cell f0 + l;
    ``q`` is the entry of the first valid one): a word is a hit if any line of the active window holds its
    address, else the window slides (:func:`_prefetch_until_hit`). Returns (offset, ok): the cycle offset
    (1 + stall cycles, as scalesim computes it) and False if an address is never reachable.
    Few array arguments on purpose: each costs reference counting per call."""
    offset = 1
    e = rb[op, RB_EPS]
    prv = rb[op, RB_PRV]
    dense = rb[op, RB_DENSE] != 0
    for lane in range(lo, hi):
        if not _valid(rank, rb[op, RB_RANK], dense, f0 + lane):
            continue
        start = rb[op, RB_START]
        end = rb[op, RB_END]
        lo_q = start * e
        hi_q = end * e
        # common hits first, without the address: the entry's own line is in the window, or the entry is
        # past the window's end and an earlier entry of its address is in it
        if not (_lines_in_window(q, q, lo_q, hi_q)
                or (prv >= 0 and start < end and q >= hi_q and _before(links, prv, q, hi_q) >= lo_q)):
            a = _demand(g, tab, op, fc, fr, tau, lane)
            if not _address_in_window(links, prv, rb[op, RB_TAIL], q, a, start, end, e):
                offset, ok = _prefetch_until_hit(links, rb, op, q, a, cycle, offset, quirks, total, bw)
                if not ok:
                    return offset, False
        q += 1
    return offset, True


# write-buffer state vector (int64)
W_CUR, W_FREE, W_NLINES, W_DSTART, W_DRAIN_END, W_ACCESS, W_CMIN, W_CMAX = range(8)
N_W = 8
# The buffer's lines are numbered in fill order; ``fill[i]`` holds the words of line i if it was closed
# partly filled, 0 if it is full (bw words), so storing full lines writes nothing.


@njit(cache=True)
def _drain(wb: np.ndarray, fill: np.ndarray, cycle: int, bw: int, drain_lines: int) -> int:
    """Start a drain of up to ``drain_lines`` filled lines at ``cycle``; returns the number of lines."""
    end = wb[W_DSTART] + drain_lines
    if end > wb[W_NLINES]:
        end = wb[W_NLINES]
    n = end - wb[W_DSTART]
    if n > 0:
        last = fill[end - 1] if fill[end - 1] > 0 else bw
        size = n * bw - (bw - last)  # scalesim: every line but the last counts as full
        wb[W_ACCESS] += size
        wb[W_FREE] += size
        if cycle < wb[W_CMIN]:
            wb[W_CMIN] = cycle
        if cycle + n - 1 > wb[W_CMAX]:
            wb[W_CMAX] = cycle + n - 1
        wb[W_DSTART] = end
        wb[W_DRAIN_END] = cycle + n - 1
    return n


@njit(cache=True)
def _close_line(wb: np.ndarray, fill: np.ndarray) -> None:
    """Close the partly filled line (if any) so that a drain takes it."""
    if wb[W_CUR] != 0:
        fill[wb[W_NLINES]] = wb[W_CUR]
        wb[W_NLINES] += 1
        wb[W_CUR] = 0


@njit(cache=True, inline="always")
def _quiet_words(count: int, current: int, cur: int, free: int, nlines: int, drain_end: int, bw: int,
                 active: int) -> tuple[int, int, int, int]:
    """Store in bulk the first of ``count`` words issued at cycle ``current`` that trigger no event of
    :func:`_store_word` (no stall, no drain): only the counters move. Returns (stored words, then the
    new current-line words, free words and number of lines)."""
    # the next event: while a drain is in flight, the word that leaves no free space; else the word that
    # leaves less than the active half free
    quiet = free - 1 if current < drain_end else free - active
    if quiet > count:
        quiet = count
    if quiet <= 0:
        return 0, cur, free, nlines
    tot = cur + quiet
    full = tot // bw
    return quiet, tot - full * bw, free - quiet, nlines + full


@njit(cache=True)
def _store_word(wb: np.ndarray, fill: np.ndarray, current: int, bw: int, active: int, drain_lines: int) -> int:
    """scalesim's ``write_buffer`` storing one ofmap word issued at cycle ``current``; returns the cycle it
    is stored (later than ``current`` when the buffer was full). The word fills the current ``bw``-word
    line; while a drain is in flight (current < drain end) a word that leaves no free space stalls to the
    drain's end; otherwise a word that leaves less than the active half free closes the line and starts a
    drain."""
    wb[W_CUR] += 1
    wb[W_FREE] -= 1
    if wb[W_CUR] == bw:
        wb[W_NLINES] += 1
        wb[W_CUR] = 0
    if current < wb[W_DRAIN_END]:
        if wb[W_FREE] <= 0:
            current = wb[W_DRAIN_END]
    elif wb[W_FREE] < active:
        _close_line(wb, fill)
        _drain(wb, fill, current, bw, drain_lines)
    return current


@njit(cache=True, nogil=True)
def _run_layer(g: np.ndarray, mode: int, quirks: int, sizes: np.ndarray, bws: np.ndarray, fl: np.ndarray,
               info: np.ndarray) -> np.ndarray:
    """Replay one layer. ``g`` geometry vector, ``mode`` 0 USER / 1 CALC, ``quirks`` 0 scalesim / 1 fixed,
    ``sizes`` (ifmap, filter, ofmap) SRAM words, ``bws`` (ifmap, filter, ofmap) DRAM words/cycle,
    ``fl`` (3, 2) first/last demand row holding a request per operand, ``info`` (valid prefetch words of
    ifmap, filter; distinct words of ifmap, filter).

    Shortcuts (exact):

    - an operand whose whole prefetch order fits the active window (USER) or whose distinct words fit the
      50 estimate sets (CALC) never misses after the first touch, so its demands are not walked; only its
      first/last request rows matter (SRAM start/stop cycles, CALC's first-request cycle);
    - USER: the reads of one fold-row are consecutive entries of the prefetch order (:func:`_read_cells`),
      so they span lines [l1, l2] of it; each entry's own line holds its address, hence if all of [l1, l2]
      is in the active window every read hits and the fold-row costs O(1). Otherwise the reads are replayed
      one by one (:func:`_user_reads`): a read whose own line is out of the window follows the links of its
      address (:func:`_prefetch_order`) to its other lines. Operands whose addresses appear once (filters,
      1x1 ifmaps) need no links and dense ones (no invalid cell) no rank words; with neither, the order is
      not walked at all;
    - ofmap: a fold-row's writes are a lane range, stored in bulk between events (:func:`_quiet_words`)."""
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
    spaces = np.empty(2, dtype=np.int64)
    spaces[0] = g[G_H] * g[G_W] * g[G_CH]
    spaces[1] = g[G_FH] * g[G_FW] * g[G_CH] * g[G_K]

    # ---------------- read buffers (ifmap = 0, filter = 1) ----------------
    # USER mode state: the window of each operand (rb) and its prefetch order (see _prefetch_order), both
    # operands in shared arrays (selecting one of two arrays per cycle would cost reference counting)
    rb = np.zeros((2, N_RB), dtype=np.int64)
    shape = np.zeros((2, 4), dtype=np.int64)  # _prefetch_shape of each operand
    # CALC mode state; c_last[a] (ifmap addresses, then filter ones): estimate set of the word's last fetch
    c_last = np.full(spaces[0] + spaces[1] if mode == 1 else 1, -1, dtype=np.int64)
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
            mr, mn, blk, diag = _prefetch_shape(g, op)
            shape[op, 0] = mr
            shape[op, 1] = mn
            shape[op, 2] = blk
            shape[op, 3] = diag
            msize = mr * mn
            e = (total + 99) // 100
            nl = info[op] // e + 1
            maxa = (active + e - 1) // e
            maxp = (pfsize + e - 1) // e
            rb[op, RB_EPS] = e
            rb[op, RB_NVALID] = info[op]
            rb[op, RB_NLINES] = nl
            skip[op] = nl <= maxa
            nact = maxa if nl > maxa else nl
            rb[op, RB_NACT] = nact
            rb[op, RB_NPF] = maxp if nl - nact > maxp else nl - nact
            rb[op, RB_START] = 0
            rb[op, RB_END] = nact
            # initial active-buffer prefetch at cycle 0 (at most the whole prefetch matrix)
            n0 = (active + bw - 1) // bw
            pf_rows = (msize + bw - 1) // bw
            if n0 > pf_rows:
                n0 = pf_rows
            if quirks == 0:
                rb[op, RB_DRAM_READS] = n0 * bw
            else:
                words = 0
                for ln in range(nact):
                    words += min(e, info[op] - ln * e)
                rb[op, RB_DRAM_READS] = words
            rb[op, RB_LAST_PF] = -1
            rb[op, RB_DRAM_START] = -n0
            rb[op, RB_DRAM_STOP] = -1
        else:
            ips[op] = total // 100
            skip[op] = info[2 + op] < N_SETS_ACT * ips[op]
            rend[op] = N_SETS_ACT - 1
            lstart[op] = -2
            lend[op] = -1
    # USER: the prefetch orders of the operands that do not fit the window
    n_prv = 0
    n_tail = 0
    n_rank = 0
    for op in range(2):
        if mode == 0 and not skip[op]:
            rb[op, RB_DENSE] = info[op] == shape[op, 0] * shape[op, 1]
            rb[op, RB_RANK] = n_rank
            if rb[op, RB_DENSE] == 0:
                n_rank += _rank_words(gt, op)
            # links only where an address has several entries
            rb[op, RB_PRV] = -1
            if not _single_entries(gt, op):
                rb[op, RB_PRV] = n_prv
                rb[op, RB_TAIL] = n_tail
                n_prv += info[op]
                n_tail += spaces[op]
    links = np.empty(n_prv + n_tail, dtype=np.int32)  # prv of both operands, then their tails
    links[n_prv:] = -1
    rank_all = np.zeros(max(n_rank, 1), dtype=np.int64)
    for op in range(2):
        if mode == 0 and not skip[op]:
            dense = rb[op, RB_DENSE] != 0
            link = rb[op, RB_PRV] >= 0
            if dense and not link:
                continue  # nothing to build: entry = cell, one entry per address
            if link:
                rb[op, RB_TAIL] += n_prv
            p0 = rb[op, RB_PRV] if link else 0
            t0 = rb[op, RB_TAIL] if link else 0
            k0 = rb[op, RB_RANK]
            n_entries = _prefetch_order(gt, tab, op, dense, link, links[p0:p0 + (info[op] if link else 0)],
                                        links[t0:t0 + (spaces[op] if link else 0)],
                                        rank_all[k0:k0 + (0 if dense else _rank_words(gt, op))])
            if n_entries != info[op]:
                res[0] = -2
                return res

    # ---------------- write buffer (ofmap) ----------------
    w_total = sizes[2]
    w_active = (w_total + 1) // 2
    w_drain = w_total - w_active
    w_bw = bws[2]
    if df == 0:
        max_lines = sr * sc + 16
    else:
        max_lines = rf * t_len * sc + 16
    w_fill = np.zeros(max_lines, dtype=np.int32)  # words of each partly filled line (0: full)
    wb = np.zeros(N_W, dtype=np.int64)
    wb[W_FREE] = w_total
    wb[W_CMIN] = 1 << 62
    wb[W_CMAX] = -(1 << 62)
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
                        if row == fl[op, 0] or row == fl[op, 1]:
                            any_valid = True
                            if mode == 1 and not first_seen[op]:
                                first_seen[op] = True
                                first_req[op] = cycle
                    elif mode == 0:
                        lo, hi, f0 = _read_cells(gt, op, fc, fr, tau, shape[op, 0], shape[op, 1], shape[op, 2],
                                                 shape[op, 3] != 0)
                        if lo < hi:
                            # the fold-row reads entries [q1, q2) of the prefetch order; all hit if all their
                            # lines are in the window (compared in entries: line l starts at entry l * eps)
                            # (rank words read here: passing the array to a helper would reference-count it)
                            if rb[op, RB_DENSE] != 0:
                                q1 = f0 + lo
                                q2 = f0 + hi
                            else:
                                q1 = _rank_word(rank_all[rb[op, RB_RANK] + ((f0 + lo) >> 5)], f0 + lo)
                                q2 = _rank_word(rank_all[rb[op, RB_RANK] + ((f0 + hi) >> 5)], f0 + hi)
                            if q1 < q2:
                                any_valid = True
                                e = rb[op, RB_EPS]
                                if not _lines_in_window(q1, q2 - 1, rb[op, RB_START] * e, rb[op, RB_END] * e):
                                    offset, ok = _user_reads(gt, tab, op, fc, fr, tau, lo, hi, f0, q1, links,
                                                             rank_all, rb, cycle, quirks, sizes[op], bws[op])
                                    if not ok:
                                        res[0] = -1  # address never reachable: cannot happen for valid input
                                        return res
                    else:
                        c0 = 0 if op == 0 else spaces[0]  # this operand's part of c_last
                        lo, hi = _lane_range(gt, op, tau)
                        for lane in range(lo, hi):
                            a = _demand(gt, tab, op, fc, fr, tau, lane)
                            if a < 0:
                                continue
                            any_valid = True
                            if not first_seen[op]:
                                first_seen[op] = True
                                first_req[op] = cycle
                            if c_last[c0 + a] >= rstart[op]:
                                continue
                            c_last[c0 + a] = cur[op]
                            elems[op] += 1
                            rb[op, RB_DRAM_READS] += 1
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
                                            rb[op, RB_DRAM_START] = lstart[op] + 1
                                        rb[op, RB_DRAM_STOP] = lend[op] + 1
                                        pfs[op] = rend[op] + 1
                                        act_done[op] = True
                                    else:
                                        if not trace_started[op]:
                                            trace_started[op] = True
                                            rb[op, RB_DRAM_START] = lstart[op] + 1
                                        rb[op, RB_DRAM_STOP] = lend[op] + 1
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
                lo, hi = _ofmap_lanes(gt, fc, fr, tau)
                current = cycle
                if lo < hi:
                    # store the fold-row's hi - lo words one after the other: runs without an event in bulk
                    # (scalars only: passing the arrays to a helper every cycle would reference-count them)
                    count = hi - lo
                    while count > 0:
                        k, w_cur, w_free, w_lines = _quiet_words(count, current, wb[W_CUR], wb[W_FREE],
                                                                 wb[W_NLINES], wb[W_DRAIN_END], w_bw, w_active)
                        wb[W_CUR] = w_cur
                        wb[W_FREE] = w_free
                        wb[W_NLINES] = w_lines
                        count -= k
                        if count > 0:
                            current = _store_word(wb, w_fill, current, w_bw, w_active, w_drain_lines)
                            count -= 1
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
                rb[op, RB_DRAM_READS] = info[2 + op]
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
                rb[op, RB_DRAM_START] = lstart[op] + 1
            rb[op, RB_DRAM_STOP] = lend[op] + 1
    # drain everything left in the ofmap buffer, back to back
    _close_line(wb, w_fill)
    cyc = out_last
    while wb[W_DSTART] < wb[W_NLINES]:
        _drain(wb, w_fill, cyc, w_bw, w_drain_lines)
        cyc = wb[W_DRAIN_END] + 1

    res[R_TOTAL] = total_cycles
    res[R_STALL] = stall
    res[R_IF_SRAM_START] = sram_first[0]
    res[R_IF_SRAM_STOP] = sram_last[0]
    res[R_F_SRAM_START] = sram_first[1]
    res[R_F_SRAM_STOP] = sram_last[1]
    res[R_OF_SRAM_START] = sram_first[2]
    res[R_OF_SRAM_STOP] = sram_last[2]
    res[R_IF_DRAM_START] = rb[0, RB_DRAM_START]
    res[R_IF_DRAM_STOP] = rb[0, RB_DRAM_STOP]
    res[R_IF_DRAM] = rb[0, RB_DRAM_READS]
    res[R_F_DRAM_START] = rb[1, RB_DRAM_START]
    res[R_F_DRAM_STOP] = rb[1, RB_DRAM_STOP]
    res[R_F_DRAM] = rb[1, RB_DRAM_READS]
    res[R_OF_DRAM_START] = wb[W_CMIN]
    res[R_OF_DRAM_STOP] = wb[W_CMAX]
    res[R_OF_DRAM] = wb[W_ACCESS]
    return res
