"""verify_bundle: reproduce a plan from its audit bundle alone and say what does not match."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from spotcheck.audit.provenance import check_provenance
from spotcheck.errors import SpotcheckError
from spotcheck.formats.bundle import (
    BUNDLE_FILES,
    FORMAT,
    HEADERS,
    INPUT_FILES,
    OPTIONAL_INPUT_FILES,
    OPTIONAL_OUTPUT_FILES,
    SIGNATURE_FILE,
    Bundle,
    bundle_fingerprint,
    digest,
    input_names,
    noncanonical_inputs,
    output_files,
    output_names,
    plan_identifier,
    read_bundle,
    read_table,
    registry_from_bundle,
)
from spotcheck.models.policy import Policy, parse_policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler import experts as expert_rule
from spotcheck.scheduler import workload
from spotcheck.scheduler.costs import PairCosts
from spotcheck.scheduler.draw import ticket_hex
from spotcheck.scheduler.fasthash import digests
from spotcheck.scheduler.hashes import (
    ASSIGN_RULES,
    DRAW,
    ROUND,
    algorithms,
    normalise_seed,
    sha256_hex,
    ticket_prefix,
)
from spotcheck.scheduler.network import StaffingProblem, contains
from spotcheck.scheduler.optimality import certify
from spotcheck.scheduler.plan import Plan, StageHook, plan_quarter
from spotcheck.scheduler.staffing import StaffingRules, officer_problem

_SHOWN = 10


@dataclass
class VerificationReport:
    """The verdict on one bundle: every mismatch in words, warnings, and what was checked.

    Warnings say what the bundle cannot show (no freeze, a seed not drawn by a ceremony);
    they fail the verdict only when `strict`.
    """

    path: str
    mismatches: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    plan_id: str = ""
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    strict: bool = False

    @property
    def ok(self) -> bool:
        """Return True when everything reproduced (and, if strict, nothing was warned)."""
        return not self.mismatches and not (self.strict and self.warnings)

    def lines(self) -> list[str]:
        """Return the verdict as lines for a planner or auditor."""
        if self.ok:
            shown = ", ".join(f"{k} {v}" for k, v in self.counts.items())
            return [f"VERIFIED {self.path} (plan {self.plan_id}): {shown}",
                    *(f"WARNING: {w}" for w in self.warnings), *self.notes]
        if self.strict:
            problems = [*self.mismatches, *(f"(--strict) {w}" for w in self.warnings)]
            return [f"NOT VERIFIED {self.path}: {len(problems)} problem(s)",
                    *(f"  - {m}" for m in problems), *self.notes]
        return [f"NOT VERIFIED {self.path}: {len(self.mismatches)} problem(s)",
                *(f"  - {m}" for m in self.mismatches),
                *(f"WARNING: {w}" for w in self.warnings), *self.notes]


class _Stop(Exception):
    """Raised inside verification when nothing further can be checked."""


def _no_stage(stage: str) -> None:
    return None


def verify_bundle(path: str | Path, *, strict: bool = False, pubkey: str | Path | None = None,
                  sha256: str | None = None,
                  on_stage: StageHook = _no_stage) -> VerificationReport:
    """Return the verification report of the bundle at `path` (a folder or .zip).

    `strict`: warnings fail too (no freeze, no ceremony seed, files the manifest does not
    cover). `pubkey`: manifest.sig must verify with this Ed25519 public key (PEM).
    `sha256`: the published fingerprint the bundle's SHA-256 must equal. `on_stage(name)`
    is called as each phase starts ("read", then plan_quarter's stages, "teams",
    "optimality", "done"), for progress reports only.
    """
    report = VerificationReport(str(path), strict=strict)
    try:
        on_stage("read")
        if sha256 is not None:
            actual = bundle_fingerprint(path)
            if actual != sha256.strip().lower():
                report.mismatches.append(f"the bundle's SHA-256 is {actual}, not the published "
                                         f"{sha256.strip().lower()}: this is not the bundle "
                                         "that was published")
        bundle = read_bundle(path)
        _check_signature(bundle, pubkey, report)
        strangers = sorted(set(bundle.files) - BUNDLE_FILES)
        if strangers:
            report.warnings.append(f"{', '.join(strangers)}: not part of an audit bundle and "
                                   "not covered by manifest.json")
        _verify(bundle, report, on_stage)
    except _Stop:
        pass
    except SpotcheckError as exc:
        report.mismatches.append(str(exc))
    on_stage("done")
    return report


def _check_signature(bundle: Bundle, pubkey: str | Path | None,
                     report: VerificationReport) -> None:
    signature = bundle.files.get(SIGNATURE_FILE)
    if pubkey is None:
        if signature is not None:
            report.notes.append(f"note: {SIGNATURE_FILE} present; pass --pubkey to check it")
        return
    from spotcheck.audit.signing import check_signature, load_public_key

    try:
        signer = bundle.manifest.get("signer")
    except SpotcheckError:
        signer = None
    problem = check_signature(bundle.files["manifest.json"], signature,
                              load_public_key(pubkey), signer, Path(pubkey).name)
    if problem:
        report.mismatches.append(problem)
    else:
        report.notes.append(f"signature: {SIGNATURE_FILE} verifies with {Path(pubkey).name}")


def _verify(bundle: Bundle, report: VerificationReport, on_stage: StageHook) -> None:
    fail = report.mismatches.append
    try:
        manifest: dict[str, Any] = bundle.manifest
    except (ValueError, UnicodeDecodeError) as exc:
        fail(f"manifest.json is not valid JSON: {exc}")
        raise _Stop from exc
    if not isinstance(manifest, dict):
        fail("manifest.json is not a JSON object")
        raise _Stop
    for part in ("inputs", "outputs", "counts", "policy"):
        if not isinstance(manifest.get(part), dict):
            fail(f"manifest.json: {part!r} is missing or not an object")
            manifest[part] = {}
    if manifest.get("format") != FORMAT:
        fail(f"manifest.json: format is {manifest.get('format')!r}, expected {FORMAT!r}")
        raise _Stop
    rule = _assign_rule(manifest, fail)
    report.plan_id = str(manifest.get("plan_id", ""))
    seed = str(manifest.get("seed", ""))
    try:
        seed = normalise_seed(seed)
        quarter = Quarter.parse(str(manifest.get("quarter", "")))
    except SpotcheckError as exc:
        fail(f"manifest.json: {exc}")
        raise _Stop from exc
    if sha256_hex(seed) != manifest.get("seed_hash"):
        fail("manifest.json: seed_hash is not sha256 of the seed — the seed or its hash was "
             "changed")

    recorded = manifest.get("inputs", {})
    for name in (*INPUT_FILES, *(n for n in OPTIONAL_INPUT_FILES
                                 if n in bundle.files or n in recorded)):
        if name not in bundle.files:
            fail(f"{name} is missing from the bundle")
        elif recorded.get(name) != digest(bundle.files[name]):
            fail(f"{name} does not match the digest recorded in manifest.json: the file was "
                 "changed after the plan was made")
    if report.mismatches and any(n not in bundle.files for n in INPUT_FILES):
        raise _Stop
    try:
        policy = parse_policy(bundle.files["policy.toml"].decode("utf-8-sig"), "policy.toml")
    except (SpotcheckError, UnicodeDecodeError) as exc:
        fail(f"policy.toml cannot be read: {exc}")
        raise _Stop from exc
    if manifest.get("policy") != policy.as_manifest():
        fail("manifest.json: the parsed policy recorded there differs from policy.toml")
    if "assign" in policy.model_fields_set and policy.assign != rule:
        fail(f"policy.toml sets assign = {policy.assign!r}, but manifest.json says the teams "
             f"were priced by {rule}")
    _check_optional_files(bundle, policy, fail)
    try:
        registry = registry_from_bundle(bundle)
    except (SpotcheckError, ValidationError, ValueError, IndexError) as exc:
        fail(f"the input files cannot be read: {exc}")
        raise _Stop from exc
    for name in noncanonical_inputs(registry, bundle.files, policy):
        fail(f"{name} is not in canonical form (order, quoting or duplicates changed)")
    expected_id = plan_identifier(str(quarter), sha256_hex(seed),
                                  {n: digest(bundle.files.get(n, b""))
                                   for n in input_names(policy)}, rule)
    if manifest.get("plan_id") != expected_id:
        fail(f"manifest.json: plan_id {manifest.get('plan_id')!r} does not follow from the "
             f"inputs and seed (expected {expected_id!r})")
    found = check_provenance(bundle, manifest, str(quarter), seed)
    report.mismatches += found.mismatches
    report.warnings += found.warnings

    plan = _reproduce(bundle, registry, policy, quarter, seed, rule, on_stage)
    reproduced = output_files(plan)
    for name in output_names(policy):
        if name not in bundle.files:
            fail(f"{name} is missing from the bundle")
            continue
        if bundle.files[name] != reproduced[name]:
            _explain_difference(name, bundle.files[name], reproduced[name], fail)
        if manifest.get("outputs", {}).get(name) != digest(bundle.files[name]):
            fail(f"{name} does not match the digest recorded in manifest.json")

    on_stage("teams")
    if "draws.csv" in bundle.files:
        _check_tickets(bundle, plan.seed_hash, str(quarter), fail)
    caps = _check_workload(manifest, plan, registry, fail)
    if "assignments.csv" in bundle.files and "visits.csv" in bundle.files:
        _check_teams(bundle, registry, policy, quarter, plan.seed_hash, rule, fail, caps)
    if plan.expert_network is not None and "experts.csv" in bundle.files:
        _check_experts(bundle, registry, plan, fail)
    on_stage("optimality")
    _check_optimal(plan.staffing, plan, fail)
    report.counts = {"strata": len(plan.strata), "draws": len(plan.draws),
                     "skipped": len(plan.skipped), "visits": len(plan.visits),
                     "assignments": len(plan.assignments)}
    counts = manifest.get("counts", {})
    for key, value in report.counts.items():
        if counts.get(key) != value:
            fail(f"manifest.json: counts.{key} is {counts.get(key)!r}, the plan has {value}")


def _assign_rule(manifest: dict[str, Any], fail: Any) -> str:
    """Return the assign rule the manifest names (the bundle is checked by its own rule),
    stopping unless its algorithms are ones this software implements."""
    recorded = manifest.get("algorithms")
    rule = recorded.get("assign") if isinstance(recorded, dict) else None
    if rule not in ASSIGN_RULES or recorded != algorithms(str(rule)):
        fail(f"manifest.json: algorithms {recorded} are not {ROUND}, {DRAW} and one of "
             f"{', '.join(ASSIGN_RULES)}, the algorithms this software reproduces")
        raise _Stop
    return str(rule)


def _reproduce(bundle: Bundle, registry: Registry, policy: Policy, quarter: Quarter, seed: str,
               rule: str, on_stage: StageHook) -> Plan:
    """Return the plan the seed gives under the bundle's assign rule, checking the bundle's
    teams rather than solving.

    The written teams are taken when they are lawful, within capacity and proven the
    minimum-cost staffing (no solver needed); otherwise the plan is solved afresh, so the
    difference can be shown team by team.
    """
    teams: dict[tuple[str, str], list[str]] = defaultdict(list)
    try:
        for row in read_table("assignments.csv", bundle.files.get("assignments.csv", b"")):
            teams[(row[0], row[1])].append(row[2])
        return plan_quarter(registry, policy, quarter, seed, on_stage=on_stage, teams=teams,
                            assign=rule)
    except SpotcheckError:  # TeamsNotOptimal, or an unreadable assignments.csv
        return plan_quarter(registry, policy, quarter, seed, on_stage=on_stage, assign=rule)


def _explain_difference(name: str, written: bytes, expected: bytes, fail: Any) -> None:
    ours, theirs = read_table(name, written), read_table(name, expected)
    if name == "assignments.csv":
        teams: dict[tuple[str, str], list[set[str]]] = defaultdict(lambda: [set(), set()])
        for row in ours:
            teams[(row[0], row[1])][0].add(row[2])
        for row in theirs:
            teams[(row[0], row[1])][1].add(row[2])
        shown = 0
        for (enterprise, department), (have, want) in sorted(teams.items()):
            if have != want:
                shown += 1
                if shown <= _SHOWN:
                    fail(f"assignments.csv: the team for enterprise {enterprise} (department "
                         f"{department}) is {', '.join(sorted(have)) or 'missing'} in the "
                         f"bundle; the seed gives {', '.join(sorted(want)) or 'no visit'}")
        if shown == 0:
            fail("assignments.csv: the teams match but a cost or the row order was changed")
        elif shown > _SHOWN:
            fail(f"assignments.csv: {shown - _SHOWN} more team(s) differ")
        return
    header = HEADERS[name]
    extra = sorted(set(ours) - set(theirs))
    missing = sorted(set(theirs) - set(ours))
    if not extra and not missing:
        fail(f"{name}: the rows match but their order or format was changed")
        return

    def show(row: tuple[str, ...]) -> str:
        return ", ".join(f"{h}={v}" for h, v in zip(header, row, strict=False))

    what = {"draws.csv": ("is recorded as drawn but the seed does not draw it",
                          "the seed draws it but the bundle does not list it"),
            "skipped.csv": ("is recorded as skipped but should not be",
                            "should be recorded as skipped but is not")}
    in_bundle, in_seed = what.get(name, ("is in the bundle but does not reproduce",
                                         "is reproduced but missing from the bundle"))
    for row in extra[:_SHOWN]:
        fail(f"{name}: {show(row)} — {in_bundle}")
    for row in missing[:_SHOWN]:
        fail(f"{name}: {show(row)} — {in_seed}")
    hidden = max(0, len(extra) - _SHOWN) + max(0, len(missing) - _SHOWN)
    if hidden:
        fail(f"{name}: {hidden} more differing row(s)")


def _check_tickets(bundle: Bundle, seed_digest: str, quarter: str, fail: Any) -> None:
    rows = read_table("draws.csv", bundle.files["draws.csv"])
    bad: list[tuple[str, ...]] = []
    for task in sorted({row[0] for row in rows}):
        mine = [row for row in rows if row[0] == task]
        ids = np.array([row[3].encode() for row in mine], dtype=np.bytes_)
        tickets = digests(ticket_prefix(seed_digest, quarter, task), ids)
        written = [row[4] for row in mine]
        bad += [row for row, made, text in zip(mine, ticket_hex(tickets), written, strict=True)
                if made != text]
    for row in sorted(bad)[:_SHOWN]:
        fail(f"draws.csv: the ticket of {row[3]} for task {row[0]} is not sha256 of its "
             "draw-v1 string")


def _written_costs_agree(seed_digest: str, quarter: str, rule: str,
                         rows: list[tuple[str, ...]]) -> np.ndarray:
    """Return, per assignments.csv row, whether its cost is the pair's value by `rule`."""
    enterprises, visit = np.unique(np.array([r[0].encode() for r in rows], dtype=np.bytes_),
                                   return_inverse=True)
    officers, officer = np.unique(np.array([r[2].encode() for r in rows], dtype=np.bytes_),
                                  return_inverse=True)
    pricing = PairCosts.build(rule, seed_digest, quarter, enterprises, officers)
    costs = pricing.pairs(visit.reshape(-1), officer.reshape(-1))
    return np.array([c == str(v) for c, v in zip((r[3] for r in rows), costs.tolist(),
                                                  strict=True)], dtype=bool)


