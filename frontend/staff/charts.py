"""Small server-side SVG charts: numbers in, an ``<svg>`` string out (no JavaScript, no CDN).

Every text that reaches the picture is escaped; every chart carries a title for screen readers,
and the page puts a table of the exact figures beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 560, 220, 34
MAX_TICKS = 6  # more bars than this: label only the first, middle and last
STATE_COLOURS = {
    "open": "#9aa5b1",
    "accepted": "#2f9e44",
    "review": "#f08c00",
    "rejected": "#c92a2a",
}


def _svg(
    title: str, body: str, width: int = WIDTH, height: int = HEIGHT, kind: str = ""
) -> SafeString:
    return mark_safe(  # noqa: S308 - every text inside went through escape()
        f'<svg class="chart {kind}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _axis(top: float) -> str:
    bottom, right = HEIGHT - PAD, WIDTH - 8
    return (
        f'<line class="axis" x1="{PAD}" y1="{bottom}" x2="{right}" y2="{bottom}"/>'
        f'<line class="axis" x1="{PAD}" y1="8" x2="{PAD}" y2="{bottom}"/>'
        f'<text x="{PAD - 4}" y="14" text-anchor="end">{escape(_short(top))}</text>'
        f'<text x="{PAD - 4}" y="{bottom}" text-anchor="end">0</text>'
    )


def _short(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def _scale(value: float, top: float) -> float:
    return (HEIGHT - PAD) - (HEIGHT - PAD - 8) * (value / top if top else 0)


def bar_chart(
    title: str, values: Sequence[float], labels: Sequence[str], colour: str = "#1c7ed6"
) -> SafeString:
    """Vertical bars, one per value; ``labels`` are shown under the first, middle and last."""
    top = max(values, default=0) or 1
    step = (WIDTH - PAD - 8) / max(len(values), 1)
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        y = _scale(value, top)
        bars.append(
            f'<rect class="bar" x="{PAD + i * step + 1:.1f}" y="{y:.1f}" '
            f'width="{max(step - 2, 1):.1f}" height="{HEIGHT - PAD - y:.1f}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(_short(value))}</title></rect>"
        )
    ticks = _ticks(labels, step)
    return _svg(title, _axis(top) + "".join(bars) + ticks)


def _ticks(labels: Sequence[str], step: float) -> str:
    if not labels:
        return ""
    few = len(labels) <= MAX_TICKS
    picks = range(len(labels)) if few else sorted({0, len(labels) // 2, len(labels) - 1})
    ticks = []
    for i in picks:
        anchor = (
            "middle"
            if few
            else ("start" if i == 0 else "end" if i == len(labels) - 1 else "middle")
        )
        x = (
            PAD + (i + 0.5) * step
            if anchor == "middle"
            else PAD + i * step + (0 if i == 0 else step)
        )
        ticks.append(
            f'<text x="{x:.1f}" y="{HEIGHT - PAD + 16}" text-anchor="{anchor}">'
            f"{escape(labels[i])}</text>"
        )
    return "".join(ticks)


def stacked_area(
    title: str, series: dict[str, Sequence[float]], labels: Sequence[str]
) -> SafeString:
    """Layers stacked bottom-up in the order of ``series`` (e.g. tasks by state over time)."""
    count = len(labels)
    totals = [sum(s[i] for s in series.values()) for i in range(count)]
    top = max(totals, default=0) or 1
    step = (WIDTH - PAD - 8) / max(count - 1, 1)
    base = [0.0] * count
    layers = []
    for name, values in series.items():
        upper = [b + v for b, v in zip(base, values, strict=True)]
        layers.append(_layer(name, base, upper, step, top))
        base = upper
    legend = _legend(list(series))
    return _svg(title, _axis(top) + "".join(layers) + _ticks(labels, step) + legend)


def _layer(name: str, lower: list[float], upper: list[float], step: float, top: float) -> str:
    if len(upper) == 1:  # one moment: draw it as a thin band
        upper, lower = upper * 2, lower * 2
    xs = [PAD + i * step for i in range(len(upper))]
    ring = [(x, _scale(v, top)) for x, v in zip(xs, upper, strict=True)]
    ring += [(x, _scale(v, top)) for x, v in reversed(list(zip(xs, lower, strict=True)))]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in ring)
    colour = STATE_COLOURS.get(name, "#868e96")
    return f'<polygon class="area" points="{points}" fill="{colour}"><title>{escape(name)}</title></polygon>'


def _legend(names: list[str]) -> str:
    items = []
    for i, name in enumerate(names):
        x = PAD + 8 + i * 100
        colour = STATE_COLOURS.get(name, "#868e96")
        items.append(
            f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 5}">{escape(name)}</text>'
        )
    return "".join(items)


def heatmap(title: str, labels: Sequence[str], rows: dict[str, dict[str, int]]) -> SafeString:
    """A confusion matrix: accepted label (rows) by answered label (columns); darker is more.
    Each row is shaded by its own share, so a rare class is as readable as a common one."""
    n = max(len(labels), 1)
    cell = max(min(40, (HEIGHT - 40) // n), 14)
    left, top = 90, 30
    cells = []
    for r, truth in enumerate(labels):
        row = rows.get(truth, {})
        total = sum(row.values()) or 1
        for c, answer in enumerate(labels):
            value = row.get(answer, 0)
            shade = value / total
            cells.append(
                f'<rect class="cell" x="{left + c * cell}" y="{top + r * cell}" width="{cell - 1}" '
                f'height="{cell - 1}" fill="rgba(28,126,214,{0.08 + 0.92 * shade:.2f})">'
                f"<title>{escape(truth)} answered as {escape(answer)}: {value}</title></rect>"
            )
        cells.append(
            f'<text x="{left - 4}" y="{top + r * cell + cell / 2 + 4}" text-anchor="end">'
            f"{escape(truth)}</text>"
        )
    heads = "".join(
        f'<text x="{left + c * cell + cell / 2}" y="{top - 6}" text-anchor="middle">'
        f"{escape(name[:8])}</text>"
        for c, name in enumerate(labels)
    )
    width = left + n * cell + 10
    height = top + n * cell + 10
    return _svg(title, heads + "".join(cells), width=max(width, 200), height=height, kind="heat")


def share_bar(title: str, share: float | None, colour: str = "#2f9e44") -> SafeString:
    """One horizontal bar filled to ``share`` (0..1), e.g. the crowd's gold accuracy."""
    filled = 0 if share is None else max(0.0, min(1.0, share)) * (WIDTH - 20)
    text = "no data" if share is None else f"{share:.0%}"
    body = (
        f'<rect x="10" y="10" width="{WIDTH - 20}" height="28" fill="#e9ecef"/>'
        f'<rect class="bar" x="10" y="10" width="{filled:.1f}" height="28" fill="{colour}"/>'
        f'<text x="{WIDTH / 2}" y="30" text-anchor="middle">{escape(text)}</text>'
    )
    return _svg(title, body, height=48)
