"""Files written by hwnas before the serialisation layer (``data/formats_v1``, one per format) still load, and
writing them again gives the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsim.bench.results import load_result
from hwsim.workload import Network

DATA = Path(__file__).resolve().parent / "data" / "formats_v1"


def _same_after_rewrite(path: Path, tmp_path: Path, load_and_write) -> None:
    out = tmp_path / path.name
    load_and_write(path, out)
    assert out.read_bytes() == path.read_bytes(), path.name


def test_network(tmp_path: Path) -> None:
    p = DATA / "small_net.json"
    assert Network.load(p).to_json() == p.read_text()


@pytest.mark.parametrize("name", ["cor_affine.json", "cor_kernel-type.json", "cor_residual.json",
                                  "cor_residual_unfitted.json", "bbssp.json"])
def test_correctors(name: str, tmp_path: Path) -> None:
    from calibration.correctors import load_corrector

    _same_after_rewrite(DATA / name, tmp_path, lambda p, out: load_corrector(p).save(out))


def test_lut_and_measurements(tmp_path: Path) -> None:
    from calibration.lut import LatencyLUT
    from calibration.measurements import load_measurements, write_measurements

    _same_after_rewrite(DATA / "lut.json", tmp_path, lambda p, out: LatencyLUT.load(p).save(out))
    _same_after_rewrite(DATA / "meas.json", tmp_path, lambda p, out: write_measurements(out, load_measurements(p)))


def test_space_and_arch() -> None:
    from spaces.registry import get_space, load_space_json

    for p in (DATA / "space.json", DATA / "prof" / "tuned_space.json"):
        assert load_space_json(p).to_json() == p.read_text().rstrip("\n")
    nb201 = get_space("nb201")
    text = (DATA / "arch.json").read_text()
    assert nb201.arch_to_json(nb201.arch_from_json(text)) == text


def test_bench_result() -> None:
    doc = load_result(DATA / "result.json")
    assert doc["headline"][0]["target"] == "<= 3%" and doc["results"]["nan"] is None


def test_profile_files(tmp_path: Path) -> None:
    from nas.profiling import RECORD, RUN, SUMMARY, load_lut, load_record, load_summary

    prof = DATA / "prof"
    _same_after_rewrite(prof / "ssbn_0.json", tmp_path,
                        lambda p, out: RECORD.write(out, load_record(p).to_dict(), indent=1))
    _same_after_rewrite(prof / "run.json", tmp_path,
                        lambda p, out: RUN.write(out, RUN.load(p), indent=1, sort_keys=True))
    _same_after_rewrite(prof / "summary.json", tmp_path,
                        lambda p, out: SUMMARY.write(out, load_summary(p), indent=1))
    lut = load_lut(prof / "lut.json")
    assert lut.labels == ("layer0", "layer1") and lut.mode == "offset"
