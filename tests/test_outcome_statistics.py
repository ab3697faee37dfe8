"""The outcome statistics against known values: intervals, the stratified estimate, the
outcome table, the policy's disturbance, the advice and the suggested policy file."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import binom

from spotcheck.formats.policy_toml import policy_toml
from spotcheck.models.policy import load_policy, parse_policy
from spotcheck.outcomes import (
    AdviceCell,
    StratumCounts,
    StratumOutcome,
    advise,
    clopper_pearson,
    outcome_rows,
    stratified,
    wilson,
)
from spotcheck.outcomes.disturbance import policy_per_year

# Newcombe (1998), Statistics in Medicine 17: 857–872, Table II: methods 5 (exact) and 3
# (score), to four decimals.
NEWCOMBE = [((81, 263), (0.2527, 0.3676), (0.2553, 0.3662)),
            ((15, 148), (0.0578, 0.1617), (0.0624, 0.1605)),
            ((0, 20), (0.0, 0.1684), (0.0, 0.1611)),
            ((1, 29), (0.0009, 0.1776), (0.0061, 0.1718))]


@pytest.mark.parametrize(("counts", "exact", "score"), NEWCOMBE)
def test_intervals_match_published_values(counts: tuple[int, int], exact: tuple[float, float],
                                          score: tuple[float, float]) -> None:
    """Clopper–Pearson and Wilson reproduce Newcombe's published intervals to 4 decimals."""
    cp, wi = clopper_pearson(*counts), wilson(*counts)
    assert (cp.low, cp.high) == pytest.approx(exact, abs=6e-5)
    assert (wi.low, wi.high) == pytest.approx(score, abs=6e-5)


def test_interval_closed_forms_at_the_edges() -> None:
    """0 of n and n of n: the exact bounds are 1 − (α/2)^(1/n) and (α/2)^(1/n)."""
    for n in (1, 7, 50):
        assert clopper_pearson(0, n).high == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-9)
        assert clopper_pearson(n, n).low == pytest.approx(0.025 ** (1 / n), rel=1e-9)
        assert clopper_pearson(0, n).low == 0 and clopper_pearson(n, n).high == 1
        assert wilson(0, n).low == 0 and wilson(n, n).high == 1


@pytest.mark.parametrize("n", [5, 12, 30])
def test_exact_interval_covers_at_least_95_percent_for_every_rate(n: int) -> None:
    """Clopper–Pearson's coverage, summed over the binomial, is ≥ 95 % at every true rate."""
    bounds = [clopper_pearson(y, n) for y in range(n + 1)]
    for p in np.linspace(0.001, 0.999, 199):
        covered = sum(binom.pmf(y, n, p) for y, b in enumerate(bounds) if b.covers(p))
        assert covered >= 0.95 - 1e-12, (n, p, covered)


def test_intervals_refuse_impossible_counts() -> None:
    """More findings than inspections, or no inspection, is an error, not an interval."""
    for y, n in ((3, 2), (0, 0), (-1, 5)):
        with pytest.raises(ValueError):
            clopper_pearson(y, n)
        with pytest.raises(ValueError):
            wilson(y, n)


def test_stratified_rate_and_variance_by_hand() -> None:
    """Two strata, worked by hand: p̂ = 0.1·0.5 + 0.9·0.1 = 0.14, v̂ = 0.00025 + 0.00243."""
    estimate = stratified([StratumCounts(100, 10, 10, 5), StratumCounts(900, 30, 30, 3)])
    assert estimate.rate == pytest.approx(0.14, abs=1e-15)
    assert estimate.se is not None
    assert estimate.se ** 2 == pytest.approx(0.00268, rel=1e-12)
    assert estimate.raw_rate == pytest.approx(8 / 40)
    assert estimate.effective_n == pytest.approx(min(40, 0.14 * 0.86 / 0.00268))


def test_missing_results_are_never_no_finding() -> None:
    """Drawn without a result is counted apart and left out of the rates."""
    estimate = stratified([StratumCounts(50, 10, 6, 3), StratumCounts(50, 4, 0, 0)])
    assert (estimate.drawn, estimate.with_result, estimate.missing) == (14, 6, 8)
    assert estimate.rate == pytest.approx(0.5) and estimate.raw_rate == pytest.approx(0.5)
    assert (estimate.eligible, estimate.covered, estimate.strata_without_results) == (100, 50, 1)


def test_census_and_single_result_strata() -> None:
    """A stratum inspected whole has no sampling error; one result gets the bound 1/4."""
    census = stratified([StratumCounts(20, 20, 20, 4)])
    assert census.rate == pytest.approx(0.2) and census.se == 0
    single = stratified([StratumCounts(10, 1, 1, 0), StratumCounts(10, 5, 5, 1)])
    assert single.single_result_strata == 1
    assert single.se is not None
    assert single.se ** 2 == pytest.approx(0.25 * 0.9 * 0.25 + 0.25 * 0.5 * 0.2 * 0.8 / 4)


