"""assign-v1 and assign-v2 side by side: the policy key, bundles checked by their own rule,
and a bundle written before assign-v2 that must verify and reproduce byte for byte forever.

tests/data/bundles/assign-v1/city-2026Q4.zip was written by the code before assign-v2 (see
the README there): the city scenario of tests/builders.py, frozen, seeded by dice and planned
through the service layer, so it carries events, a freeze and a ceremony seed. Its policy has
no `assign` key; its manifest names assign-v1.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import tempfile
from pathlib import Path

import pytest
from builders import Scenario, scenarios
from hypothesis import assume, given
from hypothesis import strategies as st

import spotcheck
from spotcheck import InvalidInputError, PolicyError
from spotcheck.audit.explain import explain_enterprise
from spotcheck.formats.bundle import output_files, read_bundle, registry_from_bundle, zip_bytes

FIXTURE = Path(__file__).parent / "data/bundles/assign-v1/city-2026Q4.zip"
FIXTURE_SHA256 = "f8fd71d1ba9380b46262cfddb43ca1a9777cbd06c36da03898f94f08e43de20e"
OUTPUTS = ("strata.csv", "draws.csv", "skipped.csv", "assignments.csv", "visits.csv",
           "shortfalls.csv")


@pytest.fixture(scope="module")
def fixture_bundle() -> spotcheck.Bundle:
    """The assign-v1 bundle written before assign-v2 existed."""
    return read_bundle(FIXTURE)


def fixture_plan(bundle: spotcheck.Bundle, policy_text: str,
                 assign: str | None = None) -> spotcheck.Plan:
    """Return the plan of the fixture's registry, seed and quarter under a policy text."""
    manifest = bundle.manifest
    return spotcheck.plan_quarter(registry_from_bundle(bundle),
                                  spotcheck.parse_policy(policy_text), manifest["quarter"],
                                  manifest["seed"], assign=assign)


def test_fixture_is_the_recorded_assign_v1_bundle(fixture_bundle: spotcheck.Bundle) -> None:
    """The fixture is unchanged, small, names assign-v1 and has no assign key in its policy."""
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == FIXTURE_SHA256
    assert FIXTURE.stat().st_size < 200_000
    manifest = fixture_bundle.manifest
    assert manifest["algorithms"] == {"round": "round-v1", "draw": "draw-v1",
                                      "assign": "assign-v1"}
    assert "assign" not in manifest["policy"]
    assert b"assign" not in fixture_bundle.files["policy.toml"]


def test_fixture_verifies_strictly_by_assign_v1() -> None:
    """The old bundle verifies --strict (freeze, ceremony seed, events) by the rule it names,
    though a policy without `assign` now means assign-v2 for new plans."""
    report = spotcheck.verify_bundle(FIXTURE, strict=True, sha256=FIXTURE_SHA256)
    assert report.ok, report.mismatches
    assert not report.warnings
    assert report.counts["assignments"] == 52


def test_assign_v1_policy_gives_the_fixtures_output_bytes(
        fixture_bundle: spotcheck.Bundle) -> None:
    """A policy saying assign = "assign-v1" gives the fixture's output files byte for byte."""
    text = fixture_bundle.files["policy.toml"].decode("utf-8")
    plan = fixture_plan(fixture_bundle, 'assign = "assign-v1"\n' + text)
    assert plan.assign == "assign-v1"
    produced = output_files(plan)
    assert {name: produced[name] for name in OUTPUTS} == {
        name: fixture_bundle.files[name] for name in OUTPUTS}


def test_fixture_rebuilt_by_assign_v1_is_the_same_zip(fixture_bundle: spotcheck.Bundle) -> None:
    """Planned again from its own inputs by assign-v1, the fixture's every file — manifest
    (plan_id, algorithms, policy copy) included — and its .zip are the same bytes."""
    from spotcheck.formats.bundle import Provenance
    from spotcheck.models.events import parse_events_jsonl

    manifest = fixture_bundle.manifest
    plan = fixture_plan(fixture_bundle, fixture_bundle.files["policy.toml"].decode("utf-8"),
                        assign="assign-v1")
    events = tuple(parse_events_jsonl(fixture_bundle.files["events.jsonl"]))
    provenance = Provenance(events, events[manifest["freeze"]["event"] - 1],
                            events[manifest["ceremony"]["event"] - 1])
    rebuilt = spotcheck.build_bundle(plan, registry_from_bundle(fixture_bundle),
                                     fixture_bundle.files["policy.toml"],
                                     created_at=manifest["created_at"],
                                     software=manifest["software"], provenance=provenance)
    assert rebuilt.files == fixture_bundle.files
    assert hashlib.sha256(zip_bytes(rebuilt.files)).hexdigest() == FIXTURE_SHA256


