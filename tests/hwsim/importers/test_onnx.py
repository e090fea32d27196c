"""ONNX importer: zoo exports import to the torch path's IR, pattern fusions per opset, clear one-line errors."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from torch import nn  # noqa: E402

from hwsim.errors import HwnasError  # noqa: E402
from hwsim.importers.onnx_import import OnnxImportError, from_onnx  # noqa: E402
from hwsim.importers.torch_fx import from_torch  # noqa: E402
from hwsim.workload import (  # noqa: E402
    Concat,
    Conv2d,
    Elementwise,
    GlobalPool,
    Linear,
    MatMul,
    Network,
    Reshape,
    structure,
)
from hwsim.zoo import get_model  # noqa: E402


def _export(module: nn.Module, input_shape: Sequence[int], opset: int | None = None) -> onnx.ModelProto:
    """Legacy (TorchScript) export that keeps BatchNorm: constant folding would fold it into the conv."""
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, *input_shape),), f, dynamo=False,
                          do_constant_folding=False, opset_version=opset)
    return onnx.load_from_string(f.getvalue())


def _diff(a: Network, b: Network) -> str:
    for i, (x, y) in enumerate(zip(structure(a), structure(b))):
        if x != y:
            return f"first difference at layer {i}: {a.layers[i]} vs {b.layers[i]}"
    return f"{len(a)} vs {len(b)} layers"


# --- zoo models: ONNX export imports to the same IR as the torch path ----------------------------------------


@pytest.mark.parametrize("name, via_fx", [("resnet18", True), ("mobilenet_v2", True), ("squeezenet1_1", True),
                                          ("efficientnet_b0", False)])
def test_zoo_export_matches_torch_path(name: str, via_fx: bool) -> None:
    """Exact structural equality with ``from_torch`` (``via_fx``), and always with the zoo's IR twin, which
    tests/hwsim/test_zoo.py holds equal to ``from_torch`` (skipping the trace here saves time)."""
    zm = get_model(name)
    module = zm.build_torch(num_classes=10, generator=torch.Generator().manual_seed(0))
    net = from_onnx(_export(module, zm.default_input_shape), name=name)
    twin = zm.build_ir(num_classes=10)
    assert structure(net) == structure(twin), _diff(net, twin)
    if via_fx:
        ref = from_torch(module, zm.default_input_shape)
        assert structure(net) == structure(ref), _diff(net, ref)
    assert net.total_macs == twin.total_macs and net.total_params == twin.total_params
    assert net.name == name and len(net.inputs) == 1 and net.inputs[0][1] == zm.default_input_shape


def test_vit_export_matches_torch_path_up_to_reshape_labels() -> None:
    """The one rule that differs: an ONNX ``Reshape`` that merges trailing axes is labelled 'flatten' (what
    ``torch.flatten(x, k)`` exports to), so ``x.reshape(-1, T, D)`` after the heads' transpose reads
    'flatten' where the torch path (and the zoo twin) say 'reshape'. Everything else is exact."""
    zm = get_model("vit_tiny")
    module = zm.build_torch(num_classes=10, generator=torch.Generator().manual_seed(0))
    ref = zm.build_ir(num_classes=10)
    net = from_onnx(_export(module, zm.default_input_shape))
    differing = [(a, b) for a, b in zip(net.layers, ref.layers) if a != b.replace(name=a.name)]
    assert len(differing) == 12, "one per encoder block; if gone, make this test exact"
    for a, b in differing:
        assert isinstance(a, Reshape) and (a.op, b.op) == ("flatten", "reshape")
        assert a.replace(op="reshape", name=b.name) == b
    for a, _ in differing:
        net = net.replace_layer(a.name, a.replace(op="reshape"))
    assert structure(net) == structure(ref), _diff(net, ref)


# --- a mixed model through every opset and both exporters --------------------------------------------------


class _Mixed(nn.Module):
    """Every mapping and fusion rule once: the fused forms differ by opset (HardSwish from 14, LayerNorm from
    17, Gelu from 20; before that HardSigmoid*x, ReduceMean/Sub/Pow/Sqrt/Div and the Erf pattern)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.act = nn.Hardswish()
        self.dw = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=16, bias=False)
        self.silu = nn.SiLU()
        self.se_pool = nn.AdaptiveAvgPool2d(1)
        self.se_fc = nn.Conv2d(16, 16, 1)
        self.pool = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        self.avg = nn.AvgPool2d(2, 1)
        self.same = nn.AdaptiveAvgPool2d(8)   # to the input size: dropped on both paths
        self.drop = nn.Dropout(0.2)
        self.proj = nn.Linear(16, 24)
        self.ln = nn.LayerNorm(24)
        self.gelu = nn.GELU()
        self.hsig = nn.Hardsigmoid()
        self.head = nn.Linear(24, 10)
        self.pos = nn.Parameter(torch.zeros(1, 16, 24))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.bn(self.stem(x)))                 # (16, 16, 16)
        y = self.silu(self.dw(x))                           # x * sigmoid(x) fuses to swish
        s = torch.sigmoid(self.se_fc(self.se_pool(y)))      # y * sigmoid(z) stays sigmoid + mul
        y = F.relu6(y * s + x)
        a, b = torch.chunk(y, 2, dim=1)
        y = self.hsig(torch.cat([torch.tanh(b), a], 1))
        y = self.same(self.avg(self.pool(y)))               # (16, 8, 8)
        t = y.flatten(2).transpose(1, 2)                    # (64, 16) tokens
        t = self.gelu(self.ln(self.proj(self.drop(t))))[:, :16] + self.pos
        att = F.softmax((t @ t.transpose(-2, -1)) * 0.2, dim=-1)
        t = torch.relu(att @ t)
        return self.head(t[:, 0])