def _check_optional_files(bundle: Bundle, policy: Policy, fail: Any) -> None:
    """Report a file of an optional policy key that the policy does not set, or the year's
    other active plans missing where the policy sets an annual cap."""
    expected = set(input_names(policy)) | set(output_names(policy))
    for name in (*OPTIONAL_INPUT_FILES, *OPTIONAL_OUTPUT_FILES):
        if name in bundle.files and name not in expected:
            fail(f"{name} is in the bundle, but policy.toml sets no key that writes it: the "
                 "file is not covered by the plan")
    if "inputs/planned.csv" in expected and "inputs/planned.csv" not in bundle.files:
        fail("policy.toml sets an annual cap (annual_cap), but the bundle lacks "
             "inputs/planned.csv, the year's other active plans the cap counts")


def _check_workload(manifest: dict[str, Any], plan: Plan, registry: Registry,
                    fail: Any) -> list[int]:
    """Check the manifest's balance caps (workload = "balanced") against the plan: recorded
    exactly when the policy sets it, one per part of the staffing network, and one step
    lower unable to staff every visit of the part. Return the caps the teams must keep
    within (the capacities, without balancing)."""
    capacity = [o.capacity for o in registry.inspectors]
    recorded = manifest.get("workload")
    if plan.balance_caps is None:
        if recorded is not None:
            fail("manifest.json records a workload cap, but policy.toml does not set "
                 "workload = \"balanced\"")
        return capacity
    found = workload.parts(plan.staffing.lawful, len(capacity))
    recorded = recorded if isinstance(recorded, dict) else {}
    listed = recorded.get("caps")
    shape = [{"first_officer": registry.inspectors[int(p.officers[0])].inspector_id,
              "officers": len(p.officers)} for p in found]
    percents = [c.get("percent") if isinstance(c, dict) else None for c in listed or []]
    if not isinstance(listed, list) or recorded.get("rule") != "balanced" or [
            {k: v for k, v in c.items() if k != "percent"} if isinstance(c, dict) else c
            for c in listed] != shape or not all(
            isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 100 for p in percents):
        fail(f"manifest.json: workload is {str(recorded or None)[:200]}, not the balance cap "
             "(1-100) "
             "of each part of the staffing network")
        return workload.part_caps(capacity, found, [c.percent for c in plan.balance_caps])
    for part, percent, made in zip(found, percents, plan.balance_caps, strict=True):
        assert isinstance(percent, int)
        first = registry.inspectors[int(part.officers[0])].inspector_id
        lawful = [plan.staffing.lawful[v] for v in part.visits.tolist()]
        if percent > 1 and workload.staffable(workload.caps_at(capacity, percent - 1),
                                              plan.staffing.team_size, lawful) is not None:
            fail(f"manifest.json: the balance cap of the officers with {first} is {percent}%, "
                 f"but their visits can all be staffed at {percent - 1}% of capacity: it is "
                 "not the smallest")
        elif percent != made.percent:
            fail(f"manifest.json: the balance cap of the officers with {first} is "
                 f"{percent}%, the visits give {made.percent}%")
    return workload.part_caps(capacity, found, [p for p in percents if isinstance(p, int)])


