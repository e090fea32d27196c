"""Vectorised prediction (calibration.batch) against the per-arch path: one workload per arch, then predict."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from calibration.batch import arch_layout, batch_predictor, layout_lut, nb201_cell_masks, predict_space
from calibration.bbssp import BBSSPLut
from calibration.correctors import CalibrationError, TableSource, make_corrector
from calibration.lut import LatencyLUT, LutError, build_lut
from calibration.workloads import get_space
from spaces.core import SpaceError
from spaces.nb201 import EDGES, NB201_OPS, live_edges, zero_folded_cell
from tests.calibration.conftest import FusingFakeDevice

RTOL = 1e-9  # LUT-based paths: same terms, different float summation order

SPACES = ["nb201", "nb201-unpruned", "nb201-zero-folded", "fbnet", "fbnet-cifar", "proxyless", "bbssp-res-cifar",
          "bbssp-mobilev2-cifar"]
METHODS = ["lut", "affine", "kernel-type", "residual", "auto"]


def _sample(space, n: int, seed: int):
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def _board_ms(dev: FusingFakeDevice, net, k: int) -> float:
    """A board unlike any LUT sum: fused ReLUs, an overhead, a mild per-network nonlinearity and seeded noise."""
    t = dev.run(net).latency_ms
    return float(t * (1.0 + 0.05 * np.sin(k)) + 0.02 * t ** 1.1)


_FITTED: dict[str, tuple] = {}


def _fitted(name: str):
    """Per space: the fake device, 24 training archs with board latencies, their workloads, the space."""
    if name not in _FITTED:
        space = get_space(name)
        dev = FusingFakeDevice()
        train = _sample(space, 24, seed=1)
        nets = [space.to_workload(a) for a in train]
        y = np.array([_board_ms(dev, n, k) for k, n in enumerate(nets)])
        _FITTED[name] = (space, dev, nets, y)
    return _FITTED[name]


@pytest.mark.parametrize(("name", "method"), [(n, m) for n in SPACES for m in METHODS
                                             if m != "auto" or n in ("nb201", "fbnet")])  # auto: its chosen method
def test_batch_equals_per_arch_path(name: str, method: str) -> None:
    space, dev, nets, y = _fitted(name)
    lut = build_lut(dev, nets)  # the training networks only: the rest is profiled on demand (TableSource)
    if method == "lut":
        predictor = build_lut(dev, nets + [space.to_workload(a) for a in _sample(space, 12, seed=2)])
    else:
        predictor = make_corrector(method, lut, TableSource(device=dev), seed=3).fit_workloads(nets, y)
    test = _sample(space, 12, seed=2)
    want = predictor.predict([space.to_workload(a) for a in test]) if method == "lut" else \
        predictor.predict_workloads([space.to_workload(a) for a in test])
    bp = batch_predictor(predictor, space)
    got = bp.predict(test)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=0)
    codes = bp.encode([space.format(a) for a in test])
    np.testing.assert_array_equal(bp.predict_codes(codes), got)
    np.testing.assert_allclose(bp.predict_codes_direct(codes), want, rtol=RTOL, atol=0)  # NB201: without the table


def test_nb201_variant_argument_equals_the_variant_space() -> None:
    """``variant=`` on the plain nb201 space predicts like the variant's own space (its workloads)."""
    space, dev, nets, y = _fitted("nb201-zero-folded")
    cor = make_corrector("kernel-type", build_lut(dev, nets), TableSource(device=dev)).fit_workloads(nets, y)
    test = _sample(space, 20, seed=5)
    a = batch_predictor(cor, get_space("nb201"), "zero-folded").predict(test)
    b = batch_predictor(cor, space).predict(test)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(CalibrationError, match="unknown NB201 execution variant"):
        batch_predictor(cor, get_space("nb201"), "eager")
    with pytest.raises(CalibrationError, match="NB201 spaces only"):
        arch_layout(get_space("fbnet"), "pruned")


@pytest.mark.parametrize("variant", ["pruned", "zero-folded"])
def test_cell_masks_equal_the_reference_rules_on_every_cell(variant: str) -> None:
    space = get_space("nb201")
    lay = arch_layout(space, variant)
    codes = lay.all_codes()
    ops = lay.ops(codes)
    mk = nb201_cell_masks(ops, variant)
    for r, arch in enumerate(space.enumerate()):
        o = {(j, i): arch[f"edge_{j}_{i}"] for j, i in EDGES}
        if variant == "pruned":
            run, reads = set(live_edges(o)), bool(live_edges(o))
        else:
            cell = zero_folded_cell(o)
            run, reads = set(cell.edges), cell.reads_input
        assert {EDGES[k] for k in np.flatnonzero(mk["run"][r])} == run, space.format(arch)
        assert bool(mk["reads"][r]) == reads, space.format(arch)
        assert [NB201_OPS[x] for x in ops[r]] == [arch[f"edge_{j}_{i}"] for j, i in EDGES]


@pytest.mark.parametrize("name", ["nb201", "nb201-unpruned", "nb201-zero-folded", "fbnet", "proxyless"])
def test_components_rebuild_the_workload(name: str) -> None:
    """Layer multisets of seeded archs (adds, dead edges, disconnected and constant-input cells included)."""
    space = get_space(name)
    lay = arch_layout(space)
    lay.self_check(n=40, seed=11)
    if name.startswith("nb201"):  # the corner cases, explicitly
        for s in ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                  "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",
                  "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|",
                  "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|",
                  "|none~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|skip_connect~1|skip_connect~2|"):
            a = space.parse(s)
            want = sorted(__import__("hwsim.workload", fromlist=["x"]).layer_signature(x)
                          for x in space.to_workload(a).layers)
            assert lay.layer_keys(list(space.indices(a))) == want, s


