"""Fast engines against their slow twins (tests/hwsim/systolic/naive.py) over seeded random layers."""

from __future__ import annotations

import pytest

from hwsim.systolic import ScalesimLayer, SystolicConfig, simulate_job

from .layers import ARRAYS, medium_jobs, random_jobs
from .naive import naive_analytical, naive_memory

JOBS = random_jobs(60, seed=7) + medium_jobs(6, seed=8)


@pytest.mark.parametrize("df", ["os", "ws", "is"])
@pytest.mark.parametrize("mode", ["USER", "CALC"])
@pytest.mark.parametrize("quirks", ["scalesim", "fixed"])
def test_memory_kernel_matches_naive_twin(df: str, mode: str, quirks: str) -> None:
    for i, job in enumerate(JOBS):
        r, c = ARRAYS[i % len(ARRAYS)]
        cfg = SystolicConfig(r, c, 1, 1, 1, df, mode, (3,), 4, 5)
        got = simulate_job(cfg, job, engine="memory", quirks=quirks).counts()
        want = naive_memory(cfg, job, quirks)
        diff = {k: (v, got[k]) for k, v in want.items() if got[k] != v}
        assert not diff, f"{job} {df} {mode} {quirks}: (naive, kernel) {diff}"


@pytest.mark.parametrize("df", ["os", "ws", "is"])
@pytest.mark.parametrize("quirks", ["scalesim", "fixed"])
def test_analytical_matches_naive_twin(df: str, quirks: str) -> None:
    for i, job in enumerate(JOBS):
        r, c = ARRAYS[i % len(ARRAYS)]
        cfg = SystolicConfig(r, c, 1, 1, 1, df, "CALC", (3,), 4, 5)
        got = simulate_job(cfg, job, engine="analytical", quirks=quirks).counts()
        want = naive_analytical(cfg, job, quirks)
        diff = {k: (v, got[k]) for k, v in want.items() if got[k] != v}
        assert not diff, f"{job} {df}: (naive, analytical) {diff}"


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_memory_and_analytical_agree_where_both_are_exact(df: str) -> None:
    """CALC mode never stalls: the engines agree on cycles and SRAM counts for every layer."""
    for i, job in enumerate(JOBS):
        r, c = ARRAYS[i % len(ARRAYS)]
        cfg = SystolicConfig(r, c, 2, 2, 2, df, "CALC", (3,), 4, 5)
        a = simulate_job(cfg, job, engine="analytical")
        m = simulate_job(cfg, job, engine="memory")
        for k in ("total_cycles", "stall_cycles", "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes",
                  "ifmap_sram_start_cycle", "ifmap_sram_stop_cycle", "ofmap_sram_stop_cycle"):
            assert getattr(a, k) == getattr(m, k), (job, k)


def test_fixed_quirks_differ_as_documented() -> None:
    """fixed: a positive prefetch stall counts once (scalesim: twice), os ofmap writes lose scalesim's R + C per
    fold; compute cycles are unchanged. (Its DRAM word count is checked against the naive twin above.)"""
    cfg = SystolicConfig(8, 4, 1, 1, 1, "os", "USER", (3,), 4, 5)
    job = ScalesimLayer("m", 16, 16, 3, 3, 4, 16, 1, 1)
    s = simulate_job(cfg, job, engine="memory", quirks="scalesim")
    f = simulate_job(cfg, job, engine="memory", quirks="fixed")
    assert s.stall_cycles > 0
    assert f.stall_cycles < s.stall_cycles
    folds = -(-job.ofmap_px // 8) * -(-job.num_filters // 4)
    assert s.ofmap_sram_writes - f.ofmap_sram_writes == folds * (8 + 4)
    assert f.ofmap_sram_writes == job.ofmap_px * job.num_filters
    assert f.compute_cycles == s.compute_cycles
