"""Tests of spotcheck.formats.registry_files: CSV/XLSX registry files in, validated data out."""

from __future__ import annotations

import csv
import io
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from spotcheck.errors import InvalidInputError, RowProblem
from spotcheck.formats import registry_files
from spotcheck.formats.registry_files import (
    read_conflicts,
    read_enterprises,
    read_history,
    read_inspectors,
    read_registry_file,
)
from spotcheck.formats.registry_values import VALUE_RULES
from spotcheck.models.columns import IMPORT_COLUMNS, REGISTRY_KINDS, column_names
from spotcheck.models.domain import Conflict, Enterprise, HistoryRecord, Inspector
from spotcheck.models.identifiers import uscc_check_character
from spotcheck.models.registry import EnterpriseColumns

DATA = Path(__file__).parent / "data"
GOOD = DATA / "good"
BAD = DATA / "bad"
TIERS = ("A", "B", "C", "D")
TODAY = date(2026, 12, 31)  # the day of the imports: no history date of these files is after it

E_HEAD = ["统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "信用风险分类"]
I_HEAD = ["执法证号", "姓名", "所属部门", "管辖区划", "执法领域", "季度检查上限", "执法证有效期"]


def code(serial: int, district: str = "330102") -> str:
    """Return a valid unified social credit code for a district and a serial number."""
    body = f"91{district}{serial:09d}"
    return body + uscc_check_character(body)


def write_csv(path: Path, header: list[str], rows: list[list[str]],
              encoding: str = "utf-8") -> Path:
    """Return `path` after writing a CSV in the given encoding, CRLF as Excel writes it."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    """Return `path` after writing a one-sheet workbook."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def good_rows(name: str) -> list[list[str]]:
    """Return the data rows of a good example file."""
    with open(GOOD / name, encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))[1:]


def problems(excinfo: pytest.ExceptionInfo[InvalidInputError]) -> list[tuple[Any, ...]]:
    """Return (row, column, value) of each problem an error lists."""
    return [(p.row, p.column, p.value) for p in excinfo.value.problems]


def same_columns(a: EnterpriseColumns, b: EnterpriseColumns) -> bool:
    """Return whether two enterprise column sets hold the same rows."""
    return all(np.array_equal(getattr(a, f), getattr(b, f))
               for f in ("ids", "names", "jurisdictions", "industries", "tiers"))


def reference_enterprises() -> EnterpriseColumns:
    """Return the good enterprises file as read from UTF-8."""
    return read_enterprises(GOOD / "enterprises.csv", tiers=TIERS)


# ---- good files ----

def test_good_files_read_completely() -> None:
    """The example registry files read whole, with the values the planner typed."""
    enterprises = reference_enterprises()
    assert len(enterprises) == 40
    assert list(enterprises.ids) == sorted(enterprises.ids)
    assert set(enterprises.tiers.tolist()) == {b"A", b"B", b"C", b"D"}
    inspectors = read_inspectors(GOOD / "inspectors.csv")
    assert len(inspectors) == 16
    assert inspectors[1].qualifications == ("特种设备", "食品安全")
    assert inspectors[2].qualifications == ()
    assert inspectors[4].certificate_expiry == date(2025, 6, 30)
    assert {i.department for i in inspectors} == {"SCJG", "TZSB"}
    conflicts = read_conflicts(
        GOOD / "conflicts.csv", inspector_ids={i.inspector_id for i in inspectors},
        enterprise_ids={e.decode() for e in enterprises.ids})
    assert [c.inspector_id for c in conflicts] == ["33010100001", "33010100004", "33010200013"]
    history = read_history(GOOD / "history.csv", today=TODAY)
    assert len(history) == 6
    assert {h.task for h in history} == {"GS-QY", "SP-JY"}


