"""Fuzz every JSON/TOML format read through :mod:`hwsim.formats`: mutated valid documents may only load or raise
a one-line :class:`HwnasError` (never a TypeError/KeyError leaking from a reader)."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ._strategies import FUZZ_SMALL, mutated, mutated_text
from .test_fuzz_parsers import _accepts_or_hwnas_error, _small_network
from hwsim.bench.latency_suite import default_golden_path, load_suite, restrict_suite
from hwsim.bench.results import Headline, load_result, write_result
from hwsim.errors import HwnasError


@cache
def _seeds() -> dict[str, Any]:
    """One valid document of each format, built once."""
    from calibration.bbssp import BBSSPLut
    from calibration.correctors import make_corrector
    from calibration.lut import lut_from_layer_times
    from nas.profiling import SSBNRecord
    from spaces.registry import get_space

    net = _small_network()
    lut = lut_from_layer_times("board", [(layer, 0.1 * (i + 1)) for i, layer in enumerate(net.layers)])
    affine = make_corrector("affine", lut).fit_workloads([net, net], [1.0, 1.1])
    bb = BBSSPLut.from_table(["layer0", "layer1"], ["a", "b"], [[1.0, 2.0], [3.0, float("nan")]], ["a", "a"])
    space = get_space("nb201")
    suite = restrict_suite(load_suite(default_golden_path()), ["squeezenet1_1"], ["roofline-reference"])
    with tempfile.TemporaryDirectory() as d:
        result = json.loads(write_result(d, "r", [Headline("m", 1.0, ">=", 0.5, "x")], {"a": [1, 2]}).read_text())
    record = SSBNRecord("s", "k", "layer0", "res1", "res1-res0", 0, 1.5, 1.2, 10, 20, 0.9, {"naswot": 1.0},
                        {"note": "x"}, (0.5, 0.25))
    return {"lut": lut.to_dict(), "corrector": affine.to_dict(), "bbssp": bb.to_dict(),
            "space": get_space("bbssp-res-cifar").to_dict(), "nb201-space": space.to_dict(),
            "arch": json.loads(space.arch_to_json(space.sample(np.random.default_rng(0)))), "suite": suite,
            "result": result, "record": record.to_dict()}


def _loaders() -> dict[str, Callable[[Any], Any]]:
    from calibration.correctors import corrector_from_dict
    from calibration.lut import LatencyLUT
    from nas.profiling import SSBNRecord
    from spaces.registry import get_space, space_from_dict

    def via_file(load: Callable[[Path], Any]) -> Callable[[Any], Any]:
        def run(doc: Any) -> Any:
            with tempfile.TemporaryDirectory() as d:
                p = Path(d) / "f.json"
                p.write_text(json.dumps(doc), encoding="utf-8")
                return load(p)
        return run

    return {"lut": lambda doc: LatencyLUT.from_dict(doc, "fuzz.json"),
            "corrector": lambda doc: corrector_from_dict(doc, "fuzz.json"),
            "bbssp": lambda doc: corrector_from_dict(doc, "fuzz.json"),
            "space": lambda doc: space_from_dict(doc, "fuzz.json"),
            "nb201-space": lambda doc: space_from_dict(doc, "fuzz.json"),
            "arch": lambda doc: get_space("nb201").arch_from_json(json.dumps(doc), "fuzz.json"),
            "suite": via_file(load_suite), "result": via_file(load_result),
            "record": lambda doc: SSBNRecord.from_dict(doc, "fuzz.json")}


_NAMES = ("lut", "corrector", "bbssp", "space", "nb201-space", "arch", "suite", "result", "record")


def test_seeds_load() -> None:
    loaders = _loaders()
    for name in _NAMES:
        loaders[name](_seeds()[name])


@pytest.mark.parametrize("name", _NAMES)
def test_format_mutations(name: str, fuzz_cases: Counter) -> None:
    load = _loaders()[name]

    @FUZZ_SMALL
    @given(doc=mutated(_seeds()[name]))
    def fuzz(doc: Any) -> None:
        fuzz_cases[f"format {name} (mutated)"] += 1
        _accepts_or_hwnas_error(lambda: load(doc))

    fuzz()


# Inputs that the readers before hwsim.formats leaked as TypeError (first two) or accepted with a wrong type
# (the rest); each must now be a one-line HwnasError.
_FORMAT_BUGS = {
    "space typical is a number (`tuple(typical)`)": ("space", ("typical",), 5),
    "SSBN record layer_profile_ms is a number (`tuple(kw['layer_profile_ms'])`)": ("record", ("layer_profile_ms",), 5),
    "space description is an array": ("space", ("description",), []),
    "SSBN record scores is an array": ("record", ("scores",), [1]),
    "SSBN record latency is a string": ("record", ("latency_ms",), "1"),
    "LUT device is an array": ("lut", ("device",), []),
    "corrector unit is a string": ("corrector", ("unit",), "yes"),
    "latency suite kernel layers is a number": ("suite", ("results", "squeezenet1_1", "roofline-reference", "kernels",
                                                          0, "layers"), 5),
    "latency suite latency is a string": ("suite", ("results", "squeezenet1_1", "roofline-reference", "latency_ms"),
                                          "x"),
    "bench result headline row is a number": ("result", ("headline", 0), 5),
}


@pytest.mark.parametrize("case", sorted(_FORMAT_BUGS))
def test_format_known_bugs(case: str) -> None:
    name, path, value = _FORMAT_BUGS[case]
    doc = json.loads(json.dumps(_seeds()[name]))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    with pytest.raises(HwnasError) as e:
        _loaders()[name](doc)
    assert "\n" not in str(e.value)


_SPACE_TOML = ('name = "mix"\nbackbone = "bbssp-cifar"\nblocks = ["res0", "vgg5"]\ntypical = "res0"\n'
               'input_size = 32\nnum_classes = 10\n')
_CUSTOM_TOML = ('name = "c"\nblocks = ["res0"]\n[stem]\nout_channels = 16\nkernel = 3\nstride = 1\nact = "relu"\n'
                '[[layers]]\nin_channels = 16\nout_channels = 24\nstride = 2\ncandidates = ["res0", "vgg5"]\n'
                '[head]\nconv_channels = 0\nact = "relu"\n')


@FUZZ_SMALL
@given(text=st.one_of(mutated_text(_SPACE_TOML), mutated_text(_CUSTOM_TOML)))
def test_space_toml(text: str, fuzz_cases: Counter) -> None:
    from spaces.user import load_space_toml

    fuzz_cases["space-toml (text)"] += 1
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "space.toml"
        p.write_text(text, encoding="utf-8", errors="surrogatepass")
        _accepts_or_hwnas_error(lambda: load_space_toml(p))
