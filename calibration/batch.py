"""Vectorised latency prediction for additive search spaces: many archs with array operations, no workload per arch.

Every arch of a supported space is a sum of network *components* (fragments of layers), each built once:

* layer-wise backbones (FBNet, ProxylessNAS, BBSSP families, TOML backbones): the stem, fixed blocks and head
  (one base component) plus one component per (position, candidate block) -- each block is emitted once, alone, on
  its position's input shape. An arch takes exactly one component per position (one-hot).
* NAS-Bench-201 (:class:`~spaces.nb201.NB201Model` and the execution variants of :mod:`calibration.workloads`):
  per stage, one component per edge op kind (``nor_conv_1x1``, ``nor_conv_3x3``, ``avg_pool_3x3``, the unpruned
  ``none`` multiply) and one per node-sum add, plus the stem/reduction/head base, the disconnected network (pruned)
  and the head on the constant input (zero-folded cells whose output ignores the input). Which edges run
  (pruned: live edges; zero-folded: :func:`spaces.nb201.zero_folded_cell`) is computed with boolean array ops on the
  arch codes (:func:`nb201_cell_masks`), so a component's multiplicity in an arch is an array expression.

A predictor's batch prediction is then a gather (one-hot) or a small matrix product (NB201) of per-component feature
rows, plus the predictor's own vectorised correction: LUT sums (:class:`~calibration.lut.LatencyLUT`), the affine,
kernel-type and residual correctors, :class:`~calibration.correctors.AutoSelect` (its chosen method) and the BBSSP
layer-adaptive LUT (:class:`~calibration.bbssp.BBSSPLut`: a gather in its own table). Configurations the predictor's
LUT lacks are filled once, from the components, by the corrector's :class:`~calibration.correctors.TableSource` (as
its per-arch path would for each network).

Equality with the per-arch path (``predictor.predict_workloads([space.to_workload(a)])``): BBSSP sums are bit-equal
(the same additions in the same order); LUT sums and the LUT-based correctors agree to 1e-9 relative (float
summation order differs). Each layout checks itself at construction: the component layers of a few seeded archs must
equal ``space.to_workload``'s layers as multisets of layer configurations.

Public API (archs are mappings ``{label: candidate}`` or arch strings of ``space``; codes are candidate indices per
position, ``space.choices`` order, shape ``(n_archs, n_positions)``)::

    bp = batch_predictor(predictor, space, variant=None)   # -> BatchPredictor
    codes = bp.encode(archs)                               # np.ndarray int64 (n, P), column-major
    ms = bp.predict_codes(codes)                           # np.ndarray float64 (n,), milliseconds
    ms = bp.predict(archs)                                 # = bp.predict_codes(bp.encode(archs))
    codes, ms = predict_space(predictor, space)            # every arch of a small space (NB201: 15,625)
    lay = arch_layout(space, variant=None)                 # the decomposition: components, multiplicities
    lut = layout_lut(device, lay)                          # a device's LUT over exactly the components' layers
    ws = workload_space(saved_space_name, search_space)    # which workloads a saved corrector predicts (or error)

Speed: codes are read one position (column) at a time, so column-major codes (``np.asfortranarray(codes)``, or
``np.array(per_position_columns).T``; :meth:`BatchPredictor.encode` returns that order) are several times faster
than row-major ones. Backbone spaces group consecutive positions into tables of up to 4,096 candidate combinations
(one gather per group); spaces of at most 65,536 archs (NB201) are tabulated at the first call.

``variant`` names the NB201 execution (``pruned``, ``unpruned``, ``zero-folded``, or the workload space names
``nb201``, ``nb201-unpruned``, ``nb201-zero-folded``); None takes the space's own model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from hwsim.workload import Network, layer_signature
from calibration.correctors import (
    AutoSelect,
    CalibrationError,
    GlobalAffine,
    KernelTypeNNLS,
    ResidualModel,
    TableSource,
    type_columns,
)
from calibration.lut import LatencyLUT, build_lut

#: NB201 execution variants (as in :data:`calibration.datasets.EXECUTION_SPACES`).
VARIANTS = ("pruned", "unpruned", "zero-folded")
_VARIANT_OF_SPACE = {"nb201": "pruned", "nb201-unpruned": "unpruned", "nb201-zero-folded": "zero-folded"}
_CHUNK = 1 << 16  # rows per chunk where a batch needs per-arch feature matrices
TABULATE_MAX = 1 << 16  #: spaces with at most this many archs (NB201: 15,625) are predicted once, then gathered


def _fragment(e: Any, y: str) -> Network:
    """The emitted layers as a network (no output named when the fragment emitted nothing, e.g. an identity)."""
    return e.builder.build(() if y == e.input else (y,))


def _variant_name(variant: str) -> str:
    v = _VARIANT_OF_SPACE.get(variant, variant)
    if v not in VARIANTS:
        raise CalibrationError(f"unknown NB201 execution variant {variant!r}; expected one of "
                               f"{', '.join(VARIANTS + tuple(_VARIANT_OF_SPACE))}")
    return v


# ================================================================================================
# layouts: archs -> component multiplicities
# ================================================================================================
@dataclass(frozen=True)
class ArchLayout:
    """The decomposition of a space's archs into ``components`` (fragment networks, each built once).

    ``positions``: the space's labels; ``n_candidates`` per position; ``input_size``: image pixels (None: the
    model's). :meth:`multiplicity` gives how many times each
    component occurs in each arch (the slow, obviously-correct form); :meth:`combine` the same sum of per-component
    feature rows, fast.
    """

    space: Any
    variant: str | None
    components: tuple[Network, ...]
    positions: tuple[str, ...]
    n_candidates: tuple[int, ...]
    input_size: int | None = None

    @property
    def n_components(self) -> int:
        return len(self.components)

    def check_codes(self, codes: Any) -> np.ndarray:
        """``codes`` as an int64 ``(n, P)`` array; out-of-range codes raise :class:`CalibrationError`."""
        c = np.asarray(codes)
        if c.ndim != 2 or c.shape[1] != len(self.positions):
            raise CalibrationError(f"space {self.space.name!r}: arch codes must have shape (n, {len(self.positions)}),"
                                   f" got {c.shape}")
        if c.size and not np.issubdtype(c.dtype, np.integer):
            raise CalibrationError(f"space {self.space.name!r}: arch codes must be integers, got {c.dtype}")
        c = c.astype(np.int64, copy=False)  # keeps the memory order
        if c.size and (c.min() < 0 or (c.max(axis=0) >= np.asarray(self.n_candidates)).any()):
            bad = (c < 0) | (c >= np.asarray(self.n_candidates)[None, :])
            if bad.any():
                r, p = np.argwhere(bad)[0]
                raise CalibrationError(f"space {self.space.name!r}: arch code {int(c[r, p])} of {self.positions[p]} "
                                       f"(row {int(r)}) outside 0..{self.n_candidates[p] - 1}")
        return c

    def multiplicity(self, codes: Any) -> np.ndarray:  # pragma: no cover - abstract
        """``(n, K)`` float array: occurrences of each component in each arch."""
        raise NotImplementedError

    def combine(self, codes: np.ndarray, F: Any) -> np.ndarray:
        """``multiplicity(codes) @ F`` for a ``(K,)`` or ``(K, f)`` feature array, or for what :meth:`prepare` made
        of one (codes already checked)."""
        return self.multiplicity(codes) @ F

    def prepare(self, F: np.ndarray) -> Any:
        """``F`` in the form :meth:`combine` is fastest with (done once per predictor)."""
        return np.asarray(F, dtype=float)

    def layer_keys(self, codes_row: Sequence[int]) -> list[tuple[Any, ...]]:
        """Sorted layer signatures of one arch rebuilt from its components (for self-checks and tests)."""
        m = self.multiplicity(np.asarray([codes_row]))[0]
        out: list[tuple[Any, ...]] = []
        for k, net in enumerate(self.components):
            n = int(round(m[k]))
            for layer in net.layers:
                out.extend([layer_signature(layer)] * n)
        return sorted(out)

    def self_check(self, n: int = 6, seed: int = 0) -> None:
        """Raise :class:`CalibrationError` unless ``n`` seeded archs' components equal ``space.to_workload``."""
        rng = np.random.default_rng(seed)
        space = self._workload_space()
        for _ in range(n):
            row = [int(rng.integers(k)) for k in self.n_candidates]
            arch = space.from_indices(row)
            want = sorted(layer_signature(x) for x in space.to_workload(arch, input_size=self.input_size).layers)
            if self.layer_keys(row) != want:
                raise CalibrationError(f"space {self.space.name!r}: the batch decomposition does not reproduce "
                                       f"to_workload for arch {space.format(arch)!r}")

    def _workload_space(self) -> Any:
        """The space whose ``to_workload`` these components add up to."""
        return self.space

    def all_codes(self, limit: int = 2_000_000) -> np.ndarray:
        """Codes of every arch, in :meth:`spaces.core.SearchSpace.enumerate` order (refuses larger spaces)."""
        size = math.prod(self.n_candidates)
        if size > limit:
            raise CalibrationError(f"space {self.space.name!r} has {size} archs, more than the limit {limit}")
        return np.asfortranarray(np.stack(np.unravel_index(np.arange(size), self.n_candidates), axis=1), np.int64)


