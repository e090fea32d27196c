"""Networks as linear features of the device pipeline: distinct kernels, distinct consecutive kernel pairs.

:meth:`hwsim.devices.base.AcceleratorDevice.run` is ``sum(profile) - overlap_saved_ms + host``. Each profile row
depends only on its kernel (layer shapes and DRAM-crossing elements; names play no part) and the device; the
overlap term is a sum over consecutive kernel pairs of a function of the two rows; the host term is
``host_overhead_ms + host_ns_per_input_element * input_elements * 1e-6``. So, with kernels fused ONCE per network
for a fixed fusion behaviour (mechanisms + template), the latency of every (network, device) pair is

    latency[n, h] = A[n, :] @ T[:, h]

with ``A`` counting, per network, its distinct kernels, its distinct consecutive pairs, a constant 1 and its
input elements, and ``T`` holding per device the kernel latencies, minus the pair savings, the host constant and
the host per-element cost. :class:`NetworkFeatures` holds ``A`` and the distinct kernels and pairs.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import operator
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hwsim.devices.base import AcceleratorDevice, CostModel, Kernel, Mechanisms, fuse
from hwsim.errors import HwnasError
from hwsim.workload import Layer, Network


class SweepError(HwnasError):
    """Bad sweep input (networks, hardware space, result file) or a failed decomposition check."""


_GETTERS: dict[type, Callable[[Layer], tuple[Any, ...]]] = {}


def _field_getter(tp: type) -> Callable[[Layer], tuple[Any, ...]]:
    """A C-level getter of every field of ``tp`` except ``name``, as a tuple."""
    names = tuple(f.name for f in dataclasses.fields(tp) if f.name != "name")
    if not names:
        return lambda _: ()
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda x: (one(x),)
    return operator.attrgetter(*names)


def layer_key(layer: Layer) -> tuple[Any, ...]:
    """A hashable key of a layer's type and every field except its name (what cost models read)."""
    tp = type(layer)
    get = _GETTERS.get(tp)
    if get is None:
        get = _GETTERS[tp] = _field_getter(tp)
    return (tp, get(layer))


def kernel_key(kernel: Kernel) -> tuple[Any, ...]:
    """Name-free key of a kernel: equal keys get equal profile rows on every device."""
    return (tuple(layer_key(m) for m in kernel.layers), kernel.input_elements, kernel.output_elements,
            kernel.on_cpu)


def network_key(network: Network) -> Hashable:
    """Structural key of a network (graph inputs, nodes with their wiring, outputs; not its name): equal keys
    fuse into equal kernels."""
    return (network.inputs, network.nodes, network.outputs)


def fusion_signature(device: AcceleratorDevice) -> tuple[Any, ...]:
    """What decides the fusion of a network on ``device``: the template (cost-model class) and the mechanisms that
    :func:`hwsim.devices.base.fuse` reads. Devices with equal signatures fuse every network alike (an assumption
    about templates whose capability checks do not depend on their sizes; :func:`hwsim.sweep.sweep` can verify
    it on sampled pairs, and the tests do)."""
    m = device.mechanisms
    fuse_fields = tuple((n, getattr(m, n)) for n in Mechanisms.switches() if n.startswith("fuse_"))
    return (type(device.cost_model).__module__, type(device.cost_model).__qualname__, fuse_fields, m.cpu_fallback)


@dataclass(frozen=True)
class NetworkFeatures:
    """The feature matrix of a network list for one fusion signature.

    ``kernels``: one representative :class:`Kernel` per distinct kernel key; ``pairs``: distinct consecutive
    pairs as (index of previous kernel, index of next kernel) into ``kernels``; networks with the same kernel
    sequence and input size share a row: ``unique_counts`` float64 ``[n_rows, n_kernels + n_pairs]`` occurrence
    counts, ``unique_input_elements`` ``[n_rows]`` graph-input elements (for the host term), ``row_of``
    ``[n_net]`` the row of each network.
    """

    kernels: tuple[Kernel, ...]
    pairs: tuple[tuple[int, int], ...]
    unique_counts: np.ndarray
    unique_input_elements: np.ndarray
    row_of: np.ndarray

    @property
    def n_features(self) -> int:
        return len(self.kernels) + len(self.pairs)

    @property
    def n_networks(self) -> int:
        return len(self.row_of)

    @property
    def counts(self) -> np.ndarray:
        """``[n_net, n_features]`` counts of every network."""
        return self.unique_counts[self.row_of]

    @property
    def input_elements(self) -> np.ndarray:
        return self.unique_input_elements[self.row_of]


