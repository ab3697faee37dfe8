"""explain: why one enterprise was drawn or not and who staffs it, and one officer's quarter.

Everything comes from an audit bundle alone: the inputs and policy.toml it carries, and the
results it records (strata.csv, draws.csv, skipped.csv, visits.csv, assignments.csv,
shortfalls.csv). Tickets, ranks, scope and cooldown are recomputed for the one enterprise
and its strata only; the plan is never re-run. Explaining is not verifying: a line marked
"note:" says where the recorded results disagree with the recomputation, and
`spotcheck verify` is the check of the bundle as a whole.

The output names the credit-risk tier: it is for planners, never for publication.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from spotcheck.audit.explain_limits import Advice, cap_line, expert_lines, officer_caps
from spotcheck.errors import InvalidInputError, SpotcheckError
from spotcheck.formats.archive import Bundle, read_bundle
from spotcheck.formats.inputs import registry_from_bundle
from spotcheck.formats.tables import HEADERS, read_table
from spotcheck.models.domain import Inspector
from spotcheck.models.policy import Policy, TaskPolicy, parse_policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler.draw import task_tickets
from spotcheck.scheduler.eligibility import Cooldown, counted, stratum_of
from spotcheck.scheduler.hashes import ASSIGN_V1, assign_rule, cost, seed_hash, ticket
from spotcheck.scheduler.staffing import ROLE_PROBLEMS, officer_problem, rotated

_LISTED = 10  # cheaper officers of other jurisdictions listed one by one up to this many

Row = dict[str, str]


@dataclass(frozen=True, eq=False)
class _Context:
    """A bundle's policy, quarter, seed hash, registry snapshot, assign rule and recorded
    results."""

    bundle: Bundle
    policy: Policy
    quarter: Quarter
    seed_hash: str
    registry: Registry
    assign: str  # the rule that priced the teams, as the manifest names it
    seed: str = ""
    tables: dict[str, list[Row]] = field(default_factory=dict)
    advice: list[Advice] = field(default_factory=list)
    limits: list[list[int]] = field(default_factory=list)

    def limit(self, officer: Inspector) -> int:
        """Return how many visits the officer may take this quarter: their capacity, or
        their balance cap (workload = "balanced")."""
        if not self.limits:
            self.limits.append(officer_caps(self.registry, self.policy, self.quarter,
                                            self.table("visits.csv"),
                                            self.bundle.manifest.get("workload")))
        return self.limits[0][self.registry.inspectors.index(officer)]

    def shortfall(self) -> Advice:
        """Return the bundle's shortfall advice (read or recomputed once)."""
        if not self.advice:
            self.advice.append(Advice(self.registry, self.policy, self.quarter, self.seed,
                                      self.table, list(self.bundle.files)))
        return self.advice[0]

    def table(self, name: str) -> list[Row]:
        """Return a recorded result file's rows as dicts, refusing a wrong header."""
        if name in self.tables:
            return self.tables[name]
        data = self.bundle.files.get(name)
        if data is None:
            raise SpotcheckError(f"the bundle lacks {name}")
        self.tables[name] = [dict(zip(HEADERS[name], row, strict=True))
                             for row in read_table(name, data)]
        return self.tables[name]


def _context(bundle: Bundle | str | Path) -> _Context:
    """Return the explanation context of a bundle object or a bundle folder / .zip."""
    if not isinstance(bundle, Bundle):
        bundle = read_bundle(bundle)
    manifest = bundle.manifest
    policy = parse_policy(bundle.text("policy.toml"), "policy.toml")
    algorithms = manifest.get("algorithms")
    rule = algorithms.get("assign", ASSIGN_V1) if isinstance(algorithms, dict) else ASSIGN_V1
    return _Context(bundle, policy, Quarter.parse(str(manifest.get("quarter", ""))),
                    seed_hash(str(manifest.get("seed", ""))), registry_from_bundle(bundle),
                    assign_rule(str(rule)), str(manifest.get("seed", "")))