@dataclass(frozen=True)
class OneHotLayout(ArchLayout):
    """Backbone spaces: component 0 is the base, then ``offsets[p] + code`` is position ``p``'s block."""

    offsets: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), compare=False)

    def multiplicity(self, codes: Any) -> np.ndarray:
        c = self.check_codes(codes)
        m = np.zeros((len(c), self.n_components))
        m[:, 0] = 1.0
        rows = np.arange(len(c))
        for p in range(c.shape[1]):
            m[rows, self.offsets[p] + c[:, p]] += 1.0
        return m

    def combine(self, codes: np.ndarray, F: Any) -> np.ndarray:
        """Base row plus the chosen block's row of every position. With ``F`` from :meth:`prepare`: one gather per
        group of positions (:class:`_Blocked`)."""
        if isinstance(F, _Blocked):
            idx: list[Any] = [0] * len(F.tables)
            for p, (b, stride) in enumerate(zip(F.group, F.stride)):  # codes[:, p]: contiguous in column-major codes
                idx[b] = idx[b] + codes[:, p] * stride
            out = F.tables[0][idx[0]]
            for b in range(1, len(F.tables)):
                out += F.tables[b][idx[b]]
            return out
        F = np.asarray(F, dtype=float)
        idx = codes + self.offsets[None, :]
        if F.ndim == 1:
            return F[0] + np.take(F, idx).sum(axis=1)
        out = np.empty((len(codes), F.shape[1]))
        for j in range(F.shape[1]):
            col = np.ascontiguousarray(F[:, j])
            out[:, j] = col[0] + np.take(col, idx).sum(axis=1)
        return out

    def prepare(self, F: np.ndarray, max_cells: int = 4096) -> Any:
        """Consecutive positions grouped while the product of their candidate counts stays <= ``max_cells``; per
        group a table of the summed rows of every combination of its candidates (the base row in the first)."""
        F = np.asarray(F, dtype=float)
        groups: list[list[int]] = []
        for p, k in enumerate(self.n_candidates):
            if groups and math.prod(self.n_candidates[q] for q in groups[-1]) * k <= max_cells:
                groups[-1].append(p)
            else:
                groups.append([p])
        group, stride = [0] * len(self.n_candidates), [0] * len(self.n_candidates)
        tables = []
        for b, g in enumerate(groups):
            dims = [self.n_candidates[p] for p in g]
            combos = np.indices(dims).reshape(len(g), -1)  # row-major: index = sum code_p * stride_p
            t = np.broadcast_to(F[0], (combos.shape[1],) + F.shape[1:]).copy() if b == 0 else \
                np.zeros((combos.shape[1],) + F.shape[1:])
            for k, p in enumerate(g):
                t += F[self.offsets[p] + combos[k]]
                group[p], stride[p] = b, math.prod(dims[k + 1:])
            tables.append(t)
        return _Blocked(tuple(group), tuple(stride), tuple(tables))


