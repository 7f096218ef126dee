"""Charts drawn on the server as inline SVG: no script, no CDN, nothing for the
Content-Security-Policy to allow. Colours come from CSS classes (``style.css``), so the charts
follow the light and dark themes.

* :func:`coverage_svg`: articles per day (per week or month over long spans), stacked by
  language or by source: how an event or a story was covered over time.
* :func:`timeline_svg`: recent events as dots, date across, size up; each dot links to its
  event.

Every text that comes from the store is escaped (:func:`markupsafe.escape`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from markupsafe import Markup, escape

__all__ = ["bucket_of", "coverage_counts", "coverage_svg", "timeline_svg"]

PALETTE = 8  # CSS classes c0 … c7
W, H, PAD_L, PAD_B, PAD_T = 640, 170, 34, 26, 8


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def bucket_of(first: dt.date, last: dt.date) -> str:
    """``day`` up to two months, ``week`` up to a year and a half, else ``month``."""
    span = (last - first).days
    return "day" if span <= 62 else "week" if span <= 550 else "month"


def _start(d: dt.date, bucket: str) -> dt.date:
    if bucket == "week":
        return d - dt.timedelta(days=d.weekday())
    if bucket == "month":
        return d.replace(day=1)
    return d


def _next(d: dt.date, bucket: str) -> dt.date:
    if bucket == "week":
        return d + dt.timedelta(days=7)
    if bucket == "month":
        return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return d + dt.timedelta(days=1)


def coverage_counts(
    articles: Iterable[dict[str, Any]], by: str = "lang"
) -> tuple[str, list[dt.date], list[str], dict[tuple[dt.date, str], int]]:
    """``(bucket, periods, keys, counts)``: articles per period (``published``, else their
    ``event_date``) and per value of ``by`` (``lang`` or ``source``); undated articles are
    left out. Keys are ordered by their total, largest first.

    >>> b, periods, keys, n = coverage_counts([{"published": "2024-01-02", "lang": "fr"},
    ...     {"published": "2024-01-04", "lang": "en"}, {"published": "2024-01-04", "lang": "fr"}])
    >>> b, [str(p) for p in periods], keys, n[(periods[2], "fr")]
    ('day', ['2024-01-02', '2024-01-03', '2024-01-04'], ['fr', 'en'], 1)
    """
    dated = [(d, str(a.get(by) or "?")) for a in articles
             if (d := _date(a.get("published") or a.get("event_date")))]  # fmt: skip
    if not dated:
        return "day", [], [], {}
    first, last = min(d for d, _ in dated), max(d for d, _ in dated)
    bucket = bucket_of(first, last)
    periods = []
    p = _start(first, bucket)
    while p <= last:
        periods.append(p)
        p = _next(p, bucket)
    counts: Counter[tuple[dt.date, str]] = Counter((_start(d, bucket), k) for d, k in dated)
    totals: Counter[str] = Counter(k for _, k in dated)
    keys = sorted(totals, key=lambda k: (-totals[k], k))
    return bucket, periods, keys, dict(counts)


def _open(kind: str, title: str) -> str:
    return (f'<svg class="chart {kind}" viewBox="0 0 {W} {H}" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">')  # fmt: skip


def _label(d: dt.date, bucket: str) -> str:
    return d.strftime("%b %Y") if bucket == "month" else f"{d.day} {d.strftime('%b')}"


def coverage_svg(
    articles: Sequence[dict[str, Any]], by: str = "lang", names: dict[str, str] | None = None,
    title: str = "Articles over time",
) -> Markup:  # fmt: skip
    """A stacked bar chart of :func:`coverage_counts` with a legend; ``""`` without dates."""
    bucket, periods, keys, counts = coverage_counts(articles, by)
    if not periods:
        return Markup("")
    keys_shown = keys[: PALETTE - 1] + (["other"] if len(keys) >= PALETTE else [])
    klass = {k: f"c{i}" for i, k in enumerate(keys_shown)}
    stack: dict[dt.date, list[tuple[str, int]]] = {}
    for p in periods:
        row: Counter[str] = Counter()
        for k in keys:
            row[k if k in klass else "other"] += counts.get((p, k), 0)
        stack[p] = [(k, row[k]) for k in keys_shown if row[k]]
    top = max(sum(n for _, n in s) for s in stack.values()) or 1
    plot_w, plot_h = W - PAD_L - 6, H - PAD_B - PAD_T
    bw = plot_w / len(periods)
    parts = [
        _open("coverage", title),
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - 6}" y2="{H - PAD_B}"/>',
        f'<text class="tick" x="{PAD_L - 4}" y="{PAD_T + 9}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{PAD_L - 4}" y="{H - PAD_B}" text-anchor="end">0</text>',
    ]
    every = max(1, len(periods) // 8)
    for i, p in enumerate(periods):
        x, y = PAD_L + i * bw, H - PAD_B
        for k, n in stack[p]:
            h = plot_h * n / top
            y -= h
            label = f"{_label(p, bucket)}: {n} in {(names or {}).get(k, k)}"
            parts.append(
                f'<rect class="{klass[k]}" x="{x + bw * 0.1:.1f}" y="{y:.1f}" '
                f'width="{max(bw * 0.8, 1):.1f}" height="{h:.1f}"><title>{escape(label)}</title></rect>'
            )
        if i % every == 0:
            parts.append(f'<text class="tick" x="{x + bw / 2:.1f}" y="{H - 8}" '
                         f'text-anchor="middle">{escape(_label(p, bucket))}</text>')  # fmt: skip
    parts.append("</svg>")
    legend = "".join(
        f'<li><span class="swatch {klass[k]}"></span><bdi>{escape((names or {}).get(k, k))}</bdi></li>'
        for k in keys_shown
    )
    per = {"day": "day", "week": "week", "month": "month"}[bucket]
    return Markup(
        f'<figure class="chart-box" data-by="{escape(by)}">{"".join(parts)}'
        f'<figcaption>Articles per {per} by {"language" if by == "lang" else "source"}'
        f'<ul class="legend">{legend}</ul></figcaption></figure>'
    )


def timeline_svg(events: Sequence[dict[str, Any]], title: str = "Recent events") -> Markup:
    """Events as dots: date across, number of articles up (square root), each a link."""
    dated = [(d, e) for e in events if (d := _date(e.get("date")))]
    if not dated:
        return Markup("")
    first, last = min(d for d, _ in dated), max(d for d, _ in dated)
    span = max((last - first).days, 1)
    top = max(int(e.get("size") or 1) for _, e in dated)
    plot_w, plot_h = W - PAD_L - 16, H - PAD_B - PAD_T - 8
    unit = "month" if span > 62 else "day"
    parts = [
        _open("timeline-chart", title),
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - 6}" y2="{H - PAD_B}"/>',
        f'<text class="tick" x="{PAD_L}" y="{H - 8}">{escape(_label(first, unit))}</text>',
        f'<text class="tick" x="{W - 6}" y="{H - 8}" text-anchor="end">{escape(_label(last, unit))}</text>',
    ]
    for d, e in sorted(dated, key=lambda de: -int(de[1].get("size") or 1)):
        n = int(e.get("size") or 1)
        x = PAD_L + 8 + plot_w * (d - first).days / span
        y = H - PAD_B - 8 - plot_h * ((n / top) ** 0.5 if top > 1 else 0.5)
        r = 3 + 5 * (n / top) ** 0.5
        label = f"{d.isoformat()} · {n} article{'s' if n != 1 else ''} · {e.get('headline') or e.get('id')}"
        parts.append(
            f'<a href="/events/{escape(e["id"])}"><circle class="dot" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="{r:.1f}"><title>{escape(label)}</title></circle></a>'
        )
    parts.append("</svg>")
    return Markup(f'<figure class="chart-box">{"".join(parts)}'
                  f"<figcaption>{escape(title)}: date across, articles up</figcaption></figure>")  # fmt: skip
