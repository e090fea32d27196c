"""NAS-Bench-201: arch strings, pruning, disconnected cells, published MACs/params, shared-data decoding."""

from __future__ import annotations

import csv
import statistics

import pytest

from hwsim.workload import Conv2d
from spaces.core import SpaceError
from spaces.nb201 import EDGES, NB201_OPS, FoldedCell, is_connected, live_edges, nb201_space, zero_folded_cell

ALL_3X3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
DANGLING = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"


# Published NAS-Bench-201 costs (API ``get_cost_info``; the min/max over the 15,625 cells, as tabulated e.g. in
# the benchmark wrappers of EvoXBench / HW-NAS work: CIFAR-10 params 0.073306 .. 1.531546 MB, FLOPs
# 7.78305 .. 220.11969 M; CIFAR-100 params 0.079156 .. 1.537396 MB, FLOPs 7.7889 .. 220.12554 M). The maxima
# belong to the all-nor_conv_3x3 cell, the minima to cells without convolutions. NB201's FLOPs counter counts a
# conv/linear as its MACs plus one op per output for a bias and does not count pooling; its "MB" of params is
# 1e6 parameters (conv/linear weights and biases, BN affine terms).
@pytest.mark.parametrize("arch,classes,flops_m,params_mb", [
    (ALL_3X3, 10, 220.11969, 1.531546),
    (ALL_3X3, 100, 220.12554, 1.537396),
    (ALL_SKIP, 10, 7.78305, 0.073306),
    (ALL_SKIP, 100, 7.7889, 0.079156),
])
def test_macs_params_match_published(arch: str, classes: int, flops_m: float, params_mb: float) -> None:
    space = nb201_space()
    net = space.to_workload(space.parse(arch), num_classes=classes)
    flops = net.total_macs + classes  # + the classifier bias, the only bias in the network
    assert round(flops / 1e6, 5) == pytest.approx(flops_m, abs=1e-9)
    assert net.total_params / 1e6 == pytest.approx(params_mb, abs=5e-7)


