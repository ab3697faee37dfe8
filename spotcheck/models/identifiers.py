"""Identifier rules of DESIGN §4: unified social credit codes, certificate numbers, codes."""

from __future__ import annotations

import re
import unicodedata

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

# Code points nobody sees, or can tell from another: control characters (Cc), format
# characters (Cf: U+200B zero width space, U+FEFF, bidirectional marks, the soft hyphen...),
# line and paragraph separators (Zl, Zp), the other default-ignorable code points (Hangul
# fillers, variation selectors, tags), lone surrogates, and U+FFFD, the mark of text decoded
# with the wrong encoding. As of Unicode 15.1; tests/test_identifiers.py checks the class
# against this Python's unicodedata.
UNSEEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\ufffd\ud800-\udfff\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
# Spaces other than the ASCII space (Zs): no-break, ideographic (全角空格), en, em, thin...
WIDE_SPACE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")


def character_name(char: str) -> str:
    """Return a character as a message names it: U+200B ZERO WIDTH SPACE."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'an unnamed character')}"


def text_problem(text: str) -> str | None:
    """Return why free text (a name, a reason, remarks) is refused — a control, format or
    other invisible character — or None if it has none."""
    found = UNSEEN.search(text)
    if found is None:
        return None
    if CONTROL.match(found.group()):
        return "control characters and line breaks (Alt+Enter in Excel) are not allowed"
    return (f"character {found.start() + 1} is {character_name(found.group())}, which "
            "cannot be seen (pasted from a web page or chat?); retype the value")


def code_problem(text: str) -> str | None:
    """Return why text cannot be a code (an id, department, jurisdiction, task, qualification,
    industry, tier or result code): what text_problem refuses, or a space that is not the
    ASCII space; None if neither. Codes are compared exactly, so an invisible difference
    would make two equal-looking codes differ (an officer who never matches a task)."""
    problem = text_problem(text)
    if problem is not None:
        return problem
    found = WIDE_SPACE.search(text)
    if found is None:
        return None
    return (f"character {found.start() + 1} is {character_name(found.group())}, not an "
            "ordinary space; codes are compared exactly, so retype the value")


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
