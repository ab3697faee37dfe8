"""The costs of a plan's (visit, officer) pairs by its assign rule (DESIGN §6), in bulk.

assign-v1 hashes every pair (the native loops of `fasthash`). assign-v2 hashes each visit
and each officer once, and a pair's cost is then `mix64(visit_key XOR officer_key) >> 24`:
a province's billion lawful pairs cost arithmetic, not a billion SHA-256s. That arithmetic
runs in the native loop (`_native.cheapest_mixed`) where it was built, else in numpy uint64
arrays, whose products wrap modulo 2^64 exactly as the rule's "mod M" says. Every path
gives exactly what `hashes.cost` computes one pair at a time; the tests hold them to it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from types import ModuleType

import numpy as np

from spotcheck.scheduler import fasthash
from spotcheck.scheduler.fasthash import NO_PAIR_LEFT_OUT, assign_costs, digests
from spotcheck.scheduler.hashes import ASSIGN_V1, ASSIGN_V2, COST_SHIFT, assign_rule, key_prefix

_MIX_1, _MIX_2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_CHUNK_PAIRS = 1 << 22  # pairs priced at a time when choosing each visit's cheapest
_COST_BITS = 40
_PRICE_BITS = 42  # officer prices lie in [0, 2^42), so cost + price in 43 bits


def mix64(z: np.ndarray) -> np.ndarray:
    """Return the splitmix64 finaliser of each uint64 (a new array; products wrap mod 2^64)."""
    z = np.array(z, dtype=np.uint64)
    z ^= z >> np.uint64(30)
    z *= _MIX_1
    z ^= z >> np.uint64(27)
    z *= _MIX_2
    z ^= z >> np.uint64(31)
    return z


def keys(prefix: bytes, ids: np.ndarray, *, workers: int = 1) -> np.ndarray:
    """Return int(sha256(prefix + id)[:16], 16) of each id of an 'S' array, as uint64."""
    raw = digests(prefix, ids, workers=workers).view(np.uint8).reshape(-1, 32)[:, :8]
    return np.ascontiguousarray(raw).view(">u8").reshape(-1).astype(np.uint64)


def mixed_costs(visit_keys: np.ndarray, officer_keys: np.ndarray) -> np.ndarray:
    """Return assign-v2's 40-bit cost of each aligned (visit key, officer key) pair, int64."""
    return (mix64(np.bitwise_xor(visit_keys, officer_keys)) >> np.uint64(COST_SHIFT)
            ).astype(np.int64)