def _check_experts(bundle: Bundle, registry: Registry, plan: Plan, fail: Any) -> None:
    """Check the written experts: each lawful for its visit, and together the cheapest
    filling of the most expert places (experts.certify), without a solver."""
    net = plan.expert_network
    assert net is not None
    index = {o.inspector_id: i for i, o in enumerate(registry.inspectors)}
    position = {key: k for k, key in enumerate(net.keys)}
    pair = {(int(net.arc_visit[a]), int(net.arc_expert[a])): a
            for a in range(len(net.arc_visit))}
    flows = np.zeros(len(net.arc_visit), dtype=np.int64)
    problems = []
    for row in read_table("experts.csv", bundle.files["experts.csv"]):
        enterprise, department, expert = row[0], row[1], row[2]
        k = position.get((enterprise, department))
        arc = pair.get((k, index.get(expert, -1))) if k is not None else None
        if arc is None:
            problems.append(f"experts.csv: {expert} may not join the visit to {enterprise} "
                            f"({department}): not a lawful expert (专家) of a visit needing one")
            continue
        flows[arc] += 1
    if not problems:
        why = expert_rule.certify(net, flows)
        if why is not None:
            problems.append(f"experts.csv: the experts are not the assign rule's choice: {why}")
    for problem in problems[:_SHOWN]:
        fail(problem)


