"""Slow, obviously-correct twins of hwsim.systolic's engines, written the way scalesim 3.0 is written.

Operand matrices, prefetch matrices and per-fold demand matrices are built explicitly (numpy, as scalesim
builds them: pad, flip, concatenate gaps, skew), then a plain-Python memory model walks them row by row
(USER ``read_buffer`` with sets of addresses per line, CALC ``ReadBufferEstimateBw`` with Python sets, the
``write_buffer`` with an explicit list of lines). Only for small layers.
"""

from __future__ import annotations

import math

import numpy as np

from hwsim.systolic import ScalesimLayer, SystolicConfig


def operand_matrices(job: ScalesimLayer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ifmap [px, window], filter [window, K], ofmap [px, K]) local addresses; -1 where a window overhangs."""
    px, win = job.ofmap_px, job.window
    ifm = np.full((px, win), -1, dtype=np.int64)
    for p in range(px):
        orow, ocol = divmod(p, job.ofmap_w)
        ir, ic = orow * job.stride_h, ocol * job.stride_w
        for w in range(win):
            cr, k = divmod(w, job.filter_w * job.channels)
            cc, ch = divmod(k, job.channels)
            if ir + cr < job.ifmap_h and ic + cc < job.ifmap_w:
                ifm[p, w] = ((ir + cr) * job.ifmap_w + ic + cc) * job.channels + ch
    fil = np.array([[k * win + w for k in range(job.num_filters)] for w in range(win)], dtype=np.int64)
    ofm = np.array([[job.num_filters * p + k for k in range(job.num_filters)] for p in range(px)], dtype=np.int64)
    return ifm, fil, ofm


def _skew(m: np.ndarray) -> np.ndarray:
    rows, cols = m.shape
    out = np.full((rows + cols - 1, cols), -1, dtype=np.int64)
    for c in range(cols):
        out[c:c + rows, c] = m[:, c]
    return out


def _pad(m: np.ndarray, rows: int, cols: int) -> np.ndarray:
    out = np.full((rows, cols), -1, dtype=np.int64)
    out[:m.shape[0], :m.shape[1]] = m
    return out


def _gap(rows: int, cols: int) -> np.ndarray:
    return np.full((rows, cols), -1, dtype=np.int64)


def _diag_flatten(m: np.ndarray) -> np.ndarray:
    mr, n = m.shape
    out = []
    for d in range(mr + n):
        for row in range(min(d, mr - 1), max(0, d - n + 1) - 1, -1):
            out.append(m[row, d - row])
    return np.array(out, dtype=np.int64)


def _fold_grid(cfg: SystolicConfig, job: ScalesimLayer):
    """(R, C, I, F, O, dataflow, spatial rows, spatial cols, temporal length, row folds, col folds)."""
    R, C = cfg.array_rows, cfg.array_cols
    I, F, O = operand_matrices(job)
    df = cfg.dataflow
    if df == "os":
        sr, sc, t = I.shape[0], F.shape[1], I.shape[1]
    elif df == "ws":
        sr, sc, t = I.shape[1], F.shape[1], I.shape[0]
    else:
        sr, sc, t = I.shape[1], I.shape[0], F.shape[1]
    rf, cf = math.ceil(sr / R), math.ceil(sc / C)
    return R, C, I, F, O, df, sr, sc, t, rf, cf


def demand_and_prefetch(cfg: SystolicConfig, job: ScalesimLayer):
    """(ifmap, filter, ofmap demand matrices, ifmap prefetch, filter prefetch, fold list) like scalesim."""
    R, C, I, F, O, df, sr, sc, t, rf, cf = _fold_grid(cfg, job)
    dem: list[list[np.ndarray]] = [[], [], []]
    for fc in range(cf):
        for fr in range(rf):
            r0, c0 = fr * R, fc * C
            if df == "os":
                a = _pad(I.T[:, r0:r0 + R], t, R)
                dem[0].append(_skew(np.vstack([a, _gap(C - 1, R)])))
                b = _pad(F[:, c0:c0 + C], t, C)
                dem[1].append(_skew(np.vstack([b, _gap(R - 1, C)])))
                o = np.flip(_pad(O[r0:r0 + R, c0:c0 + C], R, C), 0)
                dem[2].append(_skew(np.vstack([_gap(t - 1, C), o])))
            elif df == "ws":
                a = _pad(I[:, r0:r0 + R], t, R)
                dem[0].append(_skew(np.vstack([_gap(R, R), a, _gap(C - 1, R)])))
                b = np.flip(_pad(F[r0:r0 + R, c0:c0 + C], R, C), 0)
                dem[1].append(np.vstack([b, _gap(R + C + t - 2, C)]))
                o = _pad(O[:, c0:c0 + C], t, C)
                dem[2].append(_skew(np.vstack([_gap(2 * R - 1, C), o])))
            else:
                a = np.flip(_pad(I.T[r0:r0 + R, c0:c0 + C], R, C), 0)
                dem[0].append(np.vstack([a, _gap(R + C + t - 2, C)]))
                b = _pad(F[r0:r0 + R, :].T, t, R)
                dem[1].append(_skew(np.vstack([_gap(R, R), b, _gap(C - 1, R)])))
                o = _pad(O[c0:c0 + C, :].T, t, C)
                dem[2].append(_skew(np.vstack([_gap(2 * R - 1, C), o])))
    demands = [np.vstack(d) for d in dem]
    if df == "os":
        ipf = _diag_flatten(np.vstack([_pad(I.T[:, f * R:(f + 1) * R], t, R) for f in range(rf)]))
        fpf = _diag_flatten(np.vstack([_pad(F[:, f * C:(f + 1) * C], t, C) for f in range(cf)]))
    elif df == "ws":
        ipf = _diag_flatten(np.vstack([_pad(I[:, f * R:(f + 1) * R], t, R) for f in range(rf)]))
        fpf = np.vstack([_pad(F[:, f * C:(f + 1) * C], sr, C) for f in range(cf)]).ravel()
    else:
        ipf = np.vstack([_pad(I.T[:, f * C:(f + 1) * C], sr, C) for f in range(cf)]).ravel()
        fpf = _diag_flatten(np.vstack([_pad(F[f * R:(f + 1) * R, :].T, t, R) for f in range(rf)]))
    return demands[0], demands[1], demands[2], ipf, fpf


class NaiveUserReadBuffer:
    """scalesim's ``read_buffer`` (USER mode): lines of addresses, a circular active window."""

    def __init__(self, total: int, bw: int, prefetch: np.ndarray, quirks: str) -> None:
        self.active = math.ceil(total * 0.5)
        self.pf = total - self.active
        self.bw = bw
        self.quirks = quirks
        eps = math.ceil(total / 100)
        valid = [int(a) for a in prefetch if a != -1]
        self.lines = [set(valid[i:i + eps]) for i in range(0, len(valid), eps)]
        self.sizes = [len(valid[i:i + eps]) for i in range(0, len(valid), eps)]
        if len(valid) % eps == 0:
            self.lines.append(set())
            self.sizes.append(0)
        n = len(self.lines)
        self.nact = min(math.ceil(self.active / eps), n)
        self.npf = min(n - self.nact, math.ceil(self.pf / eps))
        self.window = (0, self.nact)
        rows = math.ceil(len(prefetch) / bw)
        n0 = min(math.ceil(self.active / bw), rows)
        self.reads = n0 * bw if quirks == "scalesim" else sum(self.sizes[:self.nact])
        self.last = -1
        self.dram_start, self.dram_stop = -n0, -1

    def hit(self, a: int) -> bool:
        s, e = self.window
        n = len(self.lines)
        ids = range(s, e) if s < e else list(range(s, n)) + list(range(e))
        return any(a in self.lines[i] for i in ids)

    def service(self, row: np.ndarray, cycle: int) -> int:
        offset = 1
        n = len(self.lines)
        for a in row:
            if a == -1:
                continue
            while not self.hit(int(a)):
                s = (self.window[0] + self.npf) % n
                e = (s + self.nact) % n
                self.window = (s, e)
                npl = math.ceil(self.pf / self.bw)
                if self.quirks == "scalesim":
                    self.reads += npl * self.bw
                else:
                    self.reads += sum(self.sizes[(e - self.npf + q) % n] for q in range(self.npf))
                self.last += npl + 1
                self.dram_stop = self.last
                pot = self.last - (cycle + offset)
                if self.quirks == "scalesim":
                    offset += pot
                    if pot > 0:
                        offset += pot
                elif pot > 0:
                    offset += pot
        return cycle + offset


