"""Advice for the next period's tier ratios (DESIGN §11); never applied by itself.

Given this period's draws per task × tier and their estimated finding rates, two sets of
per-tier ratios r_t are worked out under the same constraints:

- the same inspector workload: per department, the draws of its tasks may not exceed this
  period's, Σ_t r_t N_{d,t} ≤ B_d (raised to what the floors need, if they need more);
- the policy's bounds: min_ratio_t ≤ r_t ≤ 1, and no more than the eligible can give
  (r_t ≤ E/N of each of the tier's tasks);
- the policy's order: a tier of higher priority never gets a lower ratio.

(a) **findings**: maximise the expected findings Σ_{task,t} r_t N_{task,t} p̂_{task,t}, a
linear programme (HiGHS). (b) **precision**: minimise the variance of the overall rate,
Σ W² S² (1/(r_t N) − 1/E) with W = E_{task,t} / E and S² = p̃(1 − p̃) — Neyman allocation
under the bounds above (SLSQP; the problem is convex). p̃ is the estimate kept
0.5/(n + 1) away from 0 and 1, so a cell with no finding yet still earns draws.

Ratios are rounded down to four decimals (never above a bound or the workload) and each
allocation is reported with its expected findings and their standard error (from the
uncertainty of the estimated rates and the chance of the next draw), the projected standard
error of the overall rate, and the expected inspections per enterprise per year.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

import numpy as np
from scipy.optimize import linprog, minimize

from spotcheck.models.policy import Policy
from spotcheck.outcomes.disturbance import policy_per_year

OBJECTIVES = ("current", "findings", "precision")


@dataclass(frozen=True)
class AdviceCell:
    """One task × tier of the period: its sizes, draws and estimated finding rate."""

    task: str
    department: str
    tier: str
    population: int
    eligible: int
    drawn: int
    with_result: int
    rate: float | None      # stratified estimate, None without results
    variance: float | None  # its estimated variance


@dataclass(frozen=True)
class Allocation:
    """Per-tier ratios and what they are expected to bring."""

    objective: str
    ratios: dict[str, float]
    draws: dict[str, float]
    findings: dict[str, float]  # expected findings per tier
    expected_findings: float
    expected_findings_se: float
    overall_rate_se: float | None
    per_year: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Advice:
    """The current allocation and the two suggestions, with the constraints they keep."""

    budgets: dict[str, int]                # department → draws allowed
    bounds: dict[str, tuple[float, float]]  # tier → (lowest, highest) ratio
    allocations: tuple[Allocation, ...]    # current, findings, precision
    notes: tuple[str, ...]

    def allocation(self, objective: str) -> Allocation | None:
        """Return the allocation for `objective` ("current", "findings" or "precision")."""
        return next((a for a in self.allocations if a.objective == objective), None)


def round_down(value: float) -> float:
    """Return `value` rounded down to four decimals (a float error of 1e-9 forgiven)."""
    return float(Decimal(repr(value + 1e-9)).quantize(Decimal("0.0001"), rounding=ROUND_DOWN))


class _Problem:
    """The cells as arrays, with the constraint matrices over the tiers."""

    def __init__(self, policy: Policy, cells: Sequence[AdviceCell]) -> None:
        self.cells = [c for c in cells if c.population > 0]
        self.tiers = sorted({c.tier for c in self.cells},
                            key=lambda t: policy.tiers[t].priority)
        self.departments = sorted({c.department for c in self.cells})
        column = {t: i for i, t in enumerate(self.tiers)}
        self.col = np.array([column[c.tier] for c in self.cells], dtype=int)
        self.N = np.array([c.population for c in self.cells], dtype=float)
        self.E = np.array([c.eligible for c in self.cells], dtype=float)
        self.p, self.v, self.s2 = _rates(self.cells)
        low = np.array([policy.tiers[t].min_ratio for t in self.tiers])
        high = np.ones(len(self.tiers))
        for i, c in enumerate(self.cells):
            high[self.col[i]] = min(high[self.col[i]], c.eligible / c.population)
        self.low, self.high = low, np.maximum(high, low)
        self.A = np.zeros((len(self.departments), len(self.tiers)))
        drawn = np.zeros(len(self.departments))
        for i, c in enumerate(self.cells):
            d = self.departments.index(c.department)
            self.A[d, self.col[i]] += c.population
            drawn[d] += c.drawn
        self.budget = np.maximum(drawn, self.A @ self.low)
        self.order = np.zeros((max(len(self.tiers) - 1, 0), len(self.tiers)))
        for k in range(len(self.tiers) - 1):  # r_lower - r_higher <= 0
            self.order[k, k], self.order[k, k + 1] = 1.0, -1.0
        weights = self.E / self.E.sum()
        self.neyman = np.bincount(self.col, weights * weights * self.s2 / self.N,
                                  minlength=len(self.tiers))

    def draws(self, ratios: np.ndarray) -> np.ndarray:
        """Return each cell's expected draws under per-tier ratios."""
        return np.minimum(ratios[self.col] * self.N, self.E)

    def allocation(self, objective: str, ratios: np.ndarray, policy: Policy,
                   scope: Mapping[tuple[str, str], int], enterprises: Mapping[str, int],
                   drawn: np.ndarray | None = None) -> Allocation:
        """Return the allocation of these ratios (or of these cell draws) and its effects."""
        n = self.draws(ratios) if drawn is None else drawn
        found = float(np.dot(n, self.p))
        spread = np.dot(n * n, self.v) + np.dot(n * self.p * (1 - self.p),
                                                np.clip(1 - n / self.E, 0, 1))
        weights = self.E / self.E.sum()
        se = None
        if np.all(n > 0):
            se = math.sqrt(max(0.0, float(np.dot(weights * weights * self.s2,
                                                 1 / n - 1 / self.E))))
        per_tier = np.bincount(self.col, n, minlength=len(self.tiers))
        found_per_tier = np.bincount(self.col, n * self.p, minlength=len(self.tiers))
        shown = {t: float(r) for t, r in zip(self.tiers, ratios, strict=True)}
        per_year = {t: y for t in self.tiers
                    if (y := policy_per_year(policy, t, scope, enterprises.get(t, 0),
                                             shown)) is not None}
        return Allocation(objective, shown,
                          {t: float(x) for t, x in zip(self.tiers, per_tier, strict=True)},
                          {t: float(x) for t, x in zip(self.tiers, found_per_tier, strict=True)},
                          found, math.sqrt(max(0.0, float(spread))), se, per_year)


