"""The device CLI handler: table and JSON output, plot file, errors."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from hwsim.devices import DeviceError
from hwsim.cli import main
from hwsim.devices.cli import add_device_arguments, simulate_device


def _args(**kw) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_device_arguments(parser)
    argv = []
    for k, v in kw.items():
        argv += [f"--{k}", v]
    return parser.parse_args(argv)


def test_table(capsys):
    assert simulate_device(_args(device="dpu-b4096-zcu102", model="resnet18")) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "profile (sum of" in out and "run (end to end)" in out
    assert "layer4.1.conv2" in out


def test_json_totals_agree(capsys):
    simulate_device(_args(device="eyeriss-v1", model="mobilenet_v2", format="json"))
    d = json.loads(capsys.readouterr().out)
    assert set(d) >= {"end_to_end_latency_ms", "profile_latency_ms_sum", "energy_mj", "kernels"}
    assert d["profile_latency_ms_sum"] == pytest.approx(sum(k["latency_ms"] for k in d["kernels"]))
    assert d["end_to_end_latency_ms"] == pytest.approx(
        d["profile_latency_ms_sum"] - d["overlap_saved_ms"] + d["host_overhead_ms"])
    assert d["energy_mj"] > 0
    assert all({"name", "layers", "unit", "latency_ms", "utilization", "dram_read_bytes", "bound"} <= set(k)
               for k in d["kernels"])


def test_json_template_energy_null_for_dpu_silicon_energy_not(capsys):
    simulate_device(argparse.Namespace(device="dpu-b4096-kv260", model="squeezenet1_1", format="json"))
    d = json.loads(capsys.readouterr().out)
    assert d["template_energy_mj"] is None  # the DPU template models no kernel energy; the silicon model does
    assert d["energy_mj"] > 0 and d["area_mm2"] > 0 and d["power_w"] > 0


def test_csv(capsys):
    simulate_device(_args(device="nvdla-small", model="resnet18", format="csv"))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("name,layers,unit,latency_ms")
    assert lines[1].startswith("conv1,conv1+bn1+relu+maxpool,cmac,")
    with pytest.raises(DeviceError, match="--format"):
        simulate_device(argparse.Namespace(device="nvdla-small", model="resnet18", format="xml"))


def test_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "k.png"
    simulate_device(_args(device="roofline-reference", model="squeezenet1_1", plot=str(out)))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["k.png"]


def test_errors(capsys):
    with pytest.raises(DeviceError, match="--model is required"):
        simulate_device(argparse.Namespace(device="eyeriss-v1", model=None, format="table"))
    assert main(["simulate", "--device", "no-such-board", "--model", "resnet18"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwnas: error: unknown device preset 'no-such-board'") and err.count("\n") == 1


def test_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "hwsim.cli", "simulate", "--device", "nvdla-small", "--model",
                        "squeezenet1_1", "--format", "json"], capture_output=True, text=True, check=True)
    assert json.loads(r.stdout)["device"] == "nvdla-small"
