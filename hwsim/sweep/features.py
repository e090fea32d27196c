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


def _kernel_sequences(networks: Sequence[Network], fuse_fn: Callable[[Network], tuple[Kernel, ...]]
                      ) -> list[tuple[Kernel, ...]]:
    """Fused kernels of each network; structurally equal networks are fused once."""
    done: dict[Hashable, tuple[Kernel, ...]] = {}
    out = []
    for net in networks:
        key = network_key(net)
        ks = done.get(key)
        if ks is None:
            ks = fuse_fn(net)
            done[key] = ks
        out.append(ks)
    return out


def network_features(networks: Sequence[Network], mechanisms: Mechanisms, cost_model: CostModel,
                     map_fn: Callable[[Callable[[Any], Any], list[Any]], Iterable[Any]] | None = None,
                     chunk: int = 512) -> NetworkFeatures:
    """Fuse every network once (with ``mechanisms`` and the template ``cost_model``) and count its features.

    ``map_fn(fn, items)`` (default: the builtin ``map``) may spread the fusion of network chunks over processes.
    """
    networks = list(networks)
    for i, n in enumerate(networks):
        if not isinstance(n, Network):
            raise SweepError(f"networks[{i}] must be a hwsim Network, got {type(n).__name__}")
    chunks = [networks[i:i + chunk] for i in range(0, len(networks), chunk)]
    job = _FuseChunk(mechanisms, cost_model)
    seqs: list[tuple[Kernel, ...]] = []
    for part in (map_fn or map)(job, chunks):
        seqs.extend(part)
    return features_from_kernels(seqs, [sum(math.prod(s) for _, s in n.inputs) for n in networks])


@dataclass(frozen=True)
class _FuseChunk:
    """Picklable callable: the kernel sequences of a chunk of networks."""

    mechanisms: Mechanisms
    cost_model: Any

    def __call__(self, nets: Sequence[Network]) -> list[tuple[Kernel, ...]]:
        return _kernel_sequences(nets, lambda n: fuse(n, self.mechanisms, self.cost_model))


def features_from_kernels(sequences: Sequence[Sequence[Kernel]], input_elements: Sequence[int]) -> NetworkFeatures:
    """Count distinct kernels and distinct consecutive pairs (CPU kernels included: their pairs save nothing,
    which the pair table says)."""
    kidx: dict[tuple[Any, ...], int] = {}
    reps: list[Kernel] = []
    pidx: dict[tuple[int, int], int] = {}
    row_key: dict[tuple[Any, ...], int] = {}
    row_of: list[int] = []
    rows: list[tuple[list[int], list[int], int]] = []
    for seq, n_in in zip(sequences, input_elements, strict=True):
        ids = []
        for k in seq:
            key = kernel_key(k)
            j = kidx.get(key)
            if j is None:
                j = kidx[key] = len(reps)
                reps.append(k)
            ids.append(j)
        rk = (tuple(ids), int(n_in))
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
    nk = len(reps)
    counts = np.zeros((len(rows), nk + len(pidx)), dtype=np.float64)
    for r, (ids, prs, _) in enumerate(rows):
        np.add.at(counts[r], np.asarray(ids, dtype=np.int64), 1.0)
        if prs:
            np.add.at(counts[r], nk + np.asarray(prs, dtype=np.int64), 1.0)
    return NetworkFeatures(tuple(reps), tuple(pidx), counts, np.array([x[2] for x in rows], dtype=np.float64),
                           np.asarray(row_of, dtype=np.int64))


__all__ = ["NetworkFeatures", "SweepError", "features_from_kernels", "fusion_signature", "kernel_key",
           "layer_key", "network_features", "network_key"]
