"""The golden latency suite: exact regeneration (in-process and in a fresh process) and the ``hwnas bench`` CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hwsim.bench.latency_suite import (
    compare_suites,
    default_golden_path,
    dumps_suite,
    generate_suite,
    load_suite,
    restrict_suite,
    write_suite,
)
from hwsim.cli import main
from hwsim.devices import list_presets
from hwsim.errors import HwnasError
from hwsim.zoo import list_models

GOLDEN = Path(__file__).resolve().parents[2] / "benchmarks" / "golden" / "latency_suite.json"


@pytest.fixture(scope="module")
def suite() -> dict[str, Any]:
    return generate_suite()


def test_default_golden_path_is_the_committed_file() -> None:
    assert default_golden_path() == GOLDEN
    assert GOLDEN.is_file()


def test_regenerated_suite_equals_golden_exactly(suite: dict[str, Any]) -> None:
    golden_text = GOLDEN.read_text(encoding="utf-8")
    assert compare_suites(load_suite(GOLDEN), suite) == []
    assert dumps_suite(suite) == golden_text  # byte-identical: floats round-trip exactly through repr


def test_suite_covers_every_model_and_preset(suite: dict[str, Any]) -> None:
    assert suite["models"] == list(list_models()) and suite["devices"] == list(list_presets())
    for model in list_models():
        for dev in list_presets():
            in_results = dev in suite["results"][model]
            in_excluded = any(x["model"] == model and x["device"] == dev for x in suite["excluded"])
            assert in_results != in_excluded, (model, dev)
    for x in suite["excluded"]:
        assert x["reason"] and "\n" not in x["reason"]


def test_entries_are_consistent(suite: dict[str, Any]) -> None:
    for per in suite["results"].values():
        for e in per.values():
            assert e["kernel_count"] == len(e["kernels"]) > 0
            assert e["kernel_sum_ms"] == math.fsum(k["latency_ms"] for k in e["kernels"])
            assert e["device_ms"] == e["kernel_sum_ms"] - e["overlap_saved_ms"]
            assert e["latency_ms"] == e["device_ms"] + e["host_overhead_ms"]
            assert e["compute_cycles"] == sum(k["compute_cycles"] or 0.0 for k in e["kernels"])
            assert all(k["latency_ms"] > 0 and k["layers"] and k["layers"][0] == k["name"] for k in e["kernels"])


def test_generation_is_identical_in_a_fresh_process() -> None:
    code = "import sys; from hwsim.bench.latency_suite import dumps_suite, generate_suite; " \
           "sys.stdout.write(dumps_suite(generate_suite()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout == GOLDEN.read_text(encoding="utf-8")


def test_write_is_sorted_indented_and_round_trips(tmp_path: Path) -> None:
    part = generate_suite(["squeezenet1_1"], ["roofline-reference", "nvdla-small"])
    path = tmp_path / "g.json"
    write_suite(path, part)
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=1) + "\n"
    assert load_suite(path) == part
    assert restrict_suite(load_suite(GOLDEN), ["squeezenet1_1"], ["roofline-reference", "nvdla-small"])[
        "results"] == part["results"]


def test_compare_reports_numeric_and_structural_changes() -> None:
    golden = generate_suite(["squeezenet1_1"], ["roofline-reference"])
    now = json.loads(json.dumps(golden))
    entry = now["results"]["squeezenet1_1"]["roofline-reference"]
    entry["latency_ms"] *= 1.5
    entry["kernels"].pop()
    changes = compare_suites(golden, now)
    by_field = {c.field: c for c in changes}
    lat = by_field["latency_ms"]
    assert (lat.model, lat.device) == ("squeezenet1_1", "roofline-reference")
    assert lat.rel_change == pytest.approx(0.5)
    assert by_field["kernels.length"].rel_change == math.inf
    del now["results"]["squeezenet1_1"]["roofline-reference"]
    assert [c.field for c in compare_suites(golden, now)] == ["<entry>"]


@pytest.mark.parametrize("text, needle", [
    ("{", "invalid JSON"),
    ("[]", "expected a JSON object"),
    ('{"format": "x"}', "format"),
    ('{"format": "hwnas-latency-suite", "version": 1, "models": [], "devices": [], "results": {"m": {"d": {}}}, '
     '"excluded": []}', "missing field"),
])
def test_load_rejects_bad_golden(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HwnasError, match=needle):
        load_suite(path)


def test_cli_flags_an_edited_golden_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(GOLDEN.read_text(encoding="utf-8"))
    old = data["results"]["resnet50"]["eyeriss-v1"]["kernels"][2]["latency_ms"]
    data["results"]["resnet50"]["eyeriss-v1"]["kernels"][2]["latency_ms"] = old * 1.01
    edited = tmp_path / "golden.json"
    write_suite(edited, data)
    argv = ["bench", "latency", "--against", str(edited), "--model", "resnet50", "--device", "eyeriss-v1"]
    assert main(argv) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    fields = out[0].split("\t")
    assert fields[:3] == ["resnet50", "eyeriss-v1", "kernels[2].latency_ms"]
    assert fields[4] == f"now={old!r}" and fields[-1] == "CHANGED"
    # the same edit passes under a tolerance above the 1% change
    assert main([*argv, "--tolerance", "0.02"]) == 0
    assert main([*argv, "--tolerance", "0.005"]) == 1


def test_cli_exact_golden_passes_on_a_subset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "latency", "--model", "squeezenet1_1", "--device", "nvdla-small"]) == 0
    assert capsys.readouterr().out == ""


def test_cli_bad_golden_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "hwnas-latency-suite", "version": 7}', encoding="utf-8")
    assert main(["bench", "latency", "--against", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hwnas: error: ") and "version" in err
    assert main(["bench", "latency", "--against", str(tmp_path / "missing.json")]) == 2
    assert "not found" in capsys.readouterr().err
