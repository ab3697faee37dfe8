"""The reproducible random streams of DESIGN §6: seed, round-v1, draw-v1, assign-v1/-v2.

Every value here is SHA-256 over a documented UTF-8 string, so an auditor can recompute
any of them with `sha256sum`; assign-v2 then mixes two such hashes with `mix64`, a few
lines of integer arithmetic (docs/AUDIT.md gives a Python one-liner).
"""

from __future__ import annotations

import hashlib
import unicodedata
from fractions import Fraction

from spotcheck.errors import InvalidInputError

ROUND = "round-v1"
DRAW = "draw-v1"
ASSIGN_V1 = "assign-v1"
ASSIGN_V2 = "assign-v2"
ASSIGN_RULES = (ASSIGN_V1, ASSIGN_V2)  # assign-v1: the rule of every bundle before assign-v2
_TWO_64 = 2**64
_MIX_1, _MIX_2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
COST_SHIFT = 24  # assign-v2 keeps the top 40 of mix64's 64 bits, as assign-v1 has 40


def assign_rule(name: str) -> str:
    """Return an assign rule's name, refusing a rule this software does not implement."""
    if name not in ASSIGN_RULES:
        raise InvalidInputError(f"assign: {name!r} is not an assignment rule; "
                                f"the rules are {', '.join(ASSIGN_RULES)}")
    return name


def algorithms(assign: str) -> dict[str, str]:
    """Return the manifest's `algorithms` of a plan staffed by the given assign rule."""
    return {"round": ROUND, "draw": DRAW, "assign": assign_rule(assign)}


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


def cost(seed_digest: str, quarter: str, enterprise_id: str, inspector_id: str,
         assign: str = ASSIGN_V1) -> int:
    """Return the cost of putting one inspector on one enterprise's visit by the rule
    `assign` (assign-v1 unless told otherwise, as before assign-v2 existed)."""
    if assign_rule(assign) == ASSIGN_V2:
        key = visit_key(seed_digest, quarter, enterprise_id)
        return mix64(key ^ officer_key(seed_digest, quarter, inspector_id)) >> COST_SHIFT
    digest = sha256_hex(f"{ASSIGN_V1}:{seed_digest}:{quarter}:{enterprise_id}:{inspector_id}")
    return int(digest[:10], 16)


def mix64(z: int) -> int:
    """Return the splitmix64 finaliser of a 64-bit integer (assign-v2's mixing function)."""
    z = ((z ^ (z >> 30)) * _MIX_1) % _TWO_64
    z = ((z ^ (z >> 27)) * _MIX_2) % _TWO_64
    return z ^ (z >> 31)


def key_prefix(seed_digest: str, quarter: str, kind: str) -> bytes:
    """Return the bytes every assign-v2 key message of one kind ("E" enterprise, "I"
    inspector) starts with."""
    return f"{ASSIGN_V2}:{seed_digest}:{quarter}:{kind}:".encode()


def visit_key(seed_digest: str, quarter: str, enterprise_id: str) -> int:
    """Return assign-v2's 64-bit key of an enterprise's visit."""
    return int(sha256_hex(f"{ASSIGN_V2}:{seed_digest}:{quarter}:E:{enterprise_id}")[:16], 16)


def officer_key(seed_digest: str, quarter: str, inspector_id: str) -> int:
    """Return assign-v2's 64-bit key of an inspector."""
    return int(sha256_hex(f"{ASSIGN_V2}:{seed_digest}:{quarter}:I:{inspector_id}")[:16], 16)