def test_same_policy_now_plans_by_assign_v2(fixture_bundle: spotcheck.Bundle) -> None:
    """The fixture's policy, without `assign`, now plans by assign-v2: the same draws and
    visits, teams priced by assign-v2, and another plan_id for another plan."""
    text = fixture_bundle.files["policy.toml"].decode("utf-8")
    plan = fixture_plan(fixture_bundle, text)
    assert plan.assign == "assign-v2"
    assert plan.algorithms["assign"] == "assign-v2"
    produced = output_files(plan)
    for name in ("strata.csv", "draws.csv", "skipped.csv", "visits.csv", "shortfalls.csv"):
        assert produced[name] == fixture_bundle.files[name], name
    assert all(a.cost == spotcheck.cost(plan.seed_hash, plan.quarter, a.enterprise_id,
                                        a.inspector_id, assign="assign-v2")
               for a in plan.assignments)
    bundle = spotcheck.build_bundle(plan, registry_from_bundle(fixture_bundle),
                                    fixture_bundle.files["policy.toml"])
    assert bundle.manifest["algorithms"]["assign"] == "assign-v2"
    assert bundle.manifest["plan_id"] != fixture_bundle.manifest["plan_id"]
    assert bundle.manifest["policy"] == fixture_bundle.manifest["policy"]


def test_explain_prices_the_fixture_by_assign_v1(fixture_bundle: spotcheck.Bundle) -> None:
    """explain shows an old bundle's team costs by assign-v1, finding nothing to note."""
    row = next(r for r in io.StringIO(fixture_bundle.files["assignments.csv"].decode())
               if not r.startswith("enterprise_id"))
    enterprise_id = row.split(",")[0]
    lines = explain_enterprise(fixture_bundle, enterprise_id)
    assert "  team (assign-v1 cost, smaller is preferred):" in lines
    assert not any("note:" in line for line in lines)


def rewritten(bundle: spotcheck.Bundle, tmp: Path, change_policy: str = "",
              change_rule: str | None = None) -> Path:
    """Write the bundle as a .zip after prefixing policy.toml and/or renaming the manifest's
    assign rule, forging the digests and the manifest's policy copy to match."""
    files = dict(bundle.files)
    manifest = json.loads(files["manifest.json"])
    if change_policy:
        files["policy.toml"] = change_policy.encode() + files["policy.toml"]
        manifest["inputs"]["policy.toml"] = hashlib.sha256(files["policy.toml"]).hexdigest()
        manifest["policy"] = spotcheck.parse_policy(
            files["policy.toml"].decode()).as_manifest()
    if change_rule:
        manifest["algorithms"]["assign"] = change_rule
    files["manifest.json"] = json.dumps(manifest).encode()
    out = tmp / "rewritten.zip"
    out.write_bytes(zip_bytes(files))
    return out


def test_verify_uses_the_manifests_rule_not_the_policy_default(
        fixture_bundle: spotcheck.Bundle, tmp_path: Path) -> None:
    """Renamed assign-v2 in the manifest, the old bundle's assign-v1 teams no longer verify."""
    report = spotcheck.verify_bundle(rewritten(fixture_bundle, tmp_path, change_rule="assign-v2"))
    assert not report.ok
    text = "\n".join(report.mismatches)
    assert "is not its assign-v2 value" in text
    assert "does not follow from the inputs and seed" in text


def test_policy_naming_another_rule_than_the_manifest_is_reported(
        fixture_bundle: spotcheck.Bundle, tmp_path: Path) -> None:
    """A policy.toml saying assign-v2 in a bundle whose manifest names assign-v1 is named."""
    report = spotcheck.verify_bundle(rewritten(fixture_bundle, tmp_path,
                                               change_policy='assign = "assign-v2"\n'))
    assert not report.ok
    assert any("policy.toml sets assign = 'assign-v2', but manifest.json says the teams were "
               "priced by assign-v1" in m for m in report.mismatches), report.mismatches


