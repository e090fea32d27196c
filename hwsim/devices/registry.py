"""Presets by name. The table is built by :func:`builtin_presets` on each call (explicit, no import-time
registration); each preset is a TOML file under ``hwsim/devices/presets/`` loaded by
:func:`hwsim.devices.config.load_device_file`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwsim.devices.base import AcceleratorDevice, DeviceError
from hwsim.devices.config import device_from_tables, load_device_file, read_toml

PRESET_DIR = Path(__file__).resolve().parent / "presets"

_PRESET_FILES = (
    "dpu-b4096-zcu102", "dpu-b4096-zcu104", "dpu-b4096-kv260",
    "eyeriss-v1", "nvdla-small", "nvdla-full", "roofline-reference", "systolic-tpu-like",
)


def builtin_presets() -> dict[str, Path]:
    """Preset name -> TOML file, for every built-in preset."""
    return {name: PRESET_DIR / f"{name}.toml" for name in _PRESET_FILES}


def list_presets() -> tuple[str, ...]:
    """Names of the built-in presets, sorted."""
    return tuple(sorted(builtin_presets()))


def preset_tables(name: str) -> dict[str, Any]:
    """The parsed TOML tables of preset ``name``."""
    presets = builtin_presets()
    if name not in presets:
        raise DeviceError(f"unknown device preset {name!r}; expected one of {', '.join(sorted(presets))} "
                          f"or a .toml file")
    return read_toml(presets[name])


def get_device(spec: str) -> AcceleratorDevice:
    """A device from a preset name or a path to a ``.toml`` device file."""
    if not isinstance(spec, str) or not spec:
        raise DeviceError(f"device must be a preset name or a .toml file, got {spec!r}")
    if spec.endswith(".toml") or Path(spec).suffix == ".toml":
        path = Path(spec)
        if not path.is_file():
            raise DeviceError(f"device file {spec!r} not found")
        return load_device_file(path)
    return device_from_tables(preset_tables(spec), f"preset {spec}")


__all__ = ["PRESET_DIR", "builtin_presets", "get_device", "list_presets", "preset_tables"]
