"""Public entry points: one layer or a whole network on a systolic array, with either engine.

- ``engine="analytical"``: closed forms (:mod:`hwsim.systolic.analytical`), stall-free like scalesim's CALC
  bandwidth mode; O(1)-ish per layer.
- ``engine="memory"``: the double-buffered scratchpad + DRAM model (:mod:`hwsim.systolic.memory`), replayed
  cycle by cycle in Numba in the config's bandwidth mode (USER: stalls; CALC: scalesim's estimate).

``quirks="scalesim"`` (default) reproduces scalesim 3.0.0 number for number, bugs included.
``quirks="fixed"`` corrects what changes numbers:

1. ``read_buffer.service_reads`` adds a positive prefetch stall twice and lets a negative one (data already
   there) subtract: fixed adds each positive stall once and ignores negative ones.
2. DRAM reads: scalesim counts ``ceil(buffer_half / bw) * bw`` words per prefetch (whole bandwidth rows, the
   last one padded): fixed counts the words of the buffer lines actually brought in.
3. os ofmap SRAM writes: scalesim adds the padded fold's ``R + C`` to every fold: fixed counts the outputs.

The other two quirks listed in scalesim-notes.md change no reported number: ``new_prefetch`` resetting its
next-fetch position only changes *which addresses* scalesim writes in its DRAM trace (reports use the trace's
cycle column only; hit/miss decisions use the line window, which is modelled exactly), and the quadratic
trace copying only costs scalesim time and memory. The analytical engine has no stalls or prefetches, so
only (3) applies to it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from hwsim.errors import HwnasError
from hwsim.systolic import memory as _mem
from hwsim.systolic.analytical import (_first_last_rows, analytical_layer, geometry_vector, unique_footprints,
                                       valid_ifmap_entries)
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.dataflows import get_dataflow
from hwsim.systolic.results import NetworkLayerEntry, SystolicLayerResult, SystolicNetworkResult
from hwsim.systolic.topology import MappedLayer, ScalesimLayer, SystolicMappingError, scalesim_view
from hwsim.workload import Layer, Network

ENGINES = ("analytical", "memory")
QUIRKS = ("scalesim", "fixed")


def _check(config: SystolicConfig, engine: str, quirks: str) -> None:
    if not isinstance(config, SystolicConfig):
        raise HwnasError(f"config must be a SystolicConfig, got {type(config).__name__}")
    if engine not in ENGINES:
        raise HwnasError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    if quirks not in QUIRKS:
        raise HwnasError(f"quirks must be one of {', '.join(QUIRKS)}; got {quirks!r}")


def memory_layer(config: SystolicConfig, job: ScalesimLayer, quirks: str = "scalesim") -> SystolicLayerResult:
    """Replay one scalesim job through the memory model (validated wrapper of the Numba kernel)."""
    _check(config, "memory", quirks)
    df = get_dataflow(config.dataflow)
    g = df.geometry(job, config.array_rows, config.array_cols)
    sizes = np.array([config.ifmap_sram_kb * 1024, config.filter_sram_kb * 1024, config.ofmap_sram_kb * 1024],
                     dtype=np.int64)
    bws = np.array(config.effective_dram_bandwidths(), dtype=np.int64)
    mode = 0 if config.bandwidth_mode == "USER" else 1
    gv = geometry_vector(config, job)
    fl = _first_last_rows(gv, df.fold_rows(g))
    u_if, u_f, _ = unique_footprints(job)
    info = np.array([valid_ifmap_entries(job), job.window * job.num_filters, u_if, u_f], dtype=np.int64)
    r = _mem._run_layer(gv, mode, 0 if quirks == "scalesim" else 1, sizes, bws, fl, info)
    if r[0] < 0:
        raise HwnasError(f"layer {job.name!r}: memory model found an address outside the prefetch order")
    r = [int(x) for x in r]
    sram = df.sram_counts(g, quirks)
    total = r[_mem.R_TOTAL]
    incl = r[_mem.R_OF_DRAM_STOP] - min(r[_mem.R_IF_DRAM_START], r[_mem.R_F_DRAM_START])
    return SystolicLayerResult(
        name=job.name, dataflow=config.dataflow, engine="memory", quirks=quirks,
        bandwidth_mode=config.bandwidth_mode, macs=job.macs, total_cycles=total, stall_cycles=r[_mem.R_STALL],
        total_cycles_incl_prefetch=incl, overall_util_pct=job.macs * 100 / (total * config.num_pes),
        mapping_efficiency_pct=df.mapping_efficiency(g) * 100, compute_util_pct=df.compute_utilization(g) * 100,
        ifmap_sram_reads=sram.ifmap_reads, filter_sram_reads=sram.filter_reads, ofmap_sram_writes=sram.ofmap_writes,
        ifmap_sram_start_cycle=r[_mem.R_IF_SRAM_START], ifmap_sram_stop_cycle=r[_mem.R_IF_SRAM_STOP],
        filter_sram_start_cycle=r[_mem.R_F_SRAM_START], filter_sram_stop_cycle=r[_mem.R_F_SRAM_STOP],
        ofmap_sram_start_cycle=r[_mem.R_OF_SRAM_START], ofmap_sram_stop_cycle=r[_mem.R_OF_SRAM_STOP],
        ifmap_dram_reads=r[_mem.R_IF_DRAM], filter_dram_reads=r[_mem.R_F_DRAM], ofmap_dram_writes=r[_mem.R_OF_DRAM],
        ifmap_dram_start_cycle=r[_mem.R_IF_DRAM_START], ifmap_dram_stop_cycle=r[_mem.R_IF_DRAM_STOP],
        filter_dram_start_cycle=r[_mem.R_F_DRAM_START], filter_dram_stop_cycle=r[_mem.R_F_DRAM_STOP],
        ofmap_dram_start_cycle=r[_mem.R_OF_DRAM_START], ofmap_dram_stop_cycle=r[_mem.R_OF_DRAM_STOP],
    )


def simulate_job(config: SystolicConfig, job: ScalesimLayer, engine: str = "analytical",
                 quirks: str = "scalesim") -> SystolicLayerResult:
    """One scalesim job (a topology row) with the chosen engine."""
    _check(config, engine, quirks)
    if engine == "analytical":
        return analytical_layer(config, job, quirks)
    return memory_layer(config, job, quirks)


def simulate_layer(config: SystolicConfig, layer: Layer | ScalesimLayer, engine: str = "analytical",
                   quirks: str = "scalesim") -> SystolicLayerResult:
    """One layer. A workload layer is mapped by :func:`hwsim.systolic.topology.scalesim_view`; for a grouped
    conv or batched matmul (``repeats`` identical jobs) the result is that of ONE job; use
    :func:`simulate_network` (or multiply by ``scalesim_view(layer).repeats``) for the layer's total.
    Layers without MACs raise :class:`hwsim.systolic.topology.SystolicMappingError`."""
    if isinstance(layer, ScalesimLayer):
        return simulate_job(config, layer, engine, quirks)
    mapped = scalesim_view(layer)
    if mapped.job is None:
        raise SystolicMappingError(f"layer {layer.name!r} ({layer.kind}) has no MACs and is not run on the array")
    return simulate_job(config, mapped.job, engine, quirks)


def simulate_network(config: SystolicConfig, network: Network | Iterable[ScalesimLayer],
                     engine: str = "analytical", quirks: str = "scalesim", workers: int | None = None
                     ) -> SystolicNetworkResult:
    """Every layer in order; layers without MACs are skipped with zero cycles.

    Identical jobs are simulated once and reused (scalesim starts every layer with empty buffers, so equal
    jobs give equal results). The memory engine runs distinct jobs on ``workers`` threads (default: the CPU
    count; its Numba kernel releases the GIL); results do not depend on ``workers``."""
    _check(config, engine, quirks)

    def key(job: ScalesimLayer) -> ScalesimLayer:
        return ScalesimLayer("job", job.ifmap_h, job.ifmap_w, job.filter_h, job.filter_w, job.channels,
                             job.num_filters, job.stride_h, job.stride_w)

    if isinstance(network, Network):
        name = network.name
        mapped = [scalesim_view(layer) for layer in network.layers]
    else:
        name = "topology"
        mapped = [MappedLayer(job.name, "scalesim", job, 1) for job in network]
    distinct = list(dict.fromkeys(key(m.job) for m in mapped if m.job is not None))
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if engine == "memory" and n_workers > 1 and len(distinct) > 1:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            done = list(pool.map(lambda j: simulate_job(config, j, engine, quirks), distinct))
    else:
        done = [simulate_job(config, j, engine, quirks) for j in distinct]
    cache = dict(zip(distinct, done))
    entries = [NetworkLayerEntry(m.layer_name, m.kind, m.repeats,
                                 None if m.job is None else dataclasses.replace(cache[key(m.job)], name=m.job.name))
               for m in mapped]
    return SystolicNetworkResult(name, config.dataflow, engine, quirks, tuple(entries))
