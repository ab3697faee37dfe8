"""Charts as inline SVG for the outcome report: no script, no external file, same bytes for
the same numbers.

Each function returns one `<svg>` element marked `data-chart="ID"` (the browser test looks
for every one), sized by its viewBox so it scales with the page. Numbers are laid out with
fixed rounding, so a chart is a pure function of its arguments.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

TIER_COLOURS = ("#2e7d32", "#1565c0", "#ef6c00", "#c62828", "#6a1b9a", "#00838f")
MUTED = "#9e9e9e"
GRID = "#e0e0e0"
INK = "#263238"
FONT = 13


def pct(value: float | None, digits: int = 1) -> str:
    """Return a share as a percentage ("12.3%"), or "—" for None."""
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def _n(value: float) -> str:
    """Return a coordinate with at most one decimal (stable text for the same layout)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _svg(chart_id: str, title: str, width: int, height: int, body: Sequence[str]) -> str:
    """Return the <svg> element around a chart's body."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{chart_id}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = FONT,
          fill: str = INK, weight: str = "normal") -> str:
    """Return one <text> element."""
    return (f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill}" font-weight="{weight}">{escape(text)}</text>')


def axis(value: float) -> tuple[float, int]:
    """Return a round axis maximum at or above `value` and its number of divisions (3 to 6):
    steps of 1, 2, 2.5 or 5 times a power of ten."""
    if value <= 0:
        return 1.0, 5
    raw = value / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= raw * (1 - 1e-9))
    divisions = max(3, math.ceil(value / step - 1e-9))
    return step * divisions, divisions


@dataclass(frozen=True)
class Series:
    """One series of a bar chart: its name, a value per category and its colour."""

    name: str
    values: Sequence[float | None]
    colour: str


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    """Return the legend's swatches and names, laid out left to right."""
    parts, at = [], x
    for s in series:
        parts.append(f'<rect x="{_n(at)}" y="{_n(y - 10)}" width="12" height="12" '
                     f'fill="{s.colour}" rx="2"/>')
        parts.append(_text(at + 17, y, s.name, size=12))
        at += 34 + sum(12 if ord(c) > 0x2E80 else 6.6 for c in s.name)
    return parts


def bar_chart(chart_id: str, title: str, categories: Sequence[str], series: Sequence[Series],
              fmt: Callable[[float], str], *, width: int = 560, height: int = 280,
              top: float | None = None) -> str:
    """Return grouped vertical bars, one group per category, each bar labelled with `fmt`."""
    left, right, upper, lower = 56, 12, 34, 44
    plot_w, plot_h = width - left - right, height - upper - lower
    values = [v for s in series for v in s.values if v is not None]
    peak, ticks = axis(top if top is not None else max(values, default=0))
    body = _legend(series, left, 18)
    for k in range(ticks + 1):
        y = upper + plot_h - plot_h * k / ticks
        body.append(f'<line x1="{left}" y1="{_n(y)}" x2="{width - right}" y2="{_n(y)}" '
                    f'stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, fmt(peak * k / ticks), anchor="end", size=11,
                          fill=MUTED))
    group = plot_w / max(1, len(categories))
    bar = min(38.0, group * 0.8 / max(1, len(series)))
    for i, category in enumerate(categories):
        x0 = left + group * i + (group - bar * len(series)) / 2
        for j, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            h = plot_h * min(value, peak) / peak
            x, y = x0 + bar * j, upper + plot_h - h
            body.append(f'<rect x="{_n(x + 1)}" y="{_n(y)}" width="{_n(bar - 2)}" '
                        f'height="{_n(h)}" fill="{s.colour}" rx="2"/>')
            body.append(_text(x + bar / 2, y - 4, fmt(value), anchor="middle", size=11))
        body.append(_text(left + group * (i + 0.5), height - lower + 18, category,
                          anchor="middle"))
    body.append(f'<line x1="{left}" y1="{upper + plot_h}" x2="{width - right}" '
                f'y2="{upper + plot_h}" stroke="{INK}"/>')
    return _svg(chart_id, title, width, height, body)


@dataclass(frozen=True)
class IntervalPoint:
    """One row of an interval chart: its label, estimate, interval and the raw rate."""

    label: str
    estimate: float | None
    low: float | None
    high: float | None
    raw: float | None
    colour: str


