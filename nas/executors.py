"""Where SSBN evaluations run: in this process, in a local process pool, or on a Ray cluster.

An executor maps a module-level function over a list of picklable items and hands each result to
``on_done(index, result)`` *in the calling process* as soon as it finishes (completion order), so the caller
can persist it at once; an exception in any item stops the run after the results already delivered.
Results never depend on the executor: every item carries its own seed.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from hwsim.errors import HwnasError

T = TypeVar("T")
R = TypeVar("R")


class ExecutorError(HwnasError):
    """Bad executor settings, or Ray missing."""


@runtime_checkable
class Executor(Protocol):
    name: str

    def map(self, fn: Callable[[T], R], items: Sequence[T], on_done: Callable[[int, R], None]) -> None: ...


@dataclass(frozen=True)
class LocalExecutor:
    """``workers`` processes (spawned, so torch starts clean in each); ``workers <= 1`` runs in this process."""

    workers: int = 1
    name: str = "local"

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 0:
            raise ExecutorError(f"workers must be a non-negative integer, got {self.workers!r}")

    def map(self, fn: Callable[[T], R], items: Sequence[T], on_done: Callable[[int, R], None]) -> None:
        if not items:
            return
        if self.workers <= 1 or len(items) == 1:
            for i, item in enumerate(items):
                on_done(i, fn(item))
            return
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=min(self.workers, len(items)), mp_context=ctx) as pool:
            futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            try:
                for fut in cf.as_completed(futures):
                    on_done(futures[fut], fut.result())
            except BaseException:
                for f in futures:
                    f.cancel()
                raise


@dataclass(frozen=True)
class RayExecutor:
    """Spread items over a Ray cluster (``address``: e.g. ``"auto"`` or ``"ray://host:10001"``; None starts a
    local Ray instance with ``num_cpus`` CPUs). Each item takes ``cpus_per_task`` CPUs. A Ray instance this
    executor started is shut down when the map ends. Workers must be able to import hwnas (install it on every
    node) and read any dataset directory the evaluator names."""

    address: str | None = None
    num_cpus: int | None = None
    cpus_per_task: float = 1.0
    name: str = "ray"

    def map(self, fn: Callable[[T], R], items: Sequence[T], on_done: Callable[[int, R], None]) -> None:
        if not items:
            return
        ray = import_ray()
        started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if self.address:
                kwargs["address"] = self.address
            else:
                kwargs["num_cpus"] = self.num_cpus or os.cpu_count() or 1
            ray.init(**kwargs)
            started = True
        try:
            remote = ray.remote(num_cpus=self.cpus_per_task)(fn)
            refs = {remote.remote(item): i for i, item in enumerate(items)}
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    on_done(refs[ref], ray.get(ref))
        finally:
            if started:
                ray.shutdown()


def import_ray() -> Any:
    """The ``ray`` module, or an :class:`ExecutorError` telling how to install it."""
    try:
        import ray
    except ImportError:
        raise ExecutorError("the ray executor needs Ray: pip install 'hwnas[ray]'") from None
    return ray


def make_executor(kind: str, workers: int = 1, address: str | None = None) -> Executor:
    """``local`` (process pool of ``workers``) or ``ray`` (``address`` or a local instance of ``workers`` CPUs)."""
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "ray":
        import_ray()
        return RayExecutor(address, num_cpus=workers if not address else None)
    raise ExecutorError(f"unknown executor {kind!r}; expected local or ray")
