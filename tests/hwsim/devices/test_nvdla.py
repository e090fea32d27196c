"""NVDLA-style atomic-C x atomic-K engine: loop-nest reference and a worked example."""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.devices import DeviceError, get_device
from hwsim.devices.base import isolated_kernel
from hwsim.devices.nvdla import NvdlaConfig, nvdla_kernel_cost
from hwsim.workload import Conv2d, Linear, Pool2d


def naive_cmac_cycles(cfg: NvdlaConfig, conv: Conv2d) -> int:
    """One cycle per (group, output pixel, tap, atomic-C block, atomic-K block)."""
    n = 0
    cin, cout = conv.in_channels // conv.groups, conv.out_channels // conv.groups
    for _g in range(conv.groups):
        for _p in range(conv.out_h * conv.out_w):
            for _t in range(conv.kernel_h * conv.kernel_w):
                n += len(range(0, cin, cfg.atomic_c)) * len(range(0, cout, cfg.atomic_k))
    return n


def test_worked_example():
    # nv_small (8 x 8): 3x3 conv 16 -> 24 on 10x10 (pad 1): 100 pixels x 9 taps x 2 C-blocks x 3 K-blocks
    cfg = get_device("nvdla-small").cost_model
    conv = Conv2d("c", 16, 24, 10, 10, 3, 3, 1, 1, 1, 1)
    cost = nvdla_kernel_cost(cfg, isolated_kernel(conv))
    assert cost.compute_cycles == 100 * 9 * 2 * 3 == 5400
    assert cost.energy_pj == pytest.approx(conv.macs * 0.3 + (1600 + 16 * 24 * 9 + 2400) * 20.0)
    # depthwise maps one channel per group: utilisation 1 / 64
    dw = Conv2d("dw", 16, 16, 10, 10, 3, 3, 1, 1, 1, 1, groups=16)
    assert nvdla_kernel_cost(cfg, isolated_kernel(dw)).compute_cycles == 16 * 100 * 9
    pool = Pool2d("p", "max", 16, 10, 10, 2, 2, 2, 2)
    assert nvdla_kernel_cost(cfg, isolated_kernel(pool)).compute_cycles == 16 * 25 * 4  # PDP, 1 element/cycle
    fc = Linear("fc", (100,), 10)
    assert nvdla_kernel_cost(cfg, isolated_kernel(fc)).compute_cycles == 13 * 2


@pytest.mark.parametrize("seed", range(3))
def test_matches_loop_nest(seed):
    rng = np.random.default_rng(seed)
    for _ in range(30):
        cfg = NvdlaConfig(atomic_c=int(rng.choice([8, 16, 64])), atomic_k=int(rng.choice([8, 16, 32])))
        g = int(rng.choice([1, 2, 4]))
        c, k = g * int(rng.integers(1, 40)), g * int(rng.integers(1, 40))
        kk = int(rng.choice([1, 3, 5]))
        hw = int(rng.integers(kk, 20))
        conv = Conv2d("c", c, k, hw, hw, kk, kk, int(rng.integers(1, 3)), 1, kk // 2, kk // 2, groups=g)
        assert nvdla_kernel_cost(cfg, isolated_kernel(conv)).compute_cycles == naive_cmac_cycles(cfg, conv)


def test_bad_config():
    with pytest.raises(DeviceError, match="bandwidth_gbps must be positive"):
        NvdlaConfig(bandwidth_gbps=-1.0)
    with pytest.raises(DeviceError, match="atomic_c must be positive"):
        NvdlaConfig(atomic_c=0)
