"""Types of the native loops in _native.c (built only where a compiler was available)."""

import numpy as np

def digests(prefix: bytes, items: np.ndarray, width: int, /) -> bytes: ...
def cheapest(prefix: bytes, visit_ids: np.ndarray, id_width: int, lawful: list[np.ndarray],
             officer_ids: np.ndarray, officer_width: int, keep: int, start: int, stop: int,
             out_officers: np.ndarray, out_costs: np.ndarray, out_sizes: np.ndarray,
             out_left: np.ndarray, /) -> None: ...
def shortest(n: int, tails: np.ndarray, heads: np.ndarray, weights: np.ndarray,
             out_distance: np.ndarray, warm: bool = False, /) -> tuple[int, int]: ...
def cheapest_mixed(visit_keys: np.ndarray, lawful: list[np.ndarray], officer_keys: np.ndarray,
                   keep: int, start: int, stop: int, out_officers: np.ndarray,
                   out_costs: np.ndarray, out_sizes: np.ndarray, out_left: np.ndarray,
                   prices: np.ndarray | None = None, /) -> None: ...
