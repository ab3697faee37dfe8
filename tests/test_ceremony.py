"""A draw nobody can steer, end to end: freeze, seed ceremony, event log, keys, bundle zip.

Every database test runs on SQLite and, with SPOTCHECK_TEST_PG set, on PostgreSQL (the
`db_url` fixture). Expected seeds, digests and hashes are recomputed here with hashlib and
json from docs/CEREMONY.md, never with the code under test.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import zipfile
from importlib import resources
from pathlib import Path

import pytest
from builders import Scenario, scenarios, store_scenario
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from spotcheck.cli.main import main

GOOD = Path(__file__).parent / "data" / "good"
DIGITS = "31415926535897932384626"


def sha(value: str | bytes) -> str:
    """Return the hex SHA-256 of bytes, or of a string's UTF-8 bytes."""
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


def run(db_url: str, *args: str, actor: str = "tester", stdin: str | None = None) -> Result:
    """Run spotcheck against the database at `db_url`."""
    return CliRunner().invoke(main, ["--db", db_url, "--actor", actor, *args], input=stdin)


def ok(db_url: str, *args: str) -> Result:
    """Run spotcheck and require exit code 0."""
    result = run(db_url, *args)
    assert result.exit_code == 0, result.output
    return result


def refused(db_url: str, *args: str) -> str:
    """Run spotcheck, require exit code 1 without a traceback; return the output."""
    result = run(db_url, *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output


def manifest(bundle: Path) -> dict:
    """Return the manifest of a bundle folder or .zip."""
    if bundle.suffix == ".zip":
        with zipfile.ZipFile(bundle) as archive:
            return json.loads(archive.read("manifest.json"))
    return json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))


def events(db_url: str) -> list[dict]:
    """Return the stored events as events.jsonl objects (via `spotcheck log --jsonl`)."""
    return [json.loads(line) for line in ok(db_url, "log", "--jsonl").output.splitlines()]


def execute(db_url: str, sql: str, **params: object) -> None:
    """Run one SQL statement on the database, as someone editing it by hand would."""
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


@pytest.fixture
def loaded(db_url: str) -> str:
    """A database holding the good example registry."""
    for kind in ("enterprises", "inspectors", "conflicts", "history"):
        ok(db_url, "import", kind, str(GOOD / f"{kind}.csv"))
    return db_url


@pytest.fixture
def frozen(loaded: str) -> str:
    """The example registry with 2026Q4 frozen under the shipped policy."""
    ok(loaded, "freeze", "--quarter", "2026Q4")
    return loaded


