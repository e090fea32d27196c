"""The memory kernel's shortcuts (hwsim/systolic/memory.py) against slow references.

- the demand -> prefetch-order cell map (:func:`_read_cells`) and the ofmap lane ranges (:func:`_ofmap_lanes`)
  against the demand and prefetch matrices that tests/hwsim/systolic/naive.py builds the way scalesim does;
- both sides of each fast path of the USER replay against the naive twin: dense and non-dense prefetch
  orders (rank words), fold-rows that hit in bulk and ones replayed lane by lane with prefetches,
  ofmap writes stored in bulk and ones that stall on a full write buffer.
"""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.systolic import ScalesimLayer, SystolicConfig, simulate_job
from hwsim.systolic import memory as mem
from hwsim.systolic.analytical import geometry_vector, valid_ifmap_entries

from .layers import ARRAYS, medium_jobs, random_jobs
from .naive import demand_and_prefetch, naive_memory

JOBS = random_jobs(25, seed=3) + medium_jobs(4, seed=4)


def test_diag_start_counts_cells_below_each_antidiagonal() -> None:
    for mr in range(1, 9):
        for n in range(1, 9):
            counts = np.zeros(mr + n, dtype=np.int64)
            for r in range(mr):
                for c in range(n):
                    counts[r + c + 1:] += 1
            assert [mem._diag_start(mr, n, d) for d in range(mr + n)] == counts.tolist(), (mr, n)


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_read_cells_and_ofmap_lanes_match_naive_matrices(df: str) -> None:
    """Every demand of a fold-row is the cell f0 + lane of the prefetch order (invalid cells included) and
    nothing else is demanded; ofmap writes are exactly the lanes [lo, hi)."""
    for i, job in enumerate(JOBS):
        r, c = ARRAYS[i % len(ARRAYS)]
        cfg = SystolicConfig(r, c, 1, 1, 1, df, "USER", (3,), 4, 5)
        dems = demand_and_prefetch(cfg, job)
        g = geometry_vector(cfg, job)
        sr, sc, t_len = mem._srsct(g)
        rf, cf = -(-sr // r), -(-sc // c)
        L = dems[0].shape[0] // (rf * cf)
        row = 0
        for fc in range(cf):
            for fr in range(rf):
                for tau in range(L):
                    for op in range(2):
                        order = dems[3 + op]
                        lo, hi, f0 = mem._read_cells(g, op, fc, fr, tau, *mem._prefetch_shape(g, op))
                        want = dems[op][row]
                        got = np.full(want.shape[0], -1, dtype=np.int64)
                        for lane in range(lo, hi):
                            got[lane] = order[f0 + lane]
                        assert got.tolist() == want.tolist(), (job, df, op, fc, fr, tau)
                    lo, hi = mem._ofmap_lanes(g, fc, fr, tau)
                    writes = np.flatnonzero(dems[2][row] != -1)
                    assert writes.tolist() == list(range(lo, hi)), (job, df, fc, fr, tau)
                    row += 1


# (name, array, ofmap DRAM words/cycle, job) chosen so that each side of every shortcut occurs: prefetch
# orders with and without invalid cells, read windows that slide (every layer: the ifmap does not fit half of
# the 1 kB SRAM), and, with 1 word/cycle, an ofmap write buffer that fills up and stalls the array, with 2-3,
# drains that close partly filled lines
CASES = [
    # 14x14 outputs on 7 rows: dense os/is ifmap orders, no window overhang
    ("dense", (7, 4), 1, ScalesimLayer("dense", 16, 16, 3, 3, 4, 16, 1, 1)),
    # 196 outputs on 8 rows: the last row fold is padded, so the os ifmap order has invalid cells
    ("padded", (8, 4), 3, ScalesimLayer("padded", 16, 16, 3, 3, 4, 16, 1, 1)),
    # stride 2 over 16 columns: the last window overhangs the input (invalid cells inside the order)
    ("overhang", (4, 4), 1, ScalesimLayer("overhang", 16, 16, 3, 3, 5, 12, 2, 2)),
    # a GEMM whose filter does not fit half the filter SRAM either
    ("gemm", (5, 7), 2, ScalesimLayer.gemm("gemm", 40, 36, 30)),
    # (is) a read whose own line falls between the end and the start of a wrapped window, held by a later
    # entry of its address
    ("wrapped", (8, 4), 3, ScalesimLayer("wrapped", 19, 19, 2, 2, 3, 21, 1, 1)),
]


def _dense(cfg: SystolicConfig, job: ScalesimLayer, op: int) -> bool:
    g = geometry_vector(cfg, job)
    mr, n, _, _ = mem._prefetch_shape(g, op)
    valid = valid_ifmap_entries(job) if op == 0 else job.window * job.num_filters
    return valid == mr * n


@pytest.mark.parametrize("df", ["os", "ws", "is"])
@pytest.mark.parametrize("quirks", ["scalesim", "fixed"])
def test_user_shortcuts_both_sides_match_naive(df: str, quirks: str) -> None:
    dense_seen = set()
    for name, (r, c), of_bw, job in CASES:
        cfg = SystolicConfig(r, c, 1, 1, 1, df, "USER", (of_bw,), 3, 2)
        got = simulate_job(cfg, job, engine="memory", quirks=quirks)
        want = naive_memory(cfg, job, quirks)
        diff = {k: (v, got.counts()[k]) for k, v in want.items() if got.counts()[k] != v}
        assert not diff, f"{name} {df} {quirks}: (naive, kernel) {diff}"
        # reads replayed lane by lane: the ifmap window slid (a prefetch after the initial one)
        assert got.ifmap_dram_stop_cycle >= 0, name
        dense_seen.add(_dense(cfg, job, 0))
    assert dense_seen == {True, False}
