"""Silicon cost of a device: area (mm^2), energy per inference (mJ) and power (W) from component tables.

One description of energy and area for every device template. Each number of the component table
(:data:`FIGURES`) carries its value, unit, technology node and source; a device TOML may override any of them
in a ``[silicon]`` table (see docs/silicon.md). The model has three parts:

* **structure** (:func:`structure`): what a template instance is made of -- ``pes`` MAC units of ``word_bits``,
  ``rf_bytes_per_pe`` of per-PE register files, named SRAMs (KiB, banks), the clock;
* **energy**: LINEAR in event counts, ``energy_pj = sum(coef[e] * count[e]) + static_w * device_s * 1e12``.
  :func:`energy_coefficients` gives the pJ per event of a configuration (depends on the hardware only),
  :func:`event_counts` the events of one inference (depends on the network and the hardware's mapping);
* **area** (:func:`area_mm2`): PEs (MAC + register files) + SRAMs + array network; static power is leakage
  per mm^2 times the area (:func:`static_power_w`).

Event names (counts per inference; ``<s>`` is an SRAM name of the template: ``ifmap``/``filter``/``ofmap`` for
the systolic array, ``glb`` for Eyeriss, ``feature``/``weight`` for the DPU, ``cbuf`` for NVDLA):
``mac`` (multiply-accumulates), ``alu_op`` (non-MAC element operations), ``rf_word`` (register-file word
accesses), ``noc_word`` (words moved over the array network), ``<s>_read_byte`` / ``<s>_write_byte`` (SRAM
bytes), ``dram_read_byte`` / ``dram_write_byte`` (off-chip bytes). How each count derives from a kernel is in
:func:`kernel_events` and docs/silicon.md.

Node scaling of a default figure to the device's node ``node_nm`` (assumed, classic scaling): area x
(node / figure node)^2, energy x (node / figure node); a figure overridden in ``[silicon]`` is taken at the
device's node as given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hwsim.errors import HwnasError
from hwsim.workload import Concat, Conv2d, Linear, MatMul, Network, Reshape


class SiliconError(HwnasError):
    """Bad ``[silicon]`` table or a device the silicon model cannot describe."""


@dataclass(frozen=True)
class Figure:
    """One number of the component table: ``value`` in ``unit`` at ``node_nm`` (None: node-independent),
    with its ``source`` (``public: ...``, ``fitted: ...``, ``derived: ...`` or ``assumed: ...``)."""

    value: float
    unit: str
    node_nm: float | None
    source: str
    scaling: str = "none"  # "area" (x node^2), "energy" (x node) or "none"


_ACC = "Accelergy-Project timeloop-accelergy-exercises"
_DCP = "GATECH-EIC/DNN-Chip-Predictor eyeriss/hardware.yaml"

#: The default component table. Energies are per byte (or per 16-bit MAC); areas in um^2.
FIGURES: Mapping[str, Figure] = MappingProxyType({
    "mac16_pj": Figure(1.0, "pJ per 16-bit MAC", 45.0,
                       f"public: {_DCP} (MAC 1 pJ); Eyeriss ISCA 2016 Table IV normalises MAC = 1 (node taken as "
                       f"45 nm, that of the reference design; ratios do not depend on it)", "energy"),
    "mac16_area_um2": Figure(1239.5, "um^2 per 16-bit MAC", 45.0,
                             f"public: {_ACC} baseline_designs eyeriss_like ART summary, 16-bit integer MAC", "area"),
    "mac_multiplier_share": Figure(0.8, "fraction", None,
                                   "assumed: share of a MAC's area and energy in the multiplier, which scales with "
                                   "width^2 (Aladdin's multiplier scaling, hwcomponents-library aladdin.py); the "
                                   "adder/accumulator rest scales with width"),
    "rf_pj_per_byte": Figure(0.5, "pJ/B", 45.0,
                             f"public: {_DCP} (register file 0.33-0.5 pJ/B; 0.5 makes RF = MAC = 1 per 16-bit word "
                             f"as in Eyeriss Table IV)", "energy"),
    "rf_area_um2_per_byte": Figure(60966 / 8192, "um^2/B", 40.0,
                                   f"derived: {_ACC} 04_eyeriss_like ART summary, 8 KB SRAM = 60,966 um^2 (small-macro "
                                   f"density, used for per-PE scratchpads)", "area"),
    "noc_pj_per_byte": Figure(1.0, "pJ/B", 45.0,
                              f"public: {_DCP} (on-chip network 1 pJ/B; Eyeriss Table IV network = 2 per 16-bit "
                              f"word)", "energy"),
    "noc_area_um2_per_pe": Figure(0.0, "um^2 per PE", None,
                                  "assumed: the array network's wires run over the PEs (no area of their own)"),
    "sram_pj_per_byte": Figure(3.0, "pJ/B at sram_ref_kib", 45.0,
                               f"public: {_DCP} (128 KB SRAM 3 pJ/B; Eyeriss Table IV buffer = 6 per 16-bit word)",
                               "energy"),
    "sram_ref_kib": Figure(128.0, "KiB", None, f"public: {_DCP}, the SRAM size of sram_pj_per_byte"),
    "sram_energy_exponent": Figure(0.75, "", None,
                                   f"fitted: {_ACC} 04_eyeriss_like ERT summary, 64-bit read 4.24 pJ (8 KB) and "
                                   f"28.1 pJ (100 KB): ln(28.1 / 4.24) / ln(100 / 8) = 0.749; energy per byte of a "
                                   f"bank of S KiB = sram_pj_per_byte * (S / sram_ref_kib)^exponent"),
    "sram_area_um2_per_kib": Figure((774388 - 60966) / 92, "um^2/KiB", 40.0,
                                    f"fitted: {_ACC} 04_eyeriss_like ART summary, slope between 8 KB (60,966 um^2) "
                                    f"and 100 KB (774,388 um^2) CACTI SRAMs", "area"),
    "sram_bank_area_um2": Figure(0.0, "um^2 per bank", None,
                                 "assumed: bank periphery is inside the per-KiB density (CACTI figures include it)"),
    "dram_pj_per_byte": Figure(100.0, "pJ/B", None,
                               f"public: {_DCP} (DRAM 100 pJ/B; Eyeriss Table IV DRAM = 200 per 16-bit word)"),
    "leakage_w_per_mm2": Figure(0.02, "W/mm^2", None,
                                "assumed: low-power 45 nm logic + SRAM leakage density (order of magnitude)"),
})

#: Keys of a ``[silicon]`` table besides the figure names.
SETTINGS = ("node_nm", "word_bits", "sram_banks", "provenance")
#: The energy categories of :class:`SiliconReport.energy_breakdown_mj`.
CATEGORIES = ("dram", "sram", "rf", "mac", "noc", "static")
DEFAULT_NODE_NM = 45.0


@dataclass(frozen=True)
class SiliconOverrides:
    """A validated ``[silicon]`` table: figure values (at the device's node), ``node_nm``, ``word_bits`` (the
    datapath width for area and energy), ``sram_banks`` (banks of every SRAM) and per-key provenance."""

    figures: Mapping[str, float] = field(default_factory=dict)
    node_nm: float | None = None
    word_bits: int | None = None
    sram_banks: int | None = None
    provenance: Mapping[str, str] = field(default_factory=dict)

    def to_table(self) -> dict[str, Any]:
        """The ``[silicon]`` TOML table of these overrides."""
        out: dict[str, Any] = dict(self.figures)
        for k in ("node_nm", "word_bits", "sram_banks"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        if self.provenance:
            out["provenance"] = dict(self.provenance)
        return out


def parse_silicon_table(table: Mapping[str, Any], source: str) -> SiliconOverrides:
    """Validate a ``[silicon]`` TOML table; errors name ``source``, the key and the value."""
    where = f"{source}: [silicon]"
    if not isinstance(table, Mapping):
        raise SiliconError(f"{where} must be a table, got {table!r}")
    figures: dict[str, float] = {}
    kw: dict[str, Any] = {}
    prov: dict[str, str] = {}
    for key, value in table.items():
        if key == "provenance":
            if not isinstance(value, Mapping):
                raise SiliconError(f"{where} provenance must be a table of strings, got {value!r}")
            for k, v in value.items():
                if k not in FIGURES and k not in SETTINGS:
                    raise SiliconError(f"{where} provenance: unknown key {k!r}")
                if not isinstance(v, str):
                    raise SiliconError(f"{where} provenance.{k} must be a string, got {v!r}")
                prov[k] = v
            continue
        if key in ("word_bits", "sram_banks"):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0 or value > 1024:
                raise SiliconError(f"{where} {key} must be a positive integer, got {value!r}")
            kw[key] = value
            continue
        if key not in FIGURES and key != "node_nm":
            raise SiliconError(f"{where} unknown key {key!r} (value {value!r}); expected one of "
                               f"{', '.join(sorted(FIGURES) + ['node_nm', 'provenance', 'sram_banks', 'word_bits'])}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise SiliconError(f"{where} {key} must be a finite non-negative number, got {value!r}")
        if key in ("node_nm", "sram_ref_kib") and value == 0:
            raise SiliconError(f"{where} {key} must be positive, got {value!r}")
        if key == "mac_multiplier_share" and value > 1:
            raise SiliconError(f"{where} mac_multiplier_share must be in [0, 1], got {value!r}")
        if key == "node_nm":
            kw["node_nm"] = float(value)
        else:
            figures[key] = float(value)
    return SiliconOverrides(MappingProxyType(figures), kw.get("node_nm"), kw.get("word_bits"), kw.get("sram_banks"),
                            MappingProxyType(prov))


def device_overrides(device: Any) -> SiliconOverrides:
    """The ``[silicon]`` overrides a device was loaded with (none: defaults)."""
    ov = getattr(device, "silicon", None)
    if ov is None:
        return SiliconOverrides()
    if isinstance(ov, SiliconOverrides):
        return ov
    return parse_silicon_table(ov, f"device {getattr(device, 'name', '?')}")


# ------------------------------------------------------------------------------------------------
# resolved figures at a node
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SiliconParams:
    """The component table resolved for one device: ``values`` (figure -> number at ``node_nm``) and
    ``sources`` (figure -> provenance, with the node and scaling applied)."""

    node_nm: float
    values: Mapping[str, float]
    sources: Mapping[str, str]

    def __getitem__(self, key: str) -> float:
        return self.values[key]


def resolve_figures(overrides: SiliconOverrides | None = None) -> SiliconParams:
    """Every figure at the node of ``overrides`` (default 45 nm), overridden values as given."""
    ov = overrides or SiliconOverrides()
    node = ov.node_nm if ov.node_nm is not None else DEFAULT_NODE_NM
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    for name, fig in FIGURES.items():
        if name in ov.figures:
            values[name] = ov.figures[name]
            sources[name] = ov.provenance.get(name, "device file [silicon]") + f" ({fig.unit}, at {node:g} nm)"
            continue
        factor = 1.0
        if fig.node_nm is not None and fig.scaling != "none":
            ratio = node / fig.node_nm
            factor = ratio ** 2 if fig.scaling == "area" else ratio
        values[name] = fig.value * factor
        node_txt = "" if fig.node_nm is None else f" at {fig.node_nm:g} nm"
        scaled = f", scaled x{factor:.4g} to {node:g} nm" if factor != 1.0 else ""
        sources[name] = f"{fig.source} ({fig.value:g} {fig.unit}{node_txt}{scaled})"
    return SiliconParams(node, MappingProxyType(values), MappingProxyType(sources))


def mac_pj(p: SiliconParams, bits: int) -> float:
    """Energy of one ``bits``-wide MAC (pJ): multiplier share x (bits/16)^2 + rest x bits/16."""
    s = p["mac_multiplier_share"]
    w = bits / 16
    return p["mac16_pj"] * (s * w * w + (1 - s) * w)


def alu_op_pj(p: SiliconParams, bits: int) -> float:
    """Energy of one non-MAC element operation (an add/compare: the adder share of a MAC), pJ."""
    return p["mac16_pj"] * (1 - p["mac_multiplier_share"]) * bits / 16


def mac_area_um2(p: SiliconParams, bits: int) -> float:
    """Area of one ``bits``-wide MAC (um^2), scaled like :func:`mac_pj`."""
    s = p["mac_multiplier_share"]
    w = bits / 16
    return p["mac16_area_um2"] * (s * w * w + (1 - s) * w)


def sram_pj_per_byte(p: SiliconParams, kib: float, banks: int = 1) -> float:
    """Energy per byte accessed in an SRAM of ``kib`` KiB split into ``banks`` banks (a bank of S KiB costs
    ``sram_pj_per_byte * (S / sram_ref_kib)^sram_energy_exponent``)."""
    bank = kib / banks
    return p["sram_pj_per_byte"] * (bank / p["sram_ref_kib"]) ** p["sram_energy_exponent"]


def sram_area_um2(p: SiliconParams, kib: float, banks: int = 1) -> float:
    """Area of an SRAM of ``kib`` KiB in ``banks`` banks (um^2)."""
    return kib * p["sram_area_um2_per_kib"] + banks * p["sram_bank_area_um2"]


# ------------------------------------------------------------------------------------------------
# structure of a device
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sram:
    """One on-chip SRAM: ``name`` (event prefix), physical size in KiB, banks."""

    name: str
    kib: float
    banks: int = 1


@dataclass(frozen=True)
class Structure:
    """What a device is made of, for area and energy.

    ``pes``: MAC units; ``word_bits``: datapath width; ``rf_bytes_per_pe``: per-PE register files;
    ``srams``: on-chip SRAMs; ``input_sram`` / ``weight_sram`` / ``output_sram``: which SRAM feeds the array
    its activations / weights and takes its outputs (None: no SRAM); ``input_reuse`` / ``weight_reuse``: how
    many MACs use one SRAM read of an activation / weight word (the array's broadcast widths);
    ``rf_words_per_mac``: register-file words touched per MAC; ``clock_mhz``.
    """

    template: str
    pes: int
    word_bits: int
    rf_bytes_per_pe: float
    srams: tuple[Sram, ...]
    input_sram: str | None
    weight_sram: str | None
    output_sram: str | None
    input_reuse: float
    weight_reuse: float
    rf_words_per_mac: float
    clock_mhz: float

    @property
    def word_bytes(self) -> float:
        return self.word_bits / 8


def _template(cost_model: Any) -> str:
    from hwsim.devices.dpu import DpuConfig
    from hwsim.devices.eyeriss import EyerissConfig
    from hwsim.devices.nvdla import NvdlaConfig
    from hwsim.devices.roofline import RooflineConfig
    from hwsim.devices.systolic_device import SystolicDeviceConfig

    for kind, cls in (("systolic", SystolicDeviceConfig), ("eyeriss", EyerissConfig), ("dpu", DpuConfig),
                      ("nvdla", NvdlaConfig), ("roofline", RooflineConfig)):
        if isinstance(cost_model, cls):
            return kind
    raise SiliconError(f"no silicon model for a {type(cost_model).__name__} device")


def structure(device: Any) -> Structure:
    """The :class:`Structure` of ``device`` (an :class:`~hwsim.devices.base.AcceleratorDevice`)."""
    cfg = device.cost_model
    ov = device_overrides(device)
    kind = _template(cfg)
    banks = ov.sram_banks or 1
    b = int(getattr(cfg, "bytes_per_element", 1))
    if kind == "systolic":
        a = cfg.array
        bits = ov.word_bits or 8 * b
        wb = bits / 8  # SCALE-Sim counts words; their physical width is word_bits
        return Structure(kind, a.num_pes, bits, 3 * wb,
                         (Sram("ifmap", a.ifmap_sram_kb * wb, banks), Sram("filter", a.filter_sram_kb * wb, banks),
                          Sram("ofmap", a.ofmap_sram_kb * wb, banks)),
                         "ifmap", "filter", "ofmap", 0.0, 0.0, 2.0, float(cfg.clock_mhz))
    if kind == "eyeriss":
        bits = ov.word_bits or 8 * b
        spad = cfg.filter_spad_words + getattr(cfg, "ifmap_spad_words", 12) + getattr(cfg, "psum_spad_words", 24)
        return Structure(kind, cfg.pe_rows * cfg.pe_cols, bits, spad * bits / 8, (Sram("glb", cfg.glb_kib, banks),),
                         "glb", "glb", "glb", 0.0, 0.0, 4.0, float(cfg.clock_mhz))
    if kind == "dpu":
        pp, icp, ocp = cfg.parallelism
        bits = ov.word_bits or 8 * b
        return Structure(kind, pp * icp * ocp, bits, 2 * bits / 8 + 4,
                         (Sram("feature", cfg.feature_buffer_kib, banks), Sram("weight", cfg.weight_buffer_kib, banks)),
                         "feature", "weight", "feature", float(ocp), float(pp), 2.0, float(cfg.clock_mhz))
    if kind == "nvdla":
        bits = ov.word_bits or 8 * b
        return Structure(kind, cfg.atomic_c * cfg.atomic_k, bits, 2 * bits / 8 + 4, (Sram("cbuf", cfg.cbuf_kib, banks),),
                         "cbuf", "cbuf", "cbuf", float(cfg.atomic_k), 16.0, 2.0, float(cfg.clock_mhz))
    bits = ov.word_bits or 8 * b
    return Structure(kind, max(1, math.ceil(cfg.macs_per_cycle)), bits, 2 * bits / 8 + 4, (), None, None, None,
                     1.0, 1.0, 2.0, float(cfg.clock_mhz))


# ------------------------------------------------------------------------------------------------
# energy coefficients (per configuration) and event counts (per inference)
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnergyTerm:
    """One event type: ``name``, its energy ``category`` (one of :data:`CATEGORIES`), pJ per event, source."""

    name: str
    category: str
    pj: float
    source: str


def energy_terms(device: Any) -> tuple[EnergyTerm, ...]:
    """Every event type of ``device`` with its pJ per event and where that number comes from."""
    st = structure(device)
    p = resolve_figures(device_overrides(device))
    wb = st.word_bytes
    terms = [
        EnergyTerm("mac", "mac", mac_pj(p, st.word_bits), f"mac16_pj x width scaling to {st.word_bits} bits: "
                   f"{p.sources['mac16_pj']}"),
        EnergyTerm("alu_op", "mac", alu_op_pj(p, st.word_bits), "adder share of mac16_pj x width"),
        EnergyTerm("rf_word", "rf", p["rf_pj_per_byte"] * wb, f"rf_pj_per_byte x {wb:g} B: {p.sources['rf_pj_per_byte']}"),
        EnergyTerm("noc_word", "noc", p["noc_pj_per_byte"] * wb,
                   f"noc_pj_per_byte x {wb:g} B: {p.sources['noc_pj_per_byte']}"),
    ]
    for s in st.srams:
        e = sram_pj_per_byte(p, s.kib, s.banks)
        src = f"sram_pj_per_byte at {s.kib:g} KiB / {s.banks} bank(s): {p.sources['sram_pj_per_byte']}"
        terms += [EnergyTerm(f"{s.name}_read_byte", "sram", e, src), EnergyTerm(f"{s.name}_write_byte", "sram", e, src)]
    terms += [EnergyTerm("dram_read_byte", "dram", p["dram_pj_per_byte"], p.sources["dram_pj_per_byte"]),
              EnergyTerm("dram_write_byte", "dram", p["dram_pj_per_byte"], p.sources["dram_pj_per_byte"])]
    return tuple(terms)


def energy_coefficients(device: Any) -> Mapping[str, float]:
    """pJ per event of ``device`` (event name -> pJ); the keys of :func:`event_counts`."""
    return MappingProxyType({t.name: t.pj for t in energy_terms(device)})


def event_categories(device: Any) -> Mapping[str, str]:
    """Event name -> energy category (``dram``, ``sram``, ``rf``, ``mac`` or ``noc``)."""
    return MappingProxyType({t.name: t.category for t in energy_terms(device)})


def _array_words(device: Any, st: Structure, kernel: Any) -> tuple[float, float, float, float, float]:
    """(input reads, weight reads, output writes, output reads, noc words) of a conv-like anchor, in words."""
    anchor = kernel.anchor
    cfg = device.cost_model
    if st.template == "systolic":
        from hwsim.systolic.dataflows import get_dataflow
        from hwsim.systolic.topology import scalesim_view

        view = scalesim_view(anchor)
        a = cfg.array
        df = get_dataflow(a.dataflow)
        sc = df.sram_counts(df.geometry(view.job, a.array_rows, a.array_cols), "fixed")
        r = view.repeats
        return r * sc.ifmap_reads, r * sc.filter_reads, r * sc.ofmap_writes, 0.0, 0.0
    if st.template == "eyeriss":
        from hwsim.devices.base import ceil_div
        from hwsim.devices.eyeriss import rs_mapping

        mp = rs_mapping(cfg, anchor)
        sets = max(1, mp.sets)
        psum = anchor.output_elements * ceil_div(mp.c, sets)
        inputs = kernel.input_elements * ceil_div(mp.m * mp.r_folds, sets)
        return float(inputs), float(kernel.params), float(psum), float(psum), float(mp.items * mp.set_height * mp.f)
    macs = anchor.macs
    return macs / st.input_reuse, macs / st.weight_reuse, float(anchor.output_elements), 0.0, 0.0


def kernel_events(device: Any, kernel: Any, dram_read_bytes: float, dram_write_bytes: float,
                  st: Structure | None = None) -> dict[str, float]:
    """Events of one (non-CPU) kernel.

    * ``mac`` = the kernel's MACs; ``alu_op`` = its non-MAC element ops (fused members included);
    * ``dram_read_byte`` / ``dram_write_byte`` = the profile row's DRAM traffic (re-reads included);
    * a conv/linear/matmul anchor on the array: SRAM reads of activations and weights and writes of outputs
      (systolic: SCALE-Sim's fold closed forms, ``quirks="fixed"``, x repeats; Eyeriss: the row-stationary
      reuse of :func:`hwsim.devices.eyeriss.rs_mapping` -- inputs re-read once per group of sets sharing them,
      weights once, psums written and read once per input-channel fold; DPU/NVDLA: MACs / broadcast width for
      activations and weights, outputs once), ``rf_word`` = ``rf_words_per_mac`` x MACs, ``noc_word`` (Eyeriss:
      psum hops between PE rows, items x set height x F);
    * any other kernel (vector unit): its input elements read from the input SRAM and output elements written
      to the output SRAM; Concat/Reshape move no data on chip.
    SRAM counts are bytes = words x word bytes; DRAM<->SRAM fills are inside the DRAM per-byte energy.
    """
    st = st or structure(device)
    wb = st.word_bytes
    ev: dict[str, float] = {"mac": float(kernel.macs), "alu_op": float(kernel.ops),
                            "dram_read_byte": float(dram_read_bytes), "dram_write_byte": float(dram_write_bytes)}
    anchor = kernel.anchor

    def add(name: str | None, what: str, words: float) -> None:
        if name is not None and words:
            key = f"{name}_{what}_byte"
            ev[key] = ev.get(key, 0.0) + words * wb

    if isinstance(anchor, (Conv2d, Linear, MatMul)) and anchor.macs:
        i, w, o, o_r, noc = _array_words(device, st, kernel)
        add(st.input_sram, "read", i)
        add(st.weight_sram, "read", w)
        add(st.output_sram, "write", o)
        add(st.output_sram, "read", o_r)
        ev["rf_word"] = st.rf_words_per_mac * anchor.macs
        ev["noc_word"] = noc
    elif not isinstance(anchor, (Concat, Reshape)):
        add(st.input_sram, "read", float(kernel.input_elements))
        add(st.output_sram, "write", float(kernel.output_elements))
    return ev


def event_counts(device: Any, network: Network, profile: Any = None) -> Mapping[str, float]:
    """Events of one inference of ``network`` on ``device`` (every key of :func:`energy_coefficients`; CPU
    fallback kernels excluded). ``profile`` (``device.profile(network)``) is reused when given."""
    if not isinstance(network, Network):
        raise SiliconError(f"event_counts needs the Network (on-chip counts depend on layer shapes), got "
                           f"{type(network).__name__}")
    st = structure(device)
    prof = profile if profile is not None else device.profile(network)
    kernels = device.kernels(network)
    totals = dict.fromkeys(energy_coefficients(device), 0.0)
    for k, row in zip(kernels, prof.kernels, strict=True):
        if k.on_cpu:
            continue
        for name, v in kernel_events(device, k, row.dram_read_bytes, row.dram_write_bytes, st).items():
            totals[name] += v
    return MappingProxyType(totals)


# ------------------------------------------------------------------------------------------------
# area and power
# ------------------------------------------------------------------------------------------------
def area_breakdown_mm2(device: Any) -> Mapping[str, float]:
    """Area by component (mm^2): ``mac``, ``rf`` (per-PE register files), ``sram``, ``noc``."""
    st = structure(device)
    p = resolve_figures(device_overrides(device))
    return MappingProxyType({
        "mac": st.pes * mac_area_um2(p, st.word_bits) * 1e-6,
        "rf": st.pes * st.rf_bytes_per_pe * p["rf_area_um2_per_byte"] * 1e-6,
        "sram": sum(sram_area_um2(p, s.kib, s.banks) for s in st.srams) * 1e-6,
        "noc": st.pes * p["noc_area_um2_per_pe"] * 1e-6,
    })


def area_mm2(device: Any) -> float:
    """Total silicon area of ``device`` (mm^2)."""
    return math.fsum(area_breakdown_mm2(device).values())


def static_power_w(device: Any) -> float:
    """Leakage power (W): ``leakage_w_per_mm2`` x area."""
    p = resolve_figures(device_overrides(device))
    return p["leakage_w_per_mm2"] * area_mm2(device)


def design_peak_power_w(device: Any) -> float:
    """Power of the design at full load, from the configuration alone (W): static + clock x (every PE doing a
    MAC with its register-file words each cycle + DRAM at its full bandwidth). Used for space limits."""
    st = structure(device)
    coef = energy_coefficients(device)
    per_cycle_pj = (st.pes * (coef["mac"] + st.rf_words_per_mac * coef["rf_word"])
                    + device.cost_model.dram_bytes_per_cycle * coef["dram_read_byte"])
    return static_power_w(device) + per_cycle_pj * 1e-12 * st.clock_mhz * 1e6


@dataclass(frozen=True)
class SiliconReport:
    """Silicon cost of one inference: ``area_mm2`` (and by component), ``energy_mj`` (dynamic + static) with
    ``energy_breakdown_mj`` over :data:`CATEGORIES`, average power ``power_w_avg`` = energy / device time,
    ``power_w_peak`` = static + the highest dynamic power of any kernel, ``device_ms`` the accelerator time
    the static energy is charged over, ``node_nm`` the technology node."""

    device: str
    network: str
    node_nm: float
    area_mm2: float
    area_breakdown_mm2: Mapping[str, float]
    energy_mj: float
    energy_breakdown_mj: Mapping[str, float]
    power_w_avg: float
    power_w_peak: float
    static_power_w: float
    device_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device, "network": self.network, "node_nm": self.node_nm,
                "area_mm2": self.area_mm2, "area_breakdown_mm2": dict(self.area_breakdown_mm2),
                "energy_mj": self.energy_mj, "energy_breakdown_mj": dict(self.energy_breakdown_mj),
                "power_w": {"avg": self.power_w_avg, "peak": self.power_w_peak, "static": self.static_power_w},
                "device_ms": self.device_ms}


def silicon_report(device: Any, network: Network, profile: Any = None, run: Any = None) -> SiliconReport:
    """Area, energy per inference and power of ``network`` on ``device`` (``profile``/``run`` reused if given)."""
    prof = profile if profile is not None else device.profile(network)
    res = run if run is not None else device.run(network)
    coef = energy_coefficients(device)
    cats = event_categories(device)
    counts = event_counts(device, network, prof)
    by_cat = dict.fromkeys(CATEGORIES, 0.0)
    for name, n in counts.items():
        by_cat[cats[name]] += coef[name] * n * 1e-9  # pJ -> mJ
    static_w = static_power_w(device)
    by_cat["static"] = static_w * res.device_ms  # W * ms = mJ
    energy = math.fsum(by_cat.values())
    st = structure(device)
    peak_dyn = 0.0
    for k, row in zip(device.kernels(network), prof.kernels, strict=True):
        if k.on_cpu or row.latency_ms <= 0:
            continue
        ev = kernel_events(device, k, row.dram_read_bytes, row.dram_write_bytes, st)
        pj = math.fsum(coef[n] * v for n, v in ev.items())
        peak_dyn = max(peak_dyn, pj * 1e-9 / row.latency_ms)  # mJ / ms = W
    avg = energy / res.device_ms if res.device_ms > 0 else static_w
    return SiliconReport(device.name, network.name, resolve_figures(device_overrides(device)).node_nm,
                         area_mm2(device), area_breakdown_mm2(device), energy, MappingProxyType(by_cat), avg,
                         static_w + peak_dyn, static_w, res.device_ms)


__all__ = [
    "CATEGORIES", "FIGURES", "EnergyTerm", "Figure", "SiliconError", "SiliconOverrides", "SiliconParams",
    "SiliconReport", "Sram", "Structure", "alu_op_pj", "area_breakdown_mm2", "area_mm2", "design_peak_power_w",
    "device_overrides",
    "energy_coefficients", "energy_terms", "event_categories", "event_counts", "kernel_events", "mac_area_um2",
    "mac_pj", "parse_silicon_table", "resolve_figures", "silicon_report", "sram_area_um2", "sram_pj_per_byte",
    "static_power_w", "structure",
]
