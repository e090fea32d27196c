"""Fuzzed files through the ``hwnas`` CLI: exit 0 or exit 2 with exactly one ``hwnas: error:`` line and no
traceback (``main`` returns; any other exception escaping it fails the test)."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ._strategies import FUZZ_SMALL, mutated, mutated_bytes, mutated_text
from hwsim.cli import main
from .test_fuzz_parsers import _CFG, _CONV_CSV, _GEMM_CSV, _NET, _onnx_seed


def _check_cli(argv: list[str]) -> None:
    out_buf, err_buf = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out_buf), contextlib.redirect_stderr(err_buf):
        rc = main(argv)
    out, err = out_buf.getvalue(), err_buf.getvalue()
    assert rc in (0, 2), (rc, err)
    assert "Traceback" not in err and "Traceback" not in out
    if rc == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("hwnas: error: "), err


def _run_file(suffix: str, data: str | bytes, argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"fuzz{suffix}"
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8", errors="surrogatepass")
        _check_cli([a.replace("{}", str(path)) for a in argv])


@FUZZ_SMALL
@given(doc=mutated(_NET))
def test_cli_workload_show_json(doc: object, fuzz_cases: Counter) -> None:
    fuzz_cases["cli workload show .json"] += 1
    _run_file(".json", json.dumps(doc), ["workload", "show", "{}"])


@FUZZ_SMALL
@given(text=st.one_of(mutated_text(_CONV_CSV), mutated_text(_GEMM_CSV)))
def test_cli_workload_show_csv(text: str, fuzz_cases: Counter) -> None:
    fuzz_cases["cli workload show .csv"] += 1
    _run_file(".csv", text, ["workload", "show", "{}"])


@FUZZ_SMALL
@given(data=st.data())
def test_cli_workload_show_onnx(data: st.DataObject, fuzz_cases: Counter) -> None:
    pytest.importorskip("onnx")
    blob = data.draw(mutated_bytes(_onnx_seed()))
    fuzz_cases["cli workload show .onnx"] += 1
    _run_file(".onnx", blob, ["workload", "show", "{}"])


@FUZZ_SMALL
@given(text=mutated_text(_CFG))
def test_cli_simulate_cfg(text: str, fuzz_cases: Counter) -> None:
    fuzz_cases["cli simulate --config .cfg"] += 1
    with tempfile.TemporaryDirectory() as d:
        topo = Path(d) / "t.csv"
        topo.write_text(_GEMM_CSV, encoding="utf-8")
        _run_file(".cfg", text, ["simulate", "--device", "systolic", "--config", "{}", "--topology", str(topo)])


@FUZZ_SMALL
@given(text=st.text(max_size=30))
def test_cli_bench_golden(text: str, fuzz_cases: Counter) -> None:
    fuzz_cases["cli bench latency --against"] += 1
    _run_file(".json", text, ["bench", "latency", "--against", "{}", "--model", "squeezenet1_1", "--device",
                              "roofline-reference"])
