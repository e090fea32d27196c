"""`hwnas workload` and the CLI's error contract: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hwsim import __version__
from hwsim.cli import main
from hwsim.workload import Network, NetworkBuilder


def _net() -> Network:
    b = NetworkBuilder("tiny", (3, 16, 16))
    x = b.relu(b.conv(b.input, 8, 3, padding=1, name="c1"), name="r1")
    b.linear(b.flatten(b.global_pool(x, name="gap"), name="flat"), 4, name="fc")
    return b.build()


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"hwnas {__version__}"


def test_show_json_file_as_json(tmp_path, capsys):
    path = tmp_path / "tiny.json"
    path.write_text(_net().to_json())
    assert main(["workload", "show", str(path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total_macs"] == _net().total_macs and out["total_params"] == _net().total_params
    assert [r["name"] for r in out["layers"]] == ["c1", "r1", "gap", "flat", "fc"]
    assert out["layers"][0]["output_shape"] == [8, 16, 16]


def test_show_table_and_csv(tmp_path, capsys):
    path = tmp_path / "tiny.json"
    path.write_text(_net().to_json())
    assert main(["workload", "show", str(path)]) == 0
    table = capsys.readouterr().out
    assert "TOTAL" in table and f"{_net().total_macs:,}" in table
    assert main(["workload", "show", str(path), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "name,kind,inputs,input_shapes,output_shape,macs,params" and len(lines) == 6


def test_export_round_trips(tmp_path):
    src = tmp_path / "tiny.json"
    src.write_text(_net().to_json())
    out = tmp_path / "sub" / "copy.json"
    assert main(["workload", "export", str(src), "--out", str(out)]) == 0
    assert Network.from_json(out.read_text()) == _net()


def test_zoo_model_with_input(capsys):
    assert main(["workload", "show", "resnet18", "--input", "3x112x112", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["layers"][0]["input_shapes"] == [[3, 112, 112]]


@pytest.mark.parametrize("argv,message", [
    (["workload", "show", "resnet1000"], "unknown model 'resnet1000'"),
    (["workload", "show", "missing.json"], "missing.json: file not found"),
    (["workload", "show", "resnet18", "--input", "3x0x224"], "--input: dimensions must be positive integers, got '3x0x224'"),
    (["workload", "show", "resnet18", "--input", "3xabc"], "--input: expected dimensions like 3x224x224, got '3xabc'"),
    (["workload", "show", "vgg16", "--input", "3x8x8"], "larger than the padded input"),
])
def test_bad_input_one_line_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwnas: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_json_file_names_file_and_field(tmp_path, capsys):
    d = _net().to_dict()
    d["layers"][0]["kernel_h"] = 0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    assert main(["workload", "show", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: layers[0]: layer 'c1': kernel_h must be a positive integer, got 0" in err


def test_console_script_exit_code(tmp_path):
    """The real process: usage errors and bad input exit 2 with one line and no traceback."""
    r = subprocess.run([sys.executable, "-m", "hwsim.cli", "workload", "show", str(tmp_path / "x.csv")],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2 and r.stderr.strip().endswith("file not found") and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "hwsim.cli", "workload", "show", "a", "--format", "xml"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2 and "invalid choice: 'xml'" in r.stderr and r.stderr.count("\n") == 1


@pytest.mark.parametrize("name,content,message", [
    ("bad.csv", "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                "conv1, 224, 224, 7, 7, 3, 64, 2,\nconv2, 56, x56, 3, 3, 64, 64, 1,\n", "bad.csv:3: column 3 (IFMAP Width)"),
    ("zero.csv", "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                 "conv1, 0, 224, 7, 7, 3, 64, 2,\n", "zero.csv:2: column 2 (IFMAP Height) must be positive"),
    ("big.csv", "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                "conv1, 5, 5, 7, 7, 3, 64, 1,\n", "big.csv:2: filter 7x7 larger than IFMAP 5x5"),
    ("bad.onnx", "this is not a protobuf", "bad.onnx"),
])
def test_bad_topology_and_onnx_files_exit_2(tmp_path, capsys, name, content, message):
    pytest.importorskip("onnx")
    path = tmp_path / name
    path.write_text(content)
    assert main(["workload", "show", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwnas: error: ") and message in err and err.count("\n") == 1
