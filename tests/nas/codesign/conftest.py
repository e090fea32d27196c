import numpy as np
import pytest

from nas.codesign.search import GridSource


def synthetic_source(seed: int = 0, arch_radix=(4, 4, 3), hw_radix=(4, 3, 3)) -> GridSource:
    """A small (arch x hw) grid with the structure of the real one: latency ~ MACs / PEs, energy grows with
    the array and buffer, area with PEs and SRAM, accuracy loosely rising with MACs."""
    rng = np.random.default_rng(seed)
    n_arch, n_hw = int(np.prod(arch_radix)), int(np.prod(hw_radix))
    macs = rng.uniform(1, 10, n_arch)
    acc = 80 + 1.2 * macs + rng.normal(0, 1.0, n_arch)
    pes = rng.uniform(1, 8, n_hw)
    sram = rng.uniform(0.5, 2, n_hw)
    lat = macs[:, None] / pes[None, :] * (1 + 0.5 / sram)[None, :] * rng.uniform(0.9, 1.1, (n_arch, n_hw))
    en = macs[:, None] * (1 + 0.05 * pes + 0.2 * sram)[None, :] * rng.uniform(0.95, 1.05, (n_arch, n_hw))
    area = 0.2 * pes + 0.5 * sram
    power = en / lat
    return GridSource(acc, lat, en, area, power, arch_radix, hw_radix)


@pytest.fixture
def source() -> GridSource:
    return synthetic_source()
