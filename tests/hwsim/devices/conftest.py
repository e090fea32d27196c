"""Small networks for the device tests (built with NetworkBuilder; zoo models where a real net is needed)."""

from __future__ import annotations

import pytest

from hwsim.workload import Network, NetworkBuilder


def build_resblock() -> Network:
    """conv-bn-relu -> conv-bn -> add(shortcut conv-bn) -> relu -> maxpool -> gap -> flatten -> fc."""
    b = NetworkBuilder("resblock", (16, 16, 16))
    x = b.input
    y = b.relu(b.bn(b.conv(x, 32, 3, padding=1, name="c1"), name="bn1"), name="r1")
    y = b.bn(b.conv(y, 32, 3, padding=1, name="c2"), name="bn2")
    s = b.bn(b.conv(x, 32, 1, name="sc"), name="bnsc")
    z = b.relu(b.eltwise("add", s, y, name="add"), name="r2")
    z = b.pool(z, "max", 2, 2, name="pool")
    z = b.global_pool(z, name="gap")
    z = b.flatten(z, name="flat")
    b.linear(z, 10, name="fc")
    return b.build()


def build_mixed() -> Network:
    """Depthwise-separable block, conv+pool, a concat, a sigmoid gate and an fc head."""
    b = NetworkBuilder("mixed", (8, 20, 20))
    x = b.relu(b.bn(b.conv(b.input, 16, 3, stride=1, padding=1, name="stem"), name="stem_bn"), name="stem_act")
    d = b.relu(b.bn(b.conv(x, 16, 3, padding=1, groups=16, name="dw"), name="dw_bn"), name="dw_act")
    p = b.bn(b.conv(d, 24, 1, name="pw"), name="pw_bn")
    q = b.pool(b.relu(b.conv(x, 8, 3, padding=1, name="side"), name="side_act"), "max", 1, 1, name="side_pool")
    c = b.concat(p, q, name="cat")
    g = b.act(c, "sigmoid", name="gate")
    m = b.eltwise("mul", c, g, name="scale")
    m = b.pool(m, "avg", 2, 2, name="avgp")
    f = b.flatten(m, name="flat")
    b.linear(f, 5, name="fc")
    return b.build()


@pytest.fixture
def resblock() -> Network:
    return build_resblock()


@pytest.fixture
def mixed() -> Network:
    return build_mixed()