_MIXED_SHAPE = (3, 32, 32)


@pytest.fixture(scope="module")
def mixed() -> tuple[nn.Module, Network]:
    torch.manual_seed(0)  # test-local: PyTorch's default init draws from the global RNG
    module = _Mixed().eval()
    return module, from_torch(module, _MIXED_SHAPE)


@pytest.mark.parametrize("opset", [11, 13, 17, 20])
def test_mixed_model_matches_torch_path_at_every_opset(mixed: tuple[nn.Module, Network], opset: int) -> None:
    module, ref = mixed
    model = _export(module, _MIXED_SHAPE, opset)
    ops = {n.op_type for n in model.graph.node}
    assert ("Erf" in ops) == (opset < 20) and ("LayerNormalization" in ops) == (opset >= 17)
    net = from_onnx(model)
    assert structure(net) == structure(ref), _diff(net, ref)
    kinds = [(layer.kind, getattr(layer, "op", None)) for layer in net]
    assert ("activation", "swish") in kinds and ("activation", "sigmoid") in kinds
    assert ("norm", "layernorm") in kinds and ("activation", "gelu") in kinds


@pytest.mark.parametrize("optimize", [False, True])
def test_dynamo_export_matches_torch_path(mixed: tuple[nn.Module, Network], optimize: bool) -> None:
    pytest.importorskip("onnxscript", reason="torch.onnx.export(dynamo=True) needs onnxscript")
    module, ref = mixed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, (torch.zeros(1, *_MIXED_SHAPE),), dynamo=True, optimize=optimize,
                                    verbose=False)
    net = from_onnx(program.model_proto)
    if optimize:  # the optimiser folds BatchNorm into the conv before it (a bias only when non-zero)
        no_bn = [layer for layer in ref if layer.name != "bn"]
        assert len(net) == len(no_bn)
        for a, b in zip(net, no_bn):
            same = {"bias": a.bias} if b.name == "stem" else {}
            assert a == b.replace(name=a.name, **same)
    else:
        assert structure(net) == structure(ref), _diff(net, ref)


