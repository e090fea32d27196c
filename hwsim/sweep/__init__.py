"""Sweep engine: latency, energy and area of every (network, hardware config) pair, vectorised.

``sweep(networks, hw_space) -> SweepResult`` (see :mod:`hwsim.sweep.engine`); the decomposition into kernel and
kernel-pair features is in :mod:`hwsim.sweep.features`, the per-config kernel tables in :mod:`hwsim.sweep.tables`,
the stall-model agreement check against the cycle-accurate memory engine in :mod:`hwsim.sweep.stalls`.
"""

from hwsim.sweep.engine import DeviceListSpace, HardwareSpace, SweepResult, area_mm2, sweep, verify_pairs
from hwsim.sweep.executors import local_map, process_map, ray_map
from hwsim.sweep.features import NetworkFeatures, SweepError, network_features

__all__ = ["DeviceListSpace", "HardwareSpace", "NetworkFeatures", "SweepError", "SweepResult", "area_mm2",
           "local_map", "network_features", "process_map", "ray_map", "sweep", "verify_pairs"]