class NaiveCalcReadBuffer:
    """scalesim's ``ReadBufferEstimateBw`` (CALC mode) with Python sets."""

    def __init__(self, total: int, bw: int) -> None:
        self.ips = total // 100
        self.bw = bw
        self.sets: list[set[int]] = []
        self.current: set[int] = set()
        self.rstart, self.rend = 0, 49
        self.done = False
        self.pfs = 0
        self.lstart, self.lend = -2, -1
        self.first: int | None = None
        self.reads = 0
        self.trace: list[tuple[int, int]] = []  # (first, last) DRAM cycles of each prefetch

    def _prefetch(self) -> None:
        self.trace.append((self.lstart + 1, self.lend + 1))

    def service(self, row: np.ndarray, cycle: int) -> int:
        if self.first is None and max(row) > -1:
            self.first = cycle
        for a in row:
            if a == -1:
                continue
            a = int(a)
            window = self.sets[self.rstart:min(len(self.sets), self.rend + 1)]
            if any(a in s for s in window) or a in self.current:
                continue
            self.current.add(a)
            self.reads += 1
            if len(self.current) == self.ips:
                self.sets.append(self.current)
                self.current = set()
                if len(self.sets) == self.rend + 1:
                    if not self.done:
                        self.lend = self.first - 2
                        cn = math.ceil(50 * self.ips / self.bw)
                        self.lstart = self.lend - cn + 1
                        self._prefetch()
                        self.done = True
                    else:
                        self._prefetch()
                    self.rstart += 50
                    self.rend += 50
                    self.lstart = self.lend + 1
                    self.lend = cycle
        return cycle + 1

    def finish(self) -> None:
        if self.current:
            self.sets.append(self.current)
        if not self.done:
            self.lend = -2
            cn = math.ceil(len(self.sets) * self.ips / self.bw)
            self.lstart = self.lend - cn + 1
        self._prefetch()


