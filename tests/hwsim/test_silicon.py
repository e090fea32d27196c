"""Silicon cost: the Accelergy Eyeriss-like check, Eyeriss access-energy ratios, linearity of energy in event
counts, per-kernel counts vs the systolic simulator, [silicon] overrides, node and width scaling."""

from __future__ import annotations

import math

import pytest

from hwsim import silicon as si
from hwsim.devices.config import device_from_tables, load_device_file
from hwsim.devices.registry import get_device, list_presets, preset_tables
from hwsim.errors import HwnasError
from hwsim.workload import Conv2d, Linear, MatMul
from hwsim.zoo import get_model


@pytest.fixture(scope="module")
def net():
    return get_model("resnet18").build_ir((3, 32, 32))


def _device(kind: str, hardware: dict, silicon: dict | None = None, base: str | None = None):
    dev = {"name": "t", "kind": kind, **({"base": base} if base else {})}
    tables = {"device": dev, "hardware": hardware}
    if silicon is not None:
        tables["silicon"] = silicon
    return device_from_tables(tables, "test.toml")


def accelergy_eyeriss_like():
    """Accelergy's eyeriss_like: 14 x 12 PEs, 16-bit, 440 B per PE (ifmap 12, weights 192, psum 16 words),
    128 KB shared global buffer, 45 nm."""
    d = _device("eyeriss", {"pe_rows": 12, "pe_cols": 14, "glb_kib": 128.0, "filter_spad_words": 192,
                            "ifmap_spad_words": 12, "psum_spad_words": 16, "bytes_per_element": 2})
    assert si.structure(d) == si.structure(si.eyeriss_like_device())
    assert si.structure(d).rf_bytes_per_pe == 440
    return d


def test_accelergy_eyeriss_like_area_within_10_percent() -> None:
    d = accelergy_eyeriss_like()
    a = si.area_breakdown_mm2(d)
    pe_array = a["mac"] + a["rf"] + a["noc"]
    ref_pes = 168 * 5669e-6  # eyeriss_like ART summary: one PE 5,669 um^2
    ref_glb = 1_162_549e-6  # eyeriss_like ART summary: 128 KB SRAM
    assert pe_array == pytest.approx(ref_pes, rel=0.10)
    assert a["sram"] == pytest.approx(ref_glb, rel=0.10)
    assert si.area_mm2(d) == pytest.approx(ref_pes + ref_glb, rel=0.10)
    assert si.resolve_figures().node_nm == 45.0


def test_eyeriss_relative_access_energies_200_6_2_1_1() -> None:
    d = accelergy_eyeriss_like()
    c = si.energy_coefficients(d)
    word = 2  # bytes of a 16-bit word
    unit = c["mac"]
    got = (c["dram_read_byte"] * word / unit, c["glb_read_byte"] * word / unit, c["noc_word"] / unit,
           c["rf_word"] / unit, c["mac"] / unit)
    assert got == pytest.approx((200, 6, 2, 1, 1), rel=1e-12)
    assert c["mac"] == pytest.approx(1.0)  # 1 pJ per 16-bit MAC


def test_reference_checks_are_those_numbers() -> None:
    checks = si.reference_checks()
    assert len(checks) == 8
    for c in checks:
        tol = 0.10 if c.name.startswith("area") else 1e-12
        assert abs(c.rel) <= tol, c
    assert {c.reference for c in checks if c.name.startswith("energy")} == {200.0, 6.0, 2.0, 1.0}


def test_every_preset_reports_area_energy_power(net) -> None:
    for name in list_presets():
        d = get_device(name)
        r = si.silicon_report(d, net)
        assert r.area_mm2 > 0 and r.energy_mj > 0 and r.power_w_avg > 0, name
        assert r.power_w_peak >= r.power_w_avg
        assert set(r.energy_breakdown_mj) == set(si.CATEGORIES)
        assert math.fsum(r.energy_breakdown_mj.values()) == pytest.approx(r.energy_mj)
        assert r.energy_breakdown_mj["dram"] > 0 and r.energy_breakdown_mj["mac"] > 0
        assert r.power_w_avg == pytest.approx(r.energy_mj / r.device_ms)


@pytest.mark.parametrize("preset", ["eyeriss-v1", "systolic-tpu-like", "dpu-b4096-zcu102", "nvdla-small"])
def test_energy_is_linear_in_event_counts(net, preset: str) -> None:
    d = get_device(preset)
    coef = si.energy_coefficients(d)
    counts = si.event_counts(d, net)
    assert set(counts) == set(coef)
    r = si.silicon_report(d, net)
    dynamic = math.fsum(coef[k] * counts[k] for k in coef) * 1e-9
    static = si.static_power_w(d) * d.run(net).device_ms
    assert r.energy_mj == pytest.approx(dynamic + static)
    # override one coefficient: the energy moves by count x change (and nothing else moves)
    tables = preset_tables(preset)
    tables["silicon"] = {"dram_pj_per_byte": 150.0}
    d2 = device_from_tables(tables, "override")
    r2 = si.silicon_report(d2, net)
    dram = counts["dram_read_byte"] + counts["dram_write_byte"]
    assert r2.energy_mj - r.energy_mj == pytest.approx(dram * (150.0 - 100.0) * 1e-9)
    assert r2.area_mm2 == r.area_mm2


