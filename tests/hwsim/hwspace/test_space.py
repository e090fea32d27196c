"""Hardware design spaces: built-ins, enumeration vs itertools.product, sampling, device tables, bad files."""

from __future__ import annotations

import itertools
import math
import tomllib

import pytest

from hwsim.hwspace import BUILTIN, HwSpaceError, get_space, load_space_file, space_from_tables
from hwsim.hwspace.tomlout import dumps


def test_builtin_sizes_are_products_and_systolic_is_large_enough() -> None:
    sizes = {}
    for name in BUILTIN:
        s = get_space(name)
        assert s.size == math.prod(len(v) for v in s.params.values())
        sizes[name] = s.size
    assert 1_000 <= sizes["systolic"] <= 5_000
    sys_ = get_space("systolic")
    assert {"array_rows", "array_cols", "dataflow", "ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib",
            "dram_bandwidth", "silicon.word_bits", "clock_mhz"} == set(sys_.params)
    assert sys_.params["array_rows"] == (8, 16, 32, 64, 128, 256)
    assert set(get_space("dpu").params["arch"]) >= {"B512", "B4096"}


@pytest.mark.parametrize("name", ["dpu", "eyeriss"])
def test_enumeration_matches_itertools_product(name: str) -> None:
    s = get_space(name)
    naive = [dict(zip(s.params, combo)) for combo in itertools.product(*s.params.values())]
    assert list(s.configs()) == naive
    for i, p in enumerate(naive):
        assert s.config(i) == p
        assert s.index(p) == i


def test_systolic_index_round_trip_on_a_sample() -> None:
    s = get_space("systolic")
    naive = list(itertools.product(*s.params.values()))
    for i in (0, 1, 17, 863, s.size - 1):
        assert tuple(s.config(i).values()) == naive[i]
        assert s.index(s.config(i)) == i
    with pytest.raises(HwSpaceError, match="index"):
        s.config(s.size)
    with pytest.raises(HwSpaceError, match="array_rows=7"):
        s.index({**s.config(0), "array_rows": 7})
    with pytest.raises(HwSpaceError, match="misses parameter 'dataflow'"):
        s.index({k: v for k, v in s.config(0).items() if k != "dataflow"})


def test_sample_is_seeded_distinct_and_deterministic() -> None:
    s = get_space("systolic")
    a, b, c = s.sample(20, 0), s.sample(20, 0), s.sample(20, 1)
    assert a == b and a != c
    assert len({s.index(p) for p in a}) == 20
    assert len(get_space("dpu").sample(100, 3)) == 40  # the whole space, each once


def test_device_tables_and_device_carry_the_point() -> None:
    s = get_space("systolic")
    p = s.config(1000)
    d = s.device(p)
    a = d.cost_model.array
    assert (a.array_rows, a.array_cols, a.dataflow) == (p["array_rows"], p["array_cols"], p["dataflow"])
    assert (a.ifmap_sram_kb, a.filter_sram_kb, a.ofmap_sram_kb) == (p["ifmap_sram_kib"], p["filter_sram_kib"],
                                                                    p["ofmap_sram_kib"])
    assert a.ifmap_dram_bandwidth == p["dram_bandwidth"] and d.cost_model.clock_mhz == p["clock_mhz"]
    assert d.silicon.word_bits == p["silicon.word_bits"]
    assert d.name == "systolic-1000"
    text = s.to_toml(p)
    assert tomllib.loads(text) == s.device_tables(p)
    e = get_space("eyeriss")
    q = e.config(5)
    dev = e.device(q)
    assert dev.mechanisms.kernel_overhead_cycles == 1000  # from the eyeriss-v1 base
    assert dev.cost_model.glb_kib == q["glb_kib"]


def test_toml_writer_round_trips() -> None:
    t = {"device": {"name": "x \"q\"", "kind": "dpu"}, "hardware": {"a": 1, "b": 2.5, "c": True, "d": [1, 2],
                                                                   "e": ["relu", "x"], "f": 1e-5},
         "silicon": {"word_bits": 8, "provenance": {"word_bits": "why"}}}
    assert tomllib.loads(dumps(t)) == t


def _space(tmp_path, text: str):
    f = tmp_path / "s.toml"
    f.write_text(text)
    return f


GOOD = """
[space]
name = "mine"
template = "systolic"
[params]
array_rows = [8, 16]
dataflow = ["os", "ws"]
silicon.word_bits = [8, 16]
[fixed]
preset = "scalesim_32x32"
"""


def test_user_space_file(tmp_path) -> None:
    s = load_space_file(_space(tmp_path, GOOD))
    assert s.size == 8 and s.params["silicon.word_bits"] == (8, 16) and s.fixed == {"preset": "scalesim_32x32"}


@pytest.mark.parametrize("edit, needle", [
    (('template = "systolic"', 'template = "gpu"'), "template 'gpu' is unknown"),
    (("array_rows = [8, 16]", "array_rowz = [8, 16]"), "unknown parameter 'array_rowz'"),
    (("array_rows = [8, 16]", "array_rows = []"), "[params] array_rows: empty value list"),
    (("array_rows = [8, 16]", "array_rows = [0, 8]"), "array_rows must be positive"),
    (('dataflow = ["os", "ws"]', 'dataflow = ["os", "rs"]'), "dataflow must be one of os, ws, is"),
    (("silicon.word_bits = [8, 16]", "silicon.word_bitz = [8]"), "unknown [silicon] key 'word_bitz'"),
    (("array_rows = [8, 16]", "array_rows = 8"), "must be a list of values"),
    (("array_rows = [8, 16]", "array_rows = [8, 8]"), "duplicate values"),
    (('preset = "scalesim_32x32"', 'dataflow = "os"'), "[fixed] dataflow is also a tuned parameter"),
    (('[fixed]', '[limits]\narea_mm2 = 0.001\n[fixed]'), "[limits] area_mm2 = 0.001: no configuration meets"),
    (('[fixed]', '[limits]\npower_w = 1e-6\n[fixed]'), "[limits] power_w"),
    (('[fixed]', '[limits]\nspeed = 3\n[fixed]'), "[limits] unknown key 'speed'"),
])
def test_bad_space_files_name_the_file_and_parameter(tmp_path, edit, needle) -> None:
    f = _space(tmp_path, GOOD.replace(*edit))
    with pytest.raises(HwSpaceError) as e:
        load_space_file(f)
    msg = str(e.value)
    assert needle in msg and str(f) in msg and "\n" not in msg


def test_limits_filter_samples(tmp_path) -> None:
    s = load_space_file(_space(tmp_path, GOOD))
    areas = sorted(s.cost(p)["area_mm2"] for p in s.configs())
    limit = areas[3]  # 4 of the 8 configurations fit
    lim = load_space_file(_space(tmp_path, GOOD.replace("[fixed]", f"[limits]\narea_mm2 = {limit!r}\n[fixed]")))
    got = lim.sample(8, 0)
    assert len(got) == 4 and all(lim.cost(p)["area_mm2"] <= limit for p in got)
    assert lim.size == 8  # size ignores limits


def test_space_from_tables_rejects_base_of_another_kind() -> None:
    with pytest.raises(HwSpaceError, match="base 'eyeriss-v1' is a eyeriss device, not dpu"):
        space_from_tables({"space": {"name": "x", "template": "dpu", "base": "eyeriss-v1"},
                           "params": {"clock_mhz": [100.0]}}, "t.toml")
