"""``--plot FILE.png`` on the commands that print numbers, ``--quiet`` and ``-v`` logging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwsim.cli import main
from hwsim.plots import is_png


def test_workload_show_plot(tmp_path: Path, capsys) -> None:
    out = tmp_path / "w.png"
    assert main(["workload", "show", "squeezenet1_1", "--plot", str(out)]) == 0
    assert "squeezenet1_1" in capsys.readouterr().out and is_png(out)


def test_simulate_systolic_plot(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.png"
    assert main(["simulate", "--device", "systolic", "--preset", "scalesim_32x32", "--model", "squeezenet1_1",
                 "--format", "json", "--plot", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["total_cycles"] > 0
    assert is_png(out)


def test_simulate_device_plot(tmp_path: Path, capsys) -> None:
    out = tmp_path / "d.png"
    assert main(["simulate", "--device", "eyeriss-v1", "--model", "squeezenet1_1", "--plot", str(out)]) == 0
    assert is_png(out)


def test_measure_plot_needs_kernels(tmp_path: Path, capsys) -> None:
    rc = main(["measure", "--model", "squeezenet1_1", "--out", str(tmp_path / "m.csv"), "--plot",
               str(tmp_path / "m.png")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--kernels" in err
    assert not (tmp_path / "m.csv").exists()


def test_measure_plot_per_layer_times(tmp_path: Path, capsys) -> None:
    pytest.importorskip("torch")
    arch = "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
    out = tmp_path / "m.png"
    assert main(["measure", "--space", "nb201", "--arch", arch, "--input-size", "8", "--out", str(tmp_path / "m.csv"),
                 "--warmup", "1", "--repeats", "2", "--kernels", str(tmp_path / "k.csv"), "--plot", str(out),
                 "--quiet"]) == 0
    assert is_png(out)
    assert "timing layers" not in capsys.readouterr().err  # --quiet: no bar


def test_bench_latency_plot_and_quiet(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pair.png"
    argv = ["bench", "latency", "--model", "squeezenet1_1", "--device", "roofline-reference", "--quiet"]
    rc = main([*argv, "--plot", str(out)])
    err = capsys.readouterr().err
    assert is_png(out) and "latency suite" not in err and "1 entries compared" in err
    assert rc in (0, 1)  # 1 while another change to the device models awaits a golden regeneration
    out2 = tmp_path / "two.png"
    main(["bench", "latency", "--model", "squeezenet1_1", "--device", "roofline-reference", "--device", "nvdla-small",
          "--quiet", "--plot", str(out2)])
    assert is_png(out2)


def test_bench_latency_plot_of_changes(tmp_path: Path, capsys) -> None:
    from hwsim.bench.latency_suite import generate_suite, write_suite

    suite = generate_suite(["squeezenet1_1"], ["roofline-reference"])
    suite["results"]["squeezenet1_1"]["roofline-reference"]["latency_ms"] *= 1.5
    golden = tmp_path / "g.json"
    write_suite(golden, suite)
    out = tmp_path / "c.png"
    assert main(["bench", "latency", "--against", str(golden), "--model", "squeezenet1_1", "--device",
                 "roofline-reference", "--quiet", "--plot", str(out)]) == 1
    assert is_png(out)
    assert main(["bench", "latency", "--quick"]) == 2  # --quick belongs to the report (--out)
    assert "--quick applies with --out" in capsys.readouterr().err


def test_verbose_logs_to_stderr(capsys) -> None:
    assert main(["-vv", "bench", "latency", "--model", "squeezenet1_1", "--device", "roofline-reference",
                 "--quiet"]) in (0, 1)
    err = capsys.readouterr().err
    assert "hwnas: DEBUG: hwsim.bench.latency_suite: squeezenet1_1 on roofline-reference" in err
    assert main(["bench", "latency", "--model", "squeezenet1_1", "--device", "roofline-reference",
                 "--quiet"]) in (0, 1)
    assert "DEBUG" not in capsys.readouterr().err  # back to warnings only without -v
