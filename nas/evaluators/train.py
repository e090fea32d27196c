"""The ``train`` evaluator: train SSBN_0, fine-tune every other SSBN from its weights, report test accuracy.

SGD with momentum and a cosine learning-rate schedule over the budget; mini-batches drawn with a
``torch.Generator`` seeded by the task; deterministic torch algorithms and a fixed thread count in the worker.
A budget is a number of epochs or of optimiser steps (exactly one of them).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nas.evaluators.base import (
    EvalResult,
    EvalTask,
    EvaluatorError,
    build_model,
    state_from_bytes,
    state_to_bytes,
    torch_worker,
    transfer_weights,
)
from nas.evaluators.datasets import Dataset, DatasetSpec, load_dataset


@dataclass(frozen=True)
class Budget:
    """Training length: ``epochs`` passes over the training split or ``steps`` optimiser steps (one is 0)."""

    epochs: int = 0
    steps: int = 0

    def __post_init__(self) -> None:
        for fld in ("epochs", "steps"):
            v = getattr(self, fld)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise EvaluatorError(f"budget.{fld} must be a non-negative integer, got {v!r}")
        if (self.epochs > 0) == (self.steps > 0):
            raise EvaluatorError(f"a budget needs exactly one of epochs or steps > 0, got epochs={self.epochs}, "
                                 f"steps={self.steps}")

    def total_steps(self, num_train: int, batch_size: int) -> int:
        return self.steps if self.steps else self.epochs * math.ceil(num_train / batch_size)

    @classmethod
    def parse(cls, text: str) -> Budget:
        """``"3"`` / ``"3ep"`` (epochs) or ``"200steps"`` / ``"200s"``."""
        m = re.fullmatch(r"\s*(\d+)\s*(ep|epochs?|steps?|s)?\s*", text.lower())
        if not m:
            raise EvaluatorError(f"budget {text!r}: expected e.g. '3ep' (epochs) or '200steps'")
        n = int(m.group(1))
        return cls(steps=n) if (m.group(2) or "ep").startswith("s") else cls(epochs=n)

    def to_dict(self) -> dict[str, int]:
        return {"epochs": self.epochs, "steps": self.steps}


def train_model(model: nn.Module, data: Dataset, budget: Budget, batch_size: int, lr: float, momentum: float,
                weight_decay: float, gen: torch.Generator) -> float:
    """Train in place; returns the mean training loss of the last 10% of steps."""
    n = len(data.y_train)
    total = budget.total_steps(n, batch_size)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    model.train()
    order = torch.randperm(n, generator=gen)
    pos = 0
    tail: list[float] = []
    for step in range(total):
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        for g in opt.param_groups:
            g["lr"] = 0.5 * lr * (1.0 + math.cos(math.pi * step / total))
        opt.zero_grad()
        loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        loss.backward()
        opt.step()
        if step >= total - max(1, total // 10):
            tail.append(float(loss.item()))
    return sum(tail) / len(tail) if tail else float("nan")


def accuracy_on_test(model: nn.Module, data: Dataset, batch_size: int = 256) -> float:
    """Top-1 accuracy (fraction) on the test split, BN in eval mode."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(data.y_test), batch_size):
            pred = model(data.x_test[i:i + batch_size]).argmax(dim=1)
            correct += int((pred == data.y_test[i:i + batch_size]).sum().item())
    return correct / len(data.y_test)


@dataclass(frozen=True)
class TrainEvaluator:
    """Train SSBN_0 for ``train_budget``; fine-tune the others from its weights for ``finetune_budget``."""

    dataset: DatasetSpec = DatasetSpec("digits")
    train_budget: Budget = Budget(epochs=3)
    finetune_budget: Budget = Budget(epochs=1)
    batch_size: int = 64
    lr: float = 0.05
    finetune_lr: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 1e-4
    threads: int = 1
    name: str = "train"

    def __post_init__(self) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size <= 0:
            raise EvaluatorError(f"train batch_size must be a positive integer, got {self.batch_size!r}")
        for fld in ("lr", "finetune_lr"):
            v = getattr(self, fld)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise EvaluatorError(f"train {fld} must be a positive number, got {v!r}")

    @property
    def needs_parent(self) -> bool:
        return True

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "dataset": self.dataset.to_dict(), "train_budget": self.train_budget.to_dict(),
                "finetune_budget": self.finetune_budget.to_dict(), "batch_size": self.batch_size, "lr": self.lr,
                "finetune_lr": self.finetune_lr, "momentum": self.momentum, "weight_decay": self.weight_decay}

    def evaluate(self, task: EvalTask) -> EvalResult:
        with torch_worker(self.threads):
            data = load_dataset(self.dataset)
            model = build_model(task.space, task.arch, task.seed, data.num_classes, self.dataset.input_size)
            copied = 0
            if task.parent_state is not None:
                parent = build_model(task.space, task.space.typical_arch(), 0, data.num_classes,
                                     self.dataset.input_size)
                copied = transfer_weights(state_from_bytes(task.parent_state), parent, model)
                budget, lr = self.finetune_budget, self.finetune_lr
            else:
                budget, lr = self.train_budget, self.lr
            gen = torch.Generator().manual_seed(task.seed)
            loss = train_model(model, data, budget, self.batch_size, lr, self.momentum, self.weight_decay, gen)
            acc = accuracy_on_test(model, data)
            state = state_to_bytes(model) if task.keep_state else None
            return EvalResult(acc, {}, state, {"final_train_loss": loss, "steps": budget.total_steps(
                len(data.y_train), self.batch_size), "modules_inherited": copied,
                "test_samples": int(len(data.y_test))})
