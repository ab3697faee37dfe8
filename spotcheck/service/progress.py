"""Progress of long commands on standard error: stage lines and counted bars, terminal only.

`progress_for(command, quiet=...)` returns a `TerminalProgress` when standard error is a
terminal and `quiet` is off, and otherwise the silent `Progress`, whose every method does
nothing — so CI logs and pipes never see a bar. Times come from a monotonic clock and go
to the terminal only: nothing here is returned to a caller, so no clock reading can reach a
plan, a file or a digest.

With SPOTCHECK_TIMINGS set to a file name, every stage's start (seconds since the command
began, monotonic) and the process's peak memory so far are also appended to that file as
JSON lines, for benchmarks and capacity planning; like the terminal, the file is never read
back by spotcheck.

A command calls `finish()` when its work is done, before printing its results; used as a
context manager, a reporter also ends a line left open when the work fails, so the error
message starts on a line of its own.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from spotcheck.errors import SpotcheckError

Clock = Callable[[], float]

# Redraw a bar at most this often: a hot loop may call advance() millions of times.
INTERVAL = 0.1
_BAR_WIDTH = 24
_CLEAR = "\r\x1b[K"  # back to the start of the line and erase it
_ELLIPSIS = "…"


def elapsed_text(seconds: float) -> str:
    """Return a duration as a person reads it: '0.9 s', '2 min 05 s', '1 h 02 min'."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def _amount(value: float, unit: str) -> str:
    """Return a count in its unit: bytes scaled to kB/MB/GB, anything else with separators."""
    if unit == "B":
        for prefix in ("", "k", "M", "G"):
            if value < 1000 or prefix == "G":
                return f"{value:.0f} {prefix}B" if not prefix else f"{value:.1f} {prefix}B"
            value /= 1000
    return f"{value:,.0f} {unit}"


class Tally:
    """Counted work that reports nothing: the silent counterpart of `TerminalTally`."""

    def advance(self, amount: int = 1) -> None:
        """Count `amount` more units done."""

    def close(self) -> None:
        """End the count."""

    def __enter__(self) -> Tally:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


class Progress:
    """Progress of one command that reports nothing: used off a terminal and with --quiet.

    `stage` has the shape of `plan_quarter`'s `on_stage` hook, so either class can be
    passed to it directly.
    """

    def stage(self, name: str) -> None:
        """Start stage `name`, ending the one before; "done" only ends the one before."""

    def stages(self, prefix: str) -> Callable[[str], None]:
        """Return an `on_stage` hook that reports each stage as `prefix stage`."""

        def hook(name: str) -> None:
            self.stage(name if name == "done" else f"{prefix} {name}")

        return hook

    def tally(self, label: str, total: int | None = None, unit: str = "rows") -> Tally:
        """Return a counter for work of `total` units (None: not known in advance)."""
        return Tally()

    def finish(self) -> None:
        """End the current stage and say how long the command took (once)."""

    def close(self) -> None:
        """End a line left open by a stage that did not finish."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


class TerminalTally(Tally):
    """A bar with percentage, rate and ETA (or a running count when the total is unknown)."""

    def __init__(self, progress: TerminalProgress, label: str, total: int | None,
                 unit: str) -> None:
        self._progress = progress
        self._label = label
        self._total = total
        self._unit = unit
        self._done = 0
        self._closed = False
        self._started = self._drawn = progress.clock()
        self._draw(self._started)

    def advance(self, amount: int = 1) -> None:
        """Count `amount` more units done; redraw if the last drawing is INTERVAL old."""
        self._done += amount
        now = self._progress.clock()
        if now - self._drawn >= INTERVAL:
            self._drawn = now
            self._draw(now)

    def _rate(self, now: float) -> float | None:
        seconds = now - self._started
        return self._done / seconds if seconds > 0 else None

    def _draw(self, now: float) -> None:
        rate = self._rate(now)
        parts = [f"{self._progress.prefix}{self._label}"]
        if self._total:
            share = min(self._done / self._total, 1.0)
            filled = int(share * _BAR_WIDTH)
            parts.append(f"[{'#' * filled}{'-' * (_BAR_WIDTH - filled)}] {share:4.0%}")
        else:
            parts.append(_amount(self._done, self._unit))
        if rate:
            parts.append(f"{_amount(rate, self._unit)}/s")
            if self._total:
                left = max(self._total - self._done, 0) / rate
                parts.append(f"ETA {elapsed_text(left)}")
        self._progress.write(_CLEAR + "  ".join(parts))

    def close(self) -> None:
        """Replace the bar with a line saying how much was done, how long it took and how fast."""
        if self._closed:
            return
        self._closed = True
        now = self._progress.clock()
        rate = self._rate(now)
        speed = f" ({_amount(rate, self._unit)}/s)" if rate else ""
        self._progress.write(
            f"{_CLEAR}{self._progress.prefix}{self._label} {_amount(self._done, self._unit)} "
            f"{_ELLIPSIS} {elapsed_text(now - self._started)}{speed}\n")


class TerminalProgress(Progress):
    """Writes `command: stage … 0.9 s` lines and tally bars to a terminal stream."""

    def __init__(self, command: str, stream: TextIO, *, clock: Clock = time.monotonic) -> None:
        self.prefix = f"{command}: "
        self.clock = clock
        self._stream = stream
        self._started = clock()
        self._stage: tuple[str, float] | None = None
        self._finished = False

    def write(self, text: str) -> None:
        """Write `text` to the terminal at once (standard error may be buffered)."""
        self._stream.write(text)
        self._stream.flush()

    def _end_stage(self) -> None:
        if self._stage is not None:
            name, started = self._stage
            self._stage = None
            self.write(f"{_CLEAR}{self.prefix}{name} {_ELLIPSIS} "
                       f"{elapsed_text(self.clock() - started)}\n")

    def stage(self, name: str) -> None:
        """Start stage `name`, ending the one before; "done" only ends the one before."""
        self._end_stage()
        if name != "done":
            self._stage = (name, self.clock())
            self.write(f"{self.prefix}{name} {_ELLIPSIS}")

    def tally(self, label: str, total: int | None = None, unit: str = "rows") -> Tally:
        """Return a bar for work of `total` units; it ends any stage still open."""
        self._end_stage()
        return TerminalTally(self, label, total, unit)

    def finish(self) -> None:
        """End the current stage and say how long the command took (once)."""
        if self._finished:
            return
        self._finished = True
        self._end_stage()
        self.write(f"{self.prefix}finished in {elapsed_text(self.clock() - self._started)}\n")

    def close(self) -> None:
        """End a line left open by a stage that did not finish, claiming no time for it."""
        if self._stage is not None:
            self._stage = None
            self.write("\n")


def peak_rss_mib() -> float | None:
    """Return this process's peak resident set size so far in MiB (None where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


