"""Charts drawn on the server as SVG: no script, no inline style (colours come from
classes in static/css/insight.css), a <title> for screen readers. Each chart is
drawn from its table (``selectors.Table``), which the page also prints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .selectors import Table

W, H = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 40


def _label(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%m-%d")
    text = str(value)
    return text if len(text) <= 18 else text[:17] + "…"


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _frame(title: str, body: list[str], y_max: float, unit: str) -> SafeString:
    parts = [
        f'<svg class="insight-chart" viewBox="0 0 {W} {H}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i in range(5):
        y = TOP + (H - TOP - BOTTOM) * i / 4
        value = y_max * (4 - i) / 4
        text = f"{value:g}{unit}" if unit == "%" else f"{value:g}"
        parts.append(
            f'<line class="insight-grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" '
            f'y2="{y:.1f}"/><text class="insight-axis" x="{LEFT - 4}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(text)}</text>'
        )
    parts.extend(body)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _x_labels(labels: list[str], step: float) -> list[str]:
    every = max(1, int(len(labels) / 12) + (1 if len(labels) % 12 else 0))
    out = []
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + step * (i + 0.5)
        out.append(
            f'<text class="insight-axis" x="{x:.1f}" y="{H - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return out


def bar_chart(table: Table) -> SafeString:
    """Vertical bars, grouped (``bar``) or stacked (``stacked``)."""
    labels = [_label(r[0]) for r in table.rows]
    stacked = table.chart == "stacked"
    values = [[_num(r[c]) for c in table.series] for r in table.rows]
    peak = max((sum(v) if stacked else max(v, default=0) for v in values), default=0)
    y_max = 100.0 if table.unit == "%" else _nice_max(peak)
    plot_h = H - TOP - BOTTOM
    step = (W - LEFT - RIGHT) / max(len(labels), 1)
    width = step * 0.8 / (1 if stacked else max(len(table.series), 1))
    body = []
    for i, row in enumerate(values):
        base = 0.0
        for s, value in enumerate(row):
            h = plot_h * value / y_max
            x = LEFT + step * i + step * 0.1 + (0 if stacked else width * s)
            y = TOP + plot_h - h - (plot_h * base / y_max if stacked else 0)
            body.append(
                f'<rect class="insight-s{s}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{width:.1f}" height="{h:.1f}"><title>{escape(labels[i])}: '
                f"{escape(table.columns[table.series[s]])} {value:g}</title></rect>"
            )
            if stacked:
                base += value
    body += _x_labels(labels, step)
    return _frame(table.title, body, y_max, table.unit)


def hbar_chart(table: Table) -> SafeString:
    """Horizontal bars, one per row, longest first."""
    rows = table.rows[:12]
    column = table.series[0]
    peak = max((_num(r[column]) for r in rows), default=0)
    y_max = _nice_max(peak)
    height = max(len(rows), 1) * 22 + 24
    label_w = 200
    parts = [
        f'<svg class="insight-chart" viewBox="0 0 {W} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(table.title)}</title>'
    ]
    for i, row in enumerate(rows):
        value = _num(row[column])
        y = 8 + i * 22
        length = (W - label_w - 60) * value / y_max
        parts.append(
            f'<text class="insight-axis" x="{label_w - 6}" y="{y + 14}" '
            f'text-anchor="end">{escape(_label(row[0]))}</text>'
            f'<rect class="insight-s0" x="{label_w}" y="{y}" width="{length:.1f}" '
            f'height="16"/><text class="insight-value" x="{label_w + length + 4:.1f}" '
            f'y="{y + 13}">{value:g}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def line_chart(table: Table) -> SafeString:
    """A line over the rows (days or weeks); gaps where there is no value."""
    labels = [_label(r[0]) for r in table.rows]
    column = table.series[0]
    values = [r[column] for r in table.rows]
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    y_max = 100.0 if table.unit == "%" else _nice_max(max(numbers, default=0))
    plot_h = H - TOP - BOTTOM
    step = (W - LEFT - RIGHT) / max(len(labels), 1)
    body = []
    segment: list[str] = []
    points = []
    for i, value in enumerate(values):
        if not isinstance(value, int | float):
            if len(segment) > 1:
                body.append(
                    f'<polyline class="insight-line" points="{" ".join(segment)}"/>'
                )
            segment = []
            continue
        x = LEFT + step * (i + 0.5)
        y = TOP + plot_h - plot_h * float(value) / y_max
        segment.append(f"{x:.1f},{y:.1f}")
        points.append(
            f'<circle class="insight-point" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            f"<title>{escape(labels[i])}: {float(value):g}</title></circle>"
        )
    if len(segment) > 1:
        body.append(f'<polyline class="insight-line" points="{" ".join(segment)}"/>')
    body += points + _x_labels(labels, step)
    return _frame(table.title, body, y_max, table.unit)


def draw(table: Table) -> SafeString:
    if table.chart == "line":
        return line_chart(table)
    if table.chart == "hbar":
        return hbar_chart(table)
    return bar_chart(table)