def _check_teams(bundle: Bundle, registry: Registry, policy: Policy, quarter: Quarter,
                 seed_digest: str, rule: str, fail: Any, capacity: list[int]) -> None:
    """Check every team rule on the teams as written, independently of the planner;
    `capacity` is each officer's limit (the balance cap's when workload is balanced)."""
    policy_tasks = {t.code: t for t in policy.tasks}
    team_size = policy.team_size
    rules = StaffingRules(registry, team_size, quarter, policy.officer_cooldown_months)
    index = {o.inspector_id: i for i, o in enumerate(registry.inspectors)}
    teams: dict[tuple[str, str], list[str]] = defaultdict(list)
    problems: list[str] = []
    assigned = read_table("assignments.csv", bundle.files["assignments.csv"])
    agree = _written_costs_agree(seed_digest, str(quarter), rule, assigned)
    for row, right in zip(assigned, agree.tolist(), strict=True):
        teams[(row[0], row[1])].append(row[2])
        if not right:
            problems.append(f"assignments.csv: the cost of {row[2]} on {row[0]} is not "
                            f"its {rule} value")
    visits = {(r[0], r[1]): r[2].split(";") for r in read_table("visits.csv",
                                                           bundle.files["visits.csv"])}
    keys = sorted(set(teams) | set(visits))
    found_rows = registry.enterprises.index_of(
        np.array([k[0].encode() for k in keys], dtype="S18")).tolist()
    # Lawful officers come in pools shared by every visit of one place, department and set of
    # qualifications; each pool is turned into a set once, and recusals are checked apart.
    pools: dict[int, frozenset[int]] = {}
    load: dict[str, int] = defaultdict(int)
    for key, found in zip(keys, found_rows, strict=True):
        enterprise, department = key
        members = teams.get(key, [])
        if key not in visits:
            problems.append(f"assignments.csv: enterprise {enterprise} has a team of "
                            f"{department} but no visit in visits.csv")
            continue
        if len(members) != team_size or len(set(members)) != len(members):
            problems.append(f"the visit to {enterprise} ({department}) has "
                            f"{len(set(members))} distinct officer(s); the law and the policy "
                            f"require exactly {team_size}")
        unknown_tasks = [t for t in visits[key] if t not in policy_tasks]
        if found < 0 or unknown_tasks:
            problems.append(f"visits.csv: the visit to {enterprise} names an unknown "
                            "enterprise or task")
            continue
        quals = frozenset(policy_tasks[t].qualification for t in visits[key]
                          if policy_tasks[t].qualification)
        pool = rules.qualified(department, registry.enterprises.jurisdictions[found], quals)
        lawful = pools.get(id(pool))
        if lawful is None:
            lawful = pools[id(pool)] = frozenset(pool.tolist())
        recused = rules.kept_off(found)
        for member in members:
            load[member] += 1
            officer = index.get(member)
            if officer is None or officer not in lawful or officer in recused:
                why = _why_not(rules, officer, found, department, quals)
                problems.append(f"officer {member} may not inspect {enterprise} for "
                                f"{department}: {why}")
    for inspector, visits_taken in sorted(load.items()):
        if inspector in index and visits_taken > capacity[index[inspector]]:
            limit = capacity[index[inspector]]
            whose = ("quarterly capacity" if limit == registry.inspectors[index[inspector]].capacity
                     else "balance cap (workload = \"balanced\")")
            problems.append(f"officer {inspector} has {visits_taken} visits, above the {whose} "
                            f"of {limit}")
    for problem in problems[:_SHOWN * 3]:
        fail(problem)
    if len(problems) > _SHOWN * 3:
        fail(f"... and {len(problems) - _SHOWN * 3} more team problems")


