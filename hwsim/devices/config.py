"""Device configs in TOML: strict loading into the frozen config dataclasses of each template.

A device file has these tables::

    [device]        # name (required), kind (dpu | eyeriss | nvdla | roofline | systolic), description,
                    # base = "<preset name>" to start from a preset and override some fields
    [hardware]      # the fields of the kind's config dataclass (DpuConfig, EyerissConfig, ...)
    [mechanisms]    # the fields of hwsim.devices.base.Mechanisms
    [provenance]    # optional: hardware/mechanism field -> where its value comes from (public fact, fitted, ...)
    [silicon]       # optional: area/energy component figures overriding hwsim.silicon.FIGURES (docs/silicon.md)

Unknown tables or keys, and values of the wrong type, are errors naming the file, the key and the value.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hwsim.devices.base import AcceleratorDevice, DeviceError, Mechanisms

_TABLES = ("device", "hardware", "mechanisms", "provenance", "silicon")
_DEVICE_KEYS = ("name", "kind", "description", "base")


def device_kinds() -> dict[str, type]:
    """Template kind -> config dataclass (built on each call; nothing registers itself at import)."""
    from hwsim.devices.params import template_classes

    return template_classes()


def _convert(value: Any, tp: Any, where: str, key: str) -> Any:
    """Check/convert one TOML value against a field type; raise naming ``where``, ``key`` and the value."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(value, a, where, key)
            except DeviceError as e:
                errors.append(str(e))
        raise DeviceError(errors[0] if errors else f"{where}: key {key!r} has unsupported value {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise DeviceError(f"{where}: key {key!r} must be finite, got {value!r}")
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif origin is tuple:
        (elem, *_rest) = typing.get_args(tp)
        if isinstance(value, list):
            return tuple(_convert(v, elem, where, key) for v in value)
    else:
        raise DeviceError(f"{where}: key {key!r} cannot be set from TOML")
    name = getattr(tp, "__name__", str(tp))
    raise DeviceError(f"{where}: key {key!r} must be {name}, got {value!r}")


@functools.lru_cache(maxsize=None)
def _type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints`` of a config class, evaluated once per class (it dominates building a device)."""
    return typing.get_type_hints(cls)


def build_config(cls: type, table: Mapping[str, Any], where: str, provenance: Mapping[str, str] | None = None) -> Any:
    """Instantiate the frozen dataclass ``cls`` from a TOML table, strictly."""
    hints = _type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls) if f.init and f.name != "provenance"}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        if key not in fields:
            raise DeviceError(f"{where}: unknown key {key!r} (value {value!r}); expected one of "
                              f"{', '.join(sorted(fields))}")
        kwargs[key] = _convert(value, hints[key], where, key)
    if provenance is not None and "provenance" in {f.name for f in dataclasses.fields(cls)}:
        kwargs["provenance"] = dict(provenance)
    try:
        return cls(**kwargs)
    except DeviceError as e:
        raise DeviceError(f"{where}: {e}") from None


def device_from_tables(tables: Mapping[str, Any], source: str) -> AcceleratorDevice:
    """Build a device from parsed TOML ``tables``; ``source`` (a file name) prefixes every error."""
    for key, value in tables.items():
        if key not in _TABLES:
            raise DeviceError(f"{source}: unknown table or key {key!r} (value {value!r}); expected tables "
                              f"{', '.join(_TABLES)}")
        if not isinstance(value, Mapping):
            raise DeviceError(f"{source}: {key!r} must be a table, got {value!r}")
    dev = dict(tables.get("device", {}))
    for key, value in dev.items():
        if key not in _DEVICE_KEYS:
            raise DeviceError(f"{source}: [device] unknown key {key!r} (value {value!r}); expected one of "
                              f"{', '.join(_DEVICE_KEYS)}")
        if not isinstance(value, str):
            raise DeviceError(f"{source}: [device] key {key!r} must be a string, got {value!r}")
    hardware = dict(tables.get("hardware", {}))
    mechanisms = dict(tables.get("mechanisms", {}))
    provenance = dict(tables.get("provenance", {}))
    silicon = dict(tables.get("silicon", {}))
    if "base" in dev:
        from hwsim.devices.registry import preset_tables

        base = preset_tables(dev.pop("base"))
        if "kind" in dev and dev["kind"] != base["device"]["kind"]:
            raise DeviceError(f"{source}: [device] kind {dev['kind']!r} differs from its base's "
                              f"{base['device']['kind']!r}")
        dev = {**base["device"], **{k: v for k, v in dev.items()}}
        hardware = {**base.get("hardware", {}), **hardware}
        mechanisms = {**base.get("mechanisms", {}), **mechanisms}
        provenance = {**base.get("provenance", {}), **provenance}
        silicon = {**base.get("silicon", {}), **silicon}
    for key in ("name", "kind"):
        if key not in dev:
            raise DeviceError(f"{source}: [device] is missing the key {key!r}")
    kinds = device_kinds()
    kind = dev["kind"]
    if kind not in kinds:
        raise DeviceError(f"{source}: [device] kind {kind!r} is unknown; expected one of {', '.join(kinds)}")
    cls = kinds[kind]
    hw_fields = {f.name for f in dataclasses.fields(cls)} | {f.name for f in dataclasses.fields(Mechanisms)}
    for key, value in provenance.items():
        if key not in hw_fields:
            raise DeviceError(f"{source}: [provenance] unknown key {key!r} (value {value!r}); it must name a "
                              f"[hardware] or [mechanisms] field")
        if not isinstance(value, str):
            raise DeviceError(f"{source}: [provenance] key {key!r} must be a string, got {value!r}")
    config = build_config(cls, hardware, f"{source}: [hardware]", provenance)
    mech = build_config(Mechanisms, mechanisms, f"{source}: [mechanisms]")
    bytes_per_element = getattr(config, "bytes_per_element", 1)
    from hwsim.silicon import parse_silicon_table

    sil = parse_silicon_table(silicon, source) if silicon else None
    return AcceleratorDevice(dev["name"], config, mech, bytes_per_element, dev.get("description", ""), sil)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; syntax errors name the file and position."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise DeviceError(f"{p}: invalid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise DeviceError(f"{p}: not a UTF-8 TOML file (byte {e.start})") from None


def load_device_file(path: str | Path) -> AcceleratorDevice:
    """Load a device from a TOML file (see the module docstring for the format)."""
    return device_from_tables(read_toml(path), str(path))


__all__ = ["build_config", "device_from_tables", "device_kinds", "load_device_file", "read_toml"]
