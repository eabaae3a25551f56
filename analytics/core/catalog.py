"""The metric catalog: what each metric is (outcome or process), which way is better, what
effect is worth scaling for, and the thresholds of the verdict rules.

Defaults are inferred from a metric's name by ordered first-match keyword tables (a name that
matches nothing is an outcome where higher is better); every inferred entry is flagged `guessed`
until a person confirms it or a catalog file pins it.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, cast

import duckdb

from analytics.core.errors import ScalegateError
from analytics.core.metric_words import (
    _UNIT_IN_PARENS,
    _UNIT_SUFFIXES,
    DIRECTION_RULES,
    KIND_RULES,
    WHOLE_WORDS,
)
from analytics.core.peaks import parse_peak_periods
from analytics.core.types import DIMENSIONS, Direction, Grain, Kind


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric of a dataset and how to judge it."""

    id: str
    label: str
    kind: Kind = "outcome"
    direction: Direction = "higher"
    unit: str = ""
    min_effect: float = 0.05
    value_per_unit: float | None = None
    guardrail: float | None = None
    guards: tuple[str, ...] = ()  # outcome ids this guardrail guards; empty = all outcomes
    guessed: bool = False
    adds_to_total: bool = False  # a separate benefit: its value may be added to others'
    overlaps: tuple[str, ...] = ()  # outcomes whose value already holds this one's

    @property
    def sign(self) -> int:
        """+1 when higher is better, -1 when lower is: multiply an effect by it to make good > 0."""
        return 1 if self.direction == "higher" else -1

    def guardrail_breached(self, production_mean: float) -> bool:
        """Whether a production mean is on the wrong side of this metric's guardrail."""
        if self.guardrail is None or production_mean != production_mean:
            return False
        if self.direction == "higher":
            return production_mean < self.guardrail
        return production_mean > self.guardrail

    def guards_metric(self, outcome_id: str) -> bool:
        return self.guardrail is not None and (not self.guards or outcome_id in self.guards)


@dataclass(frozen=True, slots=True)
class Settings:
    """Every threshold of the verdict rules (DESIGN.md), with its default."""

    alpha: float = 0.05
    min_production_rows: int = 30
    min_production_sites: int = 2
    retention_floor: float = 0.5
    grain: Grain = "month"
    annual_volume: float | None = None  # cases a year at full scale; None: not given
    run_cost_per_year: float = 0.0
    currency: str = ""  # "" : the money columns' own unit, when they share one
    adoption: str | None = None  # the metric id of the usage share (role adoption; issue 14)
    peak_periods: tuple[str, ...] = ()  # the user's peak calendar (core/peaks.py); () : from volume

    def __post_init__(self) -> None:  # stored as a JSON list: kept a tuple, so Settings hashes
        object.__setattr__(self, "peak_periods", tuple(self.peak_periods))


KEYWORD_GUESSES = "keyword guesses"


@dataclass(frozen=True, slots=True)
class Catalog:
    """The metrics of one dataset, in file order, and the settings."""

    metrics: tuple[Metric, ...]
    settings: Settings = field(default_factory=Settings)
    source: str = KEYWORD_GUESSES  # the catalog file it came from, or "keyword guesses"

    def get(self, metric_id: str) -> Metric:
        for metric in self.metrics:
            if metric.id == metric_id:
                return metric
        raise ScalegateError(f"There is no metric called {metric_id} in this dataset.")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.metrics)

    @property
    def outcomes(self) -> tuple[Metric, ...]:
        return tuple(m for m in self.metrics if m.kind == "outcome")

    @property
    def processes(self) -> tuple[Metric, ...]:
        return tuple(m for m in self.metrics if m.kind == "process")

    def with_metric(self, metric: Metric) -> Catalog:
        return replace(
            self, metrics=tuple(metric if m.id == metric.id else m for m in self.metrics)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": {
                m.id: {**asdict(m), "guards": list(m.guards), "overlaps": list(m.overlaps)}
                for m in self.metrics
            },
            "settings": asdict(self.settings),
            "source": self.source,
        }

    def to_toml(self) -> str:
        """The catalog as a TOML file a user can edit and load again."""
        lines: list[str] = []
        for m in self.metrics:
            lines += _metric_toml(m)
        lines.append("[settings]")
        for key, value in asdict(self.settings).items():
            if value is not None:  # TOML has no null: an input not given is left out
                lines.append(f"{key} = {json.dumps(value)}")
        return "\n".join(lines) + "\n"


