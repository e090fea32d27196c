"""The ``table`` evaluator: accuracies looked up in a user CSV.

The CSV has a header with an ``arch`` column (the space's arch string, e.g. ``res0-res3-res0-...``) and either
``accuracy`` (a fraction in [0, 1]) or ``accuracy_percent``; an optional ``space`` column restricts a row to
one space (rows without it, or with an empty value, apply to every space). A network with no row is an error
naming the file and the arch string.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nas.evaluators.base import EvalResult, EvalTask, EvaluatorError


def read_accuracy_table(path: str | Path) -> dict[tuple[str, str], float]:
    """``{(space or "", arch string): accuracy fraction}`` from a CSV (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise EvaluatorError(f"accuracy table {str(p)!r} does not exist")
    out: dict[tuple[str, str], float] = {}
    with open(p, newline="") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        if "arch" not in cols or not ({"accuracy", "accuracy_percent"} & set(cols)):
            raise EvaluatorError(f"{p}: header must name 'arch' and 'accuracy' (fraction) or 'accuracy_percent'; "
                                 f"got {cols}")
        pct = "accuracy" not in cols
        for line, row in enumerate(reader, start=2):
            raw = row["accuracy_percent" if pct else "accuracy"]
            try:
                v = float(raw)
            except (TypeError, ValueError):
                raise EvaluatorError(f"{p}:{line}: accuracy {raw!r} is not a number") from None
            v = v / 100.0 if pct else v
            if not (math.isfinite(v) and 0.0 <= v <= 1.0):
                raise EvaluatorError(f"{p}:{line}: accuracy {raw!r} is outside [0, 1]"
                                     + (" (percent column)" if pct else " (use accuracy_percent for percents)"))
            key = ((row.get("space") or "").strip(), (row["arch"] or "").strip())
            if key in out and out[key] != v:
                raise EvaluatorError(f"{p}:{line}: arch {key[1]!r} listed twice with different accuracies")
            out[key] = v
    if not out:
        raise EvaluatorError(f"{p}: no rows")
    return out


@dataclass(frozen=True)
class TableEvaluator:
    """Accuracies from :func:`read_accuracy_table` (the table is read once, when the evaluator is built)."""

    path: str
    table: Mapping[tuple[str, str], float] = field(default_factory=dict, compare=False, repr=False)
    name: str = "table"

    def __post_init__(self) -> None:
        if not self.table:
            object.__setattr__(self, "table", read_accuracy_table(self.path))

    @property
    def needs_parent(self) -> bool:
        return False

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "rows": len(self.table)}

    def evaluate(self, task: EvalTask) -> EvalResult:
        s = task.space.format(task.arch)
        for key in ((task.space.name, s), ("", s)):
            if key in self.table:
                return EvalResult(self.table[key])
        raise EvaluatorError(f"{self.path}: no accuracy for space {task.space.name!r} arch {s!r}")
