"""The ``hwnas`` command line. Subcommands live beside the code they drive; each module in
:data:`COMMAND_MODULES` has ``register(subparsers)`` that adds its parser and sets ``func``.

Bad input (any :class:`hwsim.errors.HwnasError`) prints ``hwnas: error: <one line>`` and exits 2.
``-v`` / ``-vv`` sets the level of the package loggers (``hwsim``, ``calibration``, ``spaces``, ``nas``; library
code logs with ``logging.getLogger(__name__)``) to INFO / DEBUG on stderr; the default shows warnings only.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from hwsim import __version__
from hwsim.errors import HwnasError

LOGGER_NAMES: tuple[str, ...] = ("hwsim", "calibration", "spaces", "nas")

COMMAND_MODULES: tuple[str, ...] = (
    "hwsim.cli_workload",
    "spaces.cli",
    "hwsim.cli_simulate",
    "nas.cli",
    "calibration.cli",
    "hwsim.cli_bench",
    "hwsim.hwspace.cli",
)


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
    for mod in COMMAND_MODULES:
        importlib.import_module(mod).register(sub)
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
    parser = build_parser()
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
