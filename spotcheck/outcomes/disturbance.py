"""Disturbance (干扰) per tier: how often enterprises are inspected (DESIGN §11).

"减少对守信企业的干扰" is shown by two numbers per credit-risk tier:

- **observed**: the share of the tier's enterprises inspected at least once in the last four
  quarters, and visits per enterprise over them. A visit is one door opened: one enterprise,
  one department, one day (tasks of a department carried out together count once); a visit
  of a plan whose result is not entered yet counts as one visit in its quarter.
- **policy**: the inspections per enterprise per year the policy asks for,
  Σ_task ratio × rounds a year × (share of the tier in the task's scope). It counts task
  inspections, so it is an upper bound on visits where tasks share a visit, and it leaves out
  the cooldown, which can only lower it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spotcheck.models.policy import Policy


@dataclass(frozen=True)
class TierVisits:
    """A tier's enterprises in the registry and their visits in the window."""

    tier: str
    enterprises: int   # enterprises of the tier in the registry now
    inspected: int     # of them, visited at least once in the window
    visits: int        # visits to them in the window


@dataclass(frozen=True)
class Disturbance:
    """One tier's disturbance: observed over the window, and under the policy."""

    tier: str
    label: str
    enterprises: int
    inspected: int
    share: float | None                 # inspected / enterprises
    visits: int
    visits_per_enterprise: float | None  # visits / enterprises, over the window
    policy_per_year: float | None       # expected task inspections per enterprise per year
    rounds_per_year: int
    cooldown_months: int


def policy_per_year(policy: Policy, tier: str, scope: Mapping[tuple[str, str], int],
                    enterprises: int, ratios: Mapping[str, float] | None = None) -> float | None:
    """Return the task inspections per enterprise per year the policy asks of a tier.

    `scope[(task, tier)]` is how many of the tier's enterprises the task's scope holds;
    `ratios` replaces the policy's ratios (to show a suggestion's effect).
    """
    if enterprises <= 0 or tier not in policy.tiers:
        return None
    rule = policy.tiers[tier]
    ratio = (ratios or {}).get(tier, rule.ratio)
    in_scope = sum(scope.get((task.code, tier), 0) for task in policy.tasks)
    return ratio * len(rule.quarters) * in_scope / enterprises


def disturbance(policy: Policy, visits: Sequence[TierVisits],
                scope: Mapping[tuple[str, str], int]) -> tuple[Disturbance, ...]:
    """Return each tier's disturbance, tiers from the lowest priority (A) up."""
    found = {v.tier: v for v in visits}
    order = sorted(policy.tiers, key=lambda t: policy.tiers[t].priority)
    order += sorted(t for t in found if t not in policy.tiers)
    rows = []
    for tier in order:
        seen = found.get(tier, TierVisits(tier, 0, 0, 0))
        rule = policy.tiers.get(tier)
        n = seen.enterprises
        rows.append(Disturbance(
            tier, rule.label if rule else "", n, seen.inspected,
            seen.inspected / n if n else None, seen.visits, seen.visits / n if n else None,
            policy_per_year(policy, tier, scope, n), len(rule.quarters) if rule else 0,
            rule.cooldown_months if rule else 0))
    return tuple(rows)
