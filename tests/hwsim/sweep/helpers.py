"""Test helpers: a small picklable grid hardware space built from device TOML tables (base preset + overrides)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from hwsim.devices.base import AcceleratorDevice
from hwsim.devices.config import device_from_tables


class GridSpace:
    """Every combination of ``params`` (name -> values) over the preset ``base``; ``mechanisms`` fixed."""

    def __init__(self, base: str, params: Mapping[str, Sequence[Any]], mechanisms: Mapping[str, Any] | None = None):
        self.base = base
        self.params = {k: tuple(v) for k, v in params.items()}
        self.mechanisms = dict(mechanisms or {})
        self._points = [dict(zip(self.params, combo)) for combo in itertools.product(*self.params.values())]

    @property
    def size(self) -> int:
        return len(self._points)

    def config(self, i: int) -> dict[str, Any]:
        return dict(self._points[i])

    def device(self, point: Mapping[str, Any]) -> AcceleratorDevice:
        tables = {"device": {"base": self.base, "name": f"{self.base}-grid"}, "hardware": dict(point),
                  "mechanisms": dict(self.mechanisms)}
        return device_from_tables(tables, f"grid {self.base}")