def _metric_toml(m: Metric) -> list[str]:
    """One metric's TOML table, ending with a blank line; optional keys only when set."""
    lines = [
        f"[metrics.{m.id}]",
        f"label = {json.dumps(m.label)}",
        f'kind = "{m.kind}"',
        f'direction = "{m.direction}"',
    ]
    if m.unit:
        lines.append(f"unit = {json.dumps(m.unit)}")
    lines.append(f"min_effect = {m.min_effect!r}")
    if m.value_per_unit is not None:
        lines.append(f"value_per_unit = {m.value_per_unit!r}")
    if m.guessed:
        lines.append("guessed = true  # from the name: check, then remove this line")
    if m.guardrail is not None:
        lines.append(f"guardrail = {m.guardrail!r}")
        if m.guards:
            lines.append(f"guards = {json.dumps(list(m.guards))}")
    if m.adds_to_total:
        lines.append("adds_to_total = true")
    if m.overlaps:
        lines.append(f"overlaps = {json.dumps(list(m.overlaps))}")
    return [*lines, ""]


def _words(name: str) -> str:
    """A name folded to lower-case ASCII words separated by single spaces."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.split(r"[^0-9a-z]+", folded.lower())).strip()


def normalise_header(name: str) -> str:
    """A header as the synonym tables see it: case, spaces, dashes and underscores alike."""
    return _words(name).replace(" ", "_")


def metric_id(header: str, taken: Iterable[str] = ()) -> str:
    """A metric's id: its header in lower snake case, made unique against `taken`.

    `Cost per case (EUR)` -> `cost_per_case_eur`. Ids never collide with the dimension columns.
    """
    base = normalise_header(header) or "metric"
    if base[0].isdigit():
        base = "m_" + base
    used = set(taken) | set(DIMENSIONS) | {"weight"}  # weight: the rows' volume column
    candidate, k = base, 2
    while candidate in used:
        candidate, k = f"{base}_{k}", k + 1
    return candidate


def _first_match(words: str, rules: tuple[tuple[str, Any], ...]) -> Any | None:
    for keyword, answer in rules:
        end = r"\b" if keyword in WHOLE_WORDS else ""
        if re.search(r"\b" + re.escape(keyword) + end, words):
            return answer
    return None


def infer_unit(header: str) -> str:
    match = _UNIT_IN_PARENS.search(header)
    if match:
        return match.group(1).strip()
    words = _words(header).split()
    if words and words[-1] in _UNIT_SUFFIXES:
        return _UNIT_SUFFIXES[words[-1]]
    if "rate" in words or "share" in words:
        return "share"
    return ""


def infer_metric(header: str, taken: Iterable[str] = ()) -> Metric:
    """A metric's default entry, inferred from its header by the keyword tables."""
    words = _words(header)
    direction = _first_match(words, DIRECTION_RULES)
    kind = _first_match(words, KIND_RULES)
    unit = infer_unit(header)
    return Metric(
        id=metric_id(header, taken),
        label=header.strip() or "metric",
        kind=kind or "outcome",
        direction=direction or "higher",
        unit=unit,
        # Every default is a guess from the name (keywords or none) until a person confirms it.
        guessed=True,
    )


def infer_catalog(headers: Iterable[str]) -> Catalog:
    """Default catalog for the metric headers of a file, in file order."""
    metrics: list[Metric] = []
    for header in headers:
        metrics.append(infer_metric(header, [m.id for m in metrics]))
    return Catalog(tuple(metrics))


# -- overrides from a TOML file -----------------------------------------------------------------

_METRIC_KEYS = {"label", "kind", "direction", "unit", "min_effect", "value_per_unit", "guardrail"}
_METRIC_KEYS |= {"guards", "guessed", "adds_to_total", "overlaps"}


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScalegateError(f"In the catalog, {what} must be a number, not {value!r}.")
    return float(value)