def _rates(cells: Sequence[AdviceCell]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return per cell the rate, its variance and S² = p̃(1 − p̃), cells without results
    taking their tier's rate (weighted by eligible), else the overall rate."""
    known = [c for c in cells if c.rate is not None]
    overall = (sum(c.eligible * (c.rate or 0.0) for c in known)
               / max(1, sum(c.eligible for c in known)))
    by_tier: dict[str, float] = {}
    for tier in {c.tier for c in known}:
        mine = [c for c in known if c.tier == tier]
        by_tier[tier] = (sum(c.eligible * (c.rate or 0.0) for c in mine)
                         / max(1, sum(c.eligible for c in mine)))
    p = np.array([c.rate if c.rate is not None else by_tier.get(c.tier, overall)
                  for c in cells])
    v = np.array([c.variance or 0.0 for c in cells])
    margin = np.array([0.5 / (c.with_result + 1) for c in cells])
    tilde = np.clip(p, margin, 1 - margin)
    return p, v, tilde * (1 - tilde)


def _most_findings(problem: _Problem) -> np.ndarray | None:
    """Return the ratios that maximise expected findings, or None if the LP fails."""
    coefficients = np.bincount(problem.col, problem.N * problem.p,
                               minlength=len(problem.tiers))
    result = linprog(-coefficients,
                     A_ub=np.vstack([problem.A, problem.order]),
                     b_ub=np.concatenate([problem.budget, np.zeros(len(problem.order))]),
                     bounds=list(zip(problem.low, problem.high, strict=True)),
                     method="highs")
    return np.asarray(result.x) if result.status == 0 else None


def _most_precise(problem: _Problem) -> np.ndarray | None:
    """Return the Neyman ratios (least variance of the overall rate), or None."""
    low = np.minimum(np.maximum(problem.low, 1e-6), problem.high)
    # start from one ratio for every tier that fills the tightest department's workload
    even = float(np.min(problem.budget / np.maximum(problem.A.sum(axis=1), 1e-12)))
    start = np.minimum(np.maximum(low, even), problem.high)
    a = problem.neyman
    scale = float(np.sum(a / start)) or 1.0

    def variance(x: np.ndarray) -> float:
        return float(np.sum(a / x)) / scale

    def gradient(x: np.ndarray) -> np.ndarray:
        return np.asarray(-a / (x * x) / scale)

    constraints = [{"type": "ineq", "fun": lambda x: problem.budget - problem.A @ x,
                    "jac": lambda x: -problem.A}]
    if len(problem.order):
        constraints.append({"type": "ineq", "fun": lambda x: -(problem.order @ x),
                            "jac": lambda x: -problem.order})
    result = minimize(variance, start, jac=gradient, method="SLSQP",
                      bounds=list(zip(low, problem.high, strict=True)),
                      constraints=constraints, options={"ftol": 1e-12, "maxiter": 1000})
    x = np.asarray(result.x)
    # status 8 is SLSQP's line search stalling at the optimum within float precision
    feasible = bool(np.all(problem.A @ x <= problem.budget * (1 + 1e-9))
                    and np.all(problem.order @ x <= 1e-9))
    return x if result.success or (result.status == 8 and feasible) else None


def _feasible(problem: _Problem, ratios: np.ndarray) -> np.ndarray:
    """Return the ratios rounded down to four decimals, kept within the bounds and order."""
    rounded = np.array([max(low, round_down(float(r)))
                        for low, r in zip(problem.low, ratios, strict=True)])
    return np.minimum(rounded, np.maximum(problem.high, problem.low))


def advise(policy: Policy, cells: Sequence[AdviceCell],
           scope: Mapping[tuple[str, str], int] | None = None,
           enterprises: Mapping[str, int] | None = None) -> Advice:
    """Return this period's allocation and the two suggested ones for the next period.

    `scope[(task, tier)]` and `enterprises[tier]` (the tier's enterprises in a task's scope,
    and in all) give each allocation's inspections per enterprise per year.
    """
    problem = _Problem(policy, cells)
    scope, enterprises = scope or {}, enterprises or {}
    budgets = {d: round(float(b)) for d, b in zip(problem.departments, problem.budget,
                                                 strict=True)}
    bounds = {t: (float(lo), float(hi)) for t, lo, hi in zip(problem.tiers, problem.low,
                                                             problem.high, strict=True)}
    if not problem.cells:
        return Advice(budgets, bounds, (), ("no stratum with a round: nothing to advise",))
    drawn = np.array([c.drawn for c in problem.cells], dtype=float)
    achieved = np.bincount(problem.col, drawn, minlength=len(problem.tiers)) / \
        np.bincount(problem.col, problem.N, minlength=len(problem.tiers))
    allocations = [problem.allocation("current", achieved, policy, scope, enterprises, drawn)]
    notes: list[str] = []
    if not any(c.rate is not None for c in problem.cells):
        notes.append("no result has been entered yet: there is no rate to advise from")
        return Advice(budgets, bounds, tuple(allocations), tuple(notes))
    for objective, solve in (("findings", _most_findings), ("precision", _most_precise)):
        ratios = solve(problem)
        if ratios is None:
            notes.append(f"the {objective} programme found no solution; nothing suggested")
            continue
        allocations.append(problem.allocation(objective, _feasible(problem, ratios), policy,
                                              scope, enterprises))
    if any(c.rate is None for c in problem.cells):
        notes.append("task × tier cells without results were given their tier's rate")
    return Advice(budgets, bounds, tuple(allocations), tuple(notes))
