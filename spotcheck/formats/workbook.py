"""workbook.xlsx: the planner's workbook of a quarter, and its public variant.

Internal (it shows tiers): 抽查计划 (strata), 抽查名单 (the drawn), 检查组 (teams),
执法人员工作量 (officers' visits against capacity), 分层统计 (the estimates and disturbance),
检查结果 (results and deadlines), 调整建议 (the advice). The public variant holds only
DESIGN §10's public columns (plan notice, drawn list, published results): never a tier,
stratum, rank, per-tier count, capacity, recusal, history or certificate. Both are written by
`formats.xlsx_writer` (a province's workbook is too large for openpyxl to write in good
time): bold frozen header, widths, number formats, text never a formula, and the same bytes
for the same report.
"""

from __future__ import annotations

from collections.abc import Sequence

from spotcheck.formats.public import (
    DRAWN_COLUMNS,
    NOT_FROZEN,
    NOTICE_COLUMNS,
    RESULT_COLUMNS,
    authority,
    check_type,
)
from spotcheck.formats.report_data import STATUS_LABELS, OutcomeReport
from spotcheck.formats.report_text import LEVEL_LABELS, MEANINGS, OBJECTIVE_LABELS
from spotcheck.formats.spreadsheet import Sheet
from spotcheck.formats.xlsx_writer import large_xlsx_bytes
from spotcheck.models.policy import Policy
from spotcheck.models.quarter import Quarter
from spotcheck.outcomes.disturbance import Disturbance

SHEETS = ("抽查计划", "抽查名单", "检查组", "执法人员工作量", "分层统计", "检查结果", "调整建议")
PUBLIC_SHEETS = ("抽查计划", "抽查名单", "检查结果")
PERCENT, COUNT, DECIMAL = "0.00%", "#,##0", "0.000"


def _day(value: object) -> str:
    """Return a date as YYYY-MM-DD, or "" for none."""
    return "" if value is None else str(value)


def _plan_sheet(report: OutcomeReport) -> Sheet:
    """Return 抽查计划: one row per stratum."""
    rows = [(s.plan_id, s.quarter, s.task, report.tasks.get(s.task, ""), s.tier,
             report.tier_label(s.tier), s.jurisdiction, s.population, s.eligible, s.target,
             s.floor, s.allocated, s.drawn, s.shortfall, s.reason) for s in report.strata]
    return Sheet("抽查计划", ("抽查计划编号", "季度", "抽查任务编号", "抽查任务名称", "风险分类",
                          "分类名称", "管辖区划", "总数", "可抽数", "目标数", "下限", "分配数",
                          "抽中数", "低于下限", "未达目标原因"), rows,
                 (22, 8, 12, 24, 8, 12, 10, 9, 9, 9, 9, 9, 9, 9, 60),
                 {i: COUNT for i in range(7, 14)})


def _drawn_sheet(report: OutcomeReport) -> Sheet:
    """Return 抽查名单: one row per drawn (task, enterprise)."""
    rows = [(d.plan_id, d.quarter, d.task, d.enterprise_id, d.name, d.tier, d.jurisdiction,
             d.rank, d.ticket) for d in report.drawn]
    return Sheet("抽查名单", ("抽查计划编号", "季度", "抽查任务编号", "统一社会信用代码",
                          "市场主体名称", "风险分类", "管辖区划", "排名", "随机码"), rows,
                 (22, 8, 12, 22, 36, 8, 10, 8, 66), {7: COUNT})


def _team_sheet(report: OutcomeReport) -> Sheet:
    """Return 检查组: one row per visit and its team now."""
    rows = [(t.plan_id, t.quarter, t.enterprise_id, t.name, t.department, "、".join(t.tasks),
             "、".join(t.inspectors), "、".join(t.inspector_names), "；".join(t.substitutions))
            for t in report.teams]
    return Sheet("检查组", ("抽查计划编号", "季度", "统一社会信用代码", "市场主体名称", "部门",
                         "抽查任务", "检查人员执法证号", "检查人员姓名", "替补记录"), rows,
                 (22, 8, 22, 36, 8, 18, 34, 16, 34))


