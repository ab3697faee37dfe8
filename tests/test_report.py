"""`spotcheck report` end to end on SQLite and PostgreSQL: the numbers against the bundle and
the results file, the workbook's layout, the public variant, the page, the suggestion."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from spotcheck.cli import main
from spotcheck.errors import SpotcheckError
from spotcheck.formats.public import DRAWN_COLUMNS, NOTICE_COLUMNS, RESULT_COLUMNS
from spotcheck.formats.workbook import PUBLIC_SHEETS, SHEETS
from spotcheck.models.policy import DEFAULT_RESULT_CODES, load_policy, parse_policy
from spotcheck.service import Workspace

GOOD = Path(__file__).parent / "data" / "good"
SEED = "20261001-0394857261-5520183746"
TODAY = date(2026, 12, 10)
CHARTS = ("tier-rates", "tier-samples", "disturbance-share", "disturbance-rate",
          "utilisation-histogram", "utilisation-groups", "deadline-status", "advice-ratios")


def ok(db: str, *args: str) -> Result:
    """Run spotcheck on `db` and require exit 0."""
    result = CliRunner().invoke(main, ["--db", db, *args])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def table(path: Path) -> list[dict[str, str]]:
    """Return the rows of a bundle CSV file as dicts."""
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def write_results(bundle: Path, path: Path) -> list[tuple[str, str, str]]:
    """Give every other drawn pair a result by its team (a finding for every fourth); return
    the (task, enterprise, codes) written."""
    teams: dict[str, list[str]] = defaultdict(list)
    for a in table(bundle / "assignments.csv"):
        teams[a["enterprise_id"]].append(a["inspector_id"])
    written, lines = [], ["统一社会信用代码,抽查任务编号,检查完成日期,检查结果,备注,实际检查人员"]
    for i, d in enumerate(table(bundle / "draws.csv")):
        if i % 2:
            continue
        codes = "A;E" if i % 4 == 0 else "1"
        written.append((d["task"], d["enterprise_id"], codes))
        lines.append(f"{d['enterprise_id']},{d['task']},2026-11-10,{codes},=1+1,"
                     f"{';'.join(teams[d['enterprise_id']])}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


@pytest.fixture()
def reported(db_url: str, tmp_path: Path) -> tuple[Workspace, Path, list[tuple[str, str, str]]]:
    """The good registry planned for 2026Q4 with results for half of the draws."""
    for kind in ("enterprises", "inspectors", "conflicts", "history"):
        ok(db_url, "import", kind, str(GOOD / f"{kind}.csv"))
    bundle = tmp_path / "plan"
    ok(db_url, "plan", "--quarter", "2026Q4", "--seed", SEED, "--out", str(bundle))
    ws = Workspace(db_url)
    written = write_results(bundle, tmp_path / "results.csv")
    ws.results_import(tmp_path / "results.csv", today=date(2026, 12, 1))
    return ws, bundle, written


def test_numbers_match_the_bundle_and_the_results(
        reported: tuple[Workspace, Path, list[tuple[str, str, str]]], tmp_path: Path) -> None:
    """Per tier drawn, results, missing, findings and the stratified rate, recomputed from
    strata.csv, draws.csv and the results file."""
    ws, bundle, written = reported
    done = ws.report("2026Q4", tmp_path / "out", today=TODAY)
    assert done.report is not None
    draws = table(bundle / "draws.csv")
    tier_of = {(d["task"], d["enterprise_id"]): (d["tier"], d["jurisdiction"]) for d in draws}
    finds = {(t, e): any(DEFAULT_RESULT_CODES[c].finding for c in codes.split(";"))
             for t, e, codes in written}
    for row in done.report.rows("tier"):
        mine = [k for k, v in tier_of.items() if v[0] == row.tier]
        answered = [k for k in mine if k in finds]
        e = row.estimate
        assert (e.drawn, e.with_result, e.missing) == (len(mine), len(answered),
                                                       len(mine) - len(answered))
        assert e.findings == sum(finds[k] for k in answered)
    # the overall stratified rate, by DESIGN §11's formula over strata.csv
    strata = [s for s in table(bundle / "strata.csv") if int(s["drawn"])]
    n: Counter[tuple[str, str, str]] = Counter()
    y: Counter[tuple[str, str, str]] = Counter()
    for (task, enterprise), finding in finds.items():
        key = (task, *tier_of[(task, enterprise)])
        n[key] += 1
        y[key] += finding
    answered_strata = [s for s in strata if n[(s["task"], s["tier"], s["jurisdiction"])]]
    total = sum(int(s["eligible"]) for s in answered_strata)
    expected = sum(int(s["eligible"]) / total * y[k] / n[k] for s in answered_strata
                   for k in [(s["task"], s["tier"], s["jurisdiction"])])
    overall = done.report.rows("overall")[0].estimate
    assert overall.rate == pytest.approx(expected, rel=1e-12)
    assert overall.missing == len(draws) - len(written)
    pooled = ws.report("2026Q4", tmp_path / "year", today=TODAY, quarters=4)
    assert pooled.quarters == ("2026Q1", "2026Q2", "2026Q3", "2026Q4")
    assert pooled.report is not None and pooled.report.rows("overall")[0].estimate == overall


def test_workbook_sheets_headers_panes_widths_and_no_formula(
        reported: tuple[Workspace, Path, list[tuple[str, str, str]]], tmp_path: Path) -> None:
    """The seven sheets in order, Chinese bold frozen headers, widths, formats, no formula."""
    ws, _, written = reported
    ws.report("2026Q4", tmp_path / "out", today=TODAY)
    book = load_workbook(tmp_path / "out" / "workbook.xlsx")
    assert tuple(book.sheetnames) == SHEETS
    for sheet in book.worksheets:
        header = [c.value for c in sheet[1]]
        assert all(isinstance(h, str) and re.search(r"[\u4e00-\u9fff]", h) for h in header)
        assert all(c.font.b for c in sheet[1]) and sheet.freeze_panes == "A2"
        assert sheet.column_dimensions["A"].width >= 8
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    results = book["检查结果"]
    remarks = [c.value for c in results["L"][1:] if c.value]
    assert remarks == ["=1+1"] * len(written)
    assert all(c.quotePrefix for c in results["L"][1:] if c.value)
    assert book["执法人员工作量"]["H2"].number_format == "0.00%"
    rates = book["分层统计"]
    assert [c.value for c in rates[1]][13] == "分层估计" and rates["N2"].number_format == "0.00%"


def test_same_inputs_give_the_same_bytes(
        reported: tuple[Workspace, Path, list[tuple[str, str, str]]], tmp_path: Path) -> None:
    """The same database and day give byte-identical workbook and page."""
    ws, _, _ = reported
    ws.report("2026Q4", tmp_path / "a", today=TODAY)
    ws.report("2026Q4", tmp_path / "b", today=TODAY)
    for name in ("workbook.xlsx", "report.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_public_workbook_holds_only_public_columns(
        reported: tuple[Workspace, Path, list[tuple[str, str, str]]], tmp_path: Path) -> None:
    """--public: one file, §10's columns, no tier or tier label; results once published."""
    ws, bundle, written = reported
    done = ws.report("2026Q4", tmp_path / "pub", today=TODAY, public=True)
    assert [p.name for p in done.files] == ["workbook-public.xlsx"] and done.report is None
    assert sorted(p.name for p in (tmp_path / "pub").iterdir()) == ["workbook-public.xlsx"]
    labels = {t.label for t in load_policy()[0].tiers.values()}

    def cells() -> tuple[list[str], dict[str, list[list[str]]]]:
        book = load_workbook(tmp_path / "pub" / "workbook-public.xlsx")
        assert tuple(book.sheetnames) == PUBLIC_SHEETS
        rows = {s.title: [["" if v is None else str(v) for v in r]
                          for r in s.iter_rows(values_only=True)] for s in book.worksheets}
        return [h for r in rows.values() for h in r[0]], rows

    headers, rows = cells()
    assert set(headers) <= set(NOTICE_COLUMNS) | set(DRAWN_COLUMNS) | set(RESULT_COLUMNS)
    assert not any(v in labels for r in rows.values() for x in r for v in x)
    assert not any("风险" in h or "分类" in h for h in headers)
    drawn = sorted({(d["task"], d["enterprise_id"]) for d in table(bundle / "draws.csv")})
    assert [tuple(r[:2]) for r in rows["抽查名单"][1:]] == drawn
    assert len(rows["检查结果"]) == 1  # nothing published yet
    ws.publish_results("2026Q4", tmp_path / "published", today=date(2026, 12, 2))
    ws.report("2026Q4", tmp_path / "pub", today=TODAY, public=True)
    assert len(cells()[1]["检查结果"]) == 1 + len(written)
    ws.report("2026Q4", tmp_path / "internal", today=TODAY)
    with pytest.raises(SpotcheckError, match="holds the internal report"):
        ws.report("2026Q4", tmp_path / "internal", today=TODAY, public=True)


