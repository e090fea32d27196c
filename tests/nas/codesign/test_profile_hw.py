"""BBSSP across hardware: per config, the selection from swept latencies equals the single-device pipeline's."""

import csv
import json
import zlib

from nas.codesign.profile_hw import profile_across_hw
from nas.cost import CostParams
from nas.evaluators.table import TableEvaluator
from nas.profiling import ProfileConfig, profile_spaces
from spaces.registry import get_space
from spaces.ssbn import ssbns
from tests.nas.codesign.test_sources import FakeHwSpace

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


class SmallHw(FakeHwSpace):
    params = {"array_rows": (8, 32), "array_cols": (8, 32), "ifmap_sram_kib": (16,)}

    @property
    def size(self):
        return 4


def test_profile_across_hw_matches_single_device_runs(tmp_path):
    ev = TableEvaluator(_table(tmp_path / "acc.csv"))
    cost = CostParams(theta=0.92, sigma=0.01, lam=0.05, k=12)
    cfg = ProfileConfig(FAMILIES, "unused", ev, cost, 0)
    hw = SmallHw()
    doc = profile_across_hw(cfg, hw, tmp_path / "out", x_param="array_rows", y_param="array_cols")
    assert len(doc["configs"]) == 4 and sum(doc["wins"].values()) == 4
    assert (tmp_path / "out" / "plots" / "winner_map.png").stat().st_size > 1000
    on_disk = json.loads((tmp_path / "out" / "hw_profile.json").read_text())
    assert on_disk["configs"][0]["winner"] == doc["reference_winner"]
    for j in (0, 3):  # the slow twin: the whole single-device pipeline on that config's device file
        dev = tmp_path / f"dev{j}.toml"
        dev.write_text(hw.to_toml(hw.config(j)))
        ref = profile_spaces(ProfileConfig(FAMILIES, str(dev), ev, cost, 0), tmp_path / f"single{j}", plots=False)
        c = doc["configs"][j]
        assert c["winner"] == ref.selection.winner
        assert c["candidates"] == [list(x) for x in ref.selection.candidates]
        assert c["entries"] == dict(ref.selection.counts)
