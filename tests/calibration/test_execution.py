"""NB201 execution-variant detection (``--space nb201-auto``) from training measurements only."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from calibration.batch import arch_layout, layout_lut, workload_space
from calibration.correctors import CalibrationError, KernelTypeNNLS, TableSource, load_corrector
from calibration.execution import VARIANT_ORDER, choose_execution, loo_errors, variant_features
from calibration.workloads import get_space
from hwsim.cli import main
from tests.calibration.conftest import FusingFakeDevice

SPACE_OF = dict(VARIANT_ORDER)


def _archs(n: int, seed: int) -> list[str]:
    space = get_space("nb201")
    rng = np.random.default_rng(seed)
    return [space.format(space.sample(rng)) for _ in range(n)]


def _board(execution: str, archs: list[str], seed: int = 0) -> np.ndarray:
    """A fake board running ``execution``'s workloads, with 1% seeded noise."""
    space, dev = get_space(SPACE_OF[execution]), FusingFakeDevice()
    rng = np.random.default_rng(seed)
    return np.array([dev.run(space.to_workload(space.parse(a))).latency_ms * (1 + 0.01 * rng.standard_normal())
                     for a in archs])


def test_variant_features_equal_the_workloads_features() -> None:
    dev = FusingFakeDevice()
    archs = _archs(15, 3)
    for execution, name in VARIANT_ORDER:
        lut = layout_lut(dev, arch_layout(get_space("nb201"), execution))
        S, C, types = variant_features(archs, execution, lut=lut)
        space = get_space(name)
        nets = [space.to_workload(space.parse(a)) for a in archs]
        S2, C2 = lut.type_features(lut.encode(nets))
        assert types == lut.type_names
        np.testing.assert_allclose(S, S2, rtol=1e-12)
        np.testing.assert_array_equal(C, C2)


