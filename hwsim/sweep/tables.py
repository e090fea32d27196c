"""Per-device tables of the distinct kernels: the ``T`` of ``latency = A @ T`` (see :mod:`hwsim.sweep.features`).

:func:`kernel_tables` is the reference: it calls the device's own scheduler
(:func:`hwsim.devices.base.time_kernel`) for every (distinct kernel, device), so it is right for every template.
:func:`systolic_kernel_tables` computes the same numbers for systolic-array devices as numpy expressions over all
devices at once (the closed forms of :mod:`hwsim.systolic.dataflows`, :func:`hwsim.devices.base.buffered_traffic`
and :func:`hwsim.devices.base.time_kernel`, operation for operation, so the floats are identical); the tests
compare the two. :func:`design_matrix` turns a table into the feature columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hwsim.devices.base import AcceleratorDevice, Kernel, time_kernel
from hwsim.sweep.features import NetworkFeatures, SweepError
from hwsim.workload import Concat, Conv2d, Linear, MatMul, Reshape


@dataclass(frozen=True)
class KernelTable:
    """Profile columns of the distinct kernels on each device, float64 ``[n_kernels, n_devices]`` (ms, mJ).

    ``energy_mj``: the kernel's dynamic energy of :mod:`hwsim.silicon` (its events x the device's pJ per event;
    0 for CPU kernels, NaN where the template has no silicon model); ``on_cpu`` is ``[n_kernels]``.
    Per device (``[n_devices]``): ``overlap`` (1.0 when ``overlap_weight_load`` is on), ``host_ms`` and
    ``host_ns_per_element`` (the host term), ``static_power_w`` and ``area_mm2`` (silicon; NaN without a model).
    """

    latency_ms: np.ndarray
    compute_ms: np.ndarray
    memory_ms: np.ndarray
    weight_ms: np.ndarray
    energy_mj: np.ndarray
    on_cpu: np.ndarray
    overlap: np.ndarray
    host_ms: np.ndarray
    host_ns_per_element: np.ndarray
    static_power_w: np.ndarray
    area_mm2: np.ndarray


def _check_devices(devices: Sequence[AcceleratorDevice]) -> None:
    for d in devices:
        if not isinstance(d, AcceleratorDevice):
            raise SweepError(f"hardware space gave {type(d).__name__}, expected an AcceleratorDevice")
        if d.mechanisms.noise_std_fraction:
            raise SweepError(f"device {d.name!r}: mechanisms.noise_std_fraction must be 0 for a sweep "
                             f"(got {d.mechanisms.noise_std_fraction!r}); noisy runs are not linear in kernels")


def _silicon_of(device: AcceleratorDevice) -> tuple[Any, Mapping[str, float], float, float] | None:
    """(structure, pJ per event, static power W, area mm^2) of ``device``, None without a silicon model."""
    from hwsim import silicon

    try:
        st = silicon.structure(device)
    except silicon.SiliconError:
        return None
    return st, silicon.energy_coefficients(device), silicon.static_power_w(device), silicon.area_mm2(device)


def _device_columns(devices: Sequence[AcceleratorDevice], sil: Sequence[Any]) -> dict[str, np.ndarray]:
    ms = [d.mechanisms for d in devices]
    return dict(overlap=np.array([1.0 if m.overlap_weight_load else 0.0 for m in ms]),
                host_ms=np.array([m.host_overhead_ms for m in ms], dtype=np.float64),
                host_ns_per_element=np.array([m.host_ns_per_input_element for m in ms], dtype=np.float64),
                static_power_w=np.array([np.nan if x is None else x[2] for x in sil], dtype=np.float64),
                area_mm2=np.array([np.nan if x is None else x[3] for x in sil], dtype=np.float64))


def kernel_tables(devices: Sequence[AcceleratorDevice], kernels: Sequence[Kernel]) -> KernelTable:
    """Reference tables: :func:`hwsim.devices.base.time_kernel` of each kernel on each device."""
    from hwsim.silicon import kernel_events

    _check_devices(devices)
    sil = [_silicon_of(d) for d in devices]
    shape = (len(kernels), len(devices))
    cols = {n: np.zeros(shape) for n in ("latency_ms", "compute_ms", "memory_ms", "weight_ms", "energy_mj")}
    for j, dev in enumerate(devices):
        for i, k in enumerate(kernels):
            row = time_kernel(k, dev.cost_model, dev.mechanisms, dev.bytes_per_element)
            for n in ("latency_ms", "compute_ms", "memory_ms", "weight_ms"):
                cols[n][i, j] = getattr(row, n)
            if sil[j] is None:
                cols["energy_mj"][i, j] = np.nan
            elif not k.on_cpu:
                st, coef = sil[j][0], sil[j][1]
                ev = kernel_events(dev, k, row.dram_read_bytes, row.dram_write_bytes, st)
                cols["energy_mj"][i, j] = sum(coef[n] * v for n, v in ev.items()) * 1e-9
    on_cpu = np.array([k.on_cpu for k in kernels], dtype=bool)
    return KernelTable(**cols, on_cpu=on_cpu, **_device_columns(devices, sil))


# ------------------------------------------------------------------------------------------------
# the systolic template, vectorised over devices
# ------------------------------------------------------------------------------------------------
def is_vectorisable_systolic(device: AcceleratorDevice) -> bool:
    """Whether :func:`systolic_kernel_tables` covers ``device`` (a systolic array, analytical engine)."""
    from hwsim.devices.systolic_device import SystolicDeviceConfig

    cm = device.cost_model
    return isinstance(cm, SystolicDeviceConfig) and cm.engine == "analytical"


def _ceil_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return -(-a // b)


def systolic_kernel_tables(devices: Sequence[AcceleratorDevice], kernels: Sequence[Kernel]) -> KernelTable:
    """:func:`kernel_tables` for systolic-array devices, computed as array expressions over all devices.

    Mirrors :func:`hwsim.devices.systolic_device.systolic_kernel_cost` (analytical engine, scalesim quirks: the
    stall-free cycles and SRAM counts of :mod:`hwsim.systolic.dataflows`, plus the DRAM-prefetch stalls of
    :func:`hwsim.systolic.stall_model.stall_cycles_batch` in USER bandwidth mode), ``buffered_traffic`` and
    ``time_kernel``. CPU-fallback kernels go through ``time_kernel`` (they do not depend on the array).
    """
    from hwsim.systolic.stall_model import stall_cycles_batch
    from hwsim.systolic.topology import scalesim_view

    _check_devices(devices)
    bad = [d.name for d in devices if not is_vectorisable_systolic(d)]
    if bad:
        raise SweepError(f"systolic_kernel_tables: device {bad[0]!r} is not a systolic array with the analytical "
                         f"engine; use kernel_tables")
    sil = [_silicon_of(d) for d in devices]
    if any(x is None for x in sil):
        raise SweepError("systolic_kernel_tables: a systolic device without a silicon model")
    cms = [d.cost_model for d in devices]
    arrays = [cm.array for cm in cms]
    ms = [d.mechanisms for d in devices]
    R = np.array([a.array_rows for a in arrays], dtype=np.int64)
    C = np.array([a.array_cols for a in arrays], dtype=np.int64)
    dfc = np.array([{"os": 0, "ws": 1, "is": 2}[a.dataflow] for a in arrays], dtype=np.int64)
    act_buf = np.array([a.ifmap_sram_kb * 1024 for a in arrays], dtype=np.int64)
    w_buf = np.array([a.filter_sram_kb * 1024 for a in arrays], dtype=np.int64)
    # DRAM-prefetch stalls (USER bandwidth mode): hwsim.systolic.stall_model
    user = np.array([a.bandwidth_mode == "USER" for a in arrays], dtype=bool)
    sram = np.array([[a.ifmap_sram_kb * 1024, a.filter_sram_kb * 1024, a.ofmap_sram_kb * 1024] for a in arrays],
                    dtype=np.int64).reshape(len(arrays), 3)
    dram_bw = np.array([a.effective_dram_bandwidths() for a in arrays], dtype=np.int64).reshape(len(arrays), 3)
    bw = np.array([cm.dram_bytes_per_cycle for cm in cms], dtype=np.float64)
    vec = np.array([cm.vector_ops_per_cycle for cm in cms], dtype=np.int64)
    cyc_ms = 1.0 / (np.array([cm.clock_mhz for cm in cms], dtype=np.float64) * 1e3)
    shared = np.array([m.shared_bandwidth for m in ms], dtype=bool)
    overhead_ms = np.array([m.kernel_overhead_cycles for m in ms], dtype=np.float64) * cyc_ms
    # silicon: pJ per event and word bytes per device (hwsim.silicon.kernel_events, systolic branch)
    names = sorted({n for x in sil for n in x[1]})
    coef = {n: np.array([x[1].get(n, 0.0) for x in sil], dtype=np.float64) for n in names}
    wb = np.array([x[0].word_bytes for x in sil], dtype=np.float64)
    rf_per_mac = np.array([x[0].rf_words_per_mac for x in sil], dtype=np.float64)
    for x in sil:
        if (x[0].input_sram, x[0].weight_sram, x[0].output_sram) != ("ifmap", "filter", "ofmap"):
            raise SweepError("systolic_kernel_tables: unexpected SRAM names in the systolic silicon structure")

    shape = (len(kernels), len(devices))
    out = {n: np.zeros(shape) for n in ("latency_ms", "compute_ms", "memory_ms", "weight_ms", "energy_mj")}
    for i, k in enumerate(kernels):
        if k.on_cpu:
            for j, dev in enumerate(devices):
                row = time_kernel(k, dev.cost_model, dev.mechanisms, dev.bytes_per_element)
                for n in ("latency_ms", "compute_ms", "memory_ms", "weight_ms"):
                    out[n][i, j] = getattr(row, n)
            continue  # CPU kernels carry no accelerator energy
        anchor = k.anchor
        on_array = isinstance(anchor, (Conv2d, Linear, MatMul))
        if on_array:
            mapped = scalesim_view(anchor)
            job, reps = mapped.job, mapped.repeats
            # (sr, sc, t) per dataflow: os (pixels, filters, window), ws (window, filters, pixels),
            # is (window, pixels, filters) -- hwsim.systolic.dataflows
            px, nf, win = job.ofmap_px, job.num_filters, job.window
            sr = np.choose(dfc, [px, win, win])
            sc = np.choose(dfc, [nf, nf, px])
            t = np.choose(dfc, [win, px, nf])
            rf, cf = _ceil_div(sr, R), _ceil_div(sc, C)
            folds = rf * cf
            fold_rows = np.where(dfc == 0, t + R + C - 2, 2 * R + C + t - 2)
            cc = folds * fold_rows - 1
            if_reads = np.choose(dfc, [cf * sr * t, cf * t * sr, sr * sc])
            f_reads = np.choose(dfc, [rf * sc * t, sr * sc, cf * t * sr])
            of_fixed = np.choose(dfc, [sr * sc, rf * t * sc, rf * t * sc])  # quirks "fixed" (silicon)
            stall = np.zeros(len(devices), dtype=np.int64)
            if user.any():
                est = stall_cycles_batch(dfc[user], R[user], C[user], sram[user], dram_bw[user], job)
                stall[user] = est[:, 1]
            cycles = ((cc + stall) * reps).astype(np.float64)
            extra = sum(m.ops for m in k.layers[1:])
            cycles = np.maximum(cycles, extra / vec)
        elif isinstance(anchor, (Concat, Reshape)):
            cycles = np.zeros(len(devices))
        else:
            cycles = k.ops / vec
        inp, w, o = k.input_elements, k.params, k.output_elements
        w_tiles = np.maximum(1, _ceil_div(np.int64(w), np.maximum(1, w_buf))) if w else np.ones_like(w_buf)
        i_tiles = np.maximum(1, _ceil_div(np.int64(inp), np.maximum(1, act_buf))) if inp else np.ones_like(act_buf)
        rd = np.minimum(inp * w_tiles + w, inp + w * i_tiles)
        wr = o
        mem_cycles = np.where(shared, (rd + wr) / bw, np.maximum(rd, wr) / bw)
        mem_no_w = np.where(shared, (rd - w + wr) / bw, np.maximum(rd - w, wr) / bw)
        compute_ms = cycles * cyc_ms
        memory_ms = mem_cycles * cyc_ms
        out["compute_ms"][i] = compute_ms
        out["memory_ms"][i] = memory_ms
        out["weight_ms"][i] = (mem_cycles - mem_no_w) * cyc_ms
        out["latency_ms"][i] = overhead_ms + np.maximum(compute_ms, memory_ms)
        # events x pJ (hwsim.silicon.kernel_events)
        pj = coef["mac"] * float(k.macs) + coef["alu_op"] * float(k.ops)
        pj = pj + coef["dram_read_byte"] * rd + coef["dram_write_byte"] * float(wr)
        if on_array and anchor.macs:
            pj = pj + coef["ifmap_read_byte"] * (reps * if_reads * wb) + coef["filter_read_byte"] * (
                reps * f_reads * wb) + coef["ofmap_write_byte"] * (reps * of_fixed * wb)
            pj = pj + coef["rf_word"] * (rf_per_mac * anchor.macs)
        elif not isinstance(anchor, (Concat, Reshape)):
            pj = pj + coef["ifmap_read_byte"] * (float(inp) * wb) + coef["ofmap_write_byte"] * (float(o) * wb)
        out["energy_mj"][i] = pj * 1e-9
    on_cpu = np.array([k.on_cpu for k in kernels], dtype=bool)
    return KernelTable(**out, on_cpu=on_cpu, **_device_columns(devices, sil))


def tables_for(devices: Sequence[AcceleratorDevice], kernels: Sequence[Kernel]) -> KernelTable:
    """The vectorised systolic tables when every device allows it, else the reference tables."""
    if devices and all(is_vectorisable_systolic(d) for d in devices):
        return systolic_kernel_tables(devices, kernels)
    return kernel_tables(devices, kernels)


# ------------------------------------------------------------------------------------------------
# from tables to network results
# ------------------------------------------------------------------------------------------------
def pair_savings_ms(table: KernelTable, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """``[n_pairs, n_devices]``: time hidden by prefetching the next kernel's weights (as
    :func:`hwsim.devices.base.overlap_savings_ms` computes per pair)."""
    n_dev = table.latency_ms.shape[1]
    if not pairs:
        return np.zeros((0, n_dev))
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    c_b, m_b, w_b = table.compute_ms[b], table.memory_ms[b], table.weight_ms[b]
    reduced = np.maximum(0.0, m_b - w_b)
    gain = np.maximum(c_b, m_b) - np.maximum(c_b, reduced)
    idle = np.maximum(0.0, table.compute_ms[a] - table.memory_ms[a])
    saved = np.minimum(gain, idle)
    skip = (table.on_cpu[a] | table.on_cpu[b])[:, None] | (w_b <= 0) | (table.overlap[None, :] == 0)
    return np.where(skip, 0.0, saved)


@dataclass(frozen=True)
class NetworkMetrics:
    """Sweep outputs for one batch of devices, float64 ``[n_net, n_devices]`` (ms, mJ, W)."""

    latency_ms: np.ndarray
    energy_mj: np.ndarray
    power_w: np.ndarray


def network_metrics(features: NetworkFeatures, table: KernelTable) -> NetworkMetrics:
    """Latency, energy and average power of every network on every device of ``table``.

    ``latency = kernel_sum - saved + host`` as :meth:`AcceleratorDevice.run`; energy and average power as
    :func:`hwsim.silicon.silicon_report`: the kernels' dynamic energy (CPU kernels excluded) + static power x
    device time (``kernel_sum - saved``, W x ms = mJ), power = energy / device time (static power when that is
    0); NaN for templates without a silicon model.
    """
    nk = len(features.kernels)
    nd = table.latency_ms.shape[1]
    ck = features.unique_counts[:, :nk]
    cp = features.unique_counts[:, nk:]
    both = ck @ np.hstack([table.latency_ms, table.energy_mj])  # one product for both kernel sums
    kernel_sum, kernel_energy = both[:, :nd], both[:, nd:]
    saved = cp @ pair_savings_ms(table, features.pairs)
    device_ms = kernel_sum - saved
    host = (table.host_ms[None, :]
            + table.host_ns_per_element[None, :] * features.unique_input_elements[:, None] * 1e-6)
    latency = device_ms + host
    energy = kernel_energy + table.static_power_w[None, :] * device_ms
    with np.errstate(divide="ignore", invalid="ignore"):
        power = np.where(device_ms > 0, energy / device_ms, table.static_power_w[None, :])
    rows = features.row_of
    if len(rows) != len(features.unique_counts) or not np.array_equal(rows, np.arange(len(rows))):
        latency, energy, power = latency[rows], energy[rows], power[rows]
    return NetworkMetrics(latency, energy, power)


__all__ = ["KernelTable", "NetworkMetrics", "is_vectorisable_systolic", "kernel_tables", "network_metrics",
           "pair_savings_ms", "systolic_kernel_tables", "tables_for"]
