"""One validated-serialisation layer for every hwnas file format (see docs/formats.md).

* **Reading** -- :func:`read_text`, :func:`parse_json`, :func:`load_json`, :func:`parse_toml`,
  :func:`load_toml`: a missing file, bad encoding, bad syntax or a wrong top-level type is one
  :class:`~hwsim.errors.HwnasError` line naming the file (and the line for syntax errors).
* **Envelope** -- :class:`Format` ``(name, version)``: every JSON file starts with
  ``{"format": name, "version": version, ...}``; :meth:`Format.check` rejects anything else with one line
  naming the file, the field and the value; :meth:`Format.dumps` / :meth:`Format.write` (atomic) write it.
* **Typed fields** -- :func:`convert` (one value against a type hint) and :func:`build` (a frozen dataclass
  from a JSON object or TOML table): ``int``, ``float`` (finite unless asked), ``bool``, ``str``,
  ``tuple[X, ...]``, ``tuple[X, Y]``, ``list[X]``, ``Mapping[str, X]``, ``X | None``, ``Literal[...]``, enums and
  nested dataclasses. Unknown keys and missing required keys are errors naming the key; the dataclass's own
  ``__post_init__`` checks (ranges, consistency) run as usual and their message is prefixed with where.
  :func:`to_data` is the inverse (dataclass -> JSON-ready value).

Every function takes the :class:`HwnasError` subclass to raise (``error=``), so each package keeps its own
error type (``WorkloadError``, ``LutError``, ``DeviceError``, ...) while the checks are written once here.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import math
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from hwsim.errors import HwnasError
from hwsim.fileio import atomic_write_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (pyproject lists tomli there)
    import tomli as tomllib


class FormatError(HwnasError):
    """A file that is not in the format it should be (default error type of this module)."""


ErrorType = type[HwnasError]
_MAX_REPR = 80


def short_repr(value: Any, limit: int = _MAX_REPR) -> str:
    """``repr(value)`` cut to ``limit`` characters (always one line)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def kind_name(value: Any) -> str:
    """The JSON/TOML name of a value's type (object, array, string, number, boolean, null)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


# ------------------------------------------------------------------------------------------------
# reading files
# ------------------------------------------------------------------------------------------------
def read_text(path: str | Path, error: ErrorType = FormatError) -> str:
    """The UTF-8 text of ``path``; a missing, unreadable or non-UTF-8 file is one ``error`` line."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{p}: file not found") from None
    except IsADirectoryError:
        raise error(f"{p}: is a directory, expected a file") from None
    except UnicodeDecodeError as e:
        raise error(f"{p}: not a UTF-8 text file (byte {e.start})") from None
    except OSError as e:
        raise error(f"{p}: cannot read the file ({_one_line(e.strerror or type(e).__name__)})") from None


def parse_json(text: str, source: str, error: ErrorType = FormatError) -> Any:
    """Parse JSON text; a syntax error names ``source``, the line and the column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise error(f"{source}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise error(f"{source}: invalid JSON (nested too deeply)") from None


def load_json(path: str | Path, error: ErrorType = FormatError) -> Any:
    """:func:`read_text` + :func:`parse_json`."""
    return parse_json(read_text(path, error), str(path), error)


def parse_toml(text: str, source: str, error: ErrorType = FormatError) -> dict[str, Any]:
    """Parse TOML text; a syntax error names ``source`` and the position."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error(f"{source}: invalid TOML: {_one_line(str(e))}") from None


def load_toml(path: str | Path, error: ErrorType = FormatError) -> dict[str, Any]:
    """:func:`read_text` + :func:`parse_toml`."""
    return parse_toml(read_text(path, error), str(path), error)


def expect_object(doc: Any, where: str, error: ErrorType = FormatError) -> Mapping[str, Any]:
    """``doc`` itself when it is a JSON object / TOML table, else one ``error`` line."""
    if not isinstance(doc, Mapping):
        raise error(f"{where}: expected an object, got {kind_name(doc)} {short_repr(doc)}")
    return doc


# ------------------------------------------------------------------------------------------------
# typed fields
# ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Opts:
    error: ErrorType
    word: str
    finite: bool


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is not None:
        if origin in (typing.Union, types.UnionType):
            return " or ".join(_type_name(a) for a in typing.get_args(tp))
        if origin is typing.Literal:
            return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
        if isinstance(origin, type) and issubclass(origin, Mapping):
            return "object"
        return getattr(origin, "__name__", str(origin))
    if tp is type(None):
        return "null"
    if dataclasses.is_dataclass(tp):
        return "object" if tp.__name__.startswith("_") else f"object ({tp.__name__})"
    return getattr(tp, "__name__", str(tp))


