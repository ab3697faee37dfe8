"""Builders of small registries and policies: plain functions and Hypothesis strategies.

Everything here builds inputs only; no expected value is computed with the code under test
(the one exception is `uscc_check_character`, used to make valid enterprise ids).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import openpyxl
from hypothesis import strategies as st

import spotcheck
from spotcheck import Conflict, Enterprise, HistoryRecord, Inspector, Policy, Registry
from spotcheck.models.identifiers import uscc_check_character
from spotcheck.models.registry import PlannedVisit

JURISDICTIONS = ("330102", "330105", "330106")
INDUSTRIES = ("F5211", "C3411", "L7212", "H6210", "")
QUALIFICATIONS = ("食品安全", "特种设备")
DEPARTMENTS = ("SCJG", "TZSB")
TIERS = ("A", "B", "C", "D")
QUARTERS = ("2026Q1", "2026Q2", "2026Q3", "2026Q4")
# Certificate expiries: every 2026 quarter's last day and the day before it, and later ones.
EXPIRIES = (date(2025, 12, 31), date(2026, 3, 30), date(2026, 3, 31), date(2026, 6, 29),
            date(2026, 6, 30), date(2026, 9, 29), date(2026, 9, 30), date(2026, 12, 30),
            date(2026, 12, 31), date(2027, 6, 30), date(2030, 1, 1))

# (code, name, department, industries, qualification). Each department has at most one
# non-empty qualification, so a joint visit never needs more than one of its tasks alone.
TASK_TEMPLATES = (
    ("GS-QY", "企业公示信息抽查", "SCJG", (), ""),
    ("SP-JY", "食品经营者监督检查", "SCJG", ("F52", "H62"), "食品安全"),
    ("TZ-SB", "特种设备使用单位监督检查", "TZSB", ("C",), "特种设备"),
)
# An SCJG task needing 特种设备: with SP-JY it makes joint visits that need both qualifications.
MIXED_TEMPLATE = ("DT-SY", "商场电梯使用检查", "SCJG", ("F52", "L72"), "特种设备")
HISTORY_TASKS = ("GS-QY", "SP-JY", "TZ-SB", "DT-SY", "OLD-2019")
EXPERT_QUALIFICATION = "锅炉"  # what experts (专家) of a task with experts may be asked to hold

# Text that CSV must quote or keep intact: commas, quotes, line feeds, CJK punctuation, a
# spreadsheet formula. (A bare carriage return is left to a dedicated test.)
AWKWARD_TEXT = ("", "", "", ",分店", '"老字号"', "（二号楼）", "、甲;乙", "=1+1", "  内部  空格")

# Short decimals as policy ratios, including ones whose binary float is not exact.
RATIOS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.29, 0.3, 0.4, 0.57, 0.6, 0.8, 1.0)


def enterprise_id(jurisdiction: str, serial: int) -> str:
    """Return a valid unified social credit code for a serial number in a jurisdiction."""
    body = f"91{jurisdiction}{serial:09d}"
    return body + uscc_check_character(body)


def enterprise(serial: int, jurisdiction: str = "330102", tier: str = "A",
               industry: str = "F5211", suffix: str = "") -> Enterprise:
    """Return an enterprise record named 企业<serial><suffix>."""
    return Enterprise(enterprise_id=enterprise_id(jurisdiction, serial),
                      name=f"企业{serial}{suffix}", jurisdiction=jurisdiction,
                      industry=industry, tier=tier)


def inspector(number: int, department: str = "SCJG", jurisdiction: str = "3301",
              qualifications: tuple[str, ...] = (), capacity: int = 1000,
              expiry: date = date(2030, 1, 1)) -> Inspector:
    """Return an inspector record with certificate number INS-nnnn."""
    return Inspector(inspector_id=f"INS-{number:04d}", name=f"执法员{number}",
                     department=department, jurisdiction=jurisdiction,
                     qualifications=qualifications, capacity=capacity,
                     certificate_expiry=expiry)


def fmt(ratio: float) -> str:
    """Return a ratio as the short decimal a planner writes in TOML."""
    return repr(float(ratio))


@dataclass(frozen=True)
class TierSpec:
    """One tier of a generated policy."""

    name: str
    ratio: float
    min_ratio: float
    quarters: tuple[int, ...]
    cooldown_months: int
    priority: int


@dataclass(frozen=True)
class PolicySpec:
    """A generated policy, kept as data so a test can vary one value and re-render it."""

    team_size: int
    cooldown_scope: str
    tiers: tuple[TierSpec, ...]
    tasks: tuple[tuple[str, str, str, tuple[str, ...], str, tuple[str, ...]], ...]
    assign: str | None = None  # the policy's assign key; None leaves it out (assign-v2)
    # The optional keys of lawful teams II; their defaults leave the keys out.
    annual_caps: tuple[tuple[str, int], ...] = ()              # (tier, annual_cap)
    experts: tuple[tuple[str, int, str], ...] = ()             # (task, experts, qualification)
    workload: str | None = None                                # "balanced"
    officer_cooldown_months: int | None = None
    shortfall_advice: bool = False

    def text(self) -> str:
        """Return the policy as TOML text (schema 1)."""
        lines = ["schema = 1", 'name = "生成的抽查政策"', f"team_size = {self.team_size}",
                 f'cooldown_scope = "{self.cooldown_scope}"',
                 *([f'assign = "{self.assign}"'] if self.assign else []),
                 *([f'workload = "{self.workload}"'] if self.workload else []),
                 *([f"officer_cooldown_months = {self.officer_cooldown_months}"]
                   if self.officer_cooldown_months is not None else []),
                 *(["shortfall_advice = true"] if self.shortfall_advice else []), ""]
        caps = dict(self.annual_caps)
        for tier in self.tiers:
            quarters = ", ".join(str(q) for q in tier.quarters)
            lines += [f"[tiers.{tier.name}]", f'label = "等级{tier.name}"',
                      f"ratio = {fmt(tier.ratio)}", f"min_ratio = {fmt(tier.min_ratio)}",
                      f"quarters = [{quarters}]", f"cooldown_months = {tier.cooldown_months}",
                      f"priority = {tier.priority}",
                      *([f"annual_cap = {caps[tier.name]}"] if tier.name in caps else []), ""]
        experts = {code: (n, q) for code, n, q in self.experts}
        for code, name, department, industries, qualification, jurisdictions in self.tasks:
            lines += ["[[tasks]]", f'code = "{code}"', f'name = "{name}"',
                      f'department = "{department}"',
                      f"jurisdictions = [{', '.join(repr(j) for j in jurisdictions)}]",
                      f"industries = [{', '.join(repr(i) for i in industries)}]",
                      f'qualification = "{qualification}"']
            if code in experts:
                lines += [f"experts = {experts[code][0]}",
                          f'expert_qualification = "{experts[code][1]}"']
            lines.append("")
        return "\n".join(lines)

    def with_ratio(self, tier_name: str, ratio: float) -> PolicySpec:
        """Return the same policy with one tier's ratio changed."""
        tiers = tuple(TierSpec(t.name, ratio, t.min_ratio, t.quarters, t.cooldown_months,
                               t.priority) if t.name == tier_name else t for t in self.tiers)
        return dataclasses.replace(self, tiers=tiers)


