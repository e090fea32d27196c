"""The BBSSP profiling pipeline on tiny families: outputs, LUT, resume, settings check, weight inheritance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nas.cost import CostParams, ssbn_cost
from nas.evaluators.datasets import DatasetSpec
from nas.evaluators.table import TableEvaluator
from nas.evaluators.train import Budget, TrainEvaluator
from nas.evaluators.zero_cost import ZeroCostEvaluator
from nas.profiling import ProfileConfig, ProfilingError, load_lut, per_layer_times_ms, profile_spaces
from hwsim.devices.registry import get_device
from spaces.registry import get_space
from spaces.ssbn import ssbns

DEVICE = "dpu-b4096-zcu102"


def _zc() -> ZeroCostEvaluator:
    return ZeroCostEvaluator(DatasetSpec("synthetic", 8, num_samples=64), ("naswot", "synflow"), batch_size=8)


def test_zero_cost_pipeline(tmp_path: Path, tiny_families: tuple[str, str]) -> None:
    cfg = ProfileConfig(tiny_families, DEVICE, _zc(), CostParams(0.5, 1.0, 0.5, 3))
    res = profile_spaces(cfg, tmp_path / "p", plots=True)
    s = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert s["winner"] in ("tiny-res", "tiny-vgg")
    assert len(s["ssbn"]) == 10 and len(s["candidates_per_layer"]) == 2
    assert s["tuned_space_size"] == int(np.prod([len(c) for c in s["candidates_per_layer"]]))
    for p in ("summary.md", "lut.json", "tuned_space.json", "plots/cost_scatter.png", "plots/candidates_heatmap.png"):
        assert (tmp_path / "p" / p).is_file(), p
    # every SSBN's cost is the formula on its latency and rank-based proxy accuracy
    for row in s["ssbn"]:
        assert row["cost"] == pytest.approx(ssbn_cost(row["accuracy_for_cost"], row["latency_ms"], cfg.cost))
    # the tuned space keeps each layer's typical block and only the winner's blocks
    win = res.winner
    assert res.tuned_space.size() == s["tuned_space_size"]
    assert all(t in c.candidates for t, c in zip(win.space.typical, res.tuned_space.choices))


def test_lut_matches_definition_and_device(tmp_path: Path, tiny_families: tuple[str, str]) -> None:
    cfg = ProfileConfig(tiny_families, DEVICE, _zc(), CostParams(0.5, 1.0, 0.5, 3))
    res = profile_spaces(cfg, tmp_path / "p", plots=False)
    fam = res.family("tiny-res")
    space = fam.space
    lut = load_lut(tmp_path / "p" / "lut.json", space)
    device = get_device(DEVICE)
    t0 = device.run(space.to_workload(space.typical_arch())).latency_ms
    assert fam.base.latency_ms == t0
    for sb in ssbns(space)[1:]:
        t = device.run(space.to_workload(sb.arch)).latency_ms
        i = space.labels.index(sb.layer)
        assert lut.entry(sb.layer, sb.block) == pytest.approx(fam.typical_layer_ms[i] + t - t0, abs=1e-12)
        # offset-mode prediction of a single-layer replacement is exact
        assert lut.predict([sb.arch])[0] == pytest.approx(t, abs=1e-9)
    assert lut.predict([space.typical_arch()])[0] == pytest.approx(t0, abs=1e-12)
    # t_typ: per-layer profile of SSBN_0 lies below the whole-network time
    assert 0 < sum(fam.typical_layer_ms) < t0


def test_per_layer_times_by_anchor() -> None:
    class K:
        def __init__(self, layers: tuple[str, ...], ms: float) -> None:
            self.layers, self.latency_ms = layers, ms

    ks = [K(("stem",), 1.0), K(("a", "b"), 2.0), K(("c",), 3.0), K(("b2", "head"), 4.0)]
    assert per_layer_times_ms(ks, [{"a", "b"}, {"c", "b2"}]) == (2.0, 7.0)


def test_resume_skips_and_equals(tmp_path: Path, tiny_families: tuple[str, str]) -> None:
    cfg = ProfileConfig(tiny_families, DEVICE, _zc(), CostParams(0.5, 1.0, 0.5, 3))
    profile_spaces(cfg, tmp_path / "p", plots=False)
    first = (tmp_path / "p" / "summary.json").read_text()
    victims = sorted((tmp_path / "p" / "ssbn" / "tiny-vgg").glob("*.json"))[:2]
    kept = (tmp_path / "p" / "ssbn" / "tiny-res" / "ssbn_0.json")
    kept_mtime = kept.stat().st_mtime_ns
    for v in victims:
        v.unlink()
    calls: list[int] = []

    def progress(total: int, desc: str):  # counts the SSBNs the rerun finds already done
        class P:
            def update(self, n: int = 1) -> None:
                calls.append(n)

            def close(self) -> None:
                pass
        return P()

    profile_spaces(cfg, tmp_path / "p", progress=progress, plots=False)
    assert calls[0] == 8 and sum(calls) == 10
    assert kept.stat().st_mtime_ns == kept_mtime
    assert (tmp_path / "p" / "summary.json").read_text() == first


def test_other_settings_refused(tmp_path: Path, tiny_families: tuple[str, str]) -> None:
    cfg = ProfileConfig(tiny_families[:1], DEVICE, _zc(), CostParams(0.5, 1.0, 0.5, 3))
    profile_spaces(cfg, tmp_path / "p", plots=False)
    with pytest.raises(ProfilingError, match="seed"):
        profile_spaces(ProfileConfig(tiny_families[:1], DEVICE, _zc(), CostParams(0.5, 1.0, 0.5, 3), seed=1),
                       tmp_path / "p", plots=False)
    # cost knobs are free to change on an existing directory
    res = profile_spaces(ProfileConfig(tiny_families[:1], DEVICE, _zc(), CostParams(0.9, 2.0, 0.0, 2)),
                         tmp_path / "p", plots=False)
    assert res.summary["cost"]["k"] == 2


def test_train_pipeline_inherits_weights(tmp_path: Path, tiny_families: tuple[str, str]) -> None:
    ev = TrainEvaluator(DatasetSpec("digits", 8, max_train=128, max_test=64), Budget(steps=10), Budget(steps=3),
                        batch_size=32)
    cfg = ProfileConfig(tiny_families[:1], DEVICE, ev, CostParams(0.5, 1.0, 0.5, 3))
    res = profile_spaces(cfg, tmp_path / "p", plots=False)
    assert (tmp_path / "p" / "weights" / "tiny-res.pt").is_file()
    fam = res.family("tiny-res")
    assert all(r.details["modules_inherited"] > 0 for r in fam.records[1:])
    assert fam.base.details["modules_inherited"] == 0
    assert all(0 <= r.accuracy <= 1 for r in fam.records)


def test_table_pipeline_same_accuracy_latency_decides(tmp_path: Path, tiny_families: tuple[str, str]) -> None:
    rows = ["space,arch,accuracy"]
    for f in tiny_families:
        sp = get_space(f)
        rows += [f"{sp.name},{sp.format(sb.arch)},0.9" for sb in ssbns(sp)]
    (tmp_path / "acc.csv").write_text("\n".join(rows) + "\n")
    cfg = ProfileConfig(tiny_families, DEVICE, TableEvaluator(str(tmp_path / "acc.csv")),
                        CostParams(0.8, 2.0, 0.01, 4))
    res = profile_spaces(cfg, tmp_path / "p", plots=False)
    # equal accuracies: cost = const - lambda/T rises with T -> the first family with 4 of the fastest entries wins
    pooled = sorted((t, f.space.name) for f in res.families for t in f.latency_ms.ravel())
    counts: dict[str, int] = {}
    for _, name in pooled:
        counts[name] = counts.get(name, 0) + 1
        if counts[name] == 4:
            break
    assert res.selection.winner == name


def test_missing_family_space(tmp_path: Path) -> None:
    from spaces.core import SpaceError

    with pytest.raises(SpaceError):
        profile_spaces(ProfileConfig(("bbssp-nope",), DEVICE, _zc()), tmp_path / "p")
