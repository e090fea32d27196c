"""The ``hwnas`` command line, assembled from plugins.

Each package registers its subcommands through the ``hwnas.commands`` entry-point group (pyproject.toml): an
entry point names a ``register(subparsers)`` function that adds parsers and sets ``func``. This module is the
only place that discovers them, so the ground package imports nothing above it: ``spaces``, ``calibration`` and
``nas`` plug themselves in. The ``hwsim`` plugin is :func:`register` below.

Bad input (any :class:`hwsim.errors.HwnasError`) prints ``hwnas: error: <one line>`` and exits 2.
``-v`` / ``-vv`` sets the level of the package loggers (``hwsim``, ``calibration``, ``spaces``, ``nas``; library
code logs with ``logging.getLogger(__name__)``) to INFO / DEBUG on stderr; the default shows warnings only.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from hwsim import __version__
from hwsim.errors import HwnasError

LOGGER_NAMES: tuple[str, ...] = ("hwsim", "calibration", "spaces", "nas")

ENTRY_POINT_GROUP = "hwnas.commands"

def register(sub: argparse._SubParsersAction) -> None:
    """The ``hwsim`` plugin: ``workload``, ``simulate``, ``hw-space``, ``bench``."""
    from hwsim import cli_bench, cli_simulate, cli_workload
    from hwsim.hwspace import cli as cli_hwspace

    for mod in (cli_workload, cli_simulate, cli_hwspace, cli_bench):
        mod.register(sub)


def command_plugins() -> list[tuple[str, Callable[[argparse._SubParsersAction], None]]]:
    """``(name, register)`` of every installed ``hwnas.commands`` entry point, the ground package first, then by name."""
    eps = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name != "hwsim", ep.name))
    if not eps:
        raise HwnasError(f"no {ENTRY_POINT_GROUP!r} entry points found: install the package (pip install -e .)")
    return [(ep.name, ep.load()) for ep in eps]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hwnas", description="Accelerator-aware NAS: workloads, accelerator models, "
                     "calibration, search-space profiling.")
    parser.add_argument("--version", action="version", version=f"hwnas {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log progress details to stderr (-v: info, -vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for _name, register_commands in command_plugins():
        register_commands(sub)
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to the *current* ``sys.stderr`` (tests and callers may swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def configure_logging(verbose: int) -> None:
    """Route the package loggers to stderr at WARNING (0), INFO (1) or DEBUG (2+); idempotent."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    for name in LOGGER_NAMES:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter("hwnas: %(levelname)s: %(name)s: %(message)s"))
            logger.addHandler(handler)
        logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except HwnasError as e:
        print(f"hwnas: error: {e}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        rc = args.func(args)
    except HwnasError as e:
        print(f"hwnas: error: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"hwnas: error: {e.filename or e}: file not found", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
