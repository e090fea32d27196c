"""The ground package knows nothing above it: importing hwsim loads no module of spaces, calibration or nas,
and the ``hwnas`` command line is assembled from entry-point plugins."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import hwsim
from hwsim.cli import ENTRY_POINT_GROUP, build_parser, command_plugins

ABOVE = ("spaces", "calibration", "nas")
HWSIM_DIR = Path(hwsim.__file__).parent


def _loaded_above(imports: list[str]) -> list[str]:
    code = (f"import importlib, json, sys\nfor m in {imports!r}: importlib.import_module(m)\n"
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {ABOVE!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=HWSIM_DIR.parent)
    return json.loads(out.stdout)


def _is_cli(path: Path) -> bool:
    return path.stem == "cli" or path.stem.startswith("cli_")


def _hwsim_modules(cli: bool) -> list[str]:
    mods = []
    for p in sorted(HWSIM_DIR.rglob("*.py")):
        if _is_cli(p) != cli:
            continue
        rel = p.relative_to(HWSIM_DIR.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        mods.append(".".join(parts))
    return mods


def test_importing_hwsim_loads_nothing_above() -> None:
    assert _loaded_above(["hwsim", "hwsim.workload", "hwsim.devices", "hwsim.systolic"]) == []


def test_every_non_cli_hwsim_module_loads_nothing_above() -> None:
    mods = _hwsim_modules(cli=False)
    assert len(mods) > 20
    assert _loaded_above(mods) == []


def test_no_hwsim_source_imports_above() -> None:
    """Static check, lazy imports inside functions included (CLI modules too: they find plugins by entry point)."""
    bad = []
    for p in sorted(HWSIM_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(), str(p))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            bad += [f"{p.relative_to(HWSIM_DIR)}:{node.lineno} {n}" for n in names if n.split(".")[0] in ABOVE]
        text = p.read_text()
        bad += [f"{p.relative_to(HWSIM_DIR)}: names {pkg}.cli by string" for pkg in ABOVE if f'"{pkg}.cli' in text]
    assert bad == []


def test_cli_is_assembled_from_entry_points() -> None:
    names = [n for n, _ in command_plugins()]
    assert names[0] == "hwsim" and set(names) >= {"hwsim", "spaces", "nas", "calibration"}
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"workload", "simulate", "bench", "space", "profile-space", "search", "calibrate", "measure"} <= set(sub.choices)
    assert ENTRY_POINT_GROUP == "hwnas.commands"
