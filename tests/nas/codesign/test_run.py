import json

import pytest

from nas.codesign.pareto import CodesignError
from nas.codesign.run import CodesignConfig, Describer, codesign, compare
from nas.codesign.search import Limits
from tests.nas.codesign.conftest import synthetic_source

LIM = Limits(area_mm2=2.0, latency_ms=6.0)


def _describer(src):
    return Describer(arch=lambda i: f"arch{i}", hw=lambda j: {"pes": j // 9, "sram": (j // 3) % 3, "df": "os"},
                     device_toml=lambda j: f"# device {j}\n", workload_json=lambda i: json.dumps({"arch": i}),
                     space="synthetic", hw_space="synthetic-hw")


@pytest.mark.parametrize("method", ["exhaustive", "nsga2", "sequential"])
def test_output_folder(tmp_path, method):
    src = synthetic_source()
    cfg = CodesignConfig(method, limits=LIM, budget=300, seed=2, pop_size=20)
    doc = codesign(src, cfg, _describer(src), tmp_path, plots=method == "exhaustive")
    on_disk = json.loads((tmp_path / "codesign.json").read_text())
    assert on_disk["pareto"] and set(on_disk) >= {"pareto", "hypervolume", "evaluations"}
    for p in on_disk["pareto"]:
        assert {"arch", "hw", "accuracy", "latency_ms", "energy_mj", "area_mm2", "device_file",
                "workload_file"} <= set(p)
        assert (tmp_path / p["device_file"]).read_text() == f"# device {p['hw_index']}\n"
        assert json.loads((tmp_path / p["workload_file"]).read_text()) == {"arch": p["arch_index"]}
        assert p["area_mm2"] <= 2.0 and p["latency_ms"] <= 6.0
    assert 0 < on_disk["hypervolume"]
    assert (tmp_path / "summary.md").read_text().startswith("# Co-design")
    if method == "exhaustive":
        for f in ("front_projections", "hw_along_front", "codesign_vs_sequential"):
            assert (tmp_path / "plots" / f"{f}.png").stat().st_size > 1000
        c = doc["baseline"]["comparison"]
        assert c["pair"]["accuracy"] >= doc["baseline"]["design"]["accuracy"] - 0.5
        # co-design over all pairs can never be worse in EDP than the sequential design within the window
        assert c["ratios"]["edp"] <= 1.0 + 1e-12


def test_same_seed_same_json(tmp_path):
    src = synthetic_source()
    cfg = CodesignConfig("nsga2", limits=LIM, budget=300, seed=5, pop_size=20)
    codesign(src, cfg, _describer(src), tmp_path / "a", plots=False)
    codesign(src, cfg, _describer(src), tmp_path / "b", plots=False)
    assert (tmp_path / "a" / "codesign.json").read_bytes() == (tmp_path / "b" / "codesign.json").read_bytes()


def test_killed_nsga2_resumes(tmp_path):
    src = synthetic_source()
    cfg = CodesignConfig("nsga2", limits=LIM, budget=600, seed=1, pop_size=20)
    codesign(src, cfg, _describer(src), tmp_path / "ref", plots=False)

    class Killed(Exception):
        pass

    gens = []

    def kill(cache):
        gens.append(len(cache.flat))
        if len(gens) == 25:
            raise Killed

    with pytest.raises(Killed):
        codesign(src, cfg, _describer(src), tmp_path / "run", plots=False, on_generation=kill)
    assert not (tmp_path / "run" / "codesign.json").exists()
    assert (tmp_path / "run" / ".state" / "nsga2-seed1.npz").exists()
    codesign(src, cfg, _describer(src), tmp_path / "run", plots=False)
    assert (tmp_path / "run" / "codesign.json").read_bytes() == (tmp_path / "ref" / "codesign.json").read_bytes()


def test_other_run_in_same_folder_is_an_error(tmp_path):
    src = synthetic_source()
    codesign(src, CodesignConfig("sequential", limits=LIM), _describer(src), tmp_path, plots=False)
    with pytest.raises(CodesignError, match="another co-design run"):
        codesign(src, CodesignConfig("exhaustive", limits=LIM), _describer(src), tmp_path, plots=False)
    with pytest.raises(CodesignError, match="needs --budget"):
        CodesignConfig("nsga2")


def test_compare_picks_lowest_edp_within_window():
    design = {"accuracy": 90.0, "latency_ms": 2.0, "energy_mj": 2.0, "area_mm2": 1.0, "edp": 4.0}
    front = [{"accuracy": 89.6, "latency_ms": 1.0, "energy_mj": 1.0, "area_mm2": 0.5, "edp": 1.0, "arch_index": 0,
              "hw_index": 0},
             {"accuracy": 89.0, "latency_ms": 0.1, "energy_mj": 0.1, "area_mm2": 0.5, "edp": 0.01, "arch_index": 1,
              "hw_index": 0}]
    c = compare(front, design, 0.5)
    assert c["pair"]["arch_index"] == 0 and c["ratios"]["edp"] == 0.25
    assert compare(front[1:], design, 0.5) is None
