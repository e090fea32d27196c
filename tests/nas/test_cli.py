"""``hwnas profile-space``: end to end, kill-and-resume equality, errors, Ray executor equality."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwsim.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _args(fams: tuple[str, str], out: Path, *extra: str) -> list[str]:
    return ["profile-space", "--families", ",".join(fams), "--out", str(out), "--quiet", "--workers", "1",
            "--proxies", "naswot", "--batch-size", "8", "--k", "3", "--theta", "0.5", "--sigma", "1", "--lam", "0.5",
            "--no-plots", *extra]


def test_cli_profile_space(tmp_path: Path, tiny_families: tuple[str, str], capsys: pytest.CaptureFixture) -> None:
    assert main(_args(tiny_families, tmp_path / "p")) == 0
    out = capsys.readouterr().out
    s = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert f"winner {s['winner']}" in out
    assert {"winner", "candidates_per_layer", "tuned_space_size", "ssbn"} <= set(s)


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["profile-space", "--families", "nope", "--out", str(tmp_path / "x")]) == 2
    assert "unknown family 'nope'" in capsys.readouterr().err
    assert main(["profile-space", "--evaluator", "train", "--dataset", "cifar10", "--data-dir",
                 str(tmp_path / "missing"), "--families", "res", "--out", str(tmp_path / "y"), "--quiet",
                 "--workers", "1"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["profile-space", "--evaluator", "table", "--out", str(tmp_path / "z")]) == 2
    assert "--table" in capsys.readouterr().err


def test_kill_and_resume_equals_uninterrupted(tmp_path: Path, tiny_families: tuple[str, str]) -> None:
    extra = ("--evaluator", "train", "--dataset", "digits", "--max-train", "256", "--max-test", "64",
             "--train-budget", "40steps", "--finetune-budget", "25steps", "--batch-size", "32")
    cmd = [sys.executable, "-m", "hwsim.cli", *_args(tiny_families, tmp_path / "killed", *extra)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records = tmp_path / "killed" / "ssbn"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and len(list(records.rglob("*.json"))) < 3:
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed; make the SSBNs slower"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = len(list(records.rglob("*.json")))
    assert 3 <= n_before < 10 and not (tmp_path / "killed" / "summary.json").exists()
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    assert main(_args(tiny_families, tmp_path / "straight", *extra)) == 0
    a = json.loads((tmp_path / "killed" / "summary.json").read_text())
    b = json.loads((tmp_path / "straight" / "summary.json").read_text())
    assert a == b
    for f in sorted((tmp_path / "straight" / "ssbn").rglob("*.json")):
        assert f.read_text() == (tmp_path / "killed" / f.relative_to(tmp_path / "straight")).read_text()


def test_ray_executor_equals_local(tmp_path: Path, tiny_families: tuple[str, str]) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'hwnas[ray]')")
    from nas.executors import LocalExecutor, RayExecutor
    from nas.profiling import ProfileConfig, profile_spaces
    from nas.cost import CostParams
    from nas.evaluators.datasets import DatasetSpec
    from nas.evaluators.zero_cost import ZeroCostEvaluator

    ev = ZeroCostEvaluator(DatasetSpec("synthetic", 8, num_samples=64), ("naswot", "grad_norm"), batch_size=8)
    cfg = ProfileConfig(tiny_families[:1], "dpu-b4096-zcu102", ev, CostParams(0.5, 1.0, 0.5, 3), seed=4)
    profile_spaces(cfg, tmp_path / "local", LocalExecutor(1), plots=False)
    profile_spaces(cfg, tmp_path / "ray", RayExecutor(num_cpus=2), plots=False)
    assert len(list((tmp_path / "ray" / "ssbn").rglob("*.json"))) == 5
    a = (tmp_path / "local" / "summary.json").read_text()
    assert a == (tmp_path / "ray" / "summary.json").read_text()
