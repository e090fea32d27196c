"""Whole networks: mapping of workload layers, per-layer breakdown, totals, latency, energy, reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsim.systolic import (EnergyTable, ScalesimLayer, SystolicConfig, SystolicMappingError, scalesim_view,
                            simulate_layer, simulate_network)
from hwsim.systolic.reports import COMPUTE_HEADER, DETAIL_HEADER, write_reports
from hwsim.workload import Conv2d, Linear, MatMul, NetworkBuilder, Pool2d

CFG = SystolicConfig(8, 8, 4, 4, 4, "os", "USER", (10,), 10, 10)


def _net():
    b = NetworkBuilder("tiny", (4, 12, 12))
    x = b.conv(b.input, 8, 3, padding=1)
    x = b.relu(x)
    x = b.conv(x, 8, 3, stride=2, padding=1, groups=8)
    x = b.pool(x, "max", 2)
    x = b.flatten(x)
    b.linear(x, 10)
    return b.build()


def test_mapping_rules() -> None:
    conv = Conv2d("c", 4, 8, 56, 56, 3, 3, 1, 1, 1, 1)
    assert scalesim_view(conv).job == ScalesimLayer("c", 58, 58, 3, 3, 4, 8, 1, 1)
    # stride 2 with a remainder: trimmed to the rows PyTorch reads, so the output size is PyTorch's
    s2 = scalesim_view(Conv2d("s", 4, 8, 56, 56, 3, 3, 2, 2, 1, 1)).job
    assert (s2.ifmap_h, s2.ofmap_h) == (57, 28)
    dw = scalesim_view(Conv2d("d", 6, 6, 10, 10, 3, 3, groups=6))
    assert dw.repeats == 6 and dw.job.channels == 1 and dw.job.num_filters == 1
    g = scalesim_view(Conv2d("g", 8, 4, 10, 10, 1, 1, groups=2))
    assert g.repeats == 2 and (g.job.channels, g.job.num_filters) == (4, 2)
    lin = scalesim_view(Linear("l", (7, 32), 16))
    assert lin.job == ScalesimLayer("l", 7, 32, 1, 32, 1, 16, 1, 1) and lin.job.macs == 7 * 32 * 16
    mm = scalesim_view(MatMul("m", (3, 5, 6), (3, 6, 4)))
    assert mm.repeats == 3 and mm.job.macs == 5 * 6 * 4
    assert scalesim_view(Pool2d("p", "max", 4, 8, 8, 2, 2, 2, 2)).job is None
    with pytest.raises(SystolicMappingError, match="dilation"):
        scalesim_view(Conv2d("x", 4, 4, 16, 16, 3, 3, dilation_h=2, dilation_w=2))


def test_network_breakdown_totals_latency_energy() -> None:
    net = _net()
    for engine in ("analytical", "memory"):
        res = simulate_network(CFG, net, engine=engine)
        assert [e.layer_name for e in res.layers] == [layer.name for layer in net.layers]
        skipped = [e.kind for e in res.layers if e.skipped]
        assert skipped == ["activation", "pool2d", "reshape"]
        assert all(e.total_cycles == 0 for e in res.layers if e.skipped)
        assert res.macs == net.total_macs
        dw = next(e for e in res.layers if e.repeats == 8)
        assert dw.total_cycles == 8 * dw.result.total_cycles
        assert res.total_cycles == sum(e.total_cycles for e in res.layers)
        assert res.latency_s(1e9) == pytest.approx(res.total_cycles * 1e-9)
        en = res.energy()
        acc = res.access_totals()
        t = EnergyTable()
        want = (res.macs * t.mac_pj + (acc["ifmap_sram_reads"] + acc["filter_sram_reads"]) * t.sram_read_pj
                + acc["ofmap_sram_writes"] * t.sram_write_pj
                + (acc["ifmap_dram_reads"] + acc["filter_dram_reads"]) * t.dram_read_pj
                + acc["ofmap_dram_writes"] * t.dram_write_pj)
        assert en.total_pj == pytest.approx(want)
        assert res.energy(EnergyTable(dram_read_pj=0, dram_write_pj=0)).dram_pj == 0


def test_simulate_layer_accepts_workload_layers() -> None:
    conv = Conv2d("c", 4, 8, 10, 10, 3, 3, 1, 1, 1, 1)
    a = simulate_layer(CFG, conv)
    assert a.total_cycles == simulate_layer(CFG, scalesim_view(conv).job).total_cycles
    with pytest.raises(SystolicMappingError, match="no MACs"):
        simulate_layer(CFG, Pool2d("p", "max", 4, 8, 8, 2, 2, 2, 2))
    with pytest.raises(ValueError, match="engine"):
        simulate_layer(CFG, conv, engine="magic")
    with pytest.raises(ValueError, match="quirks"):
        simulate_layer(CFG, conv, quirks="some")


def test_reports_have_scalesim_columns(tmp_path: Path) -> None:
    res = simulate_network(CFG, _net(), engine="memory")
    files = write_reports(res.job_results(), tmp_path)
    assert sorted(f.name for f in files) == ["BANDWIDTH_REPORT.csv", "COMPUTE_REPORT.csv",
                                            "DETAILED_ACCESS_REPORT.csv"]
    comp = (tmp_path / "COMPUTE_REPORT.csv").read_text().splitlines()
    assert comp[0] == COMPUTE_HEADER and len(comp) == 1 + len(res.job_results())
    det = (tmp_path / "DETAILED_ACCESS_REPORT.csv").read_text().splitlines()
    assert det[0] == DETAIL_HEADER and det[1].endswith(",") and len(det[1].split(",")) == 20


@pytest.mark.scalesim
def test_reports_parse_back_like_scalesim_reports(tmp_path: Path) -> None:
    """Our report files are read by the same parser as scalesim's and give the same numbers."""
    from hwsim.systolic.reference import read_reports
    res = simulate_network(CFG, _net(), engine="memory")
    jobs = [ScalesimLayer(r.name, 1, 1, 1, 1, 1, 1) for r in res.job_results()]
    write_reports(res.job_results(), tmp_path)
    back = read_reports(tmp_path, CFG, jobs)
    for a, b in zip(back, res.job_results()):
        ca, cb = a.counts(), b.counts()
        ca.pop("macs"), cb.pop("macs")
        assert ca == cb


def test_threaded_memory_engine_is_deterministic() -> None:
    net = _net()
    one = simulate_network(CFG, net, engine="memory", workers=1)
    two = simulate_network(CFG, net, engine="memory", workers=2)
    assert one == two
    for e in one.layers:
        if e.result is not None:
            assert e.result.name == e.layer_name
