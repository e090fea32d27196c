"""Eyeriss row-stationary mapping: closed form vs an explicit placement of every 1-D row primitive."""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.devices import DeviceError, get_device
from hwsim.devices.base import isolated_kernel
from hwsim.devices.eyeriss import EyerissConfig, conv_problem, eyeriss_kernel_cost, rs_mapping
from hwsim.workload import Conv2d, Linear
from hwsim.zoo import get_model


def naive_rs(cfg: EyerissConfig, layer) -> tuple[int, int]:
    """Place each (group, m, c, filter-row fold, output-row strip) item on the array slot by slot.

    Returns (cycles, mapped MACs): every pass lasts F*S cycles (each PE convolves one row); a new pass starts
    when all slots are taken. Mapped MACs add up the rows each item really covers (last folds may be partial).
    """
    g, m, c, r, s, e, f = conv_problem(layer)
    r_folds = -(-r // cfg.pe_rows)
    height = -(-r // r_folds)
    strip = min(e, cfg.pe_cols)
    slots = (cfg.pe_rows // height) * (cfg.pe_cols // strip)
    passes, used, macs = 0, slots, 0
    for _g in range(g):
        for _m in range(m):
            for _c in range(c):
                for rf in range(r_folds):
                    rows = min(height, r - rf * height)
                    for e0 in range(0, e, strip):
                        cols = min(strip, e - e0)
                        if used == slots:
                            passes, used = passes + 1, 0
                        used += 1
                        macs += rows * cols * f * s
    return passes * f * s, macs


def test_alexnet_conv1_hand_example():
    # R = S = 11, E = F = 55, C = 3, M = 96: one 11 x 14 set per pass, 4 output-row strips
    cfg = EyerissConfig()
    conv = Conv2d("conv1", 3, 96, 227, 227, 11, 11, 4, 4, 0, 0)
    mp = rs_mapping(cfg, conv)
    assert (mp.r_folds, mp.set_height, mp.strip, mp.e_folds, mp.sets) == (1, 11, 14, 4, 1)
    assert mp.items == 96 * 3 * 4 and mp.passes == 1152
    assert mp.cycles == 1152 * 55 * 11 == 696_960  # 3.48 ms at 200 MHz
    assert mp.active_pes == 154


@pytest.mark.parametrize("seed", range(4))
def test_closed_form_matches_placement(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        cfg = EyerissConfig(pe_rows=int(rng.integers(3, 16)), pe_cols=int(rng.integers(3, 16)))
        if rng.random() < 0.2:
            layer = Linear("fc", (int(rng.integers(1, 5)), int(rng.integers(1, 40))), int(rng.integers(1, 30)))
        else:
            k = int(rng.choice([1, 3, 5, 7, 11, 13]))
            c = int(rng.integers(1, 9))
            g = c if rng.random() < 0.3 else 1
            hw = int(rng.integers(k, k + 30))
            layer = Conv2d("c", c, g * int(rng.integers(1, 6)), hw, hw, k, k, int(rng.integers(1, 3)), 1, 0, 0,
                           groups=g)
        mp = rs_mapping(cfg, layer)
        cycles, macs = naive_rs(cfg, layer)
        assert mp.cycles == cycles, (cfg, layer)
        assert macs == layer.macs  # the mapping covers exactly the layer's work
        assert mp.cycles * cfg.pe_rows * cfg.pe_cols >= layer.macs


def test_energy_and_units():
    cfg = get_device("eyeriss-v1").cost_model
    conv = Conv2d("c", 64, 64, 56, 56, 3, 3, 1, 1, 1, 1)
    cost = eyeriss_kernel_cost(cfg, isolated_kernel(conv))
    assert cost.unit == "pe-array" and cost.energy_pj > conv.macs * 5  # MAC + 4 RF accesses at least
    dram_words = (cost.dram_read_bytes + cost.dram_write_bytes) / 2
    assert cost.energy_pj > dram_words * 200
    assert get_device("eyeriss-v1").run(get_model("resnet18").build_ir((3, 32, 32))).energy_mj > 0


def test_bad_config():
    with pytest.raises(DeviceError, match="clock_mhz must be positive"):
        EyerissConfig(clock_mhz=-200.0)
    with pytest.raises(DeviceError, match="pe_rows must be an integer"):
        EyerissConfig(pe_rows=12.5)
