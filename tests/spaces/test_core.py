"""SearchSpace core: choices, archs, sampling, size, enumerate, restrict, strings and JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hwsim.errors import HwnasError
from spaces.core import Arch, Choice, SearchSpace, SpaceError
from spaces.registry import get_space, space_from_json


def test_arch_is_a_frozen_hashable_mapping() -> None:
    a = Arch({"x": "1", "y": "2"})
    b = Arch([("y", "2"), ("x", "1")])
    assert a == b and hash(a) == hash(b) and a == {"x": "1", "y": "2"}
    assert list(a) == ["x", "y"] and len(a) == 2 and a.to_dict() == {"x": "1", "y": "2"}
    with pytest.raises(TypeError):
        a["x"] = "3"  # type: ignore[index]
    with pytest.raises(SpaceError, match="duplicate"):
        Arch([("x", "1"), ("x", "2")])


def test_choice_validation() -> None:
    with pytest.raises(SpaceError, match="empty"):
        Choice("l0", ())
    with pytest.raises(SpaceError, match="duplicate"):
        Choice("l0", ("a", "a"))
    with pytest.raises(SpaceError, match="'a b'"):
        Choice("l0", ("a b",))
    assert issubclass(SpaceError, HwnasError)


def test_sample_is_seeded_and_contained() -> None:
    space = get_space("bbssp-vgg")
    s1 = [space.format(space.sample(np.random.default_rng(7))) for _ in range(3)]
    s2 = [space.format(space.sample(np.random.default_rng(7))) for _ in range(3)]
    assert s1 == s2
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(200)]
    assert all(space.contains(a) for a in archs)
    # every candidate of layer 0 shows up (uniform over 13)
    assert {a["layer0"] for a in archs} == set(space.choices[0].candidates)
    with pytest.raises(SpaceError, match="Generator"):
        space.sample(np.random.RandomState(0))  # type: ignore[arg-type]


def test_size_is_exact_big_int() -> None:
    assert get_space("fbnet").size() == 9 ** 22 == 984770902183611232881
    assert isinstance(get_space("fbnet").size(), int)
    assert get_space("bbssp-res").size() == 9 ** 12
    assert get_space("bbssp-mobile").size() == 9 ** 12
    assert get_space("bbssp-mobilev2").size() == 9 ** 12
    assert get_space("bbssp-vgg").size() == 13 ** 12
    assert get_space("bbssp-res-cifar").size() == 9 ** 10
    assert get_space("nb201").size() == 15625
    assert get_space("proxyless").size() == 6 ** 6 * 7 ** 15


def test_enumerate_small_space_and_refuse_big() -> None:
    nb = get_space("nb201")
    archs = list(nb.enumerate())
    assert len(archs) == len(set(archs)) == nb.size()
    assert len({nb.format(a) for a in archs}) == 15625
    with pytest.raises(SpaceError, match="enumerate limit"):
        next(get_space("fbnet").enumerate())


def test_contains_and_validate_errors() -> None:
    space = get_space("bbssp-res")
    a = space.typical_arch().to_dict()
    assert space.contains(a)
    assert not space.contains({**a, "layer3": "vgg5"})
    with pytest.raises(SpaceError, match=r"layer3='vgg5' is not a candidate"):
        space.validate({**a, "layer3": "vgg5"})
    with pytest.raises(SpaceError, match="unknown label 'layer12'"):
        space.validate({**a, "layer12": "res0"})
    del a["layer0"]
    with pytest.raises(SpaceError, match="misses label 'layer0'"):
        space.validate(a)


def test_string_round_trip_and_errors() -> None:
    space = get_space("bbssp-mobile")
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = space.sample(rng)
        assert space.parse(space.format(a)) == a
    assert space.format(space.typical_arch()) == "-".join(["mobile1"] * 12)
    with pytest.raises(SpaceError, match="has 11 choices, expected 12"):
        space.parse("-".join(["mobile1"] * 11))
    with pytest.raises(SpaceError, match="'res0' is not a candidate"):
        space.parse("-".join(["mobile1"] * 11 + ["res0"]))


def test_indices_round_trip_and_errors() -> None:
    space = get_space("fbnet")
    a = space.sample(np.random.default_rng(2))
    assert space.from_indices(space.indices(a)) == a
    with pytest.raises(SpaceError, match="index 9 for 'layer0' outside 0..8"):
        space.from_indices([9] + [0] * 21)
    with pytest.raises(SpaceError, match="3 indices, expected 22"):
        space.from_indices([0, 0, 0])


def test_restrict_to_the_authors_tuned_res_space(shared_data) -> None:
    """bbssp.md: the Res family won on the DPU with 4,7,8,9,9,9,5,5,1,1,1,1 candidates (~4.1e6 archs)."""
    tuned = json.loads((shared_data / "dpu" / "bbssp_zcu102" / "searched_spaces.json").read_text())["resnet"]
    space = get_space("bbssp-res")
    sub = space.restrict({f"layer{i}": [b.replace("Resblock_", "res") for b in blocks]
                          for i, blocks in enumerate(tuned)}, name="res-tuned")
    assert [len(c.candidates) for c in sub.choices] == [4, 7, 8, 9, 9, 9, 5, 5, 1, 1, 1, 1]
    assert sub.size() == math.prod([4, 7, 8, 9, 9, 9, 5, 5]) == 4082400
    assert sub.name == "res-tuned" and sub.typical == space.typical  # res0 kept in every layer
    rng = np.random.default_rng(0)
    assert all(space.contains(a) and sub.contains(a) for a in (sub.sample(rng) for _ in range(50)))


def test_restrict_errors_and_order() -> None:
    space = get_space("bbssp-res")
    sub = space.restrict({"layer0": ["res5", "res1"]})
    assert sub.choices[0].candidates == ("res1", "res5")  # the space's order, not the caller's
    assert sub.typical is None  # res0 no longer in layer0
    assert sub.size() == 2 * 9 ** 11
    with pytest.raises(SpaceError, match="restrict layer0='vgg1' is not a candidate"):
        space.restrict({"layer0": ["vgg1"]})
    with pytest.raises(SpaceError, match="no choice 'layer99'"):
        space.restrict({"layer99": ["res0"]})
    with pytest.raises(SpaceError, match="non-empty list"):
        space.restrict({"layer0": []})


@pytest.mark.parametrize("name", ["bbssp-res", "fbnet-cifar", "proxyless", "nb201"])
def test_space_json_round_trip(name: str) -> None:
    space = get_space(name)
    again = space_from_json(space.to_json())
    assert again.to_dict() == space.to_dict()
    a = space.sample(np.random.default_rng(4))
    assert again.format(a) == space.format(a)
    assert again.to_workload(a, 32).to_dict() == space.to_workload(a, 32).to_dict()
    restricted = space.restrict({space.choices[0].label: list(space.choices[0].candidates[:2])})
    assert space_from_json(restricted.to_json()).size() == restricted.size()


def test_arch_json_round_trip_and_errors() -> None:
    space = get_space("nb201")
    a = space.sample(np.random.default_rng(5))
    text = space.arch_to_json(a)
    assert json.loads(text)["string"] == space.format(a)
    assert space.arch_from_json(text) == a
    with pytest.raises(SpaceError, match="not an hwnas arch"):
        space.arch_from_json('{"arch": {}}')
    with pytest.raises(SpaceError, match="invalid JSON at line 1"):
        space.arch_from_json("{")
    bad = json.loads(text)
    bad["arch"]["edge_1_0"] = "conv_7x7"
    with pytest.raises(SpaceError, match="edge_1_0='conv_7x7'"):
        space.arch_from_json(json.dumps(bad))
    with pytest.raises(SpaceError, match="unknown model kind"):
        space_from_json(json.dumps({**space.to_dict(), "model": {"kind": "zoo"}}))


def test_space_needs_consistent_typical() -> None:
    space = get_space("bbssp-res")
    with pytest.raises(SpaceError, match="typical choice 'vgg0'"):
        SearchSpace("x", space.choices, space.model, typical=("vgg0",) * 12)
    with pytest.raises(SpaceError, match="12 choices for 10 layers"):
        SearchSpace("x", space.choices, get_space("bbssp-res-cifar").model)
