"""Energy of a systolic-array run from its access counts: a per-access table the user can override.

The numbers are not this module's own: they come from the one component table of :mod:`hwsim.silicon`
(every figure with its source and node; docs/silicon.md). The defaults of :class:`EnergyTable` are that table
at 45 nm for SCALE-Sim's 1-byte words and its default 64 KiB SRAMs: an 8-bit MAC (:func:`hwsim.silicon.mac_pj`),
one byte from a 64 KiB SRAM (:func:`hwsim.silicon.sram_pj_per_byte`) and one DRAM byte (``dram_pj_per_byte``).
:meth:`EnergyTable.for_array` gives the table of a given array (its SRAM sizes, a ``[silicon]`` override).
The full silicon cost of a device (register files, static power, area) is :func:`hwsim.silicon.silicon_report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from hwsim.errors import HwnasError

if TYPE_CHECKING:
    from hwsim.silicon import SiliconOverrides
    from hwsim.systolic.config import SystolicConfig

#: SCALE-Sim's default SRAM size (KiB) the default table is taken at.
DEFAULT_SRAM_KIB = 64.0


def _silicon_defaults(word_bits: int = 8, read_kib: float = DEFAULT_SRAM_KIB, write_kib: float = DEFAULT_SRAM_KIB,
                      overrides: SiliconOverrides | None = None) -> dict[str, float]:
    from hwsim.silicon import mac_pj, resolve_figures, sram_pj_per_byte

    p = resolve_figures(overrides)
    wb = word_bits / 8
    return {"mac_pj": mac_pj(p, word_bits), "sram_read_pj": sram_pj_per_byte(p, read_kib * wb) * wb,
            "sram_write_pj": sram_pj_per_byte(p, write_kib * wb) * wb, "dram_read_pj": p["dram_pj_per_byte"] * wb,
            "dram_write_pj": p["dram_pj_per_byte"] * wb}


@lru_cache(maxsize=1)
def _defaults() -> Mapping[str, float]:
    return MappingProxyType(_silicon_defaults())


def _default(name: str):  # noqa: ANN202 - a dataclass default factory
    return field(default_factory=lambda: _defaults()[name])


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
    """Energy per event in picojoules: one MAC, one SRAM word access, one DRAM word access (defaults: the
    :mod:`hwsim.silicon` table for 1-byte words and 64 KiB SRAMs, see the module docstring)."""

    mac_pj: float = _default("mac_pj")
    sram_read_pj: float = _default("sram_read_pj")
    sram_write_pj: float = _default("sram_write_pj")
    dram_read_pj: float = _default("dram_read_pj")
    dram_write_pj: float = _default("dram_write_pj")

    def __post_init__(self) -> None:
        for k in ("mac_pj", "sram_read_pj", "sram_write_pj", "dram_read_pj", "dram_write_pj"):
            v = getattr(self, k)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise HwnasError(f"energy table field {k} must be a non-negative number of pJ, got {v!r}")

    @classmethod
    def for_array(cls, config: SystolicConfig, word_bits: int = 8,
                  overrides: SiliconOverrides | None = None) -> EnergyTable:
        """The silicon table for ``config``: reads at the mean of its ifmap/filter SRAM sizes, writes at its
        ofmap SRAM size, ``word_bits``-wide words (SCALE-Sim counts words)."""
        read_kib = (config.ifmap_sram_kb + config.filter_sram_kb) / 2
        return cls(**_silicon_defaults(word_bits, read_kib, float(config.ofmap_sram_kb), overrides))

    def evaluate(self, macs: int, accesses: Mapping[str, int]) -> EnergyBreakdown:
        """Energy of ``macs`` MACs and the access counts (keys as in ``SystolicNetworkResult.access_totals``)."""
        sram = ((accesses["ifmap_sram_reads"] + accesses["filter_sram_reads"]) * self.sram_read_pj
                + accesses["ofmap_sram_writes"] * self.sram_write_pj)
        dram = ((accesses["ifmap_dram_reads"] + accesses["filter_dram_reads"]) * self.dram_read_pj
                + accesses["ofmap_dram_writes"] * self.dram_write_pj)
        return EnergyBreakdown(macs * self.mac_pj, sram, dram)
