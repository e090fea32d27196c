"""The sweep engine against the device pipeline it decomposes (``AcceleratorDevice.run``, ``hwnas simulate``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwsim import silicon

from hwsim.devices import get_device
from hwsim.devices.base import Mechanisms
from hwsim.sweep import DeviceListSpace, SweepError, SweepResult, network_features, sweep
from hwsim.sweep.engine import _BatchJob
from hwsim.sweep.tables import kernel_tables, network_metrics, systolic_kernel_tables
from hwsim.zoo import get_model
from spaces.nb201 import nb201_space
from tests.hwsim.sweep.helpers import GridSpace

SYSTOLIC = GridSpace("systolic-tpu-like", {"array_rows": [8, 32, 128], "array_cols": [16, 64], "dataflow": ["os", "ws", "is"],
                                           "ifmap_sram_kib": [16, 256], "filter_sram_kib": [8, 512],
                                           "dram_bandwidth": [2, 32], "clock_mhz": [500.0, 1000.0]})
EYERISS = GridSpace("eyeriss-v1", {"pe_rows": [8, 12, 16], "pe_cols": [8, 14], "glb_kib": [32.0, 108.0, 256.0],
                                   "dram_bandwidth_gbps": [0.4, 1.6]})
DPU = GridSpace("dpu-b4096-zcu102", {"arch": ["B512", "B1152", "B2304", "B4096"], "clock_mhz": [200.0, 325.0],
                                         "cores": [1, 2]})


def _nb201(n: int, seed: int) -> dict[str, object]:
    sp = nb201_space()
    archs = list(sp.enumerate())
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(archs), n, replace=False)
    return {str(archs[i]): sp.to_workload(archs[i]) for i in sorted(picks)}


@pytest.fixture(scope="module")
def networks() -> dict[str, object]:
    nets = _nb201(6, 1)
    nets["resnet18@64"] = get_model("resnet18").build_ir((3, 64, 64))
    nets["mobilenet_v2@64"] = get_model("mobilenet_v2").build_ir((3, 64, 64))
    return nets


@pytest.mark.parametrize("space", [SYSTOLIC, EYERISS, DPU], ids=["systolic", "eyeriss", "dpu"])
def test_sweep_equals_run_on_seeded_pairs(space: GridSpace, networks: dict[str, object]) -> None:
    """>= 200 pairs over the three templates in all (8 x 9 + 8 x 9 + 8 x 9 = 216), relative 1e-9."""
    rng = np.random.default_rng(7)
    idx = sorted(rng.choice(space.size, 9, replace=False).tolist())
    res = sweep(networks, space, indices=idx, batch_size=4)
    assert res.latency_ms.shape == (len(networks), 9)
    checked = 0
    for j, i in enumerate(idx):
        dev = space.device(space.config(i))
        assert dict(res.hw_points[j]) == space.config(i)
        assert res.area_mm2[j] == pytest.approx(silicon.area_mm2(dev), rel=1e-12)
        for n, (nid, net) in enumerate(networks.items()):
            run = dev.run(net)
            sil = silicon.silicon_report(dev, net, run=run)
            assert res.latency_ms[n, j] == pytest.approx(run.latency_ms, rel=1e-9, abs=0)
            assert res.energy_mj[n, j] == pytest.approx(sil.energy_mj, rel=1e-9, abs=0)
            assert res.power_w[n, j] == pytest.approx(sil.power_w_avg, rel=1e-9, abs=0)
            checked += 1
    assert checked == 72


def test_vectorised_systolic_tables_equal_reference(networks: dict[str, object]) -> None:
    """The numpy path computes the same floats as time_kernel, including non-default mechanisms."""
    devs = [SYSTOLIC.device(SYSTOLIC.config(i)) for i in range(0, SYSTOLIC.size, 5)]
    devs += [d.with_mechanisms(Mechanisms(shared_bandwidth=False, kernel_overhead_cycles=77)) for d in devs[:6]]
    f = network_features(list(networks.values()), devs[0].mechanisms, devs[0].cost_model)
    a, b = kernel_tables(devs, f.kernels), systolic_kernel_tables(devs, f.kernels)
    for name in ("latency_ms", "compute_ms", "memory_ms", "weight_ms", "energy_mj"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-13, atol=0, err_msg=name)


def test_decomposition_counts_kernels_and_pairs(networks: dict[str, object]) -> None:
    """Counts rebuild each network's kernel sequence length and pair count; mixed-mechanism devices split."""
    dev = get_device("systolic-tpu-like")
    nets = list(networks.values())
    f = network_features(nets, dev.mechanisms, dev.cost_model)
    nk = len(f.kernels)
    for n, net in enumerate(nets):
        ks = dev.kernels(net)
        assert f.counts[n, :nk].sum() == len(ks)
        assert f.counts[n, nk:].sum() == max(0, len(ks) - 1)
    # a second device with fusion off lands in its own fusion group and still matches run()
    off = dev.with_mechanisms(dev.mechanisms.all_off())
    res = sweep(networks, DeviceListSpace([dev, off]))
    for n, net in enumerate(nets):
        assert res.latency_ms[n, 1] == pytest.approx(off.run(net).latency_ms, rel=1e-9)
        assert res.latency_ms[n, 0] == pytest.approx(dev.run(net).latency_ms, rel=1e-9)


