from __future__ import annotations

from collections import Counter

import pytest

from calibration.workloads import (
    ZERO_FOLDED_NB201,
    get_space,
    nb201_unpruned_space,
    nb201_zero_folded_space,
    space_names,
)
from hwsim.workload import NetworkBuilder, WorkloadError, structure

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


def cell_convs(net) -> int:
    """Stride-1 3x3 convolutions with Cin == Cout: the cells' nor_conv_3x3 plus one per reduction block."""
    return sum(1 for lay in net.layers if lay.kind == "conv2d" and lay.kernel_h == 3 and lay.stride_h == 1
               and lay.in_channels == lay.out_channels)


def test_zero_folded_space_is_registered_and_equals_pruned_when_nothing_folds() -> None:
    assert "nb201-zero-folded" in space_names()
    a, z = get_space("nb201"), nb201_zero_folded_space()
    assert get_space("nb201-zero-folded").name == z.name == ZERO_FOLDED_NB201
    assert structure(a.to_workload(a.parse(ALL_CONV))) == structure(z.to_workload(z.parse(ALL_CONV)))


def test_zero_folded_runs_ops_on_constant_zeros() -> None:
    a, z = get_space("nb201"), nb201_zero_folded_space()
    arch = "|none~0|+|skip_connect~0|none~1|+|none~0|nor_conv_3x3~1|skip_connect~2|"  # node 1 is a zero
    pruned, folded = a.to_workload(a.parse(arch)), z.to_workload(z.parse(arch))
    # the two reduction blocks have one stride-1 3x3 conv each (Cin == Cout) on both sides
    assert cell_convs(pruned) == 2
    assert cell_convs(folded) == 2 + 15
    assert [nm for nm, _ in folded.inputs] == ["input"]


def test_zero_folded_kept_conv_and_input_independent_cells() -> None:
    z = nb201_zero_folded_space()
    kept = z.to_workload(z.parse("|none~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|"))
    assert kinds(kept)[("conv2d", "")] == 1 + 15 + 2 * 2 + 2  # stem, a conv per cell, 2 reductions (2 + 1 each)
    assert [nm for nm, _ in kept.inputs] == ["input"]
    # only the last cell runs, on a constant input shaped like the last stage; the image is unused
    last = z.to_workload(z.parse("|none~0|+|skip_connect~0|none~1|+|none~0|nor_conv_3x3~1|none~2|"))
    assert dict(last.inputs) == {"input": (3, 32, 32), "zeros": (64, 8, 8)}
    assert [lay.kind for lay in last.layers] == ["activation", "conv2d", "norm", "norm", "activation",
                                                 "global_pool", "reshape", "linear"]
    assert last.total_macs == 64 * 64 * 9 * 8 * 8 + 64 * 10
    empty = z.to_workload(z.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"))
    assert [lay.kind for lay in empty.layers] == ["norm", "activation", "global_pool", "reshape", "linear"]


def test_builder_extra_input_names_are_unique() -> None:
    b = NetworkBuilder("n", (3, 8, 8))
    assert b.add_input("zeros", (4, 2, 2)) == "zeros" and b.shape("zeros") == (4, 2, 2)
    with pytest.raises(WorkloadError, match="input name 'input' is already used"):
        b.add_input("input", (3, 8, 8))
