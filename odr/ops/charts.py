"""Small server-rendered SVG charts: horizontal bars for counts, columns for daily series.

No JavaScript and no charting library: an SVG written here is text in the page, readable by a
screen reader through its ``<title>`` and backed by a table of the same figures.
"""

from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2")


def bar_chart(rows: list[tuple[str, float]], title: str, width: int = 420, bar: int = 18,
              value_format=lambda v: f"{v:g}") -> Markup:
    """One horizontal bar per (label, value), longest first as given."""
    label_w, gap = 150, 6
    height = max(1, len(rows)) * (bar + gap) + gap
    top = max((v for _l, v in rows), default=0) or 1
    parts = [f'<svg class="chart bar" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar + gap)
        w = (width - label_w - 60) * (value / top)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar * 0.75:.1f}" text-anchor="end" font-size="12">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="{PALETTE[0]}"><title>'
            f'{escape(label)}: {escape(value_format(value))}</title></rect>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar * 0.75:.1f}" font-size="12">{escape(value_format(value))}</text>')
    if not rows:
        parts.append(f'<text x="4" y="{bar * 0.75}" font-size="12">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(days: list[str], series: list[tuple[str, list[int]]], title: str, width: int = 640,
                 height: int = 180) -> Markup:
    """Columns per day, one colour per series side by side, with a legend."""
    left, bottom, top_pad = 30, 20, 22
    plot_h = height - bottom - top_pad
    n = max(1, len(days))
    slot = (width - left) / n
    col = max(1.0, slot * 0.8 / max(1, len(series)))
    top = max((v for _name, values in series for v in values), default=0) or 1
    parts = [f'<svg class="chart columns" role="img" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             f'<text x="0" y="{top_pad + 8}" font-size="11">{top}</text>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#999"/>']
    for s, (name, values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        parts.append(f'<rect x="{left + s * 110}" y="2" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + s * 110 + 14}" y="11" font-size="11">{escape(name)}</text>')
        for i, v in enumerate(values):
            h = plot_h * v / top
            x = left + i * slot + slot * 0.1 + s * col
            parts.append(f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{col:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{escape(days[i])} {escape(name)}: {v}</title></rect>')
    step = max(1, n // 7)
    for i in range(0, n, step):
        parts.append(f'<text x="{left + i * slot:.1f}" y="{height - 4}" font-size="10">{escape(days[i][5:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
