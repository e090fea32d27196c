"""TOML device configs and the preset registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsim.devices import Device, DeviceError, builtin_presets, get_device, list_presets
from hwsim.devices.config import device_kinds, load_device_file
from hwsim.devices.registry import preset_tables


def _write(tmp_path: Path, text: str, name: str = "dev.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_every_preset_loads_and_names_itself():
    assert set(list_presets()) == set(builtin_presets())
    assert {"dpu-b4096-zcu102", "dpu-b4096-zcu104", "dpu-b4096-kv260", "eyeriss-v1", "nvdla-small",
            "roofline-reference", "systolic-tpu-like"} <= set(list_presets())
    kinds = set()
    for name, path in builtin_presets().items():
        assert path.is_file()
        dev = get_device(name)
        assert dev.name == name and isinstance(dev, Device)
        kinds.add(preset_tables(name)["device"]["kind"])
    assert kinds == set(device_kinds())


def test_full_file(tmp_path):
    p = _write(tmp_path, """
[device]
name = "my-roof"
kind = "roofline"
[hardware]
clock_mhz = 500
macs_per_cycle = 256.0
bandwidth_gbps = 4.0
[mechanisms]
kernel_overhead_cycles = 10
host_overhead_ms = 0.25
[provenance]
clock_mhz = "assumed"
""")
    dev = get_device(str(p))
    assert dev.name == "my-roof" and dev.cost_model.clock_mhz == 500.0
    assert dev.cost_model.provenance == {"clock_mhz": "assumed"}
    assert dev.mechanisms.host_overhead_ms == 0.25 and dev.mechanisms.kernel_overhead_cycles == 10


def test_base_preset_override(tmp_path):
    p = _write(tmp_path, """
[device]
name = "zcu102-slow"
base = "dpu-b4096-zcu102"
[hardware]
clock_mhz = 200.0
[mechanisms]
overlap_weight_load = false
""")
    dev = load_device_file(p)
    ref = get_device("dpu-b4096-zcu102")
    assert dev.cost_model.clock_mhz == 200.0 and dev.cost_model.arch == "B4096"
    assert not dev.mechanisms.overlap_weight_load
    assert dev.mechanisms.kernel_overhead_cycles == ref.mechanisms.kernel_overhead_cycles


@pytest.mark.parametrize("body,match", [
    ('[device]\nname="x"\nkind="dpu"\n[hardware]\nclok_mhz = 300', r"dev\.toml: \[hardware\]: unknown key 'clok_mhz' \(value 300\)"),
    ('[device]\nname="x"\nkind="dpu"\n[mechanisms]\nfusion = true', r"dev\.toml: \[mechanisms\]: unknown key 'fusion' \(value True\)"),
    ('[device]\nname="x"\nkind="dpu"\ncolour="red"', r"dev\.toml: \[device\] unknown key 'colour' \(value 'red'\)"),
    ('[device]\nname="x"\nkind="dpu"\n[extra]\na=1', r"dev\.toml: unknown table or key 'extra'"),
    ('[device]\nname="x"\nkind="tpu"', r"dev\.toml: \[device\] kind 'tpu' is unknown"),
    ('[device]\nkind="dpu"', r"dev\.toml: \[device\] is missing the key 'name'"),
    ('[device]\nname="x"\nkind="dpu"\n[hardware]\nclock_mhz = -281.0', r"dev\.toml: \[hardware\]: dpu\.clock_mhz must be positive \(MHz\), got -281\.0"),
    ('[device]\nname="x"\nkind="dpu"\n[hardware]\nddr_bandwidth_gbps = -19.2', r"ddr_bandwidth_gbps must be positive"),
    ('[device]\nname="x"\nkind="dpu"\n[hardware]\ncores = "three"', r"key 'cores' must be int, got 'three'"),
    ('[device]\nname="x"\nkind="dpu"\n[hardware]\nactivations = "relu"', r"key 'activations' must be tuple"),
    ('[device]\nname="x"\nkind="dpu"\n[provenance]\nspeed = "fast"', r"\[provenance\] unknown key 'speed'"),
    ('[device]\nname="x"\nbase="nope"', r"unknown device preset 'nope'"),
    ('[device\nname="x"', r"dev\.toml: invalid TOML"),
])
def test_bad_files(tmp_path, body, match):
    p = _write(tmp_path, body)
    with pytest.raises(DeviceError, match=match) as e:
        get_device(str(p))
    assert "\n" not in str(e.value)


def test_unknown_preset_and_missing_file(tmp_path):
    with pytest.raises(DeviceError, match="unknown device preset 'dpu-b9999'; expected one of .*dpu-b4096-zcu102"):
        get_device("dpu-b9999")
    with pytest.raises(DeviceError, match="not found"):
        get_device(str(tmp_path / "missing.toml"))
