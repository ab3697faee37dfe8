"""Careless command lines get a one-line message and exit 1, never a traceback, and change
nothing stored: bad --db, bad --out, bad environment variables, a pipe as an input file."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from spotcheck.cli import main

GOOD = Path(__file__).parent / "data" / "good"
SEED = "20261001-0394857261-5520183746"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run spotcheck with these arguments (and environment additions)."""
    return CliRunner().invoke(main, list(args), env=env)


def refused(result: Result, message: str) -> None:
    """Require exit 1, the message on one line of standard error, and no traceback."""
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def loaded(tmp_path: Path) -> str:
    """Return the URL of an SQLite database with the good registry imported."""
    url = f"sqlite:///{tmp_path / 'spotcheck.db'}"
    for kind in ("enterprises", "inspectors", "conflicts", "history"):
        assert run("--db", url, "import", kind, str(GOOD / f"{kind}.csv")).exit_code == 0
    return url


def dump(url: str) -> list[str]:
    """Return the SQLite database as SQL text, to compare before and after."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        return list(connection.iterdump())


@pytest.mark.parametrize(("url", "message"), [
    ("not a url", "is not a database URL"),
    ("mysql://user@localhost/db", "the mysql database is not supported"),
    ("postgresql://nobody@127.0.0.1:1/none", "cannot open the database"),
    ("sqlite:////nonexistent-folder/x.db", "cannot open the database"),
])
def test_bad_database_urls(url: str, message: str) -> None:
    """Malformed, unsupported, unreachable and unopenable databases are one line each."""
    refused(run("--db", url, "init"), message)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    """A text file, or another application's SQLite file, is refused and left as it was."""
    text = tmp_path / "notes.db"
    text.write_text("not a database\n")
    refused(run("--db", f"sqlite:///{text}", "init"), "file is not a database")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE plan (x INTEGER)")
    before = dump(f"sqlite:///{other}")
    refused(run("--db", f"sqlite:///{other}", "init"), "not a spotcheck database")
    assert dump(f"sqlite:///{other}") == before


@pytest.mark.parametrize("out", ["below-a-file/plan", "/dev/null", "a-file"])
def test_bad_out_changes_nothing(tmp_path: Path, out: str) -> None:
    """An --out below a file, a device, or an existing file: refused, nothing stored."""
    url = loaded(tmp_path)
    (tmp_path / "below-a-file").write_text("x")
    (tmp_path / "a-file").write_text("x")
    target = out if out.startswith("/") else str(tmp_path / out)
    before = dump(url)
    refused(run("--db", url, "plan", "--quarter", "2026Q4", "--seed", SEED, "--out", target),
            "--out")
    assert dump(url) == before


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("SOURCE_DATE_EPOCH", "yesterday", "SOURCE_DATE_EPOCH"),
    ("SPOTCHECK_TIMINGS", "/nonexistent-folder/timings.jsonl", "SPOTCHECK_TIMINGS"),
])
def test_bad_environment_changes_nothing(tmp_path: Path, variable: str, value: str,
                                         message: str) -> None:
    """A bad SOURCE_DATE_EPOCH or SPOTCHECK_TIMINGS is named; the plan is not stored."""
    url = loaded(tmp_path)
    before = dump(url)
    refused(run("--db", url, "plan", "--quarter", "2026Q4", "--seed", SEED, "--out",
                str(tmp_path / "plan"), env={variable: value}), message)
    assert dump(url) == before and not (tmp_path / "plan").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
def test_a_pipe_is_refused_without_hanging(tmp_path: Path) -> None:
    """A FIFO given as the file to import is refused at once (nobody writes to it)."""
    pipe = tmp_path / "history.csv"
    os.mkfifo(pipe)
    refused(run("--db", f"sqlite:///{tmp_path / 'a.db'}", "import", "history", str(pipe)),
            "not a regular file")


def test_long_values_are_cut_and_every_bad_row_is_listed(tmp_path: Path) -> None:
    """A huge bad value is echoed cut to a readable length; past 200 bad rows the message
    says so and the full list of every bad row is written to a file."""
    rows = ["enterprise_id,task,department,inspected_on"]
    rows += [f"BAD{i:05d},GS,SCJG,2026-01-01" for i in range(300)]
    rows.append("X" * 120_000 + ",GS,SCJG,2026-01-01")
    bad = tmp_path / "history.csv"
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = run("--db", f"sqlite:///{tmp_path / 'a.db'}", "import", "history", str(bad))
    finally:
        os.chdir(old)
    assert result.exit_code == 1 and len(result.stderr) < 60_000
    assert "... and 101 more problem(s)" in result.stderr
    listing = (tmp_path / "spotcheck-problems.txt").read_text("utf-8").splitlines()
    assert len(listing) == 1 + 301 and listing[-1].startswith(f"{bad}:302: column")
    assert "(120,000 characters)" in listing[-1] and len(listing[-1]) < 400


def _two_sheet_workbook(path: Path) -> None:
    """Write a workbook whose sheets 'old' and 'new' both hold the good history."""
    import openpyxl

    rows = [line.split(",") for line in
            (GOOD / "history.csv").read_text(encoding="utf-8").splitlines()]
    book = openpyxl.Workbook()
    book.active.title = "old"
    for row in rows[:2]:
        book.active.append(row)
    new = book.create_sheet("new")
    for row in rows:
        new.append(row)
    book.save(path)


def test_sheet_option_names_the_worksheet(tmp_path: Path) -> None:
    """Without --sheet a workbook with two visible sheets of data is refused listing them;
    `import --sheet new` reads that sheet; `results import --sheet` is wired the same way."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    book = tmp_path / "history.xlsx"
    _two_sheet_workbook(book)
    both = run("--db", url, "import", "history", str(book))
    assert both.exit_code == 1 and isinstance(both.exception, SystemExit)
    assert (f"{book}: 2 visible sheets have data — the workbook has 'old' (visible, with "
            "data); 'new' (visible, with data); name the sheet to import with --sheet"
            in both.stderr)
    done = run("--db", url, "import", "history", str(book), "--sheet", "new")
    assert done.exit_code == 0 and "6 row(s) appended" in done.output, done.output
    missing = run("--db", url, "results", "import", str(book), "--sheet", "结果")
    assert missing.exit_code == 1 and isinstance(missing.exception, SystemExit)
    assert f"{book}: the workbook has no sheet named '结果'; its sheets are 'old', 'new'" \
        in missing.stderr


def test_the_day_of_the_import_is_passed_in(tmp_path: Path) -> None:
    """The service judges history dates against the `today` it is given (the CLI: the
    computer's date): an inspection after it is refused, naming the row, nothing stored."""
    from datetime import date

    from spotcheck.errors import InvalidInputError
    from spotcheck.service import Workspace

    ws = Workspace(f"sqlite:///{tmp_path / 'a.db'}")
    before = dump(f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(InvalidInputError) as excinfo:
        ws.import_file("history", GOOD / "history.csv", today=date(2026, 6, 1))
    assert [p.row for p in excinfo.value.problems] == [5, 6, 7]
    assert "2026-06-12 is after today (2026-06-01)" in str(excinfo.value)
    assert dump(f"sqlite:///{tmp_path / 'a.db'}") == before
    assert ws.import_file("history", GOOD / "history.csv", today=date(2026, 8, 27)).report