def _header(ctx: _Context) -> str:
    """Return the line naming the plan an explanation comes from."""
    plan_id = ctx.bundle.manifest.get("plan_id", "?")
    return (f"Plan {plan_id}, quarter {ctx.quarter}, seed {ctx.bundle.manifest.get('seed')!r} "
            "(recomputed from the bundle; `spotcheck verify` checks the bundle itself)")


def _officer_label(officer: Inspector) -> str:
    """Return an officer's certificate number (执法证号) and name."""
    return f"{officer.inspector_id} {officer.name}"


def _qualifications(policy: Policy, tasks: list[str]) -> frozenset[str]:
    """Return every qualification the tasks of one visit require."""
    return frozenset(q for q in (policy.task(t).qualification for t in tasks) if q)


# --- one enterprise -------------------------------------------------------------------------


def explain_enterprise(bundle: Bundle | str | Path, enterprise_id: str) -> list[str]:
    """Return lines saying, task by task, why an enterprise was drawn or not, and its teams.

    Raise InvalidInputError when the bundle's inputs have no such enterprise.
    """
    ctx = _context(bundle)
    ent = ctx.registry.enterprises
    wanted = enterprise_id.strip().upper()
    rows = ent.index_of(np.array([wanted.encode("ascii", "replace")], dtype="S18"))
    if len(wanted) != 18 or rows[0] < 0:
        raise InvalidInputError(f"enterprise {enterprise_id!r} is not in this bundle's "
                                f"inputs/enterprises.csv ({len(ent)} enterprises)")
    row = int(rows[0])
    place, industry = ent.jurisdictions[row].decode(), ent.industries[row].decode()
    tier = ent.tiers[row].decode()
    label = " ".join(filter(None, (tier, ctx.policy.tiers[tier].label)))
    lines = [f"Enterprise {wanted} {ent.names[row]}: jurisdiction {place}, industry "
             f"{industry or '(none)'}, tier {label} (风险分类: internal, never published)",
             _header(ctx)]
    for task in sorted(ctx.policy.tasks, key=lambda t: t.code):
        lines += _explain_task(ctx, row, task)
    visits = [v for v in ctx.table("visits.csv") if v["enterprise_id"] == wanted]
    if visits:
        assignments = ctx.table("assignments.csv")
        load = Counter(a["inspector_id"] for a in assignments)
        for visit in visits:
            lines += _explain_visit(ctx, row, visit, assignments, load)
    return lines


