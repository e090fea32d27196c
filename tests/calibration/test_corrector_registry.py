"""The corrector registry: every method a file can hold maps to its class; correctors and bbssp import no circle."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from calibration.corrector_core import CORRECTOR_CLASSES, corrector_class, corrector_methods
from calibration.correctors import METHODS, CalibrationError, corrector_from_dict, load_corrector, make_corrector
from calibration.lut import build_lut

ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str) -> str:
    """Run ``code`` in a fresh interpreter with the worktree first on the path; its stdout."""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_bbssp_first_in_a_fresh_interpreter_needs_no_correctors() -> None:
    out = _fresh("import sys, calibration.bbssp\n"
                 "assert 'calibration.correctors' not in sys.modules, 'bbssp imported correctors'\n"
                 "from calibration.corrector_core import corrector_class, corrector_methods\n"
                 "print(','.join(m for m in corrector_methods() if corrector_class(m).method == m))")
    assert out.split(",") == list(CORRECTOR_CLASSES)


def test_correctors_first_in_a_fresh_interpreter_needs_no_bbssp() -> None:
    out = _fresh("import sys, calibration.correctors\n"
                 "print('calibration.bbssp' in sys.modules)")
    assert out == "False"


def _imported_modules(path: Path) -> set[str]:
    """Every module an import statement of ``path`` names, at any depth (lazy imports included)."""
    mods: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            mods.add(node.module)
        elif isinstance(node, ast.Import):
            mods.update(a.name for a in node.names)
    return mods


def test_no_import_between_correctors_and_bbssp() -> None:
    assert "calibration.bbssp" not in _imported_modules(ROOT / "calibration" / "correctors.py")
    assert "calibration.correctors" not in _imported_modules(ROOT / "calibration" / "bbssp.py")
    core = _imported_modules(ROOT / "calibration" / "corrector_core.py")
    assert not core & {"calibration.bbssp", "calibration.correctors"}


def test_registry_lists_every_method() -> None:
    assert set(corrector_methods()) == set(METHODS) | {"bbssp"}
    for m in corrector_methods():
        cls = corrector_class(m)
        assert cls.method == m and callable(cls.from_dict) and callable(getattr(cls, "to_dict"))


def test_unknown_and_mismatched_methods_are_one_line_errors(nets, fake_device, tmp_path: Path) -> None:
    lut = build_lut(fake_device, nets)
    d = make_corrector("affine", lut).to_dict()
    for method, needle in [("nope", "c.json: unknown corrector method 'nope' (field 'method'); expected one of "
                                    "affine, kernel-type, residual, bbssp"),
                           ([1], "unknown corrector method [1]"), (None, "unknown corrector method None")]:
        with pytest.raises(CalibrationError) as e:
            corrector_from_dict({**d, "method": method}, "c.json")
        assert needle in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(CalibrationError, match="c.json: field 'method' is 'affine', expected 'kernel-type'"):
        corrector_class("kernel-type").from_dict(d, "c.json")
    with pytest.raises(CalibrationError, match="c.json: unknown field 'colour'"):
        corrector_from_dict({**d, "colour": 1}, "c.json")
    with pytest.raises(CalibrationError, match=r"c.json: params: field 'scale' must be float, got 'x'"):
        corrector_from_dict({**make_corrector("affine", lut).fit_workloads(nets, [1.0] * len(nets)).to_dict(),
                             "params": {"scale": "x", "offset_ms": 0, "n_used": 1, "n_anomalies": 0}}, "c.json")
    p = tmp_path / "bad.json"
    p.write_text("{")
    with pytest.raises(CalibrationError, match="bad.json: invalid JSON at line 1"):
        load_corrector(p)


@pytest.mark.parametrize("method", METHODS)
def test_saved_files_are_byte_stable(method: str, nets, fake_device, tmp_path: Path) -> None:
    """save -> load -> save writes the same bytes (the reader keeps every field the writer wrote)."""
    lut = build_lut(fake_device, nets)
    y = [fake_device.run(n).latency_ms * 1.2 for n in nets]
    for cor in (make_corrector(method, lut), make_corrector(method, lut).fit_workloads(nets, y)):
        cor.save(tmp_path / "a.json")
        load_corrector(tmp_path / "a.json").save(tmp_path / "b.json")
        assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
        assert json.loads((tmp_path / "a.json").read_text())["method"] == method
