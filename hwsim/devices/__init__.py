"""Black-box accelerator models with a board's two views: ``profile`` (per kernel) and ``run`` (end to end).

``get_device("dpu-b4096-zcu102")`` (or a path to a ``.toml`` device file) gives an
:class:`~hwsim.devices.base.AcceleratorDevice`; see :mod:`hwsim.devices.base` for the mechanisms that make
the two views differ, :mod:`hwsim.devices.config` for the TOML format and :mod:`hwsim.devices.params` for every
template's tunable parameters as data (``template_params("systolic")``).
"""

from hwsim.devices.base import (
    AcceleratorDevice,
    Device,
    DeviceError,
    Kernel,
    KernelProfile,
    Mechanisms,
    Profile,
    RunResult,
)
from hwsim.devices.params import Param, template_kinds, template_params
from hwsim.devices.registry import builtin_presets, get_device, list_presets
from hwsim.devices.template import TemplateConfig

__all__ = [
    "AcceleratorDevice", "Device", "DeviceError", "Kernel", "KernelProfile", "Mechanisms", "Param", "Profile",
    "RunResult", "TemplateConfig", "builtin_presets", "get_device", "list_presets", "template_kinds",
    "template_params",
]
