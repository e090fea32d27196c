"""Library code of nas.search does not load the CLI (issue 13: CLI code lives in modules named cli)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_search_library_does_not_import_cli() -> None:
    code = ("import sys, nas.search.run, nas.search.evolution, nas.latency_models, nas.profiling, "
            "nas.evaluators.table; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('nas', 'hwsim', 'calibration', 'spaces') and 'cli' in m.split('.')[-1]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "[]"
    for p in (ROOT / "nas" / "search").glob("*.py"):
        assert "argparse" not in p.read_text(), p
