"""SCALE-Sim topology CSV import/export."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsim.importers.scalesim_csv import (CONV_HEADER, TopologyCsvError, read_jobs, read_topology, scalesim_view,
                                          write_topology)
from hwsim.systolic import ScalesimLayer
from hwsim.workload import Conv2d, Linear, NetworkBuilder

CONV = CONV_HEADER + """
Conv1, 58, 58, 3, 3, 4, 16, 1,
CB2a_DP, 30, 30, 3, 3, 6, 1, 2,
FC, 1, 1, 1, 1, 64, 10, 1,
"""


def test_read_conv_format(tmp_path: Path) -> None:
    f = tmp_path / "net.csv"
    f.write_text(CONV)
    net = read_topology(f)
    assert net.name == "net" and [layer.name for layer in net.layers] == ["Conv1", "CB2a_DP", "FC"]
    c1, dp, fc = net.layers
    assert isinstance(c1, Conv2d) and (c1.in_h, c1.pad_h, c1.in_channels, c1.out_channels) == (58, 0, 4, 16)
    assert dp.groups == 6 and dp.out_channels == 6 and dp.stride_h == 2
    assert all(net.node(n.layer.name).inputs == (f"{n.layer.name}_in",) for n in net.nodes)
    jobs = read_jobs(f)
    assert [j.name for j in jobs] == ["Conv1"] + [f"CB2a_DPChannel_{i}" for i in range(6)] + ["FC"]
    assert jobs[1] == ScalesimLayer("CB2a_DPChannel_0", 30, 30, 3, 3, 1, 1, 2, 2)
    # (30 - 3) % 2 != 0: scalesim runs ceil((30 - 3 + 2) / 2) = 15 output rows (a last partial window),
    # the IR layer (PyTorch semantics) has 14; its scalesim view is trimmed to the 29 rows PyTorch reads
    v = scalesim_view(dp)
    assert v.repeats == 6 and (v.job.ifmap_h, v.job.channels, v.job.num_filters) == (29, 1, 1)
    assert (v.job.ofmap_h, jobs[1].ofmap_h, dp.out_h) == (14, 15, 14)


def test_read_gemm_format(tmp_path: Path) -> None:
    f = tmp_path / "g.csv"
    f.write_text("Layer, M, N, K,\nqk, 196, 196, 64,\nfc, 1, 1000, 512,\n")
    net = read_topology(f)
    assert isinstance(net.layers[0], Linear) and net.layers[0].input_shape == (196, 64)
    assert net.layers[1].n == 1000 and net.total_macs == 196 * 196 * 64 + 1000 * 512
    assert read_jobs(f)[0] == ScalesimLayer.gemm("qk", 196, 196, 64)


@pytest.mark.parametrize("row,match", [
    ("c, 10, 10, 3, x, 4, 8, 1,", r":2: column 5 \(Filter Width\) must be an integer, got 'x'"),
    ("c, 10, 10, 3, 3, 0, 8, 1,", r":2: column 6 \(Channels\) must be positive, got '0'"),
    ("c, 10, 10, 3, 3, 4, 8, 1", r":2: row must end with a comma"),
    ("c, 10, 10, 3, 3,", r":2: expected 8 fields"),
    ("c, 2, 10, 3, 3, 4, 8, 1,", r":2: filter 3x3 larger than IFMAP 2x10"),
    ("c, 10, 10, 3, 3, 4, 8, 1, 2:4,", r":2: column 9 \(sparsity\)"),
])
def test_malformed_rows_name_file_line_column_value(tmp_path: Path, row: str, match: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(CONV_HEADER + "\n" + row + "\n")
    with pytest.raises(TopologyCsvError, match=match) as e:
        read_topology(f)
    assert str(f) in str(e.value) and "\n" not in str(e.value)


def test_write_folds_padding_and_round_trips(tmp_path: Path) -> None:
    b = NetworkBuilder("n", (3, 56, 56))
    x = b.conv(b.input, 16, 3, padding=1)
    x = b.relu(x)
    x = b.conv(x, 16, 3, stride=2, padding=1, groups=16)
    x = b.global_pool(x)
    x = b.flatten(x)
    b.linear(x, 10)
    net = b.build()
    f = write_topology(net, tmp_path / "out.csv")
    jobs = read_jobs(f)
    want = []
    for layer in net.layers:
        m = scalesim_view(layer)
        if m.job is not None:
            want += [m.job] * m.repeats
    strip = [(j.ifmap_h, j.ifmap_w, j.filter_h, j.filter_w, j.channels, j.num_filters, j.stride_h) for j in jobs]
    assert strip == [(j.ifmap_h, j.ifmap_w, j.filter_h, j.filter_w, j.channels, j.num_filters, j.stride_h)
                     for j in want]
    assert jobs[0].ifmap_h == 58  # a torch conv (H=56, pad=1) is a CSV row with IFMAP 58
    assert sum(j.macs for j in jobs) == net.total_macs
    with pytest.raises(TopologyCsvError, match="DP"):
        write_topology([ScalesimLayer("xDPy", 4, 4, 1, 1, 1, 1)], tmp_path / "dp.csv")


def test_zoo_convs_match_their_csv_export(tmp_path: Path) -> None:
    zoo = pytest.importorskip("hwsim.zoo")
    net = zoo.get_model("resnet18").build_ir()
    f = write_topology(net, tmp_path / "r18.csv")
    back = read_topology(f)
    convs = [layer for layer in net.layers if layer.macs]
    assert len(back.layers) == len(convs)
    for orig, imp in zip(convs, back.layers):
        assert scalesim_view(orig).job.macs == scalesim_view(imp).job.macs
    assert back.total_macs == net.total_macs


@pytest.mark.scalesim
def test_scalesim_reads_written_csv(tmp_path: Path) -> None:
    topo = pytest.importorskip("scalesim.topology_utils")
    f = write_topology([ScalesimLayer("a", 10, 12, 3, 2, 4, 5, 2, 2), ScalesimLayer.gemm("g", 7, 3, 5)],
                       tmp_path / "t.csv")
    t = topo.topologies()
    t.load_arrays(str(f))
    assert [row[:9] for row in t.topo_arrays] == [["a", 10, 12, 3, 2, 4, 5, 2, 2], ["g", 7, 5, 1, 5, 1, 3, 1, 1]]
