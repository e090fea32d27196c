"""Accuracy evaluators: datasets, zero-cost proxies, training with weight inheritance, CSV table."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from .conftest import write_cifar10_fixture
from nas.evaluators.base import EvalTask, EvaluatorError, build_model, state_to_bytes, task_seed, transfer_weights
from nas.evaluators.datasets import DatasetError, DatasetSpec, load_dataset
from nas.evaluators.table import TableEvaluator
from nas.evaluators.train import Budget, TrainEvaluator
from nas.evaluators.zero_cost import ZeroCostEvaluator, grad_norm, naswot, synflow
from spaces.core import Arch
from spaces.registry import get_space


def test_task_seed_depends_only_on_seed_and_key() -> None:
    assert task_seed(0, "a/ssbn_0") == task_seed(0, "a/ssbn_0")
    assert task_seed(0, "a/ssbn_0") != task_seed(1, "a/ssbn_0")
    assert task_seed(0, "a/ssbn_0") != task_seed(0, "b/ssbn_0")
    assert 0 <= task_seed(3, "x") < 2**63


def test_digits_and_synthetic() -> None:
    d = load_dataset(DatasetSpec("digits", 16))
    assert d.x_train.shape[1:] == (3, 16, 16) and d.x_train.dtype == torch.float32
    assert len(d.y_train) + len(d.y_test) == 1797 and set(d.y_test.tolist()) <= set(range(10))
    s1 = load_dataset(DatasetSpec("synthetic", 8, num_samples=100, seed=3))
    s2 = load_dataset(DatasetSpec("synthetic", 8, num_samples=100, seed=3))
    assert torch.equal(s1.x_train, s2.x_train) and torch.equal(s1.y_test, s2.y_test)
    assert not torch.equal(s1.x_train, load_dataset(DatasetSpec("synthetic", 8, num_samples=100, seed=4)).x_train)


def test_cifar10_directory(tmp_path: Path) -> None:
    root = write_cifar10_fixture(tmp_path / "cifar")
    d = load_dataset(DatasetSpec("cifar10", 32, str(root)))
    assert d.x_train.shape == (60, 3, 32, 32) and d.x_test.shape == (10, 3, 32, 32)
    small = load_dataset(DatasetSpec("cifar10", 16, str(root), max_train=7))
    assert small.x_train.shape == (7, 3, 16, 16)


def test_cifar10_missing_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(DatasetSpec("cifar10", 32, str(tmp_path / "nope")))
    (tmp_path / "partial").mkdir()
    with pytest.raises(DatasetError, match="lacks data_batch_1"):
        load_dataset(DatasetSpec("cifar10", 32, str(tmp_path / "partial")))
    with pytest.raises(DatasetError, match="needs a directory"):
        DatasetSpec("cifar10", 32)


def test_synflow_by_hand() -> None:
    lin = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.5, -2.0]]))
    # R = |w1| + |w2| for an all-ones input; dR/dw = 1 -> score = |w1| + |w2|
    assert synflow(nn.Sequential(lin), (2,)) == pytest.approx(2.5)
    assert lin.weight[0, 1].item() == -2.0  # the model itself is untouched


def test_naswot_by_hand() -> None:
    # identity "network": codes are the signs of the inputs
    x = torch.tensor([[1.0, -1.0], [1.0, 1.0], [-1.0, -1.0]])
    k = torch.tensor([[2.0, 1.0, 1.0], [1.0, 2.0, 0.0], [1.0, 0.0, 2.0]])
    assert naswot(nn.Sequential(nn.ReLU()), x) == pytest.approx(torch.logdet(k).item())


def test_grad_norm_positive() -> None:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    assert grad_norm(m, torch.randn(5, 2, 2), torch.tensor([0, 1, 2, 0, 1])) > 0


def _tiny(tiny_families: tuple[str, str]):
    return get_space(tiny_families[0])


def test_zero_cost_deterministic(tiny_families: tuple[str, str]) -> None:
    space = _tiny(tiny_families)
    ev = ZeroCostEvaluator(DatasetSpec("synthetic", 8, num_samples=64), batch_size=8)
    task = EvalTask(space, space.typical_arch(), "k", 11)
    a, b = ev.evaluate(task), ev.evaluate(task)
    assert a.scores == b.scores and set(a.scores) == {"synflow", "grad_norm", "naswot"}
    assert a.accuracy is None
    c = ev.evaluate(EvalTask(space, space.typical_arch(), "k", 12))
    assert c.scores != a.scores


def test_transfer_weights_copies_prefix_and_suffix(tiny_families: tuple[str, str]) -> None:
    space = _tiny(tiny_families)
    base = space.typical_arch()
    other = Arch({**base.to_dict(), "layer0": "res3"}.items())
    src = build_model(space, base, 1, 10, 8)
    dst = build_model(space, other, 2, 10, 8)
    n = transfer_weights(src.state_dict(), src, dst)
    assert n > 0
    # stem (first conv) and classifier (last linear) come from the source
    assert torch.equal(dst.ops["conv"].weight, src.ops["conv"].weight)
    assert torch.equal(dst.ops["linear"].weight, src.ops["linear"].weight)
    fresh = build_model(space, other, 2, 10, 8)
    assert torch.equal(dst.ops["conv_1"].weight, fresh.ops["conv_1"].weight)  # replaced block: first conv differs


def test_train_and_finetune(tiny_families: tuple[str, str]) -> None:
    space = _tiny(tiny_families)
    ev = TrainEvaluator(DatasetSpec("digits", 8, max_train=256, max_test=128), Budget(steps=20), Budget(steps=5),
                        batch_size=32)
    r0 = ev.evaluate(EvalTask(space, space.typical_arch(), "k0", 5, keep_state=True))
    assert 0.0 <= r0.accuracy <= 1.0 and r0.state is not None
    assert r0.accuracy > 0.2  # 20 steps on digits beat chance (0.1)
    again = ev.evaluate(EvalTask(space, space.typical_arch(), "k0", 5, keep_state=True))
    assert again.accuracy == r0.accuracy and again.details == r0.details
    child = Arch({**space.typical_arch().to_dict(), "layer1": "res1"}.items())
    r1 = ev.evaluate(EvalTask(space, child, "k1", 6, parent_state=r0.state))
    assert r1.details["modules_inherited"] > 0 and r1.details["steps"] == 5


def test_budget_parse() -> None:
    assert Budget.parse("3ep") == Budget(epochs=3)
    assert Budget.parse("3") == Budget(epochs=3)
    assert Budget.parse("200steps") == Budget(steps=200)
    with pytest.raises(EvaluatorError):
        Budget.parse("fast")
    with pytest.raises(EvaluatorError):
        Budget(epochs=1, steps=1)


def test_table(tmp_path: Path, tiny_families: tuple[str, str]) -> None:
    space = _tiny(tiny_families)
    arch = space.typical_arch()
    p = tmp_path / "acc.csv"
    p.write_text(f"space,arch,accuracy_percent\n{space.name},{space.format(arch)},91.5\n,res1-res1,50\n")
    ev = TableEvaluator(str(p))
    assert ev.evaluate(EvalTask(space, arch, "k", 0)).accuracy == pytest.approx(0.915)
    assert ev.evaluate(EvalTask(space, space.parse("res1-res1"), "k", 0)).accuracy == pytest.approx(0.5)
    with pytest.raises(EvaluatorError, match="res3-res0"):
        ev.evaluate(EvalTask(space, space.parse("res3-res0"), "k", 0))
    bad = tmp_path / "bad.csv"
    bad.write_text("arch,accuracy\nres0-res0,95\n")
    with pytest.raises(EvaluatorError, match="bad.csv:2"):
        TableEvaluator(str(bad))


def test_evaluators_pickle(tiny_families: tuple[str, str]) -> None:
    import pickle

    space = _tiny(tiny_families)
    for ev in (ZeroCostEvaluator(), TrainEvaluator()):
        assert pickle.loads(pickle.dumps(ev)) == ev
    assert pickle.loads(pickle.dumps(space)).format(space.typical_arch()) == space.format(space.typical_arch())
    assert isinstance(state_to_bytes(nn.Linear(2, 2)), bytes)
