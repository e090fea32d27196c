"""Resolve a model specification (zoo name or file) into a :class:`~hwsim.workload.Network`."""

from __future__ import annotations

from pathlib import Path

from hwsim.errors import HwnasError
from hwsim.workload import Network, Shape


def parse_shape(text: str, what: str = "--input") -> Shape:
    """Parse ``3x224x224`` (or ``3,224,224``) into a shape; errors name the option and value."""
    parts = text.replace(",", "x").lower().split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise HwnasError(f"{what}: expected dimensions like 3x224x224, got {text!r}") from None
    if not dims or any(d <= 0 for d in dims):
        raise HwnasError(f"{what}: dimensions must be positive integers, got {text!r}")
    return dims


def load_workload(spec: str, input_shape: Shape | None = None) -> Network:
    """A zoo model name, or a ``.json`` (hwnas network), ``.csv`` (SCALE-Sim topology) or ``.onnx`` file."""
    from hwsim import zoo

    if spec in zoo.list_models():
        model = zoo.get_model(spec)
        return model.build_ir(input_shape or model.default_input_shape)
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv", ".onnx"):
        raise HwnasError(f"unknown model {spec!r}: expected a zoo name ({', '.join(zoo.list_models())}) "
                         "or a .json, .csv or .onnx file")
    if not path.is_file():
        raise HwnasError(f"{spec}: file not found")
    if input_shape is not None:
        raise HwnasError(f"--input applies to zoo models only; {spec} fixes its own input shape")
    if suffix == ".json":
        return Network.load(path)
    if suffix == ".csv":
        from hwsim.importers.scalesim_csv import read_topology

        return read_topology(path)
    from hwsim.importers.onnx_import import from_onnx

    return from_onnx(path)
