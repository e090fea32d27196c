"""The machine-readable result a benchmark script writes with ``--out DIR``: ``DIR/<name>.json``.

Schema (``format: hwnas-bench-result``, version 1)::

    {"format": "hwnas-bench-result", "version": 1, "benchmark": "<name>",
     "headline": [{"metric": str, "value": number|null, "unit": str, "target": str|null, "met": bool|null}, ...],
     "figures": ["<name>_*.png", ...],            # file names inside DIR
     "results": {...}}                             # the script's own numbers

``hwnas bench`` reads the headline rows into the summary table of ``report.md`` and links the figures.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwsim.errors import HwnasError
from hwsim.formats import Format

RESULT_FORMAT = "hwnas-bench-result"
RESULT_VERSION = 1
RESULT = Format(RESULT_FORMAT, RESULT_VERSION, "benchmark result", HwnasError)

_OPS: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le, ">": operator.gt,
                                                   "<": operator.lt, "==": operator.eq}


@dataclass(frozen=True)
class Headline:
    """One headline number of a benchmark and its target: ``value op target`` (e.g. ``>= 0.9``), or no target
    (``op`` and ``target`` None: reported only). ``unit`` is shown after the numbers (``%``, ``x``, ``ms``)."""

    metric: str
    value: float | None
    op: str | None = None
    target: float | None = None
    unit: str = ""

    def __post_init__(self) -> None:
        if (self.op is None) != (self.target is None):
            raise HwnasError(f"headline {self.metric!r}: give both op and target, or neither")
        if self.op is not None and self.op not in _OPS:
            raise HwnasError(f"headline {self.metric!r}: op must be one of {', '.join(_OPS)}, got {self.op!r}")

    @property
    def met(self) -> bool | None:
        """Whether the target is met (None without a target or a value)."""
        if self.op is None or self.target is None or self.value is None or not math.isfinite(self.value):
            return None
        return bool(_OPS[self.op](self.value, self.target))

    @property
    def target_text(self) -> str | None:
        return None if self.op is None else f"{self.op} {self.target:g}{self.unit}"

    def to_dict(self) -> dict[str, Any]:
        v = self.value if self.value is None or math.isfinite(self.value) else None
        return {"metric": self.metric, "value": v, "unit": self.unit, "target": self.target_text, "met": self.met}


@dataclass(frozen=True)
class _HeadlineRow:
    """A headline row as the result file holds it (see :meth:`Headline.to_dict`)."""

    metric: str
    value: float | None
    unit: str
    target: str | None
    met: bool | None


@dataclass(frozen=True)
class _ResultDoc:
    """The body of a ``hwnas-bench-result`` file."""

    benchmark: str
    headline: tuple[_HeadlineRow, ...]
    figures: tuple[str, ...]
    results: Mapping[str, Any]


def write_result(out_dir: str | Path, name: str, headline: Sequence[Headline], results: Mapping[str, Any],
                 figures: Sequence[str | Path] = ()) -> Path:
    """Write ``out_dir/<name>.json`` atomically (non-finite floats become null); returns its path."""
    out = Path(out_dir)
    doc = {"benchmark": name, "headline": [h.to_dict() for h in headline], "figures": [Path(f).name for f in figures],
           "results": _plain(results)}
    path = out / f"{name}.json"
    RESULT.write(path, doc, indent=1, allow_nan=False)
    return path


def work_dir(explicit: str | Path | None, out: Path | None, name: str, tmp_prefix: str) -> Path:
    """Where a benchmark keeps its resumable work: ``explicit`` if given, else ``out/<name>`` when the benchmark
    writes results into ``out``, else a new temporary folder."""
    import tempfile

    if explicit:
        return Path(explicit)
    if out is not None:
        return Path(out) / name
    return Path(tempfile.mkdtemp(prefix=tmp_prefix))


def load_result(path: str | Path) -> dict[str, Any]:
    """Read a result file; :class:`HwnasError` (one line) when it is not one."""
    doc = RESULT.load(path)
    RESULT.build(_ResultDoc, doc, str(path))
    return dict(doc)


def _plain(v: Any) -> Any:
    """JSON-ready copy: tuples -> lists, numpy scalars/arrays -> Python, non-finite floats -> None."""
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "tolist"):  # numpy scalar or array
        return _plain(v.tolist())
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


__all__ = ["RESULT_FORMAT", "RESULT_VERSION", "Headline", "load_result", "write_result"]
