"""BBSSP across hardware: per config, the selection from swept latencies equals the single-device pipeline's."""

import argparse
import csv
import json
import zlib

from nas.codesign.cli import profile_hw_command
from nas.cost import CostParams
from nas.evaluators.table import TableEvaluator
from nas.profiling import ProfileConfig, profile_spaces
from spaces.registry import get_space
from spaces.ssbn import ssbns

FAMILIES = ("bbssp-res-cifar", "bbssp-vgg-cifar")


def _table(path):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["space", "arch", "accuracy"])
        for f in FAMILIES:
            s = get_space(f)
            for sb in ssbns(s):
                a = s.format(sb.arch)
                w.writerow([f, a, 0.9 + 0.04 * (zlib.crc32(f"{f}/{a}".encode()) % 1000) / 1000])
    return str(path)


HW_TOML = """
[space]
name = "tiny"
template = "systolic"

[params]
array_rows = [8, 32]
array_cols = [8, 32]

[fixed]
preset = "scalesim_32x32"
ifmap_sram_kib = 16
"""


def test_profile_across_hw_matches_single_device_runs(tmp_path, capsys):
    from hwsim.hwspace import get_space as get_hw_space

    ev = TableEvaluator(_table(tmp_path / "acc.csv"))
    cost = CostParams(theta=0.92, sigma=0.01, lam=0.05, k=12)
    (tmp_path / "hw.toml").write_text(HW_TOML)
    hw = get_hw_space(str(tmp_path / "hw.toml"))
    args = argparse.Namespace(hw_space=str(tmp_path / "hw.toml"), families="res,vgg", backbone="cifar",
                              evaluator="table", table=str(tmp_path / "acc.csv"), table_column=None,
                              table_scale="auto", dataset=None, data_dir=None, input_size=None, theta=0.92,
                              sigma=0.01, lam=0.05, k=12, proxy_spread=0.025, seed=0, workers=1, executor="local",
                              address=None, reference_hw=0, map_x="array_rows", map_y="array_cols", no_plots=False,
                              quiet=True, out=str(tmp_path / "out"))
    assert profile_hw_command(args) == 0
    assert "4 hardware configs of tiny" in capsys.readouterr().out
    doc = json.loads((tmp_path / "out" / "hw_profile.json").read_text())
    assert len(doc["configs"]) == 4 and sum(doc["wins"].values()) == 4
    assert (tmp_path / "out" / "plots" / "winner_map.png").stat().st_size > 1000
    assert doc["configs"][0]["winner"] == doc["reference_winner"]
    for j in (0, 3):  # the slow twin: the whole single-device pipeline on that config's device file
        dev = tmp_path / f"dev{j}.toml"
        dev.write_text(hw.to_toml(hw.config(j)))
        ref = profile_spaces(ProfileConfig(FAMILIES, str(dev), ev, cost, 0), tmp_path / f"single{j}", plots=False)
        c = doc["configs"][j]
        assert c["winner"] == ref.selection.winner
        assert c["candidates"] == [list(x) for x in ref.selection.candidates]
        assert c["entries"] == dict(ref.selection.counts)
