"""The ``table`` evaluator: accuracies looked up in a CSV, one column at a time.

Any CSV with a header works. Rows are keyed by the arch string (column ``arch`` or ``arch_str``, e.g.
``res0-res3-...`` or the NAS-Bench-201 ``|op~0|+|...|`` string) and, where present, by the NAS-Bench-201 index
(column ``nb201_idx``); an optional ``space`` column restricts a row to one space (rows without it, or with an
empty value, apply to every space). A table with only ``nb201_idx`` is looked up by index
(:meth:`ColumnTable.value_of_index`); :class:`TableEvaluator` needs the arch string column.

The value column is chosen with ``column`` (e.g. ``cifar100_test_acc`` of the shared
``accuracy/nb201_accuracy.csv``). Its unit is explicit (``scale``):

* ``"fraction"``: values in [0, 1]; ``"percent"``: values in [0, 100], divided by 100;
* ``"auto"`` (default): a column named ``accuracy`` is a fraction, ``accuracy_percent`` or a name ending in
  ``_percent`` is percent; any other column is percent when its largest value exceeds 1, else a fraction.

With no ``column`` the legacy form applies: ``accuracy`` (fraction) or ``accuracy_percent``. A missing column, a
non-numeric or out-of-range value (``file:line``), an arch listed twice with different values, or an arch with no
row is a one-line :class:`EvaluatorError` naming the file.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nas.evaluators.base import EvalResult, EvalTask, EvaluatorError

ARCH_COLUMNS = ("arch", "arch_str")
INDEX_COLUMN = "nb201_idx"
SCALES = ("auto", "fraction", "percent")


@dataclass(frozen=True)
class ColumnTable:
    """One value column of a CSV keyed by arch string and/or NB201 index.

    ``by_arch[(space or "", arch string)]`` and ``by_index[nb201 index]`` hold the raw values (the file's unit);
    ``arch_of_index`` maps an index to its arch string where the table has both."""

    path: str
    column: str
    by_arch: Mapping[tuple[str, str], float]
    by_index: Mapping[int, float]
    arch_of_index: Mapping[int, str]
    lines: Mapping[tuple[str, str], int] = field(default_factory=dict, compare=False, repr=False)

    def value(self, arch: str, space: str = "") -> float | None:
        """The raw value of ``arch`` (a row of ``space`` first, then a row for every space); None when absent."""
        for key in ((space, arch), ("", arch)):
            if key in self.by_arch:
                return self.by_arch[key]
        return None

    def value_of_index(self, index: int) -> float:
        try:
            return self.by_index[int(index)]
        except KeyError:
            raise EvaluatorError(f"{self.path}: no row with {INDEX_COLUMN} {index!r}") from None

    @property
    def max_value(self) -> float:
        vals = list(self.by_arch.values()) or list(self.by_index.values())
        return max(vals)


def read_column_table(path: str | Path, column: str) -> ColumnTable:
    """Read ``column`` of a CSV keyed by ``arch``/``arch_str`` and/or ``nb201_idx`` (values as in the file)."""
    p = Path(path)
    if not p.is_file():
        raise EvaluatorError(f"table {str(p)!r} does not exist")
    by_arch: dict[tuple[str, str], float] = {}
    by_index: dict[int, float] = {}
    arch_of_index: dict[int, str] = {}
    lines: dict[tuple[str, str], int] = {}
    with open(p, newline="") as fh:
        reader = csv.DictReader(fh)
        cols = [c.strip() for c in (reader.fieldnames or [])]
        reader.fieldnames = cols
        if column not in cols:
            raise EvaluatorError(f"{p}: no column {column!r}; columns: {', '.join(cols)}")
        arch_col = next((c for c in ARCH_COLUMNS if c in cols), None)
        if arch_col is None and INDEX_COLUMN not in cols:
            raise EvaluatorError(f"{p}: header needs an arch column ({' or '.join(ARCH_COLUMNS)}) or {INDEX_COLUMN!r}; "
                                 f"got {', '.join(cols)}")
        for line, row in enumerate(reader, start=2):
            raw = row.get(column)
            if raw is None or not raw.strip():
                continue  # an empty cell: not measured
            try:
                v = float(raw)
            except ValueError:
                raise EvaluatorError(f"{p}:{line}: column {column!r}: {raw!r} is not a number") from None
            if not math.isfinite(v):
                raise EvaluatorError(f"{p}:{line}: column {column!r}: {raw!r} is not finite")
            arch = (row.get(arch_col) or "").strip() if arch_col else ""
            if arch:
                key = ((row.get("space") or "").strip(), arch)
                if key in by_arch and by_arch[key] != v:
                    raise EvaluatorError(f"{p}:{line}: arch {arch!r} listed twice with different values of {column!r}")
                by_arch[key] = v
                lines[key] = line
            if INDEX_COLUMN in cols and (row.get(INDEX_COLUMN) or "").strip():
                try:
                    idx = int(row[INDEX_COLUMN])
                except ValueError:
                    raise EvaluatorError(f"{p}:{line}: {INDEX_COLUMN} {row[INDEX_COLUMN]!r} is not an integer") from None
                by_index[idx] = v
                if arch:
                    arch_of_index[idx] = arch
    if not by_arch and not by_index:
        raise EvaluatorError(f"{p}: no rows with a value in column {column!r}")
    return ColumnTable(str(p), column, by_arch, by_index, arch_of_index, lines)


def resolve_scale(table: ColumnTable, scale: str) -> float:
    """The divisor turning the column's values into fractions (1 or 100); see the module docstring."""
    if scale not in SCALES:
        raise EvaluatorError(f"table scale must be one of {', '.join(SCALES)}, got {scale!r}")
    if scale == "auto":
        if table.column == "accuracy":
            scale = "fraction"
        elif table.column.endswith("_percent"):
            scale = "percent"
        else:
            scale = "percent" if table.max_value > 1.0 else "fraction"
    return 100.0 if scale == "percent" else 1.0


def read_accuracy_table(path: str | Path, column: str | None = None,
                        scale: str = "auto") -> dict[tuple[str, str], float]:
    """``{(space or "", arch string): accuracy fraction}`` from a CSV (see the module docstring)."""
    p = Path(path)
    if column is None:
        if not p.is_file():
            raise EvaluatorError(f"accuracy table {str(p)!r} does not exist")
        with open(p, newline="") as fh:
            cols = [c.strip() for c in (next(csv.reader(fh), None) or [])]
        if not any(c in cols for c in ARCH_COLUMNS) or not ({"accuracy", "accuracy_percent"} & set(cols)):
            raise EvaluatorError(f"{p}: header must name 'arch' and 'accuracy' (fraction) or 'accuracy_percent' "
                                 f"(or give a column); got {cols}")
        column = "accuracy" if "accuracy" in cols else "accuracy_percent"
    t = read_column_table(p, column)
    div = resolve_scale(t, scale)
    out: dict[tuple[str, str], float] = {}
    for key, v in t.by_arch.items():
        f = v / div
        if not 0.0 <= f <= 1.0:
            unit = "percent" if div == 100.0 else "fraction"
            raise EvaluatorError(f"{p}:{t.lines.get(key, '?')}: column {column!r}: arch {key[1]!r} has {v!r}, outside "
                                 f"the {unit} range"
                                 + ("" if div == 100.0 else " (use a percent column or scale='percent')"))
        out[key] = f
    if not out:
        raise EvaluatorError(f"{p}: no rows keyed by an arch string ({' or '.join(ARCH_COLUMNS)}) in column {column!r}")
    return out


@dataclass(frozen=True)
class TableEvaluator:
    """Accuracies (fractions) from column ``column`` of the CSV at ``path`` (read once, when built).

    ``column=None``: the legacy ``accuracy`` / ``accuracy_percent`` columns; ``scale``: ``auto``, ``fraction`` or
    ``percent`` (module docstring). ``evaluate`` raises :class:`EvaluatorError` for an arch with no row.
    ``accuracy_of(space, arch)`` is the same lookup without an :class:`EvalTask`."""

    path: str
    column: str | None = None
    scale: str = "auto"
    table: Mapping[tuple[str, str], float] = field(default_factory=dict, compare=False, repr=False)
    name: str = "table"

    def __post_init__(self) -> None:
        if not self.table:
            object.__setattr__(self, "table", read_accuracy_table(self.path, self.column, self.scale))

    @property
    def needs_parent(self) -> bool:
        return False

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "column": self.column, "scale": self.scale,
                "rows": len(self.table)}

    def accuracy_of(self, space: Any, arch: Mapping[str, str]) -> float:
        """Accuracy (fraction) of ``arch`` of ``space``."""
        s = space.format(arch)
        for key in ((space.name, s), ("", s)):
            if key in self.table:
                return self.table[key]
        where = f"column {self.column!r}" if self.column else "the table"
        raise EvaluatorError(f"{self.path}: no accuracy in {where} for arch {s!r} (space {space.name!r})")

    def evaluate(self, task: EvalTask) -> EvalResult:
        return EvalResult(self.accuracy_of(task.space, task.arch))