def _fail(o: _Opts, where: str, key: str, tp: Any, value: Any) -> HwnasError:
    return o.error(f"{where}: {o.word} {key!r} must be {_type_name(tp)}, got {short_repr(value)}")


def _convert(value: Any, tp: Any, where: str, key: str, o: _Opts) -> Any:
    if tp is Any or tp is object:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _convert(value, args[0], where, key, o)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors: list[HwnasError] = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(value, a, where, key, o)
            except HwnasError as e:
                errors.append(e)
        if len(errors) == 1:  # X | None: the message of X
            raise errors[0]
        raise _fail(o, where, key, tp, value)
    if tp is type(None):
        if value is None:
            return None
    elif tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if o.finite and not math.isfinite(value):
                raise o.error(f"{where}: {o.word} {key!r} must be finite, got {value!r}")
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif origin is typing.Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except (ValueError, TypeError):
            raise o.error(f"{where}: {o.word} {key!r} must be one of "
                          f"{', '.join(repr(m.value) for m in tp)}, got {short_repr(value)}") from None
    elif origin is tuple:
        if isinstance(value, (list, tuple)):
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(_convert(v, args[0], where, f"{key}[{i}]", o) for i, v in enumerate(value))
            if args == ((),) or not args:
                if not value:
                    return ()
            elif len(value) == len(args):
                return tuple(_convert(v, a, where, f"{key}[{i}]", o) for i, (v, a) in enumerate(zip(value, args)))
            raise o.error(f"{where}: {o.word} {key!r} must be an array of {len(args)} values, got "
                          f"{short_repr(value)}")
    elif origin is list:
        if isinstance(value, (list, tuple)):
            return [_convert(v, args[0], where, f"{key}[{i}]", o) for i, v in enumerate(value)]
    elif origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        if isinstance(value, Mapping):
            kt, vt = args if args else (str, Any)
            out = {}
            for k, v in value.items():
                out[_convert(k, kt, where, f"{key} key", o)] = _convert(v, vt, where, f"{key}.{k}", o)
            return out
    elif dataclasses.is_dataclass(tp):
        if isinstance(value, Mapping):
            return _build(tp, value, f"{where}: {key}", o, (), (), {})
    else:
        raise o.error(f"{where}: {o.word} {key!r} has a type ({tp!r}) that files cannot hold")
    raise _fail(o, where, key, tp, value)


def convert(value: Any, tp: Any, where: str, key: str, error: ErrorType = FormatError, *, word: str = "field",
            finite: bool = True) -> Any:
    """``value`` (parsed JSON/TOML) checked and converted to the type hint ``tp``.

    ``where`` (file and position) and ``key`` name it in the one-line ``error``; ``word`` is how keys are
    called (``field`` in JSON, ``key`` in TOML); ``finite=False`` lets floats be NaN/inf. Arrays become tuples
    (``tuple[...]``) or lists, ints are accepted for floats, booleans never for numbers.
    """
    return _convert(value, tp, where, key, _Opts(error, word, finite))


@functools.lru_cache(maxsize=None)
def _spec(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type hint, required) of every init field of dataclass ``cls``."""
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out.append((f.name, hints[f.name], required))
    return tuple(out)


def _build(cls: type, data: Any, where: str, o: _Opts, ignore: Iterable[str], exclude: Iterable[str],
           fixed: Mapping[str, Any]) -> Any:
    if not isinstance(data, Mapping):
        raise o.error(f"{where}: expected an object, got {kind_name(data)} {short_repr(data)}")
    ignore, exclude = set(ignore), set(exclude) | set(fixed)
    spec = {name: (tp, req) for name, tp, req in _spec(cls) if name not in exclude}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in ignore:
            continue
        if key not in spec:
            raise o.error(f"{where}: unknown {o.word} {short_repr(key)} (value {short_repr(value)}); expected one of "
                          f"{', '.join(sorted(spec))}")
        kwargs[key] = _convert(value, spec[key][0], where, key, o)
    for name, (_tp, req) in spec.items():
        if req and name not in kwargs:
            raise o.error(f"{where}: missing {o.word} {name!r}")
    kwargs.update(fixed)
    try:
        return cls(**kwargs)
    except HwnasError as e:
        raise o.error(f"{where}: {_one_line(str(e))}") from None
    except (TypeError, ValueError, OverflowError) as e:
        raise o.error(f"{where}: {_one_line(str(e))}") from None


def build(cls: type, data: Any, where: str, error: ErrorType = FormatError, *, word: str = "field",
          ignore: Iterable[str] = (), exclude: Iterable[str] = (), fixed: Mapping[str, Any] | None = None,
          finite: bool = True) -> Any:
    """An instance of dataclass ``cls`` from the JSON object / TOML table ``data``, strictly.

    Every key must name an init field of ``cls`` (else: unknown-key error listing the allowed ones) and is
    converted with :func:`convert`; fields without a default are required. ``ignore``: keys of ``data`` that
    are skipped (read elsewhere, e.g. an envelope); ``exclude``: fields the file may not set; ``fixed``: field
    values passed as given (not read from the file). Errors raised by ``cls`` itself are re-raised as
    ``error`` prefixed with ``where``.
    """
    return _build(cls, data, where, _Opts(error, word, finite), ignore, exclude, fixed or {})


def to_data(obj: Any, exclude: Iterable[str] = ()) -> Any:
    """JSON-ready form of ``obj``: dataclasses -> objects of their init fields (in field order, minus
    ``exclude`` at the top level), tuples -> arrays, mappings -> objects, enums -> their values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        skip = set(exclude)
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if f.init and f.name not in skip}
    if isinstance(obj, Mapping):
        return {k: to_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_data(v) for v in obj]
    if isinstance(obj, enum.Enum):
        return obj.value
    return obj