@dataclass(frozen=True)
class _Blocked:
    """Per-group tables of a one-hot layout's features (:meth:`OneHotLayout.prepare`): position ``p`` belongs to
    group ``group[p]`` and adds ``code * stride[p]`` to that group's table index."""

    group: tuple[int, ...]
    stride: tuple[int, ...]
    tables: tuple[np.ndarray, ...]


def backbone_layout(space: Any, input_size: int | None = None) -> OneHotLayout:
    """One component per (position, candidate) block of a backbone space, plus stem/fixed/head as component 0."""
    from spaces.backbone import BackboneModel
    from spaces.ops import GraphEmitter, conv_bn, get_block

    model = space.model
    if not isinstance(model, BackboneModel):
        raise CalibrationError(f"space {space.name!r}: not a backbone space")
    size = model.input_size if input_size is None else int(input_size)
    e = GraphEmitter(f"{space.name}:base", (model.in_channels, size, size))
    x = conv_bn(e, e.input, model.stem.out_channels, model.stem.kernel, model.stem.stride, act=model.stem.act)
    for f in model.fixed:
        x = get_block(f.block or "").fn(e, x, f.out_channels, f.stride)
    shape = e.shape(x)
    blocks: list[Network] = []
    offsets = []
    for c, spec in zip(space.choices, model.layers):
        offsets.append(1 + len(blocks))
        outs = set()
        for b in c.candidates:
            be = GraphEmitter(f"{space.name}:{c.label}={b}", shape)
            y = get_block(b).fn(be, be.input, spec.out_channels, spec.stride)
            outs.add(be.shape(y))
            blocks.append(_fragment(be, y))
        if len(outs) != 1:
            raise CalibrationError(f"space {space.name!r}: the candidates of {c.label} give different output shapes "
                                   f"{sorted(outs)}; the batch path needs one shape per position")
        shape = outs.pop()
    # head on the last shape, emitted into the base emitter after the stem (a second input keeps the graph valid)
    h = e.builder.add_input("body", shape)
    if model.head.conv_channels:
        h = conv_bn(e, h, model.head.conv_channels, 1, act=model.head.act)
    h = e.linear(e.flatten(e.global_avg(h)), model.num_classes)
    base = e.builder.build((x, h))
    return OneHotLayout(space, None, (base, *blocks), space.labels, tuple(len(c.candidates) for c in space.choices),
                        input_size, np.asarray(offsets, dtype=np.int64))


# --- NAS-Bench-201 --------------------------------------------------------------------------------
def nb201_cell_masks(ops: np.ndarray, variant: str) -> dict[str, np.ndarray]:
    """Array form of the NB201 execution rules on ``ops`` (``(n, 6)`` indices into :data:`spaces.nb201.NB201_OPS`,
    edges in arch-string order).

    Returns ``run`` (``(n, 6)`` bool: the edge's op executes), ``adds`` (``(n,)`` node-sum adds per cell),
    ``reads`` (``(n,)`` bool: the cell output depends on the cell input; pruned: the cell is connected). Twins of
    :func:`spaces.nb201.live_edges` (pruned), every edge (unpruned) and :func:`spaces.nb201.zero_folded_cell`
    (zero-folded), tested on all 15,625 cells.
    """
    v = _variant_name(variant)
    ops = np.asarray(ops)
    n = len(ops)
    r = ops != 0  # not none
    skip = ops == 1
    conv = (ops == 2) | (ops == 3)
    r0, r1, r2, r3, r4, r5 = (r[:, k] for k in range(6))
    if v == "unpruned":
        return {"run": np.ones((n, 6), dtype=bool), "adds": np.full(n, 3, dtype=np.int64),
                "reads": np.ones(n, dtype=bool)}
    bwd2 = r5
    bwd1 = (r2 & bwd2) | r4
    if v == "pruned":
        fwd1 = r0
        fwd2 = r1 | (r2 & fwd1)
        fwd3 = r3 | (r4 & fwd1) | (r5 & fwd2)
        run = np.stack([r0 & bwd1, r1 & bwd2, r2 & fwd1 & bwd2, r3, r4 & fwd1, r5 & fwd2], axis=1) & fwd3[:, None]
        c1 = run[:, 0].astype(np.int64)
        c2 = run[:, 1].astype(np.int64) + run[:, 2]
        c3 = run[:, 3].astype(np.int64) + run[:, 4] + run[:, 5]
        return {"run": run, "adds": _adds(c1, c2, c3), "reads": fwd3}
    # zero-folded
    run0, run1, run2 = r0 & bwd1, r1 & bwd2, r2 & bwd2
    lc1 = ~bwd1 & r0 & conv[:, 0] & ~r2 & ~r4
    lc2 = ~bwd2 & (r1 ^ r2) & ((r1 & conv[:, 1]) | (r2 & conv[:, 2])) & ~r5
    pair = lc1 & ~bwd2 & r1
    kept1, kept2 = lc1 & ~pair, lc2 & ~pair
    run0 = run0 | kept1 | (kept2 & r2 & r0)
    run1 = run1 | (kept2 & r1)
    run2 = run2 | (kept2 & r2)
    run = np.stack([run0, run1, run2, r3, r4, r5], axis=1)
    dep1 = run0
    dep2 = run1 | (run2 & dep1)
    dep3 = r3 | (r4 & dep1) | (r5 & dep2)
    reads = dep3 | (kept1 & dep1) | (kept2 & dep2)
    has1 = run0
    c1 = run0.astype(np.int64)
    c2 = run1.astype(np.int64) + (run2 & ~(~has1 & skip[:, 2]))
    has2 = c2 > 0
    c3 = (r3.astype(np.int64) + (r4 & ~(~has1 & skip[:, 4])) + (r5 & ~(~has2 & skip[:, 5]))
          + kept1 + kept2)
    return {"run": run, "adds": _adds(c1, c2, c3), "reads": reads}


