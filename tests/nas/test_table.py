"""The table evaluator by column: keys, percent/fraction rules, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas.evaluators.base import EvalTask, EvaluatorError
from nas.evaluators.table import TableEvaluator, read_column_table, resolve_scale
from spaces.registry import get_space

A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
B = "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"


def _csv(tmp_path: Path, text: str, name: str = "acc.csv") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_column_percent_and_fraction(tmp_path: Path) -> None:
    sp = get_space("nb201")
    f = _csv(tmp_path, f"nb201_idx,arch_str,c10,c100_frac\n0,{A},94.5,0.73\n1,{B},80.25,0.5\n")
    ev = TableEvaluator(f, "c10")  # auto: max > 1 -> percent
    assert ev.evaluate(EvalTask(sp, sp.parse(A), "k", 0)).accuracy == pytest.approx(0.945)
    assert ev.accuracy_of(sp, sp.parse(B)) == pytest.approx(0.8025)
    assert TableEvaluator(f, "c100_frac").accuracy_of(sp, sp.parse(A)) == pytest.approx(0.73)
    assert TableEvaluator(f, "c100_frac", "percent").accuracy_of(sp, sp.parse(A)) == pytest.approx(0.0073)
    with pytest.raises(EvaluatorError, match="outside the fraction range"):
        TableEvaluator(f, "c10", "fraction")
    t = read_column_table(f, "c10")
    assert t.value_of_index(1) == 80.25 and t.arch_of_index[0] == A
    assert resolve_scale(t, "auto") == 100.0


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    sp = get_space("nb201")
    f = _csv(tmp_path, f"arch_str,acc\n{A},70\n")
    with pytest.raises(EvaluatorError, match="no column 'cifar100_test_acc'; columns: arch_str, acc"):
        TableEvaluator(f, "cifar100_test_acc")
    ev = TableEvaluator(f, "acc")
    with pytest.raises(EvaluatorError, match="no accuracy in column 'acc' for arch") as e:
        ev.accuracy_of(sp, sp.parse(B))
    assert "\n" not in str(e.value)
    bad = _csv(tmp_path, f"arch_str,acc\n{A},x\n", "bad.csv")
    with pytest.raises(EvaluatorError, match="bad.csv:2: column 'acc'"):
        TableEvaluator(bad, "acc")
    twice = _csv(tmp_path, f"arch_str,acc\n{A},70\n{A},71\n", "twice.csv")
    with pytest.raises(EvaluatorError, match="listed twice"):
        TableEvaluator(twice, "acc")
    with pytest.raises(EvaluatorError, match="does not exist"):
        TableEvaluator(str(tmp_path / "none.csv"), "acc")