def interval_chart(chart_id: str, title: str, points: Sequence[IntervalPoint], *,
                   width: int = 560) -> str:
    """Return horizontal interval bars: a dot at each estimate, a whisker over its interval
    and a hollow diamond at the raw sample rate; the numbers in a column on the right."""
    left, right, upper, row = 110, 150, 40, 40
    height = upper + row * len(points) + 30
    plot_w = width - left - right
    peak, ticks = axis(max((p.high or 0 for p in points), default=0))
    body = [f'<circle cx="{left + 6}" cy="14" r="5" fill="{INK}"/>',
            _text(left + 16, 18, "分层估计及95%精确区间", size=12),
            f'<path d="M{left + 186} 9 l5 5 l-5 5 l-5 -5 z" fill="white" stroke="{INK}"/>',
            _text(left + 198, 18, "样本原始比例", size=12)]
    for k in range(ticks + 1):
        x = left + plot_w * k / ticks
        body.append(f'<line x1="{_n(x)}" y1="{upper - 8}" x2="{_n(x)}" '
                    f'y2="{upper + row * len(points)}" stroke="{GRID}"/>')
        body.append(_text(x, upper + row * len(points) + 18, pct(peak * k / ticks, 0),
                          anchor="middle", size=11, fill=MUTED))
    for i, p in enumerate(points):
        y = upper + row * i + row / 2
        body.append(_text(left - 10, y + 5, p.label, anchor="end"))
        if p.estimate is None or p.low is None or p.high is None:
            body.append(_text(left + 6, y + 5, "尚无结果", size=12, fill=MUTED))
            continue
        x_low, x_high = (left + plot_w * v / peak for v in (p.low, p.high))
        x_est = left + plot_w * p.estimate / peak
        body.append(f'<line x1="{_n(x_low)}" y1="{_n(y)}" x2="{_n(x_high)}" y2="{_n(y)}" '
                    f'stroke="{p.colour}" stroke-width="3"/>')
        for x in (x_low, x_high):
            body.append(f'<line x1="{_n(x)}" y1="{_n(y - 7)}" x2="{_n(x)}" y2="{_n(y + 7)}" '
                        f'stroke="{p.colour}" stroke-width="2"/>')
        if p.raw is not None:
            x_raw = left + plot_w * p.raw / peak
            body.append(f'<path d="M{_n(x_raw)} {_n(y - 6)} l6 6 l-6 6 l-6 -6 z" '
                        f'fill="white" stroke="{INK}" stroke-width="1.5"/>')
        body.append(f'<circle cx="{_n(x_est)}" cy="{_n(y)}" r="5" fill="{p.colour}" '
                    'stroke="white" stroke-width="1"/>')
        body.append(_text(width - right + 12, y - 2, pct(p.estimate), size=13,
                          weight="bold"))
        body.append(_text(width - right + 12, y + 13, f"{pct(p.low)}–{pct(p.high)}", size=11,
                          fill=MUTED))
    return _svg(chart_id, title, width, height, body)


def hbar_chart(chart_id: str, title: str, labels: Sequence[str], values: Sequence[float],
               fmt: Callable[[float], str], *, colours: Sequence[str] = (), width: int = 560,
               top: float | None = None, notes: Sequence[str] = ()) -> str:
    """Return one horizontal bar per label, each with its value (and an optional note)."""
    left, right, upper, row = 110, 120, 12, 22
    height = upper + row * len(labels) + 26
    plot_w = width - left - right
    peak, ticks = axis(top if top is not None else max(values, default=0))
    body = []
    for k in range(ticks + 1):
        x = left + plot_w * k / ticks
        body.append(f'<line x1="{_n(x)}" y1="{upper}" x2="{_n(x)}" '
                    f'y2="{upper + row * len(labels)}" stroke="{GRID}"/>')
        body.append(_text(x, upper + row * len(labels) + 16, fmt(peak * k / ticks),
                          anchor="middle", size=11, fill=MUTED))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = upper + row * i
        colour = colours[i] if i < len(colours) else TIER_COLOURS[1]
        w = plot_w * min(value, peak) / peak
        body.append(_text(left - 8, y + 15, label, anchor="end", size=12))
        body.append(f'<rect x="{left}" y="{_n(y + 4)}" width="{_n(w)}" height="{row - 8}" '
                    f'fill="{colour}" rx="2"/>')
        note = f"  {notes[i]}" if i < len(notes) and notes[i] else ""
        body.append(_text(left + w + 5, y + 15, fmt(value) + note, size=11))
    return _svg(chart_id, title, width, height, body)


def stacked_bars(chart_id: str, title: str, categories: Sequence[str],
                 series: Sequence[Series], *, width: int = 560) -> str:
    """Return one horizontal bar per category, split into the series' counts."""
    left, right, upper, row = 150, 16, 34, 30
    height = upper + row * len(categories) + 12
    plot_w = width - left - right
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    peak = max(totals, default=0) or 1
    body = _legend(series, left, 18)
    for i, category in enumerate(categories):
        y, x = upper + row * i, float(left)
        body.append(_text(left - 8, y + 18, category, anchor="end", size=12))
        for s in series:
            value = s.values[i] or 0
            w = plot_w * value / peak
            if value:
                body.append(f'<rect x="{_n(x)}" y="{_n(y + 5)}" width="{_n(w)}" '
                            f'height="{row - 10}" fill="{s.colour}"><title>{escape(s.name)}: '
                            f'{value:g}</title></rect>')
                if w > 26:
                    body.append(_text(x + w / 2, y + 19, f"{value:g}", anchor="middle",
                                      size=11, fill="white"))
            x += w
    return _svg(chart_id, title, width, height, body)
