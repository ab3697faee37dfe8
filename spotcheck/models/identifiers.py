"""Identifier rules of DESIGN §4: unified social credit codes, certificate numbers, codes."""

from __future__ import annotations

import re

import numpy as np

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}

INSPECTOR_ID = re.compile(r"[0-9A-Za-z-]{1,32}")
TASK_CODE = re.compile(r"[A-Za-z0-9_.-]{1,32}")
ENTERPRISE_JURISDICTION = re.compile(r"[0-9]{6}")
JURISDICTION_PREFIX = re.compile(r"[0-9]{1,6}")
INDUSTRY_CODE = re.compile(r"[A-Za-z0-9]{0,8}")
TIER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}")
QUALIFICATION = re.compile(r"[^\s;,、]{1,64}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def uscc_check_character(body: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters of a code."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    check = 31 - total % 31
    return USCC_ALPHABET[0 if check == 31 else check]


def uscc_problem(code: str) -> str | None:
    """Return why `code` is not a valid unified social credit code, or None if it is."""
    if len(code) != 18:
        return f"a unified social credit code (统一社会信用代码) has 18 characters, not {len(code)}"
    bad = sorted({c for c in code if c not in _USCC_VALUE})
    if bad:
        return f"character(s) {''.join(bad)!r} are not in the code alphabet {USCC_ALPHABET}"
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r} but GB 32100 gives {expected!r}"
    return None


_LOOKUP = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(USCC_ALPHABET):
    _LOOKUP[ord(_c)] = _i


def uscc_valid_mask(codes: np.ndarray) -> np.ndarray:
    """Return a boolean mask of which codes (an 'S18' array) are valid, vectorised."""
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=bool)
    raw = np.frombuffer(np.ascontiguousarray(codes, dtype="S18").tobytes(), dtype=np.uint8)
    values = _LOOKUP[raw.reshape(n, 18)]
    ok = (values != 255).all(axis=1)
    weights = np.array(USCC_WEIGHTS, dtype=np.int64)
    total = (values[:, :17].astype(np.int64) * weights).sum(axis=1)
    check = (31 - total % 31) % 31
    return ok & (check == values[:, 17])
