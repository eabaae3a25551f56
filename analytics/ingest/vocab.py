"""The words exports use: column names for each role, phase values, volume and total columns.

Names and values are compared normalised (lower case, no accents, words joined by `_`), always
as whole names or whole values: "Live chat" is a channel, never the phase "live".
"""

from __future__ import annotations

import re

from analytics.core.types import Phase

# Column names, normalised. A header equal to one of these takes the role by its name.
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "phase": (
        "phase",
        "stage",
        "deployment",
        "deployment_phase",
        "deployment_stage",
        "period_type",
        "rollout",
        "rollout_stage",
        "rollout_phase",
        "rollout_status",
        "ai_phase",
        "ai_stage",
        "ai_status",
        "pilot_status",
    ),
    # DESIGN.md's names first, then the other ways business files name a place of work.
    "site": (
        "site",
        "plant",
        "location",
        "branch",
        "store",
        "region",
        "facility",
        "state",
        "country",
        "city",
        "market",
        "territory",
        "district",
        "office",
        "warehouse",
        "depot",
        "hospital",
        "clinic",
        "outlet",
        "shop",
        "factory",
        "mill",
        "centre",
        "center",
        "contact_centre",
        "contact_center",
        "call_centre",
        "call_center",
        "business_unit",
        # German, French and Spanish exports.
        "standort",
        "filiale",
        "niederlassung",
        "werk",
        "agence",
        "magasin",
        "usine",
        "sucursal",
        "tienda",
        "planta",
        "sede",
    ),
    "channel": (
        "channel",
        "source",
        "medium",
        "touchpoint",
        "contact_channel",
        "contact_type",
        "contact_method",
        "contact_medium",
        "interaction_channel",
        "queue",
        "media_type",
        "kanal",
        "vertriebskanal",
        "canal",
    ),
    "date": (
        "date",
        "day",
        "week",
        "month",
        "timestamp",
        "period_start",
        "period",
        "period_end",
        "reporting_period",
        "week_commencing",
        "week_beginning",
        "week_starting",
        "week_start",
        "week_ending",
        "week_end",
        "week_of",
        "month_start",
        "month_ending",
        "datetime",
        "date_time",
        "created",
        "created_at",
        "created_on",
        "opened",
        "opened_at",
        "datum",
        "woche",
        "monat",
        "fecha",
        "semana",
        "mes",
        "semaine",
        "mois",
        "jour",
    ),
}

# A header whose LAST word is one of these names the role too ("Deployment stage",
# "Contact channel", "Sales region"); for the phase, its values must then read as phases.
ROLE_HEADS: dict[str, tuple[str, ...]] = {
    "phase": ("phase", "stage", "rollout", "wave", "deployment"),
    "site": ("site", "plant", "store", "branch", "office", "region", "location", "centre"),
    "channel": ("channel", "touchpoint", "queue"),
    "date": ("date", "day", "week", "month", "period", "timestamp"),
}

# The same, as the first word followed by one of these ("Store name", "Site code").
ROLE_TAILS = ("name", "code", "label")

# Words that make a header a measurement, never a dimension ("Contacts per channel").
MEASURE_WORDS = frozenset(
    {"rate", "count", "number", "total", "sum", "avg", "average", "mean", "pct", "per", "share"}
)

