"""Amounts typed on the command line as people write them: "£250,000", "250 000 EUR", "1.2m".

One rule, so nothing is misread: a currency sign or code at either end is dropped; spaces and
apostrophes group thousands; where both "," and "." appear, the last one is the decimal mark;
where only one appears, it groups thousands only in whole groups of three ("250,000",
"1.250.000") and is a decimal mark before one or two digits ("12,5"). "250.000" could be either
(250 or 250,000 depending on the country), so it is refused with a sentence, not guessed.
A final k, m or bn multiplies by a thousand, a million or a billion.
"""

from __future__ import annotations

import math
import re

from analytics.core.errors import ScalegateError

_CURRENCY = re.compile(r"^(?:[£€$¥]|[A-Za-z]{3}(?=[\s\d]))?\s*(.*?)\s*(?:[£€$¥]|[A-Za-z]{3})?$")
_SCALE = {"k": 1e3, "m": 1e6, "bn": 1e9}
_SUFFIX = re.compile(r"^(.*?)\s*(k|m|bn)$", re.IGNORECASE)
_GROUPED = r"^\d{{1,3}}(?:{sep}\d{{3}})+$"


def parse_amount(text: str, flag: str) -> float:
    """`text` as a finite amount, or a ScalegateError naming `flag` and what to type."""
    body, scale = _strip(text)
    value = _number(body)
    if value is None:
        raise ScalegateError(
            f"{flag} {text!r} is not an amount this can read without guessing: "
            "type it as 250000 or 250,000 (or 12.5)."
        )
    value *= scale
    if not math.isfinite(value):
        raise ScalegateError(f"{flag} {text!r}: give a finite amount.")
    return value


def _strip(text: str) -> tuple[str, float]:
    """The digits part of `text` and the multiplier of its suffix."""
    body = text.strip()
    negative = body.startswith("-")
    body = body.removeprefix("-").strip()
    match = _CURRENCY.match(body)
    body = match.group(1) if match else body
    scale = 1.0
    suffix = _SUFFIX.match(body)
    if suffix and re.search(r"\d$", suffix.group(1)):
        body, scale = suffix.group(1), _SCALE[suffix.group(2).lower()]
    body = re.sub(r"[\s'\u00a0\u202f]", "", body)
    return body, -scale if negative else scale


def _number(body: str) -> float | None:
    """`body` (digits with at most the separators described above) as a float, else None."""
    if re.fullmatch(r"\d+", body):
        return float(body)
    if "," in body and "." in body:
        decimal = "," if body.rfind(",") > body.rfind(".") else "."
        whole, _, frac = body.rpartition(decimal)
        group = "." if decimal == "," else ","
        grouped = re.fullmatch(_GROUPED.format(sep=re.escape(group)), whole)
        return float(whole.replace(group, "") + "." + frac) if grouped and frac.isdigit() else None
    sep = "," if "," in body else "."
    if re.fullmatch(_GROUPED.format(sep=re.escape(sep)), body):
        if sep == "." and body.count(".") == 1:
            return None  # "250.000": 250 or 250,000 depending on the country
        return float(body.replace(sep, ""))
    if re.fullmatch(rf"\d+{re.escape(sep)}\d+", body):
        return float(body.replace(sep, "."))
    return None
