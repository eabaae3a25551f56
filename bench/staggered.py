"""A second benchmark dataset: twenty sites going live in four staggered waves.

`python -m bench.staggered --out FILE [--rows N] [--seed S]` writes it (default 1,000,000 rows).
The bundled sample has 12 plants and one pilot; this file is shaped like a wider rollout export,
so the dashboard's timings are also measured on data the sample's generator did not shape:

* 20 sites (S01 ... S20, of unequal size), 3 channels, one row per case, daily from 2024-01-01
  to 2025-06-30 (18 months);
* baseline everywhere until a pilot at S01 and S02 from April to June 2024;
* production in four waves of five sites (2024-07-01, 2024-09-01, 2024-11-01, 2025-03-01),
  so sites not yet live are the controls of the same months;
* a season (higher cost and errors from October to December) shared by every site, a fixed
  level per site, and an AI effect that varies by site;
* metrics named as a business would: cost per case, minutes saved, error rate, support
  tickets, revenue per case (mostly empty), latency and uptime.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

DEFAULT_ROWS = 1_000_000
DEFAULT_SEED = 7
START = np.datetime64("2024-01-01")
END = np.datetime64("2025-06-30")
SITES = tuple(f"S{k:02d}" for k in range(1, 21))
CHANNELS = ("phone", "chat", "email")
CHANNEL_SHARE = np.array([0.5, 0.3, 0.2])
PILOT = ("S01", "S02")
PILOT_FROM, PILOT_TO = date(2024, 4, 1), date(2024, 6, 30)
WAVES = (date(2024, 7, 1), date(2024, 9, 1), date(2024, 11, 1), date(2025, 3, 1))


def _live_from() -> dict[str, np.datetime64]:
    """Each site's first production day: five sites a wave, the pilot sites in the first."""
    return {site: np.datetime64(WAVES[k // 5]) for k, site in enumerate(SITES)}


def _cells(rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(day index, site index, channel index) of every row, in date order."""
    days = int((END - START).astype(int)) + 1
    site_share = rng.lognormal(0.0, 0.5, len(SITES))
    weights = np.outer(site_share / site_share.sum(), CHANNEL_SHARE).ravel()
    per_cell = rng.choice(len(weights), size=rows, p=weights)
    day = rng.integers(0, days, size=rows)
    order = np.lexsort((per_cell, day))
    cell, day = per_cell[order], day[order]
    return day, cell // len(CHANNELS), cell % len(CHANNELS)


def _phases(day: np.ndarray, site: np.ndarray) -> np.ndarray:
    dates = START + day.astype("timedelta64[D]")
    live = np.array([_live_from()[s] for s in SITES])[site]
    pilot = np.isin(np.array(SITES)[site], PILOT) & (dates >= np.datetime64(PILOT_FROM))
    pilot &= dates <= np.datetime64(PILOT_TO)
    return np.where(dates >= live, "production", np.where(pilot, "pilot", "baseline"))


def generate(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> pa.Table:
    """The whole file as an Arrow table (1M rows take about 150 MB)."""
    rng = np.random.default_rng(seed)
    day, site, channel = _cells(rows, rng)
    phase = _phases(day, site)
    ai = phase != "baseline"
    dates = START + day.astype("timedelta64[D]")
    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    season = np.where((month >= 10) & (month <= 12), 1.0, 0.0)
    level = rng.normal(1.0, 0.08, len(SITES))[site]
    effect = rng.normal(0.13, 0.04, len(SITES))[site] * ai  # cost cut, varying by site
    cost = 40 * level * (1 + 0.12 * season) * (1 - effect) * rng.lognormal(0, 0.25, rows)
    saved = 20 + 4 * ai - 2 * season + rng.normal(0, 6, rows)
    error = rng.random(rows) < 0.22 * (1 + 0.2 * season) * np.where(ai, 0.97, 1.0)
    tickets = rng.poisson(1.2 * (1 + 0.15 * season) * np.where(ai, 0.82, 1.0))
    revenue = np.where(rng.random(rows) < 0.02, rng.normal(120, 40, rows), np.nan)
    latency = rng.gamma(4.0, 200.0, rows) * np.where(ai, 1.1, 1.0)
    uptime = np.clip(rng.normal(0.999, 0.0005, rows), 0, 1)
    return pa.table(
        {
            "date": pa.array(dates.astype("datetime64[D]")),
            "phase": pa.array(phase),
            "site": pa.array(np.array(SITES)[site]),
            "channel": pa.array(np.array(CHANNELS)[channel]),
            "case_id": pa.array(np.arange(1, rows + 1)),
            "Cost per case (EUR)": pa.array(np.round(cost, 2)),
            "Minutes saved": pa.array(np.round(saved, 1)),
            "Error rate": pa.array(error.astype(np.int8)),
            "Support tickets": pa.array(tickets.astype(np.int16)),
            "Revenue per case (EUR)": pa.array(np.round(revenue, 2), from_pandas=True),
            "Latency ms": pa.array(np.round(latency, 0)),
            "Uptime": pa.array(np.round(uptime, 5)),
        }
    )


def write(path: str | Path, rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> int:
    """Write the CSV; returns the rows written."""
    table = generate(rows, seed)
    pacsv.write_csv(table, str(path), pacsv.WriteOptions(quoting_style="none"))
    return table.num_rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.staggered", description=__doc__)
    parser.add_argument("--out", required=True, help="CSV file to write")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    written = write(args.out, args.rows, args.seed)
    print(f"{written:,} rows written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