# Phase values: whole normalised values, then whole-value patterns. "test" is absent on
# purpose (A/B files use it for the treated group).
_AI = (
    "ai|genai|gen_ai|llm|bot|chatbot|copilot|assistant|automation|model|tool|launch|rollout|"
    "roll_out|go_live|golive|pilot|deployment|change"
)
PHASE_SYNONYMS: dict[Phase, tuple[str, ...]] = {
    "baseline": (
        "baseline",
        "pre",
        "pre_ai",
        "before",
        "before_ai",
        "control",
        "legacy",
        "manual",
        "status_quo",
        "bau",
        "business_as_usual",
        "without_ai",
        "no_ai",
        "as_is",
        "human_only",
        "not_live",
        # German, French and Spanish: before / without the AI.
        "vor_ki",
        "ohne_ki",
        "vorher",
        "avant_ia",
        "sans_ia",
        "antes_ia",
        "sin_ia",
    ),
    "pilot": ("pilot", "poc", "proof_of_concept", "trial", "beta", "pilot_phase"),
    "production": (
        "production",
        "prod",
        "rollout",
        "rolled_out",
        "roll_out",
        "live",
        "go_live",
        "golive",
        "post",
        "post_ai",
        "after",
        "after_ai",
        "with_ai",
        "scaled",
        "scale",
        "ga",
        "general_availability",
        "full_rollout",
        "deployed",
        "launched",
        "in_production",
        # German, French and Spanish: in production / with the AI.
        "produktion",
        "produktiv",
        "nach_ki",
        "mit_ki",
        "apres_ia",
        "avec_ia",
        "despues_ia",
        "con_ia",
        "produccion",
    ),
}
PHASE_PATTERNS: dict[Phase, str] = {
    "baseline": (
        rf"(pre|before|without|no|prior_to)_(the_|an_|a_)?({_AI})"
        r"|(legacy|manual|control|baseline|bau)_(process|group|period|phase|sites?|only|handling)"
    ),
    "pilot": (
        r"(ai_|genai_)?(pilot|poc|trial|beta|proof_of_concept)"
        r"(_(phase|period|group|sites?|run|stage|\d+))?"
    ),
    "production": (
        rf"(post|after|with)_(the_|an_|a_)?({_AI})"
        r"|(full_|general_|wider_|ai_)?(production|rollout|roll_out|rolled_out|live|go_live|"
        r"deployment|deployed)(_(phase|period|stage|sites?|\d+|wave_?\d+))?"
        r"|(rollout_|production_)?wave_?\d+"
    ),
}

# Volume columns: whole normalised names ("Contacts handled", "Number of tickets", "Volume").
_UNITS = (
    "contacts?|cases?|tickets?|transactions?|calls?|chats?|interactions?|conversations?|"
    "orders?|sessions?|requests?|enquir(y|ies)|inquir(y|ies)|jobs?|claims?|applications?|"
    "visits?|emails?|messages?|customers?"
)
WEIGHT_NAME = re.compile(
    rf"^((number|no|num|count|total)_of_|n_|num_|total_|#_?)?({_UNITS})"
    r"(_(handled|received|processed|offered|answered|logged|opened|closed|served|count|"
    r"volume|total|n))?$|^(volume|count|n|weight|contact_volume|case_volume|call_volume|"
    r"ticket_volume|sample_size)$"
    # German, French and Spanish counts of cases ("Anzahl Fälle", "Nombre de cas").
    r"|^(anzahl|nombre|numero)_(de_)?(falle|faelle|kontakte|anrufe|tickets|cas|contacts|"
    r"appels|casos|contactos|llamadas)$"
)

# Usage shares (role adoption, issue 14): the share of cases handled with the AI. Override and
# escalation rates are not adoption: they stay process metrics.
ADOPTION_NAME = re.compile(
    r"(^|_)(adoption(_rate|_share)?|usage(_rate|_share)?|ai_usage|handled_(by|with)_(the_)?ai|"
    r"ai_(handled_)?share|share_(handled_)?(by|with)_(the_)?ai|automation_rate|automated_share)"
    r"(_|$)"
)

# Names of row totals: never averaged (offered per unit of volume, or set aside).
TOTAL_NAME = re.compile(r"(^|_)(total|totals|sum|aggregate)(_|$)|(^|_)number_of_")

# A row that sums the others: its first or dimension cell says so ("Total", "Grand total").
TOTAL_ROW = r"^\s*(grand\s+|sub-?\s*)?totals?\b.*$"


def head_role(norm: str) -> str | None:
    """The role a header names by its last word ("deployment_stage") or by its first word
    before name/code ("store_name"); None when it names none or reads as a measurement."""
    words = norm.split("_")
    if not words or MEASURE_WORDS & set(words) or len(words) > 4:
        return None
    for role, heads in ROLE_HEADS.items():
        if words[-1] in heads:
            return role
        if len(words) == 2 and words[0] in heads and words[1] in ROLE_TAILS and role != "date":
            return role
    return None


def is_weight_name(norm: str) -> bool:
    return bool(WEIGHT_NAME.match(norm))


def is_adoption_name(norm: str) -> bool:
    return bool(ADOPTION_NAME.search(norm))


def is_total_name(norm: str) -> bool:
    return bool(TOTAL_NAME.search(norm))
