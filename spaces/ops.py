"""Search-space blocks: each a plain function ``block(e, x, out_channels, stride) -> y`` over an emitter.

The emitters live in :mod:`hwsim.emit` (:class:`~hwsim.emit.GraphEmitter`, the workload IR) and
:mod:`hwsim.emit_torch` (:class:`~hwsim.emit_torch.TorchEmitter`, the same layers plus the torch module),
shared with the model zoo; a block written once gives both twins, and the torch.fx import of the module
equals the workload layer for layer. A block that returns its input (a skip) adds nothing on either side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hwsim.emit import GraphEmitter, conv_bn
from spaces.core import SpaceError

ACTS = ("relu", "relu6")
"""Activations a space's stem/head may name (the blocks use these only)."""

# ================================================================================================
# Blocks: block(e, x, out_channels, stride) -> y
# ================================================================================================
Block = Callable[[GraphEmitter, str, int, int], str]


def res_block(k: int, e_ratio: float) -> Block:
    """BBSSP Resblock: ReLU(a + b); a = 1x1(C_in*e)-kxk(stride)-1x1(C_out), b = kxk(C_in, stride)-1x1(C_out)."""
    def block(e: GraphEmitter, x: str, cout: int, stride: int) -> str:
        cin = e.channels(x)
        mid = max(1, int(cin * e_ratio))
        a = conv_bn(e, x, mid, 1)
        a = conv_bn(e, a, mid, k, stride)
        a = conv_bn(e, a, cout, 1, act=None)
        b = conv_bn(e, x, cin, k, stride)
        b = conv_bn(e, b, cout, 1, act=None)
        return e.act(e.add(a, b), "relu")
    return block


def mobile_block(k: int, e_ratio: float) -> Block:
    """BBSSP Mobileblock (authors' PyTorch): 1x1(C_in*e)-kxk(stride, plain)-1x1(C_out), residual if same shape,
    final ReLU."""
    def block(e: GraphEmitter, x: str, cout: int, stride: int) -> str:
        cin = e.channels(x)
        mid = max(1, int(cin * e_ratio))
        y = conv_bn(e, x, mid, 1)
        y = conv_bn(e, y, mid, k, stride)
        y = conv_bn(e, y, cout, 1, act=None)
        if cin == cout and stride == 1:
            y = e.add(y, x)
        return e.act(y, "relu")
    return block


def caffe_mobile_block(k: int, expand: int) -> Block:
    """BBSSP Mobileblock as the authors measured it on the ZCU102 (their Caffe ``generate_mobile_block``):
    1x1 expand to C_in*e (BN, ReLU; present even when e == 1) - depthwise kxk(stride) (BN, ReLU) - linear 1x1 to
    C_out (BN); identity shortcut when stride 1 and C_in == C_out; final ReLU."""
    def block(e: GraphEmitter, x: str, cout: int, stride: int) -> str:
        cin = e.channels(x)
        mid = cin * expand
        y = conv_bn(e, x, mid, 1)
        y = conv_bn(e, y, mid, k, stride, groups=mid)
        y = conv_bn(e, y, cout, 1, act=None)
        if cin == cout and stride == 1:
            y = e.add(y, x)
        return e.act(y, "relu")
    return block


def mbconv_block(k: int, expand: int, act: str = "relu6") -> Block:
    """MobileNetV2 inverted residual: [1x1 expand (omitted when expand == 1)] - depthwise kxk(stride) -
    linear 1x1 projection; identity shortcut when stride 1 and C_in == C_out; no activation after the add."""
    def block(e: GraphEmitter, x: str, cout: int, stride: int) -> str:
        cin = e.channels(x)
        mid = cin * expand
        y = conv_bn(e, x, mid, 1, act=act) if expand != 1 else x
        y = conv_bn(e, y, mid, k, stride, act=act, groups=mid)
        y = conv_bn(e, y, cout, 1, act=None)
        if cin == cout and stride == 1:
            y = e.add(y, x)
        return y
    return block


def vgg_block(kernels: tuple[int, ...]) -> Block:
    """BBSSP VGGblock: chain of kxk conv-BN-ReLU (C_in -> C_out, then C_out -> C_out); stride 2 appends 2x2 max
    pooling."""
    def block(e: GraphEmitter, x: str, cout: int, stride: int) -> str:
        y = x
        for k in kernels:
            y = conv_bn(e, y, cout, k)
        if stride == 2:
            y = e.pool(y, "max", 2, 2)
        elif stride != 1:
            raise SpaceError(f"VGG blocks support stride 1 or 2, got {stride}")
        return y
    return block


