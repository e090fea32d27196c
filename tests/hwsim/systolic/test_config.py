"""SystolicConfig: reading SCALE-Sim .cfg files, validation errors, presets, round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsim.systolic import PRESETS, SystolicConfig, SystolicConfigError, load_config, parse_config, preset

SCALESIM_EXAMPLE = """[general]
run_name = scale_example_run_32x32_os

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     32
IfmapSramSzkB:    64
FilterSramSzkB:   64
OfmapSramSzkB:    64
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : os
MemoryBanks:   1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def test_reads_scalesim_example_unchanged(tmp_path: Path) -> None:
    f = tmp_path / "scale.cfg"
    f.write_text(SCALESIM_EXAMPLE)
    c = load_config(f)
    assert (c.array_rows, c.array_cols, c.ifmap_sram_kb, c.filter_sram_kb, c.ofmap_sram_kb) == (32, 32, 64, 64, 64)
    assert c.dataflow == "os" and c.bandwidth_mode == "CALC" and c.bandwidths == (10,)
    assert c.ifmap_sram_bank_num == 10 and c.memory_banks == 1 and c.run_name == "scale_example_run_32x32_os"
    assert c.effective_dram_bandwidths() == (10, 10, 32)


def test_round_trip_through_cfg_text() -> None:
    c = SystolicConfig(8, 4, 3, 2, 1, "ws", "USER", (7, 9), 6, 8, 5, 6, 7, 11, 12, 2, 3, 4, 1, run_name="rt")
    assert parse_config(c.to_cfg_text()) == c


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load(name: str) -> None:
    c = preset(name)
    assert isinstance(c, SystolicConfig) and c.run_name == name


def test_tpu_preset_is_256x256() -> None:
    assert (preset("tpu_v1").array_rows, preset("tpu_v1").array_cols) == (256, 256)


@pytest.mark.parametrize("old,new,match", [
    ("Dataflow : os", "Dataflow : rs", r":\d+: \[architecture_presets\] dataflow: unknown dataflow 'rs'"),
    ("InterfaceBandwidth: CALC", "InterfaceBandwidth: FAST", r":\d+: \[run_presets\] interfacebandwidth: unknown bandwidth mode 'FAST'"),
    ("IfmapSramSzkB:    64", "IfmapSramSzkB:    0", r":\d+: \[architecture_presets\] ifmapsramszkb must be positive"),
    ("ArrayWidth:     32", "ArrayWidth:     -4", r"arraywidth must be positive, got '-4'"),
    ("ArrayWidth:     32", "ArrayWidth:     wide", r"arraywidth must be an integer, got 'wide'"),
    ("MemoryBanks:   1", "MemoryBanks:   1\nClockMHz: 700", r":\d+: unknown key \[architecture_presets\] clockmhz"),
    ("ArrayHeight:    32\n", "", r"missing key \[architecture_presets\] arrayheight"),
    ("SparsitySupport : false", "SparsitySupport : true", r"sparsitysupport = 'true' is not supported"),
])
def test_errors_name_file_line_key_value(tmp_path: Path, old: str, new: str, match: str) -> None:
    assert old in SCALESIM_EXAMPLE
    f = tmp_path / "bad.cfg"
    f.write_text(SCALESIM_EXAMPLE.replace(old, new))
    with pytest.raises(SystolicConfigError, match=match) as e:
        load_config(f)
    msg = str(e.value)
    assert "\n" not in msg and str(f) in msg


def test_user_mode_needs_bandwidth_and_divisible_banks() -> None:
    text = SCALESIM_EXAMPLE.replace("InterfaceBandwidth: CALC", "InterfaceBandwidth: USER")
    with pytest.raises(SystolicConfigError, match="bank"):
        parse_config(text.replace("IfmapSRAMBankBandwidth: 10", "IfmapSRAMBankBandwidth: 15"))
    with pytest.raises(SystolicConfigError, match="bandwidth"):
        parse_config(text.replace("Bandwidth : 10\n", ""))


def test_dataclass_validation() -> None:
    with pytest.raises(SystolicConfigError, match="array_rows"):
        SystolicConfig(array_rows=0)
    with pytest.raises(SystolicConfigError, match="dataflow"):
        SystolicConfig(dataflow="xx")
    with pytest.raises(SystolicConfigError, match="unknown systolic preset"):
        preset("nope")
    with pytest.raises(SystolicConfigError, match="not found"):
        load_config("/nonexistent/x.cfg")
