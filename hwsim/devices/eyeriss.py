"""Eyeriss-style ASIC: a 12 x 14 PE array with the row-stationary (RS) dataflow and a global buffer.

Analytical RS mapping (Chen et al., ISCA 2016 / JSSC 2017). A convolution (per group) with filter R x S,
output E x F, C input and M output channels is broken into 1-D row primitives: each PE convolves one filter
row with one input row and produces one partial-sum row (F outputs x S taps = F*S MACs at 1 MAC/cycle).
A logical *PE set* is R x E PEs (filter rows down, output rows across). On the physical array:

* filter rows taller than the array are folded: ``r_folds = ceil(R / rows)``, set height ``ceil(R / r_folds)``;
* output rows wider than the array are strip-mined: strip ``e = min(E, cols)``, ``e_folds = ceil(E / e)``;
* ``floor(rows / height) * floor(cols / e)`` sets run at once, each on one (group, m, c, r_fold, e_fold) item;
* passes = ``ceil(items / sets)``, compute cycles = ``passes * F * S``.

Linear layers map as 1x1 convolutions with E = tokens and F = 1. Batch norm, ReLU and pooling fused into a conv
run in the output path; standalone element-wise/pool layers use a ``vector_ops_per_cycle`` post-processing unit.

Energy uses the Eyeriss normalised access costs (MAC = RF = 1, inter-PE array = 2, global buffer = 6, DRAM =
200 per 16-bit word) times ``pj_per_unit``; access counts follow the RS reuse described in :func:`rs_mapping`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hwsim.devices.base import DeviceError, Kernel, KernelCost, buffered_traffic, ceil_div
from hwsim.devices.params import non_negative, positive
from hwsim.devices.template import TemplateConfig, gbps_to_bytes_per_cycle
from hwsim.workload import Concat, Conv2d, Layer, Linear, MatMul, Reshape


@dataclass(frozen=True)
class EyerissConfig(TemplateConfig):
    """Eyeriss-style array. ``pe_rows`` x ``pe_cols`` PEs at ``clock_mhz``; ``glb_kib`` global buffer;
    per-PE register files (scratchpads, 16-bit words): ``filter_spad_words`` (it bounds the weights held on
    chip), ``ifmap_spad_words`` and ``psum_spad_words`` (Eyeriss v1: 224, 12, 24; the row-stationary cycle and
    traffic model does not depend on these two, the silicon cost does); ``bytes_per_element`` data width;
    ``dram_bandwidth_gbps`` off-chip bandwidth; ``vector_ops_per_cycle`` non-MAC element ops per cycle;
    ``*_cost`` normalised energy per access and ``pj_per_unit`` the energy of one unit (pJ)."""

    kind: ClassVar[str] = "eyeriss"

    pe_rows: int = positive(12, int, "PEs", doc="PE array rows (filter rows map down them)")
    pe_cols: int = positive(14, int, "PEs", doc="PE array columns (output rows map across them)")
    clock_mhz: float = positive(200.0, float, "MHz", doc="array clock")
    glb_kib: float = positive(108.0, float, "KiB", doc="global buffer")
    filter_spad_words: int = positive(224, int, "words", doc="per-PE filter register file")
    ifmap_spad_words: int = positive(12, int, "words", doc="per-PE ifmap register file")
    psum_spad_words: int = positive(24, int, "words", doc="per-PE partial-sum register file")
    bytes_per_element: int = positive(2, int, "bytes", doc="data word width")
    dram_bandwidth_gbps: float = positive(1.6, float, "GB/s", doc="off-chip bandwidth")
    vector_ops_per_cycle: int = positive(14, int, "ops/cycle", doc="non-MAC element ops per cycle")
    mac_cost: float = non_negative(1.0, float, "units", doc="normalised energy of a MAC")
    rf_cost: float = non_negative(1.0, float, "units", doc="normalised energy of a register-file access")
    array_cost: float = non_negative(2.0, float, "units", doc="normalised energy of an inter-PE transfer")
    glb_cost: float = non_negative(6.0, float, "units", doc="normalised energy of a global-buffer access")
    dram_cost: float = non_negative(200.0, float, "units", doc="normalised energy of a DRAM word")
    pj_per_unit: float = positive(1.0, float, "pJ", doc="energy of one normalised unit")

    @property
    def peak_macs_per_cycle(self) -> float:
        return float(self.pe_rows * self.pe_cols)

    @property
    def dram_bytes_per_cycle(self) -> float:
        return gbps_to_bytes_per_cycle(self.dram_bandwidth_gbps, self.clock_mhz)

    def can_fuse_activation(self, op: str) -> bool:
        return op in ("relu", "relu6")

    def kernel_cost(self, kernel: Kernel) -> KernelCost:
        return eyeriss_kernel_cost(self, kernel)


@dataclass(frozen=True)
class RsMapping:
    """Row-stationary mapping of one conv-like layer: problem, folding and the resulting counts.

    ``items`` = G*M*C*r_folds*e_folds 1-D-row work items of ``set_height`` x ``strip`` PEs each;
    ``sets`` of them run per pass; ``cycles = passes * F * S``; ``active_pes`` is the PE count busy in a full pass.
    """

    groups: int
    m: int
    c: int
    r: int
    s: int
    e: int
    f: int
    r_folds: int
    set_height: int
    strip: int
    e_folds: int
    sets: int
    items: int
    passes: int
    cycles: int
    active_pes: int


def conv_problem(layer: Layer) -> tuple[int, int, int, int, int, int, int]:
    """(groups, M, C, R, S, E, F) of a conv-like layer (per group channels)."""
    if isinstance(layer, Conv2d):
        g = layer.groups
        return (g, layer.out_channels // g, layer.in_channels // g, layer.kernel_h, layer.kernel_w,
                layer.out_h, layer.out_w)
    if isinstance(layer, Linear):
        return 1, layer.n, layer.k, 1, 1, layer.m, 1
    if isinstance(layer, MatMul):
        return layer.batch, layer.n, layer.k, 1, 1, layer.m, 1
    raise DeviceError(f"layer {layer.name!r}: {layer.kind} has no row-stationary mapping")


def rs_mapping(cfg: EyerissConfig, layer: Layer) -> RsMapping:
    """The closed-form RS mapping of a conv/linear/matmul layer on ``cfg``'s array (pure)."""
    g, m, c, r, s, e, f = conv_problem(layer)
    r_folds = ceil_div(r, cfg.pe_rows)
    height = ceil_div(r, r_folds)
    strip = min(e, cfg.pe_cols)
    e_folds = ceil_div(e, strip)
    sets = (cfg.pe_rows // height) * (cfg.pe_cols // strip)
    items = g * m * c * r_folds * e_folds
    passes = ceil_div(items, sets)
    return RsMapping(g, m, c, r, s, e, f, r_folds, height, strip, e_folds, sets, items, passes, passes * f * s,
                     min(items, sets) * height * strip)


def eyeriss_kernel_cost(cfg: EyerissConfig, kernel: Kernel) -> KernelCost:
    """Cycles, DRAM traffic and energy of one kernel on the Eyeriss-style array (pure)."""
    anchor = kernel.anchor
    b = cfg.bytes_per_element
    traffic = buffered_traffic(kernel, b, cfg.glb_kib * 1024,
                               cfg.pe_rows * cfg.pe_cols * cfg.filter_spad_words * b)
    dram_words = (traffic.read_bytes + traffic.write_bytes) / b
    if isinstance(anchor, (Conv2d, Linear, MatMul)):
        mp = rs_mapping(cfg, anchor)
        cycles = float(mp.cycles)
        for extra in kernel.layers[1:]:  # fused element ops in the output path, one per column per cycle
            cycles = max(cycles, extra.ops / cfg.vector_ops_per_cycle)
        macs = anchor.macs
        # RS reuse: every MAC touches the RF for weight, ifmap and psum (read + write); psums move between
        # the rows of a set once per primitive; ifmaps come from the GLB once per group of sets sharing them,
        # psums go to the GLB once per input-channel fold.
        rf = 4 * macs
        array = mp.items * mp.set_height * mp.f
        sets_m = max(1, mp.sets)
        glb = (kernel.input_elements * ceil_div(mp.m * mp.r_folds, sets_m)
               + 2 * anchor.output_elements * ceil_div(mp.c, sets_m))
        energy = cfg.pj_per_unit * (macs * cfg.mac_cost + rf * cfg.rf_cost + array * cfg.array_cost
                                    + glb * cfg.glb_cost + dram_words * cfg.dram_cost)
        unit = "pe-array"
    else:
        ops = kernel.ops
        cycles = ops / cfg.vector_ops_per_cycle if not isinstance(anchor, (Concat, Reshape)) else 0.0
        glb = kernel.input_elements + kernel.output_elements
        energy = cfg.pj_per_unit * (ops * cfg.mac_cost + glb * cfg.glb_cost + dram_words * cfg.dram_cost)
        unit = "vector"
    return KernelCost(cycles, traffic.read_bytes, traffic.write_bytes, traffic.weight_bytes, unit, energy)


__all__ = ["EyerissConfig", "RsMapping", "conv_problem", "eyeriss_kernel_cost", "rs_mapping"]
