"""report.html: the outcome report as one self-contained page (DESIGN §11).

No script, no web font, no file beside it: styles in one <style>, charts as inline SVG
(`formats.charts`), so the page opens offline and the same report gives the same bytes. It
is internal — it shows tiers — and is never published.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from html import escape

from spotcheck.formats.charts import (
    TIER_COLOURS,
    IntervalPoint,
    Series,
    bar_chart,
    hbar_chart,
    interval_chart,
    pct,
    stacked_bars,
)
from spotcheck.formats.report_data import OutcomeReport
from spotcheck.formats.report_text import (
    ADVICE_NOTE,
    DISTURBANCE_NOTE,
    MEANINGS,
    OBJECTIVE_LABELS,
    advice_table,
    deadline_table,
    estimate_table,
    shortfall_table,
    table,
)

STYLE = """
body{margin:0;background:#f5f6f8;color:#263238;font:14px/1.55 "Noto Sans CJK SC",
"Source Han Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:0 0 12px;
border-left:4px solid #1565c0;padding-left:10px}h3{font-size:15px;margin:14px 0 6px}
.sub{color:#607d8b;margin:0 0 18px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);
padding:18px 22px;margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.card{background:#f5f8fc;border-radius:6px;padding:10px 14px}
.card b{display:block;font-size:24px;line-height:1.3}.card span{color:#607d8b;font-size:12px}
.card.warn b{color:#c62828}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:16px;
align-items:start}
svg.chart{max-width:100%;height:auto;font-family:inherit}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
th,td{border-bottom:1px solid #e6e9ed;padding:5px 8px;text-align:right;white-space:nowrap}
th{background:#eef2f6;font-weight:600}td.l,th.l{text-align:left;white-space:normal}
td.l:first-child{white-space:nowrap}
.note{color:#546e7a;font-size:13px}.note li{margin:2px 0}
details summary{cursor:pointer;color:#1565c0;margin:6px 0}
"""


def _colours(report: OutcomeReport) -> dict[str, str]:
    """Return each tier's colour, in the policy's priority order."""
    return {t.tier: TIER_COLOURS[i % len(TIER_COLOURS)] for i, t in enumerate(report.tiers)}


def _tier_name(report: OutcomeReport, tier: str) -> str:
    """Return a tier with its label, e.g. "A 信用风险低"."""
    label = report.tier_label(tier)
    return f"{tier} {label}" if label else tier


def _cards(report: OutcomeReport) -> str:
    """Return the headline cards of the quarter."""
    overall = report.rows("overall")[0].estimate
    overdue = sum(d.overdue for d in report.deadlines)
    used = [w for w in report.workload if w.quarter == report.quarter and w.capacity]
    load = sum(w.visits for w in used) / max(1, sum(w.capacity for w in used))
    interval = overall.clopper_pearson
    cards = [("抽中户次", f"{overall.drawn:,}", "drawn (task × enterprise)", False),
             ("已录入结果", f"{overall.with_result:,}", "with a result", False),
             ("尚未录入", f"{overall.missing:,}", "missing: not counted as no finding",
              overall.missing > 0),
             ("发现问题", f"{overall.findings:,}", "findings", False),
             ("总体发现问题率", pct(overall.rate),
              f"95% {pct(interval.low)}–{pct(interval.high)}" if interval else "no result yet",
              False),
             ("逾期未公示", f"{overdue:,}", "overdue for publication", overdue > 0),
             ("执法人员使用率", pct(load), "visits / capacity", False)]
    return '<div class="cards">' + "".join(
        f'<div class="card{" warn" if warn else ""}"><span>{escape(title)}</span>'
        f"<b>{escape(value)}</b><span>{escape(hint)}</span></div>"
        for title, value, hint, warn in cards) + "</div>"


def _rates(report: OutcomeReport) -> str:
    """Return the finding-rate section: interval chart, sample sizes, tables, meanings."""
    colours = _colours(report)
    rows = report.rows("tier")
    points = [IntervalPoint(_tier_name(report, r.tier), r.estimate.rate,
                            r.estimate.clopper_pearson.low if r.estimate.clopper_pearson
                            else None,
                            r.estimate.clopper_pearson.high if r.estimate.clopper_pearson
                            else None, r.estimate.raw_rate, colours.get(r.tier, "#455a64"))
              for r in rows]
    overall = report.rows("overall")[0]
    e = overall.estimate
    points.append(IntervalPoint("总体", e.rate, e.clopper_pearson.low if e.clopper_pearson
                                else None, e.clopper_pearson.high if e.clopper_pearson
                                else None, e.raw_rate, "#37474f"))
    sizes = bar_chart("tier-samples", "各风险分类样本量", [r.tier for r in rows],
                      [Series("抽中 drawn", [r.estimate.drawn for r in rows], "#90a4ae"),
                       Series("已录入结果 with result", [r.estimate.with_result for r in rows],
                              "#1565c0")], lambda v: f"{v:,.0f}")
    meanings = "".join(f"<li><b>{escape(k)}</b>：{escape(v)}</li>" for k, v in MEANINGS)
    return ("<section id=\"rates\"><h2>各风险分类发现问题率 Finding rate by tier</h2>"
            f'<div class="pair">{interval_chart("tier-rates", "各风险分类发现问题率", points)}'
            f"{sizes}</div>{estimate_table(report, [*rows, overall])}"
            f'<h3>这些数字是什么 What each number estimates</h3><ul class="note">{meanings}</ul>'
            "<details><summary>按任务 × 风险分类 By task and tier</summary>"
            f'{estimate_table(report, report.rows("task_tier"))}</details>'
            "<details><summary>按分层 By stratum (task × tier × jurisdiction)</summary>"
            f'{estimate_table(report, report.rows("stratum"))}</details></section>')


def _disturbance(report: OutcomeReport) -> str:
    """Return the disturbance section: shares, visits per year, the table."""
    rows = report.disturbance
    tiers = [d.tier for d in rows]
    share = bar_chart("disturbance-share", "近四个季度至少被检查一次的企业占比", tiers,
                      [Series("近四季度被检查企业占比", [d.share for d in rows], "#00838f")],
                      lambda v: pct(v, 1))
    per_year = bar_chart("disturbance-rate", "每户企业年均检查次数", tiers,
                         [Series("实际（近四季度）observed", [d.visits_per_enterprise
                                                             for d in rows], "#00838f"),
                          Series("政策预期 policy", [d.policy_per_year for d in rows],
                                 "#b0bec5")], lambda v: f"{v:.2f}")
    start, end = report.window
    body = [(_tier_name(report, d.tier), f"{d.enterprises:,}", f"{d.inspected:,}", pct(d.share),
             f"{d.visits:,}", "—" if d.visits_per_enterprise is None
             else f"{d.visits_per_enterprise:.3f}",
             "—" if d.policy_per_year is None else f"{d.policy_per_year:.3f}",
             str(d.rounds_per_year), str(d.cooldown_months)) for d in rows]
    return ("<section id=\"disturbance\"><h2>对企业的干扰 Disturbance by tier</h2>"
            f'<p class="note">检查窗口 {start.isoformat()} 至 {end.isoformat()}（近四个季度）。'
            f"{escape(DISTURBANCE_NOTE)}</p>"
            f'<div class="pair">{share}{per_year}</div>'
            + table(("风险分类", "企业数", "被检查企业", "占比", "检查户次", "户均次数",
                     "政策年均次数", "每年轮次", "冷却期(月)"), body) + "</section>")


def _utilisation(report: OutcomeReport) -> str:
    """Return the utilisation section: histogram, per department, per place."""
    mine = [w for w in report.workload if w.quarter == report.quarter]
    bins = [0] * 11
    for w in mine:
        if w.utilisation is not None:
            bins[min(10, int(w.utilisation * 10 + 1e-9))] += 1
    labels = [f"{10 * i}–{10 * i + 9}%" for i in range(10)] + ["100%"]
    histogram = bar_chart("utilisation-histogram", "执法人员使用率分布", labels,
                          [Series("执法人员人数 officers", bins, "#5c6bc0")],
                          lambda v: f"{v:,.0f}", width=640)
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for w in mine:
        group = groups[(w.department, w.jurisdiction)]
        group[0] += 1
        group[1] += w.capacity
        group[2] += w.visits
    keys = sorted(groups)
    shares = [groups[k][2] / groups[k][1] if groups[k][1] else 0.0 for k in keys]
    colours = ["#c62828" if s >= 0.995 else "#5c6bc0" for s in shares]
    by_place = hbar_chart("utilisation-groups", "按部门与管辖区划的使用率",
                          [f"{d} {j}" for d, j in keys], shares, lambda v: pct(v, 0),
                          colours=colours, top=1.0, width=640,
                          notes=[f"{groups[k][2]:,}/{groups[k][1]:,}" for k in keys])
    departments: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for w in mine:
        row = departments[w.department]
        row[0] += 1
        row[1] += w.visits > 0
        row[2] += w.capacity >= 1 and w.visits >= w.capacity
        row[3] += w.capacity
        row[4] += w.visits
    summary = table(("部门", "执法人员", "有检查任务", "满负荷", "检查上限", "检查户次", "使用率"),
                    [(d, f"{n:,}", f"{busy:,}", f"{full:,}", f"{cap:,}", f"{visits:,}",
                      pct(visits / cap if cap else None))
                     for d, (n, busy, full, cap, visits) in sorted(departments.items())])
    return ("<section id=\"utilisation\"><h2>执法人员使用率 Officer utilisation</h2>"
            '<p class="note">检查户次 ÷ 季度检查上限；红色为已满负荷的部门与区划。'
            "Visits over quarterly capacity; red: fully booked.</p>"
            f'<div class="pair"><div>{histogram}{summary}</div>{by_place}</div></section>')


def _deadlines(report: OutcomeReport) -> str:
    """Return the deadline section: status per task as bars and a table."""
    rows = report.deadlines
    names = [d.task for d in rows]
    chart = stacked_bars("deadline-status", "结果录入与公示进度", names, [
        Series("已公示", [d.published for d in rows], "#2e7d32"),
        Series("待公示", [d.due for d in rows], "#1565c0"),
        Series("已逾期", [d.overdue for d in rows], "#c62828"),
        Series("期限未知", [d.unknown for d in rows], "#ffb300"),
        Series("未录入", [d.missing for d in rows], "#b0bec5")], width=1120)
    return ("<section id=\"deadlines\"><h2>结果公示期限 Results and publication deadlines</h2>"
            f"<p class=\"note\">截至 {report.today.isoformat()}。结果应在检查完成后"
            "20个工作日内公示（企业信息公示暂行条例 第6条）。</p>"
            f"{chart}{deadline_table(report)}</section>")


def _shortfalls(report: OutcomeReport) -> str:
    """Return the shortfall section (or a line saying there is none)."""
    if not report.shortfalls:
        return ("<section id=\"shortfalls\"><h2>抽取缺口 Shortfalls</h2><p>所有分层均按目标抽足。"
                "Every stratum drew its target.</p></section>")
    return ("<section id=\"shortfalls\"><h2>抽取缺口 Shortfalls</h2>"
            f"{shortfall_table(report)}</section>")


def _advice(report: OutcomeReport) -> str:
    """Return the advice section: ratios chart and table, effects, notes."""
    allocations = report.advice.allocations
    tiers = [t.tier for t in report.tiers if any(t.tier in a.ratios for a in allocations)]
    colours = ("#90a4ae", "#c62828", "#1565c0")
    chart = bar_chart("advice-ratios", "各风险分类抽查比例：现行与建议", tiers,
                      [Series(OBJECTIVE_LABELS[a.objective], [a.ratios.get(t) for t in tiers],
                              colours[i % 3]) for i, a in enumerate(allocations)],
                      lambda v: pct(v, 1), width=640)
    notes = "".join(f"<li>{escape(n)}</li>" for n in (ADVICE_NOTE, *report.advice.notes))
    ratios, effects = advice_table(report)
    return ("<section id=\"advice\"><h2>下期抽查比例建议 Advice for the next period</h2>"
            f'<div class="pair">{chart}<div>{ratios}</div></div>{effects}'
            f'<ul class="note">{notes}</ul></section>')


def report_html(report: OutcomeReport) -> str:
    """Return the report page: the quarter at a glance, rates, disturbance, utilisation,
    shortfalls, deadlines and the advice."""
    plans = "，".join(f"{p.plan_id}（{p.quarter}，种子 {p.seed}）" for p in report.plans
                     if p.quarter == report.quarter)
    span = (report.quarters[0] if len(report.quarters) == 1
            else f"{report.quarters[0]}–{report.quarters[-1]}")
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    notes = f'<ul class="note">{notes}</ul>' if notes else ""
    sections: Sequence[str] = (
        f"<section id=\"glance\"><h2>本季概览 The quarter at a glance</h2>{_cards(report)}"
        f'<p class="note">抽查计划 {escape(plans)}。统计期 {span}；'
        f"截至 {report.today.isoformat()}。</p>{notes}</section>",
        _rates(report), _disturbance(report), _utilisation(report), _shortfalls(report),
        _deadlines(report), _advice(report))
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>双随机抽查结果分析 {escape(report.quarter)}</title>"
            f"<style>{STYLE}</style></head><body><main>"
            f"<h1>双随机抽查结果分析 {escape(report.quarter)}</h1>"
            f'<p class="sub">{escape(report.policy_name)} · 内部资料，含风险分类，不得公开 '
            "(internal: shows credit-risk tiers, never published)</p>"
            + "".join(sections) + "</main></body></html>\n")