def test_unknown_rule_in_the_manifest_is_refused(fixture_bundle: spotcheck.Bundle,
                                                 tmp_path: Path) -> None:
    """A manifest naming an assign rule this software does not implement stops verify."""
    report = spotcheck.verify_bundle(rewritten(fixture_bundle, tmp_path,
                                               change_rule="assign-v9"))
    assert not report.ok
    assert "assign-v1, assign-v2, the algorithms this software reproduces" in \
        report.mismatches[0]


# --- the policy key ------------------------------------------------------------------------


def policy_text(fixture_bundle: spotcheck.Bundle, line: str) -> str:
    """Return the fixture's policy with one line put first."""
    return line + "\n" + fixture_bundle.files["policy.toml"].decode("utf-8")


@pytest.mark.parametrize("line, rule, recorded", [
    ("", "assign-v2", False),
    ('assign = "assign-v2"', "assign-v2", True),
    ('assign = "assign-v1"', "assign-v1", True),
])
def test_policy_assign_key(fixture_bundle: spotcheck.Bundle, line: str, rule: str,
                           recorded: bool) -> None:
    """`assign` defaults to assign-v2 and is in the manifest's policy copy only when set."""
    policy = spotcheck.parse_policy(policy_text(fixture_bundle, line))
    assert policy.assign == rule
    assert ("assign" in policy.as_manifest()) == recorded


@pytest.mark.parametrize("value", ['"assign-v3"', '"ASSIGN-V1"', "2", '""'])
def test_bad_assign_key_is_refused_naming_it(fixture_bundle: spotcheck.Bundle,
                                             value: str) -> None:
    """A policy with an unknown assign rule is refused with a message naming the key."""
    with pytest.raises(PolicyError) as caught:
        spotcheck.parse_policy(policy_text(fixture_bundle, f"assign = {value}"))
    message = str(caught.value) + "".join(str(p) for p in caught.value.problems)
    assert "key 'assign'" in message and "assign-v1" in message and "assign-v2" in message


def test_unknown_rule_argument_is_refused(fixture_bundle: spotcheck.Bundle) -> None:
    """plan_quarter(assign=...) accepts only the rules there are."""
    with pytest.raises(InvalidInputError, match="assign-v1, assign-v2"):
        fixture_plan(fixture_bundle, fixture_bundle.files["policy.toml"].decode(),
                     assign="assign-v3")


# --- new plans ------------------------------------------------------------------------------


def forge_output(files: dict[str, bytes], name: str, data: bytes) -> dict[str, bytes]:
    """Return the files with one output replaced and the manifest's digest of it forged."""
    manifest = json.loads(files["manifest.json"])
    manifest["outputs"][name] = hashlib.sha256(data).hexdigest()
    return {**files, name: data, "manifest.json": json.dumps(manifest).encode()}


def verified(files: dict[str, bytes], folder: str) -> spotcheck.VerificationReport:
    """Return verify's report on the files written as a .zip in `folder`."""
    path = Path(folder) / "bundle.zip"
    path.unlink(missing_ok=True)
    path.write_bytes(zip_bytes(files))
    return spotcheck.verify_bundle(path)


@given(sc=scenarios(), data=st.data())
def test_assign_v2_plans_verify_and_a_tampered_assignment_does_not(
        sc: Scenario, data: st.DataObject) -> None:
    """Every assign-v2 plan's bundle verifies; editing one assignment (another officer, or
    the cost ±1), its digest forged, never does."""
    sc = dataclasses.replace(sc, spec=dataclasses.replace(sc.spec, assign="assign-v2"))
    bundle = sc.bundle()
    assert bundle.manifest["algorithms"]["assign"] == "assign-v2"
    with tempfile.TemporaryDirectory() as folder:
        report = verified(bundle.files, folder)
        assert report.ok, report.mismatches
        assume(sc.plan.assignments)
        header, *lines = bundle.files["assignments.csv"].decode("utf-8").splitlines()
        at = data.draw(st.integers(0, len(lines) - 1))
        enterprise_id, department, inspector_id, cost = lines[at].split(",")
        if data.draw(st.booleans()):
            cost = str(int(cost) + data.draw(st.sampled_from((-1, 1))))
        else:
            others = sorted({o.inspector_id for o in sc.inspectors} - {inspector_id})
            assume(others)
            inspector_id = data.draw(st.sampled_from(others))
        lines[at] = ",".join((enterprise_id, department, inspector_id, cost))
        edited = "\n".join([header, *lines]).encode("utf-8") + b"\n"
        assert not verified(forge_output(bundle.files, "assignments.csv", edited), folder).ok
