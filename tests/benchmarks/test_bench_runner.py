"""``hwnas bench GROUP --out DIR``: the runner, its report, result files and errors."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from hwsim.bench import runner
from hwsim.bench.results import Headline, load_result, write_result
from hwsim.bench.runner import GROUPS, Benchmark, run_groups
from hwsim.cli import main
from hwsim.errors import HwnasError
from hwsim.plots import is_png


def _figures(report: Path) -> list[Path]:
    text = report.read_text()
    links = [line.split("](", 1)[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    return [report.parent / link for link in links]


def test_bench_dpu_report(tmp_path: Path, shared_data: Path, capsys) -> None:
    out = tmp_path / "r"
    assert main(["bench", "dpu", "--out", str(out), "--quiet"]) == 0
    summary = capsys.readouterr().out
    assert "dpu_vs_board" in summary and "VGG-16 conv nodes within +-10%" in summary
    report = out / "report.md"
    text = report.read_text()
    assert "## Summary" in text and "`python benchmarks/dpu_vs_board.py --out " in text and "```text" in text
    figs = _figures(report)
    assert len(figs) == 3 and all(is_png(f) for f in figs)
    result = load_result(out / "dpu" / "dpu_vs_board.json")
    assert {h["metric"] for h in result["headline"]} >= {"VGG-16 conv nodes within +-10%"}
    runs = json.loads((out / "report.json").read_text())["runs"]
    assert [r["benchmark"] for r in runs] == ["dpu_vs_board"] and runs[0]["rc"] == 0


def test_bench_latency_quick_subset(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    rc = main(["bench", "latency", "--out", str(out), "--quick", "--quiet", "--model", "squeezenet1_1",
               "--device", "roofline-reference"])
    assert rc in (0, 1)  # 1 only while a device-model change awaits a golden regeneration
    text = (out / "report.md").read_text()
    assert "latency_suite.py --out" in text and "--models squeezenet1_1" in text
    assert "fields beyond tolerance vs golden" in text
    figs = _figures(out / "report.md")
    names = {f.name for f in figs}
    assert {"latency_suite_latency.png", "latency_suite_breakdown.png", "latency_suite_utilisation.png",
            "latency_suite_roofline.png"} <= names
    assert all(is_png(f) for f in figs)
    doc = load_result(out / "latency" / "latency_suite.json")
    assert doc["results"]["models"] == ["squeezenet1_1"] and doc["results"]["devices"] == ["roofline-reference"]


def test_missing_benchmarks_folder_is_one_line_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(runner, "benchmarks_dir", lambda: tmp_path / "nowhere" / "benchmarks")
    assert main(["bench", "all", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hwnas: error: ") and "benchmarks folder not found" in err
    assert not (tmp_path / "r").exists()
    with pytest.raises(SystemExit) as e:  # --out is required (argparse's one-line usage error)
        main(["bench", "systolic"])
    assert e.value.code == 2
    assert "--out" in capsys.readouterr().err


def _fake_scripts(tmp_path: Path) -> Path:
    d = tmp_path / "benchmarks"
    d.mkdir()
    (d / "good.py").write_text(
        "import sys\nfrom pathlib import Path\nfrom hwsim.bench.results import Headline, write_result\n"
        "from hwsim import plots\n"
        "out = Path(sys.argv[sys.argv.index('--out') + 1])\n"
        "print('good output', sys.argv[3:])\n"
        "print('progress 1/1', file=sys.stderr)\n"
        "f = plots.bar_chart(out / 'good_bars.png', ['a'], [1.0], 't', 'ms')\n"
        "write_result(out, 'good', [Headline('speed', 12.5, '>=', 10.0, 'x'), Headline('info', 3.0)], {}, [f])\n")
    (d / "bad.py").write_text("import sys\nprint('partial')\nprint('boom: it failed', file=sys.stderr)\n"
                              "sys.exit(3)\n")
    return d


def test_runner_report_with_a_failing_script(tmp_path: Path, monkeypatch, capsys) -> None:
    bench_dir = _fake_scripts(tmp_path)
    monkeypatch.setitem(GROUPS, "dpu", (Benchmark("good", ("--full",), ("--small",)), Benchmark("bad")))
    runs = run_groups(["dpu"], tmp_path / "r", quick=True, quiet=True, bench_dir=bench_dir)
    assert [(r.benchmark, r.rc) for r in runs] == [("good", 0), ("bad", 3)]
    assert "['--full', '--small']" in runs[0].stdout  # quick args appended after the full-run args
    assert runs[0].figures == ["dpu/good_bars.png"] and runs[1].figures == []
    text = (tmp_path / "r" / "report.md").read_text()
    assert "| good | speed | 12.5x | >= 10x | yes |" in text
    assert "| good | info | 3 | - | - |" in text
    assert "| bad | exit status | 3 | 0 | **no** |" in text
    assert "boom: it failed" in text and "1 failed" in text
    assert (tmp_path / "r" / "dpu" / "bad.out.txt").read_text() == "partial\n"
    monkeypatch.setattr(runner, "benchmarks_dir", lambda: bench_dir)
    assert main(["bench", "dpu", "--out", str(tmp_path / "cli"), "--quiet"]) == 1  # a script failed


def test_runner_streams_stderr_unless_quiet(tmp_path: Path, monkeypatch, capfd) -> None:
    bench_dir = _fake_scripts(tmp_path)
    monkeypatch.setitem(GROUPS, "dpu", (Benchmark("good"),))
    run_groups(["dpu"], tmp_path / "r", bench_dir=bench_dir)
    assert "progress 1/1" in capfd.readouterr().err
    run_groups(["dpu"], tmp_path / "r", quiet=True, bench_dir=bench_dir)
    assert "progress 1/1" not in capfd.readouterr().err


def test_report_cuts_long_outputs() -> None:
    run = runner.BenchRun("g", "b", ["python", "b.py"], 0, 1.0, "\n".join(f"line {i}" for i in range(500)), "")
    text = runner.render_report([run], 1.0, False)
    assert "line 0\n" in text and "line 499" in text and "line 250\n" not in text
    assert "lines cut (full output: g/b.out.txt)" in text


def test_headline_targets_and_result_round_trip(tmp_path: Path) -> None:
    assert Headline("a", 0.95, ">=", 0.9).met is True
    assert Headline("a", 5.0, "==", 0.0).met is False
    assert Headline("a", 1.0).met is None and Headline("a", math.nan, "<=", 1.0).met is None
    with pytest.raises(HwnasError):
        Headline("a", 1.0, ">=")
    with pytest.raises(HwnasError):
        Headline("a", 1.0, "~", 2.0)
    import numpy as np

    path = write_result(tmp_path, "x", [Headline("a", 2.0, "<=", 3.0, "%")], {"arr": np.arange(3), "nan": math.nan},
                        [tmp_path / "x_fig.png"])
    doc = load_result(path)
    assert doc["headline"] == [{"metric": "a", "value": 2.0, "unit": "%", "target": "<= 3%", "met": True}]
    assert doc["results"] == {"arr": [0, 1, 2], "nan": None} and doc["figures"] == ["x_fig.png"]
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(HwnasError, match="format"):
        load_result(tmp_path / "bad.json")


def test_every_group_names_existing_scripts() -> None:
    for benches in GROUPS.values():
        for b in benches:
            script = runner.benchmarks_dir() / b.script
            assert script.is_file(), script
            assert "--out" in script.read_text(), f"{script.name} has no --out option"
    assert runner.resolve_groups("all") == tuple(GROUPS)
    with pytest.raises(HwnasError):
        runner.resolve_groups("nope")
    assert sys.executable  # scripts run with this interpreter
