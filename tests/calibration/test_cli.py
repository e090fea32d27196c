from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from calibration.measurements import load_measurements
from hwsim.cli import main

from .conftest import FusingFakeDevice


def synthetic_file(tmp_path: Path, n: int = 30) -> Path:
    from spaces.registry import get_space

    space = get_space("nb201")
    rng = np.random.default_rng(0)
    dev = FusingFakeDevice()
    lines = ["id,device,space,arch,input_size,latency_ms"]
    seen = set()
    while len(lines) <= n:
        a = space.sample(rng)
        s = space.format(a)
        if s in seen:
            continue
        seen.add(s)
        t = dev.run(space.to_workload(a, input_size=8)).latency_ms
        lines.append(f"m{len(lines)},fake,nb201,{s},8,{t!r}")
    p = tmp_path / "m.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_calibrate_fit_json_and_plot(tmp_path: Path, capsys) -> None:
    p = synthetic_file(tmp_path)
    rc = main(["calibrate", "fit", "--measurements", str(p), "--device", "roofline-reference", "--train", "12",
               "--seed", "1", "--format", "json", "--plot", str(tmp_path / "s.png"), "--save", str(tmp_path / "c.json"),
               "--lut-cache", str(tmp_path / "cache")])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) == {"spearman", "kendall", "mape", "rmse_ms", "within_5pct", "within_10pct", "n_train", "n_test",
                      "method", "space"}
    assert d["space"] == "nb201" and json.loads((tmp_path / "c.json").read_text())["space"] == "nb201"
    assert d["method"] == "kernel-type" and d["n_train"] == 12 and d["n_test"] == 18
    assert d["spearman"] > 0.9
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "c.json").is_file() and list((tmp_path / "cache").glob("*.json"))


def test_calibrate_fit_unit_text(tmp_path: Path, capsys) -> None:
    p = synthetic_file(tmp_path, 20)
    assert main(["calibrate", "fit", "--measurements", str(p), "--device", "unit", "--method", "affine",
                 "--train", "10", "--test", "4"]) == 0
    out = capsys.readouterr().out
    assert "MAPE" in out and "n_test=4" in out


def test_calibrate_fit_auto_reports_its_choice(tmp_path: Path, capsys) -> None:
    p = synthetic_file(tmp_path, 30)
    assert main(["calibrate", "fit", "--measurements", str(p), "--device", "roofline-reference", "--method", "auto",
                 "--train", "20", "--save", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("auto -> ") and "cross-validated MAPE: affine" in out and "residual" in out
    chosen = out.split("auto -> ")[1].split()[0]
    assert json.loads((tmp_path / "c.json").read_text())["method"] == chosen


def test_bad_file_exit_2(tmp_path: Path, capsys) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("id,device,space,arch,latency_ms\na,b,nb201,|nope~0|,1\nc,b,nb201,|nope~0|,nan\n")
    rc = main(["calibrate", "fit", "--measurements", str(p), "--device", "unit", "--train", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "bad.csv:3" in err and err.count("\n") == 1
    p.write_text("id,device,space,arch,latency_ms\na,b,nb201,|nope~0|,1\nc,b,nb201,|nope~0|,2\n")
    rc = main(["calibrate", "fit", "--measurements", str(p), "--device", "unit", "--train", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "bad.csv:2: unknown arch" in err


def test_train_bounds(tmp_path: Path, capsys) -> None:
    p = synthetic_file(tmp_path, 5)
    assert main(["calibrate", "fit", "--measurements", str(p), "--device", "unit", "--train", "5"]) == 2
    assert "--train must be between 1 and 4" in capsys.readouterr().err


def test_measure_writes_csv(tmp_path: Path, capsys) -> None:
    pytest.importorskip("torch")
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    out = tmp_path / "meas.csv"
    args = ["measure", "--space", "nb201", "--arch", arch, "--input-size", "8", "--out", str(out), "--warmup", "1",
            "--repeats", "3", "--kernels", str(tmp_path / "k.csv")]
    assert main(args) == 0
    assert main(args[:-2] + ["--id", "second"]) == 0
    ms = load_measurements(out)
    assert [m.id for m in ms] == [arch, "second"]
    assert ms[0].repeats == 3 and ms[0].latency_ms > 0 and "threads=1" in ms[0].conditions
    assert (tmp_path / "k.csv").is_file()


def test_calibrate_fit_bbssp(tmp_path: Path, capsys) -> None:
    """BBSSP LUT from the DPU model, affine-fitted on 6 archs the same DPU 'measured' (+1 ms host time)."""
    from hwsim.devices import get_device
    from spaces.registry import get_space

    space = get_space("bbssp-res-cifar")
    dev = get_device("dpu-b4096-zcu102")
    rng = np.random.default_rng(0)
    lines = ["id,device,space,arch,latency_ms"]
    for i in range(12):
        a = space.sample(rng)
        lines.append(f"a{i},zcu102,bbssp-res-cifar,{space.format(a)},{dev.run(space.to_workload(a)).latency_ms + 1.0!r}")
    p = tmp_path / "m.csv"
    p.write_text("\n".join(lines) + "\n")
    rc = main(["calibrate", "fit", "--measurements", str(p), "--device", "dpu-b4096-zcu102", "--method", "bbssp",
               "--train", "6", "--format", "json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0 and d["n_test"] == 6
    assert d["mape"] < 1.0 and d["within_5pct"] == 1.0
