"""Pair costs in bulk: assign-v2's native loop, its numpy path and one pair at a time agree.

The reference is `fasthash.keep_cheapest` over costs computed pair by pair, the selection
assign-v1 has always used; DESIGN's vector itself is in tests/test_vectors.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spotcheck
from spotcheck.scheduler import fasthash
from spotcheck.scheduler.costs import PairCosts, mix64
from spotcheck.scheduler.hashes import cost

SEED_HASH = spotcheck.seed_hash("costs-test-seed")
QUARTER = "2026Q4"


def reference_cheapest(pricing: PairCosts, lawful: list[np.ndarray],
                       keep: int) -> tuple[np.ndarray, ...]:
    """Return each visit's cheapest pairs by pricing each pair alone, as assign-v1 did."""
    kept, kept_costs, sizes, left = [], [], [], []
    for v, members in enumerate(lawful):
        costs = pricing.pairs(np.full(len(members), v, dtype=np.int64), members)
        officers, chosen, cheapest_left = fasthash.keep_cheapest(members, costs, keep)
        kept.append(officers)
        kept_costs.append(chosen)
        sizes.append(len(officers))
        left.append(cheapest_left)
    empty = np.zeros(0, dtype=np.int64)
    return (np.concatenate(kept) if kept else empty,
            np.concatenate(kept_costs) if kept_costs else empty,
            np.array(sizes, dtype=np.int64), np.array(left, dtype=np.int64))


@st.composite
def networks(draw: st.DrawFn) -> tuple[PairCosts, list[np.ndarray], int]:
    """Draw keys (from a small set, so equal costs and ties by position occur), pools of
    officers shared by several visits or a visit's own, and how many pairs to keep."""
    n_officers = draw(st.integers(1, 40))
    n_visits = draw(st.integers(0, 30))
    palette = draw(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=6))
    visit_keys = np.array(draw(st.lists(st.sampled_from(palette), min_size=n_visits,
                                        max_size=n_visits)), dtype=np.uint64)
    officer_keys = np.array(draw(st.lists(st.sampled_from(palette), min_size=n_officers,
                                          max_size=n_officers)), dtype=np.uint64)
    pools = [np.array(draw(st.lists(st.integers(0, n_officers - 1), max_size=n_officers,
                                    unique=True)), dtype=np.int64) for _ in range(3)]
    lawful = [draw(st.sampled_from(pools)) if draw(st.booleans()) else
              np.array(draw(st.lists(st.integers(0, n_officers - 1), max_size=n_officers,
                                     unique=True)), dtype=np.int64)
              for _ in range(n_visits)]
    empty = np.zeros(0, dtype="S1")
    pricing = PairCosts("assign-v2", SEED_HASH, QUARTER, empty, empty, visit_keys, officer_keys)
    return pricing, lawful, draw(st.integers(1, 12))


@given(networks(), st.integers(1, 3))
def test_native_and_numpy_keep_the_reference_pairs(network: tuple[PairCosts,
                                                                  list[np.ndarray], int],
                                                   workers: int) -> None:
    """The native loop (on any number of threads) and the numpy path keep exactly the pairs,
    costs and left-out bounds of pricing pair by pair, ties broken by lawful position."""
    pricing, lawful, keep = network
    expected = reference_cheapest(pricing, lawful, keep)
    found = [pricing.cheapest_numpy(lawful, keep)]
    if fasthash.native():
        found.append(pricing.cheapest(lawful, keep, workers=workers))
    for result in found:
        for got, want in zip(result, expected, strict=True):
            assert np.array_equal(got, want)


@given(networks(), st.integers(1, 3), st.data())
def test_pairs_chosen_by_cost_plus_price_are_the_reference(
        network: tuple[PairCosts, list[np.ndarray], int], workers: int,
        data: st.DataObject) -> None:
    """With officer prices, the native loop and the numpy path keep each visit's cheapest
    pairs by cost + price (ties by lawful position), report their plain costs, and the
    smallest cost + price left out."""
    pricing, lawful, keep = network
    n_officers = len(pricing.officer_keys)
    prices = np.array(data.draw(st.lists(st.sampled_from([0, 1, 2**39, 2**41, 2**42 - 1]),
                                         min_size=n_officers, max_size=n_officers)),
                      dtype=np.int64)
    kept, kept_costs, sizes, left = [], [], [], []
    for v, members in enumerate(lawful):
        costs = pricing.pairs(np.full(len(members), v, dtype=np.int64), members)
        officers, ranked, cheapest_left = fasthash.keep_cheapest(
            members, costs + prices[members], keep)
        kept.append(officers)
        kept_costs.append(ranked - prices[officers])
        sizes.append(len(officers))
        left.append(cheapest_left)
    empty = np.zeros(0, dtype=np.int64)
    expected = (np.concatenate(kept) if kept else empty,
                np.concatenate(kept_costs) if kept_costs else empty,
                np.array(sizes, dtype=np.int64), np.array(left, dtype=np.int64))
    found = [pricing.cheapest_numpy(lawful, keep, prices=prices)]
    if fasthash.native():
        found.append(pricing.cheapest(lawful, keep, workers=workers, prices=prices))
    for result in found:
        for got, want in zip(result, expected, strict=True):
            assert np.array_equal(got, want)


