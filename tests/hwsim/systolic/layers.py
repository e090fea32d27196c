"""Seeded random scalesim jobs (conv and GEMM) and array shapes shared by the systolic tests."""

from __future__ import annotations

import numpy as np

from hwsim.systolic import ScalesimLayer

ARRAYS: tuple[tuple[int, int], ...] = ((4, 4), (8, 4), (5, 7))
SEED = 20261123


def random_jobs(n: int, seed: int = SEED) -> list[ScalesimLayer]:
    """``n`` small conv/GEMM jobs (about 1 in 4 a GEMM), sizes chosen so scalesim runs them quickly."""
    rng = np.random.default_rng(seed)
    jobs: list[ScalesimLayer] = []
    for i in range(n):
        if rng.random() < 0.25:
            m, nn, k = (int(x) for x in rng.integers(1, 24, size=3))
            jobs.append(ScalesimLayer.gemm(f"g{i}", m, nn, k))
            continue
        fh, fw = (int(x) for x in rng.integers(1, 4, size=2))
        s = int(rng.integers(1, 4))
        ih = int(rng.integers(fh, fh + 9))
        iw = int(rng.integers(fw, fw + 9))
        c = int(rng.integers(1, 6))
        k = int(rng.integers(1, 12))
        jobs.append(ScalesimLayer(f"c{i}", ih, iw, fh, fw, c, k, s, s))
    return jobs


def medium_jobs(n: int, seed: int = SEED + 1) -> list[ScalesimLayer]:
    """``n`` jobs whose ifmap and filter exceed half of a 1 kB SRAM, so prefetches slide and stall."""
    rng = np.random.default_rng(seed)
    jobs: list[ScalesimLayer] = []
    for i in range(n):
        if i % 4 == 3:
            m, nn, k = (int(x) for x in rng.integers(24, 48, size=3))
            jobs.append(ScalesimLayer.gemm(f"mg{i}", m, nn, k))
            continue
        f = int(rng.integers(1, 4))
        s = int(rng.integers(1, 3))
        ih = int(rng.integers(12, 20))
        c = int(rng.integers(3, 7))
        k = int(rng.integers(8, 24))
        jobs.append(ScalesimLayer(f"m{i}", ih, ih, f, f, c, k, s, s))
    return jobs