@dataclass(frozen=True)
class Scenario:
    """A registry snapshot's rows, a policy, a quarter and a seed."""

    spec: PolicySpec
    enterprises: tuple[Enterprise, ...]
    inspectors: tuple[Inspector, ...]
    conflicts: tuple[Conflict, ...]
    history: tuple[HistoryRecord, ...]
    quarter: str
    seed: str
    planned: tuple[PlannedVisit, ...] = ()  # the year's other active plans' visits

    @property
    def policy_bytes(self) -> bytes:
        """Return the policy file's bytes."""
        return self.spec.text().encode("utf-8")

    @cached_property
    def policy(self) -> Policy:
        """Return the parsed policy."""
        return spotcheck.parse_policy(self.spec.text())

    @cached_property
    def registry(self) -> Registry:
        """Return the registry snapshot of the rows."""
        return Registry.build(self.enterprises, self.inspectors, self.conflicts, self.history,
                              self.planned)

    @cached_property
    def plan(self) -> spotcheck.Plan:
        """Return the quarter's plan."""
        return spotcheck.plan_quarter(self.registry, self.policy, self.quarter, self.seed)

    def bundle(self, registry: Registry | None = None) -> spotcheck.Bundle:
        """Return the audit bundle with a fixed creation time and software list."""
        registry = registry or self.registry
        plan = spotcheck.plan_quarter(registry, self.policy, self.quarter, self.seed)
        return spotcheck.build_bundle(plan, registry, self.policy_bytes,
                                      created_at="2026-01-01T00:00:00Z", software={"x": "1"})


