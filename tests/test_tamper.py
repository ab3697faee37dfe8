"""The tamper matrix: every way of steering a draw after the fact is caught, by name.

A signed, ceremony-frozen plan is made once through the command line; each scenario copies
its bundle, changes it the way a forger would (forging the manifest's digests, or rewriting
the whole event chain with valid hashes), and `spotcheck verify` must fail with a message
that says what happened. The last scenarios edit the database and `spotcheck log verify`
must name the first broken link. Chains are re-hashed here with hashlib and json from
docs/CEREMONY.md, independently of the code under test.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from builders import city, store_scenario
from click.testing import CliRunner, Result
from sqlalchemy import Connection, create_engine, text

from spotcheck.cli.main import main

DIGITS = "27182818284590452353602874"
SECRETS = {"notary-office": "5f4dcc3b5aa765d61d8327deb882cf99", "bureau": "x" * 20 + "y" * 12}


def sha(value: str | bytes) -> str:
    """Return the hex SHA-256 of bytes, or of a string's UTF-8 bytes."""
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


def canonical(value: Any) -> str:
    """Return canonical JSON as docs/CEREMONY.md defines it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cli(*args: str) -> Result:
    """Run spotcheck."""
    return CliRunner().invoke(main, ["--actor", "tester", *args])


def ok(*args: str) -> Result:
    """Run spotcheck and require exit code 0."""
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result


@dataclass(frozen=True)
class Published:
    """What the bureau published: two bundles, the public key, the zip's SHA-256."""

    dice: Path
    commit_reveal: Path
    pubkey: Path
    other_key: Path
    zip_sha256: str


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """A signed dice plan and a commit–reveal plan of the city scenario, both frozen."""
    root = tmp_path_factory.mktemp("published")
    scenario = city()
    policy = root / "policy.toml"
    policy.write_bytes(scenario.policy_bytes)
    ok("keys", "init", "--out", str(root / "keys"))
    ok("keys", "init", "--out", str(root / "keys"), "--name", "intruder")
    for name in ("dice", "cr"):
        url = f"sqlite:///{root / name}.db"
        store_scenario(url, scenario)
        ok("--db", url, "freeze", "--quarter", "2026Q4", "--policy", str(policy))
        if name == "dice":
            ok("--db", url, "seed", "dice", "--quarter", "2026Q4", DIGITS)
        else:
            for party, secret in SECRETS.items():
                ok("--db", url, "seed", "commit", "--quarter", "2026Q4", "--party", party,
                   "--commitment", sha(secret))
            ok("--db", url, "seed", "close", "--quarter", "2026Q4")
            for party, secret in SECRETS.items():
                ok("--db", url, "seed", "reveal", "--quarter", "2026Q4", "--party", party,
                   "--secret", secret)
        ok("--db", url, "plan", "--quarter", "2026Q4", "--policy", str(policy), "--out",
           str(root / name), "--key", str(root / "keys" / "bureau.key"))
    ok("bundle", "zip", str(root / "dice"), str(root / "dice.zip"))
    return Published(root / "dice", root / "cr", root / "keys" / "bureau.pub",
                     root / "keys" / "intruder.key", sha((root / "dice.zip").read_bytes()))


# --- what a forger does to a bundle folder ------------------------------------------------


def rows(path: Path) -> list[list[str]]:
    """Return a CSV file's rows, header first."""
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def write_rows(path: Path, table: list[list[str]]) -> None:
    """Write rows as the bundle's canonical CSV."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def edit_manifest(bundle: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply a change to manifest.json, keeping its layout."""
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    (bundle / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        encoding="utf-8")


def forge(bundle: Path, name: str) -> None:
    """Make the manifest's digest of a file match the file (as a forger would)."""
    value = sha((bundle / name).read_bytes())

    def change(manifest: dict[str, Any]) -> None:
        if name == "events.jsonl":
            manifest["events"]["sha256"] = value
        else:
            manifest["inputs" if name in manifest["inputs"] else "outputs"][name] = value
    edit_manifest(bundle, change)