class NaiveWriteBuffer:
    """scalesim's ``write_buffer`` with an explicit list of (filled words per) lines."""

    def __init__(self, total: int, bw: int) -> None:
        self.total = total
        self.active = math.ceil(total * 0.5)
        self.drain = total - self.active
        self.bw = bw
        self.free = total
        self.lines: list[int] = []
        self.cur = 0
        self.dstart = 0
        self.drain_end = 0
        self.writes = 0
        self.cycles: list[int] = []

    def _flush(self) -> None:
        if self.cur:
            self.lines.append(self.cur)
            self.cur = 0

    def _drain(self, start: int) -> int:
        end = min(self.dstart + math.ceil(self.drain / self.bw), len(self.lines))
        n = end - self.dstart
        size = n * self.bw - (self.bw - self.lines[end - 1])
        self.writes += size
        self.free += size
        self.cycles += [start + i for i in range(n)]
        self.dstart = end
        return start + n - 1

    def service(self, row: np.ndarray, cycle: int) -> int:
        current = cycle
        for a in row:
            if a == -1:
                continue
            self.cur += 1
            self.free -= 1
            if self.cur == self.bw:
                self.lines.append(self.bw)
                self.cur = 0
            if current < self.drain_end:
                if self.free <= 0:
                    current = self.drain_end
            elif self.free < self.active:
                self._flush()
                self.drain_end = self._drain(current)
        return current

    def finish(self, cycle: int) -> None:
        self._flush()
        while self.dstart < len(self.lines):
            self.drain_end = self._drain(cycle)
            cycle = self.drain_end + 1