def test_examples_match_the_good_files() -> None:
    """The README walkthrough files are the good test files, the GBK one read identically."""
    examples = Path(__file__).parent.parent / "examples"
    for name in ("enterprises.csv", "inspectors.csv", "conflicts.csv", "history.csv"):
        assert (examples / name).read_bytes() == (GOOD / name).read_bytes()
    gbk = examples / "enterprises_gbk.csv"
    with pytest.raises(UnicodeDecodeError):
        gbk.read_bytes().decode("utf-8")
    assert same_columns(read_enterprises(gbk, tiers=TIERS), reference_enterprises())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings_read_identically(tmp_path: Path, encoding: str) -> None:
    """UTF-8, UTF-8 with BOM, GBK and GB18030 files with Chinese headers give the same data."""
    enterprises = write_csv(tmp_path / "e.csv", E_HEAD, good_rows("enterprises.csv"), encoding)
    inspectors = write_csv(tmp_path / "i.csv", I_HEAD, good_rows("inspectors.csv"), encoding)
    assert same_columns(read_enterprises(enterprises, tiers=TIERS), reference_enterprises())
    assert read_inspectors(inspectors) == read_inspectors(GOOD / "inspectors.csv")


def test_gb18030_characters_outside_gbk(tmp_path: Path) -> None:
    """A name using a character only GB18030 encodes (four bytes) is read exactly."""
    name = "杭州𠮷野家餐饮有限公司"
    path = write_csv(tmp_path / "e.csv", E_HEAD, [[code(1), name, "330102", "H6210", "A"]],
                     "gb18030")
    assert read_enterprises(path).names.tolist() == [name]


def test_xlsx_reads_like_csv(tmp_path: Path) -> None:
    """An XLSX with number and date cells reads as the same data as the CSV."""
    enterprise_rows: list[list[Any]] = [
        [r[0], r[1], int(r[2]), r[3], r[4]] for r in good_rows("enterprises.csv")]
    inspector_rows: list[list[Any]] = [
        [int(r[0]), r[1], r[2], int(r[3]), r[4], float(r[5]),
         datetime.fromisoformat(r[6])] for r in good_rows("inspectors.csv")]
    enterprises = write_xlsx(tmp_path / "e.xlsx", E_HEAD, enterprise_rows)
    inspectors = write_xlsx(tmp_path / "i.xlsx", I_HEAD, inspector_rows)
    assert same_columns(read_enterprises(enterprises, tiers=TIERS), reference_enterprises())
    assert read_inspectors(inspectors) == read_inspectors(GOOD / "inspectors.csv")


def test_xlsx_is_detected_by_content(tmp_path: Path) -> None:
    """A workbook saved with a .csv name is still read as a workbook."""
    path = write_xlsx(tmp_path / "e.xlsx", E_HEAD, [[code(1), "甲公司", 330102, "C3411", "B"]])
    renamed = path.rename(tmp_path / "e.csv")
    assert read_enterprises(renamed).jurisdictions.tolist() == [b"330102"]


def test_english_headers(tmp_path: Path) -> None:
    """English column names, in any case and order, are accepted."""
    path = write_csv(tmp_path / "i.csv",
                     ["Capacity", "inspector_id", "name", "department", "jurisdiction",
                      "certificate_expiry", "qualifications"],
                     [["7", "A-001", "王伟", "SCJG", "330102", "2028-01-31", "食品安全"]])
    [inspector] = read_inspectors(path)
    assert (inspector.inspector_id, inspector.capacity, inspector.qualifications) == \
        ("A-001", 7, ("食品安全",))


def test_cells_are_stripped(tmp_path: Path) -> None:
    """White space around every cell, headers included, is not part of the value."""
    path = write_csv(tmp_path / "e.csv", [f" {h} " for h in E_HEAD],
                     [[f" {code(1)} ", " 甲公司 ", "330102 ", " ", "\tA"]])
    columns = read_enterprises(path)
    assert (columns.ids[0], columns.names[0], columns.industries[0], columns.tiers[0]) == \
        (code(1).encode(), "甲公司", b"", b"A")


