"""Systolic-array hardware description: a frozen, validated :class:`SystolicConfig`.

Reads SCALE-Sim 3.0 ``.cfg`` files unchanged (:func:`load_config`) and writes them back
(:meth:`SystolicConfig.to_cfg_text`), so the same file drives hwsim and the real scalesim.
Units: SRAM sizes in KiB of 1-byte words (scalesim's fixed word size), bandwidths in words per cycle,
offsets in words. Presets by name: :func:`preset`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from hwsim.errors import HwnasError

DATAFLOWS = ("os", "ws", "is")
BANDWIDTH_MODES = ("USER", "CALC")


class SystolicConfigError(HwnasError):
    """Invalid systolic configuration; the message names the file/line or field and the value."""


@dataclass(frozen=True)
class SystolicConfig:
    """A SCALE-Sim systolic array: PE grid, three double-buffered SRAMs and their DRAM interfaces.

    ``bandwidth_mode`` "USER" uses the given DRAM bandwidths (words/cycle): ifmap and filter from
    ``[layout] IfmapSRAMBankBandwidth / FilterSRAMBankBandwidth``, ofmap from the first ``Bandwidth`` entry
    (that is what scalesim 3.0 reads). "CALC" lets scalesim estimate the bandwidth (10 words/cycle for
    ifmap/filter, ``array_cols`` for ofmap) and never stalls.
    """

    array_rows: int = 32
    array_cols: int = 32
    ifmap_sram_kb: int = 64
    filter_sram_kb: int = 64
    ofmap_sram_kb: int = 64
    dataflow: str = "os"
    bandwidth_mode: str = "USER"
    bandwidths: tuple[int, ...] = (10,)
    ifmap_dram_bandwidth: int = 10
    filter_dram_bandwidth: int = 10
    ifmap_offset: int = 0
    filter_offset: int = 10_000_000
    ofmap_offset: int = 20_000_000
    read_request_buffer: int = 32
    write_request_buffer: int = 32
    ifmap_sram_bank_num: int = 1
    ifmap_sram_bank_port: int = 2
    filter_sram_bank_num: int = 1
    filter_sram_bank_port: int = 2
    memory_banks: int | None = None
    run_name: str = "hwnas_systolic"

    def __post_init__(self) -> None:
        for f in ("array_rows", "array_cols", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb",
                  "ifmap_dram_bandwidth", "filter_dram_bandwidth", "read_request_buffer", "write_request_buffer",
                  "ifmap_sram_bank_num", "ifmap_sram_bank_port", "filter_sram_bank_num", "filter_sram_bank_port"):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise SystolicConfigError(f"config field {f} must be a positive integer, got {v!r}")
        for f in ("ifmap_offset", "filter_offset", "ofmap_offset"):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise SystolicConfigError(f"config field {f} must be a non-negative integer, got {v!r}")
        if self.memory_banks is not None and (not isinstance(self.memory_banks, int) or self.memory_banks <= 0):
            raise SystolicConfigError(f"config field memory_banks must be a positive integer, got {self.memory_banks!r}")
        if self.dataflow not in DATAFLOWS:
            raise SystolicConfigError(f"config field dataflow must be one of os, ws, is; got {self.dataflow!r}")
        if self.bandwidth_mode not in BANDWIDTH_MODES:
            raise SystolicConfigError(f"config field bandwidth_mode must be USER or CALC; got {self.bandwidth_mode!r}")
        bws = tuple(self.bandwidths)
        object.__setattr__(self, "bandwidths", bws)
        if not bws or any(not isinstance(b, int) or isinstance(b, bool) or b <= 0 for b in bws):
            raise SystolicConfigError(f"config field bandwidths must be positive integers, got {self.bandwidths!r}")
        if self.bandwidth_mode == "USER":
            for op, bw, banks in (("ifmap", self.ifmap_dram_bandwidth, self.ifmap_sram_bank_num),
                                  ("filter", self.filter_dram_bandwidth, self.filter_sram_bank_num)):
                if bw % banks:
                    raise SystolicConfigError(f"config field {op}_dram_bandwidth={bw} must be divisible by "
                                              f"{op}_sram_bank_num={banks} (scalesim asserts this in USER mode)")
        if not isinstance(self.run_name, str) or not self.run_name or not re.fullmatch(r"[\w.-]+", self.run_name):
            raise SystolicConfigError(f"config field run_name must be a non-empty word ([A-Za-z0-9_.-]), "
                                      f"got {self.run_name!r}")

    # --- derived, in the words scalesim uses ------------------------------------------------------
    @property
    def num_pes(self) -> int:
        return self.array_rows * self.array_cols

    @property
    def ofmap_dram_bandwidth(self) -> int:
        """Ofmap DRAM bandwidth in words/cycle actually used by scalesim 3.0 (first ``Bandwidth`` entry)."""
        return self.bandwidths[0]

    def effective_dram_bandwidths(self) -> tuple[int, int, int]:
        """(ifmap, filter, ofmap) DRAM words/cycle of the memory model in this bandwidth mode."""
        if self.bandwidth_mode == "USER":
            return self.ifmap_dram_bandwidth, self.filter_dram_bandwidth, self.ofmap_dram_bandwidth
        return 10, 10, self.array_cols

    def replace(self, **changes: Any) -> SystolicConfig:
        return dataclasses.replace(self, **changes)

    def to_cfg_text(self) -> str:
        """The config as a SCALE-Sim 3.0 ``.cfg`` file (every key scalesim reads)."""
        bw_line = ",".join(str(b) for b in self.bandwidths)
        lines = [
            "[general]", f"run_name = {self.run_name}", "",
            "[architecture_presets]",
            f"ArrayHeight : {self.array_rows}", f"ArrayWidth : {self.array_cols}",
            f"IfmapSramSzkB : {self.ifmap_sram_kb}", f"FilterSramSzkB : {self.filter_sram_kb}",
            f"OfmapSramSzkB : {self.ofmap_sram_kb}",
            f"IfmapOffset : {self.ifmap_offset}", f"FilterOffset : {self.filter_offset}",
            f"OfmapOffset : {self.ofmap_offset}",
            f"Bandwidth : {bw_line}", f"Dataflow : {self.dataflow}",
        ]
        if self.memory_banks is not None:
            lines.append(f"MemoryBanks : {self.memory_banks}")
        lines += [
            f"ReadRequestBuffer : {self.read_request_buffer}", f"WriteRequestBuffer : {self.write_request_buffer}", "",
            "[layout]", "IfmapCustomLayout : False",
            f"IfmapSRAMBankBandwidth : {self.ifmap_dram_bandwidth}", f"IfmapSRAMBankNum : {self.ifmap_sram_bank_num}",
            f"IfmapSRAMBankPort : {self.ifmap_sram_bank_port}", "FilterCustomLayout : False",
            f"FilterSRAMBankBandwidth : {self.filter_dram_bandwidth}",
            f"FilterSRAMBankNum : {self.filter_sram_bank_num}", f"FilterSRAMBankPort : {self.filter_sram_bank_port}",
            "",
            "[sparsity]", "SparsitySupport : false", "SparseRep : ellpack_block", "OptimizedMapping : false",
            "BlockSize : 8", "RandomNumberGeneratorSeed : 40", "",
            "[run_presets]", f"InterfaceBandwidth : {self.bandwidth_mode}", "UseRamulatorTrace : False", "",
        ]
        return "\n".join(lines)


# --- .cfg reading ----------------------------------------------------------------------------------
# (section, key) -> (field, kind). Keys are case-insensitive, as in configparser.
_KEYS: dict[tuple[str, str], tuple[str | None, str]] = {
    ("general", "run_name"): ("run_name", "str"),
    ("architecture_presets", "arrayheight"): ("array_rows", "int"),
    ("architecture_presets", "arraywidth"): ("array_cols", "int"),
    ("architecture_presets", "ifmapsramszkb"): ("ifmap_sram_kb", "int"),
    ("architecture_presets", "filtersramszkb"): ("filter_sram_kb", "int"),
    ("architecture_presets", "ofmapsramszkb"): ("ofmap_sram_kb", "int"),
    ("architecture_presets", "ifmapoffset"): ("ifmap_offset", "int"),
    ("architecture_presets", "filteroffset"): ("filter_offset", "int"),
    ("architecture_presets", "ofmapoffset"): ("ofmap_offset", "int"),
    ("architecture_presets", "dataflow"): ("dataflow", "str"),
    ("architecture_presets", "bandwidth"): ("bandwidths", "intlist"),
    ("architecture_presets", "memorybanks"): ("memory_banks", "int"),
    ("architecture_presets", "readrequestbuffer"): ("read_request_buffer", "int"),
    ("architecture_presets", "writerequestbuffer"): ("write_request_buffer", "int"),
    ("architecture_presets", "topologycsvloc"): (None, "str"),
    ("network_presets", "topologycsvloc"): (None, "str"),
    ("layout", "ifmapcustomlayout"): (None, "false"),
    ("layout", "filtercustomlayout"): (None, "false"),
    ("layout", "ifmapsrambankbandwidth"): ("ifmap_dram_bandwidth", "int"),
    ("layout", "ifmapsrambanknum"): ("ifmap_sram_bank_num", "int"),
    ("layout", "ifmapsrambankport"): ("ifmap_sram_bank_port", "int"),
    ("layout", "filtersrambankbandwidth"): ("filter_dram_bandwidth", "int"),
    ("layout", "filtersrambanknum"): ("filter_sram_bank_num", "int"),
    ("layout", "filtersrambankport"): ("filter_sram_bank_port", "int"),
    ("sparsity", "sparsitysupport"): (None, "false"),
    ("sparsity", "sparserep"): (None, "str"),
    ("sparsity", "optimizedmapping"): (None, "false"),
    ("sparsity", "blocksize"): (None, "int"),
    ("sparsity", "randomnumbergeneratorseed"): (None, "int"),
    ("run_presets", "interfacebandwidth"): ("bandwidth_mode", "str"),
    ("run_presets", "useramulatortrace"): (None, "false"),
}
# Keys scalesim 3.0 reads unconditionally (it raises when they are missing).
_REQUIRED = tuple(k for k in _KEYS if k[1] not in ("memorybanks", "topologycsvloc", "bandwidth", "sparserep",
                                                     "blocksize", "randomnumbergeneratorseed"))


def _parse_ini(text: str, source: str) -> dict[tuple[str, str], tuple[str, int]]:
    """INI text -> {(section, lowercased key): (value, line number)}; one-line errors name source:line."""
    out: dict[tuple[str, str], tuple[str, int]] = {}
    section: str | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise SystolicConfigError(f"{source}:{lineno}: malformed section header {line!r}")
            section = line[1:-1].strip().lower()
            continue
        m = re.match(r"([^:=]+)[:=](.*)$", line)
        if not m:
            raise SystolicConfigError(f"{source}:{lineno}: expected 'key : value', got {line!r}")
        if section is None:
            raise SystolicConfigError(f"{source}:{lineno}: key {m.group(1).strip()!r} outside any [section]")
        key = m.group(1).strip().lower()
        if (section, key) in out:
            raise SystolicConfigError(f"{source}:{lineno}: duplicate key [{section}] {m.group(1).strip()}")
        out[(section, key)] = (m.group(2).strip(), lineno)
    return out


def parse_config(text: str, source: str = "<config>") -> SystolicConfig:
    """Parse SCALE-Sim 3.0 ``.cfg`` text into a :class:`SystolicConfig` (see :func:`load_config`)."""
    entries = _parse_ini(text, source)
    for (section, key), (value, lineno) in entries.items():
        if (section, key) not in _KEYS:
            raise SystolicConfigError(f"{source}:{lineno}: unknown key [{section}] {key} = {value!r}")
    for req in _REQUIRED:
        if req not in entries:
            raise SystolicConfigError(f"{source}: missing key [{req[0]}] {req[1]} (scalesim 3.0 requires it)")
    kwargs: dict[str, Any] = {}
    for (section, key), (value, lineno) in entries.items():
        fld, kind = _KEYS[(section, key)]
        where = f"{source}:{lineno}: [{section}] {key}"
        if kind == "int":
            try:
                v: Any = int(value)
            except ValueError:
                raise SystolicConfigError(f"{where} must be an integer, got {value!r}") from None
            if v <= 0 and fld not in ("ifmap_offset", "filter_offset", "ofmap_offset"):
                raise SystolicConfigError(f"{where} must be positive, got {value!r}")
            if v < 0:
                raise SystolicConfigError(f"{where} must be non-negative, got {value!r}")
        elif kind == "intlist":
            try:
                v = tuple(int(x.strip()) for x in value.split(","))
            except ValueError:
                raise SystolicConfigError(f"{where} must be comma-separated integers, got {value!r}") from None
            if any(b <= 0 for b in v):
                raise SystolicConfigError(f"{where} must be positive, got {value!r}")
        elif kind == "false":
            if value.lower() not in ("false", "true"):
                raise SystolicConfigError(f"{where} must be True or False, got {value!r}")
            if value.lower() == "true":
                raise SystolicConfigError(f"{where} = {value!r} is not supported by hwsim.systolic "
                                          "(custom layouts, sparsity and Ramulator traces are not modelled)")
            continue
        else:
            v = value
        if fld == "dataflow" and v not in DATAFLOWS:
            raise SystolicConfigError(f"{where}: unknown dataflow {value!r}; expected os, ws or is")
        if fld == "bandwidth_mode" and v not in BANDWIDTH_MODES:
            raise SystolicConfigError(f"{where}: unknown bandwidth mode {value!r}; expected USER or CALC")
        if fld is not None:
            kwargs[fld] = v
    if kwargs.get("bandwidth_mode") == "USER" and "bandwidths" not in kwargs:
        raise SystolicConfigError(f"{source}: missing key [architecture_presets] bandwidth "
                                  "(required with InterfaceBandwidth = USER)")
    try:
        return SystolicConfig(**kwargs)
    except SystolicConfigError as e:
        raise SystolicConfigError(f"{source}: {e}") from None


def load_config(path: str | Path) -> SystolicConfig:
    """Read a SCALE-Sim 3.0 ``.cfg`` file unchanged. Unknown or missing keys, non-positive sizes, unknown
    dataflow or bandwidth mode raise :class:`SystolicConfigError` naming file, line, key and value."""
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise SystolicConfigError(f"{p}: config file not found") from None
    return parse_config(text, str(p))


PRESETS: tuple[str, ...] = ("scalesim_32x32", "scalesim_128x128", "tpu_v1")


def preset(name: str) -> SystolicConfig:
    """A named configuration shipped in ``hwsim/systolic/presets/<name>.cfg``."""
    if name not in PRESETS:
        raise SystolicConfigError(f"unknown systolic preset {name!r}; expected one of {', '.join(PRESETS)}")
    return _preset(name)


@functools.lru_cache(maxsize=None)
def _preset(name: str) -> SystolicConfig:
    """Parsed once per name (the config is immutable; building many devices from one preset stays cheap)."""
    text = resources.files("hwsim.systolic").joinpath("presets", f"{name}.cfg").read_text()
    return parse_config(text, f"preset {name}")
