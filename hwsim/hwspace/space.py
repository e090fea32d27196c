"""Hardware design spaces as data: a device template, the values to try per parameter, fixed values, limits.

A space is read from TOML (format in docs/hwspace.md; the built-ins are such files under ``builtin/``)::

    [space]
    name = "systolic"
    template = "systolic"            # a device template kind (hwsim.devices.params.template_kinds)
    base = "systolic-tpu-like"       # optional: a device preset the points start from
    description = "..."

    [params]                          # tuned parameters: key -> the values to try, in order
    array_rows = [8, 16, 32]
    dataflow = ["os", "ws", "is"]
    silicon.word_bits = [8, 16]       # "silicon." / "mechanisms." keys go to those device tables

    [fixed]                           # the same keys, one value each
    preset = "scalesim_32x32"

    [limits]                          # optional: area_mm2, power_w (upper bounds)
    area_mm2 = 10.0

A *point* is a plain ``{parameter: value}`` dict in parameter order. Points are enumerated in mixed radix with
the last parameter varying fastest (``itertools.product`` order): :meth:`HwSpace.config` and
:meth:`HwSpace.index` are inverse. Plain keys are ``[hardware]`` parameters of the template, each value checked
with its :class:`hwsim.devices.params.Param`; ``silicon.<key>`` values with :func:`hwsim.silicon.parse_silicon_table`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from hwsim.errors import HwnasError

TABLES = ("space", "params", "fixed", "limits")
SPACE_KEYS = ("name", "template", "base", "description")
LIMITS = ("area_mm2", "power_w")
SUB_TABLES = ("silicon", "mechanisms")  # dotted prefixes of keys that go to another device table
BUILTIN = ("systolic", "eyeriss", "dpu")
_PERMUTE_LIMIT = 2_000_000


class HwSpaceError(HwnasError):
    """Bad hardware design space (unknown template or parameter, empty or out-of-range values, limits)."""


def _flatten(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``{"silicon": {"word_bits": [8]}}`` (TOML dotted keys) -> ``{"silicon.word_bits": [8]}``."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in SUB_TABLES and isinstance(value, Mapping):
            for k, v in value.items():
                out[f"{key}.{k}"] = v
        elif isinstance(value, Mapping):
            raise HwSpaceError(f"{where}: key {key!r} is a table; only silicon.* and mechanisms.* keys may be "
                               f"dotted")
        else:
            out[key] = value
    return out


def _checker(template: str, source: str):  # noqa: ANN202 - returns a (key, value, where) -> value function
    """A function that validates one value of one space key for ``template`` (raises HwSpaceError)."""
    from hwsim.devices.base import Mechanisms
    from hwsim.devices.params import params_of, template_kinds, template_params

    if template not in template_kinds():
        raise HwSpaceError(f"{source}: [space] template {template!r} is unknown; expected one of "
                           f"{', '.join(template_kinds())}")
    hw = {p.name: p for p in template_params(template)}
    mech = {p.name: p for p in params_of(Mechanisms)}

    def check(key: str, value: Any, where: str) -> Any:
        if key.startswith("silicon."):
            from hwsim.silicon import parse_silicon_table

            sub = key.split(".", 1)[1]
            if sub == "provenance":
                raise HwSpaceError(f"{where}: silicon.provenance cannot be a design parameter")
            try:
                parsed = parse_silicon_table({sub: value}, source)
            except HwnasError as e:
                raise HwSpaceError(f"{where}: {e}") from None
            return parsed.to_table()[sub]
        if key.startswith("mechanisms."):
            sub = key.split(".", 1)[1]
            if sub not in mech:
                raise HwSpaceError(f"{where}: unknown mechanism {sub!r}; expected one of {', '.join(mech)}")
            p = mech[sub]
        else:
            if key not in hw:
                raise HwSpaceError(f"{where}: unknown parameter {key!r} of template {template!r}; expected one of "
                                   f"{', '.join(hw)} (or silicon.* / mechanisms.*)")
            p = hw[key]
        try:
            return p.check(value, template if not key.startswith("mechanisms.") else "mechanisms")
        except HwnasError as e:
            raise HwSpaceError(f"{where}: {e}") from None

    return check


def _same(x: Any, v: Any) -> bool:
    """Value equality where True is not 1 and 1 equals 1.0."""
    if isinstance(x, bool) or isinstance(v, bool):
        return isinstance(x, bool) and isinstance(v, bool) and x == v
    return type(x) is type(v) and x == v or (isinstance(x, (int, float)) and isinstance(v, (int, float)) and x == v)


@dataclass(frozen=True)
class HwSpace:
    """A hardware design space (see the module docstring). ``params``: tuned parameter -> its values (in
    order); ``fixed``: parameter -> value; ``limits``: ``area_mm2`` / ``power_w`` upper bounds; ``base``: the
    device preset points start from (None: the template's defaults); ``source``: where it was read from."""

    name: str
    template: str
    params: Mapping[str, tuple[Any, ...]]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    limits: Mapping[str, float] = field(default_factory=dict)
    base: str | None = None
    description: str = ""
    source: str = "<space>"

    # --- structure ---------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Tuned parameter names in enumeration order."""
        return tuple(self.params)

    @property
    def size(self) -> int:
        """Number of configurations: the product of the value counts (limits not applied)."""
        return math.prod(len(v) for v in self.params.values())

    def _radices(self) -> list[int]:
        return [len(v) for v in self.params.values()]

    # --- points ------------------------------------------------------------------------------------
    def config(self, i: int) -> dict[str, Any]:
        """The ``i``-th configuration (0 <= i < size), last parameter fastest."""
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < self.size:
            raise HwSpaceError(f"space {self.name!r}: config index must be an integer in [0, {self.size}), got {i!r}")
        i = int(i)
        out: dict[str, Any] = {}
        for name, values in reversed(self.params.items()):
            i, r = divmod(i, len(values))
            out[name] = values[r]
        return {name: out[name] for name in self.params}

    def index(self, point: Mapping[str, Any]) -> int:
        """The enumeration index of ``point`` (inverse of :meth:`config`); raises naming a bad parameter."""
        for key in point:
            if key not in self.params:
                raise HwSpaceError(f"space {self.name!r}: unknown parameter {key!r} in point")
        idx = 0
        for name, values in self.params.items():
            if name not in point:
                raise HwSpaceError(f"space {self.name!r}: point misses parameter {name!r}")
            v = point[name]
            pos = next((j for j, x in enumerate(values) if _same(x, v)), None)
            if pos is None:
                raise HwSpaceError(f"space {self.name!r}: {name}={v!r} is not one of its values "
                                   f"{list(values)}")
            idx = idx * len(values) + pos
        return idx

    def configs(self) -> Iterator[dict[str, Any]]:
        """Every configuration in index order."""
        names = self.names
        for combo in itertools.product(*self.params.values()):
            yield dict(zip(names, combo))

    def sample(self, n: int, seed: int) -> list[dict[str, Any]]:
        """``n`` distinct configurations that meet the limits, drawn uniformly with ``numpy.random.default_rng(seed)``
        (fewer when fewer exist), in draw order."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise HwSpaceError(f"sample size must be a non-negative integer, got {n!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise HwSpaceError(f"seed must be an integer, got {seed!r}")
        rng = np.random.default_rng(seed)
        out: list[dict[str, Any]] = []
        if self.size <= _PERMUTE_LIMIT:
            for i in rng.permutation(self.size):
                if len(out) >= n:
                    break
                p = self.config(int(i))
                if self.meets_limits(p):
                    out.append(p)
            return out
        seen: set[int] = set()
        tries = 0
        while len(out) < n and tries < 100 * max(n, 1):
            tries += 1
            i = int(rng.integers(self.size))
            if i in seen:
                continue
            seen.add(i)
            p = self.config(i)
            if self.meets_limits(p):
                out.append(p)
        return out

    def validate_point(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """``point`` as a dict in parameter order, after checking it belongs to the space."""
        return self.config(self.index(point))

    # --- devices -----------------------------------------------------------------------------------
    def device_name(self, point: Mapping[str, Any]) -> str:
        """``<space>-<index>``: a stable name for the point's device."""
        return f"{self.name}-{self.index(point)}"

    def device_tables(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """The device TOML tables of ``point`` (fixed values, then the point's, split by table)."""
        point = self.validate_point(point)
        dev: dict[str, Any] = {"name": self.device_name(point), "kind": self.template}
        if self.base is not None:
            dev["base"] = self.base
        label = ", ".join(f"{k}={v}" for k, v in point.items())
        dev["description"] = f"hw-space {self.name} point {self.index(point)}: {label}"
        tables: dict[str, Any] = {"device": dev, "hardware": {}}
        prov: dict[str, str] = {}
        for key, value in [*self.fixed.items(), *point.items()]:
            what = "tuned" if key in point else "fixed"
            if "." in key:
                table, sub = key.split(".", 1)
                tables.setdefault(table, {})[sub] = list(value) if isinstance(value, tuple) else value
                if table == "silicon":
                    tables[table].setdefault("provenance", {})[sub] = f"hw-space {self.name}: {what} parameter"
            else:
                tables["hardware"][key] = list(value) if isinstance(value, tuple) else value
                prov[key] = f"hw-space {self.name}: {what} parameter"
        if prov:
            tables["provenance"] = prov
        return tables

    def device(self, point: Mapping[str, Any]):  # noqa: ANN201 - AcceleratorDevice (imported lazily)
        """The :class:`~hwsim.devices.base.AcceleratorDevice` of ``point``."""
        from hwsim.devices.config import device_from_tables

        tables = self.device_tables(point)
        try:
            return device_from_tables(tables, f"{self.source} point {self.index(point)}")
        except HwnasError as e:
            raise HwSpaceError(str(e)) from None

    def to_toml(self, point: Mapping[str, Any]) -> str:
        """The device TOML file of ``point`` (``hwnas simulate --device FILE`` runs it)."""
        from hwsim.hwspace.tomlout import dumps

        head = f"# {self.template} device from hardware design space {self.name!r} ({self.source})\n"
        return head + dumps(self.device_tables(point))

    # --- limits ------------------------------------------------------------------------------------
    def cost(self, point: Mapping[str, Any]) -> dict[str, float]:
        """``area_mm2`` and design ``power_w`` (:func:`hwsim.silicon.design_peak_power_w`) of ``point``."""
        from hwsim.silicon import area_mm2, design_peak_power_w

        d = self.device(point)
        return {"area_mm2": area_mm2(d), "power_w": design_peak_power_w(d)}

    def meets_limits(self, point: Mapping[str, Any]) -> bool:
        """Whether ``point`` is within every limit (True when the space has none)."""
        if not self.limits:
            return True
        c = self.cost(point)
        return all(c[k] <= v for k, v in self.limits.items())

    # --- description -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "template": self.template, "base": self.base, "description": self.description,
                "source": self.source, "params": {k: list(v) for k, v in self.params.items()},
                "fixed": {k: list(v) if isinstance(v, tuple) else v for k, v in self.fixed.items()},
                "limits": dict(self.limits), "size": self.size}


# ------------------------------------------------------------------------------------------------
# loading
# ------------------------------------------------------------------------------------------------
def space_from_tables(tables: Mapping[str, Any], source: str) -> HwSpace:
    """Build and validate a space from parsed TOML; every error names ``source`` and the table/parameter."""
    for key, value in tables.items():
        if key not in TABLES:
            raise HwSpaceError(f"{source}: unknown table {key!r}; expected {', '.join(TABLES)}")
        if not isinstance(value, Mapping):
            raise HwSpaceError(f"{source}: {key!r} must be a table, got {value!r}")
    head = dict(tables.get("space", {}))
    for key, value in head.items():
        if key not in SPACE_KEYS:
            raise HwSpaceError(f"{source}: [space] unknown key {key!r}; expected one of {', '.join(SPACE_KEYS)}")
        if not isinstance(value, str) or not value:
            raise HwSpaceError(f"{source}: [space] {key} must be a non-empty string, got {value!r}")
    for key in ("name", "template"):
        if key not in head:
            raise HwSpaceError(f"{source}: [space] is missing the key {key!r}")
    template = head["template"]
    check = _checker(template, source)
    if "base" in head:
        from hwsim.devices.registry import preset_tables

        try:
            base_kind = preset_tables(head["base"])["device"]["kind"]
        except HwnasError as e:
            raise HwSpaceError(f"{source}: [space] base: {e}") from None
        if base_kind != template:
            raise HwSpaceError(f"{source}: [space] base {head['base']!r} is a {base_kind} device, not {template}")
    raw_params = _flatten(tables.get("params", {}), f"{source}: [params]")
    if not raw_params:
        raise HwSpaceError(f"{source}: [params] must name at least one parameter with its values")
    params: dict[str, tuple[Any, ...]] = {}
    for key, values in raw_params.items():
        where = f"{source}: [params] {key}"
        if not isinstance(values, list):
            raise HwSpaceError(f"{where} must be a list of values, got {values!r}")
        if not values:
            raise HwSpaceError(f"{where}: empty value list")
        checked = tuple(check(key, v, f"{where} value {v!r}") for v in values)
        if len(set(map(repr, checked))) != len(checked):
            raise HwSpaceError(f"{where}: duplicate values in {values!r}")
        params[key] = checked
    fixed: dict[str, Any] = {}
    for key, value in _flatten(tables.get("fixed", {}), f"{source}: [fixed]").items():
        if key in params:
            raise HwSpaceError(f"{source}: [fixed] {key} is also a tuned parameter in [params]")
        fixed[key] = check(key, value, f"{source}: [fixed] {key}")
    limits: dict[str, float] = {}
    for key, value in tables.get("limits", {}).items():
        if key not in LIMITS:
            raise HwSpaceError(f"{source}: [limits] unknown key {key!r}; expected {', '.join(LIMITS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise HwSpaceError(f"{source}: [limits] {key} must be a positive number, got {value!r}")
        limits[key] = float(value)
    space = HwSpace(head["name"], template, MappingProxyType(params), MappingProxyType(fixed),
                    MappingProxyType(limits), head.get("base"), head.get("description", ""), source)
    space.device(space.config(0))  # the fixed values and the first point build a device (cross-field rules)
    if limits:
        _check_limits_reachable(space)
    return space


def _check_limits_reachable(space: HwSpace) -> None:
    """Raise unless some configuration meets every limit. Area and design power grow with every numeric
    parameter, so the candidates are: each numeric parameter at its smallest value x every non-numeric value."""
    choices = []
    for name, values in space.params.items():
        nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        choices.append([min(nums)] if len(nums) == len(values) else list(values))
    best = dict.fromkeys(space.limits, math.inf)
    for combo in itertools.product(*choices):
        c = space.cost(dict(zip(space.params, combo)))
        if all(c[k] <= v for k, v in space.limits.items()):
            return
        for k in best:
            best[k] = min(best[k], c[k])
    bad = [k for k in space.limits if best[k] > space.limits[k]] or list(space.limits)
    k = bad[0]
    raise HwSpaceError(f"{space.source}: [limits] {k} = {space.limits[k]:g}: no configuration meets the limits "
                       f"(smallest {k} in the space: {best[k]:.4g})")


def load_space_file(path: str | Path) -> HwSpace:
    """Read a space TOML file (errors name the file)."""
    from hwsim.devices.config import read_toml

    p = Path(path)
    if not p.is_file():
        raise HwSpaceError(f"{p}: hardware design space file not found")
    try:
        tables = read_toml(p)
    except HwnasError as e:
        raise HwSpaceError(str(e)) from None
    return space_from_tables(tables, str(p))


def builtin_spaces() -> tuple[str, ...]:
    """Names of the built-in spaces."""
    return BUILTIN


def get_space(spec: str) -> HwSpace:
    """A built-in space by name (:data:`BUILTIN`) or a space TOML file."""
    if not isinstance(spec, str) or not spec:
        raise HwSpaceError(f"hardware space must be a built-in name or a .toml file, got {spec!r}")
    if spec in BUILTIN:
        text = resources.files("hwsim.hwspace").joinpath("builtin", f"{spec}.toml").read_text(encoding="utf-8")
        import tomllib

        return space_from_tables(tomllib.loads(text), f"built-in space {spec}")
    if spec.endswith(".toml") or Path(spec).is_file():
        return load_space_file(spec)
    raise HwSpaceError(f"unknown hardware space {spec!r}; expected one of {', '.join(BUILTIN)} or a .toml file")


__all__ = ["BUILTIN", "HwSpace", "HwSpaceError", "builtin_spaces", "get_space", "load_space_file",
           "space_from_tables"]
