"""Search Space Base Networks (BBSSP): SSBN_0 and the single-layer replacements SSBN_(i,j).

SSBN_0 puts the space's typical block in every layer; SSBN_(i,j) replaces layer i's block by candidate j. A space
with L layers and B candidates per layer gives 1 + L(B-1) networks (97 / 97 / 145 for the 12-layer BBSSP
Res / Mobile / VGG families).
"""

from __future__ import annotations

from dataclasses import dataclass

from spaces.core import Arch, SearchSpace


@dataclass(frozen=True)
class SSBN:
    """One base network: ``layer``/``block`` are None for SSBN_0, else the replaced label and its new block."""

    arch: Arch
    layer: str | None = None
    block: str | None = None

    @property
    def key(self) -> str:
        """``ssbn_0`` or ``ssbn_<label>_<block>``."""
        return "ssbn_0" if self.layer is None else f"ssbn_{self.layer}_{self.block}"


def ssbns(space: SearchSpace) -> tuple[SSBN, ...]:
    """SSBN_0 followed by SSBN_(i,j) in layer-major, candidate order (the typical block is skipped)."""
    base = space.typical_arch()
    out = [SSBN(base)]
    for c in space.choices:
        for b in c.candidates:
            if b != base[c.label]:
                out.append(SSBN(Arch({**base.to_dict(), c.label: b}.items()), c.label, b))
    return tuple(out)


def num_ssbn(space: SearchSpace) -> int:
    """1 + sum over layers of (candidates - 1)."""
    return 1 + sum(len(c.candidates) - 1 for c in space.choices)
