"""Fake backends for calibration tests (nn-Meter style): devices whose true latency rule is known exactly."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from hwsim.devices.base import KernelProfile, Profile, RunResult
from hwsim.workload import Activation, Conv2d, Layer, Network, NetworkBuilder


def fake_layer_ms(layer: Layer) -> float:
    """Isolated time of a layer on the fake board: 1 ms per GMAC, 0.1 ms per M output elements, 0.01 ms launch."""
    return layer.macs * 1e-6 + layer.output_elements * 1e-7 + 0.01


@dataclass(frozen=True)
class FusingFakeDevice:
    """Known rules: a ReLU that directly follows a conv is fused (costs nothing); ``overhead_ms`` per inference.

    ``calls`` counts profile_isolated calls (a list, only for cache tests).
    """

    name: str = "fake-fusing"
    overhead_ms: float = 0.5
    fuse: bool = True
    calls: list[str] = field(default_factory=list, compare=False)

    def profile_isolated(self, layer: Layer) -> KernelProfile:
        self.calls.append(layer.name)
        ms = fake_layer_ms(layer)
        return KernelProfile(layer.name, (layer.name,), "fake", ms, ms, 0.0, 0.0, 0.0, layer.macs, 0.0, 0, 0, None)

    def profile(self, network: Network, trial: int = 0) -> Profile:
        rows: list[KernelProfile] = []
        fused_into: dict[str, str] = {}
        for node in network.nodes:
            layer = node.layer
            src = node.inputs[0] if node.inputs else None
            if (self.fuse and isinstance(layer, Activation) and src in fused_into.values()
                    and isinstance(network[src], Conv2d) and len(network.successors(src)) == 1):
                k = next(i for i, r in enumerate(rows) if r.name == src)
                r = rows[k]
                rows[k] = KernelProfile(r.name, r.layers + (layer.name,), r.unit, r.latency_ms, r.compute_ms, 0.0,
                                        0.0, 0.0, r.macs, 0.0, 0, 0, None)
                continue
            ms = fake_layer_ms(layer)
            rows.append(KernelProfile(layer.name, (layer.name,), "fake", ms, ms, 0.0, 0.0, 0.0, layer.macs, 0.0, 0, 0,
                                      None))
            fused_into[layer.name] = layer.name
        return Profile(self.name, network.name, tuple(rows))

    def run(self, network: Network, trial: int = 0) -> RunResult:
        prof = self.profile(network)
        s = math.fsum(k.latency_ms for k in prof.kernels)
        return RunResult(self.name, network.name, s + self.overhead_ms, s, s, 0.0, self.overhead_ms, len(prof.kernels),
                         None)


def small_net(name: str, widths: tuple[int, ...], kernel: int = 3, size: int = 16, pool: bool = False) -> Network:
    """A conv-ReLU chain with the given widths (and optional avg pool), global pool and linear head."""
    b = NetworkBuilder(name, (3, size, size))
    x = b.input
    for w in widths:
        x = b.relu(b.conv(x, w, kernel, padding=kernel // 2))
        if pool:
            x = b.pool(x, "avg", 3, 1, 1)
    x = b.flatten(b.global_pool(x))
    return b.build([b.linear(x, 10)])


@pytest.fixture
def fake_device() -> FusingFakeDevice:
    return FusingFakeDevice()


@pytest.fixture
def nets() -> list[Network]:
    """24 distinct small networks."""
    out = []
    for i in range(24):
        widths = tuple(8 * (1 + (i + j) % 4) for j in range(1 + i % 4))
        out.append(small_net(f"n{i}", widths, kernel=(1, 3, 5)[i % 3], pool=bool(i % 2)))
    return out