@pytest.mark.parametrize("text", ["食品安全;特种设备", "食品安全、特种设备",
                                  "食品安全,特种设备", "食品安全，特种设备",
                                  "食品安全；特种设备", "食品安全; 特种设备;"])
def test_qualification_separators(tmp_path: Path, text: str) -> None:
    """Qualifications split on ; 、 , and their full-width forms, ignoring empty items."""
    path = write_csv(tmp_path / "i.csv", I_HEAD,
                     [["A-1", "王伟", "SCJG", "3301", text, "5", "2028-12-31"]])
    assert read_inspectors(path)[0].qualifications == ("特种设备", "食品安全")


@pytest.mark.parametrize("text", ["2026-03-05", "2026/03/05", "2026/3/5", "20260305",
                                  "2026年3月5日", "2026年03月05日"])
def test_date_forms(tmp_path: Path, text: str) -> None:
    """Every date form a planner may type reads as the same day."""
    path = write_csv(tmp_path / "h.csv", ["统一社会信用代码", "抽查任务", "部门", "检查日期"],
                     [[code(1), "GS-QY", "SCJG", text]])
    assert read_history(path, today=TODAY)[0].inspected_on == date(2026, 3, 5)


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    """industry, qualifications, reason and department may be left out of their files."""
    e = write_csv(tmp_path / "e.csv", ["enterprise_id", "name", "jurisdiction", "tier"],
                  [[code(1), "甲公司", "330102", "A"]])
    i = write_csv(tmp_path / "i.csv", [h for h in I_HEAD if h != "执法领域"],
                  [["A-1", "王伟", "SCJG", "3301", "5", "2028-12-31"]])
    c = write_csv(tmp_path / "c.csv", ["执法证号", "统一社会信用代码"], [["A-1", code(1)]])
    h = write_csv(tmp_path / "h.csv", ["统一社会信用代码", "抽查任务", "检查日期"],
                  [[code(1), "GS-QY", "2026-01-02"]])
    assert read_enterprises(e).industries.tolist() == [b""]
    assert read_inspectors(i)[0].qualifications == ()
    assert read_conflicts(c)[0].reason == ""
    assert read_history(h, today=TODAY)[0].department == ""


def test_exact_duplicates_in_conflicts_and_history_are_ignored(tmp_path: Path) -> None:
    """A conflict or history row repeated exactly is kept once, not refused."""
    conflict = ["A-1", code(1), "配偶"]
    c = write_csv(tmp_path / "c.csv", ["执法证号", "统一社会信用代码", "回避原因"],
                  [conflict, ["A-2", code(1), "配偶"], conflict])
    past = [code(1), "GS-QY", "SCJG", "2026-01-02"]
    h = write_csv(tmp_path / "h.csv", ["统一社会信用代码", "抽查任务", "部门", "检查日期"],
                  [past, past, [code(1), "GS-QY", "SCJG", "2026/1/2"]])
    assert [x.inspector_id for x in read_conflicts(c)] == ["A-1", "A-2"]
    assert len(read_history(h, today=TODAY)) == 1


def test_blank_rows_after_the_data_are_ignored(tmp_path: Path) -> None:
    """Empty lines and empty-celled rows after the last data row are not errors."""
    path = tmp_path / "e.csv"
    path.write_text(",".join(E_HEAD) + f"\n{code(1)},甲公司,330102,,A\n,,,,\n\n ,, ,,\n",
                    encoding="utf-8")
    assert len(read_enterprises(path)) == 1


def test_trailing_empty_columns_are_ignored(tmp_path: Path) -> None:
    """Empty header cells and empty cells after the last column (Excel's leftovers) are fine."""
    path = tmp_path / "e.csv"
    path.write_text(",".join(E_HEAD) + ",,\n" + f"{code(1)},甲公司,330102,,A,,\n"
                    f"{code(2)},乙公司,330102,,A\n", encoding="utf-8")
    assert len(read_enterprises(path)) == 2


