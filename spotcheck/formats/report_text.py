"""The words and HTML tables of report.html: what each number means, and the tables."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from spotcheck.formats.charts import pct
from spotcheck.formats.report_data import OutcomeReport
from spotcheck.outcomes.tables import OutcomeRow

# What each number estimates (DESIGN §11), for planners; the English is in outcomes.tables.
MEANINGS: tuple[tuple[str, str], ...] = (
    ("未录入", "已抽中但尚未录入结果的户次。它们从不被当作“未发现问题”：估计只用已录入的结果，"
              "并假定同一分层内结果缺失是随机的。"),
    ("原始比例", "已录入结果中发现问题的比例。它只描述样本：各分层抽查比例不同（风险分类不同、"
                "人力不足时的削减）时，它不是该组企业的发现问题率。"),
    ("分层估计", "该组可抽企业若被检查会发现问题的比例：各分层（任务 × 风险分类 × 管辖区划）的样本"
                "比例按可抽企业数加权，Σ (E_h / E) · p̂_h。每个分层的抽取都是其可抽企业的简单随机"
                "样本（随机码最小的若干户），所以估计无偏（Horvitz–Thompson）。"),
    ("标准误", "分层估计的标准误，含有限总体校正 (1 − n_h / E_h)。"),
    ("精确区间", "95% Clopper–Pearson 区间；多个分层时按有效样本量 n* = p̂(1 − p̂) / v̂ 计算"
                "（Korn–Graubard）。"),
    ("Wilson 区间", "95% Wilson 得分区间，同样按有效样本量计算。"),
    ("覆盖", "至少有一个结果的分层的可抽企业数占全组可抽企业数的比例：估计所代表的范围。"),
)
DISTURBANCE_NOTE = (
    "一次检查指一户企业、一个部门、一天（同一部门一起开展的多项任务只算一次："
    "进一次门、查多项事）；已抽中尚未录入结果的计入其所在季度。企业按其现在的风险分类计。"
    "政策年均次数 = Σ 任务 抽查比例 × 每年轮次 × 该类企业在任务范围内的比例，"
    "按任务计，未扣除冷却期，是上限。")
ADVICE_NOTE = (
    "建议不会自动生效：`spotcheck report --suggest-policy FILE` 把建议写成政策文件，"
    "审核后再以 --policy 使用。约束：各部门抽查户次不超过本期；比例不低于 min_ratio，"
    "不高于 1 及可抽企业所允许的比例；优先级高的风险分类比例不低于优先级低的。"
    "预计发现问题数的标准误包括发现问题率估计的不确定性和下期抽样的随机性。")
OBJECTIVE_LABELS = {"current": "本期实际", "findings": "建议一：发现问题最多",
                    "precision": "建议二：总体估计最准 (Neyman)"}
LEVEL_LABELS = {"overall": "总体", "tier": "风险分类", "task": "任务", "task_tier": "任务 × 分类",
                "stratum": "分层"}


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *,
          text: Sequence[int] = (0,)) -> str:
    """Return an HTML table; the columns at `text` are text (left-aligned, wrapped), the
    others numbers."""
    def cells(row: Sequence[str], tag: str) -> str:
        return "".join(f'<{tag}{" class=l" if i in text else ""}>{escape(str(c))}</{tag}>'
                       for i, c in enumerate(row))

    return ("<table><thead><tr>" + cells(header, "th") + "</tr></thead><tbody>"
            + "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows) + "</tbody></table>")


def _group(report: OutcomeReport, row: OutcomeRow) -> str:
    """Return the name of a row's group, e.g. "GS-QY · A 信用风险低 · 330102"."""
    if row.level == "overall":
        return "总体"
    parts = [row.task, f"{row.tier} {report.tier_label(row.tier)}".strip() if row.tier else "",
             row.jurisdiction, row.quarter if len(report.quarters) > 1 else ""]
    return " · ".join(p for p in parts if p)


def estimate_table(report: OutcomeReport, rows: Sequence[OutcomeRow]) -> str:
    """Return the estimates of these rows as a table."""
    body = []
    for r in rows:
        e = r.estimate
        cp, wi = e.clopper_pearson, e.wilson
        body.append((_group(report, r), f"{e.eligible:,}", f"{e.drawn:,}",
                     f"{e.with_result:,}", f"{e.missing:,}", f"{e.findings:,}",
                     pct(e.raw_rate), pct(e.rate), pct(e.se, 2),
                     f"{pct(cp.low)}–{pct(cp.high)}" if cp else "—",
                     f"{pct(wi.low)}–{pct(wi.high)}" if wi else "—",
                     pct(e.covered / e.eligible if e.eligible else None, 0)))
    return table(("分组", "可抽", "抽中", "已录入", "未录入", "发现问题", "原始比例", "分层估计",
                  "标准误", "精确区间 95%", "Wilson 区间 95%", "覆盖"), body)


def deadline_table(report: OutcomeReport) -> str:
    """Return each task's results against the publication deadline."""
    body = [(f"{d.task} {report.tasks.get(d.task, '')}", f"{d.drawn:,}", f"{d.with_result:,}",
             f"{d.published:,}", f"{d.due:,}", f"{d.overdue:,}",
             f"{d.unknown:,}" + (f"（缺 {'、'.join(map(str, d.unknown_years))} 年放假安排，"
                                  "用 --calendar 提供）" if d.unknown else ""),
             f"{d.missing:,}") for d in report.deadlines]
    return table(("任务", "抽中", "已录入", "已公示", "待公示", "已逾期", "期限未知", "未录入"),
                 body)


def shortfall_table(report: OutcomeReport) -> str:
    """Return the strata drawn below their target, with the binding reason."""
    body = [(f"{s.task} · {s.tier} {report.tier_label(s.tier)} · {s.jurisdiction}",
             f"{s.target:,}", f"{s.floor:,}", f"{s.drawn:,}", f"{s.target - s.drawn:,}",
             s.reason) for s in report.shortfalls]
    return table(("分层", "目标", "下限", "抽中", "缺口", "原因"), body, text=(0, 5))


def advice_table(report: OutcomeReport) -> tuple[str, str]:
    """Return two tables: each allocation's ratios per tier, and their expected effects."""
    allocations = report.advice.allocations
    tiers = [t for t in report.tiers if any(t.tier in a.ratios for a in allocations)]
    ratios = [(f"{t.tier} {t.label}", pct(t.min_ratio, 2), pct(t.ratio, 2),
               *(pct(a.ratios.get(t.tier), 2) for a in allocations)) for t in tiers]
    first = tiers[0].tier if tiers else ""
    effects = [(OBJECTIVE_LABELS[a.objective], f"{sum(a.draws.values()):,.0f}",
                f"{a.expected_findings:,.0f} ± {a.expected_findings_se:,.0f}",
                pct(a.overall_rate_se, 2),
                "—" if first not in a.per_year else f"{a.per_year[first]:.3f}")
               for a in allocations]
    return (table(("风险分类", "政策下限", "政策比例",
                   *(OBJECTIVE_LABELS[a.objective].split("：")[0] for a in allocations)),
                  ratios),
            table(("方案", "抽查户次", "预计发现问题 ± 标准误", "总体发现率标准误",
                   f"{first} 类户均年检查次数"), effects))
