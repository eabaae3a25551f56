"""The one formatter: every page, table, chart, export and slide prints numbers through here, so
one number never reads two ways (1.23M on one page, 1.2M on another).

Also the words that go with numbers: the level of an interval in plain words, the improvement
beside the raw change, the plain names of method codes (one table), and the one-line help text
of each statistical word a page shows. Pure functions, no Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

NA = "n/a"
MINUS = "-"  # ASCII hyphen-minus: the same character in CSV, XLSX, PDF and on screen


def finite(x: object) -> bool:
    """Whether x is a real number (not None, NaN or infinite)."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def pct(x: float | None, *, signed: bool = True, digits: int = 1) -> str:
    """A relative change or a share as a percentage: 0.1234 -> '+12.3%'; 'n/a' without a number."""
    if not finite(x):
        return NA
    assert x is not None
    return f"{x:+.{digits}%}" if signed else f"{x:.{digits}%}"


def pct_interval(ci: Sequence[float] | None, *, signed: bool = True, digits: int = 1) -> str:
    """An interval of relative changes, low to high: '-18.0% to -12.1%'."""
    if not ci or len(ci) != 2 or not all(finite(v) for v in ci):
        return NA
    lo, hi = sorted(ci)
    return f"{pct(lo, signed=signed, digits=digits)} to {pct(hi, signed=signed, digits=digits)}"


def level(x: float | None) -> str:
    """An interval's level: 0.99 -> '99%', 0.9917 -> '99.2%'."""
    if not finite(x):
        return NA
    assert x is not None
    return f"{x:.1%}".replace(".0%", "%")


def money(x: float | None, currency: str = "") -> str:
    """An amount, three significant digits: 1234567 -> '1.23M EUR', 340120 -> '340k EUR'."""
    if not finite(x):
        return NA
    assert x is not None
    sign = MINUS if x < 0 else ""
    size = float(f"{abs(x):.3g}")  # rounded first, so 999,999 reads 1M, not 1000k
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            text = f"{sign}{size / limit:.3g}{suffix}"
            break
    else:
        text = f"{sign}{size:.0f}" if size >= 1 or size == 0 else f"{sign}{size:.2f}"
    return f"{text} {currency}".strip()


def money_interval(ci: Sequence[float] | None, currency: str = "") -> str:
    """'528k to 912k EUR'."""
    if not ci or len(ci) != 2 or not all(finite(v) for v in ci):
        return NA
    lo, hi = sorted(ci)
    return f"{money(lo)} to {money(hi, currency)}".strip()


def num(x: float | None) -> str:
    """A level with sensible precision: 41023.4 -> '41,023', 35.21 -> '35.2', 0.523 -> '0.523'."""
    if not finite(x):
        return NA
    assert x is not None
    size = abs(x)
    if size >= 1000:
        return f"{x:,.0f}"
    if size >= 10:
        return f"{x:.1f}"
    if size >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def count(x: float | None) -> str:
    """A count with thousands separators: 12345 -> '12,345'."""
    return NA if not finite(x) else f"{int(x):,}"  # type: ignore[arg-type]


# -- axes: numbers on chart axes without SI prefixes for small numbers ---------------------------

# Vega expression for an axis label: thousands and millions as k / M, small numbers as decimals,
# never "m" (milli) or "µ" (d3's "~s" writes 0.52 as "520m").
AXIS_NUMBER = (
    "abs(datum.value) >= 1e9 ? format(datum.value / 1e9, '.3~g') + 'B' : "
    "abs(datum.value) >= 1e6 ? format(datum.value / 1e6, '.3~g') + 'M' : "
    "abs(datum.value) >= 1e4 ? format(datum.value / 1e3, '.3~g') + 'k' : "
    "format(datum.value, ',.4~g')"
)


# -- words that go with the numbers ----------------------------------------------------------------

_SMALL = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def number_word(k: int) -> str:
    return _SMALL[k] if 0 <= k < len(_SMALL) else f"{k:,}"


def interval_words(ci_level: float, family: int) -> str:
    """The level of a view's verdict intervals, once, in plain words."""
    if not finite(ci_level):
        return "Intervals could not be computed for this view."
    if family <= 1:
        return (
            f"{level(ci_level)} intervals: the range of effects the data cannot rule out "
            "(one outcome is judged, so no widening is needed)."
        )
    return (
        f"{level(ci_level)} intervals: {number_word(family)} outcomes are judged together, so "
        f"each interval is widened (Bonferroni) so that "
        f"{'both' if family == 2 else 'all ' + number_word(family)} hold together with "
        f"{level(1 - (1 - ci_level) * family)} confidence."
    )


