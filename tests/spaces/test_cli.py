"""hwnas space show / sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwsim.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("name,size,ssbn", [("bbssp-res", 9 ** 12, 97), ("bbssp-mobile", 9 ** 12, 97),
                                            ("bbssp-vgg", 13 ** 12, 145), ("bbssp-vgg-cifar", 13 ** 10, 121),
                                            ("fbnet", 9 ** 22, None), ("nb201", 15625, None)])
def test_show_json(capsys: pytest.CaptureFixture[str], name: str, size: int, ssbn: int | None) -> None:
    rc, out, _ = _run(capsys, "space", "show", name, "--format", "json")
    d = json.loads(out)
    assert rc == 0 and d["name"] == name and d["size"] == size and isinstance(d["size"], int)
    assert d.get("num_ssbn") == ssbn
    assert len(d["layers"]) == d["num_layers"]


def test_show_text(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "space", "show", "bbssp-res")
    assert rc == 0
    assert "layer11" in out and "res8" in out and f"size {9 ** 12}" in out and "SSBNs 97" in out


def test_sample_is_seeded(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "space", "sample", "nb201", "-n", "5", "--seed", "0")
    lines = out.splitlines()
    assert rc == 0 and len(lines) == 5 and all(s.startswith("|") and s.endswith("|") for s in lines)
    assert _run(capsys, "space", "sample", "nb201", "-n", "5", "--seed", "0")[1] == out
    assert _run(capsys, "space", "sample", "nb201", "-n", "5", "--seed", "1")[1] != out
    rc, out, _ = _run(capsys, "space", "sample", "fbnet", "-n", "2", "--format", "json")
    d = json.loads(out)
    assert len(d) == 2 and len(d[0]["arch"]) == 22 and d[0]["string"].count("-") == 21


def test_toml_space(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text('name = "mine"\nbackbone = "bbssp-cifar"\nblocks = ["res0", "vgg5"]\ntypical = "res0"\n')
    rc, out, _ = _run(capsys, "space", "show", str(p), "--format", "json")
    assert rc == 0 and json.loads(out)["size"] == 2 ** 10 and json.loads(out)["num_ssbn"] == 11


def test_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc, _, err = _run(capsys, "space", "show", "nasbench101")
    assert rc == 2 and err.startswith("hwnas: error: unknown space 'nasbench101'") and err.count("\n") == 1
    p = tmp_path / "bad.toml"
    p.write_text('name = "x"\nbackbone = "bbssp"\nblocks = ["res42"]\n')
    rc, _, err = _run(capsys, "space", "sample", str(p))
    assert rc == 2 and "unknown block 'res42'" in err and err.count("\n") == 1
    rc, _, err = _run(capsys, "space", "sample", "nb201", "-n", "-1")
    assert rc == 2 and "-n must be >= 0" in err
