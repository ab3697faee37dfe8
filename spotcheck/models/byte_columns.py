"""Text columns as numpy byte strings: cut out of delimited text, and joined into lines.

A province's registry is read (from SQLite, or a bundle's CSV files) and written (the
bundle's canonical CSV files) through these rather than as one Python string per value. A
value is a NUL-padded 'S' item, UTF-8 encoded; text holding a NUL is never cut here (the
callers check), so padding cannot be confused with a value's own bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NUL = 0


def cut(raw: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Return the values raw[starts[i]:ends[i]] of a uint8 buffer as an 'S' column as wide
    as its longest value (at least 1). Bytes of `raw` past the last end are never taken."""
    lengths = ends - starts
    width = max(int(lengths.max(initial=0)), 1)
    if len(starts) and int(starts.max()) + width > len(raw):
        raw = np.concatenate([raw, np.zeros(width, np.uint8)])
    # each row: the `width` bytes from its start (a view until picked); those past the
    # value's end (its separator and what follows) are then zeroed
    out = np.lib.stride_tricks.sliding_window_view(raw, width)[starts]
    if int(lengths.min(initial=width)) < width:
        np.multiply(out, np.arange(width) < lengths[:, None], out=out)
    return out.view(f"S{width}").reshape(len(starts))


def split(text: bytes, separator: int, count: int) -> np.ndarray | None:
    """Return `count` values joined by the byte `separator` as an 'S' column, or None if the
    text holds a NUL or not exactly count - 1 separators."""
    if count == 0 or b"\0" in text:
        return None if text or count else np.empty(0, "S1")
    raw = np.frombuffer(text, np.uint8)
    ends = np.flatnonzero(raw == separator)
    if len(ends) != count - 1:
        return None
    ends = np.append(ends, len(raw))
    starts = np.empty_like(ends)
    starts[0], starts[1:] = 0, ends[:-1] + 1
    return cut(raw, starts, ends)


def lines(columns: Sequence[np.ndarray]) -> bytes:
    """Return rows of 'S' columns as text: each row's values joined by commas, ended by a
    line feed, with the NUL padding dropped (no value may hold a NUL)."""
    n = len(columns[0])
    widths = [column.dtype.itemsize for column in columns]
    matrix = np.empty((n, sum(widths) + len(columns)), np.uint8)
    at = 0
    for column, width in zip(columns, widths, strict=True):
        matrix[:, at:at + width] = np.ascontiguousarray(column).view(np.uint8).reshape(n, width)
        matrix[:, at + width] = ord(",")
        at += width + 1
    matrix[:, -1] = ord("\n")
    return matrix[matrix != NUL].tobytes()


def utf8(text: Sequence[str] | np.ndarray) -> np.ndarray | None:
    """Return text values (str, or a StringDType column) as an 'S' column of their UTF-8
    bytes, or None if one holds a line feed or a NUL."""
    values = text.tolist() if isinstance(text, np.ndarray) else list(text)
    return split("\n".join(values).encode("utf-8"), ord("\n"), len(values))


def holds(column: np.ndarray, marks: bytes) -> bool:
    """Return whether any value of an 'S' column holds one of these bytes."""
    octets = np.ascontiguousarray(column).view(np.uint8)
    # a comparison per mark: several times faster than np.isin's table look-up
    return any(bool((octets == mark).any()) for mark in marks)
