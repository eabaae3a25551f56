"""The command line as an analyst uses it: exit codes, one-sentence errors, files written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample.csv"
CATALOG = ROOT / "data" / "sample.catalog.toml"
SCHEMA = json.loads((ROOT / "docs" / "results.schema.json").read_text())


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def assert_one_sentence(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "usage:" not in result.stderr
    assert lines[0].endswith((".", ").")), lines[0]


def test_report_on_files_analyses_in_memory_and_stores_nothing(tmp_path: Path) -> None:
    db = tmp_path / "never.duckdb"
    out = tmp_path / "out"
    result = cli(
        "report",
        str(SAMPLE),
        "--catalog",
        str(CATALOG),
        "--out",
        str(out),
        env={"SCALEGATE_DB": str(db)},
    )
    assert result.returncode == 0, result.stderr
    assert not db.exists()
    document = json.loads((out / "results.json").read_text())
    jsonschema.validate(document, SCHEMA)
    verdicts = {v["metric"]: v["verdict"] for v in document["verdicts"]}
    assert verdicts["cost_per_case_eur"] == "scale"
    assert "Scale" in result.stdout and "Fix first" in result.stdout
    assert document["dataset"]["rows"] == 150_000
    assert document["meta"]["settings"]["run_cost_per_year"] == 150_000


def test_report_options_reach_the_settings(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli(
        "report",
        str(SAMPLE),
        "--out",
        str(out),
        "--grain",
        "week",
        "--annual-volume",
        "5,000",
        "--run-cost",
        "£1,000",  # typed as a person writes money: read as 1000, not refused
    )
    assert result.returncode == 0, result.stderr
    document = json.loads((out / "results.json").read_text())
    settings = document["meta"]["settings"]
    assert (settings["grain"], settings["annual_volume"], settings["run_cost_per_year"]) == (
        "week",
        5000,
        1000,
    )
    # The catalog beside the file (data/sample.catalog.toml) prices the outcomes; the run cost
    # comes off the counted total once, never off each outcome.
    assert document["meta"]["catalog_source"] == "sample.catalog.toml"
    cost = next(v for v in document["value_at_scale"] if v["metric"] == "cost_per_case_eur")
    assert (cost["run_cost"], cost["net"]) == (None, None)
    total = document["value_total"]
    counted = [v for v in document["value_at_scale"] if v["metric"] in total["counted"]]
    assert total["net"] == pytest.approx(sum(v["delivered"] for v in counted) - 1000)


def test_load_then_report_a_stored_dataset_by_name(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    loaded = cli("load", str(SAMPLE), "--db", db, "--name", "plants")
    assert loaded.returncode == 0, loaded.stderr
    again = cli("load", str(SAMPLE), "--db", db)
    assert again.returncode == 0 and "already loaded" in again.stdout
    result = cli("report", "--db", db, "--dataset", "plants", "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert_one_sentence(cli("report", "--db", db, "--dataset", "nope", "--out", str(tmp_path)))


@pytest.mark.parametrize(
    "args",
    [
        ("report",),  # --out missing
        ("load",),  # no file
        ("frobnicate",),
        ("report", "--grain", "year", "--out", "x"),
        ("load", "missing-file.csv"),
        ("load", "data/sample.csv", "--map", "plant=boss"),
        ("load", "data/sample.csv", "--phase-map", "pilot=beta"),
        ("report", "--annual-volume", "many", "--out", "x"),
    ],
)
def test_bad_calls_get_one_sentence_and_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    assert_one_sentence(cli(*args, env={"SCALEGATE_DB": str(tmp_path / "x.duckdb")}))


def test_empty_database_says_to_load_first(tmp_path: Path) -> None:
    result = cli("report", "--db", str(tmp_path / "empty.duckdb"), "--out", str(tmp_path / "o"))
    assert_one_sentence(result)
    assert "load" in result.stderr.lower()


def test_a_database_held_by_a_running_dashboard_is_one_sentence(tmp_path: Path) -> None:
    db = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,sys; c=duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = cli("load", str(SAMPLE), "--db", str(db))
        assert_one_sentence(result)
        assert "in use" in result.stderr
    finally:
        holder.communicate("", timeout=30)


def test_pack_writes_the_board_pack_charts_and_results(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    result = cli("pack", str(SAMPLE), "--catalog", str(CATALOG), "--out", str(out))
    assert result.returncode == 0, result.stderr
    names = {p.name for p in out.iterdir()}
    assert "results.json" in names
    assert any(n.endswith(".pptx") for n in names) and any(n.endswith(".pdf") for n in names)
    pngs = {n[:-4] for n in names if n.endswith(".png")}
    svgs = {n[:-4] for n in names if n.endswith(".svg")}
    assert pngs and pngs == svgs


def test_load_reads_a_quoted_glob_as_one_dataset(tmp_path: Path) -> None:
    header = "date,phase,site,value\n"
    (tmp_path / "part_a.csv").write_text(header + "2024-01-01,baseline,A,1\n2024-02-01,pilot,A,2\n")
    (tmp_path / "part_b.csv").write_text(header + "2024-01-01,baseline,B,3\n")
    db = str(tmp_path / "g.duckdb")
    result = cli("load", str(tmp_path / "part_*.csv"), "--db", db)
    assert result.returncode == 0, result.stderr
    assert "Read 3 rows" in result.stdout
    assert_one_sentence(cli("load", str(tmp_path / "nothing_*.csv"), "--db", db))
