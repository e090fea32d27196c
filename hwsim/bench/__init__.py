"""Deterministic benchmark suites whose outputs are committed as golden files (see :mod:`hwsim.bench.latency_suite`)."""

from hwsim.bench.latency_suite import (
    Change,
    compare_suites,
    default_golden_path,
    dumps_suite,
    generate_suite,
    load_suite,
    write_suite,
)

__all__ = ["Change", "compare_suites", "default_golden_path", "dumps_suite", "generate_suite",
           "load_suite", "write_suite"]