def test_resnet_cell_costs() -> None:
    """ResNet cell (x + conv(conv(x))): 2 of the 6 convs per cell; hand count of every conv below."""
    space = nb201_space()
    net = space.to_workload(space.parse(RESNET))
    cell_conv = 16 * 16 * 9 * 32 * 32  # the same at every stage (channels x2, pixels /4)
    skeleton = 16 * 27 * 32 * 32 + 2 * (cell_conv // 2 + cell_conv + cell_conv // 18) + 64 * 10
    assert net.total_macs == skeleton + 3 * 5 * 2 * cell_conv == 78_561_920
    # without the 2->3 skip the two convs reach no output and are pruned: only the skeleton is left
    assert space.to_workload(space.parse(DANGLING)).total_macs == skeleton


def test_parse_format_round_trip_and_labels() -> None:
    space = nb201_space()
    a = space.parse(RESNET)
    assert a["edge_1_0"] == "nor_conv_3x3" and a["edge_3_0"] == "skip_connect" and a["edge_3_1"] == "none"
    assert space.format(a) == RESNET
    assert space.choices[0].candidates == NB201_OPS


@pytest.mark.parametrize("text,match", [
    ("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv_5x5'"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 has 1 edges, expected 2"),
    ("|none~0|+|none~0|none~1|", "has 2 nodes, expected 3"),
    ("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", "token 'none~2' must be 'op~1'"),
    ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must start and end with"),
    ("|none|+|none~0|none~1|+|none~0|none~1|none~2|", "token 'none' must be 'op~0'"),
])
def test_bad_arch_strings(text: str, match: str) -> None:
    with pytest.raises(SpaceError, match=match) as err:
        nb201_space().parse(text)
    assert "\n" not in str(err.value)


def test_pruning_rules() -> None:
    space = nb201_space()

    def live(text: str) -> tuple[tuple[int, int], ...]:
        a = space.parse(text)
        return live_edges({(j, i): a[f"edge_{j}_{i}"] for j in (1, 2, 3) for i in range(j)})

    assert live(RESNET) == ((1, 0), (2, 1), (3, 0), (3, 2))
    assert live(DANGLING) == ((3, 0),)
    # node 2 has no input: its edge to 3 is dropped; node 1 reaches no output: 0->1 dropped
    assert live("|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2|") == ((3, 0),)
    assert live("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|") == ()
    assert len(live(ALL_3X3)) == 6


def _folded(text: str) -> FoldedCell:
    a = nb201_space().parse(text)
    return zero_folded_cell({(j, i): a[f"edge_{j}_{i}"] for j, i in EDGES})


def test_zero_folding_rules() -> None:
    # nothing to fold: every edge runs
    assert _folded(ALL_3X3) == FoldedCell(EDGES, (), True)
    # node 1 is a constant zero (0->1 is none); its 3x3 conv to the output still runs, unlike under pruning
    zero_fed = "|none~0|+|skip_connect~0|none~1|+|none~0|nor_conv_3x3~1|skip_connect~2|"
    assert _folded(zero_fed) == FoldedCell(((2, 0), (3, 1), (3, 2)), (), True)
    assert (3, 1) not in live_edges({(j, i): nb201_space().parse(zero_fed)[f"edge_{j}_{i}"] for j, i in EDGES})
    # a dead end that is not a lone conv is dropped: node 1 (a pool) reaches the output through 'none' only
    assert _folded("|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|") == FoldedCell(
        ((3, 0),), (), True)
    # a dead lone conv is kept and carries the input: this disconnected cell still runs a conv per cell
    assert _folded("|none~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|") == FoldedCell(((2, 0),), (2,), True)
    # ... except the pair node 1 = conv(x0) (dead), node 2 = op(x0) + x1 * 0 (dead): both fold away
    assert _folded("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|none~2|") == FoldedCell(
        ((3, 0),), (), True)
    assert _folded("|nor_conv_1x1~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|none~1|none~2|") == FoldedCell(
        ((3, 0),), (), True)
    # node 1 is kept when node 2 is live (its zero product reaches the output through node 2)
    assert _folded("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|") == FoldedCell(
        ((1, 0), (2, 0), (3, 2)), (1,), True)
    # output fed only by an op on a constant zero: the cell ignores its input (only the last cell runs)
    assert _folded("|none~0|+|skip_connect~0|none~1|+|none~0|nor_conv_3x3~1|none~2|") == FoldedCell(
        ((3, 1),), (), False)
    assert _folded("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|") == FoldedCell(
        (), (), False)


def test_zero_folding_keeps_a_superset_of_the_live_edges() -> None:
    space = nb201_space()
    for a in space.enumerate():
        ops = {(j, i): a[f"edge_{j}_{i}"] for j, i in EDGES}
        cell, live = zero_folded_cell(ops), live_edges(ops)
        assert set(live) <= set(cell.edges)
        assert all(ops[e] != "none" for e in cell.edges)
        assert cell.reads_input or not live  # a connected cell always reads its input


def test_pruned_network_has_no_dead_layers() -> None:
    space = nb201_space()
    net = space.to_workload(space.parse("|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2|"))
    assert not [lay for lay in net.layers if isinstance(lay, Conv2d) and lay.kernel_h == 1 and lay.stride_h == 1
                and lay.in_channels == lay.out_channels]  # no cell 1x1 conv survives
    assert len(net.outputs) == 1  # nothing dangles


def test_disconnected_cells_become_tiny() -> None:
    space = nb201_space()
    dead = [a for a in space.enumerate() if not is_connected(a)]
    assert len(dead) == 341  # the data README's count of cells scoring 10.00 % on CIFAR-10
    net = space.to_workload(dead[0])
    assert [lay.kind for lay in net.layers] == ["conv2d", "norm", "global_pool", "reshape", "linear"]
    assert net.total_macs == 16 * 27 * 32 * 32 + 16 * 10
    assert net[net.outputs[0]].output_shape == (10,)


def test_help_csv_rows_decode_and_disconnected_are_fast(shared_data) -> None:
    space = nb201_space()
    with open(shared_data / "latency" / "nb201_help.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 15625
    archs = []
    for r in rows:
        a = space.parse(r["arch_str"])
        assert space.format(a) == r["arch_str"]
        archs.append(a)
    assert len(set(archs)) == 15625
    # our disconnected cells are the ones a converter folds away: near-zero measured latency on Pixel 3
    dead = [float(r["pixel3"]) for r, a in zip(rows, archs) if not is_connected(a)]
    alive = [float(r["pixel3"]) for r, a in zip(rows, archs) if is_connected(a)]
    assert len(dead) == 341
    assert statistics.median(dead) < 0.02 * statistics.median(alive)
