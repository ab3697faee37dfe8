"""The native SHA-256 loops equal hashlib, and plans do not depend on which one ran."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spotcheck
from spotcheck.demo import synthetic_city
from spotcheck.scheduler import assignment, fasthash
from spotcheck.scheduler.hashes import cost

SEED = "fasthash-test-seed"
ID_TEXT = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY-abc", min_size=1, max_size=32)


@pytest.fixture
def pure_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run with the hashlib fallback, as where the extension could not be built."""
    monkeypatch.setattr(fasthash, "_native", None)


def test_native_loops_are_built_in_ci() -> None:
    """CI installs a compiler and OpenSSL headers, so the native loops must be in use there."""
    if not os.environ.get("CI"):
        pytest.skip("only required in CI; elsewhere the hashlib fallback is allowed")
    assert fasthash.native()


@given(prefix=st.binary(max_size=120), ids=st.lists(ID_TEXT, max_size=40),
       workers=st.integers(1, 3))
def test_digests_equal_hashlib(prefix: bytes, ids: list[str], workers: int) -> None:
    """Each digest is sha256(prefix + id), whatever the ids' lengths and the thread count."""
    items = np.array([i.encode() for i in ids], dtype="S32")
    got = fasthash.digests(prefix, items, workers=workers)
    assert [bytes(g).ljust(32, b"\0") for g in got] == \
        [hashlib.sha256(prefix + i.encode()).digest() for i in ids]


def test_digests_split_over_threads_equal_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashing in many threaded chunks gives the same tickets as one call."""
    monkeypatch.setattr(fasthash, "_CHUNK", 7)
    items = np.array([f"9133{i:014d}".encode() for i in range(1000)], dtype="S18")
    assert np.array_equal(fasthash.digests(b"p:", items, workers=3),
                          fasthash.digests(b"p:", items, workers=1))


def _pairs_case(seed: int) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    officers = np.array([f"INS-{i:04d}".encode() for i in range(300)], dtype="S32")
    visits = np.array([f"91330102{seed:04d}{v:06d}".encode() for v in range(120)], dtype="S18")
    lawful = [np.arange(300, dtype=np.int64)[(np.arange(300) * (v + 3) + seed) % 7 < 1 + v % 6]
              for v in range(120)]
    return visits, lawful, officers


@given(seed=st.integers(0, 999), keep=st.integers(1, 40), workers=st.integers(1, 3))
def test_cheapest_pairs_native_equals_fallback(seed: int, keep: int, workers: int) -> None:
    """The native selection keeps the same pairs, costs and left-out bounds as hashlib."""
    visits, lawful, officers = _pairs_case(seed)
    prefix = f"assign-v1:{seed}:2026Q4:".encode()
    native = fasthash.cheapest_pairs(prefix, visits, lawful, officers, keep, workers=workers)
    python = fasthash._cheapest_pairs_python(prefix, visits, lawful, officers, keep)
    for a, b in zip(native, python, strict=True):
        assert np.array_equal(a, b)


def test_cheapest_pairs_are_the_cheapest_assign_v1_costs() -> None:
    """Kept pairs are each visit's cheapest by assign-v1, in lawful order; the bound is exact."""
    visits, lawful, officers = _pairs_case(5)
    digest = spotcheck.seed_hash(SEED)
    prefix = f"assign-v1:{digest}:2026Q4:".encode()
    kept, costs, sizes, left = fasthash.cheapest_pairs(prefix, visits, lawful, officers, 4)
    at = 0
    for v, members in enumerate(lawful):
        every = sorted((cost(digest, "2026Q4", visits[v].decode(), officers[i].decode()), i)
                       for i in members.tolist())
        wanted = sorted(every[:4], key=lambda pair: pair[1])
        got = list(zip(costs[at:at + sizes[v]].tolist(), kept[at:at + sizes[v]].tolist(),
                       strict=True))
        assert got == wanted
        assert left[v] == (every[4][0] if len(every) > 4 else fasthash.NO_PAIR_LEFT_OUT)
        at += sizes[v]


@pytest.mark.parametrize("assign", ["assign-v1", "assign-v2"])
@pytest.mark.parametrize("native", [True, False], ids=["native-threads", "hashlib-forked"])
def test_shared_hashing_gives_the_same_plan(native: bool, assign: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads (native) or forked processes (hashlib; numpy for assign-v2) give exactly the
    one-worker plan, under either assign rule."""
    if native and not fasthash.native():
        pytest.skip("the native loops were not built here")
    if not native:
        monkeypatch.setattr(fasthash, "_native", None)
    city = synthetic_city(4000)
    policy, _ = spotcheck.load_policy()
    monkeypatch.setattr(assignment, "PARALLEL_MIN_PAIRS", 0)
    monkeypatch.setattr(fasthash, "_CHUNK", 64)
    alone = spotcheck.plan_quarter(city, policy, "2026Q4", SEED, workers=1, assign=assign)
    shared = spotcheck.plan_quarter(city, policy, "2026Q4", SEED, workers=2, assign=assign)
    assert shared.assignments == alone.assignments
    assert shared.draws == alone.draws
    assert np.array_equal(shared.staffing.arc_cost, alone.staffing.arc_cost)
    assert np.array_equal(shared.staffing.left_out_cost, alone.staffing.left_out_cost)


@pytest.mark.parametrize("assign", ["assign-v1", "assign-v2"])
def test_fallback_plan_equals_native_plan(monkeypatch: pytest.MonkeyPatch,
                                          pure_python: None, assign: str) -> None:
    """A plan made with the hashlib (and numpy) fallback equals the native plan row for row,
    under either assign rule."""
    city = synthetic_city(3000)
    policy, _ = spotcheck.load_policy()
    fallback = spotcheck.plan_quarter(city, policy, "2026Q4", SEED, workers=1, assign=assign)
    monkeypatch.undo()
    if not fasthash.native():
        pytest.skip("the native loops were not built here")
    made = spotcheck.plan_quarter(city, policy, "2026Q4", SEED, workers=1, assign=assign)
    assert (made.strata, made.draws, made.skipped, made.visits, made.assignments) == \
        (fallback.strata, fallback.draws, fallback.skipped, fallback.visits,
         fallback.assignments)


@given(st.lists(st.tuples(st.integers(0, 3), st.binary(min_size=24, max_size=24)),
                max_size=60, unique_by=lambda t: t))
def test_draw_order_equals_sorting_the_strings(rows: list[tuple[int, bytes]]) -> None:
    """Sorting by the tickets' first 8 bytes, then whole tickets in runs, is the string order."""
    from spotcheck.scheduler.draw import draw_order
    # Few distinct 8-byte heads, so runs that share them are common.
    tickets = [bytes([0, 0, 0, 0, 0, 0, 0, head]) + tail for head, tail in rows]
    ids = np.array(sorted(f"9133010200000{i:05d}".encode() for i in range(len(rows))),
                   dtype="S18")
    order = draw_order(ids, np.array(tickets, dtype="S32"))
    wanted = sorted(range(len(rows)), key=lambda r: (tickets[r].hex(), ids[r]))
    assert order.tolist() == wanted