def test_page_is_self_contained(
        reported: tuple[Workspace, Path, list[tuple[str, str, str]]], tmp_path: Path) -> None:
    """report.html loads nothing: no script, link, import or URL but the SVG namespace."""
    ws, _, _ = reported
    ws.report("2026Q4", tmp_path / "out", today=TODAY)
    page = (tmp_path / "out" / "report.html").read_text("utf-8")
    assert set(re.findall(r'https?://[^"\s)]+', page)) == {"http://www.w3.org/2000/svg"}
    for needle in ("<script", "<link", "@import", "url(", "<img", "<iframe"):
        assert needle not in page
    assert sorted(re.findall(r'data-chart="([^"]+)"', page)) == sorted(CHARTS)


def test_suggested_policy_is_written_for_review_never_applied(
        reported: tuple[Workspace, Path, list[tuple[str, str, str]]], tmp_path: Path) -> None:
    """--suggest-policy writes a valid policy with the advised ratios; nothing else changes."""
    ws, _, _ = reported
    before = len(ws.log().events)
    file = tmp_path / "suggested.toml"
    done = ws.report("2026Q4", tmp_path / "out", today=TODAY, suggest_policy=file,
                     objective="precision")
    assert done.report is not None
    advised = done.report.advice.allocation("precision")
    assert advised is not None
    policy = parse_policy(file.read_text("utf-8"))
    assert {t: policy.tiers[t].ratio for t in advised.ratios} == advised.ratios
    assert "not applied" in file.read_text("utf-8").splitlines()[1]
    assert len(ws.log().events) == before  # a report writes nothing to the database
    with pytest.raises(SpotcheckError, match="already exists"):
        ws.report("2026Q4", tmp_path / "out", today=TODAY, suggest_policy=file)