def read_events(bundle: Path) -> list[dict[str, Any]]:
    """Return the bundle's events."""
    return [json.loads(line) for line in (bundle / "events.jsonl").read_text("utf-8").split("\n")
            if line]


def write_events(bundle: Path, events: list[dict[str, Any]], *, rehash: bool) -> None:
    """Write events.jsonl; with `rehash`, renumber and re-chain every event with valid
    hashes (times kept in order) and point the manifest at the new head."""
    if rehash:
        times = sorted(e["at"] for e in events)
        prev = "0" * 64
        for seq, (event, at) in enumerate(zip(events, times, strict=True), start=1):
            event.update(seq=seq, at=at, prev=prev,
                         payload_digest=sha(canonical(event["payload"])))
            event["hash"] = sha(canonical({k: event[k] for k in (
                "seq", "at", "actor", "kind", "payload_digest", "prev")}))
            prev = event["hash"]
    (bundle / "events.jsonl").write_text("".join(canonical(e) + "\n" for e in events),
                                         encoding="utf-8")

    def change(manifest: dict[str, Any]) -> None:
        manifest["events"].update(head=events[-1]["hash"], count=len(events))
    edit_manifest(bundle, change)
    forge(bundle, "events.jsonl")


def kind_index(events: list[dict[str, Any]], kind: str) -> int:
    """Return the position of the first event of a kind."""
    return next(i for i, e in enumerate(events) if e["kind"] == kind)


# --- the scenarios -------------------------------------------------------------------------


def draw_row_edited(b: Path, p: Published) -> list[str]:
    """Change the ticket written for the first draw."""
    table = rows(b / "draws.csv")
    table[1][4] = "0" * 64
    write_rows(b / "draws.csv", table)
    forge(b, "draws.csv")
    return [f"draws.csv: the ticket of {table[1][3]} for task {table[1][0]} is not sha256"]


def draw_row_removed(b: Path, p: Published) -> list[str]:
    """Delete the last draw."""
    table = rows(b / "draws.csv")
    write_rows(b / "draws.csv", table[:-1])
    forge(b, "draws.csv")
    return [f"enterprise_id={table[-1][3]}", "the seed draws it but the bundle does not list it"]


def draw_row_added(b: Path, p: Published) -> list[str]:
    """Add an enterprise the seed does not draw, with its true draw-v1 ticket."""
    table = rows(b / "draws.csv")
    task, tier, place, _, _, rank = table[-1]
    drawn = {r[3] for r in table[1:] if r[0] == task}
    extra = next(r[0] for r in rows(b / "inputs/enterprises.csv")[1:]
                 if (r[4], r[2]) == (tier, place) and r[0] not in drawn)
    seed_hash = json.loads((b / "manifest.json").read_text("utf-8"))["seed_hash"]
    ticket = sha(f"draw-v1:{seed_hash}:2026Q4:{task}:{extra}")
    write_rows(b / "draws.csv", [*table, [task, tier, place, extra, ticket, str(int(rank) + 1)]])
    forge(b, "draws.csv")
    return [f"enterprise_id={extra}", "is recorded as drawn but the seed does not draw it"]


def inspector_swapped(b: Path, p: Published) -> list[str]:
    """Put another officer of the department on the first team."""
    table = rows(b / "assignments.csv")
    enterprise, department, _, _ = table[1]
    team = {r[2] for r in table[1:] if (r[0], r[1]) == (enterprise, department)}
    other = next(r[0] for r in rows(b / "inputs/inspectors.csv")[1:]
                 if r[2] == department and r[0] not in team)
    table[1][2] = other
    write_rows(b / "assignments.csv", table)
    forge(b, "assignments.csv")
    return [f"assignments.csv: the team for enterprise {enterprise}", other]


def cost_edited(b: Path, p: Published) -> list[str]:
    """Lower the cost written for the first officer on the first visit."""
    table = rows(b / "assignments.csv")
    table[1][3] = str(int(table[1][3]) - 1)
    write_rows(b / "assignments.csv", table)
    forge(b, "assignments.csv")
    return [f"the cost of {table[1][2]} on {table[1][0]} is not its assign-v2 value"]