def changed_enterprises(tmp_path: Path) -> Path:
    """Return the example enterprises file with one enterprise's tier changed."""
    lines = (GOOD / "enterprises.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][:-1] + ("C" if lines[1].endswith("D") else "D")
    path = tmp_path / "enterprises-changed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- the documented formats ------------------------------------------------------------


def test_freeze_fingerprint_is_the_documented_digest(frozen: str, tmp_path: Path) -> None:
    """The fingerprint is sha256 of "freeze-v1:Q:" and the bundle inputs' sorted digests."""
    out = ok(frozen, "freeze", "--quarter", "2026Q4").output  # same data: prints it again
    assert "already frozen" in out
    ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    ok(frozen, "plan", "--quarter", "2026Q4", "--out", str(tmp_path / "p"))
    inputs = manifest(tmp_path / "p")["inputs"]
    for name, value in inputs.items():
        assert value == sha((tmp_path / "p" / name).read_bytes())
    pairs = ":".join(f"{name}={inputs[name]}" for name in sorted(inputs))
    expected = sha(f"freeze-v1:2026Q4:{pairs}")
    assert f"freeze fingerprint: {expected[:16]}" in out
    assert f"freeze digest:      {expected}" in out
    assert manifest(tmp_path / "p")["freeze"]["digest"] == expected


def test_event_hash_is_sha256_of_canonical_fields(frozen: str) -> None:
    """Each event's hash is sha256 of the canonical JSON of its fields, chained by prev."""
    prev = "0" * 64
    for seq, event in enumerate(events(frozen), start=1):
        payload = json.dumps(event["payload"], sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False)
        assert event["payload_digest"] == sha(payload)
        fields = {k: event[k] for k in ("seq", "at", "actor", "kind", "payload_digest", "prev")}
        assert (event["seq"], event["prev"]) == (seq, prev)
        assert event["hash"] == sha(json.dumps(fields, sort_keys=True, separators=(",", ":"),
                                               ensure_ascii=False))
        prev = event["hash"]
    assert [e["kind"] for e in events(frozen)] == ["import"] * 4 + ["policy", "freeze"]


def test_every_event_names_its_actor(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """--actor wins; without it SPOTCHECK_ACTOR is recorded."""
    monkeypatch.setenv("SPOTCHECK_ACTOR", "planner-li")
    result = CliRunner().invoke(main, ["--db", loaded, "freeze", "--quarter", "2026Q4"])
    assert result.exit_code == 0, result.output
    recorded = events(loaded)
    assert {e["actor"] for e in recorded[:4]} == {"tester"}
    assert recorded[-1]["actor"] == "planner-li"


# --- freeze ----------------------------------------------------------------------------


def test_plan_refuses_when_registry_changed_after_freeze(frozen: str, tmp_path: Path) -> None:
    """An import after the freeze makes plan refuse, naming the changed input file."""
    ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    ok(frozen, "import", "enterprises", str(changed_enterprises(tmp_path)))
    before = events(frozen)
    out = refused(frozen, "plan", "--quarter", "2026Q4", "--out", str(tmp_path / "p"))
    assert "changed since 2026Q4 was frozen" in out
    assert "inputs/enterprises.csv" in out and "inputs/inspectors.csv" not in out
    assert "--restart" in out
    assert not (tmp_path / "p").exists()
    assert events(frozen) == before


def test_plan_refuses_when_policy_changed_after_freeze(frozen: str, tmp_path: Path) -> None:
    """A plan with another policy than the frozen one is refused, naming policy.toml."""
    ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    policy = (resources.files("spotcheck.config") / "policy.toml").read_text("utf-8")
    other = tmp_path / "policy.toml"
    other.write_text(policy.replace("ratio = 0.40", "ratio = 0.45"), encoding="utf-8")
    out = refused(frozen, "plan", "--quarter", "2026Q4", "--policy", str(other), "--out",
                  str(tmp_path / "p"))
    assert "policy.toml differ(s) from the frozen digest" in out


def test_refreeze_over_a_ceremony_needs_restart(frozen: str, tmp_path: Path) -> None:
    """Freezing changed data again is refused once a seed exists, unless --restart."""
    ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    ok(frozen, "import", "enterprises", str(changed_enterprises(tmp_path)))
    assert "--restart" in refused(frozen, "freeze", "--quarter", "2026Q4")
    ok(frozen, "freeze", "--quarter", "2026Q4", "--restart")
    out = refused(frozen, "plan", "--quarter", "2026Q4", "--out", str(tmp_path / "p"))
    assert "no seed yet" in out
    again = refused(frozen, "plan", "--quarter", "2026Q4", "--seed", f"dice-v1-{DIGITS}",
                    "--out", str(tmp_path / "p"))
    assert "before the freeze the plan would use" in again
    assert "abandoned ceremonies" in ok(frozen, "seed", "show", "--quarter", "2026Q4").output


def test_refreeze_before_any_seed_is_allowed(frozen: str, tmp_path: Path) -> None:
    """Data corrected before the ceremony simply freezes again; the plan uses that freeze."""
    ok(frozen, "import", "enterprises", str(changed_enterprises(tmp_path)))
    assert "2026Q4 frozen" in ok(frozen, "freeze", "--quarter", "2026Q4").output
    ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    ok(frozen, "plan", "--quarter", "2026Q4", "--out", str(tmp_path / "p"))
    assert ok(frozen, "verify", "--strict", str(tmp_path / "p")).output.startswith("VERIFIED")


# --- dice ------------------------------------------------------------------------------


def test_dice_seed_plans_and_verifies_strictly(frozen: str, tmp_path: Path) -> None:
    """freeze → dice → plan (no --seed) uses dice-v1-DIGITS; verify --strict accepts it."""
    out = ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS).output
    assert f"dice-v1-{DIGITS}" in out
    bundle = tmp_path / "plan.zip"
    printed = ok(frozen, "plan", "--quarter", "2026Q4", "--out", str(bundle)).output
    written = manifest(bundle)
    assert written["seed"] == f"dice-v1-{DIGITS}"
    assert written["ceremony"]["method"] == "dice"
    assert f"publish this fingerprint: {sha(bundle.read_bytes())}" in printed
    result = ok(frozen, "verify", "--strict", str(bundle))
    assert result.output.startswith("VERIFIED") and "WARNING" not in result.output


@pytest.mark.parametrize("digits, fragment", [
    ("1" * 19, "19 digit(s)"),
    ("1234567890123456789a", "not a string of decimal digits"),
    ("12345 678901234567890", "not a string of decimal digits"),
    ("１２３４５６７８９０１２３４５６７８９０", "not a string of decimal digits"),
])
def test_dice_refuses_short_or_non_digit_rolls(frozen: str, digits: str, fragment: str) -> None:
    """Fewer than 20 digits, or anything but ASCII digits, is refused and records nothing."""
    before = events(frozen)
    assert fragment in refused(frozen, "seed", "dice", "--quarter", "2026Q4", digits)
    assert events(frozen) == before


def test_seed_before_freeze_is_refused(loaded: str) -> None:
    """No seed ceremony step is accepted before the quarter's freeze."""
    assert "has no freeze" in refused(loaded, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    assert "has no freeze" in refused(loaded, "seed", "commit", "--quarter", "2026Q4",
                                      "--party", "a", "--commitment", "0" * 64)


def test_explicit_seed_differing_from_ceremony_refused(frozen: str, tmp_path: Path) -> None:
    """--seed must equal the ceremony's seed; the same seed given explicitly is accepted."""
    ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    out = refused(frozen, "plan", "--quarter", "2026Q4", "--seed", "my-favourite-seed",
                  "--out", str(tmp_path / "a"))
    assert "differs from the ceremony seed" in out and f"dice-v1-{DIGITS}" in out
    assert not (tmp_path / "a").exists()
    ok(frozen, "plan", "--quarter", "2026Q4", "--seed", f"dice-v1-{DIGITS}", "--out",
       str(tmp_path / "b"))


def test_frozen_plan_with_command_line_seed_fails_strict(frozen: str, tmp_path: Path) -> None:
    """A frozen quarter planned with --seed and no ceremony verifies with a warning only."""
    out = ok(frozen, "plan", "--quarter", "2026Q4", "--seed", "chosen-by-hand", "--out",
             str(tmp_path / "p")).output
    assert "WARNING: the seed was given with --seed" in out
    assert "WARNING: the seed was given with --seed" in ok(frozen, "verify",
                                                            str(tmp_path / "p")).output
    assert "(--strict) the seed was given with --seed" in refused(
        frozen, "verify", "--strict", str(tmp_path / "p"))


def test_plan_without_freeze_says_so_and_fails_strict(loaded: str, tmp_path: Path) -> None:
    """A plan of a never-frozen quarter records "freeze": null; verify warns, --strict fails."""
    ok(loaded, "plan", "--quarter", "2026Q4", "--seed", "legacy-seed", "--out",
       str(tmp_path / "p"))
    assert manifest(tmp_path / "p")["freeze"] is None
    result = ok(loaded, "verify", str(tmp_path / "p"))
    assert result.output.startswith("VERIFIED")
    assert "WARNING: manifest.json: \"freeze\" is null" in result.output
    assert "cannot be shown unsteerable" in refused(loaded, "verify", "--strict",
                                                    str(tmp_path / "p"))
    assert "give --seed" in refused(loaded, "plan", "--quarter", "2026Q3", "--out",
                                    str(tmp_path / "q"))


# --- commit–reveal ---------------------------------------------------------------------


SECRETS = {"notary-office": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
           "监察室": "f00dfeedcafebabe0123456789abcdef",
           "bureau": "0123456789abcdef0123456789abcdef"}


def test_commit_reveal_derives_the_documented_seed(frozen: str, tmp_path: Path) -> None:
    """Three parties commit, close and reveal; the seed is cr-v1- + sha256 of sorted lines."""
    ok(frozen, "seed", "commit", "--quarter", "2026Q4", "--party", "notary-office",
       "--commitment", sha(SECRETS["notary-office"]).upper())
    ok(frozen, "seed", "commit", "--quarter", "2026Q4", "--party", "监察室", "--secret",
       SECRETS["监察室"])
    result = run(frozen, "seed", "commit", "--quarter", "2026Q4", "--party", "bureau",
                 "--secret", "-", stdin=SECRETS["bureau"] + "\n")
    assert result.exit_code == 0, result.output
    assert "3 commitment(s) in" in ok(frozen, "seed", "show", "--quarter", "2026Q4").output
    ok(frozen, "seed", "close", "--quarter", "2026Q4")
    ok(frozen, "seed", "reveal", "--quarter", "2026Q4", "--party", "bureau", "--secret",
       SECRETS["bureau"])
    ok(frozen, "seed", "reveal", "--quarter", "2026Q4", "--party", "监察室", "--secret",
       SECRETS["监察室"])
    last = ok(frozen, "seed", "reveal", "--quarter", "2026Q4", "--party", "notary-office",
              "--secret", SECRETS["notary-office"]).output
    message = "\n".join(f"{p}={SECRETS[p]}" for p in sorted(SECRETS))
    expected = f"cr-v1-{sha(message)}"
    assert expected in last
    assert f"seed: {expected}" in ok(frozen, "seed", "show", "--quarter", "2026Q4").output
    ok(frozen, "plan", "--quarter", "2026Q4", "--out", str(tmp_path / "p"))
    assert manifest(tmp_path / "p")["seed"] == expected
    assert ok(frozen, "verify", "--strict", str(tmp_path / "p")).output.startswith("VERIFIED")


def _commit(db_url: str, party: str) -> Result:
    return run(db_url, "seed", "commit", "--quarter", "2026Q4", "--party", party,
               "--secret", SECRETS[party])


def test_commitment_after_first_reveal_refused(frozen: str) -> None:
    """Once commitments are closed and a party revealed, a new commitment is refused."""
    for party in ("notary-office", "bureau"):
        assert _commit(frozen, party).exit_code == 0
    ok(frozen, "seed", "close", "--quarter", "2026Q4")
    ok(frozen, "seed", "reveal", "--quarter", "2026Q4", "--party", "bureau", "--secret",
       SECRETS["bureau"])
    before = events(frozen)
    out = refused(frozen, "seed", "commit", "--quarter", "2026Q4", "--party", "监察室",
                  "--secret", SECRETS["监察室"])
    assert "a commitment after the close (and so after any reveal) is refused" in out
    assert events(frozen) == before


def test_reveal_before_commitments_close_refused(frozen: str) -> None:
    """A reveal while commitments are still open is refused, pointing at `seed close`."""
    for party in ("notary-office", "bureau"):
        assert _commit(frozen, party).exit_code == 0
    out = refused(frozen, "seed", "reveal", "--quarter", "2026Q4", "--party", "bureau",
                  "--secret", SECRETS["bureau"])
    assert "still open" in out and "spotcheck seed close" in out


def test_reveal_not_matching_commitment_refused(frozen: str) -> None:
    """A secret whose sha256 is not the party's commitment is refused and not recorded."""
    for party in ("notary-office", "bureau"):
        assert _commit(frozen, party).exit_code == 0
    ok(frozen, "seed", "close", "--quarter", "2026Q4")
    before = events(frozen)
    out = refused(frozen, "seed", "reveal", "--quarter", "2026Q4", "--party", "bureau",
                  "--secret", "not-the-secret-at-all")
    assert "does not match its commitment" in out
    assert events(frozen) == before


def test_party_committing_twice_and_lone_party_refused(frozen: str) -> None:
    """A party commits once; closing needs at least two parties; names with '=' are refused."""
    assert _commit(frozen, "bureau").exit_code == 0
    assert "already committed" in refused(frozen, "seed", "commit", "--quarter", "2026Q4",
                                          "--party", "bureau", "--commitment", "1" * 64)
    assert "at least 2 parties" in refused(frozen, "seed", "close", "--quarter", "2026Q4")
    assert "without '='" in refused(frozen, "seed", "commit", "--quarter", "2026Q4",
                                    "--party", "a=b", "--commitment", "1" * 64)
    assert "dice cannot replace it" in refused(frozen, "seed", "dice", "--quarter", "2026Q4",
                                               DIGITS)
    usage = run(frozen, "seed", "commit", "--quarter", "2026Q4", "--party", "x")
    assert usage.exit_code == 2


# --- plan storage and the log ------------------------------------------------------------


def test_plan_event_recorded_with_bundle_and_rerun_adds_none(frozen: str,
                                                             tmp_path: Path) -> None:
    """The manifest's head is the plan event; an identical re-run appends no event."""
    ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    ok(frozen, "plan", "--quarter", "2026Q4", "--out", str(tmp_path / "a"))
    stored = events(frozen)
    assert stored[-1]["kind"] == "plan"
    assert manifest(tmp_path / "a")["events"]["head"] == stored[-1]["hash"]
    assert stored[-1]["payload"]["freeze"] == manifest(tmp_path / "a")["freeze"]["event"]
    ok(frozen, "plan", "--quarter", "2026Q4", "--out", str(tmp_path / "b"))
    assert events(frozen) == stored
    assert (tmp_path / "a" / "events.jsonl").read_bytes() == \
        (tmp_path / "b" / "events.jsonl").read_bytes()
    ok(frozen, "verify", "--strict", str(tmp_path / "b"))


def test_failed_commit_removes_the_bundle(frozen: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """If storing fails after the bundle was written, the bundle and the event are gone."""
    from spotcheck import store

    ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    before = events(frozen)

    def fail(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store.plans, "execute_chunks", fail)
    result = run(frozen, "plan", "--quarter", "2026Q4", "--out", str(tmp_path / "p.zip"))
    assert isinstance(result.exception, RuntimeError)
    assert not (tmp_path / "p.zip").exists()
    monkeypatch.undo()
    assert events(frozen) == before


def test_replace_records_what_it_supersedes(loaded: str, tmp_path: Path) -> None:
    """A replacing plan's event names the plan it supersedes."""
    ok(loaded, "plan", "--quarter", "2026Q4", "--seed", "first", "--out", str(tmp_path / "a"))
    ok(loaded, "plan", "--quarter", "2026Q4", "--seed", "second", "--out",
       str(tmp_path / "b"), "--replace")
    plans = [e for e in events(loaded) if e["kind"] == "plan"]
    assert plans[1]["payload"]["supersedes"] == plans[0]["payload"]["plan_id"]
    assert "supersedes" in ok(loaded, "log").output


def test_refused_import_appends_no_event(loaded: str) -> None:
    """An import refused for a bad row changes nothing, its event included."""
    before = events(loaded)
    bad = Path(__file__).parent / "data" / "bad" / "enterprises_bad_check_char.csv"
    refused(loaded, "import", "enterprises", str(bad))
    assert events(loaded) == before


def test_bundle_from_before_the_ceremony_still_verifies(tmp_path: Path,
                                                        city_scenario: Scenario) -> None:
    """A manifest without the ceremony keys verifies, warning that it was not frozen."""
    import spotcheck

    bundle = city_scenario.bundle()
    written = json.loads(bundle.files["manifest.json"])
    for key in ("freeze", "ceremony", "events", "signer"):
        del written[key]
    bundle.files["manifest.json"] = json.dumps(written).encode()
    spotcheck.write_bundle(bundle, tmp_path / "old")
    report = spotcheck.verify_bundle(tmp_path / "old")
    assert report.ok and report.warnings == [
        'manifest.json: "freeze" is null — the registry and policy were not frozen before '
        "the seed was drawn, so the draw cannot be shown unsteerable"]
    assert not spotcheck.verify_bundle(tmp_path / "old", strict=True).ok


def test_log_lists_events_of_a_quarter(frozen: str) -> None:
    """`spotcheck log` lists one line per event; --quarter keeps that quarter's."""
    ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    lines = ok(frozen, "log").output.splitlines()
    assert len(lines) == 7 and lines[0].startswith("#1 ")
    assert "tester" in lines[0] and "enterprises from enterprises.csv" in lines[0]
    quarter = ok(frozen, "log", "--quarter", "2026Q4").output.splitlines()
    assert [line.split()[3] for line in quarter] == ["freeze", "seed"]
    assert ok(frozen, "log", "verify").output.startswith("event log intact: 7 event(s)")


def test_log_verify_names_first_broken_link_after_row_edit(frozen: str) -> None:
    """An event edited in the database is named by log verify; the log then takes no more."""
    execute(frozen, "UPDATE event_log SET payload = replace(payload, :old, :new) WHERE seq = 2",
            old='"added":16', new='"added":17')
    out = refused(frozen, "log", "verify")
    assert "BROKEN event log: event #2 (import): payload_digest is not sha256" in out
    assert "event log is broken" in refused(frozen, "seed", "dice", "--quarter", "2026Q4",
                                            DIGITS)


def test_log_verify_detects_a_deleted_event(frozen: str) -> None:
    """Deleting an event row leaves a gap that log verify names."""
    execute(frozen, "DELETE FROM event_log WHERE seq = 3")
    assert "event #3 is missing: the log jumps from #2 to #4" in refused(frozen, "log",
                                                                         "verify")


# --- keys and signatures -------------------------------------------------------------------


def test_keys_init_writes_private_key_0600_and_never_overwrites(tmp_path: Path) -> None:
    """keys init writes bureau.key (0600) and bureau.pub, and refuses to overwrite them."""
    result = CliRunner().invoke(main, ["keys", "init", "--out", str(tmp_path / "k")])
    assert result.exit_code == 0, result.output
    private = tmp_path / "k" / "bureau.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in private.read_bytes()
    assert b"PUBLIC KEY" in (tmp_path / "k" / "bureau.pub").read_bytes()
    again = CliRunner().invoke(main, ["keys", "init", "--out", str(tmp_path / "k")])
    assert again.exit_code == 1 and "never overwritten" in again.output


def test_signed_plan_verifies_with_its_public_key(frozen: str, tmp_path: Path) -> None:
    """plan --key signs manifest.json; verify --pubkey accepts it and refuses unsigned."""
    assert CliRunner().invoke(main, ["keys", "init", "--out", str(tmp_path)]).exit_code == 0
    ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    signed = tmp_path / "signed.zip"
    ok(frozen, "plan", "--quarter", "2026Q4", "--out", str(signed), "--key",
       str(tmp_path / "bureau.key"))
    with zipfile.ZipFile(signed) as archive:
        names = archive.namelist()
        assert not any(b"PRIVATE" in archive.read(n) for n in names)
    assert "manifest.sig" in names
    out = ok(frozen, "verify", "--strict", "--pubkey", str(tmp_path / "bureau.pub"),
             str(signed)).output
    assert "signature: manifest.sig verifies with bureau.pub" in out
    ok(frozen, "plan", "--quarter", "2026Q4", "--out", str(tmp_path / "unsigned"))
    assert "manifest.sig is missing" in refused(frozen, "verify", "--pubkey",
                                                str(tmp_path / "bureau.pub"),
                                                str(tmp_path / "unsigned"))


def test_key_readable_by_others_is_refused(frozen: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A private key with group or world permissions is refused (SPOTCHECK_KEY too)."""
    assert CliRunner().invoke(main, ["keys", "init", "--out", str(tmp_path)]).exit_code == 0
    os.chmod(tmp_path / "bureau.key", 0o644)
    monkeypatch.setenv("SPOTCHECK_KEY", str(tmp_path / "bureau.key"))
    assert "chmod 600" in refused(frozen, "plan", "--quarter", "2026Q4", "--seed", "s",
                                  "--out", str(tmp_path / "p"))


# --- bundle zip ------------------------------------------------------------------------


def test_bundle_zip_reproduces_the_plan_zip(frozen: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """bundle zip of a folder gives plan --out X.zip's bytes and the SHA-256 plan printed."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")  # the same created_at twice
    ok(frozen, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    printed = ok(frozen, "plan", "--quarter", "2026Q4", "--out", str(tmp_path / "p")).output
    zipped = CliRunner().invoke(main, ["bundle", "zip", str(tmp_path / "p")])
    assert zipped.exit_code == 0, zipped.output
    archive = tmp_path / "p.zip"
    digest = sha(archive.read_bytes())
    assert f"SHA-256 (publish this fingerprint): {digest}" in zipped.output
    assert f"publish this fingerprint: {digest}" in printed
    direct = ok(frozen, "plan", "--quarter", "2026Q4", "--out", str(tmp_path / "d.zip"))
    assert (tmp_path / "d.zip").read_bytes() == archive.read_bytes()
    assert f"publish this fingerprint: {digest}" in direct.output
    assert ok(frozen, "verify", "--strict", "--sha256", digest, str(archive)).exit_code == 0


def test_bundle_zip_refuses_a_private_key_in_the_folder(frozen: str, tmp_path: Path) -> None:
    """A stray file such as a private key is never zipped into a bundle."""
    ok(frozen, "plan", "--quarter", "2026Q4", "--seed", "s", "--out", str(tmp_path / "p"))
    assert CliRunner().invoke(main, ["keys", "init", "--out", str(tmp_path / "p")]
                              ).exit_code == 0
    result = CliRunner().invoke(main, ["bundle", "zip", str(tmp_path / "p"),
                                       str(tmp_path / "out.zip")])
    assert result.exit_code == 1 and "bureau.key" in result.output
    assert not (tmp_path / "out.zip").exists()


# --- property: every ceremony-frozen plan verifies strictly ----------------------------------


@given(sc=scenarios(max_enterprises=40), method=st.sampled_from(("dice", "commit-reveal")),
       digits=st.text(alphabet="0123456789", min_size=20, max_size=40),
       secrets=st.lists(st.text(alphabet="0123456789abcdef", min_size=16, max_size=40),
                        min_size=2, max_size=3, unique=True))
def test_every_ceremony_frozen_plan_verifies_strictly(sc: Scenario, method: str, digits: str,
                                                      secrets: list[str]) -> None:
    """For random registries and seeds, verify --strict accepts every ceremony-frozen plan."""
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        url = f"sqlite:///{here / 'db.sqlite'}"
        store_scenario(url, sc)
        (here / "policy.toml").write_bytes(sc.policy_bytes)
        policy = ("--policy", str(here / "policy.toml"))
        ok(url, "freeze", "--quarter", sc.quarter, *policy)
        if method == "dice":
            ok(url, "seed", "dice", "--quarter", sc.quarter, digits)
        else:
            parties = [f"party-{n}" for n in range(len(secrets))]
            for party, secret in zip(parties, secrets, strict=True):
                ok(url, "seed", "commit", "--quarter", sc.quarter, "--party", party,
                   "--commitment", sha(secret))
            ok(url, "seed", "close", "--quarter", sc.quarter)
            for party, secret in zip(parties, secrets, strict=True):
                ok(url, "seed", "reveal", "--quarter", sc.quarter, "--party", party,
                   "--secret", secret)
        ok(url, "plan", "--quarter", sc.quarter, *policy, "--out", str(here / "plan.zip"))
        written = manifest(here / "plan.zip")
        assert written["freeze"] is not None and written["ceremony"]["method"] == method
        result = ok(url, "verify", "--strict", str(here / "plan.zip"))
        assert result.output.startswith("VERIFIED")
