"""The SCALE-Sim view of a layer: one convolution (or GEMM) job on the array, with scalesim's own rules.

scalesim knows no padding, batch, groups or dilation: a layer is an IFMAP (already padded), a filter,
channels, filters and strides, and its output size is ``ceil((H - F + S) / S)`` (a last partial window reads
nothing where it overhangs the input). :func:`scalesim_view` maps hwsim workload layers onto such jobs:

- ``Conv2d``: IFMAP ``(in_h + 2*pad_h, in_w + 2*pad_w)`` trimmed to the rows/columns a PyTorch conv reads
  (``(out_h - 1) * stride_h + kernel_h``), so the job has exactly the PyTorch output size and MACs. The
  trim only changes anything when ``(in_h + 2*pad_h - kernel_h) % stride_h != 0``; a CSV row written from
  the untrimmed size would make scalesim compute one extra, partially empty output row/column.
  Channels ``in_channels // groups``, filters ``out_channels // groups``; ``groups > 1`` runs as ``groups``
  identical independent jobs one after another (this is what scalesim does with a depthwise "DP" layer,
  one job per channel). Dilation > 1 raises: scalesim cannot map a dilated window.
- ``Linear``: GEMM with M = prod(leading dims), K = in features, N = out features, mapped as scalesim maps
  its GEMM input ``Layer, M, N, K``: IFMAP ``M x K``, filter ``1 x K``, 1 channel, N filters, stride 1.
- ``MatMul``: ``batch`` GEMMs of (M, N, K) one after another.
- Every other layer kind has no MACs: it is not run on the array (zero cycles, reported as skipped).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hwsim.errors import HwnasError
from hwsim.workload import Conv2d, Layer, Linear, MatMul


class SystolicMappingError(HwnasError):
    """A layer scalesim cannot map (the message names the layer, field and value)."""


@dataclass(frozen=True)
class ScalesimLayer:
    """One scalesim topology row: sizes in elements (1-byte words), IFMAP already padded."""

    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filters: int
    stride_h: int = 1
    stride_w: int = 1

    def __post_init__(self) -> None:
        for f in ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride_h", "stride_w"):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise SystolicMappingError(f"scalesim layer {self.name!r}: {f} must be a positive integer, got {v!r}")
        if self.filter_h > self.ifmap_h or self.filter_w > self.ifmap_w:
            raise SystolicMappingError(
                f"scalesim layer {self.name!r}: filter {self.filter_h}x{self.filter_w} larger than IFMAP "
                f"{self.ifmap_h}x{self.ifmap_w}")

    @classmethod
    def gemm(cls, name: str, m: int, n: int, k: int) -> ScalesimLayer:
        """scalesim's GEMM mapping (topology_utils.load_arrays_gemm): IFMAP M x K, filter 1 x K, N filters."""
        return cls(name, m, k, 1, k, 1, n, 1, 1)

    @property
    def ofmap_h(self) -> int:
        return math.ceil((self.ifmap_h - self.filter_h + self.stride_h) / self.stride_h)

    @property
    def ofmap_w(self) -> int:
        return math.ceil((self.ifmap_w - self.filter_w + self.stride_w) / self.stride_w)

    @property
    def ofmap_px(self) -> int:
        """Output pixels per filter."""
        return self.ofmap_h * self.ofmap_w

    @property
    def window(self) -> int:
        """Convolution window size Fh * Fw * C."""
        return self.filter_h * self.filter_w * self.channels

    @property
    def macs(self) -> int:
        """scalesim's ``num_compute``: ofmap pixels x filters x window."""
        return self.ofmap_px * self.num_filters * self.window

    def csv_row(self) -> str:
        return (f"{self.name}, {self.ifmap_h}, {self.ifmap_w}, {self.filter_h}, {self.filter_w}, "
                f"{self.channels}, {self.num_filters}, {self.stride_h},")


@dataclass(frozen=True)
class MappedLayer:
    """A workload layer as scalesim jobs: ``job`` run ``repeats`` times in a row (None: no MACs, skipped)."""

    layer_name: str
    kind: str
    job: ScalesimLayer | None
    repeats: int


def scalesim_view(layer: Layer) -> MappedLayer:
    """Map one hwsim workload layer onto scalesim jobs (see the module docstring for the rules)."""
    if isinstance(layer, Conv2d):
        if layer.dilation_h != 1 or layer.dilation_w != 1:
            raise SystolicMappingError(
                f"layer {layer.name!r}: dilation ({layer.dilation_h}, {layer.dilation_w}) cannot be mapped by "
                "scalesim (it has no dilated windows)")
        ih = (layer.out_h - 1) * layer.stride_h + layer.kernel_h
        iw = (layer.out_w - 1) * layer.stride_w + layer.kernel_w
        if layer.stride_h != layer.stride_w:
            raise SystolicMappingError(
                f"layer {layer.name!r}: strides ({layer.stride_h}, {layer.stride_w}) differ; a scalesim topology row "
                "has a single stride")
        job = ScalesimLayer(layer.name, ih, iw, layer.kernel_h, layer.kernel_w, layer.in_channels // layer.groups,
                            layer.out_channels // layer.groups, layer.stride_h, layer.stride_w)
        return MappedLayer(layer.name, layer.kind, job, layer.groups)
    if isinstance(layer, Linear):
        return MappedLayer(layer.name, layer.kind, ScalesimLayer.gemm(layer.name, layer.m, layer.n, layer.k), 1)
    if isinstance(layer, MatMul):
        return MappedLayer(layer.name, layer.kind, ScalesimLayer.gemm(layer.name, layer.m, layer.n, layer.k),
                           layer.batch)
    if layer.macs:
        raise SystolicMappingError(f"layer {layer.name!r}: kind {layer.kind!r} has MACs but no systolic mapping")
    return MappedLayer(layer.name, layer.kind, None, 0)
