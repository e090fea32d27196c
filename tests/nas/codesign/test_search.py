import numpy as np
import pytest

from nas.codesign.pareto import CodesignError, dominates_any, feasible_mask, front_mask_naive, objective_matrix
from nas.codesign.search import (HvBounds, Limits, PairCache, decode, encode, exhaustive, hypervolume, nsga2,
                                 sequential)
from tests.nas.codesign.conftest import synthetic_source

OBJS = ("accuracy", "latency", "energy", "area")
LIM = Limits(area_mm2=2.0, power_w=None, latency_ms=6.0)


def _all_feasible(src, lim):
    lat, en, p = src.grid()
    area = src.area(np.arange(src.n_hw))
    feas = feasible_mask(lat, area, p, lim.area_mm2, lim.power_w, lim.latency_ms)
    a, h = np.nonzero(feas)
    return objective_matrix(OBJS, src.accuracy(a), lat[a, h], en[a, h], area[h])


def _check_front(res, src, lim):
    f = res.front.objectives(OBJS)
    assert len(res.front) > 0
    assert not dominates_any(f, f).any()
    assert (res.front.area_mm2 <= lim.area_mm2).all()
    assert (res.front.latency_ms <= lim.latency_ms).all()
    if lim.power_w is not None:
        assert (res.front.power_w <= lim.power_w).all()


@pytest.mark.parametrize("seed", range(3))
def test_exhaustive_is_the_exact_front(seed):
    src = synthetic_source(seed)
    lim = Limits(area_mm2=2.0, power_w=4.0, latency_ms=6.0)
    res = exhaustive(src, OBJS, lim)
    _check_front(res, src, lim)
    lat, en, p = src.grid()
    area = src.area(np.arange(src.n_hw))
    feas = feasible_mask(lat, area, p, 2.0, 4.0, 6.0)
    a, h = np.nonzero(feas)
    f = objective_matrix(OBJS, src.accuracy(a), lat[a, h], en[a, h], area[h])
    ref = set(zip(a[front_mask_naive(f)].tolist(), h[front_mask_naive(f)].tolist()))
    assert set(zip(res.front.arch.tolist(), res.front.hw.tolist())) == ref
    assert res.evaluations["pairs"] == src.n_arch * src.n_hw


def test_nsga2_front_valid_deterministic_and_budgeted(source):
    r1 = nsga2(source, OBJS, LIM, budget_pairs=400, seed=3, pop_size=20)
    r2 = nsga2(source, OBJS, LIM, budget_pairs=400, seed=3, pop_size=20)
    _check_front(r1, source, LIM)
    assert r1.evaluations["pairs"] == 400
    assert (r1.front.arch == r2.front.arch).all() and (r1.front.hw == r2.front.hw).all()
    # every nsga2 front point is feasible and not dominated by ... at least as good as random? it is a subset
    ex = exhaustive(source, OBJS, LIM)
    assert not dominates_any(r1.front.objectives(OBJS), ex.front.objectives(OBJS)).any()
    b = HvBounds.of(OBJS, ex.front.objectives(OBJS))
    assert 0 < hypervolume(r1.front.objectives(OBJS), b) <= hypervolume(ex.front.objectives(OBJS), b) + 1e-12


def test_nsga2_accuracy_budget(source):
    r = nsga2(source, OBJS, LIM, budget_pairs=10_000, budget_accuracy=10, seed=0, pop_size=20)
    assert r.evaluations["accuracy_queries"] == 10


def test_nsga2_resume_replays_the_same_run(source):
    full = nsga2(source, OBJS, LIM, budget_pairs=500, seed=1, pop_size=20)
    saved = []
    nsga2(source, OBJS, LIM, budget_pairs=250, seed=1, pop_size=20,
          on_generation=lambda c: saved.append(c.to_arrays()))
    cache = PairCache.from_arrays(saved[-1])
    calls = []
    n0 = len(cache.flat)
    assert 0 < n0 < 500

    class Spy:
        def __getattr__(self, k):
            return getattr(source, k)

        def metrics(self, a, h):
            calls.append(len(a))
            return source.metrics(a, h)

    resumed = nsga2(Spy(), OBJS, LIM, budget_pairs=500, seed=1, pop_size=20, cache=cache)
    assert (resumed.front.arch == full.front.arch).all() and (resumed.front.hw == full.front.hw).all()
    assert resumed.evaluations == full.evaluations
    assert sum(calls) == 500 - n0  # only the pairs not saved are evaluated again


def test_sequential(source):
    res = sequential(source, OBJS, LIM, default_hw=5)
    _check_front(res, source, LIM)
    best = res.extra["chosen_arch"]
    lat0, _, _ = source.metrics(np.arange(source.n_arch), np.full(source.n_arch, 5))
    ok = lat0 <= LIM.latency_ms
    assert source.accuracy(np.array([best]))[0] == source.accuracy(np.flatnonzero(ok)).max()
    assert (res.front.arch == best).all()
    d = res.extra["design_hw"]
    lat, en, _ = source.metrics(np.full(source.n_hw, best), np.arange(source.n_hw))
    area = source.area(np.arange(source.n_hw))
    feas = (area <= 2.0) & (lat <= 6.0)
    assert (lat * en)[d] == (lat * en)[feas].min()


def test_codec_and_errors(source):
    idx = np.arange(48)
    assert (decode(encode(idx, (4, 4, 3)), (4, 4, 3)) == idx).all()
    with pytest.raises(CodesignError, match="positive number"):
        Limits(area_mm2=-1.0)
    with pytest.raises(CodesignError, match="budget"):
        nsga2(source, OBJS, LIM, budget_pairs=0, seed=0)
    with pytest.raises(CodesignError, match="default hardware"):
        sequential(source, OBJS, LIM, default_hw=999)
    with pytest.raises(CodesignError, match="no architecture"):
        sequential(source, OBJS, Limits(latency_ms=1e-9), default_hw=0)