def test_loo_errors_equal_refitting_the_kernel_type_corrector() -> None:
    dev = FusingFakeDevice()
    archs = _archs(8, 4)
    y = _board("unpruned", archs)
    lut = layout_lut(dev, arch_layout(get_space("nb201"), "unpruned"))
    S, C, _ = variant_features(archs, "unpruned", lut=lut)
    space = get_space("nb201-unpruned")
    nets = [space.to_workload(space.parse(a)) for a in archs]
    want = []
    for k in range(len(archs)):
        tr = [i for i in range(len(archs)) if i != k]
        cor = KernelTypeNNLS(lut, TableSource()).fit_workloads([nets[i] for i in tr], y[tr])
        want.append(abs(cor.predict_workloads([nets[k]])[0] / y[k] - 1))
    np.testing.assert_allclose(loo_errors(S, C, y), want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("execution", [e for e, _ in VARIANT_ORDER])
def test_choose_execution_recovers_a_fake_boards_variant(execution: str) -> None:
    archs = _archs(12, 7)
    ch = choose_execution(archs, _board(execution, archs), FusingFakeDevice())
    assert ch.execution == execution and ch.space == SPACE_OF[execution]
    assert [e for e, _ in ch.loo_mape] == [e for e, _ in VARIANT_ORDER]
    assert min(v for _, v in ch.loo_mape) == dict(ch.loo_mape)[execution]
    assert ch.to_text().startswith(f"nb201-auto -> {SPACE_OF[execution]} (leave-one-out MAPE: pruned ")


def test_choose_execution_rejects_bad_input() -> None:
    archs = _archs(4, 1)
    with pytest.raises(CalibrationError, match="at least 3"):
        choose_execution(archs[:2], [1.0, 2.0])
    with pytest.raises(CalibrationError, match="finite latency > 0"):
        choose_execution(archs, [1.0, 2.0, 0.0, 1.0])
    with pytest.raises(CalibrationError, match="unknown execution 'eager'"):
        choose_execution(archs, [1.0, 2.0, 3.0, 1.0], executions=("eager",))


def _measurement_csv(tmp_path: Path, execution: str, n: int = 24) -> Path:
    archs = _archs(n, 11)
    y = _board(execution, archs)
    lines = ["id,device,space,arch,latency_ms"] + [f"m{i},fake,nb201,{a},{float(t)!r}" for i, (a, t) in
                                                    enumerate(zip(archs, y))]
    p = tmp_path / "m.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_cli_nb201_auto_reports_and_saves_the_variant(tmp_path: Path, capsys) -> None:
    p = _measurement_csv(tmp_path, "zero-folded")
    rc = main(["calibrate", "fit", "--measurements", str(p), "--space", "nb201-auto", "--device", "roofline-reference",
               "--train", "12", "--format", "json", "--save", str(tmp_path / "c.json"), "--quiet"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["space"] == "nb201-zero-folded" and set(d["space_loo_mape"]) == set(SPACE_OF)
    saved = json.loads((tmp_path / "c.json").read_text())
    assert saved["space"] == "nb201-zero-folded"
    cor = load_corrector(tmp_path / "c.json")
    assert cor.space.name == "nb201-zero-folded"
    assert workload_space(saved["space"], get_space("nb201")).name == "nb201-zero-folded"
    with pytest.raises(CalibrationError, match="fitted on space 'nb201-zero-folded' and cannot predict archs of "
                                               "space 'fbnet'"):
        workload_space(saved["space"], get_space("fbnet"))
    assert main(["calibrate", "fit", "--measurements", str(p), "--space", "nb201-auto", "--device", "unit",
                 "--train", "12", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("nb201-auto -> nb201") and "leave-one-out MAPE: pruned" in out


def test_cli_nb201_auto_needs_archs(tmp_path: Path, capsys) -> None:
    p = tmp_path / "z.csv"
    p.write_text("id,device,model,latency_ms\n" + "".join(f"r{i},cpu,resnet18,{1 + i}\n" for i in range(5)))
    assert main(["calibrate", "fit", "--measurements", str(p), "--space", "nb201-auto", "--device", "unit",
                 "--train", "3"]) == 2
    assert "nb201-auto needs measurements of NB201 archs" in capsys.readouterr().err


def test_declared_variant_picked_from_10_training_archs_on_the_shared_columns(shared_data: Path, capsys) -> None:
    """Acceptance: ``calibrate fit --space nb201-auto --train 10`` (seed 0, roofline-reference LUT) picks the
    declared execution on >= 28 of the 31 NB201 columns; the training sample is the CLI's. One column per declared
    variant also runs through the CLI itself."""
    from calibration.datasets import load_nb201_latency, nb201_columns
    from hwsim.devices import get_device

    t0 = time.perf_counter()
    dev = get_device("roofline-reference")
    rows = []
    for fname in ("nb201_help.csv", "nb201_nnmeter.csv"):
        path = shared_data / "latency" / fname
        for col in nb201_columns(path):
            ms = load_nb201_latency(path, col.name).measurements
            train = np.random.default_rng(0).permutation(len(ms))[:10]  # as calibrate fit --seed 0 --train 10
            ch = choose_execution([ms[int(i)].arch for i in train], ms.latencies_ms[train], dev)
            rows.append((col.name, col.execution, ch.execution))
    hits = sum(d == p for _, d, p in rows)
    with capsys.disabled():
        print(f"\nnb201-auto, --train 10, seed 0: declared variant picked on {hits}/{len(rows)} columns")
        for c, d, p in rows:
            print(f"  {c:28s} declared {d:11s} picked {p:11s}{'' if d == p else '  MISS'}")
    assert len(rows) == 31 and hits >= 28
    for fname, col in (("nb201_help.csv", "titan_rtx_1"), ("nb201_help.csv", "pixel3"),
                       ("nb201_nnmeter.csv", "cortexA76cpu_tflite21")):
        assert main(["calibrate", "fit", "--measurements", str(shared_data / "latency" / fname), "--column", col,
                     "--space", "nb201-auto", "--device", "roofline-reference", "--train", "10", "--test", "5",
                     "--format", "json", "--quiet"]) == 0
        picked = json.loads(capsys.readouterr().out)["space"]
        assert picked == next(SPACE_OF[p] for c, _, p in rows if c == col)
    assert time.perf_counter() - t0 < 60 * 3  # < 60 s on a quiet machine; generous when shared
