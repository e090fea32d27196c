"""Result dataclasses: one layer (SCALE-Sim's three reports as named fields) and a whole network."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hwsim.errors import HwnasError
from hwsim.systolic.energy import EnergyBreakdown, EnergyTable


@dataclass(frozen=True)
class SystolicLayerResult:
    """One scalesim job. Cycles are array clock cycles; accesses are words (1 byte each).

    ``total_cycles`` is scalesim's "Total Cycles" (compute + stalls), ``total_cycles_incl_prefetch`` its
    "Total Cycles (incl. prefetch)" (ofmap DRAM stop - first ifmap/filter DRAM start). Utilisations are
    percentages. SRAM/DRAM start/stop cycles are those of the first and last access (DRAM ones may be
    negative: scalesim prefetches before cycle 0).
    """

    name: str
    dataflow: str
    engine: str
    quirks: str
    bandwidth_mode: str
    macs: int
    total_cycles: int
    stall_cycles: int
    total_cycles_incl_prefetch: int
    overall_util_pct: float
    mapping_efficiency_pct: float
    compute_util_pct: float
    ifmap_sram_reads: int
    filter_sram_reads: int
    ofmap_sram_writes: int
    ifmap_sram_start_cycle: int
    ifmap_sram_stop_cycle: int
    filter_sram_start_cycle: int
    filter_sram_stop_cycle: int
    ofmap_sram_start_cycle: int
    ofmap_sram_stop_cycle: int
    ifmap_dram_reads: int
    filter_dram_reads: int
    ofmap_dram_writes: int
    ifmap_dram_start_cycle: int
    ifmap_dram_stop_cycle: int
    filter_dram_start_cycle: int
    filter_dram_stop_cycle: int
    ofmap_dram_start_cycle: int
    ofmap_dram_stop_cycle: int

    @property
    def compute_cycles(self) -> int:
        """Cycles without stalls."""
        return self.total_cycles - self.stall_cycles

    # --- BANDWIDTH_REPORT (words/cycle) -------------------------------------------------------------
    @property
    def avg_ifmap_sram_bw(self) -> float:
        return self.ifmap_sram_reads / self.total_cycles

    @property
    def avg_filter_sram_bw(self) -> float:
        return self.filter_sram_reads / self.total_cycles

    @property
    def avg_ofmap_sram_bw(self) -> float:
        return self.ofmap_sram_writes / self.total_cycles

    @property
    def avg_ifmap_dram_bw(self) -> float:
        return self.ifmap_dram_reads / (self.ifmap_dram_stop_cycle - self.ifmap_dram_start_cycle + 1)

    @property
    def avg_filter_dram_bw(self) -> float:
        return self.filter_dram_reads / (self.filter_dram_stop_cycle - self.filter_dram_start_cycle + 1)

    @property
    def avg_ofmap_dram_bw(self) -> float:
        return self.ofmap_dram_writes / (self.ofmap_dram_stop_cycle - self.ofmap_dram_start_cycle + 1)

    @property
    def dram_words(self) -> int:
        return self.ifmap_dram_reads + self.filter_dram_reads + self.ofmap_dram_writes

    @property
    def sram_words(self) -> int:
        return self.ifmap_sram_reads + self.filter_sram_reads + self.ofmap_sram_writes

    def counts(self) -> dict[str, int]:
        """Every integer field (cycles and access counts), for exact comparisons."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if isinstance(getattr(self, f.name), int) and not isinstance(getattr(self, f.name), bool)}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class NetworkLayerEntry:
    """One workload layer: its scalesim job result (None when skipped) run ``repeats`` times."""

    layer_name: str
    kind: str
    repeats: int
    result: SystolicLayerResult | None

    @property
    def skipped(self) -> bool:
        """True for layers without MACs (pool, activation, norm, ...): not run on the array, zero cycles."""
        return self.result is None

    @property
    def total_cycles(self) -> int:
        return 0 if self.result is None else self.repeats * self.result.total_cycles

    @property
    def stall_cycles(self) -> int:
        return 0 if self.result is None else self.repeats * self.result.stall_cycles

    @property
    def macs(self) -> int:
        return 0 if self.result is None else self.repeats * self.result.macs

    def access_totals(self) -> dict[str, int]:
        keys = ("ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes", "ifmap_dram_reads",
                "filter_dram_reads", "ofmap_dram_writes")
        if self.result is None:
            return dict.fromkeys(keys, 0)
        return {k: self.repeats * getattr(self.result, k) for k in keys}


@dataclass(frozen=True)
class SystolicNetworkResult:
    """Per-layer breakdown and totals of one network on one systolic configuration."""

    network: str
    dataflow: str
    engine: str
    quirks: str
    layers: tuple[NetworkLayerEntry, ...]

    @property
    def total_cycles(self) -> int:
        return sum(e.total_cycles for e in self.layers)

    @property
    def stall_cycles(self) -> int:
        return sum(e.stall_cycles for e in self.layers)

    @property
    def compute_cycles(self) -> int:
        return self.total_cycles - self.stall_cycles

    @property
    def macs(self) -> int:
        return sum(e.macs for e in self.layers)

    def access_totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.layers:
            for k, v in e.access_totals().items():
                out[k] = out.get(k, 0) + v
        return out

    def latency_s(self, clock_hz: float) -> float:
        """Latency in seconds at ``clock_hz`` (layers run one after another)."""
        if not clock_hz > 0:
            raise HwnasError(f"clock_hz must be positive, got {clock_hz!r}")
        return self.total_cycles / clock_hz

    def energy(self, table: EnergyTable | None = None) -> EnergyBreakdown:
        """Energy from MACs and access counts with ``table`` (default :class:`EnergyTable`)."""
        return (table or EnergyTable()).evaluate(self.macs, self.access_totals())

    def job_results(self) -> list[SystolicLayerResult]:
        """The scalesim jobs in run order (repeats expanded), as scalesim's reports list them."""
        out: list[SystolicLayerResult] = []
        for e in self.layers:
            if e.result is not None:
                out.extend([e.result] * e.repeats)
        return out

    def summary(self) -> Mapping[str, Any]:
        return {"network": self.network, "dataflow": self.dataflow, "engine": self.engine, "quirks": self.quirks,
                "total_cycles": self.total_cycles, "stall_cycles": self.stall_cycles, "macs": self.macs,
                **self.access_totals()}
