"""hwsim.formats: typed reading, envelope, file loading and writing; and that the packages use nothing else."""

from __future__ import annotations

import ast
import enum
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from hwsim.errors import HwnasError
from hwsim.formats import (
    Format,
    FormatError,
    build,
    convert,
    expect_object,
    load_json,
    load_toml,
    parse_json,
    parse_toml,
    read_text,
    to_data,
)

ROOT = Path(__file__).resolve().parents[2]


class MyError(HwnasError):
    pass


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Inner:
    a: int
    b: float = 1.0


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    items: tuple[Inner, ...] = ()
    pair: tuple[str, float] | None = None
    tags: Mapping[str, int] = field(default_factory=dict)
    colour: Colour = Colour.RED
    mode: Literal["x", "y"] = "x"
    extra: Any = None
    flag: bool = False

    def __post_init__(self) -> None:
        if self.inner.a < 0:
            raise MyError(f"inner.a must be >= 0, got {self.inner.a}")


def _one_line(e: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


# ------------------------------------------------------------------------------------------------
# convert: one value against a type hint
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, tp, expected", [
    (3, int, 3), (3, float, 3.0), (2.5, float, 2.5), (True, bool, True), ("s", str, "s"), (None, int | None, None),
    (4, int | None, 4), ([1, 2], tuple[int, ...], (1, 2)), ([], tuple[int, ...], ()), (["a", 1.5], tuple[str, float],
                                                                                        ("a", 1.5)),
    ([1, 2], list[int], [1, 2]), ({"k": 1}, Mapping[str, int], {"k": 1}), ({"k": 1}, dict[str, int], {"k": 1}),
    ("blue", Colour, Colour.BLUE), ("y", Literal["x", "y"], "y"), ([[1, 2], [3]], tuple[tuple[int, ...], ...],
                                                                    ((1, 2), (3,))),
    ({"a": 1}, Inner, Inner(1)), ([1, "x", None], Any, [1, "x", None]), (math.nan, float, "nan-with-finite-false"),
])
def test_convert_accepts(value: Any, tp: Any, expected: Any) -> None:
    if expected == "nan-with-finite-false":
        assert math.isnan(convert(value, tp, "f.json", "x", finite=False))
        return
    got = convert(value, tp, "f.json", "x")
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("value, tp, needle", [
    (True, int, "field 'x' must be int, got True"), (1.0, int, "must be int, got 1.0"), ("3", int, "must be int"),
    (True, float, "must be float"), (math.inf, float, "must be finite, got inf"), (1, bool, "must be bool, got 1"),
    (1, str, "must be str"), ([1, "a"], tuple[int, ...], "field 'x[1]' must be int, got 'a'"),
    ("ab", tuple[str, ...], "must be tuple"), (["a"], tuple[str, float], "must be an array of 2 values"),
    ({"k": "v"}, Mapping[str, int], "field 'x.k' must be int"), ([1], Mapping[str, int], "must be object"),
    ("green", Colour, "must be one of 'red', 'blue', got 'green'"), ("z", Literal["x", "y"], "one of 'x', 'y'"),
    ({"a": 1, "c": 2}, Inner, "f.json: x: unknown field 'c'"), ({}, Inner, "f.json: x: missing field 'a'"),
    ("s", int | None, "must be int"), (1.5, int | str, "must be int or str, got 1.5"),
])
def test_convert_rejects_with_one_line(value: Any, tp: Any, needle: str) -> None:
    with pytest.raises(MyError) as e:
        convert(value, tp, "f.json", "x", MyError)
    assert needle in _one_line(e), str(e.value)
    assert str(e.value).startswith("f.json: ")


def test_word_names_keys_in_toml() -> None:
    with pytest.raises(FormatError, match=r"dev.toml: \[hardware\]: key 'cores' must be int, got 'three'"):
        convert("three", int, "dev.toml: [hardware]", "cores", word="key")


def test_long_values_are_cut_in_messages() -> None:
    with pytest.raises(FormatError) as e:
        convert(["x" * 50] * 50, int, "f.json", "x")
    assert len(str(e.value)) < 200 and "..." in str(e.value)