def test_cli_simulate_equals_sweep(tmp_path, networks, capsys) -> None:  # noqa: ANN001
    """End to end through `hwnas simulate --device FILE --format json` for a few pairs."""
    from hwsim.cli import main

    nets = dict(list(networks.items())[:2])
    idx = [0, 77, 150]
    res = sweep(nets, SYSTOLIC, indices=idx)
    for n, (nid, net) in enumerate(nets.items()):
        wl = tmp_path / f"net{n}.json"
        wl.write_text(json.dumps(net.to_dict()))
        for j, i in enumerate(idx):
            dev = tmp_path / f"dev{i}.toml"
            hw = "\n".join(f"{k} = {json.dumps(v)}" for k, v in SYSTOLIC.config(i).items())
            dev.write_text(f'[device]\nbase = "systolic-tpu-like"\nname = "d{i}"\n[hardware]\n{hw}\n')
            assert main(["simulate", "--model", str(wl), "--device", str(dev), "--format", "json"]) in (0, None)
            out = json.loads(capsys.readouterr().out)
            assert res.latency_ms[n, j] == pytest.approx(out["end_to_end_latency_ms"], rel=1e-9)
            assert res.energy_mj[n, j] == pytest.approx(out["energy_mj"], rel=1e-9)
            assert res.power_w[n, j] == pytest.approx(out["power_w"], rel=1e-9)
            assert res.area_mm2[j] == pytest.approx(out["area_mm2"], rel=1e-12)


class _Killed(Exception):
    pass


def _is_batch(item: object) -> bool:
    """A hardware batch item (indices, specs), not a chunk of networks."""
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], list)


def test_killed_sweep_resumes_without_recomputing(tmp_path, networks) -> None:  # noqa: ANN001
    nets = dict(list(networks.items())[:4])
    idx = list(range(0, 40))
    full = sweep(nets, SYSTOLIC, indices=idx, batch_size=8)
    calls: list[tuple[int, ...]] = []

    def dying_map(fn, items):  # noqa: ANN001, ANN202 - dies after two batches, like a killed process
        items = list(items)
        for k, item in enumerate(items):
            if _is_batch(item) and k == 2:
                raise _Killed
            yield fn(item)

    with pytest.raises(_Killed):
        sweep(nets, SYSTOLIC, indices=idx, batch_size=8, out_dir=tmp_path, map_fn=dying_map)
    assert sorted(p.name for p in tmp_path.glob("batch-*.npz")) == ["batch-00000.npz", "batch-00001.npz"]
    calls.clear()

    def counting_map(fn, items):  # noqa: ANN001, ANN202 - records hardware batches (not network fusion chunks)
        for item in items:
            if _is_batch(item):
                calls.append(tuple(item[0]))
            yield fn(item)

    again = sweep(nets, SYSTOLIC, indices=idx, batch_size=8, out_dir=tmp_path, map_fn=counting_map)
    assert calls == [tuple(range(16, 24)), tuple(range(24, 32)), tuple(range(32, 40))]  # batches 0, 1 not redone
    np.testing.assert_array_equal(again.latency_ms, full.latency_ms)
    np.testing.assert_array_equal(again.energy_mj, full.energy_mj)
    calls.clear()
    sweep(nets, SYSTOLIC, indices=idx, batch_size=8, out_dir=tmp_path, map_fn=counting_map)
    assert calls == []
    with pytest.raises(SweepError, match="other networks/configs"):
        sweep(nets, SYSTOLIC, indices=idx[:-1], batch_size=8, out_dir=tmp_path)


