"""``hwnas search --space nb201``: the scripted CLI contract, reproducibility, budget and limit, bad input.

The contract runs on synthetic accuracy/latency tables of all 15,625 cells (no shared data needed) and, where the
shared folder is present, on the real CIFAR-100 table with a corrector written by ``hwnas calibrate fit --save``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.fileio import shared_data_dir
from nas.evaluators.table import TableEvaluator
from nas.latency_models import TableLatency
from nas.search.differentiable import SearchError
from nas.search.evolution import EvolutionConfig, evolve, random_search
from spaces.registry import get_space


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Synthetic accuracy (percent) and latency tables over every NB201 cell, seeded."""
    d = tmp_path_factory.mktemp("tables")
    sp = get_space("nb201")
    rng = np.random.default_rng(0)
    archs = [sp.format(a) for a in sp.enumerate()]
    conv = np.array([s.count("conv_3x3") * 2 + s.count("conv_1x1") for s in archs], dtype=float)
    acc = 40 + 4 * conv + rng.normal(0, 2, len(archs))
    lat = 1 + conv + rng.uniform(0, 0.5, len(archs))
    (d / "acc.csv").write_text("nb201_idx,arch_str,cifar100_test_acc\n" + "".join(
        f"{i},{s},{a:.4f}\n" for i, (s, a) in enumerate(zip(archs, acc))))
    (d / "lat.csv").write_text("nb201_idx,arch_str,dev\n" + "".join(
        f"{i},{s},{v:.4f}\n" for i, (s, v) in enumerate(zip(archs, lat))))
    return d / "acc.csv", d / "lat.csv"


def _search(out: Path, acc: Path, *extra: str) -> list[str]:
    return ["search", "--space", "nb201", "--budget", "30", "--evaluator", "table", "--table", str(acc),
            "--table-column", "cifar100_test_acc", "--seed", "3", "--out", str(out), "--quiet", *extra]


def test_budget_counts_distinct_queries_and_limit_is_hard(tables: tuple[Path, Path]) -> None:
    acc, lat = tables
    sp = get_space("nb201")
    ev = TableEvaluator(str(acc), "cifar100_test_acc")
    m = TableLatency(sp, str(lat), "dev")
    allv = m.predict_all()
    assert allv is not None
    for fn in (evolve, random_search):
        cfg = EvolutionConfig(40, 10, 3, latency_limit_ms=6.0, seed=1)
        run = fn(sp, ev, m.predict_ms, cfg, None, allv)
        assert len(run.history) == 40 == len({h.arch for h in run.history})
        assert [h.query for h in run.history] == list(range(1, 41))
        assert all(h.predicted_latency_ms <= 6.0 for h in run.history)
        assert run == fn(sp, ev, m.predict_ms, cfg, None, allv)  # seeded
        assert run != fn(sp, ev, m.predict_ms, EvolutionConfig(40, 10, 3, latency_limit_ms=6.0, seed=2), None, allv)
        # without the whole-space vector: rejection sampling, same guarantees
        run2 = fn(sp, ev, m.predict_ms, cfg, None, None)
        assert len(run2.history) == 40 and all(h.predicted_latency_ms <= 6.0 for h in run2.history)
    with pytest.raises(SearchError, match="no arch of 'nb201' meets the latency limit"):
        evolve(sp, ev, m.predict_ms, EvolutionConfig(10, 5, latency_limit_ms=0.5), None, allv)


