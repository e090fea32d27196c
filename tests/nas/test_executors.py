"""Executors deliver every result once, in the caller's process, whatever the worker count."""

from __future__ import annotations

import operator

import pytest

from nas.executors import ExecutorError, LocalExecutor, make_executor


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_delivers_all(workers: int) -> None:
    got: dict[int, int] = {}
    LocalExecutor(workers).map(operator.neg, [3, 1, 4, 1, 5], lambda i, r: got.__setitem__(i, r))
    assert got == {0: -3, 1: -1, 2: -4, 3: -1, 4: -5}


def test_error_propagates_after_delivered_results() -> None:
    got: list[int] = []
    with pytest.raises(TypeError):
        LocalExecutor(1).map(operator.neg, [2, "x", 3], lambda i, r: got.append(r))
    assert got == [-2]


def test_make_executor() -> None:
    assert make_executor("local", 3) == LocalExecutor(3)
    with pytest.raises(ExecutorError, match="unknown executor"):
        make_executor("slurm")
    with pytest.raises(ExecutorError):
        LocalExecutor(-1)