def test_process_map_gives_the_same_result(networks) -> None:  # noqa: ANN001
    from hwsim.sweep import process_map

    nets = dict(list(networks.items())[:3])
    a = sweep(nets, SYSTOLIC, indices=range(12), batch_size=6)
    b = sweep(nets, SYSTOLIC, indices=range(12), batch_size=6, map_fn=process_map(2))
    np.testing.assert_array_equal(a.latency_ms, b.latency_ms)


def test_save_load_roundtrip(tmp_path, networks) -> None:  # noqa: ANN001
    res = sweep(dict(list(networks.items())[:3]), SYSTOLIC, indices=[1, 2, 3, 50])
    p = tmp_path / "r.npz"
    res.save(p)
    back = SweepResult.load(p)
    assert back.network_ids == res.network_ids and back.hw_points == res.hw_points
    for name in ("latency_ms", "energy_mj", "power_w", "area_mm2"):
        np.testing.assert_array_equal(getattr(back, name), getattr(res, name))
    with np.load(p) as z:  # columnar keys beside the matrices
        assert list(z["hw.array_rows"]) == [float(pt["array_rows"]) for pt in res.hw_points]
        assert list(z["hw.dataflow"]) == [pt["dataflow"] for pt in res.hw_points]
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(SweepError, match="bad.npz"):
        SweepResult.load(tmp_path / "bad.npz")


def test_bad_inputs_are_one_line_errors(networks) -> None:  # noqa: ANN001
    net = next(iter(networks.values()))
    with pytest.raises(SweepError, match="appears twice"):
        sweep([net, net], SYSTOLIC, indices=[0])
    with pytest.raises(SweepError, match="batch_size"):
        sweep({"a": net}, SYSTOLIC, batch_size=0)
    with pytest.raises(SweepError, match="out of range"):
        sweep({"a": net}, SYSTOLIC, indices=[SYSTOLIC.size])
    noisy = get_device("systolic-tpu-like")
    noisy = noisy.with_mechanisms(Mechanisms(noise_std_fraction=0.1))
    with pytest.raises(SweepError, match="noise_std_fraction"):
        sweep({"a": net}, DeviceListSpace([noisy]))
    with pytest.raises(SweepError, match="networks\\[0\\]"):
        sweep(["not a network"], SYSTOLIC)


def test_verify_catches_a_wrong_table(networks) -> None:  # noqa: ANN001
    """The built-in verification is not vacuous: a corrupted result fails it."""
    from hwsim.sweep import verify_pairs

    nets = dict(list(networks.items())[:2])
    res = sweep(nets, SYSTOLIC, indices=[0, 1], verify=4)
    devs = [SYSTOLIC.device(SYSTOLIC.config(i)) for i in (0, 1)]
    bad = SweepResult(res.network_ids, res.hw_points, res.latency_ms * (1 + 1e-6), res.energy_mj, res.area_mm2,
                      res.power_w)
    with pytest.raises(SweepError, match="latency_ms"):
        verify_pairs(bad, nets, devs, 4, 0)


def test_batch_job_groups_by_fusion_signature(networks) -> None:  # noqa: ANN001
    dev = get_device("systolic-tpu-like")
    nets = list(networks.values())[:2]
    f = network_features(nets, dev.mechanisms, dev.cost_model)
    m = network_metrics(f, kernel_tables([dev], f.kernels))
    assert m.latency_ms[:, 0] == pytest.approx([dev.run(n).latency_ms for n in nets], rel=1e-9)
    assert isinstance(_BatchJob, type)
