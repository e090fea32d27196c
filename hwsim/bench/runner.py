"""``hwnas bench GROUP --out DIR``: run the benchmark scripts of a group and write ``DIR/report.md``.

Each script of ``benchmarks/`` (the source checkout's folder, found like
:func:`hwsim.bench.latency_suite.default_golden_path`) runs as a subprocess of the same Python with
``--out DIR/<group>``; it prints its measured numbers on stdout (captured for the report), its progress on
stderr (streamed through unless quiet) and writes ``DIR/<group>/<name>.json`` (:mod:`hwsim.bench.results`)
plus its PNG figures. The report holds, per benchmark, the command, wall time, exit status, printed output
and figures, and a summary table of the headline numbers against their targets; ``DIR/report.json`` holds
the same as data.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import json
import logging
import os
import platform
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hwsim import __version__
from hwsim.bench.results import load_result
from hwsim.errors import HwnasError
from hwsim.fileio import atomic_write_text
from hwsim.plots import is_png
from hwsim.progress import ProgressFactory, null_progress

log = logging.getLogger(__name__)

STDERR_TAIL_CHARS = 4000
REPORT_HEAD_LINES, REPORT_TAIL_LINES = 100, 40  # longer outputs are cut in report.md (full text in <name>.out.txt)


@dataclass(frozen=True)
class Benchmark:
    """One script ``benchmarks/<name>.py``: its arguments for the full run and the extra ones of ``--quick``
    (appended, so they override)."""

    name: str
    args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ()

    @property
    def script(self) -> str:
        return f"{self.name}.py"


GROUPS: dict[str, tuple[Benchmark, ...]] = {
    "latency": (Benchmark("latency_suite", (), ("--models", "squeezenet1_1,resnet18")),),
    "systolic": (Benchmark("systolic_vs_scalesim", ("--layers", "2"), ("--layers", "1", "--repeat", "2")),),
    "dpu": (Benchmark("dpu_vs_board"),),
    "calibration": (Benchmark("calibration_real_boards", (), ("--test-size", "200")),
                    Benchmark("calibration_local_cpu", (), ("--spaces", "nb201", "--rounds", "2", "--train", "5",
                                                            "--test", "10")),
                    Benchmark("batch_latency", (), ("--n", "200000", "--per-arch", "30", "--spaces", "nb201,fbnet")),
                    Benchmark("nb201_execution_detection", (), ("--seeds", "1"))),
    "bbssp": (Benchmark("bbssp_vs_paper_lut"),
              Benchmark("bbssp_repro", (), ("--evaluator", "zero-cost", "--epochs", "1", "--steps", "2",
                                              "--final-steps", "20"))),
    "sweep": (Benchmark("hw_sweep", (), ("--cells", "300", "--stall-configs", "4", "--stall-every", "8")),),
    "search": (Benchmark("nb201_constrained_search", (), ("--seeds", "2")),),
    "codesign": (Benchmark("codesign_nb201", (), ("--quick",)),),
}
GROUP_NAMES: tuple[str, ...] = tuple(GROUPS)


def benchmarks_dir() -> Path:
    """``benchmarks/`` of the source checkout this package was installed from (may not exist)."""
    return Path(__file__).resolve().parent.parent.parent / "benchmarks"


def resolve_groups(group: str) -> tuple[str, ...]:
    """``all`` -> every group in order; a group name -> itself; else :class:`HwnasError`."""
    if group == "all":
        return GROUP_NAMES
    if group not in GROUPS:
        raise HwnasError(f"unknown benchmark group {group!r}; expected one of {', '.join(GROUP_NAMES)} or all")
    return (group,)


@dataclass
class BenchRun:
    """What one script did: command line, exit status, wall seconds, stdout, the tail of stderr, its result
    file (None if it wrote none) and the figures found."""

    group: str
    benchmark: str
    command: list[str]
    rc: int
    wall_s: float
    stdout: str
    stderr_tail: str
    result: dict[str, Any] | None = None
    figures: list[str] = field(default_factory=list)  # paths relative to the report folder
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "benchmark": self.benchmark, "command": self.command, "rc": self.rc,
                "wall_s": self.wall_s, "headline": (self.result or {}).get("headline", []),
                "figures": self.figures, "error": self.error}


def _collapse_cr(text: str) -> str:
    """Keep the last carriage-return segment of every line (tqdm redraws) and drop empty lines."""
    lines = []
    for line in text.split("\n"):
        line = line.rsplit("\r", 1)[-1].rstrip()
        if line:
            lines.append(line)
    return "\n".join(lines)


def _pump(src: IO[bytes], sink: list[str], echo: IO[str] | None) -> None:
    dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        chunk = os.read(src.fileno(), 8192)
        if not chunk:
            break
        text = dec.decode(chunk)
        sink.append(text)
        if echo is not None:
            echo.write(text)
            echo.flush()
    sink.append(dec.decode(b"", final=True))


def run_benchmark(bench: Benchmark, group: str, out: Path, quick: bool = False, quiet: bool = False,
                  bench_dir: Path | None = None, python: str = sys.executable,
                  extra_args: Sequence[str] = ()) -> BenchRun:
    """Run one script with ``--out out/<group>``; never raises for a failing script (its status is kept)."""
    bench_dir = bench_dir or benchmarks_dir()
    script = bench_dir / bench.script
    gdir = out / group
    gdir.mkdir(parents=True, exist_ok=True)
    cmd = [python, str(script), "--out", str(gdir), *bench.args, *(bench.quick_args if quick else ()),
           *extra_args]
    env = dict(os.environ)
    root = str(bench_dir.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["MPLBACKEND"] = "Agg"
    env.setdefault("PYTHONUNBUFFERED", "1")
    log.info("running %s", shlex.join(cmd))
    out_chunks: list[str] = []
    err_chunks: list[str] = []
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    threads = [threading.Thread(target=_pump, args=(proc.stdout, out_chunks, None), daemon=True),
               threading.Thread(target=_pump, args=(proc.stderr, err_chunks, None if quiet else sys.stderr),
                                daemon=True)]
    for t in threads:
        t.start()
    try:
        rc = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        for t in threads:
            t.join()
    wall = time.perf_counter() - t0
    run = BenchRun(group, bench.name, _display_command(cmd, root, out), rc, wall, "".join(out_chunks),
                   _collapse_cr("".join(err_chunks))[-STDERR_TAIL_CHARS:])
    atomic_write_text(gdir / f"{bench.name}.out.txt", run.stdout)
    result_path = gdir / f"{bench.name}.json"
    if result_path.is_file():
        try:
            run.result = load_result(result_path)
        except HwnasError as e:
            run.error = str(e)
    elif rc == 0:
        run.error = f"{result_path.name} was not written"
    names = (run.result or {}).get("figures") or sorted(p.name for p in gdir.glob(f"{bench.name}*.png"))
    for name in names:
        p = gdir / name
        if is_png(p):
            run.figures.append(f"{group}/{name}")
        else:
            run.error = (run.error + "; " if run.error else "") + f"figure {name} missing or not a PNG"
    log.info("%s: exit %d in %.1f s, %d figures", bench.name, rc, wall, len(run.figures))
    return run


def _display_command(cmd: list[str], root: str, out: Path) -> list[str]:
    """The command as a user would type it from the checkout: ``python benchmarks/x.py --out DIR/group ...``."""
    shown = ["python"]
    for a in cmd[1:]:
        try:
            shown.append(str(Path(a).relative_to(root)) if a.startswith(root + os.sep) else a)
        except ValueError:
            shown.append(a)
    return shown


def run_groups(groups: Sequence[str], out: str | Path, quick: bool = False, quiet: bool = False,
               progress: ProgressFactory | None = None, bench_dir: Path | None = None,
               python: str = sys.executable, extra_args: dict[str, Sequence[str]] | None = None) -> list[BenchRun]:
    """Run every script of ``groups`` in order and write the report; returns the runs.

    ``extra_args`` maps a benchmark name to arguments appended to its command. Raises :class:`HwnasError`
    (one line) when the benchmarks folder or a script is missing, before anything runs.
    """
    bench_dir = bench_dir or benchmarks_dir()
    if not bench_dir.is_dir():
        raise HwnasError(f"{bench_dir}: benchmarks folder not found; hwnas bench runs the scripts of a source "
                         f"checkout (git clone, then pip install -e .)")
    todo = [(g, b) for g in groups for b in GROUPS[g]]
    for _, b in todo:
        if not (bench_dir / b.script).is_file():
            raise HwnasError(f"{bench_dir / b.script}: benchmark script not found")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs: list[BenchRun] = []
    t0 = time.perf_counter()
    bar = (progress or null_progress)(len(todo), "benchmarks")
    try:
        for g, b in todo:
            if hasattr(bar, "set_postfix_str"):
                bar.set_postfix_str(b.name)
            runs.append(run_benchmark(b, g, out, quick, quiet, bench_dir, python,
                                      (extra_args or {}).get(b.name, ())))
            bar.update(1)
    finally:
        bar.close()
    write_report(out, runs, time.perf_counter() - t0, quick)
    return runs


# ------------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------------
def _fmt_value(v: Any, unit: str) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}{unit}"
    return f"{v}{unit}"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_rows(runs: Sequence[BenchRun]) -> list[tuple[str, str, str, str, str]]:
    """``(benchmark, metric, value, target, met)`` rows of the summary table."""
    rows = []
    for r in runs:
        head = (r.result or {}).get("headline", [])
        if r.rc != 0 or not head:
            rows.append((r.benchmark, "exit status", str(r.rc), "0", "yes" if r.rc == 0 else "**no**"))
        for h in head:
            met = h.get("met")
            rows.append((r.benchmark, h.get("metric", "?"), _fmt_value(h.get("value"), h.get("unit", "")),
                         h.get("target") or "-", "-" if met is None else "yes" if met else "**no**"))
    return rows


def _cut(text: str, full: str) -> str:
    lines = text.split("\n")
    if len(lines) <= REPORT_HEAD_LINES + REPORT_TAIL_LINES:
        return text
    skipped = len(lines) - REPORT_HEAD_LINES - REPORT_TAIL_LINES
    return "\n".join([*lines[:REPORT_HEAD_LINES], f"... {skipped} lines cut (full output: {full}) ...",
                      *lines[-REPORT_TAIL_LINES:]])


def render_report(runs: Sequence[BenchRun], total_wall_s: float, quick: bool) -> str:
    """The markdown report (figure links relative to the report's folder)."""
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    groups = list(dict.fromkeys(r.group for r in runs))
    lines = ["# hwnas benchmark report", "",
             f"hwnas {__version__}, Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
             f"{os.cpu_count()} CPUs; generated {now}.", "",
             f"Groups: {', '.join(groups)}{' (--quick: reduced sizes)' if quick else ''}; {len(runs)} benchmarks, "
             f"total wall time {total_wall_s:.0f} s ({total_wall_s / 60:.1f} min); "
             f"{sum(r.rc != 0 for r in runs)} failed.", "",
             "## Summary", "",
             "| benchmark | metric | value | target | met |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in summary_rows(runs)]
    lines += ["", "| benchmark | wall time | exit | figures |", "|---|---|---|---|"]
    lines += [f"| {r.benchmark} | {r.wall_s:.1f} s | {r.rc} | {len(r.figures)} |" for r in runs]
    for g in groups:
        lines += ["", f"## {g}"]
        for r in (x for x in runs if x.group == g):
            lines += ["", f"### {r.benchmark}", "",
                      f"`{shlex.join(r.command)}`", "",
                      f"Wall time {r.wall_s:.1f} s, exit status {r.rc}."]
            if r.error:
                lines += ["", f"**Problem:** {r.error}"]
            lines += ["", "```text", _cut(r.stdout.rstrip("\n"), f"{r.group}/{r.benchmark}.out.txt")
                      or "(no output)", "```"]
            if r.rc != 0 and r.stderr_tail:
                lines += ["", "stderr (last lines):", "", "```text", r.stderr_tail, "```"]
            for f in r.figures:
                lines += ["", f"![{Path(f).stem}]({f})"]
    return "\n".join(lines) + "\n"


def write_report(out: str | Path, runs: Sequence[BenchRun], total_wall_s: float, quick: bool = False) -> Path:
    """Write ``report.md`` and ``report.json`` into ``out``; returns the markdown path."""
    out = Path(out)
    md = out / "report.md"
    atomic_write_text(md, render_report(runs, total_wall_s, quick))
    atomic_write_text(out / "report.json", json.dumps({"hwnas": __version__, "quick": quick,
                                                       "total_wall_s": total_wall_s,
                                                       "runs": [r.to_dict() for r in runs]}, indent=1) + "\n")
    return md


def format_summary(runs: Sequence[BenchRun]) -> str:
    """The summary table as plain text (what ``hwnas bench`` prints at the end)."""
    rows = [("benchmark", "metric", "value", "target", "met")] + [
        tuple(c.replace("**", "") for c in r) for r in summary_rows(runs)]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


__all__ = ["GROUPS", "GROUP_NAMES", "BenchRun", "Benchmark", "benchmarks_dir", "format_summary", "render_report",
           "resolve_groups", "run_benchmark", "run_groups", "summary_rows", "write_report"]
