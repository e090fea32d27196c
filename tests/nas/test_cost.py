"""BBSSP cost and pooled family selection."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nas.cost import (
    CostError,
    CostParams,
    FamilyCosts,
    proxy_accuracy,
    proxy_rank,
    rank_pool,
    select_family,
    ssbn_cost,
    ssbn_costs,
)


def test_cost_formula_by_hand() -> None:
    p = CostParams(theta=0.8, sigma=2.0, lam=0.01, k=3)
    assert ssbn_cost(0.8, 2.0, p) == pytest.approx(1.0 - 0.005)
    assert ssbn_cost(0.6, 1.0, p) == pytest.approx(math.exp(0.1) - 0.01)
    # higher accuracy and higher latency both lower... accuracy lowers cost, latency raises it
    assert ssbn_cost(0.9, 1.0, p) < ssbn_cost(0.8, 1.0, p)
    assert ssbn_cost(0.8, 1.0, p) < ssbn_cost(0.8, 2.0, p)


def test_vectorised_cost_equals_scalar() -> None:
    rng = np.random.default_rng(0)
    acc = rng.uniform(0, 1, (7, 5))
    lat = rng.uniform(0.1, 10, (7, 5))
    p = CostParams(0.92, 1.0, 0.5, 4)
    vec = ssbn_costs(acc, lat, p)
    for i in range(7):
        for j in range(5):
            assert vec[i, j] == pytest.approx(ssbn_cost(acc[i, j], lat[i, j], p), rel=1e-12)


@pytest.mark.parametrize("kw", [{"sigma": 0}, {"lam": -1}, {"k": 0}, {"theta": float("nan")}, {"k": 2.5}])
def test_bad_params(kw: dict) -> None:
    with pytest.raises(CostError):
        CostParams(**kw)


def test_bad_latency() -> None:
    with pytest.raises(CostError, match="latency"):
        ssbn_cost(0.5, 0.0, CostParams())


def _fam(name: str, cost: list[list[float]], blocks: tuple[str, ...], typical: str) -> FamilyCosts:
    return FamilyCosts(name, blocks, (typical,) * len(cost), cost)


def test_selection_by_hand() -> None:
    a = _fam("A", [[0.5, 0.1, 0.9], [0.5, 0.2, 0.8]], ("a0", "a1", "a2"), "a0")
    b = _fam("B", [[0.4, 0.15, 0.3], [0.4, 0.6, 0.7]], ("b0", "b1", "b2"), "b0")
    # ranking: A(0,a1) .1, B(0,b1) .15, A(1,a1) .2, B(0,b2) .3, B(0,b0) .4, B(1,b0) .4 -> B reaches 4 first
    sel = select_family([a, b], 4)
    assert sel.winner == "B"
    assert [(e.layer, e.block) for e in sel.entries] == [(0, "b1"), (0, "b2"), (0, "b0"), (1, "b0")]
    assert sel.candidates == (("b0", "b1", "b2"), ("b0",))
    assert sel.candidate_counts == (3, 1)
    assert sel.tuned_space_size == 3
    assert sel.counts == {"A": 2, "B": 4}
    # with k = 2 family A gets there first
    sel2 = select_family([a, b], 2)
    assert sel2.winner == "A" and sel2.candidates == (("a0", "a1"), ("a0", "a1"))


def test_typical_block_always_kept() -> None:
    a = _fam("A", [[9.0, 0.1], [9.0, 0.2]], ("t", "x"), "t")
    sel = select_family([a], 1)
    assert sel.candidates == (("t", "x"), ("t",))


def test_k_too_large() -> None:
    a = _fam("A", [[0.1, 0.2]], ("t", "x"), "t")
    with pytest.raises(CostError, match="k=3"):
        select_family([a], 3)


def _naive_select(fams: list[FamilyCosts], k: int) -> tuple[str, set[tuple[int, str]]]:
    """Reference: grow the prefix of the full sorted list one entry at a time and recount from scratch."""
    entries = sorted(((c, fi, i, j) for fi, f in enumerate(fams) for i, row in enumerate(f.cost)
                      for j, c in enumerate(row)))
    for n in range(1, len(entries) + 1):
        prefix = entries[:n]
        for fi, f in enumerate(fams):
            mine = [(i, f.blocks[j]) for _, ffi, i, j in prefix if ffi == fi]
            if len(mine) == k:
                return f.family, set(mine)
    raise AssertionError


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6))
def test_selection_matches_naive(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    fams = [_fam(n, rng.integers(0, 5, (3, nb)).astype(float).tolist(), tuple(f"{n}{j}" for j in range(nb)),
                 f"{n}0") for n, nb in (("A", 3), ("B", 4))]
    sel = select_family(fams, k)
    win, entries = _naive_select(fams, k)
    assert sel.winner == win
    assert {(e.layer, e.block) for e in sel.entries} == entries
    assert [e.cost for e in sel.entries] == sorted(e.cost for e in sel.entries)
    assert len(rank_pool(fams)) == 3 * 3 + 3 * 4


def test_proxy_rank_and_accuracy_scale() -> None:
    assert proxy_rank([3.0, 1.0, 2.0]).tolist() == [1.0, 0.0, 0.5]
    assert proxy_rank([1.0, 1.0, 5.0]).tolist() == [0.25, 0.25, 1.0]
    assert proxy_rank([7.0]).tolist() == [0.5]
    with pytest.raises(CostError):
        proxy_rank([1.0, float("inf")])
    # ranks map onto theta +- proxy_spread / 2 (default spread 0.025: 2.5 accuracy points)
    p = CostParams(theta=0.8)
    assert proxy_accuracy([0.0, 0.5, 1.0], p) == pytest.approx([0.7875, 0.8, 0.8125])
    assert proxy_accuracy([0.0, 1.0], CostParams(theta=0.5, proxy_spread=1.0)) == pytest.approx([0.0, 1.0])
    with pytest.raises(CostError, match="proxy ranks"):
        proxy_accuracy([1.5], p)
    for bad in (0.0, -0.1, float("nan"), True):
        with pytest.raises(CostError, match="proxy_spread"):
            CostParams(proxy_spread=bad)


def test_proxy_spread_decides_whether_latency_counts() -> None:
    # two one-layer families: "slow" ranks best on the proxy but is 4x slower (2.0 vs 0.5 ms). With the ranks
    # spread over a realistic 2.5 points, lam / T decides (0.015 > 0.0125); spread over 100 points, the proxy does.
    lat = {"fast": 0.5, "slow": 2.0}
    ranks = {"fast": 0.0, "slow": 1.0}
    for spread, winner in ((0.025, "fast"), (1.0, "slow")):
        p = CostParams(theta=0.8, sigma=2.0, lam=0.01, k=1, proxy_spread=spread)
        fams = [FamilyCosts(f, (f,), (f,), [[float(ssbn_cost(float(proxy_accuracy([ranks[f]], p)[0]), lat[f], p))]])
                for f in ("fast", "slow")]
        assert select_family(fams, 1).winner == winner


