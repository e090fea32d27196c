"""Progress bars for long loops: a factory ``progress(total, desc) -> bar`` that library code receives as an
argument (never a global), with ``bar.update(n)`` and ``bar.close()``.

The CLI passes :func:`progress_factory` (tqdm on stderr, off with ``--quiet``); library functions default to
:func:`null_progress`. :func:`track` wraps an iterable with a bar from a factory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
ProgressFactory = Callable[[int, str], Any]


class _NullBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _NullBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def null_progress(total: int, desc: str) -> Any:
    """A bar that shows nothing."""
    return _NullBar()


def progress_factory(quiet: bool = False) -> ProgressFactory:
    """tqdm bars on stderr (left behind when finished only if the loop took long), or none when ``quiet``."""
    if quiet:
        return null_progress

    def factory(total: int, desc: str) -> Any:
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, dynamic_ncols=True, leave=False, mininterval=0.5)

    return factory


def track(items: Iterable[T], total: int, desc: str, progress: ProgressFactory | None) -> Iterator[T]:
    """Yield ``items`` while advancing a bar of ``progress`` (nothing shown when ``progress`` is None)."""
    bar = (progress or null_progress)(total, desc)
    try:
        for item in items:
            yield item
            bar.update(1)
    finally:
        bar.close()


__all__ = ["ProgressFactory", "null_progress", "progress_factory", "track"]
