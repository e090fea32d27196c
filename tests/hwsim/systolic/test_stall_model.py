"""The fold-level stall model against the cycle-accurate memory engine (quirks "fixed") and a naive line replay."""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.errors import HwnasError
from hwsim.systolic.config import preset
from hwsim.systolic.simulate import simulate_layer
from hwsim.systolic.stall_model import stall_cycles, stall_cycles_batch
from hwsim.systolic.topology import ScalesimLayer


def _array(df: str, R: int, C: int, kb: int, bw: int):
    return preset("scalesim_32x32").replace(array_rows=R, array_cols=C, dataflow=df, ifmap_sram_kb=kb,
                                            filter_sram_kb=kb, ofmap_sram_kb=kb, bandwidth_mode="USER",
                                            bandwidths=(bw,), ifmap_dram_bandwidth=bw, filter_dram_bandwidth=bw)


def _job(h: int, c: int, k: int, f: int = 1, s: int = 1) -> ScalesimLayer:
    return ScalesimLayer(name="t", ifmap_h=h, ifmap_w=h, filter_h=f, filter_w=f, channels=c, num_filters=k,
                         stride_h=s, stride_w=s)


def _naive_words(total: int, nvalid: int, lines_read: list[int]) -> int:
    """SCALE-Sim's read buffer over a sequence of line reads, one slide at a time (quirks fixed words)."""
    e = (total + 99) // 100
    nl = nvalid // e + 1
    active = (total + 1) // 2
    maxa, maxp = -(-active // e), -(-(total - active) // e)
    if nl <= maxa:
        return nvalid
    nact, npf = maxa, min(maxp, nl - maxa)
    size = [min(e, nvalid - ln * e) for ln in range(nl)]
    words = sum(size[:nact])
    start = 0
    for ln in lines_read:
        while (ln - start) % nl >= nact:
            start = (start + npf) % nl
            words += sum(size[(start + nact - npf + k) % nl] for k in range(npf))
    return words


# 1x1 convolutions (no repeated ifmap address): the model's words are the engine's, and its cycles within 5%
CASES = [("os", 64, 8, 64, 10, _job(7, 672, 192)), ("os", 32, 32, 16, 10, _job(14, 256, 256)),
         ("ws", 32, 32, 16, 10, _job(14, 256, 256)), ("is", 16, 64, 16, 10, _job(14, 256, 128)),
         ("ws", 16, 16, 64, 40, _job(28, 64, 64))]


@pytest.mark.parametrize("df,R,C,kb,bw,job", CASES)
def test_matches_memory_engine_on_1x1(df, R, C, kb, bw, job) -> None:
    a = _array(df, R, C, kb, bw)
    eng = simulate_layer(a, job, engine="memory", quirks="fixed")
    est = stall_cycles(a, job)
    assert est.ifmap_dram_words == eng.ifmap_dram_reads
    assert est.filter_dram_words == eng.filter_dram_reads
    assert abs(est.total_cycles / eng.total_cycles - 1) <= 0.05
    assert est.total_cycles == eng.compute_cycles + est.stall_cycles


def test_os_ifmap_words_match_naive_line_replay() -> None:
    # os, 1 row fold: each column fold reads the whole ifmap order forward, line by line
    job, a = _job(7, 672, 192), _array("os", 64, 8, 64, 10)
    nvalid = 7 * 7 * 672
    e = (64 * 1024 + 99) // 100
    cf = -(-192 // 8)
    lines = [ln for _ in range(cf) for ln in range(nvalid // e + 1)]
    assert stall_cycles(a, job).ifmap_dram_words == _naive_words(64 * 1024, nvalid, lines)


def test_fitting_operands_do_not_stall() -> None:
    job = _job(8, 16, 16, f=3)
    est = stall_cycles(_array("ws", 8, 8, 256, 10), job)
    assert est.stall_cycles == 0
    assert est.filter_dram_words == 3 * 3 * 16 * 16


def test_batch_equals_scalar_and_validates() -> None:
    job = _job(14, 256, 256)
    arrays = [_array(df, R, 32, kb, 10) for df, R, kb in (("os", 32, 16), ("ws", 16, 64), ("is", 64, 16))]
    got = stall_cycles_batch(np.array([0, 1, 2]), np.array([a.array_rows for a in arrays]),
                             np.array([a.array_cols for a in arrays]),
                             np.array([[a.ifmap_sram_kb * 1024] * 3 for a in arrays]), np.full((3, 3), 10), job)
    for row, a in zip(got, arrays):
        assert tuple(row) == tuple(vars(stall_cycles(a, job)).values())
    with pytest.raises(HwnasError, match="dataflow codes"):
        stall_cycles_batch(np.array([3]), np.array([8]), np.array([8]), np.full((1, 3), 1024), np.full((1, 3), 10),
                           job)
    with pytest.raises(HwnasError, match="shapes"):
        stall_cycles_batch(np.array([0]), np.array([8, 8]), np.array([8]), np.full((1, 3), 1024),
                           np.full((1, 3), 10), job)


def test_systolic_template_adds_the_stalls_in_user_mode() -> None:
    from hwsim.devices.base import isolated_kernel
    from hwsim.devices.systolic_device import SystolicDeviceConfig, systolic_kernel_cost
    from hwsim.systolic.topology import scalesim_view
    from hwsim.workload import Conv2d

    layer = Conv2d("dw", 64, 64, 28, 28, 3, 3, 1, 1, 1, 1, groups=4)
    view = scalesim_view(layer)
    user = SystolicDeviceConfig(preset="scalesim_32x32", ifmap_sram_kib=4, filter_sram_kib=4, ofmap_sram_kib=4,
                                dram_bandwidth=2)
    est = stall_cycles(user.array, view.job)
    ref = simulate_layer(user.array, layer, engine="analytical")
    assert est.stall_cycles > 0
    assert systolic_kernel_cost(user, isolated_kernel(layer)).compute_cycles == \
        (ref.compute_cycles + est.stall_cycles) * view.repeats
    small = Conv2d("c", 8, 8, 8, 8, 3, 3, 1, 1, 1, 1)  # fits every buffer: no stall, stall-free cycles
    big = SystolicDeviceConfig(preset="scalesim_32x32")
    assert stall_cycles(big.array, scalesim_view(small).job).stall_cycles == 0
    assert systolic_kernel_cost(big, isolated_kernel(small)).compute_cycles == \
        simulate_layer(big.array, small, engine="analytical").compute_cycles
