"""The optimality proof's shortest paths: the native loop and numpy agree, cycles are found."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotcheck.scheduler import fasthash, optimality


@st.composite
def networks(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 12))
    arcs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                   st.integers(-2**40, 2**40)), max_size=40))
    tails = np.array([a[0] for a in arcs], dtype=np.int64)
    heads = np.array([a[1] for a in arcs], dtype=np.int64)
    weights = np.array([a[2] for a in arcs], dtype=np.int64)
    return n, tails, heads, weights


def _has_negative_cycle(n: int, tails: np.ndarray, heads: np.ndarray,
                        weights: np.ndarray) -> bool:
    """Floyd–Warshall in Python integers: a negative diagonal means a negative cycle."""
    # None is "no path yet" (infinity).
    d: list[list[int | None]] = [[0 if i == j else None for j in range(n)] for i in range(n)]
    for t, h, w in zip(tails.tolist(), heads.tolist(), weights.tolist(), strict=True):
        known = d[t][h]
        if known is None or w < known:
            d[t][h] = w
    for k in range(n):
        for i in range(n):
            for j in range(n):
                a, b, known = d[i][k], d[k][j], d[i][j]
                if a is not None and b is not None and (known is None or a + b < known):
                    d[i][j] = a + b
    diagonal = [d[i][i] for i in range(n)]
    return any(loop is not None and loop < 0 for loop in diagonal)


@given(networks())
def test_native_shortest_paths_equal_numpy_rounds(net: tuple) -> None:
    """Both find a negative cycle exactly when one exists, and otherwise equal distances."""
    native = fasthash.native_module()
    if native is None:
        pytest.skip("the native loops were not built here")
    n, tails, heads, weights = net
    expected = _has_negative_cycle(n, tails, heads, weights)
    rounds, rounds_distance = optimality._rounds(n, tails, heads, weights)
    distance = np.zeros(n, dtype=np.int64)
    cycle, _ = native.shortest(n, tails, heads, weights, distance)
    assert (cycle < 0) == expected == (not rounds.optimal)
    if not expected:
        assert np.array_equal(distance, rounds_distance)
        # distances are feasible potentials: no arc can shorten them
        assert np.all(distance[heads] <= distance[tails] + weights)


@given(networks(), st.data())
def test_shortest_paths_from_given_potentials(net: tuple, data: st.DataObject) -> None:
    """Started from any potentials, both loops find a negative cycle exactly when one exists;
    otherwise they end at the same feasible potentials, none above where it started."""
    n, tails, heads, weights = net
    start = np.array(data.draw(st.lists(st.integers(-2**41, 2**41), min_size=n, max_size=n)),
                     dtype=np.int64)
    expected = _has_negative_cycle(n, tails, heads, weights)
    rounds, rounds_distance = optimality._rounds(n, tails, heads, weights, start)
    assert rounds.optimal == (not expected)
    if not expected:
        assert np.all(rounds_distance[heads] <= rounds_distance[tails] + weights)
        assert np.all(rounds_distance <= start)
    native = fasthash.native_module()
    if native is None:
        return
    distance = start.copy()
    cycle, _ = native.shortest(n, tails, heads, weights, distance, True)
    assert (cycle < 0) == expected
    if not expected:
        assert np.array_equal(distance, rounds_distance)