def test_no_result_yet_estimates_nothing() -> None:
    """Without a single result the rate, error and intervals are None, never 0."""
    estimate = stratified([StratumCounts(30, 3, 0, 0)])
    assert estimate.rate is None and estimate.se is None and estimate.clopper_pearson is None
    assert estimate.missing == 3


def test_counts_must_be_consistent() -> None:
    """Findings above results, or results above draws, are refused."""
    with pytest.raises(ValueError):
        StratumCounts(10, 5, 6, 0)
    with pytest.raises(ValueError):
        StratumCounts(10, 5, 4, 5)


def test_outcome_table_groups_and_orders() -> None:
    """Overall first, then tiers in the given order, tasks, task × tier and strata."""
    strata = [StratumOutcome("2026Q4", task, tier, place, StratumCounts(40, 8, 8, k))
              for k, (task, tier, place) in enumerate(itertools.product(
                  ("T2", "T1"), ("D", "A"), ("330102", "330105")))]
    rows = outcome_rows(strata, ("A", "D"))
    assert [r.level for r in rows] == (["overall"] + ["tier"] * 2 + ["task"] * 2
                                       + ["task_tier"] * 4 + ["stratum"] * 8)
    assert [r.tier for r in rows if r.level == "tier"] == ["A", "D"]
    assert [(r.task, r.tier) for r in rows if r.level == "task_tier"] == [
        ("T1", "A"), ("T1", "D"), ("T2", "A"), ("T2", "D")]
    assert rows[0].estimate.findings == sum(range(8))
    tier_a = next(r for r in rows if r.level == "tier" and r.tier == "A").estimate
    assert tier_a.findings == sum(k for k, s in enumerate(strata) if s.tier == "A")


def test_policy_inspections_per_year() -> None:
    """Σ_task ratio × rounds × share in scope: the shipped policy's D, all in scope, is 4.8."""
    policy, _ = load_policy()
    scope = {("GS-QY", "D"): 100, ("SP-JY", "D"): 40, ("TZ-SB", "D"): 20}
    assert policy_per_year(policy, "D", scope, 100) == pytest.approx(0.4 * 4 * 1.6)
    assert policy_per_year(policy, "A", {("GS-QY", "A"): 50}, 50) == pytest.approx(0.03)
    assert policy_per_year(policy, "A", {}, 0) is None


POLICY = parse_policy("""schema = 1
team_size = 2

[tiers.A]
ratio = 0.05
min_ratio = 0.01
priority = 1

[tiers.B]
ratio = 0.1
min_ratio = 0.02
priority = 2

[tiers.C]
ratio = 0.3
min_ratio = 0.1
priority = 3

[[tasks]]
code = "T1"
department = "SCJG"
""")


def _cells(rates: dict[str, float]) -> list[AdviceCell]:
    sizes = {"A": 4000, "B": 2000, "C": 500}
    drawn = {t: round(POLICY.tiers[t].ratio * n) for t, n in sizes.items()}
    return [AdviceCell("T1", "SCJG", t, n, n, drawn[t], drawn[t], rates[t],
                       rates[t] * (1 - rates[t]) / drawn[t]) for t, n in sizes.items()]


def _grid(step: Fraction = Fraction(1, 200)) -> list[dict[str, float]]:
    """Every feasible ratio triple on a grid: bounds, budget 550 draws, priority order."""
    found = []
    values = [float(step * k) for k in range(int(1 / step) + 1)]
    for a, b, c in itertools.product(values, repeat=3):
        if a >= 0.01 and b >= 0.02 and c >= 0.1 and a <= b <= c \
                and 4000 * a + 2000 * b + 500 * c <= 550 + 1e-9:
            found.append({"A": a, "B": b, "C": c})
    return found


def _variance(ratios: dict[str, float], rates: dict[str, float]) -> float:
    sizes = {"A": 4000, "B": 2000, "C": 500}
    return sum((n / 6500) ** 2 * rates[t] * (1 - rates[t]) * (1 / (ratios[t] * n) - 1 / n)
               for t, n in sizes.items())


