"""One description per block, two materialisations: the workload IR and a torch module.

Every block is a plain function ``block(e, x, out_channels, stride) -> y`` written against an *emitter*
``e``. :class:`GraphEmitter` turns each call into a :mod:`hwsim.workload` layer (through
:class:`~hwsim.workload.NetworkBuilder`); :class:`~spaces.torch_build.TorchEmitter` does the same and
also records the matching torch module or function (:mod:`spaces.torch_build`, imported only when torch models are built).
:class:`~spaces.torch_build.GraphProgram` then executes the recorded steps in exactly the order the
builder added the layers, so the torch.fx import of the module equals the workload layer for layer.

Emitter conventions (what the torch side uses, so the fx importer maps it back to the same layer):

* ``conv``  -> ``nn.Conv2d`` (no bias unless asked)   * ``bn``   -> ``nn.BatchNorm2d``
* ``act``   -> ``nn.ReLU`` / ``nn.ReLU6``            * ``add``  -> ``a + b`` (``operator.add``)
* ``pool``  -> ``nn.MaxPool2d`` / ``nn.AvgPool2d`` (average excludes padding)
* ``global_avg`` -> ``nn.AdaptiveAvgPool2d(1)``        * ``flatten`` -> ``torch.flatten(x, 1)``
* ``linear`` -> ``nn.Linear`` (with bias)
* ``shuffle`` -> ``reshape`` / ``transpose`` / ``reshape`` (ShuffleNet channel shuffle; three Reshape layers)

A block that returns its input (a skip) adds nothing on either side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from hwsim.workload import Network, NetworkBuilder, Shape
from spaces.core import SpaceError

ACTS = ("relu", "relu6")


class GraphEmitter:
    """Emits workload layers only (the fast path used by :meth:`SearchSpace.to_workload`)."""

    def __init__(self, name: str, input_shape: Shape) -> None:
        self.builder = NetworkBuilder(name, tuple(input_shape))

    @property
    def input(self) -> str:
        return self.builder.input

    def shape(self, x: str) -> Shape:
        """Per-sample shape of a produced tensor, ``(C, H, W)`` for feature maps."""
        return self.builder.shape(x)

    def channels(self, x: str) -> int:
        return self.builder.shape(x)[0]

    # --- hook for the torch side -------------------------------------------------------------------
    def _step(self, out: str, inputs: tuple[str, ...], kind: str, **params: Any) -> None:
        """Record the torch counterpart of the layer(s) ending in ``out`` (no-op for the IR-only emitter)."""

    # --- ops -----------------------------------------------------------------------------------------
    def conv(self, x: str, out_channels: int, kernel: int, stride: int = 1, padding: int | None = None,
             groups: int = 1, bias: bool = False) -> str:
        """k x k convolution; ``padding`` defaults to ``kernel // 2`` (same size at stride 1)."""
        pad = kernel // 2 if padding is None else padding
        cin = self.channels(x)
        y = self.builder.conv(x, out_channels, kernel, stride, pad, groups, bias)
        self._step(y, (x,), "conv", cin=cin, cout=out_channels, kernel=kernel, stride=stride, padding=pad,
                   groups=groups, bias=bias)
        return y

    def bn(self, x: str) -> str:
        y = self.builder.bn(x)
        self._step(y, (x,), "bn", channels=self.channels(x))
        return y

    def act(self, x: str, op: str = "relu") -> str:
        if op not in ACTS:
            raise SpaceError(f"activation {op!r} is not supported by spaces blocks; expected one of {ACTS}")
        y = self.builder.act(x, op)
        self._step(y, (x,), "act", op=op)
        return y

    def add(self, a: str, b: str) -> str:
        y = self.builder.eltwise("add", a, b)
        self._step(y, (a, b), "add")
        return y

    def pool(self, x: str, op: str, kernel: int, stride: int, padding: int = 0) -> str:
        y = self.builder.pool(x, op, kernel, stride, padding)
        self._step(y, (x,), "pool", op=op, kernel=kernel, stride=stride, padding=padding)
        return y

    def global_avg(self, x: str) -> str:
        y = self.builder.global_pool(x, "avg")
        self._step(y, (x,), "global_avg")
        return y

    def flatten(self, x: str) -> str:
        y = self.builder.flatten(x)
        self._step(y, (x,), "flatten")
        return y

    def linear(self, x: str, out_features: int) -> str:
        fin = self.shape(x)[-1]
        y = self.builder.linear(x, out_features, bias=True)
        self._step(y, (x,), "linear", fin=fin, fout=out_features)
        return y

    def shuffle(self, x: str, groups: int) -> str:
        """Channel shuffle: (C,H,W) -> (g,C/g,H,W) -> (C/g,g,H,W) -> (C,H,W)."""
        c, h, w = self.shape(x)
        a = self.builder.reshape(x, (groups, c // groups, h, w), "reshape")
        p = self.builder.reshape(a, (c // groups, groups, h, w), "permute")
        y = self.builder.reshape(p, (c, h, w), "reshape")
        self._step(y, (x,), "shuffle", groups=groups, c=c, h=h, w=w)
        return y

    def build(self, output: str) -> Network:
        return self.builder.build((output,))


# ================================================================================================
# Blocks: block(e, x, out_channels, stride) -> y
# ================================================================================================
Block = Callable[[GraphEmitter, str, int, int], str]


def conv_bn(e: GraphEmitter, x: str, cout: int, k: int, stride: int = 1, act: str | None = "relu",
            groups: int = 1) -> str:
    """conv -> BN (-> activation)."""
    y = e.bn(e.conv(x, cout, k, stride, groups=groups))
    return e.act(y, act) if act else y


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