def test_quoted_line_breaks_keep_spreadsheet_rows(tmp_path: Path) -> None:
    """A cell with a line break is one row (refused), and later rows keep their numbers."""
    path = write_csv(tmp_path / "e.csv", E_HEAD, [[code(1), "甲\n公司", "330102", "", "A"],
                                                  [code(2), "乙公司", "33010", "", "A"]])
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path)
    assert problems(excinfo) == [(2, "企业名称", "甲\n公司"), (3, "行政区划代码", "33010")]


# ---- the bad-input corpus ----

CASES = tomllib.loads((BAD / "cases.toml").read_text(encoding="utf-8"))["case"]


def corpus_options(kind: str) -> dict[str, Any]:
    """Return the reader options the corpus assumes: policy tiers, the registered ids and
    the day of the import."""
    if kind == "enterprises":
        return {"tiers": TIERS}
    if kind == "conflicts":
        return {"inspector_ids": {i.inspector_id for i in read_inspectors(GOOD / "inspectors.csv")},
                "enterprise_ids": {e.decode() for e in reference_enterprises().ids}}
    if kind == "history":
        return {"today": TODAY}
    return {}


def test_corpus_lists_every_bad_file() -> None:
    """cases.toml and README.md cover every file of the corpus, once."""
    files = sorted(p.name for p in BAD.iterdir() if p.suffix in {".csv", ".xlsx"})
    assert sorted(case["file"] for case in CASES) == files
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in files)


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_corpus_file_is_rejected_exactly(case: dict[str, Any]) -> None:
    """Each bad file is refused with one problem at the row and column cases.toml states."""
    path = str(BAD / case["file"])
    with pytest.raises(InvalidInputError) as excinfo:
        read_registry_file(case["kind"], path, **corpus_options(case["kind"]))
    [problem] = excinfo.value.problems
    column = case["column"] or None
    assert (problem.file, problem.row, problem.column) == (path, case["row"], column)
    assert case["fragment"] in problem.reason
    where = f"{path}:{case['row']}: " + (f"column {column!r}" if column else "")
    assert any(line.startswith(where) and case["fragment"] in line
               for line in str(excinfo.value).splitlines())


def test_corpus_tier_and_inspector_cases_need_the_reference_data() -> None:
    """Without policy tiers or registered ids, the tier-E and unknown-inspector files pass."""
    assert len(read_enterprises(BAD / "enterprises_unknown_tier.csv")) == 3
    assert len(read_conflicts(BAD / "conflicts_unknown_inspector.csv")) == 3


# ---- headers ----

def test_unknown_column_is_an_error(tmp_path: Path) -> None:
    """A column the file kind does not have is refused, naming it, not dropped."""
    path = write_csv(tmp_path / "e.csv", [*E_HEAD, "法定代表人"],
                     [[code(1), "甲公司", "330102", "", "A", "张三"]])
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path)
    assert problems(excinfo) == [(1, "法定代表人", None)]
    assert "unknown column" in excinfo.value.problems[0].reason
    assert "enterprise_id (统一社会信用代码)" in excinfo.value.problems[0].reason


def test_duplicated_column_is_an_error(tmp_path: Path) -> None:
    """The same column twice, even once in English and once in Chinese, is refused."""
    path = write_csv(tmp_path / "e.csv", [*E_HEAD, "enterprise_id"],
                     [[code(1), "甲公司", "330102", "", "A", code(1)]])
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path)
    assert problems(excinfo) == [(1, "enterprise_id", None)]
    assert "column F repeats column A ('统一社会信用代码')" in excinfo.value.problems[0].reason


def test_missing_columns_are_named_in_the_headers_language(tmp_path: Path) -> None:
    """Each missing required column is named, in English for an English header."""
    path = write_csv(tmp_path / "i.csv", ["inspector_id", "name", "department"],
                     [["A-1", "王伟", "SCJG"]])
    with pytest.raises(InvalidInputError) as excinfo:
        read_inspectors(path)
    assert problems(excinfo) == [(1, "jurisdiction", None), (1, "capacity", None),
                                 (1, "certificate_expiry", None)]
    assert "name it capacity or 季度检查上限" in excinfo.value.problems[1].reason


