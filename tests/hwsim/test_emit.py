"""Emitters: every op gives the same workload layer from GraphEmitter and from the fx import of TorchEmitter's
program; torch-only ops (dropout, identity adaptive pool) rebind; bad use raises one-line EmitErrors."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from hwsim.emit import EmitError, GraphEmitter, conv_bn
from hwsim.workload import ACTIVATION_OPS, structure

torch = pytest.importorskip("torch")

from hwsim.emit_torch import GraphProgram, TorchEmitter, init_parameters  # noqa: E402
from hwsim.importers.torch_fx import from_torch  # noqa: E402


def every_op(e: GraphEmitter, num_classes: int) -> str:
    """A small network using every emitter op once (with IR-dropped ops in the middle of chains)."""
    x = conv_bn(e, e.input, 8, 3, 2, name="stem")
    x = e.conv(x, 8, 3, 1, 1, bias=True, name="c1")
    for op in ACTIVATION_OPS:
        x = e.act(x, op, name=f"act_{op}")
    x = e.dropout(x, 0.1)
    s = e.global_avg(x, name="se_pool")
    x = e.mul(s, x, name="se_mul")
    x = e.add(x, e.scale(x, 0.5, name="half"), name="res")
    x = e.shuffle(x, 2)
    a = e.pool(x, "max", 3, 2, 1, name="maxp")
    b = e.pool(x, "avg", 3, 2, 0, ceil_mode=True, name="avgp")
    x = e.concat(a, b, axis=0, name="cat")
    x = e.adaptive_avg_pool(x, e.shape(x)[1:], name="same")  # identity in the IR
    x = e.adaptive_avg_pool(x, (2, 2), name="to2")  # fixed window 4x4 -> 2x2
    t = e.flatten(x, start=1, name="tokens")  # (16, 4)
    t = e.permute(t, (1, 0), name="t")  # (4, 16)
    t = e.cat_param(t, "cls", (1, 16), name="cls_cat")  # (5, 16)
    t = e.add_param(t, "pos", (5, 16), name="pos_add")
    t = e.layernorm(t, eps=1e-6, name="ln")
    q = e.reshape(e.linear(t, 32, name="qk"), (5, 2, 16), name="split")
    q = e.permute(q, (1, 0, 2), name="heads")  # (2, 5, 16)
    k = e.select(q, 0, 1, name="k")
    q = e.select(q, 0, 0, name="q")
    att = e.matmul(q, e.permute(k, (1, 0), name="kt"), name="qkt")  # (5, 5)
    y = e.matmul(att, t, name="av")  # (5, 16)
    y = e.select(y, 0, 0, name="first")  # (16,)
    z = e.flatten(e.global_avg(x, name="gap"), name="flat")  # (16,)
    y = e.add(y, z, name="mix")
    y = e.linear(y, 12, bias=False, name="nobias")
    return e.linear(y, num_classes, name="head")


def _pair(shape=(3, 32, 32)):
    g = GraphEmitter("every_op", shape)
    net = g.build(every_op(g, 10))
    with torch.random.fork_rng():
        torch.manual_seed(0)
        t = TorchEmitter("every_op", shape, module_prefix="")
        module = t.program(every_op(t, 10))
    return net, module, t


def test_every_op_ir_equals_fx_import_of_torch():
    net, module, t = _pair()
    assert structure(t.build()) == structure(net)  # the torch emitter adds the same layers
    assert t.build().to_json() == net.to_json()
    assert structure(from_torch(module, (3, 32, 32))) == structure(net)
    assert net.total_params == sum(p.numel() for p in module.parameters())
    assert "same" not in {layer.name for layer in net}  # identity adaptive pool: no IR layer
    assert isinstance(module.get_submodule("same"), torch.nn.AdaptiveAvgPool2d)
    assert isinstance(module.get_submodule("dropout"), torch.nn.Dropout)  # unnamed torch-only op: auto path


def test_every_op_forward_and_numbers():
    _, module, _ = _pair()
    module.eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = module(x)
    assert y.shape == (2, 10) and bool(torch.isfinite(y).all())
    # hand-checked pieces: select/permute against plain indexing, cat_param puts the learned token first
    from hwsim.emit_torch import _cat_param, _permute, _select

    a = torch.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5)
    assert torch.equal(_select(a, 1, 2), a[:, :, 2])
    assert torch.equal(_permute(a, (2, 0, 1)), a.permute(0, 3, 1, 2))
    tok = torch.full((1, 1, 5), 7.0)
    out = _cat_param(a[:, 0], tok, 0, 2)
    assert out.shape == (2, 5, 5) and bool((out[:, 0] == 7).all()) and torch.equal(out[:, 1:], a[:, 0])


def test_program_pickles_and_deep_copies():
    _, module, _ = _pair()
    module.eval()
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    clone = pickle.loads(pickle.dumps(module))
    with torch.no_grad():
        assert torch.equal(clone(x), module(x))


def test_seeded_init_is_deterministic():
    a, b = (init_parameters(_pair()[1], torch.Generator().manual_seed(4)).state_dict() for _ in range(2))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert float(a["pos"].std()) == pytest.approx(0.02, rel=0.3)


def test_ops_prefix_keeps_flat_module_dict():
    t = TorchEmitter("n", (3, 8, 8))
    y = conv_bn(t, t.input, 4, 3)
    prog = t.program(y)
    assert isinstance(prog.ops, torch.nn.ModuleDict) and list(prog.ops) == ["conv", "bn", "relu"]
    assert "ops.conv.weight" in prog.state_dict()
    skip = TorchEmitter("n", (3, 8, 8))
    assert isinstance(skip.program(skip.input).ops, torch.nn.ModuleDict)  # empty container still there


def test_emit_does_not_import_torch_or_upper_packages():
    code = ("import sys, hwsim.emit, hwsim.zoo; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'spaces', 'calibration', 'nas')]; "
            "sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- bad use -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("build,message", [
    (lambda e: e.act(e.input, "mish"), "unknown activation 'mish'"),
    (lambda e: e.adaptive_avg_pool(e.input, (3, 3), name="ap"), "'ap': adaptive average pool from 8x8 to 3x3"),
    (lambda e: e.permute(e.input, (0, 0, 1)), "permute dims (0, 0, 1)"),
    (lambda e: e.select(e.input, 0, 3), "select index 3 on axis 0"),
])
def test_bad_ops_raise_one_line(build, message):
    for cls in (GraphEmitter, TorchEmitter):
        with pytest.raises(EmitError) as err:
            build(cls("n", (3, 8, 8)))
        assert message in str(err.value) and "'n'" in str(err.value) and "\n" not in str(err.value)


def test_torch_path_clashes_raise():
    t = TorchEmitter("n", (3, 8, 8), module_prefix="")
    x = t.dropout(t.input, 0.1, name="d")
    with pytest.raises(EmitError, match="torch module path 'd' is used twice"):
        t.dropout(x, 0.1, name="d")
    t = TorchEmitter("n", (3, 8, 8), module_prefix="")
    y = t.conv(t.conv(t.input, 4, 1, name="a"), 4, 1, name="a.b")
    with pytest.raises(EmitError, match="'a' is a layer, not a container"):
        t.program(y)
    t = TorchEmitter("n", (3, 8, 8), module_prefix="")
    with pytest.raises(EmitError, match="learned tensor name 'a.b'"):
        t.add_param(t.input, "a.b", (3, 8, 8))
    with pytest.raises(EmitError, match="torch module path 'forward'"):
        GraphProgram("input", {"forward": torch.nn.ReLU()}, (), "input")