def test_multiplicity_is_the_slow_twin_of_combine() -> None:
    rng = np.random.default_rng(4)
    for name in ("nb201-zero-folded", "fbnet"):
        lay = arch_layout(get_space(name))
        codes = lay.all_codes()[rng.integers(0, 15625, 200)] if name.startswith("nb201") else \
            np.stack([rng.integers(0, k, 200) for k in lay.n_candidates], axis=1)
        F = rng.random((lay.n_components, 3))
        np.testing.assert_allclose(lay.combine(codes, F), lay.multiplicity(codes) @ F, rtol=1e-12)


def test_predict_space_covers_nb201_in_enumerate_order() -> None:
    space, dev, nets, y = _fitted("nb201")
    lay = arch_layout(space)
    lut = layout_lut(dev, lay)
    codes, ms = predict_space(lut, space)
    assert codes.shape == (15625, 6) and ms.shape == (15625,)
    archs = list(space.enumerate())
    for r in (0, 1, 777, 15624):
        assert space.from_indices(list(codes[r])) == archs[r]
    pick = [0, 1, 777, 4242, 15624]
    np.testing.assert_allclose(ms[pick], lut.predict([space.to_workload(archs[r]) for r in pick]), rtol=RTOL)


def _bbssp_lut(space, seed: int) -> BBSSPLut:
    rng = np.random.default_rng(seed)
    blocks = space.choices[0].candidates
    table = rng.uniform(0.1, 2.0, (len(space.labels), len(blocks)))
    table[3, 5] = np.nan  # one block never profiled in layer3
    lut = BBSSPLut.from_table(space.labels, blocks, table, space.typical, space)
    return dataclasses.replace(lut, mode="affine", scale=1.25, offset_ms=0.375)


def test_bbssp_batch_and_lut_sums_are_bit_equal_to_the_naive_sum() -> None:
    space = get_space("bbssp-res-cifar")
    lut = _bbssp_lut(space, 0)
    archs = [a for a in _sample(space, 300, seed=7) if a["layer3"] != space.choices[3].candidates[5]]
    naive = lut.lut_sums_naive(archs)
    np.testing.assert_array_equal(lut.lut_sums(archs), naive)
    np.testing.assert_array_equal(batch_predictor(lut, space).predict(archs), 1.25 * naive + 0.375)
    bad = dict(archs[0], layer3=space.choices[3].candidates[5])
    with pytest.raises(CalibrationError, match="no entry for block 'res5' in layer 'layer3'"):
        lut.lut_sums([bad])
    with pytest.raises(CalibrationError, match="no entry for block 'res5' in layer 'layer3'"):
        batch_predictor(lut, space).predict([bad])
    with pytest.raises(CalibrationError, match="labels"):
        batch_predictor(lut, get_space("bbssp-res"))


def test_bad_input_is_a_one_line_error() -> None:
    space, dev, nets, y = _fitted("nb201")
    lut = layout_lut(dev, arch_layout(space))
    bp = batch_predictor(lut, space)
    with pytest.raises(CalibrationError, match=r"arch code 5 of edge_1_0 \(row 0\) outside 0..4"):
        bp.predict_codes(np.array([[5, 0, 0, 0, 0, 0]]))
    with pytest.raises(CalibrationError, match=r"shape \(n, 6\)"):
        bp.predict_codes(np.zeros((2, 5), dtype=int))
    with pytest.raises(SpaceError):
        bp.predict(["|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    with pytest.raises(SpaceError, match="not a candidate"):
        bp.predict([{lb: "conv" for lb in space.labels}])
    keep = [k for k, key in enumerate(lut.keys)  # drop the 3x3 pools of avg_pool_3x3 edges
            if not (key.startswith('["pool2d"') and json.loads(key)[5:7] == [3, 3])]
    partial = LatencyLUT(lut.device, *(tuple(np.array(v, dtype=object)[keep]) for v in (lut.keys, lut.latency_ms,
                                                                                       lut.types)))
    bp = batch_predictor(partial, space)  # archs without pooling edges still predict, as one by one
    ok = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|none~2|"
    np.testing.assert_allclose(bp.predict([ok]), partial.predict([space.to_workload(space.parse(ok))]), rtol=RTOL)
    with pytest.raises(LutError, match="no entry for layer 'avgpool'"):
        bp.predict([ok, ok.replace("none~1|none~2", "none~1|avg_pool_3x3~2")])
    with pytest.raises(CalibrationError, match="not fitted"):
        batch_predictor(make_corrector("kernel-type", lut), space)
    with pytest.raises(CalibrationError, match="cannot batch-predict"):
        batch_predictor(object(), space)


def test_tree_ensemble_predicts_like_the_gradient_boosting_regressor() -> None:
    from sklearn.ensemble import GradientBoostingRegressor

    from calibration.batch import TreeEnsemble

    rng = np.random.default_rng(0)
    X, r = rng.random((12, 7)), rng.standard_normal(12)
    g = GradientBoostingRegressor(n_estimators=50, max_depth=2, learning_rate=0.05, random_state=0).fit(X, r)
    ens = TreeEnsemble.from_gbr(g)
    Y = rng.random((500, 7)) * 1.4 - 0.2
    Y[:12] = X  # rows on the training values: thresholds are their midpoints
    np.testing.assert_array_equal(ens.predict(Y), g.predict(Y))
    with pytest.raises(CalibrationError, match=r"shape \(n, 7\)"):
        ens.predict(Y[:, :6])
    with pytest.raises(CalibrationError, match="finite"):
        ens.predict(np.full((1, 7), np.nan))