def _names(value: Any, what: str, known: set[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise ScalegateError(f"In the catalog, {what} must be a list of names.")
    missing = [g for g in value if g not in known]
    if missing:
        raise ScalegateError(f"In the catalog, {what} names {missing}, which this dataset lacks.")
    return tuple(value)


def _apply_metric(metric: Metric, spec: Mapping[str, Any], known: set[str]) -> Metric:
    unknown = set(spec) - _METRIC_KEYS
    if unknown:
        raise ScalegateError(
            f"In the catalog, metric {metric.id} has unknown keys {sorted(unknown)}; "
            f"use {sorted(_METRIC_KEYS)}."
        )
    changes: dict[str, Any] = {"guessed": spec.get("guessed") is True}
    for key in _METRIC_ORDER:  # checked in this order, so the first error is always the same
        if key in _METRIC_CHECKS and key in spec:
            changes[key] = _METRIC_CHECKS[key](metric.id, spec[key], known)
        elif key in spec:
            changes[key] = str(spec[key])
    return replace(metric, **changes)


def _choice(key: str, allowed: tuple[str, str]) -> Callable[[str, Any, set[str]], str]:
    def check(mid: str, value: Any, known: set[str]) -> str:
        if value not in allowed:
            raise ScalegateError(
                f'In the catalog, {key} of {mid} must be "{allowed[0]}" or "{allowed[1]}".'
            )
        return value

    return check


def _min_effect(mid: str, value: Any, known: set[str]) -> float:
    number = _number(value, f"min_effect of {mid}")
    if not 0 <= number < 10:
        raise ScalegateError(
            f"In the catalog, min_effect of {mid} is a relative change such as 0.05."
        )
    return number


def _flag(mid: str, value: Any, known: set[str]) -> bool:
    if not isinstance(value, bool):
        raise ScalegateError(f"In the catalog, adds_to_total of {mid} is true or false.")
    return value


def _guards(mid: str, value: Any, known: set[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise ScalegateError(f"In the catalog, guards of {mid} must be a list of names.")
    missing = [g for g in value if g not in known]
    if missing:
        raise ScalegateError(
            f"In the catalog, {mid} guards {missing}, which this dataset does not have."
        )
    return tuple(value)


_METRIC_ORDER = (
    "kind", "direction", "label", "unit", "min_effect", "value_per_unit", "guardrail",
    "adds_to_total", "overlaps", "guards",
)  # fmt: skip
# Each checked key of a metric's table: (metric id, value, known ids) -> the value to set.
_METRIC_CHECKS: dict[str, Callable[[str, Any, set[str]], Any]] = {
    "kind": _choice("kind", ("outcome", "process")),
    "direction": _choice("direction", ("higher", "lower")),
    "min_effect": _min_effect,
    "value_per_unit": lambda mid, v, known: _number(v, f"value_per_unit of {mid}"),
    "guardrail": lambda mid, v, known: _number(v, f"guardrail of {mid}"),
    "adds_to_total": _flag,
    "overlaps": lambda mid, v, known: _names(v, f"overlaps of {mid}", known),
    "guards": _guards,
}


def _apply_settings(settings: Settings, spec: Mapping[str, Any]) -> Settings:
    names = {f.name for f in fields(Settings)}
    unknown = set(spec) - names
    if unknown:
        raise ScalegateError(
            f"In the catalog, [settings] has unknown keys {sorted(unknown)}; use {sorted(names)}."
        )
    changes = {key: _setting(key, value) for key, value in spec.items()}
    if "alpha" in changes and not 0 < changes["alpha"] < 0.5:
        raise ScalegateError("In the catalog, alpha must lie between 0 and 0.5, such as 0.05.")
    for key in ("annual_volume", "run_cost_per_year"):
        if key in changes and not (math.isfinite(changes[key]) and changes[key] >= 0):
            raise ScalegateError(f"In the catalog, {key} must be a number of at least 0.")
    return replace(settings, **changes)


def _setting(key: str, value: Any) -> Any:
    """One setting's value, checked."""
    if key == "grain":
        if value not in ("week", "month"):
            raise ScalegateError('In the catalog, grain must be "week" or "month".')
        return value
    if key == "currency":
        if not isinstance(value, str) or len(value.strip()) > 12:
            raise ScalegateError('In the catalog, currency is a short name such as "EUR".')
        return value.strip()
    if key == "peak_periods":
        return parse_peak_periods(value)
    if key == "adoption":
        if not isinstance(value, str) or not value.strip():
            raise ScalegateError('In the catalog, adoption names a metric, such as "ai_share".')
        return value.strip()
    if key in ("min_production_rows", "min_production_sites"):
        return int(_number(value, key))
    return _number(value, key)


def apply_overrides(catalog: Catalog, document: Mapping[str, Any]) -> tuple[Catalog, list[str]]:
    """Apply a parsed catalog document; returns the new catalog and warnings for unknown names.

    Metrics are keyed by id or by header as written.
    """
    warnings: list[str] = []
    by_key = {m.id: m for m in catalog.metrics} | {m.label: m for m in catalog.metrics}
    known = {m.id for m in catalog.metrics}
    metrics = {m.id: m for m in catalog.metrics}
    specs = document.get("metrics", {})
    if not isinstance(specs, Mapping):
        raise ScalegateError("In the catalog, [metrics] must hold one table per metric.")
    for key, spec in specs.items():
        target = by_key.get(key) or by_key.get(metric_id(key))
        if target is None:
            warnings.append(f"The catalog names {key}, which this dataset does not have.")
            continue
        if not isinstance(spec, Mapping):
            raise ScalegateError(f"In the catalog, metrics.{key} must be a table.")
        metrics[target.id] = _apply_metric(metrics[target.id], spec, known)
    settings = _apply_settings(catalog.settings, document.get("settings", {}))
    usage = by_key.get(settings.adoption or "") or by_key.get(metric_id(settings.adoption or ""))
    if usage is not None:  # the adoption column is a usage share, never a judged outcome
        settings = replace(settings, adoption=usage.id)
        metrics[usage.id] = replace(metrics[usage.id], kind="process", guessed=False)
    new = Catalog(tuple(metrics[m.id] for m in catalog.metrics), settings, catalog.source)
    return new, warnings


def parse_toml(text: str | bytes) -> dict[str, Any]:
    """Parse a catalog file's text, with a sentence for a malformed one."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ScalegateError("The catalog file is not UTF-8 text: save it as UTF-8.") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScalegateError(f"The catalog file is not valid TOML ({exc}).") from exc


# -- persistence --------------------------------------------------------------------------------


SOURCE_KEY = "catalog_source"  # in a dataset's stored settings: where its catalog came from


def save_catalog(cur: duckdb.DuckDBPyConnection, dataset_id: int, catalog: Catalog) -> None:
    """Store a dataset's catalog, inside the caller's transaction."""
    cur.execute("DELETE FROM metrics WHERE dataset_id = $id", {"id": dataset_id})
    for position, m in enumerate(catalog.metrics):
        cur.execute(
            "INSERT INTO metrics (dataset_id, position, metric_id, label, unit, kind, direction, "
            "min_effect, value_per_unit, guardrail, guards, guessed, adds_to_total, overlaps_with) "
            "VALUES ($ds, $pos, $id, $label, $unit, $kind, $direction, $min_effect, $vpu, "
            "$guardrail, $guards, $guessed, $adds, $overlaps)",
            {
                "ds": dataset_id,
                "pos": position,
                "id": m.id,
                "label": m.label,
                "unit": m.unit,
                "kind": m.kind,
                "direction": m.direction,
                "min_effect": m.min_effect,
                "vpu": m.value_per_unit,
                "guardrail": m.guardrail,
                "guards": json.dumps(list(m.guards)),
                "guessed": m.guessed,
                "adds": m.adds_to_total,
                "overlaps": json.dumps(list(m.overlaps)),
            },
        )
    settings = {**asdict(catalog.settings), SOURCE_KEY: catalog.source}
    cur.execute(
        "UPDATE datasets SET settings = $s WHERE id = $id",
        {"s": json.dumps(settings), "id": dataset_id},
    )


def read_catalog(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> Catalog:
    """A stored dataset's catalog."""
    rows = cur.execute(
        "SELECT metric_id, label, kind, direction, unit, min_effect, value_per_unit, guardrail, "
        "guards, guessed, adds_to_total, overlaps_with FROM metrics WHERE dataset_id = $id "
        "ORDER BY position",
        {"id": dataset_id},
    ).fetchall()
    metrics = tuple(
        Metric(
            id=r[0],
            label=r[1],
            kind=cast(Kind, r[2]),
            direction=cast(Direction, r[3]),
            unit=r[4] or "",
            min_effect=float(r[5]),
            value_per_unit=r[6],
            guardrail=r[7],
            guards=tuple(json.loads(r[8]) if r[8] else ()),
            guessed=bool(r[9]),
            adds_to_total=bool(r[10]),
            overlaps=tuple(json.loads(r[11]) if r[11] else ()),
        )
        for r in rows
    )
    row = cur.execute("SELECT settings FROM datasets WHERE id = $id", {"id": dataset_id}).fetchone()
    stored = json.loads(row[0]) if row and row[0] else {}
    known = {f.name for f in fields(Settings)}
    settings = Settings(**{k: v for k, v in stored.items() if k in known})
    return Catalog(metrics, settings, str(stored.get(SOURCE_KEY) or KEYWORD_GUESSES))