def _adds(*contribs: np.ndarray) -> np.ndarray:
    return sum(np.maximum(c - 1, 0) for c in contribs)  # type: ignore[return-value]


#: NB201 edge-op components per stage, in component order: op index in NB201_OPS -> slot
_NB201_SLOTS = (0, 2, 3, 4)  # none (unpruned multiply), nor_conv_1x1, nor_conv_3x3, avg_pool_3x3; then the add


@dataclass(frozen=True)
class NB201Layout(ArchLayout):
    """NB201 cells: components ``[base, disconnected, zero-input head]`` then per stage ``s``
    ``3 + 5 s + slot`` (slots: none-multiply, conv1x1, conv3x3, avgpool, add). A cell that reads no input
    (zero-folded) is one cell of the last stage on a constant plus the head."""

    op_index: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64), compare=False)
    cells_per_stage: int = 5

    def ops(self, codes: np.ndarray) -> np.ndarray:
        """``(n, 6)`` op indices in :data:`spaces.nb201.NB201_OPS` of checked codes."""
        return np.stack([self.op_index[p][codes[:, p]] for p in range(6)], axis=1)

    def multiplicity(self, codes: Any) -> np.ndarray:
        c = self.check_codes(codes)
        ops = self.ops(c)
        mk = nb201_cell_masks(ops, self.variant or "pruned")
        run, reads = mk["run"], mk["reads"]
        n = len(c)
        per_cell = np.zeros((n, 5))
        for slot, op in enumerate(_NB201_SLOTS):
            per_cell[:, slot] = (run & (ops == op)).sum(axis=1)
        per_cell[:, 4] = mk["adds"]
        m = np.zeros((n, self.n_components))
        N = self.cells_per_stage
        if self.variant == "zero-folded":
            m[:, 0] = reads
            m[:, 2] = ~reads
            for s in range(3):
                m[:, 3 + 5 * s: 8 + 5 * s] = per_cell * np.where(reads, N, 1.0 if s == 2 else 0.0)[:, None]
        else:
            m[:, 0] = reads
            m[:, 1] = ~reads
            for s in range(3):
                m[:, 3 + 5 * s: 8 + 5 * s] = per_cell * np.where(reads, N, 0.0)[:, None]
        return m

    def _workload_space(self) -> Any:
        """The space with this layout's macro network under its execution variant."""
        from dataclasses import replace

        from calibration.workloads import NB201UnprunedModel, NB201ZeroFoldedModel
        from spaces.nb201 import NB201Model

        cls = {"pruned": NB201Model, "unpruned": NB201UnprunedModel,
               "zero-folded": NB201ZeroFoldedModel}[self.variant or "pruned"]
        m = self.space.model
        if type(m) is cls:
            return self.space
        return replace(self.space, model=cls(m.channels, m.cells_per_stage, m.input_size, m.num_classes))


