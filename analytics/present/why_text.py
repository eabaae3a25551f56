"""Load, data quality and adoption in words (issue 14, items 3-5): the lines the Sites & Channels
page and the pack's "why production falls short" slide show, made from the results' sections
so the page, the pack and results.json say the same."""

from __future__ import annotations

from typing import Any

from analytics.core import fmt
from analytics.decide.load_report import ASKED, asked_answer, observed_sentence, slope_sentence

SLIDE_TITLE = "Why production falls short: load, data quality and adoption"
SLIDE_NOTES = (
    "Load: each production cell's effect against log volume, the highest volume multiple "
    "observed against the baseline, nothing beyond it claimed. Data quality: missing values, "
    "rows set aside and days without data per site against the site's effect, permutation tests "
    "corrected for the three measures. Adoption: the effect per site against the share of cases "
    "handled with the AI. Every interval at the verdicts' level (METHODS.md)."
)


def _row(rows: Any, metric: str) -> Any:
    return next((r for r in rows if r.metric == metric), None)


def load_lines(found: Any, metric: str) -> tuple[str, ...]:
    """The volume observed, the 10× answer and this metric's load curve."""
    section = getattr(found, "load_curve", None)
    if section is None:
        return ()
    row = _row(section.rows, metric)
    lines = (observed_sentence(section), asked_answer(section, ASKED))
    return lines + ((slope_sentence(row),) if row is not None else ())


def quality_line(found: Any, metric: str) -> str | None:
    row = _row(getattr(found, "data_quality", ()), metric)
    return None if row is None else row.found.sentence


def adoption_line(found: Any, metric: str) -> str | None:
    section = getattr(found, "adoption", None)
    if section is None:
        return None
    if section.column is None:
        return section.sentence
    d = next((d for m, d in section.rows if m == metric), None)
    return None if d is None else d.sentence


def why_lines(found: Any, metric: str) -> tuple[str, ...]:
    """Every line for one outcome (the Sites & Channels page)."""
    extra = (quality_line(found, metric), adoption_line(found, metric))
    return load_lines(found, metric) + tuple(x for x in extra if x)


def pack_lines(found: Any) -> tuple[str, ...]:
    """The slide's lines: the volume observed and the 10× answer once; per outcome, only what
    the data shows (a load curve, a quality link or a dose-response that clears the level);
    one line each for what cannot be shown."""
    section = getattr(found, "load_curve", None)
    lines: list[str] = []
    if section is not None:
        lines += [observed_sentence(section), asked_answer(section, ASKED)]
        moved = [r for r in section.rows if r.kind == "outcome" and _shown(r)]
        lines += [slope_sentence(r) for r in moved]
        if not moved and section.rows:
            lines.append(f"No outcome's improvement changes with volume on this data{_at(found)}.")
    quality = [
        q for q in getattr(found, "data_quality", ()) if not q.found.sentence.startswith("No")
    ]
    lines += [f"{_label(found, q.metric)}: {q.found.sentence}" for q in quality]
    if not quality and getattr(found, "data_quality", ()):
        lines.append(found.data_quality[0].found.sentence)
    adoption = getattr(found, "adoption", None)
    if adoption is not None:
        shown = [(m, d) for m, d in adoption.rows if not d.sentence.startswith("No")]
        lines += [f"{_label(found, m)}: {d.sentence}" for m, d in shown]
        if not shown and adoption.column is None:
            lines.append(adoption.sentence)
        elif not shown and adoption.rows:
            lines.append(adoption.rows[0][1].sentence)
    return tuple(x for x in lines if x)


def _shown(row: Any) -> bool:
    s = row.curve.site
    return s is not None and (s.ci[0] > 0 or s.ci[1] < 0)


def _at(found: Any) -> str:
    levels = {v.ci_level for v in getattr(found, "verdicts", ())}
    return f" ({fmt.level(levels.pop())} intervals)" if len(levels) == 1 else ""


def _label(found: Any, metric: str) -> str:
    v = next((v for v in getattr(found, "verdicts", ()) if v.metric == metric), None)
    return v.label if v is not None else metric