def _explain_task(ctx: _Context, row: int, task: TaskPolicy) -> list[str]:
    """Return the lines for one task (抽查任务): scope, stratum, cooldown, ticket, outcome."""
    ent = ctx.registry.enterprises
    eid = ent.ids[row].decode()
    place, industry = ent.jurisdictions[row].decode(), ent.industries[row].decode()
    tier = ent.tiers[row].decode()
    lines = [f"Task (抽查任务) {task.code} {task.name}, department {task.department}:"]
    if task.jurisdictions and not place.startswith(task.jurisdictions):
        return [*lines, f"  out of scope: jurisdiction {place} does not start with any of the "
                f"task's jurisdiction prefixes {', '.join(task.jurisdictions)}"]
    if task.industries and not industry.startswith(task.industries):
        return [*lines, f"  out of scope: industry {industry or '(none)'} does not start with "
                f"any of the task's industry prefixes {', '.join(task.industries)}"]
    scope = "; ".join(f"{what} {', '.join(values) if values else 'all'}" for what, values in
                      (("jurisdictions", task.jurisdictions), ("industries", task.industries)))
    lines.append(f"  in scope ({scope})")
    tier_policy = ctx.policy.tiers[tier]
    key = f"({task.code}, {tier}, {place})"
    rounds = ", ".join(f"Q{q}" for q in tier_policy.quarters)
    if ctx.quarter.number not in tier_policy.quarters:
        return [*lines, f"  stratum {key}: tier {tier} has no round in Q{ctx.quarter.number} "
                f"(its rounds: {rounds}), so nothing is drawn from it this quarter"]
    lines.append(f"  stratum {key}: tier {tier} has a round this quarter (rounds: {rounds})")
    recomputed = stratum_of(ctx.registry, ctx.policy, ctx.quarter, task, tier, place)
    cooled = bool(np.isin(row, recomputed.excluded))
    lines.append(_cooldown(ctx, row, task, tier, cooled))
    capped = cap_line(ctx.registry, ctx.policy, ctx.quarter, row)
    if capped is not None:
        lines.append(capped)
    own = ticket(ctx.seed_hash, str(ctx.quarter), task.code, eid)
    eligible = recomputed.eligible
    stratum = next((s for s in ctx.table("strata.csv")
                    if (s["task"], s["tier"], s["jurisdiction"]) == (task.code, tier, place)), None)
    if stratum is not None and int(stratum["eligible"]) != len(eligible):
        lines.append(f"  note: strata.csv records {stratum['eligible']} eligible, recomputed "
                     f"{len(eligible)}")
    if cooled:
        lines.append(f"  ticket {own} (draw-v1); not ranked, as it is not eligible")
        return lines
    tickets = task_tickets(ctx.registry, eligible, ctx.seed_hash, str(ctx.quarter), task.code)
    ids = ent.ids[eligible]
    raw = bytes.fromhex(own)
    rank = 1 + int(np.count_nonzero((tickets < raw) | ((tickets == raw) & (ids < ent.ids[row]))))
    lines.append(f"  ticket {own} (draw-v1), rank {rank} of {len(eligible)} eligible")
    return lines + _outcome(ctx, eid, task, (tier, place), rank, stratum)


def _cooldown(ctx: _Context, row: int, task: TaskPolicy, tier: str, cooled: bool) -> str:
    """Return the line saying why the cooldown rule (scheduler.eligibility.Cooldown) did or
    did not exclude the enterprise (`cooled`), naming its latest inspection that counts."""
    cooldown = Cooldown.of(ctx.policy, task.code, tier, ctx.quarter)
    if cooldown.since is None:
        return f"  eligible: tier {tier} has no cooldown (cooldown_months = 0)"
    threshold = cooldown.since.isoformat()
    history = ctx.registry.history
    select = counted(history, cooldown.task) & (
        history.enterprise_ids == ctx.registry.enterprises.ids[row])
    counts = ("any recorded inspection counts" if cooldown.task is None else
              f"only inspections for task {cooldown.task} count")
    records = sorted(zip(history.dates[select].astype(str).tolist(),
                         history.tasks[select].tolist(), history.departments[select].tolist(),
                         strict=True), reverse=True)
    rule = f"cooldown {cooldown.months} month(s), {counts}"
    if not records:
        return (f"  eligible: no recorded inspection on or after the threshold {threshold} "
                f"({rule})")
    day, done, department = records[0]
    if cooled:
        return (f"  EXCLUDED by cooldown: inspected on {day} (task {done}, department "
                f"{department}), on or after the threshold {threshold} ({rule})")
    return (f"  eligible: last inspected on {day} (task {done}, department {department}), "
            f"before the threshold {threshold} ({rule})")