def nb201_layout(space: Any, variant: str | None = None, input_size: int | None = None) -> NB201Layout:
    """Components of the NB201 macro network (any channels / cells per stage / input size) under ``variant``."""
    from calibration.workloads import NB201UnprunedModel, NB201ZeroFoldedModel, _edge_unpruned
    from spaces.core import Arch
    from spaces.nb201 import EDGES, LABELS, NB201_OPS, NB201Model, _edge, emit_head, emit_stages
    from spaces.ops import GraphEmitter

    model = space.model
    own = {NB201Model: "pruned", NB201UnprunedModel: "unpruned", NB201ZeroFoldedModel: "zero-folded"}.get(type(model))
    if own is None:
        raise CalibrationError(f"space {space.name!r}: not a NAS-Bench-201 space")
    v = own if variant is None else _variant_name(variant)
    if space.labels != LABELS:
        raise CalibrationError(f"space {space.name!r}: NB201 labels must be {LABELS}")
    N = model.cells_per_stage
    if N < 1:
        raise CalibrationError(f"space {space.name!r}: the batch path needs cells_per_stage >= 1, got {N}")
    size = model.input_size if input_size is None else int(input_size)
    shapes: list[tuple[int, ...]] = []

    def cell(x: str) -> str:
        shapes.append(e.shape(x))
        return x

    e = GraphEmitter(f"{space.name}:base", (3, size, size))
    base = e.build(emit_head(e, emit_stages(e, model.channels, N, cell), model.num_classes))
    stage_shapes = shapes[::N]
    # disconnected (pruned): the network NB201Model emits for an all-none cell
    d = GraphEmitter(f"{space.name}:disconnected", (3, size, size))
    none_arch = Arch((lb, "none") for lb in LABELS)
    disc = d.build(NB201Model(model.channels, N, model.input_size, model.num_classes).emit(space, none_arch, d,
                                                                                           model.num_classes))
    # zero-folded cells that read no input: one cell on a constant of the last stage's shape, then the head
    _, h, w = (3, size, size)
    zshape = (model.channels * 4, -(-h // 4), -(-w // 4))
    z = GraphEmitter(f"{space.name}:zero-head", zshape)
    zhead = z.build(emit_head(z, z.input, model.num_classes))
    comps: list[Network] = [base, disc, zhead]
    for s in range(3):
        shp = zshape if (v == "zero-folded" and s == 2) else stage_shapes[s]
        if s == 2 and v == "zero-folded" and shp != stage_shapes[2]:
            raise CalibrationError(f"space {space.name!r}: constant input shape {shp} differs from the last stage's "
                                   f"{stage_shapes[2]}")
        for op in _NB201_SLOTS:
            f = GraphEmitter(f"{space.name}:s{s}:{NB201_OPS[op]}", shp)
            if v == "unpruned":
                y = _edge_unpruned(f, f.input, NB201_OPS[op])
            elif op == 0:
                y = f.input  # none never runs when pruned / zero-folded
            else:
                y = _edge(f, f.input, NB201_OPS[op])
            comps.append(_fragment(f, y))
        a = GraphEmitter(f"{space.name}:s{s}:add", shp)
        comps.append(a.build(a.add(a.input, a.input)))
    op_index = np.full((6, max(len(c.candidates) for c in space.choices)), -1, dtype=np.int64)
    for p, c in enumerate(space.choices):
        for j, cand in enumerate(c.candidates):
            op_index[p, j] = NB201_OPS.index(cand)
    assert len(EDGES) == 6
    return NB201Layout(space, v, tuple(comps), space.labels, tuple(len(c.candidates) for c in space.choices),
                       input_size, op_index, N)


_LAYOUTS: dict[tuple[str, str, str | None, int | None], ArchLayout] = {}


def arch_layout(space: Any, variant: str | None = None, input_size: int | None = None,
                check: bool = True) -> ArchLayout:
    """The layout of ``space`` (backbone or NB201; ``variant`` for NB201 only), cached per (space JSON, variant,
    input size).

    ``check`` runs :meth:`ArchLayout.self_check` once (a few ``to_workload`` builds)."""
    from spaces.backbone import BackboneModel

    key = (space.name, space.to_json(indent=None), variant, input_size)
    lay = _LAYOUTS.get(key)
    if lay is not None:
        return lay
    if isinstance(space.model, BackboneModel):
        if variant is not None:
            raise CalibrationError(f"space {space.name!r}: execution variants apply to NB201 spaces only")
        lay = backbone_layout(space, input_size)
    else:
        lay = nb201_layout(space, variant, input_size)
    if check:
        lay.self_check()
    if len(_LAYOUTS) >= 64:  # a small cache: layouts are cheap to rebuild
        _LAYOUTS.pop(next(iter(_LAYOUTS)))
    _LAYOUTS[key] = lay
    return lay


def layout_lut(device: Any, layout: ArchLayout, base: LatencyLUT | None = None) -> LatencyLUT:
    """``device``'s per-layer LUT over every layer configuration of ``layout``'s components (profiles only those:
    enough to predict every arch of the space)."""
    return build_lut(device, [c for c in layout.components if c.layers], base)


# ================================================================================================
# predictors
# ================================================================================================
@dataclass(frozen=True)
class _Features:
    """Per component: summed LUT ms, per-type LUT sums and counts (``types`` order), LUT ms of other types, MACs."""

    lut: LatencyLUT
    lut_sum: np.ndarray
    S: np.ndarray
    C: np.ndarray
    extra: np.ndarray
    macs: np.ndarray


def _features(lut: LatencyLUT, comps: Sequence[Network], types: Sequence[str] | None = None) -> _Features:
    counts = lut.encode(comps)
    sums, cnts = lut.type_features(counts)
    types = lut.type_names if types is None else tuple(types)
    S, C, extra = type_columns(lut, sums, cnts, types)
    macs = np.array([float(c.total_macs) for c in comps])
    return _Features(lut, lut.predict_encoded(counts), S, C, extra, macs)


@dataclass(frozen=True)
class BatchPredictor:
    """A predictor bound to a space layout: :meth:`predict_codes` is array operations only.

    ``method``: ``lut``, ``affine``, ``kernel-type``, ``residual`` or ``bbssp``. Build with :func:`batch_predictor`.
    """

    layout: ArchLayout
    method: str
    _linear: np.ndarray | None = field(default=None, repr=False, compare=False)
    _const: float = 0.0
    _residual: Any = field(default=None, repr=False, compare=False)
    _bbssp: Any = field(default=None, repr=False, compare=False)
    _missing: Any = field(default=None, repr=False, compare=False)

    @property
    def space(self) -> Any:
        return self.layout.space

    def encode(self, archs: Sequence[Any]) -> np.ndarray:
        """``(n, P)`` int64 candidate indices of archs (mappings or arch strings of the space; validated), column-major."""
        space = self.layout.space
        index = [{cand: j for j, cand in enumerate(c.candidates)} for c in space.choices]
        labels = space.labels
        out = np.empty((len(archs), len(labels)), dtype=np.int64, order="F")
        for r, a in enumerate(archs):
            if isinstance(a, str):
                a = space.parse(a)
            elif not isinstance(a, Mapping):
                raise CalibrationError(f"cannot encode an arch of type {type(a).__name__}; expected a mapping "
                                       f"{{label: candidate}} or an arch string of space {space.name!r}")
            try:
                out[r] = [index[p][a[lb]] for p, lb in enumerate(labels)]
            except (KeyError, TypeError):
                space.validate(a)  # raises the one-line SpaceError naming the label / candidate
                raise
            if len(a) != len(labels):
                space.validate(a)
        return out

    def predict(self, archs: Sequence[Any]) -> np.ndarray:
        """Predicted latency (ms) of each arch."""
        return self.predict_codes(self.encode(archs))

    def predict_codes(self, codes: Any) -> np.ndarray:
        """Predicted latency (ms) of each arch given as a row of candidate indices.

        Spaces of at most :data:`TABULATE_MAX` archs are predicted for every arch at the first call
        (:meth:`predict_codes_direct` on :meth:`ArchLayout.all_codes`) and then looked up by arch index."""
        size = math.prod(self.layout.n_candidates)
        if size > TABULATE_MAX or self._missing is not None or self._bbssp is not None:
            return self.predict_codes_direct(codes)
        c = self.layout.check_codes(codes)
        table = self.__dict__.get("_table")
        if table is None:
            table = self.predict_codes_direct(self.layout.all_codes())
            object.__setattr__(self, "_table", table)
        idx = np.zeros(len(c), dtype=np.int64)
        for p, k in enumerate(self.layout.n_candidates):  # row-major index, as all_codes enumerates
            idx *= k
            idx += c[:, p]
        return table[idx]

    def predict_codes_direct(self, codes: Any) -> np.ndarray:
        """:meth:`predict_codes` computed from the components for these codes only (no table)."""
        c = self.layout.check_codes(codes)
        if self._missing is not None:
            ind, msgs = self._missing
            used = np.flatnonzero(self.layout.combine(c, ind) > 0)
            if len(used):
                m = self.layout.multiplicity(c[used[:1]])[0]
                from calibration.lut import LutError

                raise LutError(msgs[min(k for k in msgs if m[k] > 0)])
        if self._bbssp is not None:
            return self._bbssp(c)
        if self._residual is not None:
            out = np.empty(len(c))
            for i in range(0, len(c), _CHUNK):
                out[i:i + _CHUNK] = self._residual(c[i:i + _CHUNK])
            return out
        assert self._linear is not None
        prepared = self.__dict__.get("_prepared")
        if prepared is None:
            prepared = self.layout.prepare(self._linear)
            object.__setattr__(self, "_prepared", prepared)
        return self.layout.combine(c, prepared) + self._const

    def predict_all(self, limit: int = 2_000_000) -> tuple[np.ndarray, np.ndarray]:
        """``(codes, ms)`` of every arch of the space, in ``space.enumerate`` order."""
        codes = self.layout.all_codes(limit)
        return codes, self.predict_codes(codes)


def _linear_of(f: _Features, method: str, params: Any) -> tuple[np.ndarray, float]:
    """Per-component contribution and constant of a linear-in-layers predictor."""
    if method == "lut":
        return f.lut_sum, 0.0
    if method == "affine":
        return params.scale * f.lut_sum, float(params.offset_ms)
    # kernel-type: S @ scale + C @ offset + extra (types outside the fit, unscaled) + intercept
    return f.S @ np.array(params.scale) + f.C @ np.array(params.offset_ms) + f.extra, float(params.intercept_ms)


def batch_predictor(predictor: Any, space: Any, variant: str | None = None,
                    input_size: int | None = None) -> BatchPredictor:
    """Bind a fitted predictor (a :class:`~calibration.lut.LatencyLUT`, any corrector of
    :mod:`calibration.correctors`, :class:`~calibration.bbssp.BBSSPLut`) to ``space`` (``variant``: NB201 execution).

    LUT configurations the predictor lacks are filled once from the layout's components by the corrector's
    :class:`~calibration.correctors.TableSource` (a bare LUT raises :class:`~calibration.lut.LutError`)."""
    from calibration.bbssp import BBSSPLut

    if isinstance(predictor, AutoSelect):
        if predictor.chosen is None:
            raise CalibrationError("auto corrector is not fitted: call fit(...) first")
        predictor = predictor.chosen
    if isinstance(predictor, BBSSPLut):
        return _bbssp_batch(predictor, space, variant, input_size)
    lay = arch_layout(space, variant, input_size)
    if isinstance(predictor, LatencyLUT):
        lut, comps, missing = _complete(predictor, TableSource(), lay)
        w, const = _linear_of(_features(lut, comps), "lut", None)
        return BatchPredictor(lay, "lut", w, const, _missing=missing)
    if isinstance(predictor, (GlobalAffine, KernelTypeNNLS, ResidualModel)):
        predictor._require_fit(predictor.params)
        lut, comps, missing = _complete(predictor.lut, predictor.source, lay)
        p = predictor.params
        if isinstance(predictor, GlobalAffine):
            w, const = _linear_of(_features(lut, comps), "affine", p)
            return BatchPredictor(lay, "affine", w, const, _missing=missing)
        if isinstance(predictor, KernelTypeNNLS):
            w, const = _linear_of(_features(lut, comps, p.types), "kernel-type", p)
            return BatchPredictor(lay, "kernel-type", w, const, _missing=missing)
        return BatchPredictor(lay, "residual", _residual=_residual_fn(predictor, lay, lut, comps), _missing=missing)
    raise CalibrationError(f"cannot batch-predict with a {type(predictor).__name__}; expected a LatencyLUT, a "
                           f"corrector or a BBSSP LUT")


def _complete(lut: LatencyLUT, source: TableSource, lay: ArchLayout) -> tuple[LatencyLUT, list[Network], Any]:
    """The LUT extended over every component by ``source`` (as the per-arch path extends it per network); with no
    source to fill a configuration, the components lacking one are emptied and reported as ``(indicator, messages)``
    so that only archs that use them fail (:class:`~calibration.lut.LutError`), as they would one by one."""
    comps = list(lay.components)
    if source.device is not None or source.unit:
        return source.extend(lut, comps), comps, None
    ind = np.zeros(len(comps))
    msgs: dict[int, str] = {}
    for k, c in enumerate(comps):
        bad = next((x for x in c.layers if x not in lut), None)
        if bad is not None:
            ind[k] = 1.0
            msgs[k] = (f"LUT {lut.device!r}: no entry for layer {bad.name!r} ({bad.kind}) of component {c.name!r}; "
                       f"give the corrector a device to profile new layer configurations")
            comps[k] = Network(c.name, c.inputs, ())
    return lut, comps, ((ind, msgs) if msgs else None)


@dataclass(frozen=True)
class TreeEnsemble:
    """A fitted scikit-learn gradient-boosting regressor (squared error) as arrays, predicted by a compiled loop.

    ``feature``/``threshold``/``left``/``right``/``value``: per tree (rows) its nodes (padded, ``left == -1`` at
    leaves); ``init``: the constant initial prediction; ``learning_rate``. :meth:`predict` equals the regressor's
    ``predict`` bit for bit (features compared as float32 against float64 thresholds, trees added in order)."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    init: float
    learning_rate: float
    n_features: int

    @classmethod
    def from_gbr(cls, g: Any) -> TreeEnsemble:
        trees = [est.tree_ for est in g.estimators_[:, 0]]
        if getattr(g, "loss", "squared_error") != "squared_error" or g.estimators_.shape[1] != 1:
            raise CalibrationError("only squared-error gradient-boosting regressors can be compiled")
        m = max(t.node_count for t in trees)
        shape = (len(trees), m)
        feature, left, right = (np.full(shape, -1, dtype=np.int64) for _ in range(3))
        threshold, value = np.zeros(shape), np.zeros(shape)
        for k, t in enumerate(trees):
            n = t.node_count
            leaf = t.children_left[:n] == -1
            feature[k, :n] = np.where(leaf, -1, t.feature[:n])
            left[k, :n], right[k, :n] = t.children_left[:n], t.children_right[:n]
            threshold[k, :n], value[k, :n] = t.threshold[:n], t.value[:n, 0, 0]
        init = float(np.asarray(g.init_.predict(np.zeros((1, g.n_features_in_)))).ravel()[0])
        return cls(feature, threshold, left, right, value, init, float(g.learning_rate), int(g.n_features_in_))

    def predict(self, X: Any) -> np.ndarray:
        """Predictions for rows of ``X`` (``(n, n_features)``, finite)."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise CalibrationError(f"tree ensemble: X must have shape (n, {self.n_features}), got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise CalibrationError("tree ensemble: X must be finite")
        out = np.empty(len(X))
        _ensemble_predict(np.ascontiguousarray(X, dtype=np.float32), self.feature, self.threshold, self.left,
                          self.right, self.value, self.init, self.learning_rate, out)
        return out


@dataclass(frozen=True)
class BinnedEnsemble:
    """A :class:`TreeEnsemble` whose trees each read at most ``max_features`` features, tabulated: per used feature
    its sorted split thresholds (``cuts``), per group of trees reading the same features one summed table of
    ``learning_rate * value`` over the bins of those features. A prediction is one ``searchsorted`` per used feature
    and one gather per group; equal to the ensemble up to float summation order (trees summed per group)."""

    features: tuple[int, ...]
    cuts: tuple[np.ndarray, ...]
    groups: tuple[tuple[tuple[int, ...], np.ndarray], ...]
    init: float
    n_features: int

    @classmethod
    def from_ensemble(cls, ens: TreeEnsemble, max_cells: int = 1 << 16) -> BinnedEnsemble | None:
        """The tabulated form, or None when a group's table would exceed ``max_cells`` cells."""
        used = sorted({int(j) for j in ens.feature.ravel() if j >= 0})
        cuts = {f: np.unique(ens.threshold[ens.feature == f]) for f in used}
        pos = {f: k for k, f in enumerate(used)}
        tables: dict[tuple[int, ...], np.ndarray] = {}
        for t in range(ens.feature.shape[0]):
            fs = tuple(sorted({int(j) for j in ens.feature[t] if j >= 0}))
            shape = tuple(len(cuts[f]) + 1 for f in fs)
            if math.prod(shape) > max_cells:
                return None
            grid = np.indices(shape).reshape(len(fs), -1) if fs else np.zeros((0, 1), dtype=np.int64)  # bins per cell
            node = np.zeros(grid.shape[1], dtype=np.int64)
            for _ in range(ens.feature.shape[1]):  # walk every cell down the tree (depth <= node count)
                f = ens.feature[t, node]
                inner = f >= 0
                if not inner.any():
                    break
                b = np.zeros_like(node)
                for k, ff in enumerate(fs):
                    b = np.where(f == ff, grid[k], b)
                k_thr = np.zeros_like(node)
                for ff in fs:
                    sel = inner & (f == ff)
                    k_thr[sel] = np.searchsorted(cuts[ff], ens.threshold[t, node[sel]])
                go_left = b <= k_thr  # x <= cut[k]  <=>  (number of cuts < x) <= k
                node = np.where(inner, np.where(go_left, ens.left[t, node], ens.right[t, node]), node)
            val = (ens.learning_rate * ens.value[t, node]).reshape(shape)
            key = tuple(pos[f] for f in fs)
            tables[key] = tables[key] + val if key in tables else val
        return cls(tuple(used), tuple(cuts[f] for f in used), tuple(tables.items()), ens.init, ens.n_features)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions for rows of ``X`` (``(n, n_features)``; only the used columns are read)."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise CalibrationError(f"tree ensemble: X must have shape (n, {self.n_features}), got {X.shape}")
        bins = [np.searchsorted(c, X[:, f].astype(np.float32).astype(float), side="left").astype(np.int64)
                for f, c in zip(self.features, self.cuts)]
        out = np.full(len(X), self.init)
        for key, table in self.groups:
            if not key:
                out += table[()]
                continue
            flat = bins[key[0]]
            for k, size in zip(key[1:], table.shape[1:]):  # row-major index into the flattened table
                flat = flat * size + bins[k]
            out += np.take(table.ravel(), flat)
        return out


@njit(cache=True)
def _ensemble_predict(X: np.ndarray, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray,
                      right: np.ndarray, value: np.ndarray, init: float, lr: float, out: np.ndarray) -> None:
    for i in range(X.shape[0]):
        acc = init
        for t in range(feature.shape[0]):
            node = 0
            while left[t, node] != -1:
                if X[i, feature[t, node]] <= threshold[t, node]:
                    node = left[t, node]
                else:
                    node = right[t, node]
            acc += lr * value[t, node]
        out[i] = acc


def _residual_fn(cor: ResidualModel, lay: ArchLayout, lut: LatencyLUT, comps: Sequence[Network]) -> Any:
    p = cor.params
    assert p is not None and tuple(p.types) == tuple(p.base.types)
    f = _features(lut, comps, p.types)
    kt, c0 = _linear_of(f, "kernel-type", p.base)
    T = len(p.types)
    F = np.c_[f.S, f.C, f.extra, f.macs, kt]  # X column j of the residual model is a function of F column j
    g = cor._regressor(np.array(p.X), np.array(p.r))
    tree = TreeEnsemble.from_gbr(g)
    ens: Any = BinnedEnsemble.from_ensemble(tree) or tree
    # only the columns the trees split on (and the base, which scales the result) are computed: the rest is never read
    split = {int(j) for j in tree.feature.ravel() if j >= 0}
    used = sorted(split | {2 * T + 2})
    Fu = lay.prepare(F[:, used])

    def predict(codes: np.ndarray) -> np.ndarray:
        A = lay.combine(codes, Fu)
        X = np.zeros((len(codes), F.shape[1]))
        for k, j in enumerate(used):
            X[:, j] = np.log1p(A[:, k]) if j < 2 * T + 2 else 0.0
        base = np.maximum(A[:, -1] + c0, p.floor_ms)
        X[:, 2 * T + 2] = np.log(np.maximum(base, 1e-9))
        return base * np.exp(ens.predict(X))

    return predict


def _bbssp_batch(lut: Any, space: Any, variant: str | None, input_size: int | None) -> BatchPredictor:
    """BBSSP: a one-hot gather in the LUT's own table (no components needed)."""
    if variant is not None:
        raise CalibrationError("execution variants apply to NB201 spaces, not to a BBSSP LUT")
    if tuple(lut.labels) != tuple(space.labels):
        raise CalibrationError(f"BBSSP LUT labels {list(lut.labels)} differ from space {space.name!r}'s "
                               f"{list(space.labels)}")
    if lut.mode == "offset" and not math.isfinite(lut.offset_ms):
        raise CalibrationError("BBSSP LUT has no offset: T(SSBN_0) unknown; fit(measurements) first")
    n_cand = tuple(len(c.candidates) for c in space.choices)
    offsets = np.concatenate([[0], np.cumsum(n_cand)[:-1]]).astype(np.int64)
    flat = np.full(int(sum(n_cand)), np.nan)
    names = []
    for p, (c, row) in enumerate(zip(space.choices, lut.table)):
        d = dict(row)
        for j, b in enumerate(c.candidates):
            names.append((c.label, b))
            if b in d:
                flat[offsets[p] + j] = d[b]
    lay = OneHotLayout(space, None, (), space.labels, n_cand, input_size, offsets)

    def predict(codes: np.ndarray) -> np.ndarray:
        s = np.zeros(len(codes))
        for p in range(codes.shape[1]):  # sequential, as the per-arch sum: bit-equal
            s += flat[offsets[p] + codes[:, p]]
        if np.isnan(s).any():
            r = int(np.flatnonzero(np.isnan(s))[0])
            idx = offsets + codes[r]
            p = int(np.flatnonzero(np.isnan(flat[idx]))[0])
            lb, b = names[idx[p]]
            raise CalibrationError(f"BBSSP LUT has no entry for block {b!r} in layer {lb!r}")
        return lut.scale * s + lut.offset_ms

    return BatchPredictor(lay, "bbssp", _bbssp=predict)


def workload_space(fitted_on: str | None, space: Any) -> Any:
    """The space whose workloads a predictor fitted on the space named ``fitted_on`` (a saved corrector's ``space``;
    None: unknown) predicts for archs of ``space``.

    ``space`` itself when the names agree or ``fitted_on`` is None. Otherwise ``fitted_on`` must be a built-in space
    (or NB201 execution variant) with the same labels, a superset of ``space``'s candidates and the same macro
    network: then ``space`` with the fitted space's model (a search over ``nb201``, or a tuned sub-space of it, with a
    corrector fitted on ``nb201-unpruned`` predicts unpruned workloads). Anything else raises
    :class:`CalibrationError` naming both spaces."""
    if fitted_on is None or fitted_on == space.name:
        return space
    from dataclasses import replace

    from calibration.workloads import get_space, space_names

    err = CalibrationError(f"the latency model was fitted on space {fitted_on!r} and cannot predict archs of space "
                           f"{space.name!r}")
    if fitted_on not in space_names():
        raise err
    fitted = get_space(fitted_on)

    def macro(sp: Any) -> dict[str, Any]:
        d = dict(sp.model.to_dict())
        if d.get("kind") in ("nb201", *_VARIANT_OF_SPACE):
            d["kind"] = "nb201"  # execution variants share the macro network
        return d

    from spaces.core import holds_archs_of

    if not holds_archs_of(fitted, space) or macro(fitted) != macro(space):
        raise err
    return replace(space, model=fitted.model)


def predict_space(predictor: Any, space: Any, variant: str | None = None,
                  limit: int = 2_000_000) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, ms)`` of every arch of a small space (NB201: 15,625) in ``space.enumerate`` order."""
    return batch_predictor(predictor, space, variant).predict_all(limit)


__all__ = ["ArchLayout", "BatchPredictor", "NB201Layout", "OneHotLayout", "VARIANTS", "arch_layout",
           "backbone_layout", "batch_predictor", "layout_lut", "nb201_cell_masks", "nb201_layout", "predict_space",
           "workload_space"]
