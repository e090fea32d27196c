"""Write SCALE-Sim's three report files (same names, headers and column order) so users can diff them.

``COMPUTE_REPORT.csv``, ``BANDWIDTH_REPORT.csv`` and ``DETAILED_ACCESS_REPORT.csv``: one row per scalesim
job (a grouped conv appears ``groups`` times, as scalesim's per-channel depthwise layers do), rows written
``str(value)`` joined by ", " with a trailing comma, as scalesim writes them. Cycle numbers are integers
(scalesim prints some as floats, e.g. ``-50.0``; compare numerically).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hwsim.fileio import atomic_write_text
from hwsim.systolic.results import SystolicLayerResult

COMPUTE_HEADER = ("LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, Overall Util %, "
                  "Mapping Efficiency %, Compute Util %,")
BANDWIDTH_HEADER = ("LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, "
                    "Avg FILTER DRAM BW, Avg OFMAP DRAM BW,")
DETAIL_HEADER = ("LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, SRAM Filter Start Cycle, "
                 "SRAM Filter Stop Cycle, SRAM Filter Reads, SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, "
                 "SRAM OFMAP Writes, DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, "
                 "DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, DRAM OFMAP Start Cycle, "
                 "DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,")

DETAIL_FIELDS = (
    "ifmap_sram_start_cycle", "ifmap_sram_stop_cycle", "ifmap_sram_reads",
    "filter_sram_start_cycle", "filter_sram_stop_cycle", "filter_sram_reads",
    "ofmap_sram_start_cycle", "ofmap_sram_stop_cycle", "ofmap_sram_writes",
    "ifmap_dram_start_cycle", "ifmap_dram_stop_cycle", "ifmap_dram_reads",
    "filter_dram_start_cycle", "filter_dram_stop_cycle", "filter_dram_reads",
    "ofmap_dram_start_cycle", "ofmap_dram_stop_cycle", "ofmap_dram_writes",
)


def _row(lid: int, values: Sequence[object]) -> str:
    return f"{lid}, " + ", ".join(str(v) for v in values) + ","


def report_texts(results: Sequence[SystolicLayerResult]) -> dict[str, str]:
    """{file name: text} of the three reports."""
    comp = [COMPUTE_HEADER] + [_row(i, (r.total_cycles_incl_prefetch, r.total_cycles, r.stall_cycles,
                                        r.overall_util_pct, r.mapping_efficiency_pct, r.compute_util_pct))
                               for i, r in enumerate(results)]
    bw = [BANDWIDTH_HEADER] + [_row(i, (r.avg_ifmap_sram_bw, r.avg_filter_sram_bw, r.avg_ofmap_sram_bw,
                                        r.avg_ifmap_dram_bw, r.avg_filter_dram_bw, r.avg_ofmap_dram_bw))
                               for i, r in enumerate(results)]
    det = [DETAIL_HEADER] + [_row(i, [getattr(r, f) for f in DETAIL_FIELDS]) for i, r in enumerate(results)]
    return {"COMPUTE_REPORT.csv": "\n".join(comp) + "\n", "BANDWIDTH_REPORT.csv": "\n".join(bw) + "\n",
            "DETAILED_ACCESS_REPORT.csv": "\n".join(det) + "\n"}


def write_reports(results: Sequence[SystolicLayerResult], directory: str | Path) -> list[Path]:
    """Write the three reports into ``directory`` (created if needed, files written atomically)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for name, text in report_texts(results).items():
        atomic_write_text(d / name, text)
        out.append(d / name)
    return out