def _outcome(ctx: _Context, eid: str, task: TaskPolicy, stratum_key: tuple[str, str],
             rank: int, stratum: Row | None) -> list[str]:
    """Return the stratum's cut-off and whether the enterprise was drawn, skipped or not."""
    tier, place = stratum_key
    if stratum is None:
        return ["  note: strata.csv has no row for this stratum"]
    draws = [d for d in ctx.table("draws.csv")
             if (d["task"], d["tier"], d["jurisdiction"]) == (task.code, tier, place)]
    last = max(draws, key=lambda d: int(d["rank"]), default=None)
    counts = ", ".join(f"{k} {stratum[k]}" for k in ("population", "eligible", "target", "floor",
                                                     "allocated", "drawn"))
    cut = (f"the largest drawn rank is {last['rank']} (ticket {last['ticket']})"
           if last else "nobody was drawn")
    lines = [f"  cut-off: {cut}; {counts}"]
    short = next((s["reason"] for s in ctx.table("shortfalls.csv")
                  if (s["task"], s["tier"], s["jurisdiction"]) == (task.code, tier, place)), None)
    if short:
        lines.append(f"  stratum fell short of its target: {short}")
        if short.startswith("capacity"):
            lines += ctx.shortfall().lines()
    mine = next((d for d in draws if d["enterprise_id"] == eid), None)
    skip = next((k for k in ctx.table("skipped.csv")
                 if (k["task"], k["enterprise_id"]) == (task.code, eid)), None)
    if mine is not None:
        visit = next((v for v in ctx.table("visits.csv")
                      if (v["enterprise_id"], v["department"]) == (eid, task.department)), None)
        shared = visit["tasks"].replace(";", ", ") if visit else "?"
        lines.append(f"  DRAWN at rank {mine['rank']} -> visit of department {task.department} "
                     f"(tasks {shared}; team below)")
        if int(mine["rank"]) != rank:
            lines.append(f"  note: draws.csv records rank {mine['rank']}, recomputed {rank}")
    elif skip is not None:
        lines.append(f"  SKIPPED (passed over, the next ticket took its place): {skip['reason']}")
    elif last is not None and rank < int(last["rank"]):
        lines.append("  note: ranked inside the cut-off but neither drawn nor skipped")
    elif int(stratum["allocated"]) == 0:
        lines.append(f"  not drawn: the stratum was allocated no draws (rank {rank})")
    else:
        lines.append(f"  not drawn: rank {rank} is beyond the cut-off "
                     f"(rank {last['rank'] if last else 0}, allocated {stratum['allocated']})")
    return lines


def _explain_visit(ctx: _Context, row: int, visit: Row, assignments: list[Row],
                   load: Counter[str]) -> list[str]:
    """Return a visit's team with its costs and why each cheaper officer is not on it."""
    eid, department = visit["enterprise_id"], visit["department"]
    tasks = visit["tasks"].split(";")
    quals = _qualifications(ctx.policy, tasks)
    officers = {o.inspector_id: o for o in ctx.registry.inspectors}
    team = sorted(((a["inspector_id"], int(a["cost"])) for a in assignments
                   if (a["enterprise_id"], a["department"]) == (eid, department)),
                  key=lambda member: member[1])
    lines = [f"Visit (进一次门、查多项事) of department {department}: tasks {', '.join(tasks)}; "
             f"qualifications required: {', '.join(sorted(quals)) or 'none'}",
             *expert_lines(ctx.table, list(ctx.bundle.files), eid, department),
             f"  team ({ctx.assign} cost, smaller is preferred):"]
    quarter = str(ctx.quarter)
    for inspector_id, recorded in team:
        officer = officers[inspector_id]
        lines.append(f"    {_officer_label(officer)}: cost {recorded} ({load[inspector_id]} of "
                     f"{officer.capacity} visits this quarter)")
        if cost(ctx.seed_hash, quarter, eid, inspector_id, ctx.assign) != recorded:
            lines.append(f"    note: assignments.csv records a cost that is not {ctx.assign}'s")
    if not team:
        return [*lines, "    note: assignments.csv has no team for this visit"]
    ceiling = team[-1][1]
    place = ctx.registry.enterprises.jurisdictions[row].decode()
    recusals = {c.inspector_id: c.reason for c in ctx.registry.conflicts if c.enterprise_id == eid}
    rotations = rotated(ctx.registry, ctx.quarter, ctx.policy.officer_cooldown_months).get(
        eid.encode(), {})
    members = {i for i, _ in team}
    cheaper = sorted((cost(ctx.seed_hash, quarter, eid, o.inspector_id, ctx.assign), o)
                     for o in ctx.registry.inspectors
                     if o.department == department and o.inspector_id not in members)
    cheaper = [(c, o) for c, o in cheaper if c < ceiling]
    lines.append(f"  officers of {department} cheaper than {ceiling} (the dearest member) and "
                 f"not chosen: {len(cheaper)}")
    elsewhere: dict[str, list[str]] = defaultdict(list)
    for price, officer in cheaper:
        if not place.startswith(officer.jurisdiction):
            elsewhere[officer.jurisdiction].append(f"{officer.inspector_id} ({price})")
            continue
        reason = _why_not(ctx, officer, place, quals, recusals, load[officer.inspector_id],
                          rotations.get(officer.inspector_id))
        lines.append(f"    {_officer_label(officer)} (cost {price}): {reason}")
    listed = sum(len(v) for v in elsewhere.values()) <= _LISTED
    for prefix in sorted(elsewhere):
        names = elsewhere[prefix]
        shown = ", ".join(names if listed else names[:3])
        more = "" if listed or len(names) <= 3 else f" and {len(names) - 3} more"
        lines.append(f"    {len(names)} officer(s) serve jurisdiction {prefix}, not {place}: "
                     f"{shown}{more}")
    return lines


