"""Run the real scalesim 3.0 package on a config and jobs; return hwsim's result objects.

For parity tests and benchmarks only (scalesim is slow: its memory model builds every trace in memory).
The run happens in a temporary directory: the config is written with :meth:`SystolicConfig.to_cfg_text`,
the jobs as a conv topology CSV (names sanitised so no job is mistaken for a depthwise "DP" layer), plus
the header-only layout CSV scalesim's API insists on. Reports are read back from
``OUT/<run_name>/{COMPUTE,BANDWIDTH,DETAILED_ACCESS}_REPORT.csv``.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

from hwsim.errors import HwnasError
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.results import SystolicLayerResult
from hwsim.systolic.topology import ScalesimLayer

TOPOLOGY_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                   "Strides,")
LAYOUT_HEADER = ("Layer name, IFMAP Height Intraline Factor, IFMAP Width Intraline Factor, Filter Height Intraline "
                 "Factor, Filter Width Intraline Factor, Channel Intraline Factor, Num Filter Intraline Factor,")


def scalesim_version() -> str:
    from importlib.metadata import version
    return version("scalesim")


def _rows(path: Path) -> list[list[str]]:
    lines = path.read_text().strip().splitlines()[1:]
    return [[x.strip() for x in ln.split(",")[:-1]] for ln in lines if ln.strip()]


def _num(s: str) -> int:
    return int(float(s))


def read_reports(report_dir: str | Path, config: SystolicConfig, jobs: Sequence[ScalesimLayer]) -> list[SystolicLayerResult]:
    """Parse scalesim's three CSV reports (one row per job, in order) into result objects."""
    d = Path(report_dir)
    comp = _rows(d / "COMPUTE_REPORT.csv")
    det = _rows(d / "DETAILED_ACCESS_REPORT.csv")
    if len(comp) != len(jobs) or len(det) != len(jobs):
        raise HwnasError(f"{d}: scalesim reported {len(comp)} layers, expected {len(jobs)}")
    out = []
    for job, c, t in zip(jobs, comp, det):
        v = [_num(x) for x in t[1:]]
        out.append(SystolicLayerResult(
            name=job.name, dataflow=config.dataflow, engine="scalesim", quirks="scalesim",
            bandwidth_mode=config.bandwidth_mode, macs=job.macs, total_cycles=_num(c[2]), stall_cycles=_num(c[3]),
            total_cycles_incl_prefetch=_num(c[1]), overall_util_pct=float(c[4]), mapping_efficiency_pct=float(c[5]),
            compute_util_pct=float(c[6]),
            ifmap_sram_start_cycle=v[0], ifmap_sram_stop_cycle=v[1], ifmap_sram_reads=v[2],
            filter_sram_start_cycle=v[3], filter_sram_stop_cycle=v[4], filter_sram_reads=v[5],
            ofmap_sram_start_cycle=v[6], ofmap_sram_stop_cycle=v[7], ofmap_sram_writes=v[8],
            ifmap_dram_start_cycle=v[9], ifmap_dram_stop_cycle=v[10], ifmap_dram_reads=v[11],
            filter_dram_start_cycle=v[12], filter_dram_stop_cycle=v[13], filter_dram_reads=v[14],
            ofmap_dram_start_cycle=v[15], ofmap_dram_stop_cycle=v[16], ofmap_dram_writes=v[17],
        ))
    return out


def run_scalesim(config: SystolicConfig, jobs: Sequence[ScalesimLayer],
                 keep_dir: str | Path | None = None) -> list[SystolicLayerResult]:
    """Run scalesim 3.0 (Python API, in this process, warnings and prints silenced) on ``jobs`` in one
    topology; return one :class:`SystolicLayerResult` per job (``engine="scalesim"``)."""
    try:
        from scalesim.scale_sim import scalesim
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise HwnasError("the reference runner needs the scalesim package (pip install hwnas[scalesim])") from e
    if not jobs:
        return []
    with tempfile.TemporaryDirectory(prefix="hwnas_scalesim_") as tmp:
        root = Path(keep_dir) if keep_dir is not None else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        cfg = root / "run.cfg"
        cfg.write_text(config.to_cfg_text())
        topo = root / "topology.csv"
        rows = [TOPOLOGY_HEADER] + [
            ScalesimLayer(f"L{i}", j.ifmap_h, j.ifmap_w, j.filter_h, j.filter_w, j.channels, j.num_filters,
                          j.stride_h, j.stride_w).csv_row() for i, j in enumerate(jobs)]
        if any(j.stride_h != j.stride_w for j in jobs):
            raise HwnasError("scalesim topology rows have one stride; a job has stride_h != stride_w")
        topo.write_text("\n".join(rows) + "\n")
        layout = root / "layout.csv"
        layout.write_text(LAYOUT_HEADER + "\n")
        out = root / "out"
        out.mkdir(exist_ok=True)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg), topology=str(topo),
                           layout=str(layout), input_type_gemm=False)
            sim.run_scale(top_path=str(out))
        return read_reports(out / config.run_name, config, jobs)