def fbnet_block(k: int, expand: int, groups: int) -> Block:
    """FBNet ConvBlock as in HW-NAS-Bench: 1x1 (C_in*e, groups g) BN ReLU [channel shuffle if g > 1] -
    depthwise kxk(stride) BN ReLU - 1x1 (C_out, groups g) BN; identity shortcut when stride 1 and C_in == C_out."""
    def block(e: GraphEmitter, x: str, cout: int, stride: int) -> str:
        cin = e.channels(x)
        mid = cin * expand
        y = conv_bn(e, x, mid, 1, groups=groups)
        if groups > 1:
            y = e.shuffle(y, groups)
        y = conv_bn(e, y, mid, k, stride, groups=mid)
        y = conv_bn(e, y, cout, 1, act=None, groups=groups)
        if cin == cout and stride == 1:
            y = e.add(y, x)
        return y
    return block


def skip_block(e: GraphEmitter, x: str, cout: int, stride: int) -> str:
    """FBNet/HW-NAS-Bench Skip: identity when the shape is unchanged, else 1x1 conv(stride)-BN-ReLU."""
    if e.channels(x) == cout and stride == 1:
        return x
    return conv_bn(e, x, cout, 1, stride)


@dataclass(frozen=True)
class BlockSpec:
    """A named candidate block. ``even_channels``: grouped (g=2) 1x1 convs need even C_in and C_out."""

    name: str
    fn: Block
    doc: str
    even_channels: bool = False

    def check(self, cin: int, cout: int, stride: int, where: str) -> None:
        if stride not in (1, 2):
            raise SpaceError(f"{where}: stride must be 1 or 2, got {stride}")
        if self.even_channels and (cin % 2 or cout % 2):
            raise SpaceError(f"{where}: block {self.name!r} needs even channels, got {cin} -> {cout}")


def _catalogue() -> dict[str, BlockSpec]:
    out: dict[str, BlockSpec] = {}
    for j in range(9):
        k, er = (3, 5, 7)[j % 3], (1, 1 / 2, 1 / 4)[j // 3]
        out[f"res{j}"] = BlockSpec(f"res{j}", res_block(k, er), f"BBSSP Resblock_{j}: k={k}, e={er:g}")
    for j in range(9):
        k, er = (3, 5, 7)[j % 3], (1, 1 / 3, 1 / 6)[j // 3]
        out[f"mobile{j}"] = BlockSpec(f"mobile{j}", mobile_block(k, er), f"BBSSP Mobileblock_{j} (PyTorch): k={k}, "
                                      f"e={er:.3g}")
    for j in range(9):
        k, ex = (3, 5, 7)[j // 3], (1, 3, 6)[j % 3]
        out[f"mbv2_{j}"] = BlockSpec(f"mbv2_{j}", caffe_mobile_block(k, ex),
                                     f"BBSSP Mobileblock_{j} (depthwise MobileNetV2 form, as the authors measured "
                                     f"it): k={k}, e={ex}")
    vgg_kernels = ((1,), (3,), (1, 3), (5,), (1, 5), (3, 3), (1, 3, 3), (7,), (1, 7), (3, 5), (1, 3, 5), (3, 3, 3),
                   (1, 3, 3, 3))
    for j, ks in enumerate(vgg_kernels):
        out[f"vgg{j}"] = BlockSpec(f"vgg{j}", vgg_block(ks), f"BBSSP VGGblock_{j}: kernels {list(ks)}")
    for k in (3, 5):
        for ex, g in ((1, 1), (1, 2), (3, 1), (6, 1)):
            nm = f"k{k}_e{ex}" + ("_g2" if g == 2 else "")
            out[nm] = BlockSpec(nm, fbnet_block(k, ex, g), f"FBNet ConvBlock k={k} e={ex} groups={g}", g == 2)
    out["skip"] = BlockSpec("skip", skip_block, "identity, or 1x1 conv-BN-ReLU when the shape changes")
    for k in (3, 5, 7):
        for ex in (1, 3, 6):
            nm = f"mb_k{k}_e{ex}"
            out[nm] = BlockSpec(nm, mbconv_block(k, ex, "relu6"), f"ProxylessNAS MBConv k={k} e={ex} (ReLU6)")
    return out


BLOCKS: Mapping[str, BlockSpec] = MappingProxyType(_catalogue())


def get_block(name: str, where: str = "block") -> BlockSpec:
    """The catalogued block ``name``; unknown names raise a one-line :class:`SpaceError`."""
    try:
        return BLOCKS[name]
    except KeyError:
        raise SpaceError(f"{where}: unknown block {name!r}; known: res0..8, mobile0..8, mbv2_0..8, vgg0..12, "
                         f"k3_e1.., skip, mb_k3_e3..") from None


__all__ = ["ACTS", "BLOCKS", "Block", "BlockSpec", "GraphEmitter", "conv_bn", "get_block"]