def _why_not(rules: StaffingRules, inspector: int | None, row: int, department: str,
             quals: frozenset[str]) -> str:
    if inspector is None:
        return "not in the inspector registry"
    officer = rules.inspectors[inspector]
    enterprise = rules.registry.enterprises.ids[row]
    recused = inspector in rules.recusals.get(enterprise, frozenset())
    reasons = {c.reason for c in rules.registry.conflicts if recused
               and c.inspector_id == officer.inspector_id
               and c.enterprise_id == enterprise.decode()}
    problem = officer_problem(officer, department,
                              rules.registry.enterprises.jurisdictions[row].decode(), quals,
                              rules.quarter, "; ".join(sorted(reasons)) if recused else None,
                              rules.rotated.get(bytes(enterprise), {}).get(officer.inspector_id))
    return problem or "lawful, yet not among the lawful officers the planner computed"


def _check_optimal(problem: StaffingProblem, plan: Any, fail: Any) -> None:
    # An officer belongs to one department, so (enterprise, officer) names one arc even
    # where an enterprise has visits of two departments.
    place = {e: k for k, e in enumerate(sorted(set(problem.visit_ids)))}
    officer_of = {o: i for i, o in enumerate(problem.inspector_ids)}
    width = max(1, len(problem.inspector_ids))
    arc_place = np.array([place[e] for e in problem.visit_ids], dtype=np.int64)
    chosen = np.array([place[a.enterprise_id] * width + officer_of[a.inspector_id]
                       for a in plan.assignments], dtype=np.int64)
    used = contains(chosen, arc_place[problem.arc_visit] * width + problem.arc_inspector)
    verdict = certify(problem, used, problem.potentials)
    if not verdict.optimal:
        fail(f"the teams are not the cheapest lawful staffing: an exchange saving "
             f"{verdict.improvement} exists ({plan.assign} requires the minimum total cost)")
