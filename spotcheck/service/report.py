"""`spotcheck report`: the outcome loop of a quarter as files (DESIGN §11).

Writes into a folder: `report.html` (one self-contained page), `workbook.xlsx` (the planner's
seven sheets) and `report.json` (the `--json` document); with `public`, only
`workbook-public.xlsx`, which holds nothing DESIGN §10 forbids, so the folder can be handed
out whole. `suggest_policy` writes the advice as a policy file for the planner to review —
it is never applied by itself. The same database, quarter and day give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from spotcheck.errors import SpotcheckError
from spotcheck.formats.policy_toml import policy_toml
from spotcheck.formats.report_data import OutcomeReport
from spotcheck.formats.report_html import report_html
from spotcheck.formats.report_text import OBJECTIVE_LABELS
from spotcheck.formats.workbook import notice_rows, planner_workbook, public_workbook
from spotcheck.models.calendar import WorkCalendar
from spotcheck.models.policy import Policy
from spotcheck.service.report_data import collect_report
from spotcheck.service.results import JsonResult, json_value
from spotcheck.store.results import StoredPlan, quarter_plans

OBJECTIVES = ("findings", "precision")
INTERNAL_FILES = ("report.html", "report.json", "workbook.xlsx")


@dataclass(frozen=True)
class ReportResult(JsonResult):
    """`report`: the files written, and (unless public) the statistics they show."""

    quarter: str
    quarters: tuple[str, ...]
    today: date
    out: Path
    files: tuple[Path, ...]
    public: bool
    suggested_policy: Path | None
    report: OutcomeReport | None  # None for the public variant: nothing internal is returned

    def lines(self) -> list[str]:
        """Return the planner's summary: per tier the rates and disturbance, the advice."""
        lines = []
        if self.report is not None:
            lines += summary_lines(self.report)
        if self.suggested_policy is not None:
            lines.append(f"suggested policy written to {self.suggested_policy} (review it; it "
                         "is not applied)")
        return [*lines, *(f"wrote {path}" for path in self.files)]


def summary_lines(report: OutcomeReport) -> list[str]:
    """Return the report's headline numbers as lines of text."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    lines = [f"outcomes of {report.quarter} ({', '.join(report.quarters)}), as of "
             f"{report.today.isoformat()}",
             "  tier  drawn  results  missing  findings  raw     stratified ± SE    95% exact"
             "         Wilson            inspected/4Q  policy/yr"]
    disturbance = {d.tier: d for d in report.disturbance}
    for row in [*report.rows("tier"), *report.rows("overall")]:
        e, d = row.estimate, disturbance.get(row.tier)
        cp, wi = e.clopper_pearson, e.wilson
        se = "" if e.se is None else f" ± {100 * e.se:.1f}"
        lines.append(
            f"  {row.tier or 'all':<4}  {e.drawn:>5}  {e.with_result:>7}  {e.missing:>7}  "
            f"{e.findings:>8}  {pct(e.raw_rate):<6}  {pct(e.rate) + se:<17}  "
            f"{(pct(cp.low) + '–' + pct(cp.high)) if cp else '-':<16}  "
            f"{(pct(wi.low) + '–' + pct(wi.high)) if wi else '-':<16}  "
            f"{pct(d.share) if d else '':>12}  "
            f"{'' if d is None or d.policy_per_year is None else f'{d.policy_per_year:.3f}':>9}")
    for a in report.advice.allocations:
        ratios = ", ".join(f"{t} {100 * r:.2f}%" for t, r in a.ratios.items())
        lines.append(f"  {a.objective}: {ratios}; expected findings {a.expected_findings:,.0f}"
                     f" ± {a.expected_findings_se:,.0f}" + (
                         "" if a.overall_rate_se is None else
                         f", overall rate SE {100 * a.overall_rate_se:.2f}%"))
    return lines


def _suggestion(report: OutcomeReport, policy: Policy, objective: str) -> str:
    """Return the suggested policy TOML of `objective`, or refuse when there is none."""
    allocation = report.advice.allocation(objective)
    if allocation is None:
        raise SpotcheckError(f"no {objective} suggestion could be made for {report.quarter}: "
                             + "; ".join(report.advice.notes or ("no results",)))
    current = report.advice.allocation("current")
    comments = [f"spotcheck report --suggest-policy: {OBJECTIVE_LABELS[objective]}",
                f"From the results of {', '.join(report.quarters)} (as of "
                f"{report.today.isoformat()}). A SUGGESTION: review it before using it with "
                "--policy; it is not applied by itself.",
                "Same inspector workload per department, min_ratio <= ratio <= 1, higher "
                "priority never a lower ratio.",
                f"Expected findings per round: {allocation.expected_findings:,.0f} ± "
                f"{allocation.expected_findings_se:,.0f}"
                + (f" (this period: {current.expected_findings:,.0f})" if current else ""), ""]
    comments += [f"tier {t}: ratio {policy.tiers[t].ratio} -> {r}" for t, r in
                 allocation.ratios.items()]
    return policy_toml(policy, allocation.ratios, comments)


def write_report(engine: Engine, quarter: str, out: Path, *, quarters: int = 1,
                 today: date, calendar: WorkCalendar, public: bool = False,
                 suggest_policy: Path | None = None,
                 objective: str = "findings") -> ReportResult:
    """Write the report files of `quarter` into `out` and return what was written."""
    if objective not in OBJECTIVES:
        raise SpotcheckError(f"unknown objective {objective!r}: findings or precision")
    if suggest_policy is not None and suggest_policy.exists():
        raise SpotcheckError(f"{suggest_policy}: already exists; a suggested policy never "
                             "overwrites a file (choose another name)")
    internal = sorted(n for n in INTERNAL_FILES if (out / n).exists())
    if public and internal:
        raise SpotcheckError(f"{out}: holds the internal report ({', '.join(internal)}); a "
                             "public folder must hold nothing internal, choose another --out")
    report = collect_report(engine, quarter, quarters, calendar, today)
    plans = sorted(quarter_plans(engine, report.quarter).values(), key=lambda p: p.plan_id)
    suggestion = _suggestion(report, plans[0].policy, objective) if suggest_policy else None
    files: dict[str, bytes] = {}
    if public:
        notices = [row for plan in plans for row in _notices(plan)]
        files["workbook-public.xlsx"] = public_workbook(report, notices)
    else:
        files["report.html"] = report_html(report).encode("utf-8")
        files["workbook.xlsx"] = planner_workbook(report)
    out.mkdir(parents=True, exist_ok=True)
    written = tuple(out / name for name in sorted({*files, *([] if public else ["report.json"])}))
    result = ReportResult(report.quarter, report.quarters, today, out, written, public,
                          suggest_policy, None if public else report)
    if not public:
        files["report.json"] = (json.dumps(json_value(result.as_json()), ensure_ascii=False,
                                           indent=2) + "\n").encode("utf-8")
    for name, data in files.items():
        (out / name).write_bytes(data)
    if suggestion is not None and suggest_policy is not None:
        suggest_policy.parent.mkdir(parents=True, exist_ok=True)
        suggest_policy.write_text(suggestion, encoding="utf-8")
    return result


def _notices(plan: StoredPlan) -> list[tuple[str, ...]]:
    """Return a plan's notice rows for the public workbook."""
    freeze = plan.manifest.get("freeze") or {}
    return notice_rows(plan.plan_id, plan.quarter, str(plan.manifest.get("seed", "")),
                       freeze.get("fingerprint"), plan.policy)
