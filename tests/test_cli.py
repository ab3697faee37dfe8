"""The command line end to end: init, import, plan, verify, demo, and refusals of bad input."""

from __future__ import annotations

import shutil
import sqlite3
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from spotcheck.cli.main import main

DATA = Path(__file__).parent / "data"
GOOD = DATA / "good"
BAD = DATA / "bad"
SEED = "20261001-0394857261-5520183746"


def run(db: Path, *args: str) -> Result:
    """Run spotcheck against the SQLite database at `db`."""
    return CliRunner().invoke(main, ["--db", f"sqlite:///{db}", *args])


def dump(db: Path) -> list[str]:
    """Return every statement that would rebuild the database, to compare states."""
    with sqlite3.connect(db) as connection:
        return list(connection.iterdump())


@pytest.fixture()
def loaded(tmp_path: Path) -> Path:
    """A database holding the good example registry."""
    db = tmp_path / "spotcheck.db"
    assert run(db, "init").exit_code == 0
    for kind in ("enterprises", "inspectors", "conflicts", "history"):
        result = run(db, "import", kind, str(GOOD / f"{kind}.csv"))
        assert result.exit_code == 0, result.output
    return db


def test_walkthrough_plans_and_verifies(loaded: Path, tmp_path: Path) -> None:
    """init → import → plan → verify succeeds and the bundle verifies from files alone."""
    out = tmp_path / "plan-2026Q4"
    result = run(loaded, "plan", "--quarter", "2026Q4", "--seed", SEED, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "utilisation" in result.output and "GS-QY" in result.output
    assert (out / "manifest.json").exists() and (out / "draws.csv").exists()
    verified = run(loaded, "verify", str(out))
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("VERIFIED")


def test_second_plan_refused_then_replaced(loaded: Path, tmp_path: Path) -> None:
    """A second plan for the same quarter is refused without --replace, accepted with it."""
    first = run(loaded, "plan", "--quarter", "2026Q4", "--seed", SEED, "--out",
                str(tmp_path / "a"))
    assert first.exit_code == 0, first.output
    before = dump(loaded)
    second = run(loaded, "plan", "--quarter", "2026Q4", "--seed", "another-seed", "--out",
                 str(tmp_path / "b"))
    assert second.exit_code == 1
    assert "--replace" in second.output
    assert dump(loaded) == before
    assert not (tmp_path / "b").exists()
    third = run(loaded, "plan", "--quarter", "2026Q4", "--seed", "another-seed", "--out",
                str(tmp_path / "c"), "--replace")
    assert third.exit_code == 0, third.output
    assert "superseded" in third.output


def test_tampered_bundle_fails_verify(loaded: Path, tmp_path: Path) -> None:
    """verify exits 1 naming the problem when a draw is removed from the bundle."""
    out = tmp_path / "plan"
    assert run(loaded, "plan", "--quarter", "2026Q4", "--seed", SEED, "--out",
               str(out)).exit_code == 0
    draws = (out / "draws.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(draws) > 1
    (out / "draws.csv").write_text("".join(draws[:1] + draws[2:]), encoding="utf-8")
    result = run(loaded, "verify", str(out))
    assert result.exit_code == 1
    assert "draws.csv" in result.output and "NOT VERIFIED" in result.output


def _cases() -> list[dict[str, object]]:
    with (BAD / "cases.toml").open("rb") as handle:
        return list(tomllib.load(handle)["case"])


@pytest.mark.parametrize("case", _cases(), ids=lambda c: str(c["file"]))
def test_bad_file_refused_and_database_unchanged(loaded: Path, tmp_path: Path,
                                                 case: dict[str, object]) -> None:
    """Each bad-input file exits 1 naming its row and column, and changes nothing stored."""
    before = dump(loaded)
    source = BAD / str(case["file"])
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    result = run(loaded, "import", str(case["kind"]), str(copy))
    assert result.exit_code == 1, result.output
    if case["column"]:
        assert f"{copy}:{case['row']}: column '{case['column']}'" in result.output
    else:
        assert f"{copy}:{case['row']}: " in result.output
    assert str(case["fragment"]) in result.output
    assert "Traceback" not in result.output
    assert dump(loaded) == before


@pytest.mark.parametrize("name, key", [
    ("policy_team_size_1.toml", "team_size"),
    ("policy_ratio_above_1.toml", "tiers.D.ratio"),
    ("policy_min_ratio_above_ratio.toml", "tiers.C.min_ratio"),
    ("policy_unknown_key.toml", "sample_everyone"),
])
def test_bad_policy_refused_naming_key(loaded: Path, tmp_path: Path, name: str,
                                       key: str) -> None:
    """A bad policy exits 1 naming the key, writes no bundle and stores no plan."""
    before = dump(loaded)
    out = tmp_path / "never"
    result = run(loaded, "plan", "--quarter", "2026Q4", "--seed", SEED, "--policy",
                 str(BAD / name), "--out", str(out))
    assert result.exit_code == 1
    assert f"key {key!r}" in result.output
    assert not out.exists()
    assert dump(loaded) == before


@pytest.mark.parametrize("args, fragment", [
    (["plan", "--quarter", "2026Q5", "--seed", SEED, "--out", "x"], "2026Q5"),
    (["plan", "--quarter", "2026Q4", "--seed", " padded", "--out", "x"], "white space"),
    (["plan", "--quarter", "2026Q4", "--seed", "a:b", "--out", "x"], "':'"),
])
def test_bad_arguments_exit_1_with_message(loaded: Path, args: list[str], fragment: str) -> None:
    """A bad quarter or seed is a domain error: exit 1 and a message, no traceback."""
    result = run(loaded, *args)
    assert result.exit_code == 1
    assert fragment in result.output


def test_usage_error_exits_2(tmp_path: Path) -> None:
    """A missing required option is a usage error (exit 2)."""
    result = run(tmp_path / "db.sqlite", "plan", "--quarter", "2026Q4")
    assert result.exit_code == 2


def test_plan_on_empty_database_explains(tmp_path: Path) -> None:
    """Planning before any import says which import to run."""
    result = run(tmp_path / "empty.db", "plan", "--quarter", "2026Q4", "--seed", SEED,
                 "--out", str(tmp_path / "p"))
    assert result.exit_code == 1
    assert "spotcheck import enterprises" in result.output


def test_gbk_and_utf8_imports_store_the_same(tmp_path: Path) -> None:
    """Importing the GBK example stores the registry the UTF-8 example stores."""
    examples = Path(__file__).parent.parent / "examples"
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    assert run(a, "import", "enterprises", str(examples / "enterprises.csv")).exit_code == 0
    assert run(b, "import", "enterprises", str(examples / "enterprises_gbk.csv")).exit_code == 0

    def registry(db: Path) -> list[str]:
        return [line for line in dump(db) if 'INSERT INTO "event_log"' not in line]

    assert registry(a) == registry(b)


def test_demo_small_city_verifies(tmp_path: Path) -> None:
    """`spotcheck demo` plans a synthetic city, writes the bundle and verifies it."""
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--enterprises", "20000"])
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output
    assert (out / "assignments.csv").exists()
