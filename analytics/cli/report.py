"""`report` and `pack`: analyse a dataset and write results.json (and the board pack)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from analytics.cli.amounts import parse_amount
from analytics.core import fmt
from analytics.core.catalog import Catalog, apply_overrides, parse_toml, read_catalog
from analytics.core.errors import ScalegateError
from analytics.decide.analysis import analyse
from analytics.decide.results import Results
from analytics.decide.verdict import VERDICT_LABELS
from analytics.engine.aggregate import Filters
from analytics.present.ui_state import catalog_sentence, interval_sentence, value_lines
from analytics.store.database import Store


def _values(pairs: Mapping[str, str] | None) -> dict[str, dict[str, float]]:
    """--value-per-unit METRIC=AMOUNT pairs as catalog overrides."""
    specs = {}
    for metric, amount in (pairs or {}).items():
        value = parse_amount(amount, f"--value-per-unit {metric}=")
        specs[metric] = {"value_per_unit": value}
    return specs


def effective_catalog(
    store: Store,
    dataset_id: int,
    *,
    catalog_text: str | None = None,
    catalog_name: str | None = None,
    value_per_unit: Mapping[str, str] | None = None,
    grain: str | None = None,
    annual_volume: float | None = None,
    run_cost: float | None = None,
) -> Catalog:
    """The stored catalog with a catalog file and command-line settings applied on top."""
    catalog = read_catalog(store.cursor(), dataset_id)
    if catalog_text:
        catalog, _ = apply_overrides(catalog, parse_toml(catalog_text))
        catalog = replace(catalog, source=catalog_name or "a catalog file")
    if value_per_unit:
        catalog, unknown = apply_overrides(catalog, {"metrics": _values(value_per_unit)})
        if unknown:
            raise ScalegateError(unknown[0].replace("The catalog names", "--value-per-unit names"))
        catalog = replace(catalog, source=f"{catalog.source}, with --value-per-unit")
    settings = catalog.settings
    if grain:
        settings = replace(settings, grain=grain)
    if annual_volume is not None:
        if not math.isfinite(annual_volume) or annual_volume < 0:
            raise ScalegateError("--annual-volume must be a positive number of cases a year.")
        settings = replace(settings, annual_volume=annual_volume)
    if run_cost is not None:
        if not math.isfinite(run_cost) or run_cost < 0:
            raise ScalegateError("--run-cost must be a positive amount a year.")
        settings = replace(settings, run_cost_per_year=run_cost)
    return replace(catalog, settings=settings)


def verdict_table(results: Results) -> str:
    """The short verdict table the CLI prints: one line per outcome metric, the improvement
    (positive = better) beside the raw change, with the verdict's interval and its level."""
    lines = [
        f"{'metric':<28} {'verdict':<36} {'improvement':>11} {'change':>8} "
        f"{'interval (improvement)':<26} {'pilot said':<14}"
    ]
    signs = {m: -1 if spec.get("direction") == "lower" else 1 for m, spec in _catalog(results)}
    for v in results.verdicts:
        s = signs.get(v.metric, 1)
        ci = f"{fmt.pct_interval((s * v.ci[0], s * v.ci[1]))} ({fmt.level(v.ci_level)})"
        lines.append(
            f"{v.label[:28]:<28} {VERDICT_LABELS[v.verdict]:<36} "
            f"{fmt.pct(s * v.estimate):>11} {fmt.pct(v.estimate):>8} {ci:<26} "
            f"{v.pilot_verdict:<14}"
        )
    return "\n".join(lines)


def _catalog(results: Results) -> list[tuple[str, dict]]:
    return list((results.meta.get("catalog") or {}).items())


def summary_lines(results: Results) -> list[str]:
    """What the CLI says under the table: the intervals in words, the catalog, the value."""
    headline, not_counted = value_lines(results)
    return [interval_sentence(results), catalog_sentence(results), headline, *not_counted]


def write_results(results: Results, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    path.write_text(json.dumps(results.to_dict(), indent=2, allow_nan=False), encoding="utf-8")
    return path


def write_report(
    store: Store,
    dataset_id: int,
    out: Path,
    *,
    catalog_text: str | None = None,
    catalog_name: str | None = None,
    value_per_unit: Mapping[str, str] | None = None,
    grain: str | None = None,
    annual_volume: float | None = None,
    run_cost: float | None = None,
    pack: bool = False,
) -> int:
    catalog = effective_catalog(
        store,
        dataset_id,
        catalog_text=catalog_text,
        catalog_name=catalog_name,
        value_per_unit=value_per_unit,
        grain=grain,
        annual_volume=annual_volume,
        run_cost=run_cost,
    )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScalegateError(f"Cannot write into {out}: {exc.strerror}.") from exc
    results = analyse(store, dataset_id, catalog, Filters(grain=catalog.settings.grain))
    path = write_results(results, out)
    if pack:
        from analytics.decide.watch import since_decision
        from analytics.present.pack import write_pack

        written = write_pack(results, catalog, out, since=since_decision(store, dataset_id))
        print(f"Board pack written: {', '.join(p.name for p in written)}")
    print(verdict_table(results))
    for line in summary_lines(results):
        print(line)
    print(f"Results written to {path}")
    return 0