def assign_rule_switched(b: Path, p: Published) -> list[str]:
    """Claim the teams were priced by assign-v1, the rule of older bundles."""
    def change(manifest: dict[str, Any]) -> None:
        manifest["algorithms"]["assign"] = "assign-v1"
    edit_manifest(b, change)
    return ["does not follow from the inputs and seed", "is not its assign-v1 value"]


def seed_changed(b: Path, p: Published) -> list[str]:
    """Replace the seed (and, consistently, its hash) by one the forger prefers."""
    def change(manifest: dict[str, Any]) -> None:
        manifest["seed"] = "dice-v1-" + "9" * 26
        manifest["seed_hash"] = sha(manifest["seed"])
    edit_manifest(b, change)
    return ["is not the ceremony seed recorded in event #", DIGITS]


def input_edited_after_freeze(b: Path, p: Published) -> list[str]:
    """Move an enterprise to another tier and forge the input digest."""
    table = rows(b / "inputs/enterprises.csv")
    table[1][4] = "D" if table[1][4] != "D" else "C"
    write_rows(b / "inputs/enterprises.csv", table)
    forge(b, "inputs/enterprises.csv")
    return ["inputs/enterprises.csv differs from the digest frozen in event #",
            "the input file was changed after the freeze"]


def policy_edited_after_freeze(b: Path, p: Published) -> list[str]:
    """Raise a ratio in policy.toml and forge its digest and the parsed policy."""
    policy = (b / "policy.toml").read_text("utf-8")
    (b / "policy.toml").write_text(policy.replace("ratio = 0.6\n", "ratio = 0.65\n"), "utf-8")
    forge(b, "policy.toml")
    edit_manifest(b, lambda m: m["policy"]["tiers"]["D"].__setitem__("ratio", "0.65"))
    return ["policy.toml differs from the digest frozen in event #",
            "the policy was changed after the freeze"]


def event_deleted(b: Path, p: Published) -> list[str]:
    """Delete the second event (an import) from events.jsonl."""
    events = read_events(b)
    write_events(b, events[:1] + events[2:], rehash=False)
    return ["events.jsonl: event #2 is missing: the log jumps from #1 to #3"]


def events_reordered(b: Path, p: Published) -> list[str]:
    """Swap the third and fourth events."""
    events = read_events(b)
    events[2], events[3] = events[3], events[2]
    write_events(b, events, rehash=False)
    return ["events.jsonl: event #3 is out of order: event #4 comes before it"]


def event_edited(b: Path, p: Published) -> list[str]:
    """Edit the frozen digest of the enterprises in the freeze event."""
    events = read_events(b)
    freeze = events[kind_index(events, "freeze")]
    freeze["payload"]["inputs"]["inputs/enterprises.csv"] = "f" * 64
    write_events(b, events, rehash=False)
    return [f"event #{freeze['seq']} (freeze): payload_digest is not sha256 of its payload"]


def plan_made_before_freeze(b: Path, p: Published) -> list[str]:
    """Rewrite the chain so the freeze comes after the plan (a plan frozen afterwards)."""
    events = read_events(b)
    freeze = events.pop(kind_index(events, "freeze"))
    events.append(freeze)  # ... seed, plan, freeze
    seed, plan = events[-3], events[-2]
    for event in (seed, plan):
        event["payload"]["freeze"] = len(events)
    plan["payload"]["seed_event"] = len(events) - 2
    write_events(b, events, rehash=True)

    def change(manifest: dict[str, Any]) -> None:
        manifest["freeze"]["event"] = len(events)
        manifest["ceremony"]["event"] = len(events) - 2
    edit_manifest(b, change)
    return [f"comes after the plan (event #{len(events) - 1} (plan)): the plan was made "
            "before its freeze"]


