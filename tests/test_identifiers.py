"""The one character rule for codes and free text (models/identifiers.py), and every import
column held to it: an invisible character or an odd space in a code is refused with its row
and column; names keep ordinary Chinese text."""

from __future__ import annotations

import sys
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from spotcheck.errors import InvalidInputError, PolicyError
from spotcheck.formats.registry_files import (
    read_conflicts,
    read_enterprises,
    read_history,
    read_inspectors,
    read_results,
)
from spotcheck.formats.registry_values import FREE_TEXT
from spotcheck.models.identifiers import (
    UNSEEN,
    WIDE_SPACE,
    code_problem,
    text_problem,
)
from spotcheck.models.policy import parse_policy

GOOD = Path(__file__).parent / "data" / "good"
TODAY = date(2026, 12, 31)


def test_the_unseen_class_covers_this_pythons_unicode() -> None:
    """Every control, format, line/paragraph separator and surrogate code point of this
    Python's Unicode database is in UNSEEN, and every non-ASCII space in WIDE_SPACE."""
    missing, spaces = [], []
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Zl", "Zp", "Cs") and not UNSEEN.match(char):
            missing.append(f"U+{point:04X}")
        if category == "Zs" and point != 0x20 and not WIDE_SPACE.match(char):
            spaces.append(f"U+{point:04X}")
    assert missing == [] and spaces == []


@pytest.mark.parametrize("char", ["\u200b", "\u200d", "\ufeff", "\u00ad", "\u2060", "\u202e",
                                  "\u061c", "\U000e0041", "\u3164", "\ufe0f", "\ufffd"])
def test_invisible_characters_are_named(char: str) -> None:
    """An invisible character in a code or a name is refused naming its code point and
    where it is."""
    for problem in (code_problem(f"SC{char}JG"), text_problem(f"王{char}建国")):
        assert problem is not None and f"U+{ord(char):04X}" in problem
        assert "character 3" in problem or "character 2" in problem


@pytest.mark.parametrize("space", ["\u00a0", "\u3000", "\u2009", "\u202f"])
def test_odd_spaces_are_refused_in_codes_only(space: str) -> None:
    """A space other than the ASCII one is refused in a code, and allowed in free text."""
    assert "not an ordinary space" in (code_problem(f"SCJG{space}") or "")
    assert text_problem(f"杭州{space}某公司") is None


def test_ordinary_text_passes() -> None:
    """Chinese names, pinyin with tones, the middle dot of minority names and plain codes
    pass; control characters are refused as such."""
    for text in ("杭州运河吴山超市有限公司", "买买提·艾力", "Lǚ Bīn", "GS-QY", "3301"):
        assert code_problem(text) is None and text_problem(text) is None
    assert "control characters" in (text_problem("a\tb") or "")


def _with(kind: str, row: int, column: int, value: str, tmp_path: Path) -> Path:
    """Return a copy of the good file of a kind with one cell replaced."""
    rows = [line.split(",") for line in
            (GOOD / f"{kind}.csv").read_text(encoding="utf-8").splitlines()]
    rows[row - 1][column] = value
    path = tmp_path / f"{kind}.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _read(kind: str, path: Path) -> object:
    """Read a registry file of a kind as the import does."""
    if kind == "enterprises":
        return read_enterprises(path, tiers=("A", "B", "C", "D"))
    if kind == "inspectors":
        return read_inspectors(path)
    if kind == "conflicts":
        return read_conflicts(path)
    return read_history(path, today=TODAY)


CELLS = [(kind, column) for kind, width in (("enterprises", 5), ("inspectors", 7),
                                             ("conflicts", 3), ("history", 4))
         for column in range(width)]


@pytest.mark.parametrize(("kind", "column"), CELLS)
def test_every_column_refuses_a_zero_width_space(kind: str, column: int,
                                                 tmp_path: Path) -> None:
    """A U+200B put into any cell of any registry file is refused at that row and column."""
    header = (GOOD / f"{kind}.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    cell = (GOOD / f"{kind}.csv").read_text(encoding="utf-8").splitlines()[2].split(",")[column]
    path = _with(kind, 3, column, cell[:1] + "\u200b" + cell[1:], tmp_path)
    with pytest.raises(InvalidInputError) as excinfo:
        _read(kind, path)
    [problem] = excinfo.value.problems
    assert (problem.row, problem.column) == (3, header[column])
    assert "U+200B ZERO WIDTH SPACE" in problem.reason


@pytest.mark.parametrize(("kind", "column"), [c for c in CELLS if c[1] > 0])
def test_code_columns_refuse_a_no_break_space(kind: str, column: int, tmp_path: Path) -> None:
    """A U+00A0 inside a cell is refused in every code column and kept in free text."""
    header = (GOOD / f"{kind}.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    cell = (GOOD / f"{kind}.csv").read_text(encoding="utf-8").splitlines()[2].split(",")[column]
    path = _with(kind, 3, column, cell[:1] + "\u00a0" + cell[1:], tmp_path)
    english = {"姓名": "name", "企业名称": "name", "回避原因": "reason"}
    if english.get(header[column]) in FREE_TEXT:
        assert _read(kind, path)
        return
    with pytest.raises(InvalidInputError) as excinfo:
        _read(kind, path)
    assert [(p.row, p.column) for p in excinfo.value.problems] == [(3, header[column])]


def test_result_codes_and_inspectors_refuse_invisible_characters(tmp_path: Path) -> None:
    """The results file's codes, task and inspectors refuse U+200B, each cell named."""
    path = tmp_path / "results.csv"
    path.write_text("统一社会信用代码,抽查任务编号,检查完成日期,检查结果,实际检查人员\n"
                    "91330102MA21FE0YW7,GS-QY,2026-10-09,A\u200b,33010100001\n"
                    "91330102MA2BJ4U4BR,GS\u200b-QY,2026-10-09,1,33010100001\u200b\n",
                    encoding="utf-8")
    with pytest.raises(InvalidInputError) as excinfo:
        read_results(path)
    assert [(p.row, p.column) for p in excinfo.value.problems] == [
        (2, "检查结果"), (3, "抽查任务编号"), (3, "实际检查人员")]


def test_policy_codes_refuse_invisible_characters() -> None:
    """A policy's task department, industries and qualification refuse U+200B too, since
    they are compared exactly with the registry's codes."""
    base = ("schema = 1\nteam_size = 2\n[tiers.A]\nratio = 0.5\nmin_ratio = 0.1\n"
            "quarters = [1]\ncooldown_months = 0\npriority = 1\n[[tasks]]\ncode = \"T\"\n")
    for line in ('department = "SCJG\u200b"', 'department = "SCJG"\nindustries = ["C\u200b"]',
                 'department = "SCJG"\nqualification = "食品\u200b安全"'):
        with pytest.raises(PolicyError, match="U\\+200B"):
            parse_policy(base + line + "\n")