def network_features(networks: Sequence[Network], mechanisms: Mechanisms, cost_model: CostModel,
                     map_fn: Callable[[Callable[[Any], Any], list[Any]], Iterable[Any]] | None = None,
                     chunk: int = 512, workers: int = 1) -> NetworkFeatures:
    """Fuse every structurally distinct network once (with ``mechanisms`` and the template ``cost_model``) and
    count its features.

    Parallel fusion: ``workers > 1`` forks that many local processes (the networks are inherited, not sent;
    POSIX only, else in this process); or ``map_fn(fn, items)`` spreads chunks of networks (sent pickled) over
    any executor. Workers return kernel ids per network plus each distinct kernel once.
    """
    networks = list(networks)
    for i, n in enumerate(networks):
        if not isinstance(n, Network):
            raise SweepError(f"networks[{i}] must be a hwsim Network, got {type(n).__name__}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SweepError(f"workers must be a positive integer, got {workers!r}")
    nets = _Interner()
    which = [nets.index(network_key(n), n) for n in networks]
    distinct: list[Network] = nets.items
    job = _FuseChunk(mechanisms, cost_model)
    ranges = [(i, min(i + chunk, len(distinct))) for i in range(0, len(distinct), chunk)]
    if workers > 1 and len(ranges) > 1 and "fork" in multiprocessing.get_all_start_methods():
        parts = _fork_map(job, distinct, ranges, workers)
    elif map_fn is not None:
        parts = list(map_fn(job, [distinct[a:b] for a, b in ranges]))
    else:
        parts = [job(distinct[a:b]) for a, b in ranges]
    kernels = _Interner()
    seqs: list[tuple[int, ...]] = []
    for local_seqs, local_keys, local_kernels in parts:
        to_global = [kernels.index(key, k) for key, k in zip(local_keys, local_kernels)]
        seqs.extend(tuple(to_global[i] for i in s) for s in local_seqs)
    n_in = [sum(math.prod(s) for _, s in n.inputs) for n in networks]
    return _count(tuple(kernels.items), [seqs[j] for j in which], n_in)


class _Interner:
    """First-seen numbering: ``index(key, item)`` gives ``key`` its id on first sight (keeping ``item`` as the
    representative) and returns the same id afterwards."""

    def __init__(self) -> None:
        self.ids: dict[Hashable, int] = {}
        self.keys: list[Hashable] = []
        self.items: list[Any] = []

    def index(self, key: Hashable, item: Any) -> int:
        j = self.ids.get(key)
        if j is None:
            j = self.ids[key] = len(self.keys)
            self.keys.append(key)
            self.items.append(item)
        return j


_FORK_NETS: list[Network] = []  # the networks a forked worker reads (set in the parent just before forking)


def _fork_chunk(item: tuple[Any, int, int]) -> tuple[list[tuple[int, ...]], list[tuple[Any, ...]], list[Kernel]]:
    job, a, b = item
    return job(_FORK_NETS[a:b])


def _fork_map(job: Any, nets: list[Network], ranges: list[tuple[int, int]], workers: int) -> list[Any]:
    global _FORK_NETS
    _FORK_NETS = nets
    try:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(workers, len(ranges))) as pool:
            return pool.map(_fork_chunk, [(job, a, b) for a, b in ranges], chunksize=1)
    finally:
        _FORK_NETS = []


@dataclass(frozen=True)
class _FuseChunk:
    """Picklable callable: the kernel sequences of a chunk of networks, compactly: per network its local kernel
    ids, and each distinct kernel of the chunk once (key and representative)."""

    mechanisms: Mechanisms
    cost_model: Any

    def __call__(self, nets: Sequence[Network]) -> tuple[list[tuple[int, ...]], list[tuple[Any, ...]], list[Kernel]]:
        local = _Interner()
        seqs = [tuple(local.index(kernel_key(k), k) for k in fuse(net, self.mechanisms, self.cost_model))
                for net in nets]
        return seqs, local.keys, local.items


def features_from_kernels(sequences: Sequence[Sequence[Kernel]], input_elements: Sequence[int]) -> NetworkFeatures:
    """Count distinct kernels and distinct consecutive pairs of given kernel sequences (CPU kernels included:
    their pairs save nothing, which the pair table says)."""
    kernels = _Interner()
    seqs = [tuple(kernels.index(kernel_key(k), k) for k in seq) for seq in sequences]
    return _count(tuple(kernels.items), seqs, input_elements)


def _count(kernels: tuple[Kernel, ...], seqs: Sequence[tuple[int, ...]], input_elements: Sequence[int]
           ) -> NetworkFeatures:
    """Rows of counts; networks with equal (kernel-id sequence, input elements) share a row."""
    pidx: dict[tuple[int, int], int] = {}
    row_key: dict[tuple[Any, ...], int] = {}
    row_of: list[int] = []
    rows: list[tuple[tuple[int, ...], list[int], int]] = []
    for ids, n_in in zip(seqs, input_elements, strict=True):
        rk = (ids, int(n_in))
        r = row_key.get(rk)
        if r is None:
            r = row_key[rk] = len(rows)
            prs = []
            for a, b in zip(ids, ids[1:]):
                p = pidx.get((a, b))
                if p is None:
                    p = pidx[(a, b)] = len(pidx)
                prs.append(p)
            rows.append((ids, prs, int(n_in)))
        row_of.append(r)
    nk = len(kernels)
    counts = np.zeros((len(rows), nk + len(pidx)), dtype=np.float64)
    for r, (ids, prs, _) in enumerate(rows):
        if ids:
            np.add.at(counts[r], np.asarray(ids, dtype=np.int64), 1.0)
        if prs:
            np.add.at(counts[r], nk + np.asarray(prs, dtype=np.int64), 1.0)
    return NetworkFeatures(kernels, tuple(pidx), counts, np.array([x[2] for x in rows], dtype=np.float64),
                           np.asarray(row_of, dtype=np.int64))


__all__ = ["NetworkFeatures", "SweepError", "features_from_kernels", "fusion_signature", "kernel_key",
           "layer_key", "network_features", "network_key"]
