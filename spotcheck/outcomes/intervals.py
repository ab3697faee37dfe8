"""95 % intervals for a finding rate: Clopper–Pearson (exact) and Wilson (score).

Both take a number of findings `y` out of `n` inspections. For a stratified rate, `n` is the
effective sample size n* = p̂(1 − p̂) / v̂ and `y` = n* p̂ (Korn & Graubard 1998, Survey
Methodology 24: 193–201): with one stratum sampled at random and a small sampling fraction n*
is n and the intervals are the textbook ones; non-integer values are allowed by the Beta
quantiles of Clopper–Pearson and by Wilson's formula alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import beta, norm

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval for a rate, both ends within [0, 1]."""

    low: float
    high: float

    def covers(self, value: float) -> bool:
        """Return whether `value` lies within the interval (ends included)."""
        return self.low <= value <= self.high


def z_value(level: float = LEVEL) -> float:
    """Return the standard normal quantile of a two-sided `level` interval (1.96 for 95 %)."""
    return float(norm.ppf(0.5 + level / 2))


def _check(y: float, n: float) -> None:
    """Raise unless 0 <= y <= n and n > 0."""
    if not (n > 0 and 0 <= y <= n):
        raise ValueError(f"an interval needs 0 <= y <= n and n > 0, got y={y}, n={n}")


def clopper_pearson(y: float, n: float, level: float = LEVEL) -> Interval:
    """Return the Clopper–Pearson interval: the Beta quantiles that invert the binomial test.

    Exact for integer `y` and `n` (coverage at least `level` for every true rate).
    """
    _check(y, n)
    alpha = 1 - level
    low = 0.0 if y == 0 else float(beta.ppf(alpha / 2, y, n - y + 1))
    high = 1.0 if y == n else float(beta.ppf(1 - alpha / 2, y + 1, n - y))
    return Interval(low, high)


def wilson(y: float, n: float, level: float = LEVEL) -> Interval:
    """Return the Wilson score interval (the normal test inverted, never outside [0, 1])."""
    _check(y, n)
    z = z_value(level)
    p = y / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(0.0 if y == 0 else max(0.0, centre - half),
                    1.0 if y == n else min(1.0, centre + half))
