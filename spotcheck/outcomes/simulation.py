"""Planted findings for simulations and the demo: whether an inspection would find a problem.

Each (label, key) pair gets a uniform number u = int(sha256(label + ":" + key)[:16], 16) / 2^64,
and has a finding when u < rate, the rate compared exactly (its shortest decimal as a
fraction). Nothing comes from numpy's Generator or `random`, whose streams may change between
releases: the same labels, keys and rates give the same findings everywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

SPACE = 1 << 64


def uniform_words(label: str, keys: Sequence[str]) -> np.ndarray:
    """Return, per key, the 64-bit word int(sha256(label:key)[:16], 16) as uint64."""
    prefix = f"{label}:".encode()
    raw = b"".join(hashlib.sha256(prefix + key.encode()).digest()[:8] for key in keys)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def threshold(rate: float | str | Fraction) -> int:
    """Return ⌈rate · 2^64⌉ (capped to 2^64): a word below it is a finding."""
    exact = Fraction(repr(rate)) if isinstance(rate, float) else Fraction(rate)
    if not 0 <= exact <= 1:
        raise ValueError(f"a rate is within [0, 1], got {rate}")
    return min(SPACE, -(-exact.numerator * SPACE // exact.denominator))


def planted(label: str, keys: Sequence[str], rates: Sequence[float] | np.ndarray) -> np.ndarray:
    """Return, per key, whether it has a finding at its rate (a bool array)."""
    words = uniform_words(label, keys)
    cut = np.array([threshold(float(r)) for r in rates], dtype=object)
    return np.array([int(w) < c for w, c in zip(words.tolist(), cut.tolist(), strict=True)],
                    dtype=bool)