def _workload_sheet(report: OutcomeReport) -> Sheet:
    """Return 执法人员工作量: one row per officer and quarter."""
    rows = [(w.quarter, w.inspector_id, w.name, w.department, w.jurisdiction, w.capacity,
             w.visits, w.utilisation) for w in report.workload]
    return Sheet("执法人员工作量", ("季度", "执法证号", "姓名", "部门", "管辖区划", "季度检查上限",
                               "检查户次", "使用率"), rows, (8, 18, 10, 8, 10, 12, 10, 10),
                 {5: COUNT, 6: COUNT, 7: PERCENT})


def _statistics_sheet(report: OutcomeReport) -> Sheet:
    """Return 分层统计: the estimates, disturbance on tier rows, and the meanings."""
    seen: dict[str, Disturbance] = {d.tier: d for d in report.disturbance}
    rows: list[Sequence[object]] = []
    for r in report.estimates:
        e, cp, wi = r.estimate, r.estimate.clopper_pearson, r.estimate.wilson
        d = seen.get(r.tier) if r.level == "tier" else None
        rows.append((LEVEL_LABELS[r.level], r.quarter, r.task, r.tier,
                     report.tier_label(r.tier), r.jurisdiction, e.eligible, e.covered, e.drawn,
                     e.with_result, e.missing, e.findings, e.raw_rate, e.rate, e.se,
                     cp.low if cp else None, cp.high if cp else None,
                     wi.low if wi else None, wi.high if wi else None, e.effective_n,
                     d.share if d else None, d.visits_per_enterprise if d else None,
                     d.policy_per_year if d else None))
    rows.append(())
    rows += [("说明", name, meaning) for name, meaning in MEANINGS]
    start, end = report.window
    rows.append(("说明", "干扰度", f"近四季度：{start.isoformat()} 至 {end.isoformat()}；"
                 "户均检查次数按部门和日期计检查户次，政策年均次数按任务计（上限）"))
    return Sheet("分层统计", (
        "层级", "季度", "抽查任务编号", "风险分类", "分类名称", "管辖区划", "可抽数", "覆盖可抽数",
        "抽中数", "已录入", "未录入", "发现问题", "原始比例", "分层估计", "标准误", "精确区间下限",
        "精确区间上限", "Wilson下限", "Wilson上限", "有效样本量", "近四季度被检查企业占比",
        "近四季度户均检查次数", "政策年均检查次数"), rows,
        (10, 8, 12, 8, 12, 10, 10, 10, 9, 9, 9, 9, 10, 10, 10, 12, 12, 12, 12, 11, 14, 14, 14),
        {**{i: COUNT for i in range(6, 12)}, **{i: PERCENT for i in range(12, 19)},
         19: "0.0", 20: PERCENT, 21: DECIMAL, 22: DECIMAL})


def _results_sheet(report: OutcomeReport) -> Sheet:
    """Return 检查结果: every drawn pair with its result and deadline status."""
    rows = [(r.plan_id, r.quarter, r.task, r.task_name, r.enterprise_id, r.name, r.tier,
             _day(r.completed_on), ";".join(r.codes), r.labels,
             "" if r.finding is None else ("是" if r.finding else "否"), r.remarks,
             "、".join(r.inspectors), r.version or None, _day(r.published_on), _day(r.due_on),
             STATUS_LABELS[r.status]) for r in report.results]
    return Sheet("检查结果", ("抽查计划编号", "季度", "抽查任务编号", "抽查任务名称",
                          "统一社会信用代码", "市场主体名称", "风险分类", "检查完成日期",
                          "检查结果代码", "检查结果", "发现问题", "备注", "实际检查人员", "版本",
                          "公示日期", "公示期限", "状态"), rows,
                 (22, 8, 12, 24, 22, 36, 8, 12, 10, 30, 8, 30, 34, 6, 12, 12, 10), {13: COUNT})


