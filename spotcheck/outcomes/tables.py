"""The outcome table: stratified estimates overall, per tier, per task, per task × tier and
per stratum, and a plain statement of what each number estimates (DESIGN §11).

A stratum is (quarter, task, tier, jurisdiction): over several quarters each quarter's
strata stay apart, so a tier's rate over a year weights each quarter's eligible alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from spotcheck.outcomes.estimates import Estimate, StratumCounts, stratified

LEVELS = ("overall", "tier", "task", "task_tier", "stratum")

# What each number estimates, for the report, the workbook and --json.
STATEMENTS: dict[str, str] = {
    "drawn": "enterprises the plan drew in the group (each task counts its own draw)",
    "with_result": "drawn enterprises whose inspection result has been entered",
    "missing": "drawn enterprises without a result yet; never counted as 'no finding' - the "
               "estimates assume they are missing at random within their stratum",
    "raw_rate": "findings / results of the drawn sample; it describes the sample only and is "
                "not the group's rate when its strata were sampled at different ratios",
    "rate": "stratified (Horvitz-Thompson) estimate of the share of the group's eligible "
            "enterprises that an inspection would find a problem with: sum of (E_h / E) "
            "times each stratum's sample rate; unbiased because each stratum's draw is a "
            "simple random sample of its eligible",
    "se": "standard error of the stratified rate, with the finite-population correction",
    "clopper_pearson": "95 % exact (Clopper-Pearson) interval; for several strata with the "
                       "effective sample size n* = p(1-p)/v (Korn-Graubard)",
    "wilson": "95 % Wilson score interval, with the same effective sample size",
    "covered": "eligible enterprises of the strata that have at least one result: the part "
               "of the group the rate speaks for",
}


@dataclass(frozen=True)
class StratumOutcome:
    """One stratum of a stored plan with its counts of results and findings."""

    quarter: str
    task: str
    tier: str
    jurisdiction: str
    counts: StratumCounts


@dataclass(frozen=True)
class OutcomeRow:
    """One line of the outcome table: a group of strata and its estimate.

    `task`, `tier`, `jurisdiction` and `quarter` are "" where the level does not group by
    them (the overall line has all four empty).
    """

    level: str
    task: str
    tier: str
    jurisdiction: str
    quarter: str
    estimate: Estimate


def _grouped(strata: Sequence[StratumOutcome], level: str,
             key: Callable[[StratumOutcome], tuple[str, str, str, str]],
             order: Callable[[tuple[str, str, str, str]], tuple[object, ...]]
             ) -> Iterable[OutcomeRow]:
    """Yield one row per group of strata under `key`, groups sorted by `order`."""
    groups: dict[tuple[str, str, str, str], list[StratumCounts]] = {}
    for s in strata:
        groups.setdefault(key(s), []).append(s.counts)
    for group in sorted(groups, key=order):
        task, tier, jurisdiction, quarter = group
        yield OutcomeRow(level, task, tier, jurisdiction, quarter, stratified(groups[group]))


def outcome_rows(strata: Sequence[StratumOutcome],
                 tier_order: Sequence[str] = ()) -> tuple[OutcomeRow, ...]:
    """Return the outcome table: overall, then per tier, task, task × tier and stratum.

    Tiers are listed in `tier_order` (e.g. A, B, C, D), others after them by name.
    """
    rank = {tier: i for i, tier in enumerate(tier_order)}

    def tier_key(tier: str) -> tuple[int, str]:
        return (rank.get(tier, len(rank)), tier)

    rows: list[OutcomeRow] = [OutcomeRow("overall", "", "", "", "",
                                         stratified([s.counts for s in strata]))]
    rows += _grouped(strata, "tier", lambda s: ("", s.tier, "", ""),
                     lambda k: tier_key(k[1]))
    rows += _grouped(strata, "task", lambda s: (s.task, "", "", ""), lambda k: (k[0],))
    rows += _grouped(strata, "task_tier", lambda s: (s.task, s.tier, "", ""),
                     lambda k: (k[0], *tier_key(k[1])))
    rows += _grouped(strata, "stratum", lambda s: (s.task, s.tier, s.jurisdiction, s.quarter),
                     lambda k: (k[3], k[0], *tier_key(k[1]), k[2]))
    return tuple(rows)


def row_of(rows: Iterable[OutcomeRow], level: str, *, task: str = "",
           tier: str = "") -> OutcomeRow | None:
    """Return the row of this level, task and tier (first stratum-level match), or None."""
    return next((r for r in rows if r.level == level and r.task == task and r.tier == tier),
                None)
