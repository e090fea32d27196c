"""Mutated design-space tables: a valid space or a one-line HwnasError naming the source, never another exception."""

from __future__ import annotations

import tomllib

from hypothesis import given

from hwsim.errors import HwnasError
from hwsim.hwspace import space_from_tables
from tests.fuzz._strategies import FUZZ, mutated

_SPACE = tomllib.loads("""
[space]
name = "f"
template = "systolic"
[params]
array_rows = [8, 16]
dataflow = ["os", "ws"]
dram_bandwidth = [10]
silicon.word_bits = [8, 16]
[fixed]
preset = "scalesim_32x32"
[limits]
area_mm2 = 100.0
""")


@FUZZ
@given(doc=mutated(_SPACE))
def test_mutated_space_tables(doc: object) -> None:
    try:
        space = space_from_tables(doc, "fuzz.toml")
    except HwnasError as e:
        msg = str(e)
        assert "\n" not in msg and msg
        return
    assert space.size >= 1
    p = space.config(space.size - 1)
    assert space.index(p) == space.size - 1