def test_advice_keeps_the_workload_bounds_and_order() -> None:
    """Both suggestions stay within min_ratio..1, the priority order and this period's draws."""
    advice = advise(POLICY, _cells({"A": 0.02, "B": 0.3, "C": 0.1}))
    assert advice.budgets == {"SCJG": 200 + 200 + 150}
    for objective in ("findings", "precision"):
        allocation = advice.allocation(objective)
        assert allocation is not None
        r = allocation.ratios
        assert 0.01 <= r["A"] <= r["B"] <= r["C"] <= 1 and r["B"] >= 0.02 and r["C"] >= 0.1
        assert 4000 * r["A"] + 2000 * r["B"] + 500 * r["C"] <= 550 + 1e-9


def test_most_findings_is_the_best_feasible_allocation() -> None:
    """No feasible ratio triple on a 0.5 % grid finds more than the findings suggestion."""
    rates = {"A": 0.02, "B": 0.3, "C": 0.1}
    allocation = advise(POLICY, _cells(rates)).allocation("findings")
    assert allocation is not None
    sizes = {"A": 4000, "B": 2000, "C": 500}
    best = max(sum(g[t] * sizes[t] * rates[t] for t in g) for g in _grid())
    assert allocation.expected_findings >= best - 1e-6
    assert allocation.expected_findings == pytest.approx(
        sum(allocation.ratios[t] * sizes[t] * rates[t] for t in sizes))


def test_neyman_is_the_most_precise_feasible_allocation() -> None:
    """No feasible grid point gives the overall rate a smaller variance than the precision
    suggestion (rounded down to 4 decimals, so within a hair of the optimum)."""
    rates = {"A": 0.05, "B": 0.2, "C": 0.4}
    allocation = advise(POLICY, _cells(rates)).allocation("precision")
    assert allocation is not None and allocation.overall_rate_se is not None
    best = min(_variance(g, rates) for g in _grid())
    assert allocation.overall_rate_se ** 2 <= best * (1 + 1e-3)
    assert allocation.overall_rate_se ** 2 == pytest.approx(_variance(allocation.ratios, rates))


def test_neyman_without_binding_bounds_is_proportional_to_size_times_sd() -> None:
    """With nothing binding but the workload, draws are ∝ E_t·S_t (Neyman 1934)."""
    policy = parse_policy(_toml_without_floors())
    rates = {"A": 0.1, "B": 0.3, "C": 0.5}
    sizes = {"A": 4000, "B": 2000, "C": 500}
    cells = [AdviceCell("T1", "SCJG", t, n, n, 40, 40, rates[t], 0.0) for t, n in sizes.items()]
    allocation = advise(policy, cells).allocation("precision")
    assert allocation is not None
    weight = {t: sizes[t] * (rates[t] * (1 - rates[t])) ** 0.5 for t in sizes}
    for t in sizes:
        share = allocation.draws[t] / sum(allocation.draws.values())
        assert share == pytest.approx(weight[t] / sum(weight.values()), abs=5e-3)
    assert sum(allocation.draws.values()) == pytest.approx(120, abs=1.0)


def _toml_without_floors() -> str:
    return """schema = 1
team_size = 2

[tiers.A]
ratio = 0.01
priority = 1

[tiers.B]
ratio = 0.02
priority = 2

[tiers.C]
ratio = 0.1
priority = 3

[[tasks]]
code = "T1"
department = "SCJG"
"""


def test_no_results_gives_no_suggestion() -> None:
    """Without any result there is nothing to advise from: only the current allocation."""
    cells = [AdviceCell("T1", "SCJG", t, 100, 100, 5, 0, None, None) for t in "ABC"]
    advice = advise(POLICY, cells)
    assert [a.objective for a in advice.allocations] == ["current"]
    assert advice.notes


def test_suggested_policy_reads_back_as_the_policy_with_new_ratios() -> None:
    """The TOML parses to the same policy (tasks, codes, authority kept) with the new ratios."""
    text = load_policy()[1].decode() + """
authority = "某市市场监督管理局"
publish_within_working_days = 15

[results.1]
label = "未发现问题"
finding = false
exclusive = true

[results.A]
label = "发现问题 \\"待\\"处理"
finding = true
"""
    # keys after a table belong to it: move the top-level ones up
    head, tables = text.split("[tiers.A]", 1)
    top = 'authority = "某市市场监督管理局"\npublish_within_working_days = 15\n'
    source = head + top + "[tiers.A]" + tables.replace(top, "")
    policy = parse_policy(source)
    written = policy_toml(policy, {"A": 0.0123, "D": 0.9}, ["审核后使用", ""])
    again = parse_policy(written)
    assert written.startswith("# 审核后使用\n#\n")
    assert again.tiers["A"].ratio == 0.0123 and again.tiers["D"].ratio == 0.9
    assert again.tiers["B"] == policy.tiers["B"] and again.tasks == policy.tasks
    assert again.results == policy.results and again.authority == policy.authority
    assert again.publish_within_working_days == 15
