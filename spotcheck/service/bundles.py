"""Work on audit bundles and keys that needs no database: verify, explain, zip, keys, demo."""

from __future__ import annotations

import shutil
from pathlib import Path

from spotcheck.audit.explain import explain_enterprise, explain_inspector
from spotcheck.audit.signing import generate_keys, key_fingerprint, load_public_key
from spotcheck.audit.substitutions import check_substitutions, plan_substitutions
from spotcheck.audit.verify import VerificationReport, verify_bundle
from spotcheck.demo import DEMO_QUARTER, DEMO_SEED, synthetic_city
from spotcheck.errors import InvalidInputError, SpotcheckError
from spotcheck.formats.archive import read_on_trust
from spotcheck.formats.bundle import (
    build_bundle,
    bundle_fingerprint,
    read_bundle,
    write_bundle,
    zip_folder,
)
from spotcheck.limits import EVENTS_BYTES, read_bounded
from spotcheck.models.events import Event, parse_events_jsonl
from spotcheck.models.policy import load_policy
from spotcheck.scheduler.plan import plan_quarter
from spotcheck.service.demo_results import demo_notice, demo_with_results
from spotcheck.service.planning import created_at_now, review
from spotcheck.service.progress import Progress
from spotcheck.service.results import DemoResult, Explanation, KeyPair, ZippedBundle

PathLike = str | Path


def _log(path: PathLike) -> list[Event]:
    source = Path(path)
    data = read_bounded(source, EVENTS_BYTES, "event log", InvalidInputError)
    return parse_events_jsonl(data, source.name)


def verify(bundle: PathLike, *, strict: bool = False, pubkey: PathLike | None = None,
           sha256: str | None = None, events: PathLike | None = None,
           progress: Progress | None = None) -> VerificationReport:
    """Reproduce a plan from its audit bundle alone; `.ok` only if everything matches.

    `strict`: warnings fail too. `pubkey`: manifest.sig must verify with this public key.
    `sha256`: the bundle must have exactly this published fingerprint. `events`: the
    event log (`spotcheck log --jsonl`) whose substitutes of this plan are checked too.
    """
    progress = progress or Progress()
    report = verify_bundle(bundle, strict=strict, pubkey=pubkey, sha256=sha256,
                           on_stage=progress.stage)
    if events is not None:
        checked = check_substitutions(read_bundle(bundle), _log(events))
        report.mismatches += checked.mismatches
        report.notes += [*checked.notes, f"substitutes: {len(checked.substitutions)} checked "
                                          "against the event log"]
    progress.finish()
    return report


def explain(bundle: PathLike, *, enterprise_id: str | None = None,
            inspector_id: str | None = None, events: PathLike | None = None) -> Explanation:
    """Say why an enterprise was or was not drawn and who its team is, or an officer's visits.

    Give exactly one of `enterprise_id` and `inspector_id`. With `events` (the event log),
    the substitutes recorded since the plan are shown too.
    """
    with read_on_trust(bundle):
        said = _explain(bundle, enterprise_id, inspector_id)
        if events is None:
            return said
        subs = plan_substitutions(_log(events), str(read_bundle(bundle).manifest.get("plan_id")))
        mine = [s for s in subs
                if said.id in (s["enterprise_id"], s["replaced"], s["substitute"])]
        lines = [f"substitute (event #{s['seq']}): {s['replaced']} → {s['substitute']} on "
                 f"{s['enterprise_id']} ({s['department']}), {s['reason']}; the cheapest lawful "
                 f"officer with capacity left (cost {s['cost']}), "
                 f"{len(s.get('passed_over', []))} cheaper passed over" for s in mine]
    return Explanation(said.bundle, said.subject, said.id,
                       (*said.lines, *(lines or ["no substitute recorded since the plan"])))


def _explain(bundle: PathLike, enterprise_id: str | None,
             inspector_id: str | None) -> Explanation:
    if (enterprise_id is None) == (inspector_id is None):
        raise SpotcheckError("give either an enterprise id or an inspector id")
    if inspector_id is not None:
        return Explanation(Path(bundle), "inspector", inspector_id,
                           tuple(explain_inspector(bundle, inspector_id)))
    assert enterprise_id is not None
    return Explanation(Path(bundle), "enterprise", enterprise_id,
                       tuple(explain_enterprise(bundle, enterprise_id)))


def zip_bundle(folder: PathLike, out: PathLike | None = None) -> ZippedBundle:
    """Zip a bundle folder byte-reproducibly (default FOLDER.zip); return it and its SHA-256."""
    source = Path(folder)
    written = zip_folder(source, Path(out) if out else source.with_name(f"{source.name}.zip"))
    return ZippedBundle(written, bundle_fingerprint(written))


def make_keys(folder: PathLike = ".", name: str = "bureau") -> KeyPair:
    """Write a new Ed25519 key pair NAME.key (mode 0600) and NAME.pub; never overwrite."""
    private, public = generate_keys(folder, name)
    return KeyPair(private, public, key_fingerprint(load_public_key(public)))


def demo(out: PathLike = "spotcheck-demo", enterprises: int = 200_000, *,
         progress: Progress | None = None, with_results: bool = False,
         db: str | None = None) -> DemoResult:
    """Plan a quarter for a synthetic city with the shipped policy, write and verify its bundle,
    and publish its plan notice and drawn list into OUT-public.

    A bundle already at `out` (a folder with manifest.json) is replaced, and so is OUT-public.
    `with_results`: the city is stored and planned in the database `db` (default
    `$SPOTCHECK_DB`, else sqlite:///spotcheck.db; it must hold nothing but an earlier demo),
    and results simulated from planted finding rates are imported (files in OUT-results) and
    partly published, so that `spotcheck report` has a quarter to show.
    """
    target, progress = Path(out), progress or Progress()
    if with_results:
        return demo_with_results(target, enterprises, db, progress)
    if target.exists() and (target / "manifest.json").exists():
        shutil.rmtree(target)
    policy, policy_bytes = load_policy()
    progress.stage("synthetic city")
    registry = synthetic_city(enterprises)
    progress.stage("done")
    plan = plan_quarter(registry, policy, DEMO_QUARTER, DEMO_SEED,
                        on_stage=progress.stages("plan"), advise_shortfall=True)
    progress.stage("bundle")
    bundle = build_bundle(plan, registry, policy_bytes, created_at=created_at_now())
    written = write_bundle(bundle, target)
    progress.stage("done")
    report = verify_bundle(written, on_stage=progress.stages("verify"))
    public = demo_notice(written)
    progress.finish()
    return DemoResult(enterprises, DEMO_QUARTER, DEMO_SEED, written, public, report, plan,
                      registry, capacity=review(plan, registry))
