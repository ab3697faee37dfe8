"""Bulk SHA-256 for draw-v1 tickets and assign-v1 costs, native where it was built.

The native loops (`spotcheck/scheduler/_native.c`, built against OpenSSL's libcrypto when the
package is installed) hash several times faster than a Python loop over hashlib and run
without the GIL, so the work is split over threads. Where the extension is missing (no
compiler at install time) the same results come from hashlib; the tests compare the two.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import numpy as np

try:
    from spotcheck.scheduler import _native
except ImportError:  # pragma: no cover - exercised where no compiler was available
    _native = None  # type: ignore[assignment]

NO_PAIR_LEFT_OUT = 2**62  # above every 40-bit cost, and every cost + officer price (< 2^43)
_BYTE_WEIGHTS = np.array([2**32, 2**24, 2**16, 2**8, 1], dtype=np.int64)
_CHUNK = 1 << 16  # items per native call when threads share the work


def native() -> bool:
    """Return whether the native loops are in use."""
    return _native is not None


def native_module() -> ModuleType | None:
    """Return the native extension, or None where it was not built."""
    return _native


def cpus() -> int:
    """Return how many CPUs this process may use (the default number of workers)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def ranges(n: int, parts: int) -> list[tuple[int, int]]:
    """Return [start, stop) bounds cutting n items into at most `parts` non-empty ranges."""
    edges = np.linspace(0, n, max(1, parts) + 1).astype(int).tolist()
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def digests(prefix: bytes, items: np.ndarray, *, workers: int = 1) -> np.ndarray:
    """Return sha256(prefix + item) of each item of an 'S' array, as an 'S32' array."""
    items = np.ascontiguousarray(items)
    if items.dtype.kind != "S":
        raise TypeError("items must be a numpy bytes ('S') array")
    if len(items) == 0:
        return np.zeros(0, dtype="S32")
    if _native is None:
        sha = hashlib.sha256
        return np.array([sha(prefix + item).digest() for item in items.tolist()], dtype="S32")
    width = items.dtype.itemsize
    hash_range = _native.digests
    if workers <= 1 or len(items) < 2 * _CHUNK:
        raw = hash_range(prefix, items, width)
    else:
        with ThreadPoolExecutor(workers) as pool:
            raw = b"".join(pool.map(lambda r: hash_range(prefix, items[r[0]:r[1]], width),
                                    ranges(len(items), 4 * workers)))
    return np.frombuffer(raw, dtype="S32")


def pair_costs(prefix: bytes, enterprise_id: bytes, officer_ids: Sequence[bytes]) -> np.ndarray:
    """Return the 40-bit cost of sha256(prefix + enterprise_id + ':' + officer) per officer."""
    if not officer_ids:
        return np.zeros(0, dtype=np.int64)
    fresh = hashlib.sha256(prefix + enterprise_id + b":").copy

    def digest(officer: bytes) -> bytes:
        state = fresh()
        state.update(officer)
        return state.digest()

    raw = np.frombuffer(b"".join(map(digest, officer_ids)), dtype=np.uint8)
    return raw.reshape(-1, 32)[:, :5].astype(np.int64) @ _BYTE_WEIGHTS


def assign_costs(prefix: bytes, enterprise_ids: np.ndarray,
                 officer_ids: np.ndarray) -> np.ndarray:
    """Return the 40-bit cost of sha256(prefix + enterprise + ':' + officer) per pair
    (two aligned 'S' arrays)."""
    if len(enterprise_ids) == 0:
        return np.zeros(0, dtype=np.int64)
    items = np.char.add(np.char.add(enterprise_ids, b":"), officer_ids)
    raw = digests(prefix, items).view(np.uint8).reshape(-1, 32)
    return raw[:, :5].astype(np.int64) @ _BYTE_WEIGHTS


def keep_cheapest(officers: np.ndarray, costs: np.ndarray,
                  keep: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Return the `keep` cheapest pairs by (cost, position), in their original order, and
    the cheapest cost left out (NO_PAIR_LEFT_OUT when nothing is)."""
    if len(officers) <= keep:
        return officers.astype(np.int64), costs, NO_PAIR_LEFT_OUT
    order = np.argsort(costs, kind="stable")
    chosen = np.sort(order[:keep])
    return officers[chosen].astype(np.int64), costs[chosen], int(costs[order[keep]])


def cheapest_pairs(prefix: bytes, visit_ids: np.ndarray, lawful: list[np.ndarray],
                   officer_ids: np.ndarray, keep: int, *,
                   workers: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return each visit's `keep` cheapest assign-v1 pairs and its cheapest left-out cost.

    `visit_ids` ('S' array) holds each visit's enterprise, `lawful[v]` its lawful officers
    (int64 indexes into the 'S' array `officer_ids`), `prefix` is "assign-v1:SEED:QUARTER:".
    Returns kept officers and costs (visit by visit, each visit's in its lawful order), the
    number kept per visit, and the cheapest cost left out per visit.
    """
    n = len(visit_ids)
    if _native is None:
        return _cheapest_pairs_python(prefix, visit_ids, lawful, officer_ids, keep)
    visit_ids = np.ascontiguousarray(visit_ids)
    officer_ids = np.ascontiguousarray(officer_ids)
    kept_officers = np.zeros(n * keep, dtype=np.int64)
    kept_costs = np.zeros(n * keep, dtype=np.int64)
    sizes = np.zeros(n, dtype=np.int64)
    left = np.zeros(n, dtype=np.int64)
    lawful = list(lawful)

    def run(bounds: tuple[int, int]) -> None:
        _native.cheapest(prefix, visit_ids, visit_ids.dtype.itemsize, lawful, officer_ids,
                          officer_ids.dtype.itemsize, keep, bounds[0], bounds[1],
                          kept_officers, kept_costs, sizes, left)

    if workers <= 1 or n < 256:
        run((0, n))
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, ranges(n, 8 * workers)))
    if bool((sizes == keep).all()):  # every visit kept `keep`: nothing to squeeze out
        return kept_officers, kept_costs, sizes, left
    mask = np.arange(keep, dtype=np.int64)[None, :] < sizes[:, None]
    return (kept_officers.reshape(n, keep)[mask], kept_costs.reshape(n, keep)[mask],
            sizes, left)


def _cheapest_pairs_python(prefix: bytes, visit_ids: np.ndarray, lawful: list[np.ndarray],
                           officer_ids: np.ndarray,
                           keep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    encoded = officer_ids.tolist()
    officers_kept, costs_kept = [], []
    sizes = np.zeros(len(visit_ids), dtype=np.int64)
    left = np.zeros(len(visit_ids), dtype=np.int64)
    for v, (enterprise, members) in enumerate(zip(visit_ids.tolist(), lawful, strict=True)):
        costs = pair_costs(prefix, enterprise, [encoded[i] for i in members.tolist()])
        kept, kept_cost, left[v] = keep_cheapest(np.asarray(members), costs, keep)
        officers_kept.append(kept)
        costs_kept.append(kept_cost)
        sizes[v] = len(kept)
    empty = np.zeros(0, dtype=np.int64)
    return (np.concatenate(officers_kept) if officers_kept else empty,
            np.concatenate(costs_kept) if costs_kept else empty, sizes, left)
