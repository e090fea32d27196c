"""Golden scalesim 3.0 results (benchmarks/make_systolic_golden.py) for ResNet-18 and MobileNetV2 on a
32x32 os array with 64 kB SRAMs: the memory engine reproduces every integer of every layer exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwsim.systolic import ScalesimLayer, parse_config, scalesim_view, simulate_job, simulate_network

GOLDEN = Path(__file__).parent / "golden"
FILES = sorted(GOLDEN.glob("*.json"))


@pytest.mark.skipif(not FILES, reason="no golden files (run benchmarks/make_systolic_golden.py)")
@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_memory_engine_matches_golden(path: Path) -> None:
    data = json.loads(path.read_text())
    assert data["format"] == "hwnas.systolic.golden" and data["scalesim_version"] == "3.0.0"
    cfg = parse_config(data["config_cfg"], str(path))
    results = []
    for i, entry in enumerate(data["jobs"]):
        job = ScalesimLayer(f"job{i}", **entry["job"])
        got = simulate_job(cfg, job, engine="memory")
        want = entry["result"]
        diff = {k: (want[k], v) for k, v in got.counts().items() if k in want and want[k] != v}
        assert not diff, f"{path.name} job {i} {job}: (scalesim, hwsim) {diff}"
        for k in ("overall_util_pct", "mapping_efficiency_pct", "compute_util_pct"):
            assert getattr(got, k) == pytest.approx(want[k], rel=1e-9)
        results.append(got)
    # the network mapping still produces the recorded layer -> job assignment
    zoo = pytest.importorskip("hwsim.zoo")
    net = zoo.get_model(data["model"]).build_ir()
    mapped = [(layer.name, scalesim_view(layer)) for layer in net.layers]
    mapped = [(n, m) for n, m in mapped if m.job is not None]
    assert [(n, m.repeats) for n, m in mapped] == [(r["layer"], r["repeats"]) for r in data["layers"]]
    res = simulate_network(cfg, net, engine="memory")
    want_total = sum(r["repeats"] * data["jobs"][r["job"]]["result"]["total_cycles"] for r in data["layers"])
    assert res.total_cycles == want_total
