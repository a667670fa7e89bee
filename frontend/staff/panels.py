"""The dashboard's panels: each figure from ``consensus.dashboard`` as a chart and its table."""

from __future__ import annotations

from datetime import datetime

from . import charts

TABLE_TAIL = 8  # long series: the table lists the latest rows; the chart shows them all
STATES = ["open", "accepted", "review", "rejected"]


def _when(iso: str, bucket: str = "hour") -> str:
    moment = datetime.fromisoformat(iso)
    return moment.strftime("%d %b %H:%M" if bucket == "hour" else "%d %b %Y")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def progress_panel(progress: dict) -> dict:
    points, bucket = progress["points"], progress["bucket"]
    labels = [_when(p["at"], bucket) for p in points]
    series = {state: [p[state] for p in points] for state in reversed(STATES)}
    rows = [[_when(p["at"], bucket), *[p[s] for s in STATES]] for p in points[-TABLE_TAIL:]]
    return {
        "title": f"Tasks by state over time (per {bucket})",
        "chart": charts.stacked_area("Tasks by state over time", series, labels),
        "head": ["end of", *STATES],
        "rows": rows,
    }


def answers_panel(hours: list[dict]) -> dict:
    labels = [_when(h["at"]) for h in hours]
    values = [h["answers"] for h in hours]
    return {
        "title": "Answers per hour (last 48 hours)",
        "chart": charts.bar_chart("Answers per hour", values, labels),
        "head": ["hour", "answers"],
        "rows": [[label, v] for label, v in zip(labels, values, strict=True)][-TABLE_TAIL:],
    }


def confidence_panel(bins: list[dict]) -> dict:
    labels = [f"{b['low']:.1f}–{b['high']:.1f}" for b in bins]
    values = [b["tasks"] for b in bins]
    return {
        "title": "Consensus confidence",
        "chart": charts.bar_chart("Tasks by consensus confidence", values, labels, "#7048e8"),
        "head": ["confidence", "tasks"],
        "rows": [[label, v] for label, v in zip(labels, values, strict=True)],
    }


def agreement_panel(agreement: dict) -> dict:
    labels, rows = agreement["labels"], agreement["rows"]
    if agreement["kind"] == "matrix":
        return {
            "title": "Agreement by label (accepted label × worker's answer)",
            "chart": charts.heatmap("Confusion matrix", labels, rows),
            "head": ["accepted \\ answered", *labels],
            "rows": [[truth, *[rows[truth][a] for a in labels]] for truth in labels],
        }
    shares = [(rows.get(name) or {}).get("agreement") or 0 for name in labels]
    return {
        "title": "Agreement by label (mean F1 of answers)",
        "chart": charts.bar_chart("Mean agreement by label", shares, labels, "#0ca678"),
        "head": ["label", "answers", "mean agreement"],
        "rows": [
            [name, (rows.get(name) or {}).get("answers", 0), _percent(share)]
            for name, share in zip(labels, shares, strict=True)
        ],
    }


def gold_panel(gold: dict) -> dict:
    return {
        "title": "Gold accuracy of the crowd",
        "chart": charts.share_bar("Share of gold answers graded right", gold["share_passed"]),
        "head": ["graded gold answers", "passed", "mean grade"],
        "rows": [[gold["answers"], gold["passed"], _percent(gold["mean"])]],
    }


def cost_panel(cost: dict, states: dict) -> dict:
    per_label, answers = cost["per_label"], cost.get("answers_per_label")
    return {
        "title": "Cost in points (chart: tasks by state)",
        "chart": charts.bar_chart("Tasks by state", [states[s] for s in STATES], STATES, "#f08c00"),
        "head": [
            "points paid",
            "accepted labels",
            "points per accepted label",
            "people's answers per accepted label",
        ],
        "rows": [
            [
                cost["points"],
                cost["accepted"],
                "–" if per_label is None else f"{per_label:.1f}",
                "–" if answers is None else f"{answers:.2f}",
            ]
        ],
    }


def _leaks(health: dict) -> str:
    groups = health.get("groups_in_several_splits", {}).get("groups", 0)
    videos = health.get("videos_in_several_splits", {}).get("videos", 0)
    if not groups and not videos:
        return "no group or video in more than one split"
    return f"leaks: {groups} group(s) and {videos} video(s) in more than one split"


def export_health_panel(latest: dict) -> dict:
    """The latest ready export's health: per split its images, groups, missing classes and the
    ratio of its most to its least frequent class; the title names the leaks."""
    health, images = latest["health"] or {}, latest["counts__images"] or {}
    splits = [s for s in images if s != "total"]
    missing = health.get("missing_classes", {})
    imbalance = health.get("imbalance", {})
    identical = f", identical to v{latest['identical_to']}" if latest["identical_to"] else ""
    return {
        "title": f"Latest export's health (v{latest['version']} {latest['format']}{identical}): "
        + _leaks(health),
        "chart": charts.bar_chart("Images per split", [images[s] for s in splits], splits),
        "head": ["split", "images", "groups", "classes missing", "most / least frequent class"],
        "rows": [
            [
                split,
                images[split],
                health.get("groups", {}).get(split, 0),
                ", ".join(missing.get(split, [])) or "none",
                "–" if imbalance.get(split) is None else f"{imbalance[split]:g}×",
            ]
            for split in splits
        ],
    }


def dashboard_panels(figures: dict) -> list[dict]:
    """Every panel of the dashboard, in page order; the export's health once there is one."""
    latest = figures.get("export_health")
    return [*_figure_panels(figures), *([export_health_panel(latest)] if latest else [])]


def _figure_panels(figures: dict) -> list[dict]:
    return [
        progress_panel(figures["progress"]),
        answers_panel(figures["answers_per_hour"]),
        confidence_panel(figures["confidence"]),
        agreement_panel(figures["agreement"]),
        gold_panel(figures["gold"]),
        cost_panel(figures["cost"], figures["states"]),
    ]