def _why_not(ctx: _Context, officer: Inspector, place: str, quals: frozenset[str],
             recusals: dict[str, str], visits: int, rotation: date | None = None) -> str:
    """Return the one reason an officer serving the place is not on the team."""
    problem = officer_problem(officer, officer.department, place, quals, ctx.quarter,
                              recusals.get(officer.inspector_id), rotation)
    if problem:
        return problem
    limit = ctx.limit(officer)
    if visits >= limit and limit < officer.capacity:
        return (f"balance cap full ({visits} visits, ⌈cap · capacity {officer.capacity}⌉ = "
                f"{limit}, workload = \"balanced\"): lawful, but the cheapest total "
                f"({ctx.assign}) within the caps gave every one of their slots to other visits")
    if visits >= officer.capacity:
        return (f"capacity full ({visits} visits, capacity {officer.capacity}): lawful, but the "
                f"cheapest total over all visits ({ctx.assign}) gave every one of their slots to "
                "other visits")
    # Swapping them for the dearest member would be lawful and cheaper, so a true optimum
    # never leaves such an officer out; say so rather than invent a trade-off.
    return (f"lawful and had room ({visits} of {officer.capacity} visits), so the team is not "
            f"the {ctx.assign} minimum; run `spotcheck verify`")


# --- one officer ----------------------------------------------------------------------------