@dataclass(frozen=True, eq=False)
class PairCosts:
    """The price list of one plan's pairs: its rule, seed and quarter, the enterprise of
    each visit and every officer (as 'S' arrays), and under assign-v2 their keys."""

    assign: str
    seed_digest: str
    quarter: str
    visit_ids: np.ndarray     # 'S' enterprise_id per visit
    officer_ids: np.ndarray   # 'S' inspector_id per officer
    visit_keys: np.ndarray    # uint64 per visit (assign-v2; empty under assign-v1)
    officer_keys: np.ndarray  # uint64 per officer (likewise)

    @classmethod
    def build(cls, assign: str, seed_digest: str, quarter: str, visit_ids: np.ndarray,
              officer_ids: np.ndarray, *, workers: int = 1) -> PairCosts:
        """Return the price list; under assign-v2 this hashes each visit and officer once."""
        empty = np.zeros(0, dtype=np.uint64)
        if assign_rule(assign) == ASSIGN_V1:
            return cls(assign, seed_digest, quarter, visit_ids, officer_ids, empty, empty)
        return cls(assign, seed_digest, quarter, visit_ids, officer_ids,
                   keys(key_prefix(seed_digest, quarter, "E"), visit_ids, workers=workers),
                   keys(key_prefix(seed_digest, quarter, "I"), officer_ids, workers=workers))

    @property
    def prefix(self) -> bytes:
        """Return "assign-v1:SEED_HASH:QUARTER:", which every assign-v1 pair message starts with."""
        return f"{ASSIGN_V1}:{self.seed_digest}:{self.quarter}:".encode()

    def of_visits(self, visits: np.ndarray) -> PairCosts:
        """Return the price list of these visits only (indices into this one's)."""
        return replace(self, visit_ids=self.visit_ids[visits],
                       visit_keys=self.visit_keys[visits] if len(self.visit_keys)
                       else self.visit_keys)

    def pairs(self, visits: np.ndarray, officers: np.ndarray) -> np.ndarray:
        """Return the cost of each (visit, officer) pair given as aligned index arrays."""
        if self.assign == ASSIGN_V2:
            return mixed_costs(self.visit_keys[visits], self.officer_keys[officers])
        return assign_costs(self.prefix, self.visit_ids[visits], self.officer_ids[officers])

    def cheapest(self, lawful: list[np.ndarray], keep: int, *, workers: int = 1,
                 prices: np.ndarray | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return each visit's `keep` cheapest assign-v2 pairs, as fasthash.cheapest_pairs
        returns assign-v1's: kept officers and costs (visit by visit, in lawful order, ties
        broken by position), the number kept per visit, the cheapest cost left out per visit.

        With `prices` (int64 per officer, in [0, 2^42)) pairs are chosen by cost + price,
        and the last array is the smallest cost + price left out; the kept costs stay plain.
        `workers` threads share the native loop; the result is the same.
        """
        if self.assign != ASSIGN_V2:
            raise ValueError("PairCosts.cheapest prices assign-v2; assign-v1 hashes each pair "
                             "(fasthash.cheapest_pairs)")
        if prices is not None:
            prices = np.ascontiguousarray(prices, dtype=np.int64)
            if len(prices) != len(self.officer_keys) or (
                    len(prices) and (prices.min() < 0 or prices.max() >= 2**_PRICE_BITS)):
                raise ValueError("officer prices: one per officer, each in [0, 2^42)")
        native = fasthash.native_module()
        if native is None:
            return self.cheapest_numpy(lawful, keep, prices=prices)
        return _cheapest_native(native, self.visit_keys, list(lawful), self.officer_keys, keep,
                                workers, prices)

    def cheapest_numpy(self, lawful: list[np.ndarray], keep: int, *,
                       prices: np.ndarray | None = None,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return what `cheapest` does, in numpy alone: visits sharing one lawful array (one
        pool of officers) are priced as one matrix, a slice of rows at a time."""
        n = len(lawful)
        kept_officers = np.zeros((n, keep), dtype=np.int64)
        kept_costs = np.zeros((n, keep), dtype=np.int64)
        sizes = np.zeros(n, dtype=np.int64)
        left = np.full(n, NO_PAIR_LEFT_OUT, dtype=np.int64)
        for visits, members in _pools(lawful):
            step = max(1, _CHUNK_PAIRS // max(1, len(members)))
            for start in range(0, len(visits), step):
                rows = visits[start:start + step]
                costs = mixed_costs(self.visit_keys[rows][:, None],
                                    self.officer_keys[members][None, :])
                ranked = costs if prices is None else costs + prices[members][None, :]
                chosen, cheapest_left = _keep_cheapest_rows(
                    ranked, keep, _COST_BITS if prices is None else _PRICE_BITS + 1)
                width = chosen.shape[1]
                kept_officers[rows, :width] = members[chosen]
                kept_costs[rows, :width] = np.take_along_axis(costs, chosen, axis=1)
                sizes[rows] = width
                left[rows] = cheapest_left
        if bool((sizes == keep).all()):  # every visit kept `keep`: nothing to squeeze out
            return kept_officers.reshape(-1), kept_costs.reshape(-1), sizes, left
        mask = np.arange(keep, dtype=np.int64)[None, :] < sizes[:, None]
        return kept_officers[mask], kept_costs[mask], sizes, left


def _cheapest_native(native: ModuleType, visit_keys: np.ndarray, lawful: list[np.ndarray],
                     officer_keys: np.ndarray, keep: int, workers: int,
                     prices: np.ndarray | None,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return PairCosts.cheapest's result from the native loop, threads sharing the visits."""
    n = len(lawful)
    visit_keys = np.ascontiguousarray(visit_keys, dtype=np.uint64)
    officer_keys = np.ascontiguousarray(officer_keys, dtype=np.uint64)
    kept_officers = np.zeros(n * keep, dtype=np.int64)
    kept_costs = np.zeros(n * keep, dtype=np.int64)
    sizes = np.zeros(n, dtype=np.int64)
    left = np.zeros(n, dtype=np.int64)

    def run(bounds: tuple[int, int]) -> None:
        native.cheapest_mixed(visit_keys, lawful, officer_keys, keep, bounds[0], bounds[1],
                              kept_officers, kept_costs, sizes, left, prices)

    if workers <= 1 or n < 256:
        run((0, n))
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, fasthash.ranges(n, 8 * workers)))
    if bool((sizes == keep).all()):  # every visit kept `keep`: nothing to squeeze out
        return kept_officers, kept_costs, sizes, left
    mask = np.arange(keep, dtype=np.int64)[None, :] < sizes[:, None]
    return (kept_officers.reshape(n, keep)[mask], kept_costs.reshape(n, keep)[mask],
            sizes, left)


def _pools(lawful: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return (visits, lawful officers) per distinct lawful array: visits of one pool share
    theirs, so a pool is one matrix of costs."""
    if not lawful:
        return []
    identity = np.fromiter(map(id, lawful), dtype=np.uint64, count=len(lawful))
    _, first, group = np.unique(identity, return_index=True, return_inverse=True)
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(first) + 1))
    return [(order[bounds[g]:bounds[g + 1]], np.asarray(lawful[first[g]], dtype=np.int64))
            for g in range(len(first))]


def _keep_cheapest_rows(costs: np.ndarray, keep: int,
                        bits: int = _COST_BITS) -> tuple[np.ndarray, np.ndarray]:
    """Return, per row of a matrix of `bits`-bit costs, the columns of its `keep` cheapest
    entries by (cost, column) in column order, and its cheapest cost not kept
    (NO_PAIR_LEFT_OUT when every entry is kept) — fasthash.keep_cheapest, row by row."""
    rows, width = costs.shape
    if width <= keep:
        return (np.broadcast_to(np.arange(width, dtype=np.int64), (rows, width)),
                np.full(rows, NO_PAIR_LEFT_OUT, dtype=np.int64))
    shift = max(1, (width - 1).bit_length())
    if bits + shift > 63:
        raise ValueError(f"a pool of {width} officers is too large to rank in 63 bits")
    # cost and column in one integer: distinct, so its order is (cost, column) exactly
    ranked = (costs << shift) | np.arange(width, dtype=np.int64)[None, :]
    part = np.partition(ranked, (keep - 1, keep), axis=1)
    chosen = np.nonzero(ranked <= part[:, keep - 1:keep])[1].reshape(rows, keep)
    return chosen, part[:, keep] >> shift
