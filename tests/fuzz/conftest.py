"""Fuzz-test plumbing: a per-session count of generated cases, printed in the terminal summary.

Each fuzz test takes the ``fuzz_cases`` fixture and calls ``fuzz_cases[<target>] += 1`` once per example, so
the summary shows how many inputs each parser/simulator actually saw (independently of ``-s``).
"""

from __future__ import annotations

from collections import Counter

import pytest

_CASES = pytest.StashKey[Counter]()


@pytest.fixture(scope="session")
def fuzz_cases(request: pytest.FixtureRequest) -> Counter:
    """Counter of generated cases per fuzz target, shared by the session (reported at the end)."""
    return request.config.stash.setdefault(_CASES, Counter())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    counts = config.stash.get(_CASES, None)
    if not counts:
        return
    terminalreporter.section("fuzz cases generated")
    for target in sorted(counts):
        terminalreporter.write_line(f"{target}: {counts[target]}")
    terminalreporter.write_line(f"total: {sum(counts.values())}")
