from __future__ import annotations

from collections import Counter

from calibration.workloads import get_space, nb201_unpruned_space, space_names
from hwsim.workload import structure

ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
DEAD = "|none~0|+|nor_conv_1x1~0|none~1|+|none~0|avg_pool_3x3~1|none~2|"  # node 1 is a dead end


def kinds(net):
    return Counter((layer.kind, getattr(layer, "op", "")) for layer in net.layers)


def test_unpruned_equals_pruned_when_nothing_is_pruned() -> None:
    a, b = get_space("nb201"), nb201_unpruned_space()
    assert "nb201-unpruned" in space_names()
    assert structure(a.to_workload(a.parse(ALL_CONV))) == structure(b.to_workload(b.parse(ALL_CONV)))


def test_unpruned_executes_every_edge() -> None:
    a, b = get_space("nb201"), nb201_unpruned_space()
    pruned = a.to_workload(a.parse(DEAD))
    full = b.to_workload(b.parse(DEAD))
    kp, kf = kinds(pruned), kinds(full)
    # 15 cells: 4 'none' edges each become a multiply by zero; the dead-end avg pool survives
    assert kf[("eltwise", "mul")] == 15 * 4
    assert kf[("pool2d", "avg")] == 15 + 2  # one per cell + the two reduction shortcuts
    assert kp[("pool2d", "avg")] < kf[("pool2d", "avg")]
    assert full.total_macs >= pruned.total_macs
