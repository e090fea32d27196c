"""`hwnas codesign` end to end on a small space x a small hardware space TOML (the scripted contract)."""

import csv
import json

import pytest

from hwsim.cli import main
from tests.nas.codesign.test_sources import small_space

HW_TOML = """
[space]
name = "tiny"
template = "systolic"

[params]
array_rows = [8, 16]
array_cols = [8, 32]
ifmap_sram_kib = [64]

[fixed]
preset = "scalesim_32x32"
"""


@pytest.fixture
def inputs(tmp_path):
    space = small_space()
    (tmp_path / "space.json").write_text(space.to_json())
    (tmp_path / "hw.toml").write_text(HW_TOML)
    with open(tmp_path / "acc.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["arch_str", "cifar10_test_acc"])
        for i, a in enumerate(space.enumerate()):
            w.writerow([space.format(a), 90.0 + (i * 7) % 5])
    return tmp_path


def _args(d, method, out, *extra):
    return ["codesign", "--space", str(d / "space.json"), "--hw-space", str(d / "hw.toml"), "--evaluator", "table",
            "--table", str(d / "acc.csv"), "--table-column", "cifar10_test_acc", "--method", method,
            "--area-limit", "3.0", "--out", str(out), "--quiet", *extra]


@pytest.mark.parametrize("method,extra", [("exhaustive", ()), ("nsga2", ("--budget", "20", "--seed", "3",
                                                                          "--pop-size", "8")),
                                          ("sequential", ())])
def test_contract(inputs, method, extra, capsys):
    out = inputs / method
    assert main(_args(inputs, method, out, "--no-plots", *extra)) == 0
    doc = json.loads((out / "codesign.json").read_text())
    assert doc["pareto"] and "hypervolume" in doc and "evaluations" in doc
    for p in doc["pareto"]:
        assert p["area_mm2"] <= 3.0
        capsys.readouterr()
        assert main(["simulate", "--device", str(out / p["device_file"]), "--model", str(out / p["workload_file"]),
                     "--format", "json"]) == 0
        sim = json.loads(capsys.readouterr().out)
        for k, v in (("end_to_end_latency_ms", p["latency_ms"]), ("energy_mj", p["energy_mj"]),
                     ("area_mm2", p["area_mm2"])):
            assert sim[k] == pytest.approx(v, rel=1e-9)
    if method == "nsga2":
        out2 = inputs / "again"
        assert main(_args(inputs, method, out2, "--no-plots", *extra)) == 0
        assert (out2 / "codesign.json").read_bytes() == (out / "codesign.json").read_bytes()


@pytest.mark.parametrize("extra,msg", [(("--area-limit", "-1"), "limit area_mm2 must be a positive number"),
                                       (("--objectives", "accuracy,speed"), "unknown objective 'speed'"),
                                       (("--method", "nsga2"), "needs --budget"),
                                       (("--table-column", "nope"), "no column 'nope'"),
                                       (("--default-hw", "array_rows=7"), "array_rows='7' is not one of")])
def test_bad_input_one_line_exit_2(inputs, extra, msg, capsys):
    code = main(_args(inputs, "sequential", inputs / "bad", *extra))
    err = capsys.readouterr().err
    assert code == 2 and msg in err and err.count("\n") == 1 and err.startswith("hwnas: error:")
