"""Where sweep batches run: an ordered ``map_fn(fn, items) -> iterable of results``.

``None``/:func:`local_map` runs in this process; :func:`process_map` uses a local process pool; :func:`ray_map`
spreads the items over a Ray cluster (Ray imported only when used). ``fn`` must be picklable for the last two.
Results come back in item order, so the caller can persist each one as it arrives.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from hwsim.sweep.features import SweepError

MapFn = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]


def local_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Any]:
    """In this process, in order."""
    return map(fn, items)


def process_map(workers: int) -> MapFn:
    """A map over ``workers`` spawned processes (``workers <= 1``: in this process)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise SweepError(f"workers must be a non-negative integer, got {workers!r}")

    def run(fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Any]:
        items = list(items)
        if workers <= 1 or len(items) <= 1:
            yield from map(fn, items)
            return
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=ctx) as pool:
            yield from pool.map(fn, items)

    return run


def ray_map(address: str | None = None, num_cpus: int | None = None, cpus_per_task: float = 1.0) -> MapFn:
    """A map over a Ray cluster (``address`` e.g. ``"auto"``; None starts a local instance with ``num_cpus``
    CPUs, shut down at the end). Every node must be able to import hwnas."""

    def run(fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Any]:
        items = list(items)
        if not items:
            return
        try:
            import ray
        except ImportError:
            raise SweepError("the ray executor needs Ray: pip install 'hwnas[ray]'") from None
        started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if address:
                kwargs["address"] = address
            else:
                kwargs["num_cpus"] = num_cpus or os.cpu_count() or 1
            ray.init(**kwargs)
            started = True
        try:
            remote = ray.remote(num_cpus=cpus_per_task)(fn)
            refs = [remote.remote(item) for item in items]
            for ref in refs:
                yield ray.get(ref)
        finally:
            if started:
                ray.shutdown()

    return run


__all__ = ["MapFn", "local_map", "process_map", "ray_map"]
