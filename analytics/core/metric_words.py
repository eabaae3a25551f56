"""The keyword tables that guess a metric from its name: which way is better, outcome or process,
and its unit. Ordered first-match tables; a name that matches nothing is an outcome where higher
is better (core/catalog.py applies them)."""

from __future__ import annotations

import re

from analytics.core.types import Direction, Kind

# Ordered: the first keyword found in the name decides. "saved" comes before "cost" and
# "time" so that "cost saved" and "time saved" are good when higher.
DIRECTION_RULES: tuple[tuple[str, Direction], ...] = (
    ("saved", "higher"),
    # Times and durations before the words they contain ("resolution time" is not a resolution).
    ("resolution time", "lower"),
    ("response time", "lower"),
    ("time to", "lower"),
    ("cycle time", "lower"),
    ("lead time", "lower"),
    ("turnaround", "lower"),
    ("processing time", "lower"),
    ("return on", "higher"),
    ("saving", "higher"),
    ("revenue", "higher"),
    ("profit", "higher"),
    ("margin", "higher"),
    ("sales", "higher"),
    ("conversion", "higher"),
    ("accuracy", "higher"),
    ("precision", "higher"),
    ("recall", "higher"),
    ("resolution", "higher"),
    ("resolved", "higher"),
    ("adoption", "higher"),
    ("satisfaction", "higher"),
    ("csat", "higher"),
    ("nps", "higher"),
    ("uptime", "higher"),
    ("availability", "higher"),
    ("throughput", "higher"),
    ("yield", "higher"),
    ("retention", "higher"),
    ("fcr", "higher"),
    ("first contact", "higher"),
    ("containment", "higher"),
    ("deflection", "higher"),
    ("error", "lower"),
    ("exception", "lower"),
    ("escalation", "lower"),
    ("escalated", "lower"),
    ("override", "lower"),
    ("latency", "lower"),
    ("downtime", "lower"),
    ("cost", "lower"),
    ("ticket", "lower"),
    ("churn", "lower"),
    ("handle time", "lower"),
    ("handling time", "lower"),
    ("aht", "lower"),
    ("abandon", "lower"),
    ("defect", "lower"),
    ("complaint", "lower"),
    ("rework", "lower"),
    ("scrap", "lower"),
    ("wait", "lower"),
    ("delay", "lower"),
    ("return", "lower"),
    ("refund", "lower"),
    ("duration", "lower"),
    ("backlog", "lower"),
    ("fraud", "lower"),
    ("incident", "lower"),
    ("failure", "lower"),
    ("loss", "lower"),
    # German exports (Kosten, Fehler, Bearbeitungszeit, Dauer, Wartezeit): lower is better.
    ("kosten", "lower"),
    ("fehler", "lower"),
    ("bearbeitungszeit", "lower"),
    ("dauer", "lower"),
    ("wartezeit", "lower"),
)

# Ordered like DIRECTION_RULES. What an owner reads as a business result is an outcome; the
# AI's own performance (a name that mentions the AI, or model accuracy, exception, escalation,
# override, uptime, latency) is a process metric. Savings come first ("minutes saved by the
# assistant" is a result), then the mentions of the AI ("chatbot resolution" is the bot's own).
KIND_RULES: tuple[tuple[str, Kind], ...] = (
    ("time saved", "outcome"),
    ("saved", "outcome"),
    ("saving", "outcome"),
    ("chatbot", "process"),
    ("bot", "process"),
    ("model", "process"),
    ("ai", "process"),
    ("genai", "process"),
    ("llm", "process"),
    ("assistant", "process"),
    ("copilot", "process"),
    ("automation", "process"),
    ("usage", "process"),
    ("automated", "process"),
    ("recommendation", "process"),
    ("suggestion", "process"),
    ("revenue", "outcome"),
    ("profit", "outcome"),
    ("margin", "outcome"),
    ("sales", "outcome"),
    ("money", "outcome"),
    ("cost", "outcome"),
    ("error", "outcome"),
    ("ticket", "outcome"),
    ("satisfaction", "outcome"),
    ("csat", "outcome"),
    ("nps", "outcome"),
    ("churn", "outcome"),
    ("conversion", "outcome"),
    ("handle time", "outcome"),
    ("handling time", "outcome"),
    ("aht", "outcome"),
    ("resolution", "outcome"),
    ("resolved", "outcome"),
    ("first contact", "outcome"),
    ("fcr", "outcome"),
    ("defect", "outcome"),
    ("complaint", "outcome"),
    ("rework", "outcome"),
    ("accuracy", "process"),
    ("precision", "process"),
    ("recall", "process"),
    ("exception", "process"),
    ("escalation", "process"),
    ("escalated", "process"),
    ("override", "process"),
    ("uptime", "process"),
    ("availability", "process"),
    ("downtime", "process"),
    ("latency", "process"),
    ("throughput", "process"),
    ("adoption", "process"),
    ("containment", "process"),
    ("deflection", "process"),
)

# Keywords matched as whole words only ("ai" is not the start of "aim").
WHOLE_WORDS = frozenset({"ai", "bot", "llm", "aht", "fcr", "nps"})

# Money units a metric's unit may name: the currency value at scale is shown in when the catalog
# gives none. A money column is NOT worth its own amount per unit by default: money is shown only
# from inputs a person gave (DESIGN.md).
CURRENCIES = frozenset(
    {"EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN"}
)
CURRENCIES |= frozenset({"€", "$", "£", "¥"})

_UNIT_IN_PARENS = re.compile(r"\(([^()]{1,12})\)\s*$")
_UNIT_SUFFIXES = {
    "ms": "ms",
    "sec": "s",
    "seconds": "s",
    "min": "min",
    "minutes": "min",
    "hours": "h",
    "eur": "EUR",
    "usd": "USD",
    "gbp": "GBP",
    "pct": "%",
    "percent": "%",
}