class TimedProgress(Progress):
    """Reports through another reporter and appends each stage's start to a JSON-lines file."""

    def __init__(self, inner: Progress, command: str, path: str, *,
                 clock: Clock = time.monotonic) -> None:
        self.inner, self.command, self.path, self.clock = inner, command, path, clock
        self.started = clock()
        try:
            self._record("start")
        except OSError as exc:
            raise SpotcheckError(f"SPOTCHECK_TIMINGS={path}: cannot append to it "
                                 f"({exc.strerror}); give a file in a folder that exists, "
                                 "or unset it") from None

    def _record(self, stage: str) -> None:
        line = {"command": self.command, "stage": stage,
                "seconds": round(self.clock() - self.started, 3),
                "peak_rss_mib": peak_rss_mib()}
        with open(self.path, "a", encoding="utf-8") as log:
            log.write(json.dumps(line, ensure_ascii=False) + "\n")

    def stage(self, name: str) -> None:
        """Record the stage, then report it."""
        self._record(name)
        self.inner.stage(name)

    def tally(self, label: str, total: int | None = None, unit: str = "rows") -> Tally:
        """Return the inner reporter's counter."""
        return self.inner.tally(label, total, unit)

    def finish(self) -> None:
        """Record the end, then let the inner reporter finish."""
        self._record("done")
        self.inner.finish()

    def close(self) -> None:
        """Close the inner reporter."""
        self.inner.close()


def progress_for(command: str, *, quiet: bool = False, stream: TextIO | None = None,
                 clock: Clock = time.monotonic) -> Progress:
    """Return a reporter for `command` on `stream` (default standard error).

    It reports only when the stream is a terminal and `quiet` is off; otherwise it is the
    silent `Progress`. With SPOTCHECK_TIMINGS set, stages are also recorded to that file.
    """
    target = sys.stderr if stream is None else stream
    isatty = getattr(target, "isatty", None)
    shown: Progress = Progress() if quiet or target is None or isatty is None or not isatty() \
        else TerminalProgress(command, target, clock=clock)
    timings = os.environ.get("SPOTCHECK_TIMINGS")
    return TimedProgress(shown, command, timings, clock=clock) if timings else shown
