"""``hwnas space show NAME`` and ``hwnas space sample NAME -n 5 --seed 0``."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from hwsim.errors import HwnasError
from spaces.core import SearchSpace
from spaces.registry import get_space, space_names
from spaces.ssbn import num_ssbn


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("space", help="search spaces: show, sample")
    sub = p.add_subparsers(dest="space_command", metavar="ACTION", parser_class=type(p))
    names = ", ".join(space_names())
    show = sub.add_parser("show", help="layers, candidates and size of a space")
    show.add_argument("name", metavar="NAME", help=f"one of {names}, or a .toml file")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.set_defaults(func=_show)
    sample = sub.add_parser("sample", help="random architectures (seeded)")
    sample.add_argument("name", metavar="NAME", help=f"one of {names}, or a .toml file")
    sample.add_argument("-n", type=int, default=5, help="number of architectures (default 5)")
    sample.add_argument("--seed", type=int, default=0, help="numpy Generator seed (default 0)")
    sample.add_argument("--format", choices=("text", "json"), default="text")
    sample.set_defaults(func=_sample)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _summary(space: SearchSpace) -> dict[str, Any]:
    d = {"name": space.name, "description": space.description, "size": space.size(),
         "num_layers": len(space.choices),
         "layers": [{"label": c.label, "candidates": list(c.candidates)} for c in space.choices],
         "input_size": space.model.input_size, "num_classes": space.model.num_classes}
    if space.typical is not None:
        d["typical"] = list(space.typical)
        d["num_ssbn"] = num_ssbn(space)
    return d


def _show(args: argparse.Namespace) -> int:
    space = get_space(args.name)
    d = _summary(space)
    if args.format == "json":
        print(json.dumps(d, indent=1))
        return 0
    print(f"space {space.name}: {space.description}")
    print(f"input {d['input_size']}x{d['input_size']}, {d['num_classes']} classes, {d['num_layers']} choices")
    for i, c in enumerate(space.choices):
        typ = f"  (typical {space.typical[i]})" if space.typical is not None else ""
        print(f"  {c.label:10s} {len(c.candidates):3d}: {', '.join(c.candidates)}{typ}")
    print(f"size {d['size']} (~{float(d['size']):.3g})")
    if "num_ssbn" in d:
        print(f"SSBNs {d['num_ssbn']}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    if args.n < 0:
        raise HwnasError(f"-n must be >= 0, got {args.n}")
    space = get_space(args.name)
    rng = np.random.default_rng(args.seed)
    archs = [space.sample(rng) for _ in range(args.n)]
    if args.format == "json":
        print(json.dumps([{"string": space.format(a), "arch": a.to_dict()} for a in archs], indent=1))
    else:
        for a in archs:
            print(space.format(a))
    return 0