def test_header_only_file_has_no_data_rows(tmp_path: Path) -> None:
    """A file with a header and nothing else (blank rows aside) is refused."""
    path = tmp_path / "e.csv"
    path.write_text(",".join(E_HEAD) + "\n,,,,\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path)
    assert str(excinfo.value).splitlines()[1] == \
        f"{path}:2: the file has no data rows (only the header row)"


# ---- rows and values ----

def test_blank_row_between_data_rows_is_an_error(tmp_path: Path) -> None:
    """Each blank row followed by data is refused with its own row number."""
    path = tmp_path / "i.csv"
    row = "A-{},王伟,SCJG,3301,,5,2028-12-31\n"
    path.write_text(",".join(I_HEAD) + "\n" + row.format(1) + "\n,,,,,,\n" + row.format(2),
                    encoding="utf-8")
    with pytest.raises(InvalidInputError) as excinfo:
        read_inspectors(path)
    assert problems(excinfo) == [(3, None, None), (4, None, None)]


def test_rows_with_too_many_or_too_few_fields(tmp_path: Path) -> None:
    """A CSV row with more or fewer values than the header has columns is refused."""
    path = tmp_path / "e.csv"
    path.write_text(",".join(E_HEAD) + f"\n{code(1)},甲公司,330102,,A,多余\n"
                    f"{code(2)},乙公司,330102,A\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path)
    assert [str(p) for p in excinfo.value.problems] == [
        f"{path}:2: the row has 6 values but the header has 5 columns",
        f"{path}:3: the row has 4 values but the header has 5 columns"]


def test_every_bad_row_is_listed_in_one_error(tmp_path: Path) -> None:
    """All bad values of a file are reported together, in row and column order."""
    rows = [[code(1), "甲公司", "330102", "C3411", "A"],
            [code(2).lower(), "", "3301", "C 34", "E"],
            [code(1), "丙公司", "330102", "", "A"],
            [code(3)[:17] + "?", "丁公司", "330102", "", ""]]
    path = write_csv(tmp_path / "e.csv", E_HEAD, rows)
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path, tiers=TIERS)
    assert problems(excinfo) == [
        (3, "统一社会信用代码", code(2).lower()), (3, "企业名称", ""), (3, "行政区划代码", "3301"),
        (3, "行业代码", "C 34"), (3, "信用风险分类", "E"),
        (4, "统一社会信用代码", code(1)),
        (5, "统一社会信用代码", code(3)[:17] + "?"), (5, "信用风险分类", "")]
    reasons = [p.reason for p in excinfo.value.problems]
    assert "codes are written in upper case" in reasons[0]
    assert reasons[5] == "the same code (统一社会信用代码) is already on row 2"
    assert reasons[7] == "the value is empty; this column is required"
    assert excinfo.value.headline == f"{path}: 8 problem(s); the file is rejected whole"


def test_problem_message_format() -> None:
    """A problem prints as FILE:ROW: column 'X' value 'V': reason."""
    problem = RowProblem("企业.csv", 3, "季度检查上限", "-1", "capacity must be 0 or more")
    assert str(problem) == \
        "企业.csv:3: column '季度检查上限' value '-1': capacity must be 0 or more"


def test_many_enterprises_with_a_late_duplicate(tmp_path: Path) -> None:
    """In a large file, a repeated code is reported at its file rows (not list positions)."""
    rows = [[code(i), f"企业{i}", "330102", "F5211", "ABCD"[i % 4]] for i in range(20_000)]
    rows.append(rows[12_345][:])
    path = write_csv(tmp_path / "e.csv", E_HEAD, rows)
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path, tiers=TIERS)
    assert problems(excinfo) == [(20_002, "统一社会信用代码", code(12_345))]
    assert "already on row 12347" in excinfo.value.problems[0].reason


