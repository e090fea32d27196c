"""Pieces the ONNX and torch.fx importers share: the activation value kind and unique layer naming."""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.workload import Shape


@dataclass(frozen=True)
class Act:
    """An activation produced by layer (or graph input) ``src``; ``shape`` is per sample."""

    src: str
    shape: Shape


def unique_name(used: set[str], base: str) -> str:
    """``base``, or ``base_1``, ``base_2``, ... : the first name not in ``used``; adds it to ``used``."""
    nm, k = base, 1
    while nm in used:
        nm = f"{base}_{k}"
        k += 1
    used.add(nm)
    return nm