def explain_inspector(bundle: Bundle | str | Path, inspector_id: str) -> list[str]:
    """Return lines listing an officer's visits, team-mates, costs and utilisation.

    Raise InvalidInputError when the bundle's inputs have no such officer.
    """
    ctx = _context(bundle)
    officers = {o.inspector_id: o for o in ctx.registry.inspectors}
    officer = officers.get(inspector_id.strip())
    if officer is None:
        raise InvalidInputError(f"inspector {inspector_id!r} is not in this bundle's "
                                f"inputs/inspectors.csv ({len(officers)} officers)")
    end = ctx.quarter.end
    expiry = officer.certificate_expiry.isoformat()
    valid = (f"执法证 valid through {expiry}: covers the whole quarter (ends {end.isoformat()})"
             if officer.certificate_expiry >= end else
             f"执法证 expires {expiry}, before the quarter ends {end.isoformat()}: "
             "may not inspect this quarter")
    if officer.role != "officer":
        return [f"Inspector (执法证号) {_officer_label(officer)}: department "
                f"{officer.department}, jurisdiction {officer.jurisdiction}, qualifications "
                f"{', '.join(officer.qualifications) or 'none'}", _header(ctx),
                f"role (角色): {officer.role} — {ROLE_PROBLEMS[officer.role]}",
                *_expert_visits(ctx, officer)]
    assignments = ctx.table("assignments.csv")
    mine = [a for a in assignments if a["inspector_id"] == officer.inspector_id]
    share = f" ({100 * len(mine) / officer.capacity:.0f}%)" if officer.capacity else ""
    lines = [f"Inspector (执法证号) {_officer_label(officer)}: department {officer.department}, "
             f"jurisdiction {officer.jurisdiction}, qualifications "
             f"{', '.join(officer.qualifications) or 'none'}",
             _header(ctx), valid,
             f"utilisation: {len(mine)} of {officer.capacity} visits{share}"]
    lines += _capacity_lines(ctx, officer)
    recusals = [c for c in ctx.registry.conflicts if c.inspector_id == officer.inspector_id]
    if recusals:
        lines.append(f"recusals (回避): {len(recusals)} enterprise(s), e.g. "
                     f"{recusals[0].enterprise_id} ({recusals[0].reason or 'no reason recorded'})")
    if not mine:
        return [*lines, "no visits this quarter"]
    keys = {(a["enterprise_id"], a["department"]) for a in mine}
    tasks = {(v["enterprise_id"], v["department"]): v["tasks"].replace(";", ", ")
             for v in ctx.table("visits.csv") if (v["enterprise_id"], v["department"]) in keys}
    mates: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in assignments:
        key = (a["enterprise_id"], a["department"])
        if key in keys and a["inspector_id"] != officer.inspector_id:
            mates[key].append(f"{_officer_label(officers[a['inspector_id']])} (cost {a['cost']})")
    ent = ctx.registry.enterprises
    rows = ent.index_of(np.array([k[0].encode() for k in sorted(keys)], dtype="S18"))
    lines.append(f"visits ({ctx.assign} cost, smaller is preferred):")
    total = 0
    for a, row in zip(sorted(mine, key=lambda a: (a["enterprise_id"], a["department"])),
                      rows.tolist(), strict=True):
        key = (a["enterprise_id"], a["department"])
        total += int(a["cost"])
        where = f"{ent.names[row]} ({ent.jurisdictions[row].decode()})" if row >= 0 else "?"
        lines.append(f"  {a['enterprise_id']} {where}: department {a['department']}, tasks "
                     f"{tasks.get(key, '?')}; cost {a['cost']}; team-mates "
                     f"{', '.join(mates[key]) or 'none'}")
    lines.append(f"total {ctx.assign} cost of their {len(mine)} visit(s): {total}")
    return lines


def _capacity_lines(ctx: _Context, officer: Inspector) -> list[str]:
    """Return the balance caps (workload = "balanced") and, where capacity cut a stratum,
    whether the officer's group ran out and the officer-visits it needs."""
    lines = []
    workload = ctx.bundle.manifest.get("workload")
    if isinstance(workload, dict) and isinstance(workload.get("caps"), list):
        lines.append("balance caps (workload = \"balanced\"; each officer at most "
                     "⌈cap · capacity⌉ visits): " + ", ".join(
                         f"{c.get('percent')}% for the part of the staffing network with "
                         f"{c.get('first_officer')} ({c.get('officers')} officers)"
                         for c in workload["caps"] if isinstance(c, dict)))
    if any(s["reason"].startswith("capacity") for s in ctx.table("shortfalls.csv")):
        index = ctx.registry.inspectors.index(officer)
        found = ctx.shortfall().officer_line(ctx.registry, index)
        lines.append(found or "capacity cut strata this quarter, but not for want of this "
                     "officer's group")
    return lines


def _expert_visits(ctx: _Context, officer: Inspector) -> list[str]:
    """Return an expert's (专家) visits this quarter, from experts.csv."""
    if "experts.csv" not in ctx.bundle.files or officer.role != "expert":
        return []
    mine = [r for r in ctx.table("experts.csv") if r["inspector_id"] == officer.inspector_id]
    return [f"expert (专家) on {len(mine)} of {officer.capacity} visits, on top of their "
            "officers:", *(f"  {r['enterprise_id']}: department {r['department']}, cost "
                           f"{r['cost']} ({ctx.assign})" for r in mine)]
