"""`report` and `pack`: analyse a dataset and write results.json (and the board pack)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

from analytics.core.catalog import Catalog, apply_overrides, parse_toml, read_catalog
from analytics.core.errors import ScalegateError
from analytics.decide.analysis import analyse
from analytics.decide.results import Results
from analytics.decide.verdict import VERDICT_LABELS
from analytics.engine.aggregate import Filters
from analytics.store.database import Store


def effective_catalog(
    store: Store,
    dataset_id: int,
    *,
    catalog_text: str | None = None,
    grain: str | None = None,
    annual_volume: float | None = None,
    run_cost: float | None = None,
) -> Catalog:
    """The stored catalog with a catalog file and command-line settings applied on top."""
    catalog = read_catalog(store.cursor(), dataset_id)
    if catalog_text:
        catalog, _ = apply_overrides(catalog, parse_toml(catalog_text))
    settings = catalog.settings
    if grain:
        settings = replace(settings, grain=grain)
    if annual_volume is not None:
        if not math.isfinite(annual_volume) or annual_volume < 0:
            raise ScalegateError("--annual-volume must be a positive number of cases a year.")
        settings = replace(settings, annual_volume=annual_volume)
    if run_cost is not None:
        settings = replace(settings, run_cost_per_year=run_cost)
    return replace(catalog, settings=settings)


def verdict_table(results: Results) -> str:
    """The short verdict table the CLI prints: one line per outcome metric."""
    lines = [f"{'metric':<32} {'verdict':<36} {'production lift':>16} {'pilot said':<14}"]
    for v in results.verdicts:
        lift = "n/a" if not math.isfinite(v.estimate) else f"{v.estimate:+.1%}"
        lines.append(
            f"{v.label[:32]:<32} {VERDICT_LABELS[v.verdict]:<36} {lift:>16} {v.pilot_verdict:<14}"
        )
    return "\n".join(lines)


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
    grain: str | None = None,
    annual_volume: float | None = None,
    run_cost: float | None = None,
    pack: bool = False,
) -> int:
    catalog = effective_catalog(
        store,
        dataset_id,
        catalog_text=catalog_text,
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
    print(f"Results written to {path}")
    return 0
