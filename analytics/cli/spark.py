"""`python -m analytics load SOURCE --engine spark`: the day cells computed on Spark."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from analytics.cli.commands import _catalog_text, check_mapping
from analytics.core.errors import ScalegateError
from analytics.store.database import open_store


def load_spark(
    files: Sequence[str],
    *,
    table: str | None,
    remote: str | None,
    db: str | None,
    name: str | None,
    mapping: Mapping[str, str],
    phase_map: Mapping[str, str],
    catalog: Path | None,
    strict: bool,
) -> int:
    """Load one Parquet path (or a catalog table) through Spark and print the report."""
    from analytics.ingest.spark import SparkSource
    from analytics.ingest.spark import load_spark as load

    check_mapping(mapping, phase_map)
    if len(files) + (table is not None) != 1:
        raise ScalegateError(
            "--engine spark loads one source: a Parquet file or folder (a path or URI the "
            "cluster reads), or --table NAME."
        )
    catalog_text = _catalog_text(catalog)
    store = open_store(db)
    source = SparkSource(path=files[0] if files else None, table=table, remote=remote)
    result = load(
        store,
        source,
        name=name,
        mapping=mapping,
        phase_map=phase_map,
        catalog_text=catalog_text,
        strict=strict,
        catalog_name=catalog.name if catalog else None,
    )
    print(result.report.to_text())
    if result.already_loaded:
        print(f"This source is already loaded as dataset {result.name} (id {result.dataset_id}).")
    else:
        print(
            f"Loaded as dataset {result.name} (id {result.dataset_id}); its day cells were "
            "computed on Spark and its rows stay in the source."
        )
    return 0