def test_systolic_sram_counts_equal_the_simulator_per_kernel() -> None:
    from hwsim.systolic.simulate import simulate_layer
    from hwsim.systolic.topology import scalesim_view

    d = _device("systolic", {"array_rows": 16, "array_cols": 8, "dataflow": "ws", "ifmap_sram_kib": 32},
                {"word_bits": 16})
    network = get_model("mobilenet_v2").build_ir((3, 32, 32))
    checked = 0
    for k, row in zip(d.kernels(network), d.profile(network).kernels):
        if not isinstance(k.anchor, (Conv2d, Linear, MatMul)):
            continue
        ref = simulate_layer(d.cost_model.array, k.anchor, engine="analytical", quirks="fixed")
        reps = scalesim_view(k.anchor).repeats
        ev = si.kernel_events(d, k, row.dram_read_bytes, row.dram_write_bytes)
        assert ev["ifmap_read_byte"] == reps * ref.ifmap_sram_reads * 2  # 16-bit words
        assert ev["filter_read_byte"] == reps * ref.filter_sram_reads * 2
        assert ev["ofmap_write_byte"] == reps * ref.ofmap_sram_writes * 2
        assert ev["mac"] == k.macs and ev["dram_read_byte"] == row.dram_read_bytes
        checked += 1
    assert checked > 20


def test_node_and_width_scaling() -> None:
    hw = {"array_rows": 32, "array_cols": 32}
    base = _device("systolic", hw)
    at90 = _device("systolic", hw, {"node_nm": 90.0})
    assert si.area_mm2(at90) == pytest.approx(4 * si.area_mm2(base))  # every area figure scales with node^2
    assert si.energy_coefficients(at90)["mac"] == pytest.approx(2 * si.energy_coefficients(base)["mac"])
    assert si.energy_coefficients(at90)["dram_read_byte"] == si.energy_coefficients(base)["dram_read_byte"]
    banked = _device("systolic", hw, {"sram_banks": 4})
    assert si.energy_coefficients(banked)["ifmap_read_byte"] == pytest.approx(
        si.energy_coefficients(base)["ifmap_read_byte"] / 4 ** 0.75)  # a bank of a quarter of the size
    wide = _device("systolic", hw, {"word_bits": 16})
    assert si.area_mm2(wide) > si.area_mm2(base)
    p = si.resolve_figures()
    assert si.mac_pj(p, 16) == pytest.approx(1.0) and si.mac_pj(p, 8) < si.mac_pj(p, 16) / 2
    assert si.mac_area_um2(p, 16) == pytest.approx(1239.5)
    # SRAM energy per byte follows the CACTI 8 KB / 100 KB fit
    assert si.sram_pj_per_byte(p, 100.0) / si.sram_pj_per_byte(p, 8.0) == pytest.approx(28.1 / 4.24, rel=0.01)


def test_design_peak_power_grows_with_clock() -> None:
    slow = _device("systolic", {"clock_mhz": 500.0})
    fast = _device("systolic", {"clock_mhz": 1000.0})
    assert si.design_peak_power_w(fast) > si.design_peak_power_w(slow) > si.static_power_w(slow) > 0


def test_every_figure_has_a_source_and_overrides_are_reported() -> None:
    for name, fig in si.FIGURES.items():
        assert fig.source.split(":")[0] in ("public", "fitted", "derived", "assumed"), name
    d = _device("eyeriss", {}, {"rf_pj_per_byte": 0.4, "provenance": {"rf_pj_per_byte": "my RF macro"}},
                base="eyeriss-v1")
    p = si.resolve_figures(d.silicon)
    assert p["rf_pj_per_byte"] == 0.4 and p.sources["rf_pj_per_byte"].startswith("my RF macro")
    terms = {t.name: t for t in si.energy_terms(d)}
    assert terms["rf_word"].pj == pytest.approx(0.8) and "my RF macro" in terms["rf_word"].source


@pytest.mark.parametrize("table, needle", [
    ({"dram_pj": 1.0}, "unknown key 'dram_pj'"),
    ({"dram_pj_per_byte": -1.0}, "dram_pj_per_byte must be a finite non-negative number"),
    ({"word_bits": 0}, "word_bits must be a positive integer"),
    ({"node_nm": 0}, "node_nm must be positive"),
    ({"provenance": {"nope": "x"}}, "provenance: unknown key 'nope'"),
])
def test_bad_silicon_table_names_file_and_key(tmp_path, table, needle) -> None:
    with pytest.raises(HwnasError) as e:
        _device("roofline", {}, table)
    assert needle in str(e.value) and "test.toml" in str(e.value)


def test_silicon_table_in_a_device_file_and_cli_error(tmp_path, capsys) -> None:
    from hwsim.cli import main

    f = tmp_path / "d.toml"
    f.write_text('[device]\nbase = "eyeriss-v1"\nname = "e"\n[silicon]\nleakage_w_per_mm2 = 0.0\n')
    d = load_device_file(f)
    assert si.static_power_w(d) == 0.0
    f.write_text('[device]\nbase = "eyeriss-v1"\nname = "e"\n[silicon]\nleakage = 0.0\n')
    assert main(["simulate", "--device", str(f), "--model", "squeezenet1_1", "--format", "json"]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "'leakage'" in err and err.count("\n") == 1


def test_energy_table_defaults_are_the_silicon_table() -> None:
    from hwsim.systolic.config import SystolicConfig
    from hwsim.systolic.energy import EnergyTable

    d = _device("systolic", {"ifmap_sram_kib": 64, "filter_sram_kib": 64, "ofmap_sram_kib": 64})
    c = si.energy_coefficients(d)
    t = EnergyTable()
    assert t.mac_pj == pytest.approx(c["mac"])
    assert t.sram_read_pj == pytest.approx(c["ifmap_read_byte"]) == pytest.approx(c["ofmap_write_byte"])
    assert t.dram_read_pj == c["dram_read_byte"] and t.dram_write_pj == c["dram_write_byte"]
    big = EnergyTable.for_array(SystolicConfig(ifmap_sram_kb=256, filter_sram_kb=256, ofmap_sram_kb=256))
    assert big.sram_read_pj > t.sram_read_pj and big.mac_pj == t.mac_pj
