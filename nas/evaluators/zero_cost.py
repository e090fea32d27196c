"""Training-free accuracy proxies (seconds per network): synflow, grad-norm and NASWOT.

* ``synflow`` (Tanaka et al. 2020): with all parameters replaced by their absolute values, BN in eval mode and
  an all-ones input, ``R = sum(model(1))``; score = ``sum |theta * dR/dtheta|`` (float64).
* ``grad_norm`` (Abdelfattah et al. 2021): cross-entropy on one batch; score = sum over conv/linear weights of
  the L2 norm of their gradient.
* ``naswot`` (Mellor et al. 2021): binary ReLU activation codes of one batch; ``K = c c^T + (1-c)(1-c)^T``;
  score = ``log|det K|``.

The model's initial weights and the batch are drawn from the task's seed only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nas.evaluators.base import EvalResult, EvalTask, EvaluatorError, build_model, torch_worker
from nas.evaluators.datasets import Dataset, DatasetSpec, load_dataset

PROXIES = ("synflow", "grad_norm", "naswot")


def synflow(model: nn.Module, input_shape: tuple[int, int, int]) -> float:
    """SynFlow score of ``model`` for one ``(C, H, W)`` input (the model is left unchanged)."""
    m = _clone_double(model)
    m.eval()
    with torch.no_grad():
        for p in m.parameters():
            p.abs_()
    m.zero_grad()
    x = torch.ones((1,) + tuple(input_shape), dtype=torch.float64)
    torch.sum(m(x)).backward()
    total = 0.0
    for p in m.parameters():
        if p.grad is not None:
            total += float(torch.sum(torch.abs(p * p.grad)).item())
    return total


def grad_norm(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Sum of the gradient L2 norms of conv/linear weights after one cross-entropy backward pass."""
    model.train()
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    total = 0.0
    for mod in model.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)) and mod.weight.grad is not None:
            total += float(mod.weight.grad.norm(2).item())
    model.zero_grad()
    return total


def naswot(model: nn.Module, x: torch.Tensor) -> float:
    """NASWOT ``log|det K|`` from the binary codes of every ReLU/ReLU6 output for the batch ``x``."""
    codes: list[torch.Tensor] = []

    def hook(_m: nn.Module, _inp: Any, out: torch.Tensor) -> None:
        codes.append((out.detach().reshape(out.shape[0], -1) > 0).to(torch.float64))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]
    try:
        model.train()
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    if not codes:
        raise EvaluatorError("naswot needs a network with ReLU activations")
    c = torch.cat(codes, dim=1)
    k = c @ c.T + (1.0 - c) @ (1.0 - c).T
    sign, logdet = np.linalg.slogdet(k.numpy())
    return float(logdet) if sign != 0 else float("-inf")


def _clone_double(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model).double()


@dataclass(frozen=True)
class ZeroCostEvaluator:
    """Zero-cost proxies of an untrained network. ``proxies``: which of synflow, grad_norm, naswot;
    ``batch_size``: images per proxy batch; ``threads``: torch threads inside the worker."""

    dataset: DatasetSpec = DatasetSpec("synthetic", num_samples=256)
    proxies: tuple[str, ...] = PROXIES
    batch_size: int = 32
    threads: int = 1
    name: str = "zero-cost"

    def __post_init__(self) -> None:
        object.__setattr__(self, "proxies", tuple(self.proxies))
        if not self.proxies:
            raise EvaluatorError("zero-cost evaluator needs at least one proxy")
        for p in self.proxies:
            if p not in PROXIES:
                raise EvaluatorError(f"unknown zero-cost proxy {p!r}; expected one of {', '.join(PROXIES)}")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 2:
            raise EvaluatorError(f"zero-cost batch_size must be an integer >= 2, got {self.batch_size!r}")

    @property
    def needs_parent(self) -> bool:
        return False

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "dataset": self.dataset.to_dict(), "proxies": list(self.proxies),
                "batch_size": self.batch_size}

    def evaluate(self, task: EvalTask) -> EvalResult:
        with torch_worker(self.threads):
            data = load_dataset(self.dataset)
            return self._evaluate(task, data)

    def _evaluate(self, task: EvalTask, data: Dataset) -> EvalResult:
        gen = torch.Generator().manual_seed(task.seed)
        n = min(self.batch_size, len(data.y_train))
        idx = torch.randperm(len(data.y_train), generator=gen)[:n]
        x, y = data.x_train[idx], data.y_train[idx]
        model = build_model(task.space, task.arch, task.seed, data.num_classes, self.dataset.input_size)
        scores: dict[str, float] = {}
        for p in self.proxies:
            if p == "synflow":
                scores[p] = synflow(model, tuple(x.shape[1:]))
            elif p == "grad_norm":
                scores[p] = grad_norm(model, x, y)
            else:
                scores[p] = naswot(model, x)
        return EvalResult(None, scores, None, {"batch": n})
