"""Loaders of the shared real-board data (skip where the folder is absent) and their error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from calibration.datasets import (
    load_bbssp_zcu102,
    load_dpu_layer_profiles,
    load_fbnet_block_lut,
    load_fbnet_help,
    load_nb201_latency,
    load_vitis_zoo,
    nb201_columns,
)
from calibration.measurements import MeasurementError
from calibration.workloads import WorkloadResolver


def test_nb201_nnmeter(shared_data: Path) -> None:
    path = shared_data / "latency" / "nb201_nnmeter.csv"
    cols = {c.name: c for c in nb201_columns(path)}
    assert set(cols) == {"cortexA76cpu_tflite21", "adreno640gpu_tflite21", "adreno630gpu_tflite21",
                         "myriadvpu_openvino2019r2"}
    assert all(c.status == "measured" and c.execution == "pruned" for c in cols.values())
    load = load_nb201_latency(path, "myriadvpu_openvino2019r2")
    assert len(load.measurements) == 1999 and load.skipped == 1
    m = load.measurements[0]
    assert m.space == "nb201" and m.id == "nb201_1" and m.latency_ms == pytest.approx(5.566)
    WorkloadResolver().validate(load.measurements.subset(range(50)))


def test_nb201_help_columns(shared_data: Path) -> None:
    cols = {c.name: c for c in nb201_columns(shared_data / "latency" / "nb201_help.csv")}
    assert len(cols) == 27  # 5 GPUs x 3 batches, 4 Xeons, 4 phones, pixel3, raspi4, eyeriss, fpga
    assert cols["eyeriss"].status == cols["fpga"].status == "estimate"
    assert cols["pixel3"].execution == "pruned" and cols["1080ti_1"].execution == "unpruned"
    assert cols["pixel2"].resolution_ms == 1.0
    assert cols["1080ti_1"].space == "nb201-unpruned"


def test_fbnet_help_and_block_lut(shared_data: Path) -> None:
    load = load_fbnet_help(shared_data / "latency" / "fbnet_help.csv", "raspi4")
    assert len(load.measurements) == 5000
    first = load.measurements[0]
    assert first.arch is not None and first.arch.split("-")[0] == "k5_e6" and len(first.arch.split("-")) == 22
    WorkloadResolver().validate(load.measurements.subset(range(5)))
    lut = load_fbnet_block_lut(shared_data / "latency" / "fbnet_hwnasbench_block_lut.csv")
    assert len(lut) == 225
    assert {"edgegpu", "raspi4", "pixel3", "eyeriss", "fpga"} <= set(lut[0].latency_ms)


def test_dpu_files(shared_data: Path) -> None:
    zoo = load_vitis_zoo(shared_data / "dpu" / "vitis_ai_zoo_latency.csv")
    assert len(zoo) == 907 and {z.board for z in zoo} == {"ZCU102", "ZCU104", "KV260", "VCK190"}
    assert sum(z.latency_ms is not None for z in zoo) == 320
    prof = load_dpu_layer_profiles(shared_data / "dpu" / "dpu_layer_profiles.csv")
    assert len(prof) == 74 and all(p.runtime_ms > 0 for p in prof)
    for model in {p.model for p in prof}:
        nodes = [p.runtime_ms for p in prof if p.model == model and p.node_index is not None]
        total = [p.runtime_ms for p in prof if p.model == model and p.node_index is None]
        assert len(total) == 1 and sum(nodes) == pytest.approx(total[0], abs=0.01)  # README: nodes sum to total
    table = load_bbssp_zcu102(shared_data / "dpu" / "bbssp_zcu102")
    arr = table.as_array()
    assert arr.shape == (12, 31)
    assert arr[:, 0].sum() == pytest.approx(3.313, abs=1e-3)  # README: Res typical block times sum to 3.313 ms


def test_bad_dataset_values(tmp_path: Path) -> None:
    p = tmp_path / "nb201_x.csv"
    p.write_text("nb201_idx,arch_str,dev\n0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1.5\n1,|x|,-3\n")
    with pytest.raises(MeasurementError, match=r"nb201_x.csv:3: column 'dev' must be a finite latency > 0 ms"):
        load_nb201_latency(p, "dev")
    p.write_text("nb201_idx,arch_str,dev\n0,a,1\n1,b\n")
    with pytest.raises(MeasurementError, match=r"nb201_x.csv:3: malformed row"):
        load_nb201_latency(p, "dev")
    with pytest.raises(MeasurementError, match="unknown device column 'gpu'"):
        load_nb201_latency(p, "gpu")
    p.write_text("nb201_idx,arch_str,dev\n0,|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n")
    ms = load_nb201_latency(p, "dev").measurements
    with pytest.raises(MeasurementError, match=r"nb201_x.csv:2: unknown arch"):
        WorkloadResolver().validate(ms)
