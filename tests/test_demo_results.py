"""`spotcheck demo --with-results` then `spotcheck report`: the synthetic city through a
whole quarter in a database, and the report it gives."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from spotcheck.cli import main
from spotcheck.formats.workbook import SHEETS
from spotcheck.service.demo_results import (
    DEMO_PUBLISHED,
    DEMO_TODAY,
    ENTERED,
    planted_rate,
    simulated_rows,
)

GOOD = Path(__file__).parent / "data" / "good"
SIZE = "2000"


def run(*args: str) -> Result:
    """Run spotcheck and require exit 0."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, dict[str, object]]:
    """The demo with results of a 2,000-enterprise city, in its own SQLite database."""
    folder = tmp_path_factory.mktemp("demo")
    db = f"sqlite:///{folder / 'demo.db'}"
    result = run("--db", db, "demo", "--with-results", "--enterprises", SIZE, "--out",
                 str(folder / "d"), "--json")
    return db, folder, json.loads(result.stdout)


def test_demo_stores_plan_results_and_publication(
        demo: tuple[str, Path, dict[str, object]]) -> None:
    """Every draw has a result or is counted missing; the first batch is published."""
    _, folder, document = demo
    outcomes = document["outcomes"]
    assert isinstance(outcomes, dict)
    draws = document["verification"]["counts"]["draws"]  # type: ignore[index]
    assert outcomes["results"] + outcomes["missing"] == draws
    assert 0 < outcomes["published"] < outcomes["results"]
    assert outcomes["today"] == DEMO_TODAY.isoformat()
    assert document["verification"]["ok"] is True  # type: ignore[index]
    public = folder / "d-public" / f"results_2026Q4_{DEMO_PUBLISHED.isoformat()}.csv"
    assert public.exists()
    assert [Path(f).name for f in outcomes["files"]] == [  # type: ignore[union-attr]
        "results-2026-11-10.csv", f"results-{DEMO_TODAY.isoformat()}.csv"]


def test_report_on_the_demo(demo: tuple[str, Path, dict[str, object]]) -> None:
    """report.html, workbook.xlsx and JSON; riskier tiers find more; some results overdue."""
    db, folder, _ = demo
    out = folder / "report"
    document = json.loads(run("--db", db, "report", "--quarter", "2026Q4", "--as-of",
                              DEMO_TODAY.isoformat(), "--out", str(out), "--json").stdout)
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json",
                                                     "workbook.xlsx"]
    assert tuple(load_workbook(out / "workbook.xlsx").sheetnames) == SHEETS
    report = document["report"]
    tiers = {r["tier"]: r["estimate"] for r in report["estimates"] if r["level"] == "tier"}
    assert tiers["A"]["rate"] < tiers["C"]["rate"] < tiers["D"]["rate"]
    overall = report["estimates"][0]["estimate"]
    assert overall["missing"] > 0 and overall["clopper_pearson"]["low"] < overall["rate"]
    assert sum(d["overdue"] for d in report["deadlines"]) > 0  # entered late, not published
    shares = {d["tier"]: d["share"] for d in report["disturbance"]}
    assert shares["A"] < shares["D"]  # 守信企业 are disturbed less
    objectives = [a["objective"] for a in report["advice"]["allocations"]]
    assert objectives == ["current", "findings", "precision"]


def test_simulated_results_follow_the_planted_rates() -> None:
    """Over a larger city's draws, the simulated findings of each tier match the planted
    rates within 4 binomial standard errors, and about 90 % of draws are entered."""
    from spotcheck.demo import DEMO_QUARTER, DEMO_SEED, synthetic_city
    from spotcheck.models.policy import load_policy
    from spotcheck.scheduler.plan import plan_quarter

    registry = synthetic_city(20_000)
    plan = plan_quarter(registry, load_policy()[0], DEMO_QUARTER, DEMO_SEED)
    batches = simulated_rows(plan)
    rows = [r for batch in batches.values() for r in batch]
    assert abs(len(rows) / len(plan.draws) - float(ENTERED)) < 0.02
    drawn = {(d.task, d.enterprise_id): d for d in plan.draws}
    expected: dict[str, float] = defaultdict(float)
    spread: dict[str, float] = defaultdict(float)
    found: Counter[str] = Counter()
    for enterprise, task, _, code, _, _ in rows:
        d = drawn[(task, enterprise)]
        rate = planted_rate(task, d.tier, d.jurisdiction)
        expected[d.tier] += rate
        spread[d.tier] += rate * (1 - rate)
        found[d.tier] += code not in ("1", "F", "7", "9")
    for tier in expected:
        assert abs(found[tier] - expected[tier]) <= 4 * spread[tier] ** 0.5, tier


def test_demo_refuses_a_database_it_did_not_fill(tmp_path: Path) -> None:
    """A database with a bureau's own import is refused whole, and left as it was."""
    db = f"sqlite:///{tmp_path / 'bureau.db'}"
    run("--db", db, "--actor", "planning-office", "import", "enterprises",
        str(GOOD / "enterprises.csv"))
    result = CliRunner().invoke(main, ["--db", db, "demo", "--with-results", "--enterprises",
                                       "1000", "--out", str(tmp_path / "d")])
    assert result.exit_code == 1 and "planning-office" in result.stderr
    log = json.loads(run("--db", db, "log", "--json").stdout)
    assert [e["event"]["kind"] for e in log["events"]] == ["import"]
    assert not (tmp_path / "d").exists()