# ------------------------------------------------------------------------------------------------
# build: a dataclass from an object
# ------------------------------------------------------------------------------------------------
def test_build_nested_and_round_trip_through_to_data() -> None:
    doc = {"name": "n", "inner": {"a": 1, "b": 2}, "items": [{"a": 2}], "pair": ["p", 3], "tags": {"t": 1},
           "colour": "blue", "mode": "y", "extra": {"anything": [1]}, "flag": True}
    obj = build(Outer, doc, "f.json", MyError)
    assert obj == Outer("n", Inner(1, 2.0), (Inner(2, 1.0),), ("p", 3.0), {"t": 1}, Colour.BLUE, "y",
                        {"anything": [1]}, True)
    data = to_data(obj)
    assert data == {**doc, "inner": {"a": 1, "b": 2.0}, "items": [{"a": 2, "b": 1.0}], "pair": ["p", 3.0]}
    assert build(Outer, json.loads(json.dumps(data)), "f.json", MyError) == obj
    assert list(to_data(obj, exclude=("extra", "flag"))) == ["name", "inner", "items", "pair", "tags", "colour", "mode"]


@pytest.mark.parametrize("doc, needle", [
    ({"name": "n"}, "f.json: missing field 'inner'"),
    ({"name": "n", "inner": {"a": 1}, "colour2": 1}, "f.json: unknown field 'colour2' (value 1); expected one of "
                                                     "colour, extra, flag, inner, items, mode, name, pair, tags"),
    ({"name": "n", "inner": {"a": -1}}, "f.json: inner.a must be >= 0, got -1"),
    ({"name": "n", "inner": {"a": 1}, "items": [{"a": 1}, {"a": "z"}]}, "f.json: items[1]: field 'a' must be int"),
    ([1, 2], "f.json: expected an object, got array [1, 2]"),
])
def test_build_errors(doc: Any, needle: str) -> None:
    with pytest.raises(MyError) as e:
        build(Outer, doc, "f.json", MyError)
    assert needle in _one_line(e), str(e.value)


def test_build_ignore_exclude_fixed() -> None:
    assert build(Inner, {"a": 1, "kind": "k"}, "w", ignore=("kind",)) == Inner(1)
    with pytest.raises(FormatError, match="unknown field 'b'"):
        build(Inner, {"a": 1, "b": 2.0}, "w", exclude=("b",))
    assert build(Inner, {"a": 1}, "w", fixed={"b": 7.0}) == Inner(1, 7.0)
    with pytest.raises(FormatError, match="unknown field 'b'"):  # a fixed field cannot come from the file
        build(Inner, {"a": 1, "b": 2.0}, "w", fixed={"b": 7.0})


# ------------------------------------------------------------------------------------------------
# the envelope
# ------------------------------------------------------------------------------------------------
FMT = Format("hwnas.test", 2, "test file", MyError)


def test_envelope_check() -> None:
    good = {"format": "hwnas.test", "version": 2, "x": 1}
    assert FMT.check(good, "t.json") is good and FMT.body(good, "t.json") == {"x": 1}
    for doc, needle in [
        ({"format": "other", "version": 2}, "t.json: not an hwnas test file (field 'format' must be 'hwnas.test', "
                                            "got 'other')"),
        ({"version": 2}, "field 'format' must be 'hwnas.test', got None"),
        ({"format": "hwnas.test", "version": 1}, "t.json: unsupported test file version 1 (field 'version'; this "
                                                 "hwnas reads version 2)"),
        ({"format": "hwnas.test", "version": "2"}, "unsupported test file version '2'"),
        ({"format": "hwnas.test", "version": 2.0}, "unsupported test file version 2.0"),
        ([], "t.json: not an hwnas test file: expected a JSON object, got array"),
    ]:
        with pytest.raises(MyError) as e:
            FMT.check(doc, "t.json")
        assert needle in _one_line(e), str(e.value)
    with pytest.raises(MyError, match="version True"):  # True == 1 in Python, but not a version
        Format("hwnas.test", 1, "test file", MyError).check({"format": "hwnas.test", "version": True}, "t.json")