SEEDS = st.text(alphabet="0123456789abcdefXYZ-_.年季度抽查", min_size=1, max_size=24)


def rounds(draw: st.DrawFn, quarter: int | None) -> tuple[int, ...]:
    """Draw a tier's quarters, usually including `quarter`."""
    chosen = draw(st.sets(st.integers(1, 4), min_size=1, max_size=4))
    if quarter is not None and draw(st.integers(0, 3)):
        chosen.add(quarter)
    return tuple(sorted(chosen))


@st.composite
def policy_specs(draw: st.DrawFn, quarter: int | None = None,
                 mixed: bool = True) -> PolicySpec:
    """Draw a valid policy: 2-4 tiers with priorities consistent with ratios, 1-3 tasks.

    Given `quarter`, most tiers have a round in it. With `mixed`, the tasks may include
    MIXED_TEMPLATE, so one visit can need two qualifications. The assign rule is left to its
    default (assign-v2) or named: assign-v1 or assign-v2.
    """
    names = sorted(draw(st.sets(st.sampled_from(TIERS), min_size=2, max_size=4)))
    ratios = sorted(draw(st.lists(st.sampled_from(RATIOS), min_size=len(names),
                                  max_size=len(names))))
    # min_ratio_i <= ratio_i, and a running maximum keeps min_ratio monotone in priority
    raw_floors = [draw(st.sampled_from([r for r in RATIOS if r <= ratio])) for ratio in ratios]
    floors = [max(raw_floors[: i + 1]) for i in range(len(raw_floors))]
    tiers = tuple(
        TierSpec(name, ratio, floor, rounds(draw, quarter),
                 draw(st.sampled_from((0, 0, 1, 3, 6, 12))), priority)
        for priority, (name, ratio, floor) in enumerate(zip(names, ratios, floors, strict=True),
                                                        start=1))
    templates = (*TASK_TEMPLATES, MIXED_TEMPLATE) if mixed else TASK_TEMPLATES
    chosen = draw(st.sets(st.sampled_from(range(len(templates))), min_size=1, max_size=3))
    tasks = []
    for index in sorted(chosen):
        code, name, department, industries, qualification = templates[index]
        scope = draw(st.sampled_from(((), (), ("3301",), ("330102",), ("330105", "330106"))))
        tasks.append((code, name, department, industries, qualification, scope))
    return PolicySpec(draw(st.sampled_from((2, 2, 3))), draw(st.sampled_from(("any", "task"))),
                      tiers, tuple(tasks),
                      draw(st.sampled_from((None, None, "assign-v1", "assign-v2"))))