@pytest.mark.parametrize(("text", "reason"), [
    ("-1", "capacity must be 0 or more"),
    ("abc", "must be a whole number"),
    ("12.5", "must be a whole number"),
    ("100001", "at most 100000"),
])
def test_bad_capacity(tmp_path: Path, text: str, reason: str) -> None:
    """A capacity that is not a non-negative whole number is refused with the reason."""
    path = write_csv(tmp_path / "i.csv", I_HEAD,
                     [["A-1", "王伟", "SCJG", "3301", "", text, "2028-12-31"]])
    with pytest.raises(InvalidInputError) as excinfo:
        read_inspectors(path)
    assert problems(excinfo) == [(2, "季度检查上限", text)]
    assert reason in excinfo.value.problems[0].reason


@pytest.mark.parametrize(("text", "reason"), [
    ("2028-02-30", "2028-02-30 is not a day of the calendar"),
    ("31/12/2028", "not a date"),
    ("2028-12-31 08:00", "not a date"),
])
def test_bad_dates(tmp_path: Path, text: str, reason: str) -> None:
    """A date in no accepted form, or not on the calendar, is refused."""
    path = write_csv(tmp_path / "i.csv", I_HEAD,
                     [["A-1", "王伟", "SCJG", "3301", "", "5", text]])
    with pytest.raises(InvalidInputError) as excinfo:
        read_inspectors(path)
    assert problems(excinfo) == [(2, "执法证有效期", text)]
    assert reason in excinfo.value.problems[0].reason


def test_inspector_values_are_checked(tmp_path: Path) -> None:
    """Certificate numbers, jurisdictions and qualifications follow DESIGN §4."""
    path = write_csv(tmp_path / "i.csv", I_HEAD, [
        ["A 1", "王伟", "SCJG", "3301", "", "5", "2028-12-31"],
        ["A-2", "李静", "", "33-01", "食品 安全", "5", "2028-12-31"]])
    with pytest.raises(InvalidInputError) as excinfo:
        read_inspectors(path)
    assert problems(excinfo) == [(2, "执法证号", "A 1"), (3, "所属部门", ""),
                                 (3, "管辖区划", "33-01"), (3, "执法领域", "食品 安全")]


def test_duplicate_inspectors_name_both_rows(tmp_path: Path) -> None:
    """A certificate number used twice is refused at the later row, naming the first."""
    row = ["A-1", "王伟", "SCJG", "3301", "", "5", "2028-12-31"]
    path = write_csv(tmp_path / "i.csv", I_HEAD, [row, ["B-1", *row[1:]], ["A-1", *row[1:]]])
    with pytest.raises(InvalidInputError) as excinfo:
        read_inspectors(path)
    assert [str(p) for p in excinfo.value.problems] == [
        f"{path}:4: column '执法证号' value 'A-1': "
        "the same certificate number (执法证号) is already on row 2"]


def test_conflicts_naming_unknown_parties(tmp_path: Path) -> None:
    """A conflict naming an unregistered inspector or enterprise is refused per column."""
    path = write_csv(tmp_path / "c.csv", ["执法证号", "统一社会信用代码", "回避原因"],
                     [["A-1", code(1), ""], ["B-9", code(9), "亲属"]])
    with pytest.raises(InvalidInputError) as excinfo:
        read_conflicts(path, inspector_ids=["A-1"], enterprise_ids=[code(1)])
    assert problems(excinfo) == [(3, "执法证号", "B-9"), (3, "统一社会信用代码", code(9))]
    assert "no enterprise with this code" in excinfo.value.problems[1].reason


def test_history_values_are_checked(tmp_path: Path) -> None:
    """History rows need a valid code, a task code and a date."""
    path = write_csv(tmp_path / "h.csv", ["统一社会信用代码", "抽查任务", "部门", "检查日期"],
                     [[code(1), "GS QY", "", "2026-01-01"], [code(1), "GS-QY", "", ""]])
    with pytest.raises(InvalidInputError) as excinfo:
        read_history(path, today=TODAY)
    assert problems(excinfo) == [(2, "抽查任务", "GS QY"), (3, "检查日期", "")]


