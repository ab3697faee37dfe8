"""The stratified (Horvitz–Thompson) finding rate of a group of strata (DESIGN §11).

Within a stratum h (E_h eligible enterprises, n_h drawn with a result, y_h of them with a
finding) the drawn set is a simple random sample without replacement of the eligible: the
bottom n_h of random tickets. So p̂_h = y_h / n_h is unbiased for the stratum's rate, and for a
group of strata (a tier, a task, the whole plan)

    p̂ = Σ_h (E_h / E) p̂_h,    v̂ = Σ_h (E_h / E)² (1 − n_h / E_h) p̂_h (1 − p̂_h) / (n_h − 1),

where E sums E_h over the strata that have at least one result. The rules where the formula
is silent, each counted in the estimate so the report can say so:

- a stratum with no result yet estimates nothing: it is left out of p̂ and of E (`covered`
  says how much of the group's eligible the estimate speaks for);
- a stratum with a single result has no variance estimate: its term uses the largest
  p(1 − p), 1/4, with n_h − 1 taken as 1 (conservative);
- a result that is missing is never read as "no finding": missing results are counted apart,
  and the estimate assumes they are missing at random within their stratum.

The raw rate Σ y_h / Σ n_h describes the sample only: it is not the group's rate when its
strata were sampled at different ratios (tiers, capacity cuts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from spotcheck.outcomes.intervals import LEVEL, Interval, clopper_pearson, wilson


@dataclass(frozen=True)
class StratumCounts:
    """What one stratum contributes: its eligible, drawn, results and findings."""

    eligible: int      # E_h: the stratum's eligible enterprises when the plan was drawn
    drawn: int         # drawn by the plan
    with_result: int   # n_h: drawn and with a result entered
    findings: int      # y_h: results with a finding (问题)

    def __post_init__(self) -> None:
        if not 0 <= self.findings <= self.with_result <= self.drawn <= self.eligible:
            raise ValueError(f"stratum counts must satisfy 0 <= findings <= with_result <= "
                             f"drawn <= eligible, got {self}")


@dataclass(frozen=True)
class Estimate:
    """A group's counts, raw and stratified rates, standard error and 95 % intervals.

    Rates are None when no stratum of the group has a result yet.
    """

    strata: int
    eligible: int            # Σ E_h over all the group's strata
    covered: int             # Σ E_h over the strata with at least one result
    drawn: int
    with_result: int
    missing: int             # drawn without a result: never counted as "no finding"
    findings: int
    raw_rate: float | None   # Σ y_h / Σ n_h: the sample's share, not the group's rate
    rate: float | None       # the stratified estimate Σ (E_h / E) p̂_h
    se: float | None         # √v̂
    effective_n: float | None  # n* = p̂(1 − p̂) / v̂, at most Σ n_h (Korn–Graubard)
    clopper_pearson: Interval | None
    wilson: Interval | None
    strata_without_results: int
    single_result_strata: int  # strata whose variance term is the conservative bound


def _variance_term(weight: float, counts: StratumCounts) -> float:
    """Return a stratum's term of v̂ (the bound 1/4 for a single result)."""
    n, e = counts.with_result, counts.eligible
    fpc = 1 - n / e
    if n == 1:
        return weight * weight * fpc * 0.25
    p = counts.findings / n
    return weight * weight * fpc * p * (1 - p) / (n - 1)


def stratified(strata: Sequence[StratumCounts], level: float = LEVEL) -> Estimate:
    """Return the stratified estimate of the finding rate of these strata, with its intervals."""
    answered = [s for s in strata if s.with_result > 0]
    n = sum(s.with_result for s in strata)
    y = sum(s.findings for s in strata)
    empty = Estimate(
        strata=len(strata), eligible=sum(s.eligible for s in strata),
        covered=sum(s.eligible for s in answered), drawn=sum(s.drawn for s in strata),
        with_result=n, missing=sum(s.drawn - s.with_result for s in strata), findings=y,
        raw_rate=None, rate=None, se=None, effective_n=None, clopper_pearson=None,
        wilson=None, strata_without_results=len(strata) - len(answered),
        single_result_strata=sum(1 for s in answered if s.with_result == 1))
    if not answered:
        return empty
    covered = empty.covered
    rate = math.fsum(s.eligible / covered * s.findings / s.with_result for s in answered)
    rate = min(1.0, max(0.0, rate))
    variance = math.fsum(_variance_term(s.eligible / covered, s) for s in answered)
    effective = float(n)
    if variance > 0 and 0 < rate < 1:
        effective = min(float(n), rate * (1 - rate) / variance)
    found = effective * rate
    return replace(empty, raw_rate=y / n, rate=rate, se=math.sqrt(variance),
                   effective_n=effective,
                   clopper_pearson=clopper_pearson(found, effective, level),
                   wilson=wilson(found, effective, level))
