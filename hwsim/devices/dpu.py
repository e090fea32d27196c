"""DPU-style FPGA engine modelled on the Xilinx/AMD DPUCZDX8G (Zynq UltraScale+ MPSoC DPU).

The conv engine multiplies ``pixel_parallelism`` (PP) output pixels along the output width, by
``input_channel_parallelism`` (ICP) input channels, by ``output_channel_parallelism`` (OCP) output channels per
cycle (PG338: B4096 = 8 x 16 x 16 = 2048 MAC/cycle). A convolution therefore takes
``groups * out_h * ceil(out_w / PP) * ceil(cin_g / ICP) * ceil(cout_g / OCP) * kh * kw`` cycles.

Depthwise convolutions and poolings run on the ALU engine (PG338: "the parallelism of depthwise convolution is
half that of the pixel parallelism"; "the depthwise conv is performed by the ALU engine, along with the
pooling"), ``alu_parallelism`` (AP, default PP / 2) output pixels x ICP channels per cycle. The ALU makes one
pass over the output map per (ICP channel group, window tap), and each pass costs ``alu_pass_overhead_cycles``
on top of its ``out_h * ceil(out_w / AP)`` cycles (pipeline fill and drain); so a depthwise kxk conv takes
``ceil(C / ICP) * kh * kw * (out_h * ceil(out_w / AP) + pass_overhead)`` cycles, which makes small maps
(7x7, 14x14) and global poolings much slower per MAC than large ones.

Batch norm, ReLU-family activations, a residual add and a pooling fused into a conv run in line. A depthwise
conv fused into the conv before it (``Mechanisms.fuse_conv_depthwise``, as the DNNDK compiler groups them) keeps
the map between them on chip but runs on the ALU after the conv engine: the kernel takes ``conv cycles +
depthwise ALU cycles``. A pooling or global pooling fused into a conv (``fuse_conv_pool`` /
``fuse_conv_global_pool``) is pipelined behind the engines: the kernel takes the longer of the two. Element-wise
ops run in the element-wise unit (PP x ICP elements per cycle).

DRAM: one core moves at most ``axi_bytes_per_cycle`` per DPU cycle over its data ports, capped by the
board's DDR, times a fitted efficiency; weights and feature maps that do not fit the on-chip banks are
re-read (:func:`hwsim.devices.base.buffered_traffic`). Single-thread latency uses one core.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from hwsim.devices.base import DeviceError, Kernel, KernelCost, buffered_traffic, ceil_div
from hwsim.devices.params import non_negative, param, positive
from hwsim.devices.template import TemplateConfig, gbps_to_bytes_per_cycle, layer_cost_rules
from hwsim.workload import (
    Activation,
    Concat,
    Conv2d,
    Elementwise,
    GlobalPool,
    Layer,
    Linear,
    MatMul,
    Norm,
    Pool2d,
    Reshape,
)

#: PG338 architectures: name -> (pixel parallelism, input-channel parallelism, output-channel parallelism).
DPU_ARCHS: Mapping[str, tuple[int, int, int]] = {
    "B512": (4, 8, 8), "B800": (4, 10, 10), "B1024": (8, 8, 8), "B1152": (4, 12, 12),
    "B1600": (8, 10, 10), "B2304": (8, 12, 12), "B3136": (8, 14, 14), "B4096": (8, 16, 16),
}


@dataclass(frozen=True)
class DpuConfig(TemplateConfig):
    """A DPUCZDX8G-style engine on one board. Units in field names; ``provenance`` notes where each came from.

    ``arch`` names a PG338 architecture (B512..B4096) and sets the three parallelisms.
    ``clock_mhz``: DPU core clock; ``cores``: DPU cores on the board (one serves one inference thread);
    ``axi_bytes_per_cycle``: bytes per DPU cycle over the core's data ports; ``ddr_bandwidth_gbps``: board DDR
    peak (GB/s); ``bandwidth_efficiency``: sustained fraction of the smaller of the two;
    ``feature_buffer_kib`` / ``weight_buffer_kib``: on-chip banks; ``max_*``: operator limits;
    ``activations``: activations the engine runs in line.
    ``alu_parallelism``: output pixels per cycle of the ALU engine that runs depthwise convs and poolings
    (1..PP; None = PP // 2, PG338's depthwise parallelism); ``alu_pass_overhead_cycles``: fixed cycles of each
    ALU pass over an output map, one pass per (ICP channel group, window tap) (0 = off).
    """

    kind: ClassVar[str] = "dpu"

    arch: str = param("B4096", str, choices=tuple(DPU_ARCHS),
                      doc="PG338 architecture: pixel x input-channel x output-channel parallelism")
    clock_mhz: float = positive(300.0, float, "MHz", doc="DPU core clock")
    cores: int = positive(1, int, doc="DPU cores on the board (one serves one inference thread)")
    axi_bytes_per_cycle: float = positive(32.0, float, "bytes/cycle", doc="data-port bytes per DPU cycle")
    ddr_bandwidth_gbps: float = positive(19.2, float, "GB/s", doc="board DDR peak bandwidth")
    bandwidth_efficiency: float = param(0.75, float, low=0, high=1, low_open=True,
                                        doc="sustained fraction of the smaller of AXI and DDR bandwidth")
    feature_buffer_kib: float = positive(512.0, float, "KiB", doc="on-chip feature-map banks")
    weight_buffer_kib: float = positive(256.0, float, "KiB", doc="on-chip weight banks")
    max_kernel: int = positive(16, int, doc="largest conv kernel (effective, with dilation)")
    max_depthwise_kernel: int = positive(16, int, doc="largest depthwise conv kernel")
    max_stride: int = positive(8, int, doc="largest conv stride")
    max_pool_kernel: int = positive(8, int, doc="largest pooling window")
    activations: tuple[str, ...] = param(("relu", "relu6", "hardswish", "hardsigmoid"), str, many=True,
                                         doc="activations run in line")
    alu_parallelism: int | None = positive(None, int, optional=True,
                                           doc="ALU-engine output pixels per cycle (unset: PP // 2)")
    alu_pass_overhead_cycles: float = non_negative(0.0, float, "cycles", doc="fixed cycles of each ALU pass")

    def validate(self) -> None:
        if self.alu_parallelism is not None and self.alu_parallelism > self.parallelism[0]:
            raise DeviceError(f"dpu.alu_parallelism must be <= the pixel parallelism {self.parallelism[0]} "
                              f"of {self.arch}, got {self.alu_parallelism!r}")

    # --- CostModel protocol ------------------------------------------------------------------------
    @property
    def parallelism(self) -> tuple[int, int, int]:
        """(PP, ICP, OCP)."""
        return DPU_ARCHS[self.arch]

    @property
    def alu_pixels(self) -> int:
        """Output pixels per cycle of the ALU engine (``alu_parallelism``, or PP // 2 when unset)."""
        return self.alu_parallelism if self.alu_parallelism is not None else max(1, self.parallelism[0] // 2)

    @property
    def peak_macs_per_cycle(self) -> float:
        pp, icp, ocp = self.parallelism
        return float(pp * icp * ocp)

    @property
    def dram_bytes_per_cycle(self) -> float:
        ddr_per_cycle = gbps_to_bytes_per_cycle(self.ddr_bandwidth_gbps, self.clock_mhz)
        return min(self.axi_bytes_per_cycle, ddr_per_cycle) * self.bandwidth_efficiency

    def unsupported(self, layer: Layer) -> str | None:
        return dpu_unsupported(self, layer)

    def can_fuse_activation(self, op: str) -> bool:
        return op in self.activations

    def can_fuse_into_conv(self, layer: Layer) -> bool:
        """Depthwise convs and global poolings run on the ALU engine, so a conv kernel can hold one."""
        return (isinstance(layer, Conv2d) and layer.is_depthwise) or isinstance(layer, GlobalPool)

    def kernel_cost(self, kernel: Kernel) -> KernelCost:
        return dpu_kernel_cost(self, kernel)


def dpu_unsupported(cfg: DpuConfig, layer: Layer) -> str | None:
    """Why the DPU cannot run ``layer`` (PG338 operator limits), or None."""
    return _unsupported(layer, cfg)


@functools.singledispatch
def _unsupported(layer: Layer, cfg: DpuConfig) -> str | None:
    """The operator limit ``layer`` breaks, one rule per layer kind (default: none)."""
    return None


@_unsupported.register
def _(layer: Conv2d, cfg: DpuConfig) -> str | None:
    k = max(layer.dilation_h * (layer.kernel_h - 1) + 1, layer.dilation_w * (layer.kernel_w - 1) + 1)
    limit = cfg.max_depthwise_kernel if layer.is_depthwise else cfg.max_kernel
    what = "depthwise kernel" if layer.is_depthwise else "kernel"
    if k > limit:
        return f"{what} {layer.kernel_h}x{layer.kernel_w} (effective {k}) exceeds the DPU limit {limit}"
    if max(layer.stride_h, layer.stride_w) > cfg.max_stride:
        return f"stride {layer.stride_h}x{layer.stride_w} exceeds the DPU limit {cfg.max_stride}"
    return None


@_unsupported.register
def _(layer: Pool2d, cfg: DpuConfig) -> str | None:
    if max(layer.kernel_h, layer.kernel_w) > cfg.max_pool_kernel:
        return f"pool kernel {layer.kernel_h}x{layer.kernel_w} exceeds the DPU limit {cfg.max_pool_kernel}"
    return None


@_unsupported.register
def _(layer: GlobalPool, cfg: DpuConfig) -> str | None:
    if max(layer.in_h, layer.in_w) > cfg.max_pool_kernel:
        return (f"global pool over {layer.in_h}x{layer.in_w} exceeds the DPU pool kernel limit "
                f"{cfg.max_pool_kernel}")
    return None


@_unsupported.register
def _(layer: MatMul, cfg: DpuConfig) -> str | None:
    return "the DPU has no activation-by-activation matrix multiply"


@_unsupported.register
def _(layer: Activation, cfg: DpuConfig) -> str | None:
    if layer.op not in cfg.activations:
        return f"activation {layer.op!r} is not one of the DPU's {', '.join(cfg.activations)}"
    return None


@_unsupported.register
def _(layer: Norm, cfg: DpuConfig) -> str | None:
    return f"norm {layer.op!r} is not supported (only batchnorm)" if layer.op != "batchnorm" else None


def _conv_cycles(cfg: DpuConfig, conv: Conv2d) -> int:
    """Conv-engine cycles of a dense or grouped conv (a depthwise conv runs on the ALU: :func:`_alu_cycles`)."""
    pp, icp, ocp = cfg.parallelism
    spatial = conv.out_h * ceil_div(conv.out_w, pp) * conv.kernel_h * conv.kernel_w
    cin_g, cout_g = conv.in_channels // conv.groups, conv.out_channels // conv.groups
    return conv.groups * spatial * ceil_div(cin_g, icp) * ceil_div(cout_g, ocp)


def _alu_cycles(cfg: DpuConfig, channels: int, out_h: int, out_w: int, window: int) -> float:
    """ALU-engine cycles: one pass over the ``out_h x out_w`` output per (ICP channel group, window tap), each
    ``out_h * ceil(out_w / alu_pixels)`` cycles plus the fixed ``alu_pass_overhead_cycles``."""
    _, icp, _ = cfg.parallelism
    passes = ceil_div(channels, icp) * window
    return passes * (out_h * ceil_div(out_w, cfg.alu_pixels) + cfg.alu_pass_overhead_cycles)


_cycles = layer_cost_rules("DPU")
"""(cycles, unit) of ``layer`` running alone in its unit: ``_cycles(layer, cfg)``, one rule per layer kind."""


@_cycles.register
def _(layer: Conv2d, cfg: DpuConfig) -> tuple[float, str]:
    if layer.is_depthwise:
        multiplier = layer.out_channels // layer.in_channels
        window = layer.kernel_h * layer.kernel_w * multiplier
        return _alu_cycles(cfg, layer.in_channels, layer.out_h, layer.out_w, window), "dwconv"
    return float(_conv_cycles(cfg, layer)), "conv"


@_cycles.register
def _(layer: Linear, cfg: DpuConfig) -> tuple[float, str]:
    pp, icp, ocp = cfg.parallelism
    return float(ceil_div(layer.m, pp) * ceil_div(layer.k, icp) * ceil_div(layer.n, ocp)), "fc"


@_cycles.register
def _(layer: Pool2d, cfg: DpuConfig) -> tuple[float, str]:
    return _alu_cycles(cfg, layer.channels, layer.out_h, layer.out_w, layer.kernel_h * layer.kernel_w), "pool"


@_cycles.register
def _(layer: GlobalPool, cfg: DpuConfig) -> tuple[float, str]:
    return _alu_cycles(cfg, layer.channels, 1, 1, layer.in_h * layer.in_w), "pool"


@_cycles.register(Elementwise)
@_cycles.register(Activation)
@_cycles.register(Norm)
def _(layer: Layer, cfg: DpuConfig) -> tuple[float, str]:
    pp, icp, _ = cfg.parallelism
    return float(ceil_div(layer.output_elements * max(1, len(layer.input_shapes)), pp * icp)), "eltwise"


@_cycles.register(Concat)
@_cycles.register(Reshape)
def _(layer: Layer, cfg: DpuConfig) -> tuple[float, str]:
    return 0.0, "load-save"


def dpu_kernel_cost(cfg: DpuConfig, kernel: Kernel) -> KernelCost:
    """Cycles and DRAM traffic of one (possibly fused) kernel on one DPU core (pure).

    A fused depthwise conv runs on the ALU after the anchor's engine (its cycles add); fused poolings run on the
    ALU pipelined behind both: the kernel takes ``max(anchor + depthwise, pooling)`` cycles.
    """
    cycles, unit = _cycles(kernel.anchor, cfg)
    fused = kernel.layers[1:]
    cycles += sum(_cycles(m, cfg)[0] for m in fused if isinstance(m, Conv2d) and m.is_depthwise)
    pool = sum(_cycles(m, cfg)[0] for m in fused if isinstance(m, (Pool2d, GlobalPool)))
    traffic = buffered_traffic(kernel, 1, cfg.feature_buffer_kib * 1024, cfg.weight_buffer_kib * 1024)
    return KernelCost(float(max(cycles, pool)), traffic.read_bytes, traffic.write_bytes, traffic.weight_bytes, unit)


__all__ = ["DPU_ARCHS", "DpuConfig", "dpu_kernel_cost", "dpu_unsupported"]

