"""BBSSP layer-adaptive LUT on a fake board with a known fusion rule and a known per-inference overhead."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from calibration.bbssp import BBSSPLut, backbone_block_layers
from calibration.correctors import CalibrationError, load_corrector
from calibration.measurements import KernelTime, Measurement

from .conftest import FusingFakeDevice


@pytest.fixture(scope="module")
def space():
    from spaces.registry import get_space

    return get_space("bbssp-res-cifar")


@pytest.fixture(scope="module")
def lut(space) -> BBSSPLut:
    return BBSSPLut.from_device(space, FusingFakeDevice())


def test_block_attribution_partitions_searchable_layers(space) -> None:
    net, blocks = backbone_block_layers(space, space.typical_arch())
    names = [n for b in blocks.values() for n in b]
    assert len(names) == len(set(names))  # disjoint
    assert all(blocks[lb] for lb in space.labels)
    outside = {layer.name for layer in net.layers} - set(names)
    assert outside  # stem and head are not credited to any block


def test_constant_offset_property(space, lut) -> None:
    """sum(LUT) of SSBN_0 misses T(SSBN_0) by a constant (stem + head + overhead); the offset removes it."""
    dev = FusingFakeDevice()
    net0, blocks = backbone_block_layers(space, space.typical_arch())
    prof = dev.profile(net0)
    in_blocks = set().union(*blocks.values())
    stem_head = math.fsum(k.latency_ms for k in prof.kernels if k.layers[0] not in in_blocks)
    t0 = dev.run(net0).latency_ms
    lut_sum0 = float(lut.lut_sums([space.typical_arch()])[0])
    assert lut_sum0 == pytest.approx(math.fsum(lut.t_typ_ms))
    assert t0 - lut_sum0 == pytest.approx(stem_head + dev.overhead_ms, rel=1e-9)
    assert lut.offset_ms == pytest.approx(t0 - lut_sum0, rel=1e-12)
    assert float(lut.predict([space.typical_arch()])[0]) == pytest.approx(t0, rel=1e-12)


def test_exact_on_additive_board(space, lut) -> None:
    """With layer-local fusion every arch is predicted exactly, not only the SSBNs."""
    dev = FusingFakeDevice()
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(8)]
    true = [dev.run(space.to_workload(a)).latency_ms for a in archs]
    np.testing.assert_allclose(lut.predict(archs), true, rtol=1e-9)
    ssbn = {**space.typical_arch().to_dict(), "layer2": "res4"}
    t_ssbn = dev.run(space.to_workload(ssbn)).latency_ms
    assert lut.entry("layer2", "res4") == pytest.approx(lut.t_typ_ms[2] + t_ssbn - lut.t_ssbn0_ms, rel=1e-12)


def test_from_measurements_equals_from_device(space, lut) -> None:
    from spaces.ssbn import ssbns

    dev = FusingFakeDevice()
    base = space.typical_arch()
    net0, blocks = backbone_block_layers(space, base)
    prof = dev.profile(net0)
    label_of = {n: lb for lb, names in blocks.items() for n in names}
    kernels = tuple(KernelTime(k.name, k.latency_ms, label_of.get(k.layers[0]), k.layers) for k in prof.kernels)
    ms = []
    for i, s in enumerate(ssbns(space)):
        t = dev.run(space.to_workload(s.arch)).latency_ms
        ms.append(Measurement(s.key, "fake", t, space="bbssp-res-cifar", arch=space.format(s.arch),
                              kernels=kernels if i == 0 else ()))
    from_meas = BBSSPLut.from_measurements(space, ms)
    rng = np.random.default_rng(1)
    archs = [space.sample(rng) for _ in range(5)]
    np.testing.assert_allclose(from_meas.predict(archs), lut.predict(archs), rtol=1e-12)
    with pytest.raises(CalibrationError, match="no per-kernel rows labelled"):
        BBSSPLut.from_measurements(space, [ms[0].__class__(**{**ms[0].__dict__, "kernels": ()})] + ms[1:])
    with pytest.raises(CalibrationError, match="no measurement of SSBN_0"):
        BBSSPLut.from_measurements(space, ms[1:])


def test_affine_fit_on_scaled_board(space, lut) -> None:
    """A board 1.5x slower plus 2 ms: the affine fit recovers it from a few measured archs."""
    dev = FusingFakeDevice()
    rng = np.random.default_rng(2)
    archs = [space.sample(rng) for _ in range(10)]
    ms = [Measurement(f"a{i}", "fake", 1.5 * dev.run(space.to_workload(a)).latency_ms + 2.0,
                      space="bbssp-res-cifar", arch=space.format(a)) for i, a in enumerate(archs)]
    fitted = lut.fit(ms[:6])
    assert fitted.mode == "affine"
    assert fitted.scale == pytest.approx(1.5, rel=1e-6)
    np.testing.assert_allclose(fitted.predict(ms[6:]), [m.latency_ms for m in ms[6:]], rtol=1e-6)


def test_save_load_and_table(tmp_path: Path, space, lut) -> None:
    lut.save(tmp_path / "b.json")
    back = load_corrector(tmp_path / "b.json")
    rng = np.random.default_rng(3)
    archs = [space.sample(rng) for _ in range(4)]
    np.testing.assert_allclose(back.predict(archs), lut.predict(archs), rtol=1e-12)
    blocks = [f"res{j}" for j in range(9)]
    arr = lut.as_array(blocks)
    t = BBSSPLut.from_table(lut.labels, blocks, arr, lut.typical, space)
    with pytest.raises(CalibrationError, match="offset"):
        t.predict(archs)
    np.testing.assert_allclose(t.lut_sums(archs), lut.lut_sums(archs), rtol=1e-12)