def test_file_with_symbolic_batch_and_names(tmp_path: Path) -> None:
    module = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                           nn.Flatten(), nn.Linear(8 * 6 * 6, 4))
    path = tmp_path / "tiny_net.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, 3, 6, 6),), str(path), dynamo=False,
                          input_names=["image"], output_names=["logits"], dynamic_axes={"image": {0: "batch"}})
    net = from_onnx(path)
    assert net.name == "tiny_net" and net.inputs == (("image", (3, 6, 6)),)
    assert structure(net) == structure(from_torch(module, (3, 6, 6)))
    names = [layer.name for layer in net]
    assert names == ["0.Conv", "1.Relu", "2.Conv", "3.Relu", "4.Flatten", "5.Gemm"]
    assert net.outputs == ("5.Gemm",)
    assert from_onnx(str(path), name="other").name == "other"


# --- hand-built graphs: mapping details ----------------------------------------------------------------------


def _model(nodes: Sequence[onnx.NodeProto], inits: Sequence[onnx.TensorProto] = (), x_shape: Sequence[int | str]
           = (1, 3, 8, 8), opset: int = 17, extra_inputs: Sequence[onnx.ValueInfoProto] = ()) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph(list(nodes), "handmade", [x, *extra_inputs], [y], list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _const(name: str, value: np.ndarray | float | Sequence[int]) -> onnx.TensorProto:
    arr = np.asarray(value)
    arr = arr.astype(np.int64) if arr.dtype.kind == "i" else arr.astype(np.float32)
    return numpy_helper.from_array(arr, name)


def _weight(name: str, *shape: int) -> onnx.TensorProto:
    return _const(name, np.zeros(shape, dtype=np.float32))


def _conv(pads: Sequence[int] | None = None, strides: Sequence[int] = (2, 2), kernel: int = 3,
          auto_pad: str | None = None) -> onnx.ModelProto:
    attrs: dict[str, object] = {"strides": list(strides)}
    if pads is not None:
        attrs["pads"] = list(pads)
    if auto_pad is not None:
        attrs["auto_pad"] = auto_pad
    return _model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **attrs)],
                  [_weight("w", 8, 3, kernel, kernel)])


def test_asymmetric_padding_becomes_the_symmetric_pad_with_the_same_output() -> None:
    """TF-style 'SAME' at stride 2 pads (0, 1): the IR pads 1 on both sides, which gives the same 4x4 output."""
    explicit = from_onnx(_conv(pads=[0, 0, 1, 1]))["conv"]
    auto = from_onnx(_conv(auto_pad="SAME_UPPER"))["conv"]
    assert isinstance(explicit, Conv2d) and explicit == auto
    assert (explicit.pad_h, explicit.pad_w, explicit.out_h, explicit.out_w) == (1, 1, 4, 4)
    valid = from_onnx(_conv(auto_pad="VALID"))["conv"]
    assert (valid.pad_h, valid.out_h) == (0, 3)


def test_asymmetric_padding_without_a_symmetric_equivalent_is_an_error() -> None:
    model = _conv(pads=[0, 0, 1, 1], strides=(1, 1), kernel=2)   # 8+1-2+1 = 8; pad 0 gives 7, pad 1 gives 9
    msg = _one_line_error(lambda: from_onnx(model))
    assert "'conv'" in msg and "asymmetric padding [0, 0, 1, 1]" in msg


