"""Loaders of the shared real-board data (skip where the folder is absent) and their error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from calibration.datasets import (
    DatasetColumn,
    execution_fit,
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
    assert cols["pixel3"].execution == cols["raspi4"].execution == "zero-folded"
    assert cols["1080ti_1"].execution == "unpruned"
    assert cols["pixel2"].resolution_ms == 1.0
    assert cols["1080ti_1"].space == "nb201-unpruned" and cols["pixel3"].space == "nb201-zero-folded"
    assert load_nb201_latency(shared_data / "latency" / "nb201_help.csv", "raspi4").measurements[0].space == \
        "nb201-zero-folded"


@pytest.mark.parametrize("fname,column", [
    ("nb201_help.csv", "pixel3"), ("nb201_help.csv", "raspi4"), ("nb201_help.csv", "1080ti_1"),
    ("nb201_help.csv", "gold_6226"), ("nb201_help.csv", "eyeriss"), ("nb201_nnmeter.csv", "cortexA76cpu_tflite21"),
    ("nb201_nnmeter.csv", "myriadvpu_openvino2019r2"),
])
def test_declared_execution_explains_the_column_best(shared_data: Path, fname: str, column: str) -> None:
    """Each column's documented execution is the one whose executed-op counts fit its latencies best."""
    path = shared_data / "latency" / fname
    col = {c.name: c for c in nb201_columns(path)}[column]
    ms = load_nb201_latency(path, column).measurements
    sub = ms.subset(range(0, len(ms), 4 if len(ms) > 4000 else 1))  # every 4th HELP cell keeps the test quick
    fit = execution_fit([m.arch for m in sub], sub.latencies_ms)
    assert max(fit, key=fit.__getitem__) == col.execution, fit
    others = max(v for k, v in fit.items() if k != col.execution)
    assert fit[col.execution] >= others + 0.05, fit


def test_hwnasbench_ops_on_constant_zeros_cost_like_live_ops(shared_data: Path) -> None:
    """Pixel 3 / Raspberry Pi 4: cells that pruning makes identical differ by an op that reads a constant zero.

    Among cells with the same live edges, one extra zero-fed nor_conv_3x3 per cell makes the network slower by
    about what a live nor_conv_3x3 costs; under ``pruned`` they would be the same network.
    """
    from spaces.nb201 import EDGES, live_edges, zero_folded_cell
    from spaces.registry import get_space

    path = shared_data / "latency" / "nb201_help.csv"
    space = get_space("nb201")
    for column in ("pixel3", "raspi4"):
        ms = load_nb201_latency(path, column).measurements
        groups: dict[tuple, dict[int, list[float]]] = {}
        for m in ms:
            a = space.parse(m.arch)
            ops = {(j, i): a[f"edge_{j}_{i}"] for j, i in EDGES}
            live = live_edges(ops)
            if not live:
                continue
            zero_fed = [e for e in zero_folded_cell(ops).edges if e not in live]
            n3 = sum(ops[e] == "nor_conv_3x3" for e in zero_fed)
            if len(zero_fed) == n3:  # nothing else differs from the pruned network
                key = tuple((e, ops[e]) for e in live)
                groups.setdefault(key, {}).setdefault(n3, []).append(m.latency_ms)
        ratios = [np.median(g[1]) / np.median(g[0]) for g in groups.values() if 0 in g and 1 in g]
        assert len(ratios) >= 50
        # one nor_conv_3x3 per cell is ~6.3 ms (Pixel 3) / ~16 ms (Raspberry Pi 4) on top of 3-60 ms networks
        assert np.median(ratios) > 1.4, (column, np.median(ratios))
        assert np.mean(np.array(ratios) > 1.1) > 0.9


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


def test_dataset_column_rejects_unknown_execution() -> None:
    with pytest.raises(MeasurementError, match="unknown execution 'folded'"):
        DatasetColumn("x", "measured", "folded", None, "test")


@pytest.mark.parametrize("execution", ["pruned", "unpruned", "zero-folded"])
def test_execution_fit_recovers_the_execution_of_synthetic_latencies(execution: str) -> None:
    """A synthetic board whose latency is a sum of per-op costs under one execution: that execution fits exactly."""
    from calibration.datasets import _executed_ops
    from spaces.registry import get_space

    space = get_space("nb201")
    rng = np.random.default_rng(7)
    archs = [space.sample(rng) for _ in range(800)]
    cost = {"none": 0.05, "skip_connect": 0.02, "nor_conv_1x1": 0.8, "nor_conv_3x3": 6.0, "avg_pool_3x3": 1.5}
    y = []
    for a in archs:
        reads, ops = _executed_ops(a, execution)
        y.append((1.3 if reads else 0.01) + sum(cost[o] for o in ops) / (1 if reads else 15))
    fit = execution_fit([space.format(a) for a in archs], np.array(y))
    assert fit[execution] == 1.0
    assert max(v for k, v in fit.items() if k != execution) < 1.0


def test_execution_fit_rejects_bad_input() -> None:
    with pytest.raises(MeasurementError, match="one finite latency > 0 ms per arch"):
        execution_fit(["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"], [0.0])
    with pytest.raises(MeasurementError, match="unknown execution 'eager'"):
        execution_fit(["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"], [1.0], executions=("eager",))
