"""The tunable parameters of every device template, as data.

Each template config (``DpuConfig``, ``EyerissConfig``, ...) declares its ``[hardware]`` fields ONCE with
:func:`param`, which stores a :class:`Param` in the dataclass field's metadata. The same :class:`Param` then
validates the value when the config is built (:class:`hwsim.devices.template.TemplateConfig`) and describes the
parameter to a hardware design space (:func:`template_params`): name, type, unit, allowed range or choices.

>>> [p.name for p in template_params("systolic")][:3]
['preset', 'engine', 'clock_mhz']
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from hwsim.errors import HwnasError

PARAM_KINDS = (int, float, bool, str)


def _device_error(message: str) -> HwnasError:
    from hwsim.devices.base import DeviceError  # base imports this module: resolve lazily

    return DeviceError(message)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True)
class Param:
    """One tunable parameter of a device template.

    ``name`` is the key in the device TOML's ``[hardware]`` table; ``kind`` the Python type of a value (int,
    float, bool or str; an int is accepted for a float parameter and returned as float); ``unit`` its unit
    ("" when dimensionless). Numbers must lie in ``[low, high]`` (either bound may be None; ``low_open`` makes
    the lower bound exclusive, e.g. ``low=0, low_open=True`` is "positive"); ``choices`` lists the allowed
    values of a categorical parameter. ``optional``: None is allowed (the template then derives the value,
    e.g. from a preset). ``many``: the value is a tuple of ``kind`` items (a TOML array), each checked.
    """

    name: str
    kind: type
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    doc: str = ""
    low_open: bool = False
    optional: bool = False
    many: bool = False

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise TypeError(f"Param {self.name}: kind must be one of int, float, bool, str, got {self.kind!r}")
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))

    # --- describing ------------------------------------------------------------------------------
    @property
    def type_name(self) -> str:
        """``an integer``, ``a number``, ``true or false`` or ``a string``."""
        return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[self.kind]

    def rule(self) -> str:
        """The range part of the rule in words: ``positive``, ``in [1, 4096]``, ``one of os, ws, is``, ..."""
        if self.choices is not None:
            return "one of " + ", ".join(str(c) for c in self.choices)
        lo, hi = self.low, self.high
        if lo is not None and hi is not None:
            return f"in {'(' if self.low_open else '['}{_fmt(lo)}, {_fmt(hi)}]"
        if lo is not None:
            if lo == 0:
                return "positive" if self.low_open else "non-negative"
            if lo == 1 and self.kind is int and not self.low_open:
                return "positive"
            return f"{'>' if self.low_open else '>='} {_fmt(lo)}"
        if hi is not None:
            return f"<= {_fmt(hi)}"
        return "any value"

    def describe(self) -> str:
        """One line: name, type, rule and unit (for ``--help`` texts and docs)."""
        unit = f" {self.unit}" if self.unit else ""
        many = "list of " if self.many else ""
        opt = " or unset" if self.optional else ""
        return f"{self.name}: {many}{self.kind.__name__} {self.rule()}{unit}{opt}"

    # --- checking --------------------------------------------------------------------------------
    def _error(self, where: str, rule: str, value: Any) -> HwnasError:
        unit = f" ({self.unit})" if self.unit else ""
        return _device_error(f"{where}.{self.name} must be {rule}{unit}, got {value!r}")

    def _check_one(self, value: Any, where: str) -> Any:
        k = self.kind
        if k is bool:
            ok = isinstance(value, bool)
        elif k is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif k is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise self._error(where, self.type_name, value)
        if k is float:
            value = float(value)
        if self.choices is not None:
            if value not in self.choices:
                raise self._error(where, self.rule(), value)
            return value
        if k in (int, float):
            lo, hi = self.low, self.high
            if (lo is not None and (value < lo or (self.low_open and value == lo))) or (hi is not None and value > hi):
                raise self._error(where, self.rule(), value)
        return value

    def check(self, value: Any, where: str) -> Any:
        """``value`` if it is allowed (an int becomes a float for a float parameter, a list a tuple); else raise
        :class:`~hwsim.devices.base.DeviceError` ``"<where>.<name> must be <rule> (<unit>), got <value!r>"``."""
        if value is None and self.optional:
            return None
        if self.many:
            if not isinstance(value, (list, tuple)):
                raise self._error(where, f"a list of {self.kind.__name__}", value)
            return tuple(self._check_one(v, where) for v in value)
        return self._check_one(value, where)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` passes :meth:`check`."""
        try:
            self.check(value, "param")
        except HwnasError:
            return False
        return True


def param(default: Any, kind: type, unit: str = "", *, low: float | None = None, high: float | None = None,
          choices: tuple[Any, ...] | None = None, doc: str = "", low_open: bool = False, optional: bool = False,
          many: bool = False) -> Any:
    """A dataclass field carrying its :class:`Param` (the name is filled in from the field by :func:`params_of`)."""
    p = Param("", kind, unit, low, high, choices, doc, low_open, optional, many)
    return dataclasses.field(default=default, metadata={"param": p})


def positive(default: Any, kind: type, unit: str = "", **kw: Any) -> Any:
    """A :func:`param` that must be > 0 (for an int: >= 1)."""
    if kind is int:
        return param(default, kind, unit, low=1, **kw)
    return param(default, kind, unit, low=0, low_open=True, **kw)


def non_negative(default: Any, kind: type, unit: str = "", **kw: Any) -> Any:
    """A :func:`param` that must be >= 0."""
    return param(default, kind, unit, low=0, **kw)


def params_of(cls: type) -> tuple[Param, ...]:
    """The :class:`Param` of every field of dataclass ``cls`` declared with :func:`param`, in field order."""
    cached = cls.__dict__.get("_params_cache")
    if cached is not None:
        return cached
    out = tuple(dataclasses.replace(f.metadata["param"], name=f.name)
                for f in dataclasses.fields(cls) if "param" in f.metadata)
    setattr(cls, "_params_cache", out)
    return out


def check_params(obj: Any, where: str) -> None:
    """Check (and normalise in place) every :func:`~hwsim.devices.params.param` field of the frozen dataclass
    ``obj``; errors read ``"<where>.<field> must be ..."``."""
    for p in params_of(type(obj)):
        object.__setattr__(obj, p.name, p.check(getattr(obj, p.name), where))


def template_classes() -> dict[str, type]:
    """Template kind (the TOML ``[device] kind``) -> its config class (imported on each call; nothing registers
    itself at import time)."""
    from hwsim.devices.dpu import DpuConfig
    from hwsim.devices.eyeriss import EyerissConfig
    from hwsim.devices.nvdla import NvdlaConfig
    from hwsim.devices.roofline import RooflineConfig
    from hwsim.devices.systolic_device import SystolicDeviceConfig

    return {c.kind: c for c in (DpuConfig, EyerissConfig, NvdlaConfig, RooflineConfig, SystolicDeviceConfig)}


def template_kinds() -> tuple[str, ...]:
    """The template kinds: ``dpu``, ``eyeriss``, ``nvdla``, ``roofline``, ``systolic``."""
    return tuple(template_classes())


def template_params(kind: str) -> tuple[Param, ...]:
    """Every ``[hardware]`` parameter of template ``kind`` (an unknown kind raises DeviceError naming it)."""
    classes = template_classes()
    if kind not in classes:
        raise _device_error(f"unknown device template {kind!r}; expected one of {', '.join(classes)}")
    return params_of(classes[kind])


__all__ = ["PARAM_KINDS", "Param", "check_params", "non_negative", "param", "params_of", "positive", "template_classes",
           "template_kinds", "template_params"]