@st.composite
def scenarios(draw: st.DrawFn, min_enterprises: int = 10, max_enterprises: int = 120,
              capacity: int | None = None, mixed: bool = True) -> Scenario:
    """Draw a scenario; `capacity` fixes every officer's capacity (e.g. 1000 = ample)."""
    quarter = draw(st.sampled_from(QUARTERS))
    spec = draw(policy_specs(int(quarter[-1]), mixed))
    tier_names = [t.name for t in spec.tiers]
    places = draw(st.lists(st.sampled_from(JURISDICTIONS), min_size=1, max_size=3, unique=True))
    size = draw(st.integers(min_enterprises, max_enterprises))
    rows = draw(st.lists(st.tuples(st.sampled_from(places), st.sampled_from(INDUSTRIES),
                                   st.sampled_from(tier_names), st.sampled_from(AWKWARD_TEXT)),
                         min_size=size, max_size=size))
    enterprises = tuple(enterprise(serial, jur, tier, industry, suffix)
                        for serial, (jur, industry, tier, suffix) in enumerate(rows, start=1))
    # A core of city-wide, fully qualified officers per department the tasks use (so teams
    # often form), then officers of every kind (so every staffing rule comes into play).
    used = tuple(sorted({task[2] for task in spec.tasks}))
    core = [(department, "3301", QUALIFICATIONS, draw(st.integers(0, 8)), date(2030, 1, 1))
            for department in used for _ in range(draw(st.integers(0, 4)))][:12]
    staff = draw(st.integers(max(0, 3 - len(core)), 12 - len(core)))
    officer_rows = core + draw(st.lists(st.tuples(
        st.sampled_from(used * 3 + DEPARTMENTS),
        st.sampled_from(("3301", "3301", *places)),
        st.sampled_from((QUALIFICATIONS, QUALIFICATIONS[:1], QUALIFICATIONS[1:], ())),
        st.integers(0, 8),
        st.sampled_from((date(2030, 1, 1),) * 4 + EXPIRIES)), min_size=staff, max_size=staff))
    inspectors = tuple(
        inspector(number, department, jur, quals,
                  capacity if capacity is not None else cap, expiry)
        for number, (department, jur, quals, cap, expiry) in enumerate(officer_rows, start=1))
    pairs = draw(st.lists(st.tuples(st.integers(0, len(inspectors) - 1),
                                    st.integers(0, len(enterprises) - 1)),
                          max_size=4, unique=True))
    conflicts = tuple(Conflict(inspector_id=inspectors[o].inspector_id,
                               enterprise_id=enterprises[e].enterprise_id,
                               reason="亲属关系" + draw(st.sampled_from(AWKWARD_TEXT)))
                      for o, e in pairs)
    visits = draw(st.lists(st.tuples(
        st.integers(0, len(enterprises) - 1), st.sampled_from(HISTORY_TASKS),
        st.sampled_from(DEPARTMENTS),
        st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31))), max_size=20))
    history = tuple(HistoryRecord(enterprise_id=enterprises[e].enterprise_id, task=task,
                                  department=dept, inspected_on=day)
                    for e, task, dept, day in visits)
    return Scenario(spec, enterprises, inspectors, conflicts, history, quarter, draw(SEEDS))


