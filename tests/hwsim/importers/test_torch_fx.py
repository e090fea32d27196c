"""torch.fx importer: op coverage against a builder-made twin, MAC cross-check with hooks, clear errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hwsim.importers.torch_fx import TorchImportError, count_macs_torch, from_torch
from hwsim.workload import NetworkBuilder, structure


class _Mixed(nn.Module):
    """Exercises every mapping rule once: conv/bn/act modules and functions, pools, residual, SE, cat, gemm."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.act = nn.Hardswish()
        self.dw = nn.Conv2d(16, 16, 5, padding=2, groups=16, bias=False)
        self.se_pool = nn.AdaptiveAvgPool2d(1)
        self.se_fc = nn.Conv2d(16, 16, 1)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.drop = nn.Dropout(0.2)
        self.proj = nn.Linear(32, 24)
        self.ln = nn.LayerNorm(24)
        self.head = nn.Linear(24, 10)
        self.pos = nn.Parameter(torch.zeros(1, 16, 24))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.bn(self.stem(x)))          # (16, 16, 16)
        y = F.relu6(self.dw(x))
        s = torch.sigmoid(self.se_fc(self.se_pool(y)))
        y = y * s + x                                  # SE scale then residual
        y = torch.cat([y, F.avg_pool2d(x, 1)], 1)      # (32, 16, 16)
        y = self.pool(y)                               # (32, 8, 8)
        t = y.flatten(2).transpose(1, 2)               # (64, 32) tokens
        t = self.ln(self.proj(self.drop(t)))[:, :16] + self.pos   # (16, 24)
        a = F.softmax((t @ t.transpose(-2, -1)) * 0.2, dim=-1)
        t = a @ t
        return self.head(t.mean(dim=1, keepdim=False) if False else t[:, 0])


def _mixed_ir() -> object:
    b = NetworkBuilder("twin", (3, 32, 32))
    x = b.act(b.bn(b.conv(b.input, 16, 3, stride=2, padding=1)), "hardswish")
    y = b.act(b.conv(x, 16, 5, padding=2, groups=16), "relu6")
    s = b.act(b.conv(b.global_pool(y), 16, 1, bias=True), "sigmoid")
    y = b.eltwise("add", b.eltwise("mul", y, s), x)
    y = b.concat(y, b.pool(x, "avg", 1))
    y = b.pool(y, "max", 3, 2, 1)
    t = b.reshape(b.reshape(y, (32, 64), "flatten"), (64, 32), "permute")
    t = b.layernorm(b.linear(t, 24))
    t = b.eltwise("add", b.reshape(t, (16, 24), "slice"), params=[(16, 24)])
    kt = b.reshape(t, (24, 16), "permute")
    a = b.act(b.eltwise("mul", b.matmul(t, kt)), "softmax")
    t = b.matmul(a, t)
    b.linear(b.reshape(t, (24,), "slice"), 10)
    return b.build()


def test_mixed_model_maps_to_its_builder_twin():
    model = _Mixed()
    net = from_torch(model, (3, 32, 32))
    assert structure(net) == structure(_mixed_ir())
    assert net.total_params == sum(p.numel() for p in model.parameters())
    assert net.total_macs - sum(layer.macs for layer in net if layer.kind == "matmul") == count_macs_torch(
        model, (3, 32, 32))


def test_module_names_and_train_flag_restored():
    model = _Mixed().train()
    net = from_torch(model, (3, 32, 32))
    assert "stem" in {layer.name for layer in net} and "se_fc" in {layer.name for layer in net}
    assert model.training and model.bn.training


def test_unsupported_module_is_named():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.LSTM(4, 4))
    with pytest.raises(TorchImportError, match=r"unsupported torch module: module '1' \(LSTM\)"):
        from_torch(model, (3, 8, 8))


class _Erf(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.erf(x)


def test_unsupported_function_is_named():
    with pytest.raises(TorchImportError, match=r"unsupported torch function: function 'erf'"):
        from_torch(_Erf(), (4, 8, 8))


class _Branchy(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x
        return -x


def test_untraceable_control_flow():
    with pytest.raises(TorchImportError, match="torch.fx cannot trace _Branchy"):
        from_torch(_Branchy(), (4, 8, 8))


class _BatchMover(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x.permute(1, 0, 2, 3))


def test_batch_axis_must_stay_first():
    with pytest.raises(TorchImportError, match="batch axis must stay first"):
        from_torch(_BatchMover(), (4, 8, 8))


@pytest.mark.parametrize("shape", [(3, 0, 8), (-1, 4, 4), ()])
def test_bad_input_shape(shape):
    with pytest.raises(TorchImportError, match="input shape must be positive"):
        from_torch(nn.ReLU(), shape)


def test_kernel_larger_than_input_reports_shapes():
    with pytest.raises(TorchImportError):
        from_torch(nn.Conv2d(3, 4, 7), (3, 4, 4))