def naive_memory(cfg: SystolicConfig, job: ScalesimLayer, quirks: str = "scalesim") -> dict[str, int]:
    """The memory engine's integer results, the slow way."""
    dif, dfl, dof, ipf, fpf = demand_and_prefetch(cfg, job)
    bwi, bwf, bwo = cfg.effective_dram_bandwidths()
    sizes = (cfg.ifmap_sram_kb * 1024, cfg.filter_sram_kb * 1024, cfg.ofmap_sram_kb * 1024)
    if cfg.bandwidth_mode == "USER":
        rb = [NaiveUserReadBuffer(sizes[0], bwi, ipf, quirks), NaiveUserReadBuffer(sizes[1], bwf, fpf, quirks)]
    else:
        rb = [NaiveCalcReadBuffer(sizes[0], bwi), NaiveCalcReadBuffer(sizes[1], bwf)]
    wb = NaiveWriteBuffer(sizes[2], bwo)
    stall = 0
    outs: list[list[int]] = [[], [], []]
    for i in range(dif.shape[0]):
        cycle = i + stall
        o0 = rb[0].service(dif[i], cycle)
        o1 = rb[1].service(dfl[i], cycle)
        o2 = wb.service(dof[i], cycle)
        outs[0].append(o0)
        outs[1].append(o1)
        outs[2].append(o2)
        stall += max(o0 - cycle - 1, o1 - cycle - 1, o2 - cycle)
    if cfg.bandwidth_mode == "CALC":
        for b in rb:
            b.finish()
    wb.finish(outs[2][-1])
    res: dict[str, int] = {"total_cycles": max(outs[2]), "stall_cycles": stall}
    for k, (name, dem) in enumerate((("ifmap", dif), ("filter", dfl), ("ofmap", dof))):
        valid = [i for i in range(dem.shape[0]) if (dem[i] != -1).any()]
        res[f"{name}_sram_start_cycle"] = outs[k][valid[0]]
        res[f"{name}_sram_stop_cycle"] = outs[k][valid[-1]]
    for name, b in (("ifmap", rb[0]), ("filter", rb[1])):
        res[f"{name}_dram_reads"] = b.reads
        if cfg.bandwidth_mode == "USER":
            res[f"{name}_dram_start_cycle"], res[f"{name}_dram_stop_cycle"] = b.dram_start, b.dram_stop
        else:
            res[f"{name}_dram_start_cycle"], res[f"{name}_dram_stop_cycle"] = b.trace[0][0], b.trace[-1][1]
    res["ofmap_dram_writes"] = wb.writes
    res["ofmap_dram_start_cycle"], res["ofmap_dram_stop_cycle"] = min(wb.cycles), max(wb.cycles)
    return res


def naive_analytical(cfg: SystolicConfig, job: ScalesimLayer, quirks: str = "scalesim") -> dict[str, int]:
    """Cycles and SRAM counts by building the demand matrices and counting (stall-free, CALC semantics).

    SRAM reads are counted as scalesim counts them: every entry of the operand blocks of every fold,
    including a window's overhanging (-1) entries but not the padding of a partial fold; os ofmap writes add
    the padded fold size R + C per fold (scalesim's quirk) unless ``quirks="fixed"``."""
    dif, dfl, dof, _, _ = demand_and_prefetch(cfg, job)
    R, C, I, F, O, df, sr, sc, t, rf, cf = _fold_grid(cfg, job)
    ir = fr_ = ow = 0
    for fc in range(cf):
        for fr in range(rf):
            rows = min(R, sr - fr * R)
            cols = min(C, sc - fc * C)
            if df == "os":
                ir += rows * t
                fr_ += cols * t
                ow += rows * cols + ((R + C) if quirks == "scalesim" else 0)
            elif df == "ws":
                ir += rows * t
                fr_ += rows * cols
                ow += cols * t
            else:
                ir += rows * cols
                fr_ += rows * t
                ow += cols * t
    res = {"total_cycles": dif.shape[0] - 1, "stall_cycles": 0, "ifmap_sram_reads": ir, "filter_sram_reads": fr_,
           "ofmap_sram_writes": ow}
    for name, dem, lat in (("ifmap", dif, 1), ("filter", dfl, 1), ("ofmap", dof, 0)):
        valid = [i for i in range(dem.shape[0]) if (dem[i] != -1).any()]
        res[f"{name}_sram_start_cycle"] = valid[0] + lat
        res[f"{name}_sram_stop_cycle"] = valid[-1] + lat
    return res
