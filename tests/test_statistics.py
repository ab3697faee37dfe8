"""Statistical checks that the draws are unbiased, over 400 fixed seeds (deterministic).

Each test applies a test statistic to the plans of 400 seeds and requires p > 1e-3 (after
Bonferroni correction where several hypotheses are tested). The seeds are fixed strings, so
each p-value is a fixed number; the same statistic is shown to reject a deliberately biased
selection, so the tests can fail.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from datetime import date
from itertools import combinations

import pytest
from builders import enterprise, inspector
from scipy.stats import binomtest, chisquare

import spotcheck
from spotcheck import HistoryRecord, Registry

SEEDS = [f"统计-{i:03d}" for i in range(400)]
QUARTER = "2026Q4"
THRESHOLD = 1e-3

POLICY = """schema = 1
team_size = 2

[tiers.C]
ratio = 0.15
min_ratio = 0.1
quarters = [4]
cooldown_months = 3
priority = 1

[tiers.D]
ratio = 0.16
min_ratio = 0.1
quarters = [4]
cooldown_months = 0
priority = 2

[[tasks]]
code = "GS-QY"
department = "SCJG"
"""

# Tier C: 40 enterprises, ratio 0.15 → target exactly 6; 10 are in cooldown (inspected on or
# after 2026-07-01), so E = 30 and each eligible one should be drawn with probability 6/30.
# Tier D: 40 enterprises, ratio 0.16 → target 6 + (v >= 0.6), i.e. 7 with probability 0.4, so
# each is drawn with probability 6.4/40.
TIER_C = [enterprise(i, "330102", "C") for i in range(1, 41)]
TIER_D = [enterprise(i, "330102", "D") for i in range(41, 81)]
COOLED = {e.enterprise_id for e in TIER_C[:10]}
HISTORY = [HistoryRecord(enterprise_id=e.enterprise_id, task="GS-QY",
                         inspected_on=date(2026, 8, 15)) for e in TIER_C[:9]] + [
    HistoryRecord(enterprise_id=TIER_C[9].enterprise_id, task="GS-QY",
                  inspected_on=date(2026, 7, 1)),
    HistoryRecord(enterprise_id=TIER_C[10].enterprise_id, task="GS-QY",
                  inspected_on=date(2026, 6, 30))]
OFFICERS = [inspector(k) for k in range(1, 9)]  # equivalent, capacity 1000 each


def sha(text: str) -> str:
    """Return the hex SHA-256 of the UTF-8 bytes of `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def plans() -> list[spotcheck.Plan]:
    """The plans of the 400 seeds."""
    registry = Registry.build(TIER_C + TIER_D, OFFICERS, (), HISTORY)
    policy = spotcheck.parse_policy(POLICY)
    return [spotcheck.plan_quarter(registry, policy, QUARTER, seed) for seed in SEEDS]


def inclusion_p_value(samples: Iterable[Iterable[str]], population: list[str],
                      probability: float) -> float:
    """Return the Bonferroni-adjusted smallest binomial p-value of per-member inclusion."""
    drawn = list(samples)
    counts = Counter(member for sample in drawn for member in sample)
    assert set(counts) <= set(population)
    smallest = min(binomtest(counts[m], len(drawn), probability).pvalue for m in population)
    return min(1.0, smallest * len(population))


def uniformity_p_value(picks: Iterable[Hashable], categories: Sequence[Hashable]) -> float:
    """Return the chi-square p-value that picks are spread uniformly over the categories."""
    counts = Counter(picks)
    assert set(counts) <= set(categories)
    return float(chisquare([counts[c] for c in categories]).pvalue)


def drawn_in_tier(plan: spotcheck.Plan, tier: str) -> list[str]:
    """Return the enterprises the plan draws in one tier."""
    return [d.enterprise_id for d in plan.draws if d.tier == tier]


def biased_draw(seed: str, eligible: list[str], size: int) -> list[str]:
    """Return a plausible bug: a random window of consecutive ids instead of a random set."""
    start = int(sha(seed)[:8], 16) % (len(eligible) - size + 1)
    return eligible[start:start + size]


def test_round_v1_targets_have_the_right_mean(plans: list[spotcheck.Plan]) -> None:
    """Tier C always targets 6 of its 30 eligible; tier D targets 7 in a 0.4 share of seeds."""
    rows = [{s.tier: s for s in plan.strata} for plan in plans]
    assert {(r["C"].population, r["C"].eligible, r["C"].target) for r in rows} == {(40, 30, 6)}
    assert {r["D"].target for r in rows} == {6, 7}
    sevens = sum(r["D"].target == 7 for r in rows)
    assert binomtest(sevens, len(rows), 0.4).pvalue > THRESHOLD


def test_each_eligible_enterprise_is_drawn_with_probability_ratio_n_over_e(
        plans: list[spotcheck.Plan]) -> None:
    """Inclusion frequencies match ratio·N/E (6/30 in C, 6.4/40 in D); cooled ones never drawn."""
    eligible_c = [e.enterprise_id for e in TIER_C if e.enterprise_id not in COOLED]
    samples_c = [drawn_in_tier(plan, "C") for plan in plans]
    assert not COOLED & {e for sample in samples_c for e in sample}
    assert all(len(sample) == 6 for sample in samples_c)
    assert inclusion_p_value(samples_c, eligible_c, 6 / 30) > THRESHOLD
    samples_d = [drawn_in_tier(plan, "D") for plan in plans]
    assert inclusion_p_value(samples_d, [e.enterprise_id for e in TIER_D], 6.4 / 40) > THRESHOLD


def test_the_inclusion_test_rejects_a_biased_draw() -> None:
    """The same inclusion test rejects a random window of consecutive ids (ends are rarer)."""
    eligible = sorted(e.enterprise_id for e in TIER_C if e.enterprise_id not in COOLED)
    samples = [biased_draw(seed, eligible, 6) for seed in SEEDS]
    assert inclusion_p_value(samples, eligible, 6 / 30) < THRESHOLD


def test_each_lawful_officer_is_picked_uniformly(plans: list[spotcheck.Plan]) -> None:
    """With slack capacity, eight equivalent officers and their 28 pairs are picked uniformly."""
    officers = [o.inspector_id for o in OFFICERS]
    teams = [tuple(sorted(a.inspector_id for a in plan.assignments
                          if a.enterprise_id == visit.enterprise_id))
             for plan in plans for visit in plan.visits]
    assert len(teams) > 4000 and all(len(team) == 2 for team in teams)
    assert uniformity_p_value((o for team in teams for o in team), officers) > THRESHOLD
    assert uniformity_p_value(teams, list(combinations(officers, 2))) > THRESHOLD


def test_the_uniformity_test_rejects_a_biased_pick(plans: list[spotcheck.Plan]) -> None:
    """The same test rejects teams chosen on a cost's first hex digit with ties by id."""
    officers = [o.inspector_id for o in OFFICERS]
    teams = []
    for seed, plan in zip(SEEDS, plans, strict=True):
        digest = sha(seed)
        for visit in plan.visits:
            costs = {o: sha(f"assign-v1:{digest}:{QUARTER}:{visit.enterprise_id}:{o}")[:1]
                     for o in officers}
            teams.append(tuple(sorted(sorted(officers, key=lambda o: (costs[o], o))[:2])))
    assert uniformity_p_value((o for team in teams for o in team), officers) < THRESHOLD
