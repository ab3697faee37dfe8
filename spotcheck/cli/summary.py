"""Planner-facing summaries of a plan: strata per task and tier, and inspector utilisation."""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence

from spotcheck.models.registry import Registry
from spotcheck.scheduler.plan import Plan
from spotcheck.scheduler.shortfall import GroupAdvice
from spotcheck.scheduler.workload import Comparison


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render_table(header: Sequence[str], rows: Sequence[Sequence[object]],
                 left: int = 2) -> list[str]:
    """Return a plain-text table, the first `left` columns left-aligned, CJK-aware."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(c + " " * (w - _width(c)) if i < left else " " * (w - _width(c)) + c
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return [line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]]


def strata_summary(plan: Plan) -> list[str]:
    """Return the per-task, per-tier table: population, eligible, target, allocated, drawn."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for s in plan.strata:
        row = totals[(s.task, s.tier)]
        for i, value in enumerate((s.population, s.eligible, s.target, s.floor, s.allocated,
                                   s.drawn)):
            row[i] += value
    rows = []
    for (task, tier), (population, eligible, target, floor, allocated, drawn) in sorted(
            totals.items()):
        ratio = f"{100 * drawn / population:.2f}%" if population else "-"
        label = plan.policy.tiers[tier].label
        rows.append((task, f"{tier} {label}", population, eligible, target, floor, allocated,
                     drawn, ratio))
    return render_table(("task 任务", "tier 风险分类", "population", "eligible", "target",
                         "floor", "allocated", "drawn", "achieved"), rows)


def shortfall_summary(plan: Plan) -> list[str]:
    """Return one line per stratum drawn below its target, with the binding reason."""
    lines = []
    for s in plan.strata:
        if s.drawn < s.target:
            lines.append(f"{s.task} {s.tier} {s.jurisdiction}: drew {s.drawn} of {s.target} "
                         f"(floor {s.floor}, {s.shortfall} below floor) — {s.reason}")
    return lines


def utilisation_summary(plan: Plan, registry: Registry) -> list[str]:
    """Return inspector utilisation per department and jurisdiction."""
    load = Counter(a.inspector_id for a in plan.assignments)
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for officer in registry.inspectors:
        row = groups[(officer.department, officer.jurisdiction)]
        row[0] += 1
        row[1] += officer.capacity
        row[2] += load.get(officer.inspector_id, 0)
        row[3] += 1 if load.get(officer.inspector_id, 0) else 0
    rows = []
    for (department, jurisdiction), (officers, capacity, visits, busy) in sorted(groups.items()):
        share = f"{100 * visits / capacity:.1f}%" if capacity else "-"
        rows.append((department, jurisdiction, officers, busy, capacity, visits, share))
    return render_table(("department 部门", "jurisdiction 管辖", "officers", "on a team",
                         "capacity", "visits", "utilisation"), rows)


def workload_summary(comparison: Comparison, balanced: bool) -> list[str]:
    """Return each department's utilisation spread (lowest, median, highest) at minimum cost
    and balanced, on the same visits, marking which one the plan uses."""
    rows = []
    for cost, even in zip(comparison.minimum_cost, comparison.balanced, strict=True):
        for label, spread, used in (("minimum cost", cost, not balanced),
                                    ("balanced", even, balanced)):
            rows.append((spread.department, label + (" (this plan)" if used else ""),
                         spread.officers, f"{spread.lowest:.0f}%", f"{spread.median:.0f}%",
                         f"{spread.highest:.0f}%"))
    caps = ", ".join(f"{c.percent}% for the {c.officers} officer(s) with {c.first_officer}"
                     for c in comparison.caps)
    return [*render_table(("department 部门", "teams", "officers", "lowest", "median",
                           "highest"), rows),
            f"balance cap (workload = \"balanced\"): {caps or 'no visits'}"]


def advice_summary(advice: Sequence[GroupAdvice]) -> list[str]:
    """Return the saturated officer groups and the officer-visits each needs for every
    stratum cut by capacity to reach its target."""
    rows = [(a.department, a.jurisdiction, a.qualifications or "-", a.officers,
             a.capacity, a.saturated, f"+{a.extra}") for a in advice]
    total = sum(a.extra for a in advice)
    return [*render_table(("department 部门", "jurisdiction 管辖", "qualifications 执法领域",
                           "officers", "capacity", "saturated", "needed"), rows, left=3),
            f"{total} more officer-visit(s) in these groups would let every stratum cut by "
            "capacity reach its target (the least that can; each added officer-visit is "
            "listed in shortfall_groups.csv with `shortfall_advice = true`)"]