def test_envelope_build_wraps_and_writes(tmp_path: Path) -> None:
    assert list(FMT.wrap({"b": 1, "a": 2})) == ["format", "version", "b", "a"]
    assert FMT.wrap(FMT.wrap({"a": 1})) == FMT.wrap({"a": 1})
    with pytest.raises(ValueError):
        FMT.wrap({"format": "hwnas.other"})
    body = {"name": "n", "inner": {"a": 1, "b": 0.1}}
    # dumps is json.dumps of the wrapped body (what every writer wrote before the layer existed)
    assert FMT.dumps(body, indent=1) == json.dumps({"format": "hwnas.test", "version": 2, **body}, indent=1) + "\n"
    assert FMT.dumps(body, indent=None, newline=False) == json.dumps(FMT.wrap(body))
    assert FMT.dumps({"b": 1, "a": 2}, sort_keys=True, indent=0) == json.dumps(FMT.wrap({"b": 1, "a": 2}),
                                                                               sort_keys=True, indent=0) + "\n"
    with pytest.raises(ValueError):
        FMT.dumps({"x": math.nan}, allow_nan=False)
    p = tmp_path / "sub" / "t.json"
    FMT.write(p, body)
    assert not [q for q in p.parent.iterdir() if q.name != "t.json"]  # no temp file left
    assert FMT.build(Outer, FMT.load(p), str(p)) == Outer("n", Inner(1, 0.1))
    with pytest.raises(MyError, match=re.escape(f"{p}: unknown field 'format'")):
        build(Outer, FMT.load(p), str(p), MyError)  # the envelope is not a field of the body


# ------------------------------------------------------------------------------------------------
# reading files
# ------------------------------------------------------------------------------------------------
def test_reading_errors_name_the_file(tmp_path: Path) -> None:
    bad_utf8 = tmp_path / "b.json"
    bad_utf8.write_bytes(b'{"a": "\xff"}')
    syntax = tmp_path / "s.json"
    syntax.write_text('{"a": 1,\n "b": }')
    deep = tmp_path / "d.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    toml = tmp_path / "t.toml"
    toml.write_text('a = 1\nb = = 2\n')
    cases = [
        (lambda: read_text(tmp_path / "none.json", MyError), f"{tmp_path / 'none.json'}: file not found"),
        (lambda: read_text(tmp_path, MyError), "is a directory"),
        (lambda: load_json(bad_utf8, MyError), f"{bad_utf8}: not a UTF-8 text file (byte 7)"),
        (lambda: load_json(syntax, MyError), f"{syntax}: invalid JSON at line 2, column 7: Expecting value"),
        (lambda: load_json(deep, MyError), f"{deep}: invalid JSON (nested too deeply)"),
        (lambda: load_toml(toml, MyError), f"{toml}: invalid TOML: "),
        (lambda: FMT.load(syntax), f"{syntax}: invalid JSON at line 2"),
        (lambda: expect_object([1], "x.json", MyError), "x.json: expected an object, got array [1]"),
    ]
    for fn, needle in cases:
        with pytest.raises(MyError) as e:
            fn()
        assert needle in _one_line(e), str(e.value)
    assert parse_json('{"a": [1, 2.5]}', "s") == {"a": [1, 2.5]}
    assert parse_toml('a = 1\n[t]\nb = "x"\n', "s") == {"a": 1, "t": {"b": "x"}}


# ------------------------------------------------------------------------------------------------
# the packages read and write their formats through this layer only
# ------------------------------------------------------------------------------------------------
_PACKAGES = ("hwsim", "calibration", "nas", "spaces")
# (file, pattern) pairs that stay, with why
_ALLOWED = {
    # the sweep's .npz result: a format array inside a binary columnar file, not a JSON envelope
    ("hwsim/sweep/engine.py", '["format"]'),
    # a JSON round trip that turns the parsed device TOML into plain JSON values (not a file read)
    ("nas/profiling.py", "json.loads("),
    # search.json: written by the search driver, never read back (nas/search is being rewritten elsewhere)
    ("nas/search/run.py", '"format":'),
}
_PATTERNS = ('.get("format")', "['format']", '["format"]', '"format":', "json.loads(", "json.load(", "tomllib",
             "JSONDecodeError")


def _code_without_docstrings(text: str) -> str:
    """``text`` with every string statement (docstrings, schema descriptions) blanked out."""
    lines = text.splitlines()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for i in range(node.lineno - 1, node.end_lineno or node.lineno):
                lines[i] = ""
    return "\n".join(lines)


def test_no_format_check_outside_the_layer() -> None:
    found = []
    for pkg in _PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "hwsim/formats.py":
                continue
            text = _code_without_docstrings(path.read_text(encoding="utf-8"))
            for pat in _PATTERNS:
                if pat in text and (rel, pat) not in _ALLOWED:
                    found.append(f"{rel}: {pat}")
    assert not found, found
