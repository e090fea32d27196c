"""The sweep-backed source end to end on a small NB201 subspace x a small systolic space: codesign.json's numbers
are reproduced by `hwnas simulate` on the written device and network files."""

import itertools
import json

import numpy as np
import pytest

from hwsim.cli import main
from nas.codesign.run import CodesignConfig, Describer, codesign
from nas.codesign.search import Limits
from nas.codesign.sources import SpaceAccuracy, SweepSource, arch_of, index_of
from spaces.registry import get_space


class FakeHwSpace:
    """The interface of hwsim.hwspace.HwSpace that co-design uses (params, size, config, index, device, to_toml)."""

    name = "tiny-systolic"
    params = {"array_rows": (8, 32), "array_cols": (8, 16, 32), "ifmap_sram_kib": (16, 128)}
    limits: dict = {}

    @property
    def size(self):
        return 12

    def config(self, i):
        return dict(zip(self.params, list(itertools.product(*self.params.values()))[i]))

    def index(self, point):
        return list(itertools.product(*self.params.values())).index(tuple(point[k] for k in self.params))

    def to_toml(self, p):
        return ("[device]\nname = \"tiny-%d\"\nkind = \"systolic\"\n\n[hardware]\npreset = \"scalesim_32x32\"\n"
                "array_rows = %d\narray_cols = %d\nifmap_sram_kib = %d\nfilter_sram_kib = 64\n"
                % (self.index(p), p["array_rows"], p["array_cols"], p["ifmap_sram_kib"]))

    def device(self, p):
        from hwsim.devices.config import device_from_tables
        from hwsim.formats import parse_toml

        return device_from_tables(parse_toml(self.to_toml(p), "fake"), "fake")


class Acc:
    """Deterministic stand-in accuracy: a table evaluator's interface."""

    name = "table"

    def accuracy_of(self, space, arch):
        return 0.8 + 0.01 * (sum(space.indices(arch)) % 10)

    def config(self):
        return {"name": "fake"}


def small_space():
    return get_space("nb201").restrict({"edge_1_0": ["nor_conv_3x3", "skip_connect"],
                                        "edge_2_0": ["nor_conv_1x1", "none"], "edge_2_1": ["nor_conv_3x3"],
                                        "edge_3_0": ["skip_connect", "nor_conv_1x1"],
                                        "edge_3_1": ["nor_conv_3x3", "avg_pool_3x3"], "edge_3_2": ["nor_conv_1x1"]})


def test_arch_index_roundtrip():
    s = get_space("nb201")
    archs = list(s.enumerate())
    for i in (0, 1, 777, 15624):
        assert arch_of(s, i) == archs[i] and index_of(s, archs[i]) == i


@pytest.mark.parametrize("method", ["exhaustive", "nsga2"])
def test_simulate_reproduces_the_front(tmp_path, method, capsys):
    space, hw = small_space(), FakeHwSpace()
    src = SweepSource(space, hw, SpaceAccuracy(space, Acc(), cache_file=tmp_path / "acc.json"),
                      sweep_dir=tmp_path / "sweep")
    d = Describer(arch=lambda i: space.format(arch_of(space, i)), hw=lambda j: hw.config(j),
                  device_toml=lambda j: hw.to_toml(hw.config(j)),
                  workload_json=lambda i: space.to_workload(arch_of(space, i)).to_json(), space=space.name,
                  hw_space=hw.name)
    if method == "exhaustive":
        src.grid()
    cfg = CodesignConfig(method, limits=Limits(area_mm2=3.0), budget=60, seed=0, pop_size=10)
    doc = codesign(src, cfg, d, tmp_path / "out", plots=False)
    assert doc["pareto"]
    out = tmp_path / "out"
    for p in doc["pareto"][:4]:
        capsys.readouterr()
        assert main(["simulate", "--device", str(out / p["device_file"]), "--model", str(out / p["workload_file"]),
                     "--format", "json"]) == 0
        sim = json.loads(capsys.readouterr().out)
        assert sim["end_to_end_latency_ms"] == pytest.approx(p["latency_ms"], rel=1e-9)
        assert sim["energy_mj"] == pytest.approx(p["energy_mj"], rel=1e-9)
        assert sim["area_mm2"] == pytest.approx(p["area_mm2"], rel=1e-12)
        assert p["area_mm2"] <= 3.0
    assert json.loads((tmp_path / "acc.json").read_text())["accuracy_pct"]