# ------------------------------------------------------------------------------------------------
# the envelope
# ------------------------------------------------------------------------------------------------
ENVELOPE_KEYS = ("format", "version")


@dataclasses.dataclass(frozen=True)
class Format:
    """A versioned JSON file format: ``{"format": name, "version": version, ...body}``.

    ``what`` names the thing in messages (``network``, ``LUT``, ...); ``error`` is the error type raised.
    """

    name: str
    version: int
    what: str
    error: ErrorType = FormatError

    def envelope(self) -> dict[str, Any]:
        """``{"format": name, "version": version}``."""
        return {"format": self.name, "version": self.version}

    def wrap(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The envelope followed by ``body`` (which may already hold this envelope)."""
        for key, value in self.envelope().items():
            if key in body and body[key] != value:
                raise ValueError(f"{self.name}: body has {key}={body[key]!r}")
        return {**self.envelope(), **body}

    def check(self, doc: Any, source: str) -> Mapping[str, Any]:
        """``doc`` when it is an object of this format and version; else one line naming ``source``."""
        if not isinstance(doc, Mapping):
            raise self.error(f"{source}: not an hwnas {self.what}: expected a JSON object, got {kind_name(doc)}")
        fmt = doc.get("format")
        if fmt != self.name:
            raise self.error(f"{source}: not an hwnas {self.what} (field 'format' must be {self.name!r}, "
                             f"got {short_repr(fmt)})")
        version = doc.get("version")
        if type(version) is not int or version != self.version:
            raise self.error(f"{source}: unsupported {self.what} version {short_repr(version)} (field 'version'; "
                             f"this hwnas reads version {self.version})")
        return doc

    def body(self, doc: Any, source: str) -> dict[str, Any]:
        """The checked ``doc`` without its envelope."""
        return {k: v for k, v in self.check(doc, source).items() if k not in ENVELOPE_KEYS}

    def build(self, cls: type, doc: Any, source: str, **kwargs: Any) -> Any:
        """:meth:`check` the envelope, then :func:`build` ``cls`` from the rest (keys called fields)."""
        return build(cls, self.body(doc, source), source, self.error, word="field", **kwargs)

    def parse(self, text: str, source: str) -> Mapping[str, Any]:
        """Parse JSON text and :meth:`check` it."""
        return self.check(parse_json(text, source, self.error), source)

    def load(self, path: str | Path) -> Mapping[str, Any]:
        """Read, parse and :meth:`check` a file."""
        return self.parse(read_text(path, self.error), str(path))

    def dumps(self, body: Mapping[str, Any], *, indent: int | None = 1, sort_keys: bool = False,
              allow_nan: bool = True, default: Callable[[Any], Any] | None = None, newline: bool = True) -> str:
        """The JSON text of :meth:`wrap` ``(body)`` (a trailing newline unless ``newline=False``)."""
        text = json.dumps(self.wrap(body), indent=indent, sort_keys=sort_keys, allow_nan=allow_nan, default=default)
        return text + "\n" if newline else text

    def write(self, path: str | Path, body: Mapping[str, Any], **kwargs: Any) -> None:
        """Write :meth:`dumps` ``(body, **kwargs)`` to ``path`` atomically."""
        atomic_write_text(path, self.dumps(body, **kwargs))


__all__ = ["ENVELOPE_KEYS", "Format", "FormatError", "build", "convert", "expect_object", "kind_name", "load_json",
           "load_toml", "parse_json", "parse_toml", "read_text", "short_repr", "to_data"]