def test_tiers_default_to_the_tier_name_rule(tmp_path: Path) -> None:
    """Without policy tiers any tier name is accepted, but not a non-name like '1'."""
    path = write_csv(tmp_path / "e.csv", E_HEAD, [[code(1), "甲", "330102", "", "E"],
                                                  [code(2), "乙", "330102", "", "1"]])
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path)
    assert problems(excinfo) == [(3, "信用风险分类", "1")]


# ---- whole files ----

def test_text_in_neither_encoding_is_refused(tmp_path: Path) -> None:
    """A CSV that is neither UTF-8 nor GB18030 is refused, naming the file."""
    path = tmp_path / "e.csv"
    path.write_bytes(",".join(E_HEAD).encode("gbk") + b"\n\x80\xff,x\n")
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path)
    assert str(excinfo.value).splitlines()[1].startswith(f"{path}: cannot tell the file's "
                                                          "encoding: tried UTF-8 (byte 4 on line 1")
    assert "GB18030 fails at byte 61 (line 2)" in str(excinfo.value)


def test_damaged_utf8_is_refused_not_read_as_gb18030(tmp_path: Path) -> None:
    """A UTF-8 file with one bad byte is refused rather than read as GB18030 mojibake."""
    good = (GOOD / "enterprises.csv").read_bytes()
    path = tmp_path / "e.csv"
    path.write_bytes(good + b"\xff")
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path)
    assert (f"the file is UTF-8 text, but byte {len(good):,} (line 42) is not UTF-8"
            in str(excinfo.value))


@pytest.mark.parametrize(("content", "reason"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "an Excel 97-2003 .xls workbook"),
    ("统一社会信用代码\n".encode("utf-16"), "UTF-16 text"),
    (b"PK\x03\x04not really a zip", "not a readable .xlsx workbook"),
])
def test_unreadable_formats_are_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    """Old .xls workbooks, UTF-16 text and broken workbooks are refused with the reason."""
    path = tmp_path / "e.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path)
    assert excinfo.value.problems[0].file == str(path)
    assert reason in excinfo.value.problems[0].reason


def test_missing_file_is_refused(tmp_path: Path) -> None:
    """A path that does not exist is an input error, not a traceback."""
    with pytest.raises(InvalidInputError, match="cannot open the file"):
        read_history(tmp_path / "nowhere.csv", today=TODAY)


def test_xlsx_blank_and_short_rows(tmp_path: Path) -> None:
    """In a workbook, short rows are padded, trailing blank rows ignored, inner ones refused."""
    row = [code(1), "甲公司", 330102]  # industry and tier cells left empty
    path = write_xlsx(tmp_path / "e.xlsx", E_HEAD, [row, [], [code(2), "乙公司", 330102, "", "A"],
                                                   [None] * 5, [None] * 5])
    with pytest.raises(InvalidInputError) as excinfo:
        read_enterprises(path)
    assert problems(excinfo) == [(2, "信用风险分类", ""), (3, None, None)]


def test_read_registry_file_dispatches(tmp_path: Path) -> None:
    """read_registry_file calls the reader of each kind and refuses an unknown kind."""
    assert len(read_registry_file("history", GOOD / "history.csv", today=TODAY)) == 6
    assert len(read_registry_file("enterprises", str(GOOD / "enterprises.csv"), tiers=TIERS)) == 40
    with pytest.raises(InvalidInputError, match="unknown registry file kind 'companies'"):
        read_registry_file("companies", GOOD / "enterprises.csv")


# ---- enterprises read a chunk at a time ----

@pytest.fixture
def chunks_of_three(monkeypatch: pytest.MonkeyPatch) -> None:
    """Enterprise files checked three rows at a time, so a small file spans chunks."""
    monkeypatch.setattr(registry_files, "CHUNK_ROWS", 3)


