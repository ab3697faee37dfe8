"""`--json`: one JSON document on standard output per command, and the same exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from spotcheck.cli import main

DATA = Path(__file__).parent / "data"
GOOD, BAD = DATA / "good", DATA / "bad"
DIGITS = "31415926535897932384626"


def run(db: Path, *args: str) -> Result:
    """Run spotcheck on the SQLite database `db`, standard error kept apart."""
    return CliRunner().invoke(main, ["--db", f"sqlite:///{db}", *args])


def document(result: Result, code: int = 0) -> Any:
    """Return the one JSON document the command printed, checking its exit code."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    return json.loads(result.stdout)


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    """A database with the good registry imported, frozen and seeded by dice."""
    path = tmp_path / "spotcheck.db"
    for kind in ("enterprises", "inspectors", "conflicts", "history"):
        assert run(path, "import", kind, str(GOOD / f"{kind}.csv")).exit_code == 0
    assert run(path, "freeze", "--quarter", "2026Q4").exit_code == 0
    assert run(path, "seed", "dice", "--quarter", "2026Q4", DIGITS).exit_code == 0
    return path


def test_import_json_reports_the_change(tmp_path: Path) -> None:
    """import --json gives the file's digest and the snapshot's counts, nothing else."""
    data = document(run(tmp_path / "a.db", "import", "enterprises", str(GOOD / "enterprises.csv"),
                        "--json"))
    assert data["kind"] == "enterprises" and len(data["sha256"]) == 64
    assert data["report"]["added"] == data["report"]["rows_in_file"] > 0


def test_bad_file_json_lists_every_row_and_exits_1(tmp_path: Path) -> None:
    """A refused import prints ok=false with every bad row, exit 1, as without --json."""
    result = run(tmp_path / "a.db", "import", "enterprises",
                 str(BAD / "enterprises_bad_check_char.csv"), "--json")
    data = document(result, 1)
    assert data["ok"] is False and data["error"] == "InvalidInputError"
    assert data["problems"] and all("统一社会信用代码" in p for p in data["problems"])
    assert "spotcheck:" in result.stderr


def test_plan_verify_explain_json(db: Path, tmp_path: Path) -> None:
    """plan, verify and explain --json agree with each other and with the bundle."""
    out = tmp_path / "plan.zip"
    planned = document(run(db, "plan", "--quarter", "2026Q4", "--out", str(out), "--json"))
    assert planned["seed"] == f"dice-v1-{DIGITS}" and planned["freeze"]["kind"] == "freeze"
    verified = document(run(db, "verify", str(out), "--strict", "--json"))
    assert verified["ok"] is True and verified["plan_id"] == planned["plan_id"]
    assert verified["counts"]["draws"] == planned["counts"]["draws"]
    assert verified["counts"]["draws"] > 0
    explained = document(run(db, "explain", str(out), "--json", "--inspector",
                             _first_officer(out)))
    assert explained["subject"] == "inspector" and explained["lines"]


def _first_officer(bundle: Path) -> str:
    import zipfile

    with zipfile.ZipFile(bundle) as archive:
        rows = archive.read("assignments.csv").decode().splitlines()
    return rows[1].split(",")[2]


def test_tampered_bundle_json_exits_1(db: Path, tmp_path: Path) -> None:
    """verify --json of a tampered bundle prints ok=false with the mismatch, exit 1."""
    out = tmp_path / "plan"
    assert run(db, "plan", "--quarter", "2026Q4", "--out", str(out)).exit_code == 0
    shutil.copy(out / "draws.csv", tmp_path / "draws.csv")
    text = (out / "draws.csv").read_text()
    (out / "draws.csv").write_text(text.replace(",1\n", ",9\n", 1))
    data = document(run(db, "verify", str(out), "--json"), 1)
    assert data["ok"] is False and any("draws.csv" in m for m in data["mismatches"])


def test_seed_show_and_log_json(db: Path) -> None:
    """seed show and log --json give the ceremony and the chain as data."""
    shown = document(run(db, "seed", "show", "--quarter", "2026Q4", "--json"))
    assert shown["frozen"] is True and shown["seed"] == f"dice-v1-{DIGITS}"
    logged = document(run(db, "log", "--json"))
    kinds = [e["event"]["kind"] for e in logged["events"]]
    assert kinds[:4] == ["import"] * 4 and kinds[-2:] == ["freeze", "seed"]
    chain = document(run(db, "log", "verify", "--json"))
    assert chain["ok"] is True and chain["events"] == len(kinds)
    assert chain["head"] == logged["events"][-1]["event"]["hash"]


def test_unopenable_database_is_one_line(tmp_path: Path) -> None:
    """init on an SQLite path that cannot be opened prints one line, exit 1, no traceback."""
    result = CliRunner().invoke(main, ["--db", f"sqlite:///{tmp_path / 'no' / 'x.db'}", "init"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "cannot open the database" in result.stderr
    assert "Traceback" not in result.output
