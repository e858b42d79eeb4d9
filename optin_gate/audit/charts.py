"""Inline SVG charts for the HTML report: drawn by our code, no library, no network.

Two shapes cover what a manager needs at a glance: horizontal bars sorted largest first (by
reason, campaign, agent) and columns over time (violations per week). Every text is escaped
here, so callers pass plain strings.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta
from html import escape

__all__ = ["Bar", "hbars", "nice_ticks", "week_columns"]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
RED = "#c0392b"
GRID = "#e3e6ea"
INK = "#1f2933"
MUTED = "#616e7c"
CHAR_PX = 7.0  # average width of a 13 px character, for laying out labels
LABEL_CHARS = 42  # longer labels are cut (the full label is in the tooltip)


@dataclasses.dataclass(frozen=True)
class Bar:
    """One bar: a label, its value, and an optional note printed after the value."""

    label: str
    value: int
    note: str = ""
    tooltip: str = ""


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}" '
        f'font-family="{FONT}" font-size="13">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def nice_ticks(top: int, count: int = 4) -> list[int]:
    """Round tick values from 0 to at least `top` (1, 2 or 5 times a power of ten apart)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(1, int(step))
    return list(range(0, math.ceil(top / step) * step + 1, step))


def hbars(
    bars: list[Bar],
    *,
    label: str,
    unit: str,
    width: int = 760,
    color: str = RED,
) -> str:
    """Horizontal bars, largest first, each labelled with its value and unit.

    Args:
        bars: The bars; drawn in descending order of value.
        label: What the chart shows (the SVG's accessible name).
        unit: The unit after each value, e.g. "violations".
        width: Drawing width in px.
        color: Bar colour.
    """
    bars = sorted(bars, key=lambda b: -b.value)
    texts = [f"{b.value:,} {unit}" + (f" · {b.note}" if b.note else "") for b in bars]
    row, top = 30, 6
    height = top + row * max(1, len(bars)) + 6
    longest = max((len(_clip(b.label, LABEL_CHARS)) for b in bars), default=0)
    label_width = int(min(max(longest * CHAR_PX + 18, 90), 310))
    value_room = int(min(max(max(map(len, texts), default=0) * CHAR_PX + 14, 110), 330))
    scale_w = width - label_width - value_room
    peak = max((b.value for b in bars), default=0) or 1
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = top + i * row
        w = max(2.0, scale_w * bar.value / peak) if bar.value else 0.0
        tip = bar.tooltip or f"{bar.label}: {texts[i]}"
        text = texts[i]
        body.append(
            f"<g><title>{escape(tip)}</title>"
            f'<text x="{label_width - 10}" y="{y + 19}" text-anchor="end" fill="{INK}">'
            f"{escape(_clip(bar.label, LABEL_CHARS))}</text>"
            f'<rect x="{label_width}" y="{y + 5}" width="{w:.1f}" height="20" rx="2" '
            f'fill="{color}"/>'
            f'<text x="{label_width + w + 8:.1f}" y="{y + 19}" fill="{MUTED}">'
            f"{escape(text)}</text></g>"
        )
    if not bars:
        body.append(f'<text x="0" y="22" fill="{MUTED}">Nothing to show.</text>')
    return _svg(width, height, label, body)


def _month_label(d: date, with_year: bool) -> str:
    return d.strftime("%b %Y") if with_year else d.strftime("%b")


def week_columns(
    weeks: list[tuple[date, int, int]],
    *,
    label: str,
    marker: tuple[date, str] | None = None,
    width: int = 960,
    height: int = 300,
    color: str = RED,
) -> str:
    """Violations per week as columns, weeks without calls shown as gaps at zero.

    Args:
        weeks: (Monday of the week, violations, calls) for weeks with calls, any order.
        label: What the chart shows (the SVG's accessible name).
        marker: A day to mark with a dashed line and its caption (the regime change).
        width: Drawing width in px.
        height: Drawing height in px.
        color: Column colour.
    """
    if not weeks:
        return _svg(width, 40, label, [f'<text x="0" y="24" fill="{MUTED}">No calls.</text>'])
    data = {w: (v, c) for w, v, c in weeks}
    first, last = min(data), max(data)
    n = (last - first).days // 7 + 1
    left, right, top, bottom = 64, 16, 26, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(max(v for v, _ in data.values()))
    y_max = ticks[-1]
    slot = plot_w / n
    body: list[str] = []
    for tick in ticks:
        y = top + plot_h - plot_h * tick / y_max
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{tick:,}</text>"
        )
    body.append(f'<text x="{left}" y="14" fill="{MUTED}">violating calls</text>')
    for i in range(n):
        week = first + timedelta(days=7 * i)
        violations, calls = data.get(week, (0, 0))
        if not violations:
            continue
        h = max(1.0, plot_h * violations / y_max)
        x = left + i * slot + slot * 0.12
        tip = f"week of {week.isoformat()}: {violations:,} violations of {calls:,} calls"
        body.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{max(1.0, slot * 0.76):.1f}" '
            f'height="{h:.1f}" fill="{color}"><title>{escape(tip)}</title></rect>'
        )
    body.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{MUTED}"/>'
    )
    body.extend(_week_axis(first, n, left, slot, top + plot_h))
    if marker is not None and first <= marker[0] <= last + timedelta(days=6):
        x = left + (marker[0] - first).days / 7 * slot
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{top + plot_h}" '
            f'stroke="{INK}" stroke-dasharray="4 3"/>'
            f'<text x="{x + 6:.1f}" y="{top + 6}" fill="{INK}">{escape(marker[1])}</text>'
        )
    return _svg(width, height, label, body)


def _week_axis(first: date, n: int, left: float, slot: float, base: float) -> list[str]:
    """X-axis captions: weeks when few, else month or quarter starts."""
    out: list[str] = []
    if n <= 14:
        for i in range(n):
            d = first + timedelta(days=7 * i)
            x = left + (i + 0.5) * slot
            out.append(
                f'<text x="{x:.1f}" y="{base + 18}" text-anchor="middle" fill="{MUTED}">'
                f"{d.day} {d.strftime('%b')}</text>"
            )
        return out
    months = 1 if n <= 30 else 3 if n <= 160 else 12
    end = first + timedelta(days=7 * n)
    d = date(first.year, first.month, 1)
    shown_year = None
    while d < end:
        if (d.month - 1) % months == 0 and d >= first:
            x = left + (d - first).days / 7 * slot
            out.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 5}" stroke="{MUTED}"/>'
                f'<text x="{x:.1f}" y="{base + 20}" text-anchor="middle" fill="{MUTED}">'
                f"{_month_label(d, d.year != shown_year)}</text>"
            )
            shown_year = d.year
        d = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return out