def test_chunked_read_gives_the_same_columns(tmp_path: Path, chunks_of_three: None) -> None:
    """Read three rows at a time, a file gives the columns a one-chunk read gives."""
    path = write_csv(tmp_path / "e.csv", E_HEAD, good_rows("enterprises.csv"))
    columns = read_enterprises(path, tiers=TIERS)
    assert same_columns(columns, reference_enterprises())
    assert isinstance(columns.names.dtype, np.dtypes.StringDType)


def test_bad_rows_in_later_chunks_keep_their_row_numbers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad value in the second or third chunk is reported at its spreadsheet row, and a
    code repeated across chunks names the row of its first appearance; the error is the
    one a whole-file read gives."""
    rows = [[code(i), f"企业{i}", "330102", "F5211", "A"] for i in range(1, 11)]
    rows[4][2] = "33010"             # spreadsheet row 6, in the second chunk
    rows[7][0] = rows[1][0]          # row 10 (after the blank row), repeats row 3
    rows[8][0] = code(9)[:17] + "0"  # row 11, a wrong check character
    rows.insert(6, ["", "", "", "", ""])  # row 8: blank, with data after it
    path = write_csv(tmp_path / "e.csv", E_HEAD, rows)
    with pytest.raises(InvalidInputError) as whole:
        read_enterprises(path, tiers=TIERS)
    monkeypatch.setattr(registry_files, "CHUNK_ROWS", 3)
    with pytest.raises(InvalidInputError) as chunked:
        read_enterprises(path, tiers=TIERS)
    assert problems(chunked) == [(6, "行政区划代码", "33010"), (8, None, None),
                                 (10, "统一社会信用代码", code(2)),
                                 (11, "统一社会信用代码", code(9)[:17] + "0")]
    assert chunked.value.problems[2].reason == \
        "the same code (统一社会信用代码) is already on row 3"
    assert str(chunked.value) == str(whole.value)


def test_chinese_names_keep_every_character(tmp_path: Path, chunks_of_three: None) -> None:
    """Names in the StringDType column read back exactly, four-byte characters included."""
    names = ["杭州𠮷野家餐饮有限公司", "上海（浦东）贸易有限公司", '甲,"乙"、丙公司', "A&B 科技",
             "深圳市南山区科技园一号创新企业服务中心有限责任公司"]
    rows = [[code(i), name, "330102", "", "B"] for i, name in enumerate(names, start=1)]
    columns = read_enterprises(write_csv(tmp_path / "e.csv", E_HEAD, rows, "gb18030"))
    assert columns.names.tolist() == names
    assert [columns.record(i).name for i in range(len(names))] == names


# -- the column table (models.columns) ------------------------------------------------------


@pytest.mark.parametrize("kind, record", [("enterprises", Enterprise), ("inspectors", Inspector),
                                          ("conflicts", Conflict), ("history", HistoryRecord)])
def test_registry_records_have_the_declared_columns(kind: str, record: type[Any]) -> None:
    """A registry record's fields are its file's columns, in order; optional ones default."""
    assert tuple(record.model_fields) == column_names(kind)
    assert {c.name for c in IMPORT_COLUMNS[kind] if not c.required} == {
        name for name, f in record.model_fields.items() if not f.is_required()}
    assert kind in REGISTRY_KINDS


def test_every_import_column_has_exactly_one_value_rule() -> None:
    """The value rules name exactly the declared columns of every kind of import file."""
    assert {kind: set(rules) for kind, rules in VALUE_RULES.items()} == {
        kind: set(column_names(kind)) for kind in IMPORT_COLUMNS}


def test_each_chinese_alias_names_one_column_of_its_file() -> None:
    """No header text (English or Chinese, any case) could name two columns of one file."""
    for kind, columns in IMPORT_COLUMNS.items():
        names = [n.casefold() for c in columns for n in (c.name, *c.aliases)]
        assert len(names) == len(set(names)), kind

