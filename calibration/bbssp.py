"""The BBSSP layer-adaptive (policy-aware) latency LUT (Zeng et al., ASP-DAC 2020; docs/bbssp.md).

``LUT[i][j] = t_i^typ + (T(SSBN_ij) - T(SSBN_0))``: the typical block's profiled time in layer ``i`` plus the
whole-network change when layer ``i`` takes block ``j`` (so the compiler's fusion/scheduling policy for that
layer, in context, is inside the entry). The LUT sum of SSBN_0 is ``sum_i t_i^typ``, which misses
``T(SSBN_0)`` by a constant (stem, head, host time, cross-layer effects); prediction adds that offset
(``mode="offset"``), or fits ``T ~ a * sum(LUT) + b`` on measured networks with anomaly removal
(``mode="affine"``, the authors' later framework; see :func:`calibration.correctors.fit_affine`).

Built from a device (:meth:`BBSSPLut.from_device`: whole-network runs of every SSBN plus the board profile of
SSBN_0), from measurements (:meth:`BBSSPLut.from_measurements`: SSBN end-to-end latencies plus per-kernel rows of
SSBN_0 labelled with their layer), or from a published table (:meth:`BBSSPLut.from_table`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hwsim.fileio import atomic_write_text
from hwsim.workload import Network, structure
from calibration.correctors import CORRECTOR_FORMAT, CORRECTOR_VERSION, CalibrationError, fit_affine
from calibration.measurements import Measurement, MeasurementSet

MODES = ("offset", "affine")


def backbone_block_layers(space: Any, arch: Mapping[str, str],
                          input_size: int | None = None) -> tuple[Network, dict[str, frozenset[str]]]:
    """The workload of ``arch`` in a backbone space and, per searchable label, the names of its block's layers.

    Emits stem, fixed blocks, searchable blocks and head exactly as :class:`spaces.backbone.BackboneModel` does,
    recording which layers each searchable block adds; checks the result equals ``space.to_workload``.
    """
    from spaces.backbone import BackboneModel
    from spaces.ops import GraphEmitter, conv_bn, get_block

    model = space.model
    if not isinstance(model, BackboneModel):
        raise CalibrationError(f"space {space.name!r}: the BBSSP LUT needs a layer-wise backbone space")
    a = space.validate(arch)
    size = model.input_size if input_size is None else input_size
    e = GraphEmitter(f"{space.name}:{space.format(a)}", (model.in_channels, size, size))

    def names() -> set[str]:
        return {layer.name for layer in e.builder.build().layers}

    x = conv_bn(e, e.input, model.stem.out_channels, model.stem.kernel, model.stem.stride, act=model.stem.act)
    for f in model.fixed:
        x = get_block(f.block or "").fn(e, x, f.out_channels, f.stride)
    before = names()
    blocks: dict[str, frozenset[str]] = {}
    for c, spec in zip(space.choices, model.layers):
        x = get_block(a[c.label]).fn(e, x, spec.out_channels, spec.stride)
        now = names()
        blocks[c.label] = frozenset(now - before)
        before = now
    if model.head.conv_channels:
        x = conv_bn(e, x, model.head.conv_channels, 1, act=model.head.act)
    x = e.flatten(e.global_avg(x))
    net = e.build(e.linear(x, model.num_classes))
    if structure(net) != structure(space.to_workload(a, input_size=input_size)):
        raise CalibrationError(f"space {space.name!r}: block attribution does not reproduce to_workload")
    return net, blocks


@dataclass(frozen=True)
class BBSSPLut:
    """Layer-adaptive LUT over searchable ``labels``; ``table[i]`` maps block -> ms for label ``labels[i]``.

    ``t_typ_ms[i]`` is the typical block's profiled time in layer ``i``; ``t_ssbn0_ms`` the measured
    ``T(SSBN_0)`` (NaN when unknown). Prediction: ``scale * sum(LUT) + offset_ms``; in ``offset`` mode
    ``scale = 1`` and ``offset_ms = T(SSBN_0) - sum(t_typ)``.
    """

    labels: tuple[str, ...]
    typical: tuple[str, ...]
    table: tuple[tuple[tuple[str, float], ...], ...]
    t_typ_ms: tuple[float, ...]
    t_ssbn0_ms: float = float("nan")
    mode: str = "offset"
    scale: float = 1.0
    offset_ms: float = 0.0
    n_anomalies: int = 0
    space: Any = field(default=None, compare=False)
    method: ClassVar[str] = "bbssp"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise CalibrationError(f"BBSSP LUT mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        n = len(self.labels)
        if not (len(self.typical) == len(self.table) == len(self.t_typ_ms) == n):
            raise CalibrationError("BBSSP LUT: labels, typical, table and t_typ_ms differ in length")
        for lb, row in zip(self.labels, self.table):
            for b, v in row:
                if not math.isfinite(v):
                    raise CalibrationError(f"BBSSP LUT: entry {lb}/{b} is not finite: {v!r}")

    # --- lookups ---------------------------------------------------------------------------------
    def entry(self, label: str, block: str) -> float:
        i = self.labels.index(label)
        for b, v in self.table[i]:
            if b == block:
                return v
        raise CalibrationError(f"BBSSP LUT has no entry for block {block!r} in layer {label!r}")

    def as_array(self, blocks: Sequence[str]) -> np.ndarray:
        """``len(labels) x len(blocks)`` array, NaN where a block was not profiled in a layer."""
        out = np.full((len(self.labels), len(blocks)), np.nan)
        for i, row in enumerate(self.table):
            d = dict(row)
            for j, b in enumerate(blocks):
                if b in d:
                    out[i, j] = d[b]
        return out

    def _archs(self, items: Sequence[Any]) -> list[Mapping[str, str]]:
        out: list[Mapping[str, str]] = []
        for it in items:
            if isinstance(it, Measurement):
                if it.arch is None:
                    raise CalibrationError(f"{it.source}: the BBSSP LUT predicts archs; measurement has none")
                it = it.arch
            if isinstance(it, str):
                if self.space is None:
                    raise CalibrationError("parsing arch strings needs the BBSSP LUT's space (space=...)")
                it = self.space.parse(it)
            if not isinstance(it, Mapping):
                raise CalibrationError(f"the BBSSP LUT predicts archs ({{label: block}}), got {type(it).__name__}")
            out.append(it)
        return out

    def lut_sums(self, items: Sequence[Any]) -> np.ndarray:
        """``sum_i LUT[i][arch_i]`` per arch (ms): archs become block indices, then one gather per layer over all
        archs (the same additions in the same order as :meth:`lut_sums_naive`: bit-equal). For arrays of archs
        already encoded, see :func:`calibration.batch.batch_predictor`."""
        archs = self._archs(items)
        cols = [{b: j for j, (b, _) in enumerate(row)} for row in self.table]
        A = np.full((len(self.labels), max((len(r) for r in self.table), default=0)), np.nan)
        for i, row in enumerate(self.table):
            A[i, :len(row)] = [v for _, v in row]
        codes = np.empty((len(archs), len(self.labels)), dtype=np.int64)
        for k, a in enumerate(archs):
            for i, lb in enumerate(self.labels):
                j = cols[i].get(a[lb])
                if j is None:
                    raise CalibrationError(f"BBSSP LUT has no entry for block {a[lb]!r} in layer {lb!r}")
                codes[k, i] = j
        out = np.zeros(len(archs))
        for i in range(len(self.labels)):
            out += A[i, codes[:, i]]
        return out

    def lut_sums_naive(self, items: Sequence[Any]) -> np.ndarray:
        """Slow reference of :meth:`lut_sums`: one arch and one layer at a time."""
        rows = [dict(r) for r in self.table]
        out = np.empty(len(items))
        for k, a in enumerate(self._archs(items)):
            total = 0.0
            for i, lb in enumerate(self.labels):
                b = a[lb]
                if b not in rows[i]:
                    raise CalibrationError(f"BBSSP LUT has no entry for block {b!r} in layer {lb!r}")
                total += rows[i][b]
            out[k] = total
        return out

    def predict(self, items: Sequence[Any], resolver: Any = None) -> np.ndarray:
        """Predicted end-to-end latency (ms) of archs (mappings, arch strings, or measurements of archs)."""
        if self.mode == "offset" and not math.isfinite(self.offset_ms):
            raise CalibrationError("BBSSP LUT has no offset: T(SSBN_0) unknown; fit(measurements) first")
        return self.scale * self.lut_sums(items) + self.offset_ms

    # --- fitting ---------------------------------------------------------------------------------
    def fit(self, measurements: MeasurementSet | Sequence[Measurement], resolver: Any = None,
            anomaly_threshold: float | None = 0.10) -> BBSSPLut:
        """Affine fit ``T ~ a * sum(LUT) + b`` on measured archs (anomaly removal), returning ``mode="affine"``."""
        ms = list(measurements)
        if not ms:
            raise CalibrationError("BBSSP affine fit needs measurements")
        x = self.lut_sums(ms)
        y = np.array([m.latency_ms for m in ms])
        fit = fit_affine(x, y, anomaly_threshold)
        return dataclasses.replace(self, mode="affine", scale=fit.scale, offset_ms=fit.offset_ms,
                                   n_anomalies=fit.n_anomalies)

    @classmethod
    def from_ssbn_times(cls, labels: Sequence[str], typical: Sequence[str], t_typ_ms: Sequence[float],
                        t_ssbn0_ms: float, t_ssbn_ms: Mapping[tuple[str, str], float], space: Any = None) -> BBSSPLut:
        """The LUT from SSBN end-to-end times ``t_ssbn_ms[(label, block)]`` and the per-layer typical times."""
        table = []
        for lb, typ, tt in zip(labels, typical, t_typ_ms):
            row = [(typ, float(tt))]
            for (lab, b), T in t_ssbn_ms.items():
                if lab == lb and b != typ:
                    row.append((b, float(tt + T - t_ssbn0_ms)))
            table.append(tuple(row))
        return cls(tuple(labels), tuple(typical), tuple(table), tuple(map(float, t_typ_ms)), float(t_ssbn0_ms),
                   "offset", 1.0, float(t_ssbn0_ms - math.fsum(t_typ_ms)), 0, space)

    @classmethod
    def from_device(cls, space: Any, device: Any, input_size: int | None = None) -> BBSSPLut:
        """Run every SSBN of ``space`` on ``device`` and profile SSBN_0 (kernels credited to their anchor's block)."""
        from spaces.ssbn import ssbns

        nets = ssbns(space)
        base = nets[0]
        net0, blocks = backbone_block_layers(space, base.arch, input_size)
        prof = device.profile(net0)
        t_typ = []
        for lb in space.labels:
            names = blocks[lb]
            t_typ.append(math.fsum(k.latency_ms for k in prof.kernels if k.layers and k.layers[0] in names))
        t0 = float(device.run(net0).latency_ms)
        times = {}
        for s in nets[1:]:
            times[(s.layer, s.block)] = float(device.run(space.to_workload(s.arch, input_size=input_size)).latency_ms)
        return cls.from_ssbn_times(space.labels, tuple(base.arch[lb] for lb in space.labels), t_typ, t0, times, space)

    @classmethod
    def from_measurements(cls, space: Any, measurements: MeasurementSet | Sequence[Measurement]) -> BBSSPLut:
        """From measured SSBNs: SSBN_0 (the typical arch, with kernel rows whose ``label`` names the layer) and
        any SSBN_(i,j) (archs differing from SSBN_0 in one layer). Other archs are ignored here (use :meth:`fit`)."""
        base = space.typical_arch()
        t0: Measurement | None = None
        times: dict[tuple[str, str], float] = {}
        for m in measurements:
            if m.arch is None:
                continue
            a = space.parse(m.arch)
            diff = [lb for lb in space.labels if a[lb] != base[lb]]
            if not diff:
                t0 = m
            elif len(diff) == 1:
                times[(diff[0], a[diff[0]])] = m.latency_ms
        if t0 is None:
            raise CalibrationError(f"BBSSP LUT: no measurement of SSBN_0 ({space.format(base)}) in the file")
        t_typ = []
        for lb in space.labels:
            rows = [k.latency_ms for k in t0.kernels if k.label == lb]
            if not rows:
                raise CalibrationError(f"{t0.source}: SSBN_0 has no per-kernel rows labelled {lb!r} (needed for "
                                       f"t_typ of that layer)")
            t_typ.append(math.fsum(rows))
        return cls.from_ssbn_times(space.labels, tuple(base[lb] for lb in space.labels), t_typ, t0.latency_ms,
                                   times, space)

    @classmethod
    def from_table(cls, labels: Sequence[str], blocks: Sequence[str], latency_ms: Any, typical: Sequence[str],
                   space: Any = None) -> BBSSPLut:
        """A published layer x block table (e.g. :func:`calibration.datasets.load_bbssp_zcu102`); the offset is
        unknown (NaN) until :meth:`fit`."""
        arr = np.asarray(latency_ms, dtype=float)
        table = tuple(tuple((b, float(arr[i, j])) for j, b in enumerate(blocks) if math.isfinite(arr[i, j]))
                      for i in range(len(labels)))
        t_typ = tuple(float(arr[i, list(blocks).index(t)]) for i, t in enumerate(typical))
        return cls(tuple(labels), tuple(typical), table, t_typ, float("nan"), "offset", 1.0, float("nan"), 0, space)

    # --- JSON ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {"format": CORRECTOR_FORMAT, "version": CORRECTOR_VERSION, "method": self.method,
                "labels": list(self.labels), "typical": list(self.typical),
                "table": [[[b, v] for b, v in row] for row in self.table], "t_typ_ms": list(self.t_typ_ms),
                "t_ssbn0_ms": num(self.t_ssbn0_ms), "mode": self.mode, "scale": self.scale,
                "offset_ms": num(self.offset_ms), "n_anomalies": self.n_anomalies,
                "space": self.space.name if self.space is not None else None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "corrector") -> BBSSPLut:
        try:
            space = None
            if d.get("space"):
                from calibration.workloads import get_space

                space = get_space(d["space"])

            def num(v: Any) -> float:
                return float("nan") if v is None else float(v)

            return cls(tuple(d["labels"]), tuple(d["typical"]),
                       tuple(tuple((str(b), float(v)) for b, v in row) for row in d["table"]),
                       tuple(map(float, d["t_typ_ms"])), num(d.get("t_ssbn0_ms")), d["mode"], float(d["scale"]),
                       num(d.get("offset_ms")), int(d.get("n_anomalies", 0)), space)
        except (KeyError, TypeError, ValueError) as e:
            raise CalibrationError(f"{source}: malformed BBSSP LUT: {e}") from None

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")


__all__ = ["BBSSPLut", "MODES", "backbone_block_layers"]
