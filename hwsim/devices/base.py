"""The device interface shared by every accelerator model, and the ONE fusion/scheduling pass they all use.

A device is a black box with two views of a network, as a real board gives them:

* :meth:`Device.profile` -- one :class:`KernelProfile` row per executed kernel, as the board's per-layer
  profiler reports it (kernels run one at a time, as in a debug-mode profile);
* :meth:`Device.run` -- the end-to-end latency of the whole network (:class:`RunResult`).

Between the two lie the mechanisms of :class:`Mechanisms`, each switchable in the device config:

``fuse_conv_bn_act``
    a conv/linear kernel absorbs the batch norm and the activation that follow it (and any kernel absorbs
    an activation/batch norm that is the sole consumer of its output);
``fuse_conv_eltwise``
    a conv kernel absorbs the element-wise add that is the sole consumer of its output (the other operand
    is read from DRAM by the conv kernel);
``fuse_conv_pool``
    a conv kernel absorbs the pooling that is the sole consumer of its output;
``fuse_conv_depthwise``
    a (non-depthwise) conv kernel absorbs a depthwise conv that is the sole consumer of its output (after its
    batch norm/activation), with the depthwise conv's own batch norm and activation; the map between the two
    stays on chip. Only templates whose ``can_fuse_into_conv`` accepts the layer (the DPU, which runs the
    depthwise conv on its ALU engine pipelined behind the conv engine) do this;
``fuse_conv_global_pool``
    likewise for a global pooling that is the sole consumer of a conv kernel's output;
``fuse_layout``
    flatten/reshape and concatenation are eliminated (producers write straight into the consumer's buffer);
``overlap_weight_load``
    in :meth:`Device.run` the next kernel's weights are prefetched while the current kernel computes: the
    time hidden for kernel ``k+1`` is ``min(weight_ms[k+1] saved, idle_bus_ms[k])`` where
    ``idle_bus_ms[k] = max(0, compute_ms[k] - memory_ms[k])`` (see :func:`overlap_savings_ms`);
``kernel_overhead_cycles``
    fixed instruction/launch cycles per kernel (0 turns it off);
``shared_bandwidth``
    loads and stores share one DRAM bandwidth (memory time = (read + write) / bw); when off, reads and
    writes have separate channels (memory time = max(read, write) / bw);
``host_overhead_ms`` / ``host_ns_per_input_element``
    per-inference host work (pre/post-processing) added by :meth:`Device.run` only.

Hence ``run.latency_ms == sum(profile) - run.overlap_saved_ms + run.host_overhead_ms`` exactly, and with
every mechanism off ``run`` equals the sum of :meth:`Device.profile_isolated` over the layers.

A kernel's time is ``overhead + max(compute, memory)``: compute and DRAM transfers of one kernel overlap
(double buffering inside a kernel), which is what makes layers "memory bound" when traffic exceeds bandwidth.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import networkx as nx
import numpy as np

from hwsim.devices.params import check_params, non_negative, param, params_of, positive
from hwsim.errors import HwnasError
from hwsim.workload import (
    Activation,
    Concat,
    Conv2d,
    Elementwise,
    GlobalPool,
    Layer,
    Linear,
    MatMul,
    Network,
    Norm,
    Pool2d,
    Reshape,
)


class DeviceError(HwnasError):
    """Bad device config, unknown preset, or a layer the device cannot run."""


# ------------------------------------------------------------------------------------------------
# configuration shared by every device
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mechanisms:
    """Switches for the mechanisms that separate ``profile`` from ``run`` (see the module docstring).

    ``fuse_conv_depthwise`` / ``fuse_conv_global_pool`` (off by default) let a conv kernel hold the depthwise conv
    or global pooling after it, for templates whose cost model accepts it (``CostModel.can_fuse_into_conv``).

    ``cpu_fallback``: a layer the device cannot run becomes an explicit CPU kernel (as the Vitis AI compiler
    partitions a graph) instead of an error; its time is ``max(macs / cpu_gmacs_per_s, bytes / cpu_bandwidth)``
    plus ``cpu_ops_per_ns`` for non-MAC element operations.
    ``noise_std_fraction``: standard deviation of a multiplicative Gaussian factor applied to every kernel
    time (and the host term) to emulate run-to-run jitter of a real board; 0 (default) is off. Draws come from
    ``numpy.random.default_rng([noise_seed, trial])``, so a (seed, trial) pair is reproducible.
    """

    fuse_conv_bn_act: bool = param(True, bool)
    fuse_conv_eltwise: bool = param(True, bool)
    fuse_conv_pool: bool = param(True, bool)
    fuse_conv_depthwise: bool = param(False, bool)
    fuse_conv_global_pool: bool = param(False, bool)
    fuse_layout: bool = param(True, bool)
    overlap_weight_load: bool = param(True, bool)
    kernel_overhead_cycles: int = non_negative(0, int, "cycles", doc="fixed cycles per kernel")
    shared_bandwidth: bool = param(True, bool)
    host_overhead_ms: float = non_negative(0.0, float, "ms", doc="per-inference host time")
    host_ns_per_input_element: float = non_negative(0.0, float, "ns", doc="host time per input element")
    cpu_fallback: bool = param(False, bool)
    cpu_gmacs_per_s: float = positive(2.0, float, "GMAC/s", doc="host CPU MAC rate")
    cpu_bandwidth_gbps: float = positive(4.0, float, "GB/s", doc="host CPU memory bandwidth")
    noise_std_fraction: float = non_negative(0.0, float, doc="run-to-run jitter, standard deviation")
    noise_seed: int = non_negative(0, int, doc="seed of the jitter draws")

    @classmethod
    def switches(cls) -> tuple[str, ...]:
        """Names of the on/off mechanisms (the bool fields), in declaration order."""
        return tuple(p.name for p in params_of(cls) if p.kind is bool)

    def __post_init__(self) -> None:
        check_params(self, "mechanisms")

    def all_off(self) -> Mechanisms:
        """The same config with fusion, overlap, kernel overhead, shared bandwidth, host terms and noise off."""
        off = {name: False for name in self.switches() if name != "cpu_fallback"}
        return dataclasses.replace(self, **off, kernel_overhead_cycles=0, host_overhead_ms=0.0,
                                   host_ns_per_input_element=0.0, noise_std_fraction=0.0)

    @property
    def any_fusion(self) -> bool:
        return any(getattr(self, name) for name in self.switches() if name.startswith("fuse_"))


# ------------------------------------------------------------------------------------------------
# kernels: the output of the fusion pass
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kernel:
    """One executed kernel: a chain of fused layers.

    ``layers[0]`` is the anchor (the layer that decides the unit: conv, linear, pool, eltwise, ...).
    ``aliases`` are eliminated layout layers (flatten, concat) credited to this kernel for naming only.
    ``input_elements`` counts activation elements read from DRAM (produced outside the kernel, or graph
    inputs); ``output_elements`` those written to DRAM (consumed outside the kernel, or network outputs).
    ``on_cpu`` marks an explicit CPU-fallback kernel.
    """

    name: str
    layers: tuple[Layer, ...]
    input_elements: int
    output_elements: int
    aliases: tuple[str, ...] = ()
    on_cpu: bool = False

    @property
    def anchor(self) -> Layer:
        return self.layers[0]

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.layers) + self.aliases

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def ops(self) -> int:
        return sum(layer.ops for layer in self.layers)

    def members(self, kind: type[Layer]) -> tuple[Layer, ...]:
        """Fused members of a given layer class (anchor excluded)."""
        return tuple(layer for layer in self.layers[1:] if isinstance(layer, kind))


def isolated_kernel(layer: Layer) -> Kernel:
    """The kernel a compiler makes of ``layer`` alone: every input read and the output written."""
    return Kernel(layer.name, (layer,), layer.input_elements, layer.output_elements)


@dataclass(frozen=True)
class KernelCost:
    """What a device's cost model says about one kernel, before scheduling.

    ``compute_cycles``: cycles of the device clock spent computing (all fused members included);
    ``dram_read_bytes`` / ``dram_write_bytes``: DRAM traffic including re-reads forced by on-chip buffers;
    ``weight_read_bytes``: the part of the reads that are weights (what ``overlap_weight_load`` can prefetch);
    ``unit``: the engine that runs it (``conv``, ``dwconv``, ``fc``, ``pool``, ``eltwise``, ``misc``, ...);
    ``energy_pj``: dynamic energy in picojoules, or None where the device models none.
    """

    compute_cycles: float
    dram_read_bytes: float
    dram_write_bytes: float
    weight_read_bytes: float
    unit: str
    energy_pj: float | None = None

    def __post_init__(self) -> None:
        for name in ("compute_cycles", "dram_read_bytes", "dram_write_bytes", "weight_read_bytes"):
            v = getattr(self, name)
            if not math.isfinite(v) or v < 0:
                raise DeviceError(f"kernel cost {name} must be finite and >= 0, got {v!r}")
        if self.weight_read_bytes > self.dram_read_bytes + 1e-9:
            raise DeviceError("kernel cost weight_read_bytes exceeds dram_read_bytes")


@dataclass(frozen=True)
class KernelProfile:
    """One row of a board profile. Times in milliseconds, traffic in bytes.

    ``latency_ms = overhead_ms + max(compute_ms, memory_ms)``; ``weight_ms`` is how much ``memory_ms`` shrinks
    when the weights are already on chip (what a prefetch can save); ``utilization`` is MACs over (peak MACs/cycle x kernel cycles), 0 for kernels
    without MACs; ``bound`` is ``compute``, ``memory`` or ``overhead`` (whichever dominates).
    """

    name: str
    layers: tuple[str, ...]
    unit: str
    latency_ms: float
    compute_ms: float
    memory_ms: float
    weight_ms: float
    overhead_ms: float
    macs: int
    utilization: float
    dram_read_bytes: int
    dram_write_bytes: int
    energy_mj: float | None
    on_cpu: bool = False

    @property
    def bound(self) -> str:
        if self.overhead_ms > max(self.compute_ms, self.memory_ms):
            return "overhead"
        return "memory" if self.memory_ms > self.compute_ms else "compute"

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["layers"] = list(self.layers)
        d["bound"] = self.bound
        return d


@dataclass(frozen=True)
class Profile:
    """A board-style profile of one network: kernels in execution order."""

    device: str
    network: str
    kernels: tuple[KernelProfile, ...]

    @property
    def latency_ms_sum(self) -> float:
        return math.fsum(k.latency_ms for k in self.kernels)

    def kernel_of(self, layer_name: str) -> KernelProfile:
        """The kernel that executes ``layer_name``."""
        for k in self.kernels:
            if layer_name in k.layers:
                return k
        raise KeyError(f"no kernel executes layer {layer_name!r}")


@dataclass(frozen=True)
class RunResult:
    """End-to-end run of one network (milliseconds, millijoules).

    ``latency_ms = kernel_sum_ms - overlap_saved_ms + host_overhead_ms``; ``device_ms`` is the accelerator
    part (``kernel_sum_ms - overlap_saved_ms``). ``energy_mj`` is the accelerator's energy (CPU-fallback kernels
    and the host excluded), None where the device models no energy.
    """

    device: str
    network: str
    latency_ms: float
    device_ms: float
    kernel_sum_ms: float
    overlap_saved_ms: float
    host_overhead_ms: float
    kernel_count: int
    energy_mj: float | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------------------------------------
# the cost-model protocol each device implements
# ------------------------------------------------------------------------------------------------
@runtime_checkable
class CostModel(Protocol):
    """What a device template provides: a validated config plus a pure per-kernel cost function."""

    @property
    def clock_mhz(self) -> float: ...

    @property
    def peak_macs_per_cycle(self) -> float: ...

    @property
    def dram_bytes_per_cycle(self) -> float: ...

    @property
    def static_power_mw(self) -> float | None: ...

    def unsupported(self, layer: Layer) -> str | None:
        """Why the device cannot run ``layer``, or None when it can."""
        ...

    def can_fuse_activation(self, op: str) -> bool:
        """Whether an activation ``op`` can run in-line at the end of a kernel."""
        ...

    def can_fuse_into_conv(self, layer: Layer) -> bool:
        """Whether a depthwise conv or global pooling ``layer`` can run inside a conv kernel (on a side engine).

        Consulted only when ``fuse_conv_depthwise`` / ``fuse_conv_global_pool`` is on; a template whose
        :meth:`kernel_cost` does not cost such members returns False.
        """
        ...

    def kernel_cost(self, kernel: Kernel) -> KernelCost: ...


@runtime_checkable
class Device(Protocol):
    """Every accelerator model: two views of a network and an isolated-layer view."""

    name: str
    mechanisms: Mechanisms

    def profile(self, network: Network, trial: int = 0) -> Profile: ...

    def run(self, network: Network, trial: int = 0) -> RunResult: ...

    def profile_isolated(self, layer: Layer) -> KernelProfile: ...


# ------------------------------------------------------------------------------------------------
# the shared fusion pass
# ------------------------------------------------------------------------------------------------
_ANCHORS = (Conv2d, Linear, MatMul)


def fuse(network: Network, mech: Mechanisms, cost_model: CostModel) -> tuple[Kernel, ...]:
    """Group the layers of ``network`` into kernels (see the module docstring for the rules).

    Layers the device cannot run become single-layer CPU kernels when ``mech.cpu_fallback`` is set and
    raise :class:`DeviceError` otherwise. Kernels come back in a dependency-respecting order (stable:
    ties follow the network's topological order of each kernel's first layer).
    """
    layers = network.layers
    pos = {layer.name: i for i, layer in enumerate(layers)}
    consumers: dict[str, list[str]] = {layer.name: [] for layer in layers}
    for node in network.nodes:
        for src in node.inputs:
            if src in consumers:
                consumers[src].append(node.layer.name)
    outputs = set(network.outputs)

    cpu: set[str] = set()
    for layer in layers:
        reason = cost_model.unsupported(layer)
        if reason is not None:
            if not mech.cpu_fallback:
                raise DeviceError(f"layer {layer.name!r} ({layer.kind}): {reason} "
                                  f"(set mechanisms.cpu_fallback = true to run it on the host CPU)")
            cpu.add(layer.name)

    # layout aliases: eliminated flatten/reshape and channel concats
    alias: set[str] = set()
    if mech.fuse_layout:
        for layer in layers:
            if layer.name in cpu:
                continue
            flat = isinstance(layer, Reshape) and layer.op in ("flatten", "reshape")
            cat = isinstance(layer, Concat) and layer.param_inputs == 0 and layer.name not in outputs
            if flat or cat:
                if any(p in pos for p in network.predecessors(layer.name)):
                    alias.add(layer.name)

    def sole_consumer(name: str) -> str | None:
        cs = consumers[name]
        if len(cs) != 1 or name in outputs:
            return None
        c = cs[0]
        return None if c in cpu or c in alias else c

    group_of: dict[str, int] = {}
    groups: list[list[Layer]] = []
    for layer in layers:
        if layer.name in group_of or layer.name in alias:
            continue
        members = [layer]
        group_of[layer.name] = len(groups)
        if layer.name not in cpu:
            has = {"bn": False, "act": False, "add": False, "pool": False, "dw": False}
            tail = layer
            while True:
                nxt_name = sole_consumer(tail.name)
                if nxt_name is None or nxt_name in group_of:
                    break
                nxt = network[nxt_name]
                if not _may_join(nxt, members, has, tail, network, pos, mech, cost_model):
                    break
                members.append(nxt)
                group_of[nxt_name] = len(groups)
                tail = nxt
        groups.append(members)

    # where aliases are credited: the kernel of their first producing layer (through other aliases)
    alias_owner: dict[str, int] = {}
    for layer in layers:
        if layer.name in alias:
            srcs = [p for p in network.predecessors(layer.name)]
            first = min(srcs, key=pos.__getitem__)
            alias_owner[layer.name] = alias_owner[first] if first in alias else group_of[first]

    # traffic: activation elements crossing kernel boundaries
    def owner(name: str) -> int | None:
        if name in alias:
            return None  # an alias is never inside a kernel: reads through it come from DRAM
        return group_of.get(name)

    kernels: list[Kernel] = []
    for gi, members in enumerate(groups):
        names = {m.name for m in members}
        in_el = 0
        for m in members:
            node = network.node(m.name)
            for src, shape in zip(node.inputs, m.input_shapes):
                if src not in names or owner(src) != gi:
                    in_el += math.prod(shape)
        out_el = 0
        for m in members:
            if m.name in outputs or any(c not in names for c in consumers[m.name]):
                out_el += m.output_elements
        aliases = tuple(a for a, o in alias_owner.items() if o == gi)
        kernels.append(Kernel(members[0].name, tuple(members), in_el, out_el, aliases,
                              on_cpu=members[0].name in cpu))

    # order kernels by dependencies (a fused add may follow a kernel that comes later in layer order)
    g = nx.DiGraph()
    g.add_nodes_from(range(len(kernels)))
    def producer_groups(name: str) -> list[int]:
        if name in alias:
            return [x for p in network.predecessors(name) for x in producer_groups(p)]
        return [group_of[name]] if name in group_of else []
    for gi, members in enumerate(groups):
        for m in members:
            for src in network.predecessors(m.name):
                for pg in producer_groups(src):
                    if pg != gi:
                        g.add_edge(pg, gi)
    if not nx.is_directed_acyclic_graph(g):  # cannot happen with the sole-consumer rules; guard anyway
        raise DeviceError(f"network {network.name!r}: fusion produced a cyclic kernel graph")
    order = list(nx.lexicographical_topological_sort(g, key=lambda i: pos[groups[i][0].name]))
    return tuple(kernels[i] for i in order)


def _may_join(nxt: Layer, members: list[Layer], has: dict[str, bool], tail: Layer, network: Network,
              pos: Mapping[str, int], mech: Mechanisms, cost_model: CostModel) -> bool:
    """Whether ``nxt`` (the sole consumer of ``tail``) fuses into the kernel ``members``."""
    anchor = members[0]
    conv_like = isinstance(anchor, _ANCHORS)
    if isinstance(nxt, Norm) and nxt.op == "batchnorm":
        ok = mech.fuse_conv_bn_act and not has["bn"] and not has["act"] and not has["add"] and not has["pool"]
        if ok:
            has["bn"] = True
        return ok
    if isinstance(nxt, Activation):
        ok = mech.fuse_conv_bn_act and not has["act"] and cost_model.can_fuse_activation(nxt.op)
        if ok:
            has["act"] = True
        return ok
    if isinstance(nxt, Elementwise):
        if not (conv_like and mech.fuse_conv_eltwise and nxt.op == "add" and not has["add"] and not has["pool"]
                and not has["act"] and nxt.param_inputs == 0 and len(nxt.input_shapes) == 2
                and nxt.output_shape == tail.output_shape):
            return False
        # join only through the operand produced last, so the other operand is ready when the kernel runs
        preds = network.node(nxt.name).inputs
        last = max(preds, key=lambda s: pos.get(s, -1))
        if last != tail.name or preds.count(tail.name) != 1:
            return False
        has["add"] = True
        has["act"] = False  # an activation may follow the add
        return True
    if isinstance(nxt, Pool2d):
        ok = conv_like and mech.fuse_conv_pool and not has["pool"] and not has["add"]
        if ok:
            has["pool"] = True
        return ok
    dense_conv = isinstance(anchor, Conv2d) and not anchor.is_depthwise
    if isinstance(nxt, Conv2d) and nxt.is_depthwise:
        ok = (dense_conv and mech.fuse_conv_depthwise and not has["dw"] and not has["add"] and not has["pool"]
              and cost_model.can_fuse_into_conv(nxt))
        if ok:
            has.update(dw=True, bn=False, act=False)  # the depthwise conv's own BN and activation may follow
        return ok
    if isinstance(nxt, GlobalPool):
        ok = (dense_conv and mech.fuse_conv_global_pool and not has["pool"] and not has["add"]
              and cost_model.can_fuse_into_conv(nxt))
        if ok:
            has["pool"] = True
        return ok
    return False


# ------------------------------------------------------------------------------------------------
# the shared scheduler
# ------------------------------------------------------------------------------------------------
def _cpu_profile(kernel: Kernel, mech: Mechanisms, bytes_per_element: int) -> KernelProfile:
    traffic = (kernel.input_elements + kernel.params) * bytes_per_element, kernel.output_elements * bytes_per_element
    compute_ms = kernel.macs / (mech.cpu_gmacs_per_s * 1e6) + kernel.ops / (mech.cpu_gmacs_per_s * 1e6)
    memory_ms = (traffic[0] + traffic[1]) / (mech.cpu_bandwidth_gbps * 1e6)
    return KernelProfile(kernel.name, kernel.layer_names, "cpu", max(compute_ms, memory_ms), compute_ms, memory_ms,
                         0.0, 0.0, kernel.macs, 0.0, int(traffic[0]), int(traffic[1]), None, on_cpu=True)


def time_kernel(kernel: Kernel, cost_model: CostModel, mech: Mechanisms, bytes_per_element: int = 1) -> KernelProfile:
    """Turn a kernel's :class:`KernelCost` into a profile row (pure; no noise)."""
    if kernel.on_cpu:
        return _cpu_profile(kernel, mech, bytes_per_element)
    cost = cost_model.kernel_cost(kernel)
    cyc_ms = 1.0 / (cost_model.clock_mhz * 1e3)  # milliseconds per cycle
    bw = cost_model.dram_bytes_per_cycle
    rd, wr, w = cost.dram_read_bytes, cost.dram_write_bytes, cost.weight_read_bytes
    if mech.shared_bandwidth:
        mem_cycles, mem_no_w = (rd + wr) / bw, (rd - w + wr) / bw
    else:
        mem_cycles, mem_no_w = max(rd, wr) / bw, max(rd - w, wr) / bw
    compute_ms = cost.compute_cycles * cyc_ms
    memory_ms = mem_cycles * cyc_ms
    weight_ms = (mem_cycles - mem_no_w) * cyc_ms
    overhead_ms = mech.kernel_overhead_cycles * cyc_ms
    latency_ms = overhead_ms + max(compute_ms, memory_ms)
    total_cycles = latency_ms / cyc_ms
    util = kernel.macs / (cost_model.peak_macs_per_cycle * total_cycles) if total_cycles > 0 and kernel.macs else 0.0
    energy = None if cost.energy_pj is None else cost.energy_pj * 1e-9
    return KernelProfile(kernel.name, kernel.layer_names, cost.unit, latency_ms, compute_ms, memory_ms, weight_ms,
                         overhead_ms, kernel.macs, min(util, 1.0), int(round(cost.dram_read_bytes)),
                         int(round(cost.dram_write_bytes)), energy)


