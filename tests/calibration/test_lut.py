from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from calibration.lut import (
    LatencyLUT,
    LutCache,
    LutError,
    build_lut,
    cache_key,
    kernel_type,
    layer_key,
    lut_from_layer_times,
    unit_lut,
)
from hwsim.workload import layer_signature

from .conftest import FusingFakeDevice, fake_layer_ms, small_net


def test_layer_key_matches_layer_signature(nets) -> None:
    layers = [layer for n in nets for layer in n.layers]
    for a in layers[::7]:
        for b in layers[::5]:
            assert (layer_key(a) == layer_key(b)) == (layer_signature(a) == layer_signature(b))


def test_vectorised_predict_equals_naive(nets, fake_device) -> None:
    lut = build_lut(fake_device, nets)
    fast = lut.predict(nets)
    slow = lut.predict_naive(nets)
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
    exact = [sum(fake_layer_ms(x) for x in n.layers) for n in nets]
    np.testing.assert_allclose(fast, exact, rtol=1e-12)


def test_profiles_each_configuration_once(nets) -> None:
    dev = FusingFakeDevice()
    lut = build_lut(dev, nets)
    assert len(dev.calls) == len(lut)
    distinct = {layer_key(x) for n in nets for x in n.layers}
    assert len(lut) == len(distinct)


def test_type_features_sum_to_total(nets, fake_device) -> None:
    lut = build_lut(fake_device, nets)
    sums, counts = lut.type_features(lut.encode(nets))
    np.testing.assert_allclose(sums.sum(axis=1), lut.predict(nets), rtol=1e-12)
    np.testing.assert_array_equal(counts.sum(axis=1), [len(n) for n in nets])
    conv_col = lut.type_names.index("conv3x3")
    assert counts[1, conv_col] == sum(1 for x in nets[1].layers if kernel_type(x) == "conv3x3")


def test_missing_configuration_is_an_error(nets, fake_device) -> None:
    lut = build_lut(fake_device, nets[:2])
    other = small_net("big", (64, 64), kernel=7)
    with pytest.raises(LutError, match="no entry for layer"):
        lut.predict([other])


def test_save_load_roundtrip(tmp_path: Path, nets, fake_device) -> None:
    lut = build_lut(fake_device, nets)
    lut.save(tmp_path / "l.json")
    back = LatencyLUT.load(tmp_path / "l.json")
    assert back == lut
    np.testing.assert_array_equal(back.predict(nets), lut.predict(nets))


def test_cache_hits_and_keys(tmp_path: Path, nets) -> None:
    dev = FusingFakeDevice()
    cache = LutCache(tmp_path)
    lut1 = cache.get_or_build(dev, "space-a", nets[:10])
    n_calls = len(dev.calls)
    lut2 = cache.get_or_build(dev, "space-a", nets[:10])
    assert len(dev.calls) == n_calls  # served from disk
    assert lut2 == lut1
    cache.get_or_build(dev, "space-a", nets)  # extends with the missing configurations only
    assert len(dev.calls) == n_calls + len({layer_key(x) for n in nets for x in n.layers}) - len(lut1)
    other = dataclasses.replace(dev, overhead_ms=1.0)
    assert cache_key(other, "space-a") != cache_key(dev, "space-a")
    assert cache_key(dev, "space-b") != cache_key(dev, "space-a")
    assert not list(tmp_path.glob("*.tmp"))


def test_lut_from_measured_layer_times(nets) -> None:
    layer = nets[0].layers[0]
    lut = lut_from_layer_times("board", [(layer, 1.0), (layer, 3.0), (layer, 2.5)])
    assert lut.lookup(layer) == 2.5
    with pytest.raises(LutError):
        lut_from_layer_times("board", [(layer, float("nan"))])


def test_unit_lut_counts_layers(nets) -> None:
    lut = unit_lut(nets)
    np.testing.assert_array_equal(lut.predict(nets), [len(n) for n in nets])