def test_prices_outside_their_range_are_refused() -> None:
    """A negative price, or one of 2^42 or more, is refused rather than ranked wrongly."""
    pricing = PairCosts("assign-v2", SEED_HASH, QUARTER, np.zeros(0, "S1"), np.zeros(0, "S1"),
                        np.array([1], dtype=np.uint64), np.array([2, 3], dtype=np.uint64))
    lawful = [np.array([0, 1], dtype=np.int64)]
    for bad in ([-1, 0], [0, 2**42]):
        with pytest.raises(ValueError, match="2\\^42"):
            pricing.cheapest(lawful, 1, prices=np.array(bad, dtype=np.int64))


def test_threads_share_the_native_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Split over threads in many ranges, the native loop gives the one-thread result."""
    if not fasthash.native():
        pytest.skip("the native loops were not built here")
    rng = np.random.default_rng(7)
    officers = np.arange(300, dtype=np.int64)
    pools = [officers[rng.random(300) < 0.2] for _ in range(9)]
    lawful = [pools[v % 9] for v in range(2000)]
    pricing = PairCosts("assign-v2", SEED_HASH, QUARTER, np.zeros(0, "S1"), np.zeros(0, "S1"),
                        rng.integers(0, 2**63, 2000, dtype=np.uint64),
                        rng.integers(0, 2**63, 300, dtype=np.uint64))
    alone = pricing.cheapest(lawful, 24, workers=1)
    for result in (pricing.cheapest(lawful, 24, workers=3), pricing.cheapest_numpy(lawful, 24)):
        for got, want in zip(result, alone, strict=True):
            assert np.array_equal(got, want)


@pytest.mark.parametrize("assign", ["assign-v1", "assign-v2"])
@pytest.mark.parametrize("native", [True, False], ids=["native", "hashlib"])
def test_bulk_costs_are_the_rule_one_pair_at_a_time(assign: str, native: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """PairCosts prices every pair as hashes.cost does, natively or with hashlib and numpy."""
    if native and not fasthash.native():
        pytest.skip("the native loops were not built here")
    if not native:
        monkeypatch.setattr(fasthash, "_native", None)
    enterprises = [f"91330102{i:09d}X" for i in range(40)]
    inspectors = [f"INS-{i:04d}" for i in range(25)] + ["33010100001", "a-B-9"]
    pricing = PairCosts.build(assign, SEED_HASH, QUARTER,
                              np.array([e.encode() for e in enterprises], dtype="S18"),
                              np.array([i.encode() for i in inspectors], dtype="S32"))
    visits, officers = np.divmod(np.arange(len(enterprises) * len(inspectors)), len(inspectors))
    assert pricing.pairs(visits, officers).tolist() == [
        cost(SEED_HASH, QUARTER, enterprises[v], inspectors[o], assign)
        for v, o in zip(visits.tolist(), officers.tolist(), strict=True)]
    if assign == "assign-v2":
        lawful = [np.arange(len(inspectors), dtype=np.int64)] * len(enterprises)
        for got, want in zip(pricing.cheapest(lawful, 5), reference_cheapest(pricing, lawful, 5),
                             strict=True):
            assert np.array_equal(got, want)


@given(st.lists(st.integers(0, 2**64 - 1), max_size=50))
def test_numpy_mix64_is_the_integer_definition(values: list[int]) -> None:
    """numpy's wrapping uint64 products give DESIGN's mix64 (mod 2^64) for every input."""
    def by_hand(z: int) -> int:
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
        return z ^ (z >> 31)

    assert mix64(np.array(values, dtype=np.uint64)).tolist() == [by_hand(v) for v in values]


def test_cheapest_is_only_for_assign_v2() -> None:
    """assign-v1 pairs are hashed one by one (fasthash.cheapest_pairs), never mixed."""
    pricing = PairCosts.build("assign-v1", SEED_HASH, QUARTER, np.zeros(0, "S18"),
                              np.zeros(0, "S32"))
    with pytest.raises(ValueError, match="assign-v2"):
        pricing.cheapest([], 1)