def seed_recorded_before_freeze(b: Path, p: Published) -> list[str]:
    """Rewrite the chain so the dice seed was recorded before the freeze."""
    events = read_events(b)
    at = kind_index(events, "freeze")
    events[at], events[at + 1] = events[at + 1], events[at]  # seed, freeze
    seed_seq, freeze_seq = at + 1, at + 2
    events[at]["payload"]["freeze"] = freeze_seq
    events[-1]["payload"].update(freeze=freeze_seq, seed_event=seed_seq)
    write_events(b, events, rehash=True)

    def change(manifest: dict[str, Any]) -> None:
        manifest["freeze"]["event"] = freeze_seq
        manifest["ceremony"]["event"] = seed_seq
    edit_manifest(b, change)
    return [f"event #{seed_seq} (seed) comes before any freeze of 2026Q4",
            f"the seed in manifest.json was recorded in event #{seed_seq} (seed), before the "
            f"freeze (event #{freeze_seq} (freeze))"]


def reveal_not_matching_commitment(b: Path, p: Published) -> list[str]:
    """Rewrite a commit–reveal chain with another secret in the bureau's reveal."""
    events = read_events(b)
    reveal = next(e for e in events if e["kind"] == "reveal"
                  and e["payload"]["party"] == "bureau")
    reveal["payload"]["secret"] = "z" * 32
    write_events(b, events, rehash=True)
    return [f"event #{reveal['seq']} (reveal): the secret of party bureau does not match its "
            "commitment"]


def signed_by_another_key(b: Path, p: Published) -> list[str]:
    """Re-sign the manifest with another key, naming that key as signer."""
    from cryptography.hazmat.primitives import serialization

    key: Any = serialization.load_pem_private_key(p.other_key.read_bytes(), password=None)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    edit_manifest(b, lambda m: m.__setitem__("signer", sha(raw)))
    signature = key.sign((b / "manifest.json").read_bytes())
    (b / "manifest.sig").write_bytes(base64.b64encode(signature) + b"\n")
    return ["manifest.sig is from another key"]


def manifest_edited_after_signing(b: Path, p: Published) -> list[str]:
    """Change the manifest's creation time after it was signed."""
    edit_manifest(b, lambda m: m.__setitem__("created_at", "2020-01-01T00:00:00Z"))
    return ["manifest.sig does not verify with bureau.pub"]


def signature_removed(b: Path, p: Published) -> list[str]:
    """Delete manifest.sig."""
    (b / "manifest.sig").unlink()
    return ["manifest.sig is missing: the bundle is not signed"]


def freeze_claim_removed(b: Path, p: Published) -> list[str]:
    """Say the plan had no freeze (to hide which freeze it used)."""
    def change(manifest: dict[str, Any]) -> None:
        manifest["freeze"] = None
        manifest["ceremony"] = None
    edit_manifest(b, change)
    return ["names freeze #", "but manifest.json says \"freeze\": null"]


def rezipped_with_changed_file(b: Path, p: Published) -> list[str]:
    """Drop a skipped row and re-zip the bundle byte-reproducibly: another SHA-256."""
    table = rows(b / "skipped.csv")
    assert len(table) > 1
    write_rows(b / "skipped.csv", table[:-1])
    forge(b, "skipped.csv")
    ok("bundle", "zip", str(b), str(b.with_suffix(".zip")))
    return [f"not the published {p.zip_sha256}", "skipped.csv"]


@dataclass(frozen=True)
class Tamper:
    """One scenario: which bundle, what is changed, how verify is called."""

    change: Callable[[Path, Published], list[str]]
    bundle: str = "dice"
    signed_check: bool = False
    zipped: bool = False


MATRIX = [
    Tamper(draw_row_edited), Tamper(draw_row_removed), Tamper(draw_row_added),
    Tamper(inspector_swapped), Tamper(cost_edited), Tamper(assign_rule_switched),
    Tamper(seed_changed),
    Tamper(input_edited_after_freeze), Tamper(policy_edited_after_freeze),
    Tamper(event_deleted), Tamper(events_reordered), Tamper(event_edited),
    Tamper(plan_made_before_freeze), Tamper(seed_recorded_before_freeze),
    Tamper(reveal_not_matching_commitment, bundle="cr"),
    Tamper(signed_by_another_key, signed_check=True),
    Tamper(manifest_edited_after_signing, signed_check=True),
    Tamper(signature_removed, signed_check=True),
    Tamper(freeze_claim_removed),
    Tamper(rezipped_with_changed_file, zipped=True),
]


