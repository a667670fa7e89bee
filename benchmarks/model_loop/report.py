"""The three tables: medians over runs, and ratios against the baseline taken run by run (the
variants of one run share their images, crowd and seeds) before the median; corrections are
small counts, so their ratio is taken over the runs' totals. A cell "a (b–c)" is the median a
and the lowest and highest run."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable

QUALITIES = ("none", "useless", "good")
ORDERS = {"nearest_completion": "today (nearest completion)", "model_doubt": "model's doubt first"}
GOOD_SAVING, USELESS_COST, DOUBT_GAIN, LATENCY_COST = 0.60, 1.05, 2.0, 1.10
TOO_FEW = 10  # corrections in both orders over all runs, below which no ratio is judged
NOTES = {
    "loop": "Answers: people's answers on ordinary tasks (gold left out) over the ordinary tasks "
    "accepted (answers / task: over all of them). × none: each run against the same run's "
    '"none", median (lowest–highest run). '
    "Accuracy: accepted labels equal to the truth; boxes: F1 at IoU 0.5 over the accepted "
    "images. All runs: the accuracy over every run's accepted labels together less the same for "
    '"none", ± the 95 % half-width of that difference; accuracy counts as no lower when the '
    "interval reaches 0. A model that is never credible takes no part in consensus, so "
    '"useless" differs from "none" only by the draw (gold is served in random order): their spread is the noise.',
    "doubt": "Wrong prediction: the model's vote (boxes: its shapes scored at least "
    "MODEL_MIN_SCORE) is not the truth (boxes: not every box matched at IoU 0.5 with its "
    "class). Corrected: such a task accepted with the true label. The budget counts gold answers "
    "too. Fewer than 10 corrections in both orders together are too few to judge a ratio.",
    "latency": "Only pairs decided alike are compared (an acceptance writes agreements, skills "
    "and points, asking for one more answer writes a counter); SQL is counted on every tenth "
    "image, which is not timed.",
}


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _cell(values: list[float | None], fmt: str = "{:.2f}", spread: bool = False) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "–"

    def shown(value: float) -> str:
        return "∞" if value == float("inf") else fmt.format(value)

    text = shown(statistics.median(present))
    if spread and len(present) > 1:
        text += f" ({shown(min(present))}–{shown(max(present))})"
    return text


def _credible(models: list[dict | None]) -> str:
    """How many runs' models were credible, and their final skill."""
    present = [m for m in models if m]
    if not present:
        return "–"
    return (
        f"{sum(m['credible'] for m in present)}/{len(present)} "
        f"({_cell([m['skill'] for m in present])})"
    )


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return a / b if b else (1.0 if a == 0 else float("inf"))


def _by(results: list[dict], what: str) -> dict[tuple, dict]:
    return {(r["kind"], r["variant"], r["seed"]): r for r in results if r["what"] == what}


def _paired(rows: dict, kind: str, variant: str, base: str, key: Callable) -> list[float | None]:
    """Per run: ``key`` of the variant over ``key`` of the baseline."""
    return [
        _ratio(key(row), key(rows[(kind, base, seed)]))
        for (k, v, seed), row in sorted(rows.items())
        if k == kind and v == variant
    ]


def _values(rows: dict, kind: str, variant: str, key: Callable) -> list:
    return [key(r) for (k, v, _), r in sorted(rows.items()) if k == kind and v == variant]


def _pooled(rows: dict, kind: str, variant: str) -> tuple[float, int] | None:
    """Accuracy over all runs' accepted labels together (boxes: F1 weighted by images), and
    how many labels."""
    runs = [(r["accuracy"], r["accepted"]) for r in _values(rows, kind, variant, lambda r: r)]
    runs = [(a, n) for a, n in runs if a is not None and n]
    total = sum(n for _, n in runs)
    return (sum(a * n for a, n in runs) / total, total) if total else None


def accuracy_gap(variant: tuple[float, int], base: tuple[float, int]) -> tuple[float, float]:
    """The variant's pooled accuracy less the baseline's, and the 95 % half-width of that
    difference by the normal approximation to two binomial proportions."""
    (p1, n1), (p2, n2) = variant, base
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    half = 1.96 * math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n1 + 1 / n2))
    return p1 - p2, half


def _loop_verdict(
    quality: str, answers: float | None, gap: tuple[float, float] | None, iou: float | None
) -> str:
    """Answers read off the printed median (2 decimals); accuracy is no lower when the pooled
    difference is not below zero by more than the runs' noise (its 95 % interval reaches 0),
    and a mean IoU when its median ratio to none's rounds to 1.00."""
    if quality == "none" or answers is None or gap is None:
        return ""
    no_lower = gap[0] + gap[1] >= 0 and (iou is None or round(iou, 2) >= 1.0)
    bound = GOOD_SAVING if quality == "good" else USELESS_COST
    return "met" if round(answers, 2) <= bound and no_lower else "**not met**"


def _gap_cell(gap: tuple[float, float] | None) -> str:
    return "–" if gap is None else f"{gap[0]:+.4f} ± {gap[1]:.4f}"


