"""Public files never carry what §10 withholds, and spreadsheets never evaluate their cells."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from builders import Scenario, scenarios
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from spotcheck.formats.bundle import write_bundle
from spotcheck.formats.public import DRAWN_COLUMNS, NOTICE_COLUMNS, public_plan
from spotcheck.formats.spreadsheet import (
    FORMULA_STARTS,
    Sheet,
    csv_for_people,
    read_csv_for_people,
    xlsx_bytes,
)

CONTRACT = {"plan_notice": NOTICE_COLUMNS, "drawn_list": DRAWN_COLUMNS}


def _tables(files: dict[str, bytes]) -> dict[str, list[list[str]]]:
    return {name: read_csv_for_people(data) for name, data in files.items()
            if name.endswith(".csv")}


@settings(max_examples=15)
@given(scenarios(max_enterprises=60))
def test_public_files_hold_no_tier_rank_or_count(tmp_path_factory: pytest.TempPathFactory,
                                                 sc: Scenario) -> None:
    """For random registries and policies: only the contract's columns, and no tier, tier
    label, rank, ticket or per-tier count in any cell of the CSV or the XLSX."""
    folder = tmp_path_factory.mktemp("bundle")
    bundle = sc.bundle()
    write_bundle(bundle, folder / "b")
    files = public_plan(bundle, folder / "b").files()
    withheld = {*sc.policy.tiers, *(t.label for t in sc.policy.tiers.values())}
    withheld |= {d.ticket for d in sc.plan.draws} | {s.tier for s in sc.plan.strata}
    counts = {str(getattr(s, name)) for s in sc.plan.strata
              for name in ("population", "eligible", "target", "floor")} - {"0", "1"}
    for name, table in _tables(files).items():
        assert tuple(table[0]) == CONTRACT[name.removesuffix(".csv")]
        cells = {cell for row in table[1:] for cell in row}
        assert not cells & withheld, name
        if name.startswith("drawn_list"):
            assert not cells & counts, name
        book = load_workbook(io.BytesIO(files[name.replace(".csv", ".xlsx")]))
        assert [["" if v is None else v for v in r]
                for r in book.worksheets[0].iter_rows(values_only=True)] == table
    assert set(files) == {"plan_notice.csv", "plan_notice.xlsx", "drawn_list.csv",
                          "drawn_list.xlsx"}


VALUES = st.one_of(st.sampled_from(["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(1,1)",
                                    "=cmd|' /C calc'!A0", "\t=1", "'=1", "普通文字"]),
                   st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12))


@given(st.lists(st.lists(VALUES, min_size=2, max_size=2), min_size=1, max_size=6))
def test_cells_are_text_never_formulas(rows: list[list[str]]) -> None:
    """CSV cells that look like formulas get an apostrophe and read back as given; XLSX cells
    are string cells whatever they begin with, and the same rows give the same bytes."""
    clean = [[v.replace("\r", "").replace("\x00", "") for v in row] for row in rows]
    data = csv_for_people(("名称", "备注"), clean)
    raw = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    for row in raw[1:]:
        assert not any(cell.startswith(FORMULA_STARTS) for cell in row)
    assert read_csv_for_people(data)[1:] == clean
    sheet = xlsx_bytes([Sheet("表", ("名称", "备注"), clean)])
    assert sheet == xlsx_bytes([Sheet("表", ("名称", "备注"), clean)])
    with zipfile.ZipFile(io.BytesIO(sheet)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml  # no formula element anywhere
    book = load_workbook(io.BytesIO(sheet))
    values = [[c.value or "" for c in r] for r in book.worksheets[0].iter_rows(min_row=2)]
    assert values == clean
