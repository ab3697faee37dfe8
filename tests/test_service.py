"""The service layer a platform calls: the same workflows as the command line, typed results."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from spotcheck.errors import DatabaseError, InfeasiblePlanError, SpotcheckError
from spotcheck.formats.bundle import bundle_fingerprint
from spotcheck.service import Workspace, explain, verify
from spotcheck.service.results import ImportResult, PlanResult
from spotcheck.store.database import get_engine

GOOD = Path(__file__).parent / "data" / "good"
SEED = "20261001-0394857261-5520183746"
DIGITS = "31415926535897932384626"


def loaded(db: str | Engine) -> Workspace:
    """Return a workspace on `db` holding the good example registry."""
    ws = Workspace(db, actor="platform")
    for kind in ("enterprises", "inspectors", "conflicts", "history"):
        result = ws.import_file(kind, GOOD / f"{kind}.csv")
        assert isinstance(result, ImportResult) and result.report.registry == kind
    return ws


def test_workspace_on_a_platform_engine_plans_and_verifies(db_url: str, tmp_path: Path) -> None:
    """A platform's own engine works like a URL: imports, plan, bundle, verify, log."""
    engine = get_engine(db_url)
    try:
        ws = loaded(engine)
        result = ws.plan("2026Q4", tmp_path / "plan", seed=SEED)
        assert isinstance(result, PlanResult)
        assert result.counts["draws"] == len(result.plan.draws) > 0
        assert result.freeze is None and "never frozen" in str(result.warning)
        report = verify(result.out)
        assert report.ok and report.plan_id == result.plan_id
        kinds = [logged.event.kind for logged in ws.log().events]
        assert kinds.count("import") == 4 and kinds[-1] == "plan"
        assert ws.log_verify().ok
    finally:
        engine.dispose()


def test_replace_supersedes_and_a_second_plan_is_refused(db_url: str, tmp_path: Path) -> None:
    """plan refuses a second plan of the same tasks; replace=True supersedes the first."""
    ws = loaded(db_url)
    first = ws.plan("2026Q4", tmp_path / "a", seed=SEED)
    with pytest.raises(InfeasiblePlanError):
        ws.plan("2026Q4", tmp_path / "b", seed="another-seed")
    assert not (tmp_path / "b").exists()
    second = ws.plan("2026Q4", tmp_path / "c", seed="another-seed", replace=True)
    assert second.superseded == first.plan_id != second.plan_id


def test_ceremony_through_the_service(db_url: str, tmp_path: Path) -> None:
    """freeze → commit ×2 → close → reveal ×2 gives the seed the plan then uses by itself."""
    ws = loaded(db_url)
    frozen = ws.freeze("2026Q4")
    assert frozen.recorded and len(frozen.fingerprint) == 16
    ws.seed_commit("2026Q4", "notary", secret="notary-secret-0123456789")
    ws.seed_commit("2026Q4", "discipline", secret="discipline-secret-012345")
    ws.seed_close("2026Q4")
    assert ws.seed_reveal("2026Q4", "notary", "notary-secret-0123456789").seed is None
    last = ws.seed_reveal("2026Q4", "discipline", "discipline-secret-012345")
    assert last.seed is not None and last.seed.startswith("cr-v1-")
    status = ws.seed_show("2026Q4")
    assert status.seed == last.seed and all(c.revealed for c in status.commitments)
    result = ws.plan("2026Q4", tmp_path / "plan.zip")
    assert result.seed == last.seed and result.seed_event is not None
    assert verify(result.out, strict=True).ok


def test_dice_seed_and_explain(db_url: str, tmp_path: Path) -> None:
    """A dice seed plans; explain names a drawn enterprise's team from the bundle alone."""
    ws = loaded(db_url)
    ws.freeze("2026Q4")
    assert ws.seed_dice("2026Q4", DIGITS).seed == f"dice-v1-{DIGITS}"
    result = ws.plan("2026Q4", tmp_path / "plan")
    drawn = result.plan.draws[0].enterprise_id
    said = explain(result.out, enterprise_id=drawn)
    assert said.subject == "enterprise" and any(drawn in line for line in said.lines)
    team = [a.inspector_id for a in result.plan.assignments if a.enterprise_id == drawn]
    assert team and all(any(officer in line for line in said.lines) for officer in team)


def test_refusals_are_spotcheck_errors(tmp_path: Path) -> None:
    """Unknown registry kinds, missing files and unusable URLs raise SpotcheckError subclasses."""
    ws = Workspace(f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(SpotcheckError, match="unknown registry"):
        ws.import_file("officers", GOOD / "inspectors.csv")
    with pytest.raises(SpotcheckError, match="no such file"):
        ws.import_file("history", tmp_path / "missing.csv")
    with pytest.raises(DatabaseError, match="cannot open the database"):
        Workspace(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.db'}")
    with pytest.raises(DatabaseError, match="not supported"):
        Workspace("mysql://user@localhost/db")
    with pytest.raises(SpotcheckError, match="no enterprises"):
        ws.plan("2026Q4", tmp_path / "p", seed=SEED)


def test_results_print_as_json_without_internal_fields(tmp_path: Path) -> None:
    """as_json() drops the in-process plan and registry and renders paths and events."""
    ws = loaded(f"sqlite:///{tmp_path / 'a.db'}")
    data = ws.plan("2026Q4", tmp_path / "p", seed=SEED).as_json()
    assert "plan" not in data and "registry" not in data
    assert data["out"] == str(tmp_path / "p") and data["seed"] == SEED
    assert data["fingerprint"] == bundle_fingerprint(tmp_path / "p")