def test_published_bundles_verify_strictly(published: Published) -> None:
    """Untouched, both bundles pass verify --strict with the key and the zip's fingerprint."""
    for bundle in (published.dice, published.commit_reveal):
        result = ok("verify", "--strict", "--pubkey", str(published.pubkey), str(bundle))
        assert result.output.startswith("VERIFIED") and "WARNING" not in result.output
    zipped = published.dice.with_suffix(".zip")
    ok("verify", "--strict", "--sha256", published.zip_sha256, str(zipped))


@pytest.mark.parametrize("tamper", MATRIX, ids=lambda t: t.change.__name__)
def test_tamper_is_detected_by_name(published: Published, tmp_path: Path,
                                    tamper: Tamper) -> None:
    """The tampered bundle fails verify (exit 1) with a message naming the tamper."""
    source = published.dice if tamper.bundle == "dice" else published.commit_reveal
    bundle = tmp_path / "bundle"
    shutil.copytree(source, bundle)
    expected = tamper.change(bundle, published)
    args = ["--pubkey", str(published.pubkey)] if tamper.signed_check else []
    if tamper.zipped:
        args += ["--sha256", published.zip_sha256]
        bundle = bundle.with_suffix(".zip")
    result = cli("verify", *args, str(bundle))
    assert result.exit_code == 1, result.output
    assert result.output.startswith("NOT VERIFIED")
    for fragment in expected:
        assert fragment in result.output, result.output


# --- the database: log verify ----------------------------------------------------------------


def edit_actor(conn: Connection) -> None:
    """Change who appended event #3."""
    conn.execute(text("UPDATE event_log SET actor = 'someone-else' WHERE seq = 3"))


def delete_event(conn: Connection) -> None:
    """Delete event #3."""
    conn.execute(text("DELETE FROM event_log WHERE seq = 3"))


def swap_events(conn: Connection) -> None:
    """Swap the contents of events #3 and #4, keeping their sequence numbers."""
    stored = {r.seq: dict(r._mapping) for r in conn.execute(
        text("SELECT * FROM event_log WHERE seq IN (3, 4)"))}
    conn.execute(text("DELETE FROM event_log WHERE seq IN (3, 4)"))
    for seq, other in ((3, 4), (4, 3)):
        conn.execute(text("INSERT INTO event_log (seq, at, actor, kind, payload, "
                          "payload_digest, prev, hash) VALUES (:seq, :at, :actor, :kind, "
                          ":payload, :payload_digest, :prev, :hash)"),
                     {**stored[other], "seq": seq})


def edit_seed(conn: Connection) -> None:
    """Change the dice digits recorded in the seed event (#7)."""
    conn.execute(text("UPDATE event_log SET payload = replace(payload, :old, :new) "
                      "WHERE seq = 7"), {"old": DIGITS, "new": "9" * len(DIGITS)})


@pytest.mark.parametrize("edit, fragment", [
    (edit_actor, "event #3 (import): its hash is not sha256 of its fields — the event was "
                 "edited"),
    (delete_event, "event #3 is missing: the log jumps from #2 to #4 — an event was deleted"),
    (swap_events, "event #3 (import): its hash is not sha256 of its fields"),
    (edit_seed, "event #7 (seed): payload_digest is not sha256 of its payload"),
], ids=lambda v: v.__name__ if callable(v) else "")
def test_database_tamper_named_by_log_verify(db_url: str, edit: Callable[[Connection], None],
                                             fragment: str) -> None:
    """An event row edited, deleted or swapped in the database: log verify names the link."""
    store_scenario(db_url, city())
    ok("--db", db_url, "freeze", "--quarter", "2026Q4")
    ok("--db", db_url, "seed", "dice", "--quarter", "2026Q4", DIGITS)
    assert ok("--db", db_url, "log", "verify").output.startswith("event log intact: 7")
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as conn:
        edit(conn)
    engine.dispose()
    result = cli("--db", db_url, "log", "verify")
    assert result.exit_code == 1, result.output
    assert f"BROKEN event log: {fragment}" in result.output