def test_cli_contract_with_latency_table(tables: tuple[Path, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture) -> None:
    acc, lat = tables
    lim = ("--latency-table", str(lat), "--latency-column", "dev", "--latency-limit", "6")
    for method in ("evolution", "random"):
        a, b = tmp_path / f"{method}_a", tmp_path / f"{method}_b"
        assert main(_search(a, acc, "--method", method, *lim)) == 0
        assert main(_search(b, acc, "--method", method, *lim)) == 0
        s = json.loads((a / "search.json").read_text())
        assert (a / "search.json").read_text() == (b / "search.json").read_text()
        best = s["best"]
        sp = get_space("nb201")
        assert sp.format(sp.parse(best["arch"])) == best["arch"]
        assert 0 < best["accuracy"] <= 1 and best["accuracy_percent"] == pytest.approx(100 * best["accuracy"])
        assert best["predicted_latency_ms"] <= 6 and best["measured_latency_ms"] == best["predicted_latency_ms"]
        assert s["evaluations"] == 30 and s["method"] == method and s["latency_limit_ms"] == 6
        assert max(h["fitness"] for h in s["history"]) == best["fitness"]
    capsys.readouterr()


def _err(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwnas: error: ") and err.count("\n") == 1, err
    return err


def test_cli_bad_input(tables: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    acc, lat = tables
    lim = ("--latency-table", str(lat), "--latency-column", "dev")
    short = tmp_path / "short.csv"
    short.write_text("".join(acc.read_text().splitlines(keepends=True)[:50]))
    assert "no accuracy in column 'cifar100_test_acc' for arch" in _err(capsys, _search(tmp_path / "o", short, *lim))
    argv = _search(tmp_path / "o", acc, *lim)
    argv[argv.index("cifar100_test_acc")] = "nope"
    assert "no column 'nope'" in _err(capsys, argv)
    assert "no arch of space 'nb201' meets --latency-limit 0.5 ms" in _err(
        capsys, _search(tmp_path / "o", acc, *lim, "--latency-limit", "0.5"))
    assert "no column 'nodev'" in _err(capsys, _search(tmp_path / "o", acc, "--latency-table", str(lat),
                                                        "--latency-column", "nodev"))
    corr = tmp_path / "fbnet_corr.json"
    from tests.nas.test_latency_models import _nb201_corrector

    d = json.loads(_nb201_corrector(tmp_path, "fbnet").read_text())
    corr.write_text(json.dumps(d))
    assert "corrector fitted on space 'fbnet'" in _err(capsys, _search(tmp_path / "o", acc, "--latency-model",
                                                                         str(corr)))


@pytest.fixture(scope="module")
def shared() -> Path:
    root = shared_data_dir()
    if not (root / "accuracy" / "nb201_accuracy.csv").is_file() or not (root / "latency" / "nb201_help.csv").is_file():
        pytest.skip(f"shared data not found under {root} (set HWNAS_SHARED_DATA)")
    return root


def test_cli_contract_real_data(shared: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    corr = tmp_path / "corr.json"
    assert main(["calibrate", "fit", "--measurements", str(shared / "latency" / "nb201_help.csv"), "--column",
                 "fpga", "--device", "roofline-reference", "--train", "10", "--test", "20", "--seed", "0",
                 "--save", str(corr), "--quiet"]) == 0
    d = json.loads(corr.read_text())
    d.setdefault("space", "nb201-unpruned")  # the fpga column's execution (calibrate fit records it with H7's key)
    corr.write_text(json.dumps(d))
    acc = shared / "accuracy" / "nb201_accuracy.csv"
    for method in ("evolution", "random"):
        outs = []
        for k in range(2):
            out = tmp_path / f"{method}{k}"
            assert main(["search", "--space", "nb201", "--method", method, "--budget", "200", "--evaluator", "table",
                         "--table", str(acc), "--table-column", "cifar100_test_acc", "--latency-model", str(corr),
                         "--latency-limit", "5", "--seed", "3", "--out", str(out), "--quiet"]) == 0
            outs.append((out / "search.json").read_text())
        assert outs[0] == outs[1]
        s = json.loads(outs[0])
        assert {"arch", "accuracy", "predicted_latency_ms"} <= set(s["best"]) and s["evaluations"] == 200
        assert s["best"]["predicted_latency_ms"] <= 5 and s["best"]["accuracy"] > 0.6
    capsys.readouterr()
    assert "no arch of space 'nb201' meets --latency-limit 1 ms" in _err(capsys, [
        "search", "--space", "nb201", "--evaluator", "table", "--table", str(acc), "--table-column",
        "cifar100_test_acc", "--latency-model", str(corr), "--latency-limit", "1", "--out", str(tmp_path / "x"),
        "--quiet"])


def test_profile_cell_space_and_search_it(tables: tuple[Path, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    acc, lat = tables
    common = ["--evaluator", "table", "--table", str(acc), "--table-column", "cifar100_test_acc", "--latency-table",
              str(lat), "--latency-column", "dev", "--quiet"]
    typ = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|avg_pool_3x3~2|"
    assert main(["profile-space", "--space", "nb201", "--typical", typ, "--k", "10", "--out", str(tmp_path / "p"),
                 "--workers", "1", "--no-plots", *common]) == 0
    s = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert len(s["ssbn"]) == 25 and s["winner"] == "nb201" and s["latency_model"]["kind"] == "table"
    sp = get_space("nb201")
    t = TableLatency(sp, str(lat), "dev")
    rows = {r["arch"]: r for r in s["ssbn"]}
    assert rows[typ]["latency_ms"] == t.measured_ms(sp.parse(typ))
    tuned = s["tuned_space"]
    assert tuned["typical"] == [sp.parse(typ)[lb] for lb in sp.labels]
    assert sum(len(c["candidates"]) for c in tuned["choices"]) >= 10  # K entries, typical always kept
    assert main(["search", "--profile", str(tmp_path / "p"), "--budget", "8", "--population", "4",
                 "--latency-limit", "50", "--out", str(tmp_path / "s"), *common]) == 0
    r = json.loads((tmp_path / "s" / "search.json").read_text())
    assert r["space"] == "nb201-tuned" and r["evaluations"] == 8
    # the layer-adaptive LUT reproduces every SSBN's latency exactly
    from nas.search.run import target_from_profile

    tgt = target_from_profile(tmp_path / "p", full=True)
    for a, row in rows.items():
        assert tgt.predict_ms(sp.parse(a)) == pytest.approx(row["latency_ms"], rel=1e-12)
    capsys.readouterr()