@st.composite
def lawful_scenarios(draw: st.DrawFn, capacity: int | None = None) -> Scenario:
    """Draw a scenario using the new keys: annual caps on some tiers, experts on some tasks,
    balanced workload, rotation, shortfall advice; experts and auxiliary staff among the
    inspectors, inspectors named in the history, the year's other plans' visits."""
    sc = draw(scenarios(min_enterprises=15, max_enterprises=70, capacity=capacity))
    tiers = [t.name for t in sc.spec.tiers]
    caps = tuple((t, draw(st.integers(1, 2))) for t in tiers if draw(st.integers(0, 2)))
    experts = tuple((task[0], draw(st.integers(1, 2)),
                     draw(st.sampled_from(("", EXPERT_QUALIFICATION))))
                    for task in sc.spec.tasks if draw(st.booleans()))
    spec = dataclasses.replace(
        sc.spec, annual_caps=caps, experts=experts,
        workload=draw(st.sampled_from((None, "balanced"))),
        officer_cooldown_months=draw(st.sampled_from((None, 0, 3, 12))),
        shortfall_advice=draw(st.booleans()))
    start = len(sc.inspectors) + 1
    helpers = tuple(Inspector(
        inspector_id=f"INS-{k:04d}", name=f"专家{k}", department=draw(st.sampled_from(DEPARTMENTS)),
        jurisdiction=draw(st.sampled_from(("3301", *JURISDICTIONS))),
        qualifications=draw(st.sampled_from(((EXPERT_QUALIFICATION,), (), ("食品安全",)))),
        capacity=draw(st.integers(0, 4)), certificate_expiry=date(2020, 1, 1),
        role=draw(st.sampled_from(("expert", "expert", "auxiliary"))))
        for k in range(start, start + draw(st.integers(0, 6))))
    staff = [*sc.inspectors, *helpers]
    ids = [o.inspector_id for o in staff]
    year_start = date(int(sc.quarter[:4]), 1, 1)
    history = [h if not draw(st.booleans()) else HistoryRecord(
        enterprise_id=h.enterprise_id, task=h.task, department=h.department,
        inspected_on=h.inspected_on,
        inspectors=tuple(draw(st.sets(st.sampled_from(ids), max_size=2))))
        for h in sc.history]
    for _ in range(draw(st.integers(0, 12))):  # inspections this year, to use up caps
        e = draw(st.sampled_from(sc.enterprises))
        history.append(HistoryRecord(
            enterprise_id=e.enterprise_id, task=draw(st.sampled_from(("GS-QY", "X-1"))),
            department=draw(st.sampled_from(DEPARTMENTS)),
            inspected_on=year_start + timedelta(days=draw(st.integers(0, 364))),
            inspectors=tuple(draw(st.sets(st.sampled_from(ids), max_size=2)))))
    planned = tuple(PlannedVisit(draw(st.sampled_from(sc.enterprises)).enterprise_id,
                                 draw(st.sampled_from(DEPARTMENTS)),
                                 f"{year_start.year}Q{draw(st.integers(1, 4))}")
                    for _ in range(draw(st.integers(0, 6))))
    return dataclasses.replace(sc, spec=spec, inspectors=tuple(staff), history=tuple(history),
                               planned=planned)


