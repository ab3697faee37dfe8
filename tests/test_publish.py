"""一公开 end to end: plan notice, public check, results, substitutes, deadlines, publication."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from sqlalchemy import text

from spotcheck.cli import main
from spotcheck.formats.public import DRAWN_COLUMNS, NOTICE_COLUMNS
from spotcheck.models.calendar import UnknownYearError, WorkCalendar
from spotcheck.service import Workspace
from spotcheck.service.outcomes import RESULT_COLUMNS
from spotcheck.store.database import get_engine

GOOD = Path(__file__).parent / "data" / "good"
SEED = "20261001-0394857261-5520183746"
TABLES = ("inspection_result", "substitute", "publication", "event_log")


def run(db: str, *args: str) -> Result:
    """Run spotcheck on the database URL `db`."""
    return CliRunner().invoke(main, ["--db", db, *args])


def ok(db: str, *args: str) -> Result:
    """Run spotcheck and require exit 0."""
    result = run(db, *args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def rows(path: Path) -> list[dict[str, str]]:
    """Return the rows of a bundle CSV as dicts."""
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def snapshot(db: str) -> list[tuple[object, ...]]:
    """Return every row of the tables results touch, to prove a refusal changed nothing."""
    engine = get_engine(db)
    try:
        with engine.connect() as conn:
            return [(name, *row) for name in TABLES
                    for row in conn.execute(text(f"SELECT * FROM {name} ORDER BY 1, 2, 3"))]
    finally:
        engine.dispose()


@pytest.fixture()
def planned(db_url: str, tmp_path: Path) -> tuple[str, Path]:
    """A database with the good registry and a stored 2026Q4 plan; its bundle folder."""
    for kind in ("enterprises", "inspectors", "conflicts", "history"):
        ok(db_url, "import", kind, str(GOOD / f"{kind}.csv"))
    out = tmp_path / "plan"
    ok(db_url, "plan", "--quarter", "2026Q4", "--seed", SEED, "--out", str(out))
    return db_url, out


def results_file(bundle: Path, path: Path, *, day: str = "2026-11-10",
                 extra: list[str] | None = None) -> Path:
    """Write a results file (Chinese headers) giving every drawn pair a result by its team."""
    teams: dict[str, list[str]] = {}
    for a in rows(bundle / "assignments.csv"):
        teams.setdefault(a["enterprise_id"], []).append(a["inspector_id"])
    lines = ["统一社会信用代码,抽查任务编号,检查完成日期,检查结果,备注,实际检查人员"]
    for i, d in enumerate(rows(bundle / "draws.csv")):
        code = "1" if i % 2 else "A;E"
        lines.append(f"{d['enterprise_id']},{d['task']},{day},{code},=1+1,"
                     f"{';'.join(teams[d['enterprise_id']])}")
    path.write_text("\n".join([*lines, *(extra or [])]) + "\n", encoding="utf-8")
    return path


def test_plan_notice_and_drawn_list_match_the_bundle(planned: tuple[str, Path],
                                                      tmp_path: Path) -> None:
    """publish plan writes the §10 columns only, CSV with BOM and XLSX; verify --public passes."""
    db, bundle = planned
    out = tmp_path / "public"
    ok(db, "publish", "plan", str(bundle), "--out", str(out))
    notice = (out / "plan_notice.csv").read_bytes()
    assert notice.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(notice.decode("utf-8-sig"))))
    assert tuple(table[0]) == NOTICE_COLUMNS and len(table) == 1 + 3
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert {r[0] for r in table[1:]} == {manifest["plan_id"]} and table[1][7] == SEED
    drawn = list(csv.reader(io.StringIO((out / "drawn_list.csv").read_text("utf-8-sig"))))
    expected = sorted({(d["task"], d["enterprise_id"]) for d in rows(bundle / "draws.csv")})
    assert tuple(drawn[0]) == DRAWN_COLUMNS and [tuple(r[:2]) for r in drawn[1:]] == expected
    sheet = load_workbook(out / "drawn_list.xlsx").worksheets[0]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == drawn
    assert sheet.freeze_panes == "A2"
    verified = ok(db, "verify", str(bundle), "--public", str(out), "--json")
    assert json.loads(verified.stdout)["public"]["ok"] is True


@pytest.mark.parametrize("change", ["drop a row", "add a row", "repeat a row", "tier column"])
def test_public_folder_that_differs_is_refused(planned: tuple[str, Path], tmp_path: Path,
                                               change: str) -> None:
    """A drawn list with a row missing, added, repeated or an extra column fails, exit 1."""
    db, bundle = planned
    out = tmp_path / "public"
    ok(db, "publish", "plan", str(bundle), "--out", str(out))
    (out / "drawn_list.xlsx").unlink()
    path = out / "drawn_list.csv"
    table = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    if change == "drop a row":
        del table[1]
    elif change == "add a row":
        table.append(["GS-QY", "91330102MA246MMWBC", "多出来的企业"])
    elif change == "repeat a row":
        table.append(table[1])
    else:
        table = [[*r, "信用风险分类" if i == 0 else "A"] for i, r in enumerate(table)]
    text_out = io.StringIO()
    csv.writer(text_out).writerows(table)
    path.write_text(text_out.getvalue(), encoding="utf-8-sig")
    result = run(db, "verify", str(bundle), "--public", str(out))
    assert result.exit_code == 1 and "PUBLIC FILES DO NOT MATCH" in result.stdout


def test_results_import_status_publish(planned: tuple[str, Path], tmp_path: Path) -> None:
    """Results are stored with an event; status gives due dates; publish writes §10 fields."""
    db, bundle = planned
    file = results_file(bundle, tmp_path / "results.csv")
    imported = json.loads(ok(db, "results", "import", str(file), "--json").stdout)
    drawn = len(rows(bundle / "draws.csv"))
    assert imported["rows"] == drawn and imported["corrections"] == 0
    ws = Workspace(db)
    status = ws.results_status("2026Q4", today=date(2026, 11, 20))
    assert status.ok and sum(t.with_result for t in status.tasks) == drawn
    # 2026-11-10 + 20 working days (no holiday in between) is 2026-12-08
    assert {d.due_on for t in status.tasks for d in t.unpublished} == {date(2026, 12, 8)}
    late = ws.results_status("2026Q4", today=date(2026, 12, 9))
    assert not late.ok and all(d.overdue for t in late.tasks for d in t.unpublished)
    published = ws.publish_results("2026Q4", tmp_path / "pub", today=date(2026, 12, 1))
    assert published.rows == drawn
    table = list(csv.reader(io.StringIO(published.files[0].read_text("utf-8-sig"))))
    assert tuple(table[0]) == RESULT_COLUMNS == (
        "抽查计划编号", "抽查任务编号", "抽查任务名称", "抽查机关", "统一社会信用代码",
        "市场主体名称", "检查完成日期", "检查结果", "备注")
    assert {r[7] for r in table[1:]} == {"未发现问题", "发现问题待后续处理；发现问题经责令已改正"}
    assert {r[8] for r in table[1:]} == {"'=1+1"}  # a formula-looking remark stays text
    assert ws.results_status("2026Q4", today=date(2026, 12, 9)).ok  # all published now
    # a correction after publication is a new version, published anew, never overwritten
    again = results_file(bundle, tmp_path / "again.csv", day="2026-11-11")
    assert json.loads(ok(db, "results", "import", str(again), "--json").stdout)[
        "corrections"] == drawn
    second = ws.publish_results("2026Q4", tmp_path / "pub", today=date(2026, 12, 2))
    assert second.rows == second.corrections == drawn and published.files[0].exists()


BAD_ROWS = {
    "not drawn": ("91330102MA246MMWBC", "TZ-SB", "2026-11-10", "1", "",
                  "no plan drew this enterprise"),
    "unknown code": (None, None, "2026-11-10", "Z", "", "unknown result code 'Z'"),
    "1 with another": (None, None, "2026-11-10", "1;A", "", "excludes every other code"),
    "before the quarter": (None, None, "2026-09-30", "1", "", "before the quarter"),
    "after today": (None, None, "2099-01-04", "1", "", "after today"),
    "not on the team": (None, None, "2026-11-10", "1", "NOBODY-1", "not on the team"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_results_are_refused_whole(planned: tuple[str, Path], tmp_path: Path,
                                       case: str) -> None:
    """Each bad row is named with its reason, exit 1, and nothing stored changes."""
    db, bundle = planned
    first = rows(bundle / "draws.csv")[0]
    enterprise, task, day, code, who, reason = BAD_ROWS[case]
    line = f"{enterprise or first['enterprise_id']},{task or first['task']},{day},{code},,{who}"
    path = tmp_path / "bad.csv"
    path.write_text("enterprise_id,task,completed_on,result,remarks,inspectors\n" + line + "\n",
                    encoding="utf-8")
    before = snapshot(db)
    result = run(db, "results", "import", str(path))
    assert result.exit_code == 1 and f"{path}:2: column" in result.stderr
    assert reason in result.stderr
    assert snapshot(db) == before


def test_duplicate_rows_and_superseded_plans_are_refused(planned: tuple[str, Path],
                                                         tmp_path: Path) -> None:
    """A pair twice in one file, or a pair only a superseded plan drew, is refused."""
    db, bundle = planned
    file = results_file(bundle, tmp_path / "dup.csv")
    lines = file.read_text("utf-8").splitlines()
    file.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    result = run(db, "results", "import", str(file))
    assert result.exit_code == 1 and "already has a result in row 2" in result.stderr
    ok(db, "plan", "--quarter", "2026Q4", "--seed", "another-seed", "--replace", "--out",
       str(tmp_path / "plan2"))
    old = {(d["task"], d["enterprise_id"]) for d in rows(bundle / "draws.csv")}
    new = {(d["task"], d["enterprise_id"]) for d in rows(tmp_path / "plan2" / "draws.csv")}
    task, enterprise = sorted(old - new)[0]
    path = tmp_path / "old.csv"
    path.write_text(f"enterprise_id,task,completed_on,result\n{enterprise},{task},2026-11-10,1\n",
                    encoding="utf-8")
    refused = run(db, "results", "import", str(path))
    assert refused.exit_code == 1 and "superseded" in refused.stderr


def test_substitute_is_the_cheapest_lawful_officer_and_verifies(planned: tuple[str, Path],
                                                                tmp_path: Path) -> None:
    """substitute picks by cost, logs it; verify --events checks it; results may name them."""
    db, bundle = planned
    visit = rows(bundle / "assignments.csv")[0]
    team = [a["inspector_id"] for a in rows(bundle / "assignments.csv")
            if (a["enterprise_id"], a["department"]) == (visit["enterprise_id"],
                                                         visit["department"])]
    done = json.loads(ok(db, "substitute", "--quarter", "2026Q4", visit["enterprise_id"],
                         visit["department"], "--replace", team[0], "--reason", "病假",
                         "--json").stdout)
    assert done["substitute"] not in team and done["candidates"] >= 1
    log = tmp_path / "events.jsonl"
    log.write_text(ok(db, "log", "--jsonl").stdout, encoding="utf-8")
    event = json.loads(log.read_text().splitlines()[-1])
    assert event["kind"] == "substitute" and event["payload"]["substitute"] == done["substitute"]
    assert all(p["cost"] < done["cost"] or (p["cost"] == done["cost"]
                                            and p["inspector_id"] < done["substitute"])
               for p in event["payload"]["passed_over"])
    verified = ok(db, "verify", str(bundle), "--events", str(log))
    assert "substitutes: 1 checked" in verified.stdout
    said = ok(db, "explain", str(bundle), visit["enterprise_id"], "--events", str(log))
    assert f"{team[0]} → {done['substitute']}" in said.stdout
    # a log whose substitute event was edited breaks the chain: verify says so
    edited = log.read_text().replace(done["substitute"], team[-1])
    (tmp_path / "edited.jsonl").write_text(edited, encoding="utf-8")
    assert run(db, "verify", str(bundle), "--events", str(tmp_path / "edited.jsonl")
               ).exit_code == 1
    first = next(d for d in rows(bundle / "draws.csv")
                 if d["enterprise_id"] == visit["enterprise_id"])
    path = tmp_path / "by_substitute.csv"
    path.write_text(f"enterprise_id,task,completed_on,result,inspectors\n{first['enterprise_id']},"
                    f"{first['task']},2026-11-10,1,{done['substitute']};{team[-1]}\n",
                    encoding="utf-8")
    ok(db, "results", "import", str(path))


@pytest.mark.parametrize(("completed", "due"), [
    # Spring Festival 02-15..23 off, Saturdays 02-14 and 02-28 worked (counted by hand:
    # 02-13, 02-14, 02-24..28, then 03-02..06, 03-09..13, 03-16..18)
    ("2026-02-12", "2026-03-18"),
    ("2026-02-13", "2026-03-19"),
    # Mid-Autumn 09-25 and National Day 10-01..07 off, Sunday 09-20 and Saturday 10-10 worked
    ("2026-09-18", "2026-10-22"),
])
def test_deadlines_follow_the_state_council_schedule(completed: str, due: str) -> None:
    """20 working days count 调休 make-up Saturdays and Sundays and skip the holidays."""
    calendar = WorkCalendar.default()
    for worked in ("2026-02-14", "2026-02-28", "2026-09-20", "2026-10-10"):
        assert calendar.is_working_day(date.fromisoformat(worked))
    assert not calendar.is_working_day(date(2026, 10, 5))
    assert calendar.add_working_days(date.fromisoformat(completed), 20) == \
        date.fromisoformat(due)


def test_a_year_without_a_schedule_needs_a_calendar_file(tmp_path: Path) -> None:
    """A 2027 deadline is an error naming 2027, until the bureau supplies the year."""
    with pytest.raises(UnknownYearError, match="2027"):
        WorkCalendar.default().add_working_days(date(2026, 12, 20), 20)
    path = tmp_path / "calendar.toml"
    path.write_text('[2027]\nsource = "国务院办公厅通知"\n'
                    'holidays = ["2027-01-01", "2027-02-08", "2027-02-09", "2027-02-10"]\n'
                    'workdays = ["2027-02-20"]\n', encoding="utf-8")
    calendar = WorkCalendar.from_file(path)
    assert calendar.add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 5)
    assert calendar.is_working_day(date(2027, 2, 20))
    assert not calendar.is_working_day(date(2027, 2, 9))


def test_results_commands_on_the_command_line(planned: tuple[str, Path], tmp_path: Path) -> None:
    """results status exits 1 while a result is overdue; publish results clears it (exit 0)."""
    db, bundle = planned
    ok(db, "results", "import", str(results_file(bundle, tmp_path / "r.csv", day="2026-10-09")))
    late = run(db, "results", "status", "--quarter", "2026Q4", "--json")
    assert late.exit_code == 1
    data = json.loads(late.stdout)
    dues = {d["due_on"] for t in data["tasks"] for d in t["unpublished"]}
    assert data["ok"] is False and dues == {"2026-11-05"}  # 10-10 is a worked Saturday
    published = json.loads(ok(db, "publish", "results", "--quarter", "2026Q4", "--out",
                              str(tmp_path / "pub"), "--json").stdout)
    assert published["rows"] == len(rows(bundle / "draws.csv"))
    assert ok(db, "results", "status", "--quarter", "2026Q4").stdout.endswith(
        "nothing overdue\n")
    again = run(db, "publish", "results", "--quarter", "2026Q4", "--out", str(tmp_path / "pub"))
    assert again.exit_code == 1 and "no result is waiting" in again.stderr
