"""Proof that the outcome statistics are right (DESIGN §11), by simulation.

A synthetic registry of 12,000 enterprises gets a planted finding per enterprise (a fixed
SHA-256 draw at a rate that depends on its tier and district, so the truth of every tier is
a known number: the share of its eligible enterprises with a planted finding). Each of 300
fixed seeds then draws the quarter exactly as a plan does — round-v1 targets, draw-v1 bottom-k
tickets — except that one district is cut to half its targets, as capacity cuts do, and a
tenth of the results go missing at random. Over the seeds:

- the stratified estimate of every tier and overall is unbiased: its mean is within four
  Monte-Carlo standard errors of the truth;
- the 95 % intervals (Clopper–Pearson with the effective sample size, and Wilson) cover the
  truth in at least 93 % of the seeds;
- the raw rate of the drawn sample is not: overall, where strata are sampled at very
  different ratios, it misses the truth by many standard errors (so the test can fail).

The seeds are fixed strings, so every number here is a fixed number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from spotcheck.demo import synthetic_city
from spotcheck.models.policy import parse_policy
from spotcheck.models.quarter import Quarter
from spotcheck.outcomes import StratumCounts, stratified
from spotcheck.outcomes.simulation import planted
from spotcheck.scheduler.draw import order_strata, stratum_target
from spotcheck.scheduler.eligibility import strata_for_quarter
from spotcheck.scheduler.hashes import sha256_hex

SEEDS = [f"模拟-{i:03d}" for i in range(300)]
QUARTER = Quarter.parse("2026Q4")
RATES = {"A": 0.03, "B": 0.08, "C": 0.2, "D": 0.4}
CUT = "330114"  # half of every target here, as a capacity cut would leave it
POLICY = parse_policy("""schema = 1
team_size = 2

[tiers.A]
ratio = 0.05
quarters = [4]
cooldown_months = 12
priority = 1

[tiers.B]
ratio = 0.06
quarters = [4]
cooldown_months = 6
priority = 2

[tiers.C]
ratio = 0.2
quarters = [4]
cooldown_months = 3
priority = 3

[tiers.D]
ratio = 0.5
quarters = [4]
priority = 4

[[tasks]]
code = "GS-QY"
department = "SCJG"
""")


@dataclass(frozen=True)
class Run:
    """Per seed and group (each tier, "all"): estimate, intervals and raw rate."""

    truth: dict[str, float]
    rate: dict[str, np.ndarray]
    raw: dict[str, np.ndarray]
    exact_covers: dict[str, np.ndarray]
    wilson_covers: dict[str, np.ndarray]


def _planted_rate(tier: str, jurisdiction: str) -> float:
    # the cut district finds twice as much: unequal sampling then biases the raw rate
    return min(0.9, RATES[tier] * (2 if jurisdiction == CUT else 1))


@pytest.fixture(scope="module")
def run() -> Run:
    """The 300 simulated quarters."""
    registry = synthetic_city(12_000)
    ids = registry.enterprises.ids.astype("U18").tolist()
    tiers = registry.enterprises.tiers.astype("U16")
    places = registry.enterprises.jurisdictions.astype("U6")
    finding = planted("simulation-finding", ids,
                      [_planted_rate(t, j) for t, j in zip(tiers, places, strict=True)])
    strata = strata_for_quarter(registry, POLICY, QUARTER)
    groups = [*RATES, "all"]
    truth = {}
    for group in groups:
        rows = np.concatenate([s.eligible for s in strata if group in (s.tier, "all")])
        truth[group] = float(finding[rows].mean())
    rate = {g: np.zeros(len(SEEDS)) for g in groups}
    raw = {g: np.zeros(len(SEEDS)) for g in groups}
    exact = {g: np.zeros(len(SEEDS), bool) for g in groups}
    wil = {g: np.zeros(len(SEEDS), bool) for g in groups}
    for k, seed in enumerate(SEEDS):
        digest = sha256_hex(seed)
        orders = order_strata(registry, strata, digest, str(QUARTER))
        counts: dict[str, list[StratumCounts]] = {g: [] for g in groups}
        for s in strata:
            target = stratum_target(s, POLICY, digest, str(QUARTER)).target
            drawn = orders[s.key].rows[:target // 2 if s.jurisdiction == CUT else target]
            lost = planted(f"simulation-missing:{seed}",
                           [ids[r] for r in drawn.tolist()], [0.1] * len(drawn))
            kept = drawn[~lost]
            c = StratumCounts(len(s.eligible), len(drawn), len(kept),
                              int(finding[kept].sum()))
            counts[s.tier].append(c)
            counts["all"].append(c)
        for g in groups:
            e = stratified(counts[g])
            assert e.rate is not None and e.raw_rate is not None
            assert e.clopper_pearson is not None and e.wilson is not None
            rate[g][k], raw[g][k] = e.rate, e.raw_rate
            exact[g][k] = e.clopper_pearson.covers(truth[g])
            wil[g][k] = e.wilson.covers(truth[g])
    return Run(truth, rate, raw, exact, wil)


@pytest.mark.parametrize("group", [*RATES, "all"])
def test_stratified_estimate_is_unbiased(run: Run, group: str) -> None:
    """Over 300 seeds the stratified rate's mean is within 4 Monte-Carlo SEs of the truth."""
    estimates = run.rate[group]
    mc_error = estimates.std(ddof=1) / math.sqrt(len(estimates))
    assert abs(estimates.mean() - run.truth[group]) <= 4 * mc_error, (
        group, estimates.mean(), run.truth[group], mc_error)


@pytest.mark.parametrize("group", [*RATES, "all"])
def test_intervals_cover_the_truth(run: Run, group: str) -> None:
    """The 95 % exact and Wilson intervals cover the truth in at least 93 % of the seeds."""
    assert run.exact_covers[group].mean() >= 0.93, run.exact_covers[group].mean()
    assert run.wilson_covers[group].mean() >= 0.93, run.wilson_covers[group].mean()


def test_raw_rate_is_not_the_overall_rate(run: Run) -> None:
    """Sampled at different ratios, the raw sample rate is far from the overall truth."""
    raw = run.raw["all"]
    mc_error = raw.std(ddof=1) / math.sqrt(len(raw))
    assert abs(raw.mean() - run.truth["all"]) > 20 * mc_error


def test_planted_rates_give_the_truth_they_promise() -> None:
    """Planted findings occur at their rate: 20,000 keys at 0.3 give 0.3 within 4 SEs."""
    keys = [f"key-{i}" for i in range(20_000)]
    share = planted("rate-check", keys, [0.3] * len(keys)).mean()
    assert abs(share - 0.3) <= 4 * math.sqrt(0.3 * 0.7 / len(keys))
    assert planted("rate-check", keys[:50], [0.0] * 50).sum() == 0
    assert planted("rate-check", keys[:50], [1.0] * 50).all()
