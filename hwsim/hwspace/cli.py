"""``hwnas hw-space``: show a hardware design space, or sample device TOMLs from it.

``hwnas hw-space show NAME|FILE [--format json]`` prints the template, the parameters with their values, the
fixed values, the limits and ``size`` (the product of the value counts). ``hwnas hw-space sample NAME|FILE -n N
--seed S [--out DIR]`` prints N device TOMLs (or writes ``DIR/<space>-<index>.toml``, atomically) that
``hwnas simulate --device FILE`` runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hwsim.fileio import atomic_write_text
from hwsim.hwspace.space import BUILTIN, HwSpace, HwSpaceError, get_space


def _fmt(v: Any) -> str:
    return str(list(v)) if isinstance(v, tuple) else str(v)


def format_space(space: HwSpace) -> str:
    """The space as a text table."""
    lines = [f"hardware space {space.name} ({space.source}): template {space.template}"
             + (f", base {space.base}" if space.base else ""), space.description, ""]
    width = max(len(k) for k in [*space.params, *space.fixed, "parameter"])
    lines.append(f"{'parameter':{width}s}  {'count':>5s}  values")
    for k, values in space.params.items():
        lines.append(f"{k:{width}s}  {len(values):5d}  {', '.join(_fmt(v) for v in values)}")
    if space.fixed:
        lines += ["", "fixed:"] + [f"  {k} = {_fmt(v)}" for k, v in space.fixed.items()]
    if space.limits:
        lines += ["", "limits:"] + [f"  {k} <= {v:g}" for k, v in space.limits.items()]
    lines += ["", f"size: {space.size:,} configurations"]
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    space = get_space(args.space)
    if args.format == "json":
        print(json.dumps(space.to_dict(), indent=1))
    else:
        print(format_space(space))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    space = get_space(args.space)
    if args.n < 1:
        raise HwSpaceError(f"-n must be a positive integer, got {args.n}")
    points = space.sample(args.n, args.seed)
    if len(points) < args.n:
        raise HwSpaceError(f"space {space.name!r}: only {len(points)} configurations meet its limits, asked for "
                           f"{args.n}")
    for p in points:
        space.device(p)  # every file must load (cross-field rules of the template)
    texts = [(space.device_name(p), space.to_toml(p)) for p in points]
    if args.out:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise HwSpaceError(f"--out {out}: exists and is not a folder")
        for name, text in texts:
            atomic_write_text(out / f"{name}.toml", text)
            print(out / f"{name}.toml")
    else:
        print("\n".join(text for _, text in texts), end="")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``hw-space show`` and ``hw-space sample`` to the ``hwnas`` parser."""
    p = subparsers.add_parser("hw-space", help="hardware design spaces: show one, sample device TOMLs from it",
                              description=__doc__)
    sub = p.add_subparsers(dest="hw_space_command", metavar="ACTION", required=True,
                           parser_class=type(p))
    show = sub.add_parser("show", help="parameters, values and size of a space")
    show.add_argument("space", metavar="NAME|FILE", help=f"built-in space ({', '.join(BUILTIN)}) or a space TOML")
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.set_defaults(func=cmd_show)
    smp = sub.add_parser("sample", help="device TOMLs of N distinct configurations (seeded)")
    smp.add_argument("space", metavar="NAME|FILE", help=f"built-in space ({', '.join(BUILTIN)}) or a space TOML")
    smp.add_argument("-n", type=int, default=1, help="number of configurations (default 1)")
    smp.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    smp.add_argument("--out", metavar="DIR", help="write DIR/<space>-<index>.toml instead of printing")
    smp.set_defaults(func=cmd_sample)


__all__ = ["cmd_sample", "cmd_show", "format_space", "register"]
