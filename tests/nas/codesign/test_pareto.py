import numpy as np
import pytest

from nas.codesign.pareto import (CodesignError, dominates_any, feasible_mask, front_mask, front_mask_naive,
                                 grid_front, objective_matrix)


@pytest.mark.parametrize("seed", range(30))
def test_front_mask_matches_naive(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 300)), int(rng.integers(2, 5))
    f = rng.integers(0, 6, size=(n, m)).astype(float)  # many ties and duplicates
    if seed % 2:
        f = rng.random((n, m))
    assert (front_mask(f) == front_mask_naive(f)).all()
    groups = rng.integers(0, 4, size=n)
    fast = front_mask(f, groups=groups)
    for g in range(4):
        sel = groups == g
        assert (fast[sel] == front_mask_naive(f[sel])).all()


def _grid(seed, n_arch=40, n_hw=25, ties=False):
    rng = np.random.default_rng(seed)
    acc = rng.integers(80, 95, n_arch).astype(float) if ties else rng.uniform(80, 95, n_arch)
    macs = rng.uniform(1, 10, n_arch)
    pes = rng.uniform(1, 8, n_hw)
    lat = macs[:, None] / pes[None, :] * rng.uniform(0.8, 1.2, (n_arch, n_hw))
    en = macs[:, None] * (1 + 0.1 * pes[None, :]) * rng.uniform(0.9, 1.1, (n_arch, n_hw))
    area = pes * 0.3
    if ties:
        lat, en = np.round(lat), np.round(en)
        area = np.round(area, 1)
    return acc, lat, en, area


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("objs", [("accuracy", "latency", "energy", "area"), ("accuracy", "edp"),
                                  ("accuracy", "latency", "area")])
def test_grid_front_matches_naive(seed, objs):
    acc, lat, en, area = _grid(seed, ties=seed % 2 == 1)
    feas = feasible_mask(lat, area, None, area_limit=1.8, power_limit=None, latency_limit=8.0)
    a, h = grid_front(objs, acc, lat, en, area, feas)
    fa, fh = np.nonzero(feas)
    f = objective_matrix(objs, acc[fa], lat[fa, fh], en[fa, fh], area[fh])
    ref = front_mask_naive(f)
    assert sorted(zip(a.tolist(), h.tolist())) == sorted(zip(fa[ref].tolist(), fh[ref].tolist()))
    front = objective_matrix(objs, acc[a], lat[a, h], en[a, h], area[h])
    assert not dominates_any(front, front).any()
    assert (area[h] <= 1.8).all() and (lat[a, h] <= 8.0).all()


def test_bad_input():
    with pytest.raises(CodesignError, match="NaN"):
        front_mask(np.array([[np.nan, 1.0]]))
    with pytest.raises(CodesignError, match="unknown objective 'speed'"):
        objective_matrix(("accuracy", "speed"), [1], [1], [1], [1])
    with pytest.raises(CodesignError, match="power"):
        feasible_mask(np.ones((2, 2)), np.ones(2), None, None, 1.0, None)