def test_constants_are_not_layers_and_scalars_drop_out() -> None:
    nodes = [
        helper.make_node("Mul", ["x", "half"], ["a"], name="scale"),          # scalar: one operand
        helper.make_node("Add", ["a", "bias"], ["b"], name="shift"),          # (1, 3, 1, 1): a parameter
        helper.make_node("Concat", ["b", "tok"], ["c"], name="cat", axis=1),  # constant concat operand last
        helper.make_node("ReduceMean", ["c"], ["d"], name="gap", axes=[2, 3], keepdims=0),
        helper.make_node("Gemm", ["d", "w"], ["y"], name="fc", transB=1),
    ]
    inits = [_const("half", 0.5), _const("bias", np.zeros((1, 3, 1, 1))), _const("tok", np.zeros((1, 2, 8, 8))),
             _weight("w", 7, 5)]
    net = from_onnx(_model(nodes, inits, opset=13))
    assert [layer.name for layer in net] == ["scale", "shift", "cat", "gap", "gap_flatten", "fc"]
    assert net["scale"] == Elementwise("scale", "mul", ((3, 8, 8),), 0)
    assert net["shift"] == Elementwise("shift", "add", ((3, 8, 8), (3, 1, 1)), 1)
    assert net["cat"] == Concat("cat", ((3, 8, 8), (2, 8, 8)), 0, 1)
    assert net["gap"] == GlobalPool("gap", "avg", 5, 8, 8)
    assert net["gap_flatten"] == Reshape("gap_flatten", "flatten", (5, 1, 1), (5,))
    assert net["fc"] == Linear("fc", (5,), 7, bias=False)
    assert net.total_params == 3 + 2 * 64 + 35


def test_two_activation_matmul_and_gemm_bias() -> None:
    other = helper.make_tensor_value_info("z", TensorProto.FLOAT, ["n", 4, 6])
    nodes = [helper.make_node("MatMul", ["x", "z"], ["m"], name="qk"),
             helper.make_node("MatMul", ["m", "w"], ["p"], name="proj"),
             helper.make_node("Add", ["p", "b"], ["y"], name="proj_bias")]
    net = from_onnx(_model(nodes, [_weight("w", 6, 5), _weight("b", 5)], x_shape=("n", 3, 4),
                           extra_inputs=[other]))
    assert net.inputs == (("x", (3, 4)), ("z", (4, 6)))
    assert net["qk"] == MatMul("qk", (3, 4), (4, 6))
    assert net["proj"] == Linear("proj", (3, 6), 5, bias=True)   # MatMul + constant bias Add: one Linear
    assert len(net) == 2


def test_node_names_are_sanitised_and_unique() -> None:
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="/block/act/Relu"),
             helper.make_node("Relu", ["a"], ["b"], name="/block/act/Relu"),
             helper.make_node("Sigmoid", ["b"], ["c"], name=""),
             helper.make_node("Tanh", ["c"], ["y"], name="x")]
    net = from_onnx(_model(nodes))
    assert [layer.name for layer in net] == ["block.act.Relu", "block.act.Relu_1", "sigmoid", "x_1"]


def test_global_max_pooling_forms_and_same_lower_pool() -> None:
    nodes = [helper.make_node("MaxPool", ["x"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2],
                              auto_pad="SAME_LOWER"),
             helper.make_node("GlobalMaxPool", ["p"], ["g"], name="gmp"),
             helper.make_node("ReduceMax", ["p"], ["r"], name="rmax", axes=[-1, -2], keepdims=1),
             helper.make_node("Add", ["g", "r"], ["s"], name="sum"),
             helper.make_node("Softmax", ["s"], ["y"], name="soft", axis=1)]
    net = from_onnx(_model(nodes, x_shape=(1, 3, 7, 7), opset=13))
    pool = net["pool"]
    assert (pool.pad_h, pool.out_h, pool.ceil_mode) == (1, 4, False)  # SAME_LOWER pads (1, 0): same size
    assert net["gmp"] == GlobalPool("gmp", "max", 3, 4, 4) and net["rmax"] == GlobalPool("rmax", "max", 3, 4, 4)
    assert net["soft"].op == "softmax" and net.outputs == ("soft",)


def test_clip_maps_to_relu6_and_relu() -> None:
    for hi, op in ((6.0, "relu6"), (None, "relu")):
        inputs = ["x", "lo"] + (["hi"] if hi is not None else [])
        inits = [_const("lo", 0.0)] + ([_const("hi", hi)] if hi is not None else [])
        net = from_onnx(_model([helper.make_node("Clip", inputs, ["y"], name="clip")], inits))
        assert net["clip"].op == op


# --- bad input: one line naming the file, node and op --------------------------------------------------------