def overlap_savings_ms(kernels: Sequence[KernelProfile], mech: Mechanisms) -> float:
    """Time hidden by prefetching kernel k+1's weights during kernel k (0 when the mechanism is off).

    With its weights already on chip, kernel k+1 would take ``overhead + max(compute, memory - weight_ms)``;
    the difference is what a prefetch can hide, and it can hide at most the bus time kernel k leaves idle,
    ``max(0, compute_k - memory_k)``.
    CPU kernels neither prefetch nor are prefetched across.
    """
    if not mech.overlap_weight_load:
        return 0.0
    saved = []
    for prev, nxt in zip(kernels, kernels[1:]):
        if prev.on_cpu or nxt.on_cpu or nxt.weight_ms <= 0:
            continue
        reduced_mem = max(0.0, nxt.memory_ms - nxt.weight_ms)
        gain = max(nxt.compute_ms, nxt.memory_ms) - max(nxt.compute_ms, reduced_mem)
        idle = max(0.0, prev.compute_ms - prev.memory_ms)
        saved.append(min(gain, idle))
    return math.fsum(saved)


class AcceleratorDevice:
    """A :class:`Device` made of a cost model (the template: DPU, Eyeriss, ...) and its mechanisms.

    Every template shares this class, the fusion pass :func:`fuse` and the scheduler; only
    :meth:`CostModel.kernel_cost` differs. Instances are immutable and hold no mutable state.
    """

    __slots__ = ("name", "cost_model", "mechanisms", "bytes_per_element", "description", "silicon")

    def __init__(self, name: str, cost_model: CostModel, mechanisms: Mechanisms, bytes_per_element: int = 1,
                 description: str = "", silicon: Any = None) -> None:
        if not isinstance(name, str) or not name:
            raise DeviceError(f"device name must be a non-empty string, got {name!r}")
        if not isinstance(mechanisms, Mechanisms):
            raise DeviceError(f"device {name!r}: mechanisms must be a Mechanisms, got {type(mechanisms).__name__}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "cost_model", cost_model)
        object.__setattr__(self, "mechanisms", mechanisms)
        object.__setattr__(self, "bytes_per_element", int(bytes_per_element))
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "silicon", silicon)  # hwsim.silicon.SiliconOverrides of a [silicon] table, or None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def with_mechanisms(self, mechanisms: Mechanisms) -> AcceleratorDevice:
        """The same device with other mechanism switches."""
        return AcceleratorDevice(self.name, self.cost_model, mechanisms, self.bytes_per_element, self.description,
                                 self.silicon)

    def kernels(self, network: Network) -> tuple[Kernel, ...]:
        """The fused kernels of ``network`` in execution order."""
        return fuse(network, self.mechanisms, self.cost_model)

    def _noise(self, trial: int, n: int) -> np.ndarray:
        if not isinstance(trial, int) or isinstance(trial, bool) or trial < 0:
            raise DeviceError(f"trial must be a non-negative integer, got {trial!r}")
        sd = self.mechanisms.noise_std_fraction
        if sd == 0:
            return np.ones(n)
        rng = np.random.default_rng([self.mechanisms.noise_seed, trial])
        return np.clip(1.0 + sd * rng.standard_normal(n), 0.05, None)

    def profile(self, network: Network, trial: int = 0) -> Profile:
        """Per-kernel latencies as the board profiler reports them (``trial`` selects the noise draw)."""
        kernels = self.kernels(network)
        rows = [time_kernel(k, self.cost_model, self.mechanisms, self.bytes_per_element) for k in kernels]
        factors = self._noise(trial, len(rows) + 1)
        if self.mechanisms.noise_std_fraction:
            rows = [_scale(r, float(f)) for r, f in zip(rows, factors)]
        return Profile(self.name, network.name, tuple(rows))

    def host_overhead_ms(self, network: Network) -> float:
        """Per-inference host time: constant plus a per-input-element preprocessing cost."""
        m = self.mechanisms
        elements = sum(math.prod(shape) for _, shape in network.inputs)
        return m.host_overhead_ms + m.host_ns_per_input_element * elements * 1e-6

    def run(self, network: Network, trial: int = 0) -> RunResult:
        """End-to-end latency (and energy where modelled) of one inference of ``network``."""
        prof = self.profile(network, trial)
        kernel_sum = prof.latency_ms_sum
        saved = overlap_savings_ms(prof.kernels, self.mechanisms)
        host = self.host_overhead_ms(network)
        if self.mechanisms.noise_std_fraction:
            host *= float(self._noise(trial, len(prof.kernels) + 1)[-1])
        device_ms = kernel_sum - saved
        energies = [k.energy_mj for k in prof.kernels if not k.on_cpu]
        energy: float | None = None
        if energies and all(e is not None for e in energies):
            static = self.cost_model.static_power_mw
            energy = math.fsum(energies) + (static * device_ms * 1e-6 if static else 0.0)  # mW * ms = uJ
        return RunResult(self.name, network.name, device_ms + host, device_ms, kernel_sum, saved, host,
                         len(prof.kernels), energy)

    def profile_isolated(self, layer: Layer) -> KernelProfile:
        """``layer`` compiled and run alone, as a per-layer latency LUT measures it (no noise)."""
        if not isinstance(layer, Layer):
            raise DeviceError(f"profile_isolated expects a Layer, got {type(layer).__name__}")
        reason = self.cost_model.unsupported(layer)
        kernel = isolated_kernel(layer)
        if reason is not None:
            if not self.mechanisms.cpu_fallback:
                raise DeviceError(f"layer {layer.name!r} ({layer.kind}): {reason}")
            kernel = dataclasses.replace(kernel, on_cpu=True)
        return time_kernel(kernel, self.cost_model, self.mechanisms, self.bytes_per_element)


