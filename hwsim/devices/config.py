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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hwsim.devices.base import AcceleratorDevice, DeviceError, Mechanisms
from hwsim.formats import build, load_toml, to_data


@dataclasses.dataclass(frozen=True)
class _DeviceTable:
    """The [device] table; a key left out is None (``name`` and ``kind`` may come from the base preset)."""

    name: str | None = None
    kind: str | None = None
    description: str | None = None
    base: str | None = None


@dataclasses.dataclass(frozen=True)
class _DeviceFile:
    """The tables of a device file."""

    device: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    hardware: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    mechanisms: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    provenance: Mapping[str, str] = dataclasses.field(default_factory=dict)
    silicon: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def device_kinds() -> dict[str, type]:
    """Template kind -> config dataclass (built on each call; nothing registers itself at import)."""
    from hwsim.devices.params import template_classes

    return template_classes()


def build_config(cls: type, table: Mapping[str, Any], where: str, provenance: Mapping[str, str] | None = None) -> Any:
    """Instantiate the frozen dataclass ``cls`` from a TOML table, strictly (:func:`hwsim.formats.build`)."""
    has_prov = "provenance" in {f.name for f in dataclasses.fields(cls)}
    fixed = {"provenance": dict(provenance)} if provenance is not None and has_prov else {}
    return build(cls, table, where, DeviceError, word="key", exclude=("provenance",), fixed=fixed)


def device_from_tables(tables: Mapping[str, Any], source: str) -> AcceleratorDevice:
    """Build a device from parsed TOML ``tables``; ``source`` (a file name) prefixes every error."""
    doc = build(_DeviceFile, tables, source, DeviceError, word="table")
    dev_table = build(_DeviceTable, doc.device, f"{source}: [device]", DeviceError, word="key")
    dev = {k: v for k, v in to_data(dev_table).items() if v is not None}
    hardware, mechanisms, provenance = dict(doc.hardware), dict(doc.mechanisms), dict(doc.provenance)
    silicon = dict(doc.silicon)
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
    config = build_config(cls, hardware, f"{source}: [hardware]", provenance)
    mech = build_config(Mechanisms, mechanisms, f"{source}: [mechanisms]")
    bytes_per_element = getattr(config, "bytes_per_element", 1)
    from hwsim.silicon import parse_silicon_table

    sil = parse_silicon_table(silicon, source) if silicon else None
    return AcceleratorDevice(dev["name"], config, mech, bytes_per_element, dev.get("description", ""), sil)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; syntax errors name the file and position."""
    return load_toml(path, DeviceError)


def load_device_file(path: str | Path) -> AcceleratorDevice:
    """Load a device from a TOML file (see the module docstring for the format)."""
    return device_from_tables(read_toml(path), str(path))


__all__ = ["build_config", "device_from_tables", "device_kinds", "load_device_file", "read_toml"]
