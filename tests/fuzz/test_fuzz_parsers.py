"""Fuzz every input parser: bad input may only raise :class:`HwnasError` (never another exception).

Inputs are random text/bytes plus structure-aware mutations of a valid document, so that most cases get
past the first syntax check. Budgets are small and derandomized (see ``_strategies.FUZZ``).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ._strategies import FUZZ, FUZZ_SMALL, json_values, mutated, mutated_bytes, mutated_text
from hwsim.devices.config import device_from_tables, load_device_file
from hwsim.devices.registry import PRESET_DIR, preset_tables
from hwsim.errors import HwnasError
from hwsim.importers.scalesim_csv import read_topology
from hwsim.systolic.config import parse_config
from hwsim.workload import Network, NetworkBuilder


def _accepts_or_hwnas_error(fn: Callable[[], Any]) -> None:
    """Run ``fn``; success or an HwnasError with a one-line message are the only acceptable outcomes."""
    try:
        fn()
    except HwnasError as e:
        msg = str(e)
        assert msg and "\n" not in msg, f"error message is not one line: {msg!r}"


def _small_network() -> Network:
    b = NetworkBuilder("fuzz_seed", (3, 16, 16))
    x = b.conv(b.input, 8, 3, padding=1, name="c1")
    x = b.relu(b.bn(x, name="bn1"), name="r1")
    y = b.conv(x, 8, 3, padding=1, groups=8, name="dw")
    x = b.flatten(b.global_pool(y, name="gp"), name="fl")
    x = b.linear(x, 10, name="fc")
    return b.build([x])


_NET = json.loads(_small_network().to_json())


def _write(folder: str, name: str, data: str | bytes) -> Path:
    path = Path(folder) / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
    return path


# ---------------------------------------------------------------------------------------------------
# network JSON
# ---------------------------------------------------------------------------------------------------
@FUZZ
@given(doc=mutated(_NET))
def test_network_json_mutations(doc: Any, fuzz_cases: Counter) -> None:
    fuzz_cases["network-json (mutated)"] += 1
    _accepts_or_hwnas_error(lambda: Network.from_json(json.dumps(doc), source="fuzz.json"))


def _edit(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(_NET))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


# Inputs the fuzzer once found raising TypeError in hwsim/workload.py (now WorkloadError): regression cases.
_WORKLOAD_BUGS = {
    "layer kind is an array (layer_from_dict: `kind not in LAYER_KINDS`)": (("layers", 0, "kind"), []),
    "shape field is a number (layer_from_dict: `v = tuple(v)`)": (("layers", 6, "input_shape"), 5),
    "output name is an array (Network.__post_init__: `out not in seen`)": (("outputs",), [[]]),
    "outputs is a number (Network.from_dict: `tuple(d.get('outputs', ()))`)": (("outputs",), 5),
    "input name is an array (Network.__post_init__: `nm in input_names`)": (("inputs", 0, "name"), []),
}


@pytest.mark.parametrize("case", sorted(_WORKLOAD_BUGS))
def test_network_json_known_bugs(case: str) -> None:
    path, value = _WORKLOAD_BUGS[case]
    _accepts_or_hwnas_error(lambda: Network.from_json(json.dumps(_edit(path, value)), source="fuzz.json"))


@FUZZ_SMALL
@given(text=st.one_of(st.text(max_size=60), json_values.map(json.dumps), mutated_text(json.dumps(_NET))))
def test_network_json_text(text: str, fuzz_cases: Counter) -> None:
    fuzz_cases["network-json (text)"] += 1
    _accepts_or_hwnas_error(lambda: Network.from_json(text, source="fuzz.json"))


# ---------------------------------------------------------------------------------------------------
# SCALE-Sim topology CSV
# ---------------------------------------------------------------------------------------------------
_CONV_CSV = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
             "conv1, 32, 32, 3, 3, 3, 16, 1,\nconv2, 30, 30, 3, 3, 16, 32, 2,\n")
_GEMM_CSV = "Layer, M, N, K,\nfc1, 64, 128, 256,\nfc2, 64, 10, 128,\n"
_cell = st.one_of(st.integers(-5, 300).map(str), st.text(alphabet=" ,\"x-.e0123456789abc\t", max_size=6))


@st.composite
def _csv_rows(draw: st.DrawFn) -> str:
    header = draw(st.sampled_from([_CONV_CSV.splitlines()[0], _GEMM_CSV.splitlines()[0], "", "a,b"]))
    rows = draw(st.lists(st.lists(_cell, max_size=10).map(lambda cs: ", ".join(cs) + ","), max_size=4))
    return "\n".join([header, *rows]) + "\n"


@FUZZ
@given(text=st.one_of(mutated_text(_CONV_CSV), mutated_text(_GEMM_CSV), _csv_rows()))
def test_scalesim_topology_csv(text: str, fuzz_cases: Counter) -> None:
    fuzz_cases["scalesim-topology-csv"] += 1
    with tempfile.TemporaryDirectory() as d:
        path = _write(d, "topo.csv", text)
        _accepts_or_hwnas_error(lambda: read_topology(path))


def test_scalesim_topology_csv_not_utf8() -> None:
    with tempfile.TemporaryDirectory() as d:
        path = _write(d, "topo.csv", b"\x80")
        _accepts_or_hwnas_error(lambda: read_topology(path))


# ---------------------------------------------------------------------------------------------------
# systolic .cfg
# ---------------------------------------------------------------------------------------------------
_CFG = (Path(__file__).resolve().parents[2] / "hwsim" / "systolic" / "presets" / "scalesim_32x32.cfg").read_text()


@FUZZ
@given(text=st.one_of(mutated_text(_CFG), st.text(max_size=80)))
def test_systolic_cfg(text: str, fuzz_cases: Counter) -> None:
    fuzz_cases["systolic-cfg"] += 1
    _accepts_or_hwnas_error(lambda: parse_config(text, source="fuzz.cfg"))


@FUZZ
@given(text=mutated_text(_CFG).flatmap(lambda t: st.just(t)),
       key=st.sampled_from(["ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "Bandwidth", "Dataflow",
                            "FilterOffset", "IfmapSRAMBankNum", "SparsitySupport"]),
       value=st.one_of(st.integers(-3, 2**40).map(str), st.text(max_size=6), st.just("1e3"), st.just("nan")))
def test_systolic_cfg_values(text: str, key: str, value: str, fuzz_cases: Counter) -> None:
    fuzz_cases["systolic-cfg (values)"] += 1
    lines = [f"{key} : {value}" if ln.split(":")[0].strip() == key else ln for ln in _CFG.splitlines()]
    _accepts_or_hwnas_error(lambda: parse_config("\n".join(lines) + "\n", source="fuzz.cfg"))


# ---------------------------------------------------------------------------------------------------
# device TOML
# ---------------------------------------------------------------------------------------------------
_PRESET_NAMES = ("dpu-b4096-zcu102", "eyeriss-v1", "nvdla-small", "roofline-reference", "systolic-tpu-like")
_TOML_TEXT = (PRESET_DIR / "eyeriss-v1.toml").read_text(encoding="utf-8")


@FUZZ
@given(tables=st.sampled_from(_PRESET_NAMES).flatmap(lambda n: mutated(preset_tables(n))))
def test_device_tables(tables: Any, fuzz_cases: Counter) -> None:
    fuzz_cases["device-toml (tables)"] += 1
    if not isinstance(tables, dict):
        tables = {"device": tables}
    _accepts_or_hwnas_error(lambda: device_from_tables(tables, "fuzz.toml"))


@FUZZ_SMALL
@given(text=st.one_of(mutated_text(_TOML_TEXT), st.text(max_size=60)))
def test_device_toml_text(text: str, fuzz_cases: Counter) -> None:
    fuzz_cases["device-toml (text)"] += 1
    with tempfile.TemporaryDirectory() as d:
        path = _write(d, "dev.toml", text)
        _accepts_or_hwnas_error(lambda: load_device_file(path))


def test_device_toml_not_utf8() -> None:
    with tempfile.TemporaryDirectory() as d:
        path = _write(d, "dev.toml", b'[device]\nname = "\xff"\n')
        _accepts_or_hwnas_error(lambda: load_device_file(path))


# ---------------------------------------------------------------------------------------------------
# ONNX bytes
# ---------------------------------------------------------------------------------------------------
def _onnx_seed() -> bytes:
    pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.zeros((4, 3, 3, 3), dtype=np.float32), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "seed", [x], [y], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


@FUZZ
@given(data=st.data())
def test_onnx_bytes(data: st.DataObject, fuzz_cases: Counter) -> None:
    pytest.importorskip("onnx")
    from hwsim.importers.onnx_import import from_onnx

    blob = data.draw(st.one_of(mutated_bytes(_onnx_seed()), st.binary(max_size=64)))
    fuzz_cases["onnx-bytes"] += 1
    with tempfile.TemporaryDirectory() as d:
        path = _write(d, "m.onnx", blob)
        _accepts_or_hwnas_error(lambda: from_onnx(path))


# ---------------------------------------------------------------------------------------------------
# architecture strings
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("space_name", ["nb201", "fbnet"])
def test_arch_strings(space_name: str, fuzz_cases: Counter) -> None:
    import numpy as np

    from spaces.registry import get_space

    space = get_space(space_name)
    seed = space.format(space.sample(np.random.default_rng(0)))
    assert space.format(space.parse(seed)) == seed

    @FUZZ
    @given(text=st.one_of(mutated_text(seed), st.text(max_size=40)))
    def fuzz(text: str) -> None:
        fuzz_cases[f"arch-string ({space_name})"] += 1
        _accepts_or_hwnas_error(lambda: space.parse(text))

    fuzz()


# ---------------------------------------------------------------------------------------------------
# measurement files
# ---------------------------------------------------------------------------------------------------
_MEAS_CSV = ("id,space,arch,input_size,device,latency_ms,latency_std_ms,repeats,conditions\n"
             "a0,nb201,|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|avg_pool_3x3~2|,"
             "32,board,12.31,0.05,50,threads=1\n"
             "a1,,,,board,3.5,,,\n")
_MEAS_JSON = {"format": "hwnas.measurements", "version": 1, "measurements": [
    {"id": "m0", "model": "resnet18", "device": "board", "latency_ms": 4.5, "repeats": 10,
     "kernels": [{"kernel": "conv1", "latency_ms": 0.5, "label": "stem"}]}]}
_KERNELS_CSV = "id,kernel,latency_ms,label,layers\na0,conv1,0.5,stem,c1;bn1\n"


@FUZZ
@given(text=st.one_of(mutated_text(_MEAS_CSV), st.text(max_size=60)))
def test_measurements_csv(text: str, fuzz_cases: Counter) -> None:
    meas = pytest.importorskip("calibration.measurements")
    fuzz_cases["measurements-csv"] += 1
    _accepts_or_hwnas_error(lambda: meas.parse_measurements_csv(text, source="fuzz.csv"))
    _accepts_or_hwnas_error(lambda: meas.parse_kernels_csv(text, source="fuzz.csv"))


@FUZZ
@given(doc=mutated(_MEAS_JSON, max_mutations=2))
def test_measurements_json(doc: Any, fuzz_cases: Counter) -> None:
    meas = pytest.importorskip("calibration.measurements")
    fuzz_cases["measurements-json"] += 1
    _accepts_or_hwnas_error(lambda: meas.parse_measurements_json(json.dumps(doc), source="fuzz.json"))


# Inputs the fuzzer once found raising TypeError in calibration/measurements.py (now MeasurementError).
_MEAS_BUGS = {
    "kernels is a number (`enumerate(item.get('kernels') or ())`)": {"kernels": 5},
    "kernel layers is a number (`tuple(k.get('layers', ()))`)": {"kernels": [{"kernel": "a", "latency_ms": 1,
                                                                             "layers": 5}]},
}


@pytest.mark.parametrize("case", sorted(_MEAS_BUGS))
def test_measurements_json_known_bugs(case: str) -> None:
    meas = pytest.importorskip("calibration.measurements")
    doc = json.loads(json.dumps(_MEAS_JSON))
    doc["measurements"][0].update(_MEAS_BUGS[case])
    _accepts_or_hwnas_error(lambda: meas.parse_measurements_json(json.dumps(doc), source="fuzz.json"))


@FUZZ_SMALL
@given(text=mutated_text(_KERNELS_CSV))
def test_measurement_kernels_csv(text: str, fuzz_cases: Counter) -> None:
    meas = pytest.importorskip("calibration.measurements")
    fuzz_cases["measurements-kernels-csv"] += 1
    _accepts_or_hwnas_error(lambda: meas.parse_kernels_csv(text, source="fuzz.csv"))


def test_measurements_file_not_utf8() -> None:
    meas = pytest.importorskip("calibration.measurements")
    with tempfile.TemporaryDirectory() as d:
        path = _write(d, "m.csv", b"id,device,latency_ms,model\nm,b\xff,1.0,resnet18\n")
        _accepts_or_hwnas_error(lambda: meas.load_measurements(path))
