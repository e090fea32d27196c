"""``hwnas simulate --scalesim-reports DIR`` writes scalesim 3.0.0's own reports whatever ``--engine`` says.

The analytical engine estimates DRAM counts and prefetch cycles (its "Total Cycles (incl. prefetch)" differ from
scalesim's, e.g. 196 vs 224 on an 8x8 os array with 64 kB SRAMs and bandwidth 10), so the reports always come
from the memory engine with scalesim's quirks: checked here against the real scalesim on parity layers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsim.cli import main
from hwsim.systolic import SystolicConfig
from hwsim.systolic.reference import TOPOLOGY_HEADER, read_reports, run_scalesim
from hwsim.systolic.topology import ScalesimLayer

from .layers import medium_jobs, random_jobs

pytest.importorskip("scalesim")
pytestmark = [pytest.mark.scalesim]

# The case (8x8 os, 64 kB SRAMs, USER bandwidth 10) and a small-buffer ws array whose prefetches stall.
CONFIGS = (SystolicConfig(8, 8, 64, 64, 64, "os", "USER", (10,), 10, 10, run_name="rep"),
           SystolicConfig(4, 4, 1, 1, 1, "ws", "USER", (3,), 4, 5, run_name="rep"))
JOBS = [ScalesimLayer(f"L{i}", j.ifmap_h, j.ifmap_w, j.filter_h, j.filter_w, j.channels, j.num_filters,
                      j.stride_h, j.stride_w) for i, j in enumerate(random_jobs(10) + medium_jobs(3))]


@pytest.mark.parametrize("cfg", CONFIGS, ids=("8x8-os", "4x4-ws"))
def test_reports_equal_scalesim_with_either_engine(cfg: SystolicConfig, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    want = run_scalesim(cfg, JOBS, keep_dir=tmp_path / "scalesim")
    cfg_file = tmp_path / "a.cfg"
    cfg_file.write_text(cfg.to_cfg_text())
    topo = tmp_path / "t.csv"
    topo.write_text("\n".join([TOPOLOGY_HEADER] + [j.csv_row() for j in JOBS]) + "\n")
    for engine in ("analytical", "memory"):
        d = tmp_path / engine
        assert main(["simulate", "--config", str(cfg_file), "--topology", str(topo), "--engine", engine,
                     "--scalesim-reports", str(d), "--format", "json"]) == 0
        capsys.readouterr()
        got = read_reports(d, cfg, JOBS)
        for g, w in zip(got, want):
            assert g.counts() == w.counts(), (engine, g.name)
            assert g.total_cycles_incl_prefetch == w.total_cycles_incl_prefetch, (engine, g.name)
            for k in ("overall_util_pct", "mapping_efficiency_pct", "compute_util_pct"):
                assert getattr(g, k) == pytest.approx(getattr(w, k), rel=1e-9), (engine, g.name, k)
        bw_got = [[float(x) for x in ln.split(",")[1:-1]] for ln in (d / "BANDWIDTH_REPORT.csv").read_text().splitlines()[1:]]
        bw_want = [[float(x) for x in ln.split(",")[1:-1]]
                   for ln in (tmp_path / "scalesim" / "out" / "rep" / "BANDWIDTH_REPORT.csv").read_text().splitlines()[1:]]
        assert len(bw_got) == len(bw_want) == len(JOBS)
        for rg, rw in zip(bw_got, bw_want):
            assert rg == pytest.approx(rw, rel=1e-6), engine


def test_reports_refuse_fixed_quirks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    topo = tmp_path / "t.csv"
    topo.write_text("\n".join([TOPOLOGY_HEADER, JOBS[0].csv_row()]) + "\n")
    assert main(["simulate", "--preset", "scalesim_32x32", "--topology", str(topo), "--quirks", "fixed",
                 "--scalesim-reports", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwnas: error: --scalesim-reports") and err.count("\n") == 1
    assert not (tmp_path / "r").exists()
