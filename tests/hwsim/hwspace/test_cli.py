"""``hwnas hw-space show|sample`` through hwsim.cli.main, and the sampled TOMLs through ``hwnas simulate``."""

from __future__ import annotations

import json
import math

from hwsim.cli import main


def test_show_systolic_json_size_is_the_product(capsys) -> None:
    assert main(["hw-space", "show", "systolic", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["size"] == math.prod(len(v) for v in d["params"].values()) >= 1000
    assert d["template"] == "systolic"


def test_show_table(capsys) -> None:
    assert main(["hw-space", "show", "dpu"]) == 0
    out = capsys.readouterr().out
    assert "B512" in out and "size: 40 configurations" in out


def test_sample_out_writes_tomls_that_simulate_runs(tmp_path, capsys) -> None:
    out = tmp_path / "D"
    assert main(["hw-space", "sample", "systolic", "-n", "3", "--seed", "0", "--out", str(out)]) == 0
    files = sorted(out.glob("*.toml"))
    assert len(files) == 3
    capsys.readouterr()
    for f in files:
        assert main(["simulate", "--device", str(f), "--model", "squeezenet1_1", "--format", "json"]) == 0
        d = json.loads(capsys.readouterr().out)
        assert d["device"] == f.stem
        for key in ("area_mm2", "energy_mj", "power_w"):
            assert d[key] > 0
    # the same seed writes the same files
    again = tmp_path / "E"
    main(["hw-space", "sample", "systolic", "-n", "3", "--seed", "0", "--out", str(again)])
    assert [f.read_text() for f in files] == [f.read_text() for f in sorted(again.glob("*.toml"))]


def test_sample_prints_tomls(capsys) -> None:
    assert main(["hw-space", "sample", "eyeriss", "-n", "2", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert out.count("[device]") == 2 and 'base = "eyeriss-v1"' in out


def test_bad_space_file_is_one_line_exit_2(tmp_path, capsys) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('[space]\nname = "b"\ntemplate = "systolic"\n[params]\narray_rows = [0]\n')
    assert main(["hw-space", "show", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwnas: error: ") and err.count("\n") == 1
    assert str(f) in err and "array_rows" in err
    assert main(["hw-space", "show", "nosuchspace"]) == 2
    assert "unknown hardware space 'nosuchspace'" in capsys.readouterr().err