def loop_table(results: list[dict], kinds: list[str]) -> list[str]:
    rows = _by(results, "loop")
    lines = [
        "| kind | model | human answers / accepted label | × none | answers / task | accuracy "
        "| × none | all runs: accuracy − none's | mean IoU | × none | accepted | in review "
        "| model credible (final skill) | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in kinds:
        for quality in QUALITIES:
            answers = _paired(rows, kind, quality, "none", lambda r: r["answers_per_label"])
            accuracy = _paired(rows, kind, quality, "none", lambda r: r["accuracy"])
            iou = _paired(rows, kind, quality, "none", lambda r: r["mean_iou"])
            credible = _credible(_values(rows, kind, quality, lambda r: r["model"]))
            pooled, base = _pooled(rows, kind, quality), _pooled(rows, kind, "none")
            gap = accuracy_gap(pooled, base) if pooled and base else None
            lines.append(
                f"| {kind} | {quality} "
                f"| {_cell(_values(rows, kind, quality, lambda r: r['answers_per_label']))} "
                f"| {_cell(answers, spread=True)} "
                f"| {_cell(_values(rows, kind, quality, lambda r: r['answers'] / r['tasks']))} "
                f"| {_cell(_values(rows, kind, quality, lambda r: r['accuracy']), '{:.3f}')} "
                f"| {_cell(accuracy, '{:.3f}', spread=True)} "
                f"| {_gap_cell(gap if quality != 'none' else None)} "
                f"| {_cell(_values(rows, kind, quality, lambda r: r['mean_iou']), '{:.3f}')} "
                f"| {_cell(iou, '{:.3f}')} "
                f"| {_cell(_values(rows, kind, quality, lambda r: r['accepted_share']), '{:.1%}')} "
                f"| {_cell(_values(rows, kind, quality, lambda r: r['review_share']), '{:.1%}')} "
                f"| {credible} | {_loop_verdict(quality, _median(answers), gap, _median(iou))} |"
            )
    return lines


def doubt_table(results: list[dict], kinds: list[str]) -> list[str]:
    rows = _by(results, "doubt")
    lines = [
        "| kind | order | human budget (answers) | of them on gold | model's wrong predictions "
        "| reached by people | corrected | × today (all runs) | model credible (final skill) "
        "| target ≥ 2× |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in kinds:
        today = sum(_values(rows, kind, "nearest_completion", lambda r: r["corrected"]))
        for order, title in ORDERS.items():
            fixed = sum(_values(rows, kind, order, lambda r: r["corrected"]))
            gain = _ratio(fixed, today)
            verdict = ""
            if order == "model_doubt" and fixed + today < TOO_FEW:
                verdict = "too few to tell"
            elif order == "model_doubt":
                verdict = "met" if gain is not None and gain >= DOUBT_GAIN else "**not met**"
            lines.append(
                f"| {kind} | {title} "
                f"| {_cell(_values(rows, kind, order, lambda r: r['budget']), '{:.0f}')} "
                f"| {_cell(_values(rows, kind, order, lambda r: r['gold_answers']), '{:.0f}')} "
                f"| {_cell(_values(rows, kind, order, lambda r: r['wrong']), '{:.0f}')} "
                f"| {_cell(_values(rows, kind, order, lambda r: r['reached']), '{:.0f}', True)} "
                f"| {_cell(_values(rows, kind, order, lambda r: r['corrected']), '{:.0f}', True)} "
                f"| {_cell([gain])} ({fixed} / {today}) "
                f"| {_credible(_values(rows, kind, order, lambda r: r['model']))} | {verdict} |"
            )
    return lines


def latency_table(results: list[dict], kinds: list[str]) -> list[str]:
    """Pairs of one image decided alike with and without the vote; the ratio is the median of
    the pairs' ratios, then over runs."""
    rows = [r for r in results if r["what"] == "latency"]
    lines = [
        "| kind | tasks decided alike / timed, per run | median ms, no model "
        "| with the model's vote | ratio | SQL per task, no model / with "
        "| all timed tasks: ms no model / with | model voted on | target ≤ 1.10 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in kinds:
        mine = [r for r in rows if r["kind"] == kind]
        ratio = [r["ratio"] for r in mine]
        verdict = "met" if round(_median(ratio) or 99, 2) <= LATENCY_COST else "**not met**"
        lines.append(
            f"| {kind} | {_cell([r['alike'] for r in mine], '{:.0f}')} / "
            f"{_cell([r['timed'] for r in mine], '{:.0f}')} "
            f"| {_cell([r['without_ms'] for r in mine], '{:.1f}')} "
            f"| {_cell([r['with_ms'] for r in mine], '{:.1f}')} "
            f"| {_cell(ratio, spread=True)} "
            f"| {_cell([r['without_queries'] for r in mine], '{:.0f}')} / "
            f"{_cell([r['with_queries'] for r in mine], '{:.0f}')} "
            f"| {_cell([r['all_without_ms'] for r in mine], '{:.1f}')} / "
            f"{_cell([r['all_with_ms'] for r in mine], '{:.1f}')} "
            f"| {_cell([r['model_voted'] for r in mine], '{:.0f}')} tasks | {verdict} |"
        )
    return lines
