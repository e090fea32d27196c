"""The one base of every device template config: field validation and the default cost-model methods.

A template (``DpuConfig``, ``EyerissConfig``, ...) is a frozen dataclass deriving from :class:`TemplateConfig`
whose ``[hardware]`` fields are declared with :func:`hwsim.devices.params.param`. Building one checks every such
field against its :class:`~hwsim.devices.params.Param` (type, range or choices; an int becomes a float for a
float parameter, a list a tuple), then runs the template's cross-field :meth:`TemplateConfig.validate`. The
template supplies ``clock_mhz`` (a parameter), ``peak_macs_per_cycle``, ``dram_bytes_per_cycle`` and
``kernel_cost``; everything else of the :class:`~hwsim.devices.base.CostModel` protocol has a default here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hwsim.devices.base import DeviceError
from hwsim.devices.params import Param, check_params, params_of
from hwsim.workload import Layer


def gbps_to_bytes_per_cycle(gbps: float, clock_mhz: float) -> float:
    """A bandwidth in GB/s (10^9 bytes/s) as bytes per cycle of a ``clock_mhz`` clock."""
    return gbps * 1e3 / clock_mhz



def layer_cost_rules(model: str) -> Callable[..., tuple[float, str]]:
    """An empty per-layer-kind rule table ``rules(layer, cfg) -> (cycles, unit)`` (``functools.singledispatch``):
    a template registers one rule per layer kind; a kind without a rule raises :class:`DeviceError` naming
    ``model``."""
    @functools.singledispatch
    def rules(layer: Layer, cfg: Any) -> tuple[float, str]:
        raise DeviceError(f"layer {layer.name!r}: the {model} model has no cost for kind {layer.kind!r}")
    return rules


@dataclass(frozen=True)
class TemplateConfig:
    """Base of the template configs. ``kind`` is the TOML ``[device] kind``; ``provenance`` maps a field to where
    its value comes from (public fact, fitted, assumed); it takes no part in equality or fingerprints."""

    kind: ClassVar[str] = ""
    provenance: Mapping[str, str] = field(default_factory=dict, compare=False, kw_only=True)

    def __post_init__(self) -> None:
        check_params(self, self.kind)
        self.validate()

    def validate(self) -> None:
        """Rules between fields (after each field passed its own :class:`Param`); raise DeviceError."""

    @classmethod
    def params(cls) -> tuple[Param, ...]:
        """The template's tunable parameters (see :func:`hwsim.devices.params.template_params`)."""
        return params_of(cls)

    def values(self) -> dict[str, Any]:
        """Parameter name -> value, ready for a TOML ``[hardware]`` table (unset optional parameters omitted)."""
        out = {}
        for p in self.params():
            v = getattr(self, p.name)
            if v is not None:
                out[p.name] = list(v) if p.many else v
        return out

    # --- CostModel protocol: defaults ---------------------------------------------------------------
    @property
    def static_power_mw(self) -> float | None:
        """Static power (mW) added to the energy of a run; None: the template models none."""
        return None

    def unsupported(self, layer: Layer) -> str | None:
        """Why the device cannot run ``layer``, or None (default: it runs every layer)."""
        return None

    def can_fuse_activation(self, op: str) -> bool:
        """Whether an activation ``op`` runs in line at the end of a kernel (default: every one)."""
        return True

    def can_fuse_into_conv(self, layer: Layer) -> bool:
        """Whether a depthwise conv or global pooling runs inside a conv kernel (default: no side engine, so
        depthwise convs and global pools stay kernels of their own)."""
        return False


__all__ = ["TemplateConfig", "gbps_to_bytes_per_cycle"]