def test_cli_json_and_a_quarter_without_plan(db_url: str, tmp_path: Path) -> None:
    """report --json prints the documented keys (and report.json the same); a quarter with
    no plan is exit 1."""
    for kind in ("enterprises", "inspectors", "conflicts", "history"):
        ok(db_url, "import", kind, str(GOOD / f"{kind}.csv"))
    ok(db_url, "plan", "--quarter", "2026Q4", "--seed", SEED, "--out", str(tmp_path / "plan"))
    out = tmp_path / "out"
    document = json.loads(ok(db_url, "report", "--quarter", "2026Q4", "--out", str(out),
                             "--as-of", "2026-12-10", "--json").stdout)
    assert list(document) == ["quarter", "quarters", "today", "out", "files", "public",
                              "suggested_policy", "report"]
    assert document["today"] == "2026-12-10"
    overall = document["report"]["estimates"][0]
    assert overall["level"] == "overall" and overall["estimate"]["with_result"] == 0
    assert overall["estimate"]["rate"] is None  # no result yet: no rate, never 0
    assert json.loads((out / "report.json").read_text("utf-8")) == document
    missing = CliRunner().invoke(main, ["--db", db_url, "report", "--quarter", "2025Q1",
                                        "--out", str(tmp_path / "x")])
    assert missing.exit_code == 1 and "2025Q1 has no active plan" in missing.stderr


def test_disturbance_counts_every_door_opened_once(
        reported: tuple[Workspace, Path, list[tuple[str, str, str]]], tmp_path: Path) -> None:
    """Per tier: enterprises visited in the last four quarters (history, and the plan's
    visits on their result's day or, without one, in its quarter), counted by hand."""
    ws, bundle, written = reported
    done = ws.report("2026Q4", tmp_path / "out", today=TODAY)
    assert done.report is not None and done.report.window == (date(2026, 1, 1),
                                                               date(2026, 12, 31))
    policy = load_policy()[0]
    department = {t.code: t.department for t in policy.tasks}
    tier = {r["统一社会信用代码"]: r["信用风险分类"] for r in csv.DictReader(
        io.StringIO((GOOD / "enterprises.csv").read_text("utf-8-sig")))}
    visits = {(r["统一社会信用代码"], r["部门"], r["检查日期"]) for r in csv.DictReader(
        io.StringIO((GOOD / "history.csv").read_text("utf-8-sig")))
        if "2026-01-01" <= r["检查日期"] <= "2026-12-31"}
    answered = {(t, e) for t, e, _ in written}
    visits |= {(d["enterprise_id"], department[d["task"]],
                "2026-11-10" if (d["task"], d["enterprise_id"]) in answered else "planned")
               for d in table(bundle / "draws.csv")}
    for row in done.report.disturbance:
        mine = {e for e, t in tier.items() if t == row.tier}
        seen = {e for e, _, _ in visits if e in mine}
        assert (row.enterprises, row.inspected, row.visits) == (
            len(mine), len(seen), sum(1 for e, _, _ in visits if e in mine))
        assert row.share == pytest.approx(len(seen) / len(mine))