def _scale(row: KernelProfile, f: float) -> KernelProfile:
    return dataclasses.replace(row, latency_ms=row.latency_ms * f, compute_ms=row.compute_ms * f,
                               memory_ms=row.memory_ms * f, weight_ms=row.weight_ms * f,
                               overhead_ms=row.overhead_ms * f)


# ------------------------------------------------------------------------------------------------
# helpers shared by the templates
# ------------------------------------------------------------------------------------------------
def ceil_div(a: int, b: int) -> int:
    """Integer ceiling of a / b for positive b."""
    return -(-a // b)


@dataclass(frozen=True)
class Traffic:
    """DRAM traffic of one kernel in bytes (``read_bytes`` includes re-reads; ``weight_bytes`` is one load of the
    weights, the part a prefetch can move ahead)."""

    read_bytes: float
    write_bytes: float
    weight_bytes: float


def buffered_traffic(kernel: Kernel, bytes_per_element: int, act_buffer_bytes: float,
                     weight_buffer_bytes: float) -> Traffic:
    """DRAM traffic when on-chip buffers may be too small to hold a kernel's inputs or weights.

    Two loop orders are possible: keep a weight tile on chip and stream the inputs once per weight tile
    (inputs re-read ``ceil(weights / weight_buffer)`` times), or keep an input tile and stream the weights
    once per input tile (weights re-read ``ceil(inputs / act_buffer)`` times). The compiler picks the cheaper.
    """
    inp = kernel.input_elements * bytes_per_element
    w = kernel.params * bytes_per_element
    out = kernel.output_elements * bytes_per_element
    w_tiles = max(1, ceil_div(int(w), max(1, int(weight_buffer_bytes)))) if w else 1
    i_tiles = max(1, ceil_div(int(inp), max(1, int(act_buffer_bytes)))) if inp else 1
    return Traffic(min(inp * w_tiles + w, inp + w * i_tiles), out, w)


__all__ = [
    "AcceleratorDevice", "CostModel", "Device", "DeviceError", "Kernel", "KernelCost", "KernelProfile",
    "Mechanisms", "Profile", "RunResult", "Traffic", "buffered_traffic", "ceil_div", "fuse", "isolated_kernel",
    "overlap_savings_ms", "time_kernel",
]
