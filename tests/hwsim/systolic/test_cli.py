"""``hwnas simulate --device systolic``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwsim.cli import main
from hwsim.importers.scalesim_csv import read_jobs
from hwsim.systolic import preset, simulate_network

TOPO = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n" \
       "c1, 12, 12, 3, 3, 4, 8, 1,\nc2, 10, 10, 1, 1, 8, 16, 1,\n"


def test_topology_json_matches_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "t.csv"
    f.write_text(TOPO)
    assert main(["simulate", "--preset", "scalesim_32x32", "--topology", str(f), "--engine", "memory",
                 "--format", "json", "--scalesim-reports", str(tmp_path / "rep")]) == 0
    out = json.loads(capsys.readouterr().out)
    want = simulate_network(preset("scalesim_32x32"), read_jobs(f), engine="memory")
    assert out["summary"]["total_cycles"] == want.total_cycles
    assert [r["layer"] for r in out["layers"]] == ["c1", "c2"]
    assert (tmp_path / "rep" / "COMPUTE_REPORT.csv").read_text().count("\n") == 3


def test_config_file_table_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "a.cfg"
    cfg.write_text(preset("scalesim_32x32").replace(dataflow="ws").to_cfg_text())
    f = tmp_path / "t.csv"
    f.write_text(TOPO)
    assert main(["simulate", "--config", str(cfg), "--topology", str(f)]) == 0
    table = capsys.readouterr().out
    assert "c1" in table and "total:" in table and "ws" in table
    assert main(["simulate", "--config", str(cfg), "--topology", str(f), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("layer,kind,repeats") and len(lines) == 3


def test_zoo_model(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("hwsim.zoo")
    assert main(["simulate", "--preset", "scalesim_128x128", "--model", "resnet18", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["macs"] > 1.7e9 and any(r["skipped"] for r in out["layers"])


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "t.csv"
    f.write_text(TOPO)
    assert main(["simulate", "--preset", "nope", "--topology", str(f)]) == 2
    assert "hwnas: error: unknown systolic preset 'nope'" in capsys.readouterr().err
    assert main(["simulate", "--device", "gpu", "--topology", str(f)]) == 2
    assert "unknown device preset 'gpu'" in capsys.readouterr().err
    assert main(["simulate", "--device", "eyeriss-v1", "--preset", "tpu_v1", "--topology", str(f)]) == 2
    assert "--config/--preset apply to --device systolic" in capsys.readouterr().err
    bad = tmp_path / "b.cfg"
    bad.write_text(preset("tpu_v1").to_cfg_text().replace("Dataflow : ws", "Dataflow : xy"))
    assert main(["simulate", "--config", str(bad), "--topology", str(f)]) == 2
    err = capsys.readouterr().err
    assert "unknown dataflow 'xy'" in err and err.count("\n") == 1