def _one_line_error(fn: Callable[[], object]) -> str:
    with pytest.raises(HwnasError) as info:
        fn()
    msg = str(info.value)
    assert "\n" not in msg and msg
    return msg


def test_unsupported_op_names_type_node_and_file(tmp_path: Path) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="act"),
             helper.make_node("Einsum", ["a", "a"], ["y"], name="mix", equation="nchw,nchw->nchw")]
    path = tmp_path / "einsum.onnx"
    onnx.save(_model(nodes), str(path))
    msg = _one_line_error(lambda: from_onnx(path))
    assert str(path) in msg and "'mix'" in msg and "Einsum" in msg and "unsupported ONNX op" in msg
    lstm = [helper.make_node("LSTM", ["x", "W", "R"], ["y"], name="rnn", hidden_size=4, layout=1)]
    msg = _one_line_error(lambda: from_onnx(_model(lstm, [_weight("W", 1, 16, 5), _weight("R", 1, 16, 4)],
                                                   x_shape=(1, 7, 5))))
    assert "'rnn'" in msg and "LSTM" in msg and "'handmade'" in msg
    custom = _model([helper.make_node("Fancy", ["x"], ["y"], name="f", domain="com.example")])
    custom.opset_import.append(helper.make_opsetid("com.example", 1))
    with pytest.raises(OnnxImportError, match="com.example::Fancy"):
        from_onnx(custom)


def test_clip_with_other_bounds_is_an_error() -> None:
    model = _model([helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="hardtanh")],
                   [_const("lo", -1.0), _const("hi", 1.0)])
    msg = _one_line_error(lambda: from_onnx(model))
    assert "'hardtanh'" in msg and "Clip bounds (-1.0, 1.0)" in msg


@pytest.mark.parametrize("shape, what", [((1, 3, 0, 8), "axis 2 has size 0"),
                                         ((4, 3, 8, 8), "batch axis is 4"),
                                         ((1, 3, "h", 8), "axis 2 is symbolic (h)"),
                                         ((3,), "rank 1")])
def test_bad_input_shapes(shape: tuple[int | str, ...], what: str) -> None:
    model = _model([helper.make_node("Relu", ["x"], ["y"], name="act")], x_shape=shape)
    msg = _one_line_error(lambda: from_onnx(model))
    assert "graph input 'x'" in msg and what in msg


def test_not_an_onnx_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.onnx"
    text.write_text("this is not a model\n" * 20)
    assert str(text) in _one_line_error(lambda: from_onnx(text))
    good = _export(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), (3, 8, 8)).SerializeToString()
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(good[: len(good) // 2])
    assert str(truncated) in _one_line_error(lambda: from_onnx(truncated))
    assert "no such file" in _one_line_error(lambda: from_onnx(tmp_path / "missing.onnx"))
    assert "ModelProto or a file path" in _one_line_error(lambda: from_onnx(42))  # type: ignore[arg-type]


def test_other_rejected_graphs() -> None:
    relu = [helper.make_node("Relu", ["x"], ["y"], name="act")]
    assert "opset 9" in _one_line_error(lambda: from_onnx(_model(relu, opset=9)))
    left = _model([helper.make_node("MatMul", ["w", "x"], ["y"], name="wx")], [_weight("w", 2, 3)],
                  x_shape=(1, 3, 4))
    assert "constant left operand" in _one_line_error(lambda: from_onnx(left))
    ids = helper.make_tensor_value_info("x", TensorProto.INT64, [1, 5])
    embed = helper.make_model(helper.make_graph(
        [helper.make_node("Gather", ["table", "x"], ["y"], name="embed")], "g", [ids],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [_weight("table", 100, 8)]),
        opset_imports=[helper.make_opsetid("", 17)])
    assert "embedding lookup" in _one_line_error(lambda: from_onnx(embed))
    perm = _model([helper.make_node("Transpose", ["x"], ["y"], name="t", perm=[1, 0, 2, 3])])
    assert "moves the batch axis" in _one_line_error(lambda: from_onnx(perm))
