"""hwsim: the workload IR (layers, networks, importers, model zoo) and deterministic accelerator models."""

from hwsim.errors import HwnasError
from hwsim.workload import (
    Activation,
    Concat,
    Conv2d,
    DataType,
    Elementwise,
    GlobalPool,
    Layer,
    Linear,
    MatMul,
    Network,
    NetworkBuilder,
    Node,
    Norm,
    Pool2d,
    Reshape,
    WorkloadError,
)

__version__ = "0.1.0"

__all__ = [
    "Activation", "Concat", "Conv2d", "DataType", "Elementwise", "GlobalPool", "HwnasError", "Layer", "Linear",
    "MatMul", "Network", "NetworkBuilder", "Node", "Norm", "Pool2d", "Reshape", "WorkloadError", "__version__",
]
