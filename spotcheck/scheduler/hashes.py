"""The reproducible random streams of DESIGN §6: seed, round-v1, draw-v1 and assign-v1.

Every value here is SHA-256 over a documented UTF-8 string, so an auditor can recompute
any of them with `sha256sum` and nothing else.
"""

from __future__ import annotations

import hashlib
import unicodedata
from fractions import Fraction

from spotcheck.errors import InvalidInputError

ROUND = "round-v1"
DRAW = "draw-v1"
ASSIGN = "assign-v1"
ALGORITHMS = {"round": ROUND, "draw": DRAW, "assign": ASSIGN}
_TWO_64 = 2**64


def sha256_hex(text: str) -> str:
    """Return the lower-case hex SHA-256 of the UTF-8 bytes of `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_seed(seed: str) -> str:
    """Return the NFC form of `seed`, refusing white space at its ends, controls and ':'."""
    if not isinstance(seed, str) or seed == "":
        raise InvalidInputError("seed: the seed must be a non-empty string")
    nfc = unicodedata.normalize("NFC", seed)
    if nfc != nfc.strip():
        raise InvalidInputError("seed: leading or trailing white space is not allowed")
    if ":" in nfc:
        raise InvalidInputError("seed: ':' is not allowed in a seed")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in nfc):
        raise InvalidInputError("seed: control characters and unpaired surrogates (bytes that "
                                "are not UTF-8) are not allowed in a seed")
    return nfc


def seed_hash(seed: str) -> str:
    """Return sha256(seed) of the NFC-normalised seed."""
    return sha256_hex(normalise_seed(seed))


def round_offset(seed_digest: str, quarter: str, task: str, tier: str,
                 jurisdiction: str) -> Fraction:
    """Return round-v1's v in [0, 1) for one stratum, as an exact fraction."""
    digest = sha256_hex(f"{ROUND}:{seed_digest}:{quarter}:{task}:{tier}:{jurisdiction}")
    return Fraction(int(digest[:16], 16), _TWO_64)


def ticket(seed_digest: str, quarter: str, task: str, enterprise_id: str) -> str:
    """Return the draw-v1 ticket of one enterprise for one task, as hex."""
    return sha256_hex(f"{DRAW}:{seed_digest}:{quarter}:{task}:{enterprise_id}")


def ticket_prefix(seed_digest: str, quarter: str, task: str) -> bytes:
    """Return the bytes every draw-v1 ticket message of a task starts with."""
    return f"{DRAW}:{seed_digest}:{quarter}:{task}:".encode()


def cost(seed_digest: str, quarter: str, enterprise_id: str, inspector_id: str) -> int:
    """Return the assign-v1 cost of putting one inspector on one enterprise's visit."""
    digest = sha256_hex(f"{ASSIGN}:{seed_digest}:{quarter}:{enterprise_id}:{inspector_id}")
    return int(digest[:10], 16)