def _advice_sheet(report: OutcomeReport) -> Sheet:
    """Return 调整建议: per tier the three allocations, then totals and errors."""
    by = {a.objective: a for a in report.advice.allocations}
    plans = [by.get(o) for o in ("current", "findings", "precision")]
    bounds = report.advice.bounds
    rows: list[Sequence[object]] = []
    for t in report.tiers:
        if t.tier not in bounds:
            continue
        rows.append((t.tier, t.label, t.min_ratio, t.ratio, bounds[t.tier][1],
                     *(a.ratios.get(t.tier) if a else None for a in plans),
                     *(a.draws.get(t.tier) if a else None for a in plans),
                     *(a.findings.get(t.tier) if a else None for a in plans),
                     *(a.per_year.get(t.tier) if a else None for a in plans)))
    rows.append(("合计", "", None, None, None, None, None, None,
                 *(sum(a.draws.values()) if a else None for a in plans),
                 *(a.expected_findings if a else None for a in plans)))
    rows.append(("预计发现问题标准误", "", *([None] * 9),
                 *(a.expected_findings_se if a else None for a in plans)))
    rows.append(("总体发现率标准误", "", None, None, None,
                 *(a.overall_rate_se if a else None for a in plans)))
    rows.append(())
    rows += [("说明", note) for note in report.advice.notes]
    rows.append(("说明", "建议不会自动生效：spotcheck report --suggest-policy FILE 写出政策文件，"
                       "审核后以 --policy 使用。"))
    names = [OBJECTIVE_LABELS[o].split("：")[0] for o in ("current", "findings", "precision")]
    return Sheet("调整建议", (
        "风险分类", "分类名称", "政策下限", "政策比例", "比例上限",
        *(f"{n}比例" for n in names), *(f"{n}抽查户次" for n in names),
        *(f"{n}预计发现问题" for n in names), *(f"{n}户均年检查次数" for n in names)), rows,
        (18, 12, *([11] * 18)),
        {**{i: PERCENT for i in range(2, 8)}, **{i: "#,##0.0" for i in range(8, 14)},
         **{i: DECIMAL for i in range(14, 17)}})


def planner_workbook(report: OutcomeReport) -> bytes:
    """Return the internal workbook: the seven sheets of SHEETS, in that order."""
    return large_xlsx_bytes([_plan_sheet(report), _drawn_sheet(report), _team_sheet(report),
                             _workload_sheet(report), _statistics_sheet(report),
                             _results_sheet(report), _advice_sheet(report)])


def notice_rows(plan_id: str, quarter: str, seed: str, freeze: str | None,
                policy: Policy) -> list[tuple[str, ...]]:
    """Return a plan's notice rows (抽查计划公示) without the bundle fingerprint, which only the
    bundle gives (`spotcheck publish plan` writes the whole notice)."""
    q = Quarter.parse(quarter)
    period = f"{q.start.isoformat()}至{q.end.isoformat()}"
    return [(plan_id, policy.name, task.code, task.name, check_type(task),
             authority(policy, task), period, seed, freeze or NOT_FROZEN)
            for task in sorted(policy.tasks, key=lambda t: t.code)]


def public_workbook(report: OutcomeReport, notices: Sequence[Sequence[str]]) -> bytes:
    """Return the public workbook: the plan notice (`notice_rows`), the drawn list and the
    results already published (`spotcheck publish results`) — §10's columns only."""
    drawn = sorted({(d.task, d.enterprise_id, d.name) for d in report.drawn})
    published = [(r.plan_id, r.task, r.task_name, r.authority, r.enterprise_id, r.name,
                  _day(r.completed_on), r.labels, r.remarks)
                 for r in report.results if r.published_on is not None]
    return large_xlsx_bytes([
        Sheet("抽查计划", NOTICE_COLUMNS[:-1], notices, (22, 28, 14, 24, 8, 24, 24, 34, 18)),
        Sheet("抽查名单", DRAWN_COLUMNS, drawn, (14, 22, 40)),
        Sheet("检查结果", RESULT_COLUMNS, published, (22, 14, 24, 24, 22, 36, 14, 30, 40))])

