"""Energy from access counts: a documented per-access energy table the user can override.

Defaults (picojoules per 8-bit word / per 8-bit MAC) follow the widely used 45 nm figures of Horowitz,
"Computing's energy problem" (ISSCC 2014) and the Eyeriss relative-cost ladder (Chen et al., ISCA 2016):
an 8-bit MAC ~0.2 pJ (0.03 pJ add + 0.2 pJ multiply), an SRAM word from a ~64 kB buffer ~1.25 pJ
(10 pJ per 64-bit access / 8), a DRAM word ~160 pJ (1.3-2.6 nJ per 64-bit access / 8 ~ 160-320 pJ).
They are order-of-magnitude defaults, not a calibrated model of any chip: pass your own table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hwsim.errors import HwnasError


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energy in picojoules by component."""

    mac_pj: float
    sram_pj: float
    dram_pj: float

    @property
    def total_pj(self) -> float:
        return self.mac_pj + self.sram_pj + self.dram_pj

    @property
    def total_j(self) -> float:
        return self.total_pj * 1e-12


@dataclass(frozen=True)
class EnergyTable:
    """Energy per event in picojoules: one MAC, one SRAM word access, one DRAM word access."""

    mac_pj: float = 0.23
    sram_read_pj: float = 1.25
    sram_write_pj: float = 1.25
    dram_read_pj: float = 160.0
    dram_write_pj: float = 160.0

    def __post_init__(self) -> None:
        for k in ("mac_pj", "sram_read_pj", "sram_write_pj", "dram_read_pj", "dram_write_pj"):
            v = getattr(self, k)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise HwnasError(f"energy table field {k} must be a non-negative number of pJ, got {v!r}")

    def evaluate(self, macs: int, accesses: Mapping[str, int]) -> EnergyBreakdown:
        """Energy of ``macs`` MACs and the access counts (keys as in ``SystolicNetworkResult.access_totals``)."""
        sram = ((accesses["ifmap_sram_reads"] + accesses["filter_sram_reads"]) * self.sram_read_pj
                + accesses["ofmap_sram_writes"] * self.sram_write_pj)
        dram = ((accesses["ifmap_dram_reads"] + accesses["filter_dram_reads"]) * self.dram_read_pj
                + accesses["ofmap_dram_writes"] * self.dram_write_pj)
        return EnergyBreakdown(macs * self.mac_pj, sram, dram)
