"""Latency models for search: vectorised (additive) prediction equals the per-arch path, tables, corrector spaces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from calibration.correctors import TableSource, make_corrector
from calibration.lut import build_lut
from calibration.workloads import nb201_unpruned_space
from hwsim.devices import get_device
from nas.latency_models import (
    LatencyModelError,
    LutSumLatency,
    TableLatency,
    arch_indices,
    fastest_ms,
    flat_index,
    load_corrector_model,
    make_latency_model,
)
from spaces.registry import get_space


def test_flat_index_is_enumerate_order() -> None:
    sp = get_space("nb201")
    archs = list(sp.enumerate())
    assert flat_index(sp, arch_indices(sp, archs)).tolist() == list(range(sp.size()))


@pytest.mark.parametrize("space", ["nb201-unpruned", "nb201"])
def test_batch_equals_per_arch_on_nb201(space: str) -> None:
    from calibration.workloads import get_space as workload_space

    sp = workload_space(space)
    m = LutSumLatency(sp, "roofline-reference")
    assert m.batch() is not None
    rng = np.random.default_rng(7)
    archs = [sp.sample(rng) for _ in range(25)] + [sp.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")]
    fast = m.predict_ms(archs)
    slow = m.predict_per_arch(archs)
    np.testing.assert_allclose(fast, slow, rtol=1e-9)
    allv = m.predict_all()
    assert allv is not None and allv.shape == (15_625,)
    np.testing.assert_allclose(allv[flat_index(sp, arch_indices(sp, archs))], slow, rtol=1e-9)
    assert fastest_ms(m) == float(allv.min())


def test_batch_on_backbone_space(tiny_families: tuple[str, str]) -> None:
    sp = get_space(tiny_families[0])
    m = make_latency_model(sp, device="dpu-b4096-zcu102")  # BBSSP LUT
    assert m.batch() is not None
    archs = list(sp.enumerate())
    np.testing.assert_allclose(m.predict_ms(archs), m.predict_per_arch(archs), rtol=1e-12)


def _nb201_corrector(tmp_path: Path, space_key: str | None) -> Path:
    ws = nb201_unpruned_space()
    rng = np.random.default_rng(0)
    archs = [ws.sample(rng) for _ in range(6)]
    nets = [ws.to_workload(a) for a in archs]
    dev = get_device("roofline-reference")
    lut = build_lut(dev, nets)
    y = lut.predict(nets) * 3.0 + 1.0
    cor = make_corrector("kernel-type", lut, TableSource(device=dev)).fit_workloads(nets, y)
    d = cor.to_dict()
    if space_key is not None:
        d["space"] = space_key
    p = tmp_path / f"corr_{space_key}.json"
    p.write_text(json.dumps(d))
    return p


def test_corrector_model_space_rules(tmp_path: Path) -> None:
    nb = get_space("nb201")
    m = load_corrector_model(_nb201_corrector(tmp_path, "nb201-unpruned"), nb)
    assert m.workload_space.name == "nb201-unpruned" and m.batch() is not None
    rng = np.random.default_rng(3)
    archs = [nb.sample(rng) for _ in range(10)]
    np.testing.assert_allclose(m.predict_ms(archs), m.predict_per_arch(archs), rtol=1e-9)
    with pytest.raises(LatencyModelError, match="fitted on space 'fbnet'"):
        load_corrector_model(_nb201_corrector(tmp_path, "fbnet"), nb)
    with pytest.raises(LatencyModelError, match="unknown space"):
        load_corrector_model(_nb201_corrector(tmp_path, "nope"), nb)
    with pytest.raises(LatencyModelError, match="not found"):
        load_corrector_model(tmp_path / "missing.json", nb)


def test_table_latency(tmp_path: Path) -> None:
    sp = get_space("nb201")
    a, b = sp.parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"), sp.sample(
        np.random.default_rng(1))
    p = tmp_path / "lat.csv"
    p.write_text(f"nb201_idx,arch_str,dev\n0,{sp.format(a)},3.5\n")
    m = TableLatency(sp, str(p), "dev")
    assert m.predict_ms([a]).tolist() == [3.5] and m.measured_ms(a) == 3.5
    assert m.predict_all() is None  # the table does not cover the space
    if sp.format(b) != sp.format(a):
        with pytest.raises(LatencyModelError, match="no latency"):
            m.predict_ms([b])
    with pytest.raises(LatencyModelError, match="no column 'other'"):
        TableLatency(sp, str(p), "other")
