"""A small TOML writer for device tables: strings, integers, finite floats, booleans, lists of those, and
nested tables (written as ``[a.b]`` sections). ``tomllib.loads(dumps(t)) == t`` for such tables (tested)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from hwsim.errors import HwnasError

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _value(v: Any, where: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise HwnasError(f"{where}: TOML has no value for {v!r}")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x, where) for x in v) + "]"
    raise HwnasError(f"{where}: cannot write {type(v).__name__} value {v!r} to TOML")


def dumps(tables: Mapping[str, Any]) -> str:
    """TOML text of ``{table: {key: value or sub-table}}`` in the given key order."""
    lines: list[str] = []

    def section(path: list[str], table: Mapping[str, Any]) -> None:
        subs = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
        if path:
            lines.append(f"[{'.'.join(_key(p) for p in path)}]")
        for k, v in table.items():
            if not isinstance(v, Mapping):
                lines.append(f"{_key(k)} = {_value(v, '.'.join([*path, k]))}")
        if path:
            lines.append("")
        for k, v in subs:
            section([*path, k], v)

    top = {k: v for k, v in tables.items() if not isinstance(v, Mapping)}
    if top:
        raise HwnasError(f"top-level TOML keys must be tables, got {sorted(top)}")
    section([], tables)
    return "\n".join(lines).rstrip("\n") + "\n"


__all__ = ["dumps"]
