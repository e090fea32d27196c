"""hwsim.systolic: a SCALE-Sim-exact systolic array model (scalesim 3.0.0 semantics), Numba-fast.

Public API: :class:`SystolicConfig`, :func:`load_config`, :func:`preset`, :func:`simulate_layer`,
:func:`simulate_network`, result classes, :class:`EnergyTable`, :func:`scalesim_view`.
"""

from hwsim.systolic.config import PRESETS, SystolicConfig, SystolicConfigError, load_config, parse_config, preset
from hwsim.systolic.energy import EnergyBreakdown, EnergyTable
from hwsim.systolic.results import NetworkLayerEntry, SystolicLayerResult, SystolicNetworkResult
from hwsim.systolic.simulate import ENGINES, QUIRKS, simulate_job, simulate_layer, simulate_network
from hwsim.systolic.topology import MappedLayer, ScalesimLayer, SystolicMappingError, scalesim_view

__all__ = [
    "ENGINES", "PRESETS", "QUIRKS", "EnergyBreakdown", "EnergyTable", "MappedLayer", "NetworkLayerEntry",
    "ScalesimLayer", "SystolicConfig", "SystolicConfigError", "SystolicLayerResult", "SystolicMappingError",
    "SystolicNetworkResult", "load_config", "parse_config", "preset", "scalesim_view", "simulate_job",
    "simulate_layer", "simulate_network",
]