def improvement_text(improvement: float | None, change: float | None, label: str) -> str:
    """'an improvement of +14.1% (Cost per case: change -14.1%)': the headline and the raw change."""
    return f"an improvement of {pct(improvement)} ({label}: change {pct(change)})"


def improvement(direction_sign: int, change: float | None) -> float | None:
    """The improvement (positive = better) of a raw relative change."""
    return direction_sign * change if finite(change) else change  # type: ignore[operator]


# -- method codes as plain names: the one table ----------------------------------------------------

METHOD_NAMES: dict[str, str] = {
    "twfe_cluster_site": "site and period adjusted, clustered by site",
    "twfe_hc1_cells": "site and period adjusted, cell-level errors (few sites)",
    "site_trend_cluster_site": "site adjusted with the pre-launch trend, clustered by site",
    "site_trend_hc1_cells": "site adjusted with the pre-launch trend, cell-level errors",
    "site_fe_cluster_site": "site adjusted (no dates), clustered by site",
    "site_fe_hc1_cells": "site adjusted (no dates), cell-level errors",
    "imputation_cluster_site": "live sites against what they would have done without the AI "
    "(imputation), clustered by site",
    "imputation_hc_cells": "live sites against what they would have done without the AI "
    "(imputation), cell-level errors (few sites)",
    "imputation_placebo": "live sites against what they would have done without the AI "
    "(imputation), judged against placebo go-lives at sites still on the baseline",
    "welch": "plain before/after comparison (Welch)",
    "local_linear_trend": "projection of the baseline trend (local linear trend)",
    "local_linear_trend_weekly": "projection of the weekly baseline trend (local linear trend)",
    "period means, normal band": "period means with a normal 95% band",
    "none": "no estimate",
}

# The section of docs/METHODS.md each method is explained in (the Methods page's anchors).
METHOD_SECTIONS: dict[str, str] = {
    "imputation": "3a. The estimate behind every verdict: rollouts as they really happen",
    "twfe": "3. The adjusted model",
    "site_trend": "3. The adjusted model",
    "site_fe": "3. The adjusted model",
    "welch": "2. Unadjusted comparisons (describe, do not decide)",
    "local_linear_trend": "7. Forecast counterfactual",
    "period means": "1. From rows to cells",
}


def method_name(code: str) -> str:
    """A method code as words a finance reader follows; several codes joined by ', '."""
    parts = [c.strip() for c in str(code).split(",") if c.strip()]
    return ", ".join(METHOD_NAMES.get(c, c.replace("_", " ")) for c in parts) or NA


def method_section(code: str) -> str:
    """The Methods section that explains a method code."""
    first = str(code).split(",")[0].strip()
    for prefix, section in METHOD_SECTIONS.items():
        if first.startswith(prefix):
            return section
    return "Verdict rules"


# -- terms: one line of help for each statistical word a page shows --------------------------------

TERMS: dict[str, str] = {
    "adjusted": "Adjusted: measured against what the same sites would have done without the AI "
    "in the same periods, so seasons and site differences are not mistaken for the AI.",
    "counterfactual": "Counterfactual: what the number would have been without the AI, as "
    "estimated from the sites and periods still working the old way.",
    "interval": "Interval: the range of effects the data cannot rule out at the stated level; "
    "one that crosses zero cannot tell the AI's effect from none.",
    "bonferroni": "Bonferroni: when several outcomes are judged together, each interval is "
    "widened so that the chance of any false alarm stays at the stated level.",
    "holm": "Holm: a correction for judging many sites at once, so one site looking worse by "
    "chance is not flagged.",
    "retention": "Retention: the share of the pilot's improvement that production keeps "
    "(production improvement / pilot improvement); shown only where the pilot clearly "
    "promised something.",
    "improvement": "Improvement: the change signed so that positive is better; a cost that "
    "fell 14% is an improvement of +14%.",
    "change": "Change: the raw relative change of the metric itself, up or down, against the "
    "baseline.",
    "lift": "Lift: the relative change against the baseline (the counterfactual for adjusted "
    "effects).",
    "verdict": "Verdict: scale, fix first, no meaningful effect or inconclusive, from the rules "
    "on the Methods page.",
    "guardrail": "Guardrail: a process metric's limit in production (e.g. accuracy at least "
    "80%); breached, it blocks scaling the outcomes it guards.",
    "value": "Value at scale: improvement per case x value per unit x cases a year, from the "
    "inputs you gave; the total counts only outcomes that justify scaling and add up.",
    "p_value": "Holm p: the chance of an effect this large with no real effect, corrected for "
    "judging many sites at once.",
}


def term(key: str) -> str:
    """The help line of a statistical word."""
    return TERMS[key]
