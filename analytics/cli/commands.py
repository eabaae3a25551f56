"""What each command-line verb does; `__main__` only parses arguments and maps errors to exits."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

from analytics.cli.adoption_map import adoption_mapping
from analytics.core.errors import ScalegateError
from analytics.core.types import Phase, Role
from analytics.ingest.load import DateOrder, Source, load_files
from analytics.ingest.read import expand_local
from analytics.store.database import Store
from analytics.store.database import open_store as _open_store

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample.csv"
SAMPLE_CATALOG = SAMPLE.with_name("sample.catalog.toml")
_ROLES = ("phase", "site", "channel", "date", "metric", "value", "weight", "adoption", "ignore")
_PHASES = ("baseline", "pilot", "production")


def open_store(db: str | None) -> Store:
    """The database, saying on stderr what opening it did (an upgrade and where its backup is)."""
    store = _open_store(db)
    if store.notice:
        print(store.notice, file=sys.stderr)
        store.notice = None  # said once
    return store


def check_mapping(mapping: Mapping[str, str], phase_map: Mapping[str, str]) -> None:
    """Refuse roles and phases that do not exist, with the list of the ones that do."""
    for header, role in mapping.items():
        if role not in _ROLES:
            raise ScalegateError(
                f"--map {header}={role}: the role must be one of {', '.join(_ROLES)}."
            )
    for value, phase in phase_map.items():
        if phase not in _PHASES:
            raise ScalegateError(
                f"--phase-map {value}={phase}: the phase must be one of {', '.join(_PHASES)}."
            )


def _sources(files: Sequence[str]) -> list[Source]:
    """Each argument a path or a quoted glob (`'exports/*.csv'`), read in place, not copied."""
    return [Source.from_path(path) for name in files for path in expand_local(name)]


_DATA_SUFFIXES = (".gz", ".csv", ".tsv", ".txt", ".parquet", ".xlsx")


def catalog_beside(files: Sequence[str]) -> Path | None:
    """`<stem>.catalog.toml` beside the first file, when there is one: data/sample.csv ->
    data/sample.catalog.toml (export.csv.gz -> export.catalog.toml)."""
    if not files:
        return None
    path = Path(files[0])
    name = path.name
    while Path(name).suffix.lower() in _DATA_SUFFIXES:
        name = name[: -len(Path(name).suffix)]
    beside = path.with_name(f"{name}.catalog.toml")
    return beside if beside.is_file() else None


def _catalog_text(catalog: Path | None) -> str | None:
    if catalog is None:
        return None
    if not catalog.is_file():
        raise ScalegateError(f"There is no catalog file {catalog}: check the path.")
    return catalog.read_text(encoding="utf-8-sig")


def load(
    files: Sequence[str],
    *,
    db: str | None,
    name: str | None,
    mapping: Mapping[str, str],
    phase_map: Mapping[str, str],
    catalog: Path | None,
    strict: bool,
    date_order: str = "auto",
) -> int:
    """Load files as one dataset and print the validation report (with the catalog given, else
    the one beside the first file, stored with the dataset)."""
    check_mapping(mapping, phase_map)
    sources = _sources(files)
    catalog = catalog or catalog_beside(files)
    mapping, catalog_text = adoption_mapping(mapping, _catalog_text(catalog))
    store = open_store(db)
    result = load_files(
        store,
        sources,
        name=name,
        mapping=cast(Mapping[str, Role], mapping),
        phase_map=cast(Mapping[str, Phase], phase_map),
        catalog_text=catalog_text,
        strict=strict,
        date_order=cast(DateOrder, date_order),
        catalog_name=catalog.name if catalog else None,
    )
    print(result.report.to_text())
    print(f"Catalog: {catalog.name if catalog else 'keyword guesses'}.")
    if result.report.unknown_phases:
        print("To use those rows, map each value: --phase-map VALUE=PHASE.")
    if any("other date order" in w for w in result.report.warnings):
        print("To read the dates the other way: --dates day-first or --dates month-first.")
    if result.already_loaded:
        print(f"This content is already loaded as dataset {result.name} (id {result.dataset_id}).")
    else:
        print(f"Loaded as dataset {result.name} (id {result.dataset_id}).")
    return 0


def append(
    files: Sequence[str],
    *,
    db: str | None,
    dataset: str | None,
    replace_overlap: bool,
    strict: bool,
    other_options: bool,
) -> int:
    """`load FILE --append DATASET`: add the rows to a stored dataset and say what was added."""
    from analytics.ingest.append import append_files

    if not dataset:
        raise ScalegateError("--replace-overlap goes with --append DATASET: name the dataset.")
    if other_options:
        raise ScalegateError(
            "--append reads the file as the dataset's first load did: drop --name, --map, "
            "--phase-map and --catalog."
        )
    result = append_files(
        open_store(db), dataset, _sources(files), replace_overlap=replace_overlap, strict=strict
    )
    print(result.to_text())
    return 0


def watch(*, db: str | None, dataset: str | None, out: str | None, as_of: str | None) -> int:
    """`watch`: one line per alert (or that all holds), alerts.json in `out`; 3 if any is open."""
    import json
    from datetime import date

    from analytics.decide.watch import watch as run_watch

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise ScalegateError(f"--as-of takes a date such as 2025-03-31, not {as_of!r}.") from exc
    report = run_watch(open_store(db), dataset, as_of=day)
    if out:
        folder = Path(out)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "alerts.json").write_text(
                json.dumps(report.to_dict(), indent=2, allow_nan=False), encoding="utf-8"
            )
        except OSError as exc:
            raise ScalegateError(f"Cannot write into {folder}: {exc.strerror}.") from exc
    for line in report.lines():
        print(line)
    return 3 if report.open_alerts else 0


def init_sample(*, db: str | None) -> int:
    """Load the bundled sample into the database if it holds no dataset yet."""
    store = open_store(db)
    load_sample_if_empty(store)
    return 0


def load_sample_if_empty(store: Store) -> None:
    """The first start of the dashboard shows the sample, not an empty page."""
    if store.datasets():
        return
    if not SAMPLE.is_file():
        print(f"No sample at {SAMPLE}: run `make sample`.", file=sys.stderr)
        return
    load_files(
        store,
        [Source.from_path(SAMPLE)],
        name="Sample: 12 plants, AI rollout",
        catalog_text=SAMPLE_CATALOG.read_text(encoding="utf-8"),
        catalog_name=SAMPLE_CATALOG.name,
    )


def analyse(
    files: Sequence[str],
    *,
    db: str | None,
    dataset: str | None,
    out: Path,
    mapping: Mapping[str, str],
    phase_map: Mapping[str, str],
    catalog: Path | None,
    grain: str | None,
    annual_volume: float | None,
    run_cost: float | None,
    pack: bool,
    value_per_unit: Mapping[str, str] | None = None,
) -> int:
    """`report` and `pack`: analyse files in memory (nothing stored) or a stored dataset."""
    from analytics.cli.report import write_report

    check_mapping(mapping, phase_map)
    if files:
        catalog = catalog or catalog_beside(files)
    catalog_text = _catalog_text(catalog)
    if files:
        mapping, catalog_text = adoption_mapping(mapping, catalog_text)
        store = Store(":memory:")
        loaded = load_files(
            store,
            _sources(files),
            mapping=cast(Mapping[str, Role], mapping),
            phase_map=cast(Mapping[str, Phase], phase_map),
            catalog_text=catalog_text,
            catalog_name=catalog.name if catalog else None,
        )
        dataset_id = loaded.dataset_id
        catalog_text = None  # already applied (and named) by the load
    else:
        store = open_store(db)
        dataset_id = store.dataset(dataset).id
    return write_report(
        store,
        dataset_id,
        out,
        catalog_text=catalog_text,
        catalog_name=catalog.name if catalog else None,
        value_per_unit=value_per_unit,
        grain=grain,
        annual_volume=annual_volume,
        run_cost=run_cost,
        pack=pack,
    )


def export_decisions(*, db: str | None, out: Path) -> int:
    """Write the whole decision log, with each decision's snapshot, to a .jsonl or .csv file."""
    from analytics.decide.decision_export import export_file, format_of

    format_of(out)  # a wrong extension is refused before the database is opened
    count = export_file(open_store(db), out)
    print(f"Wrote {count} decision{'s' if count != 1 else ''} to {out}.")
    return 0


def import_decisions(path: Path, *, db: str | None) -> int:
    """Add the decisions of an exported log that the database does not hold yet."""
    from analytics.decide.decision_export import import_file, read_log

    read_log(path)  # a broken file is refused before the database is opened
    found = import_file(open_store(db), path)
    print(
        f"Imported {found.imported} decision{'s' if found.imported != 1 else ''}; "
        f"{found.already_there} already in the log."
    )
    return 0