def months_before(quarter: str, months: int) -> date:
    """Return the first day of the month `months` calendar months before a quarter starts."""
    index = int(quarter[:4]) * 12 + 3 * (int(quarter[5]) - 1) - months
    return date(index // 12, index % 12 + 1, 1)


# Days from a cooldown's first day: the day itself, the day before, the day after, and well
# outside or inside it.
BOUNDARY_OFFSETS = (0, -1, 1, -45, 45)


@st.composite
def cooldown_scenarios(draw: st.DrawFn, max_enterprises: int = 40) -> Scenario:
    """Draw a small scenario whose history lies at the edges of the policy's cooldowns.

    Most enterprises have past inspections on, just before or just after the first day of
    their own tier's cooldown (quarter start minus cooldown_months), some at another tier's
    edge or at the quarter start; each is of one of the policy's tasks or of another, so the
    two cooldown scopes differ. Policies come from `policy_specs`: both scopes, tiers without
    a round this quarter, tasks scoped by jurisdiction or industry.
    """
    sc = draw(scenarios(min_enterprises=3, max_enterprises=max_enterprises))
    own = {tier.name: tier.cooldown_months for tier in sc.spec.tiers}
    edges = st.sampled_from(sorted({*own.values(), 0}))
    tasks = st.sampled_from([*sorted({task[0] for task in sc.spec.tasks}), "OLD-2019"])
    history = []
    for e in sc.enterprises:
        for _ in range(draw(st.sampled_from((1, 0, 2)))):
            back = own[e.tier] if draw(st.integers(0, 3)) else draw(edges)
            day = months_before(sc.quarter, back) + timedelta(
                days=draw(st.sampled_from(BOUNDARY_OFFSETS)))
            history.append(HistoryRecord(enterprise_id=e.enterprise_id, task=draw(tasks),
                                         department=draw(st.sampled_from(DEPARTMENTS)),
                                         inspected_on=day))
    return dataclasses.replace(sc, history=tuple(history))


def store_scenario(url: str, sc: Scenario) -> None:
    """Import a scenario's registry into the database at `url` (through spotcheck.store)."""
    from spotcheck import store
    from spotcheck.store.database import open_database

    engine = open_database(url)
    store.import_enterprises(engine, spotcheck.EnterpriseColumns.from_records(sc.enterprises))
    store.import_inspectors(engine, list(sc.inspectors))
    store.import_conflicts(engine, list(sc.conflicts))
    store.import_history(engine, list(sc.history))
    engine.dispose()


# A fixed scenario with enough draws and tight enough capacity to make every file non-trivial.
CITY_POLICY = PolicySpec(
    team_size=2, cooldown_scope="any",
    tiers=(TierSpec("A", 0.05, 0.02, (4,), 12, 1),
           TierSpec("B", 0.1, 0.05, (2, 4), 6, 2),
           TierSpec("C", 0.3, 0.1, (1, 2, 3, 4), 3, 3),
           TierSpec("D", 0.6, 0.3, (1, 2, 3, 4), 0, 4)),
    tasks=(TASK_TEMPLATES[0] + ((),), TASK_TEMPLATES[1] + ((),), TASK_TEMPLATES[2] + ((),)),
)


def city(capacity: int = 6, seed: str = "20261001-0394857261-5520183746") -> Scenario:
    """Return a fixed 90-enterprise, 12-officer scenario for quarter 2026Q4."""
    enterprises = tuple(enterprise(i, JURISDICTIONS[(i // 4) % 2], TIERS[i % 4],
                                   INDUSTRIES[(i // 8) % 4]) for i in range(1, 91))
    # INS-0001..0008: SCJG (0001-0004 city-wide, 0005-0006 330102, 0007-0008 330105; odd
    # numbers hold 食品安全; the certificate of INS-0003 lapses one day before 2026Q4 ends);
    # INS-0009..0012: TZSB city-wide with 特种设备.
    scjg = tuple(inspector(k, "SCJG", ("3301", "330102", "330105")[max(0, (k - 3) // 2)],
                           QUALIFICATIONS[:1] if k % 2 else (), capacity,
                           date(2026, 12, 30) if k == 3 else date(2030, 1, 1))
                 for k in range(1, 9))
    tzsb = tuple(inspector(k, "TZSB", "3301", QUALIFICATIONS[1:], capacity)
                 for k in range(9, 13))
    inspectors = scjg + tzsb
    # INS-0001 must recuse from the first food businesses of 330105, which leaves them one
    # lawful 食品安全 officer: they are skipped whenever SP-JY draws them.
    food_330105 = [e for e in enterprises
                   if e.jurisdiction == "330105" and e.industry.startswith(("F52", "H62"))]
    conflicts = tuple(Conflict(inspector_id="INS-0001", enterprise_id=e.enterprise_id,
                               reason="亲属") for e in food_330105[:6])
    history = tuple(HistoryRecord(enterprise_id=e.enterprise_id, task="GS-QY",
                                  department="SCJG", inspected_on=date(2026, 8, 1))
                    for e in enterprises[:20:3])
    return Scenario(CITY_POLICY, enterprises, inspectors, conflicts, history, "2026Q4",
                    seed)


def registry_fingerprint(registry: Registry) -> str:
    """Return the sha256 of a registry written out field by field, row by row."""
    e = registry.enterprises
    lines = ["|".join(x.decode() if isinstance(x, bytes) else x for x in row)
             for row in zip(e.ids, e.names, e.jurisdictions, e.industries, e.tiers, strict=True)]
    lines += [f"{o.inspector_id}|{o.name}|{o.department}|{o.jurisdiction}|"
              f"{';'.join(o.qualifications)}|{o.capacity}|{o.certificate_expiry}"
              for o in registry.inspectors]
    lines += [f"{c.inspector_id}|{c.enterprise_id}|{c.reason}" for c in registry.conflicts]
    lines += [f"{h.enterprise_id}|{h.task}|{h.department}|{h.inspected_on}"
              for h in registry.history.records()]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def workbook_bytes(sheets: list[tuple[str, str, list[list[str]]]]) -> bytes:
    """Return an .xlsx of (title, state, rows) sheets (state "visible", "hidden" or
    "veryHidden")."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, state, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
