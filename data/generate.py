"""Scalegate's bundled sample: an AI pilot at one plant, then a staggered rollout to twelve.

The story (all deterministic for a given ``--seed``):

* A manufacturer with 12 plants and 4 service channels logs one row per case handled, daily,
  from 2024-01-01 to 2025-01-31 (13 months).
* Baseline everywhere from January to March 2024.
* Pilot at Aarhus, the plant with the best data hygiene, from April to June 2024, while the
  other eleven plants carry on as baseline.
* Production in three waves of four plants, staggered so that plants not yet live stay on
  baseline in the same months (which lets a two-way fixed-effects model tell the AI's effect
  from the season):

  - wave 1, 2024-07-01: Aarhus (the former pilot), Lyon, Porto, Ghent
  - wave 2, 2024-09-01: Turin, Graz, Brno, Bilbao
  - wave 3, 2024-11-01: Lodz, Tampere, Cluj, Kosice

* A common peak season (October to December, strongest in November) raises cost, errors,
  tickets and latency and lowers minutes saved and chatbot resolution at every plant in the
  same months, so a naive before/after comparison is biased.
* Cluj has visibly worse data quality: whole days missing and about 15% of metric values
  empty. Aarhus has none missing; the other plants lose about 0.5% of values.

Metrics (headers as a business would write them; Scalegate infers kind and direction):

* process: ``Maintenance model accuracy`` (0/1, the prediction was right; a schedule-based rule
  before the AI, 94% in the pilot, about 61% across plants in production), ``Exception rate``
  (0/1), ``Uptime`` (about 0.999 +- 0.0005), ``Latency ms``, ``Chatbot resolution`` (0/1; 80% in
  the pilot, about 55% across channels in production at peak season);
* outcome, with the verdict each is built to get from DESIGN.md's rules:

  - ``Cost per case (EUR)``: scale (production cuts cost by about 15% at every plant);
  - ``Minutes saved``: fix_first (about +15-20% on average, but Porto, Brno and Tampere are
    clearly worse than their own counterfactual). Minutes saved are measured against the
    manual standard time of the case type, so the lean work done before the AI already saves
    about 20 minutes a case and the relative lift has a sound denominator;
  - ``Error rate``: do_not_scale (0/1, the case needed rework: about 25% before the AI, 30% at
    peak; the pilot cut it by a fifth, but production changes it by +4% relative, no
    meaningful effect, with an interval tight enough to say so);
  - ``Revenue per case (EUR)``: need_more_data (only recorded on about 1.5% of cases, empty
    elsewhere, and very variable: the interval covers both 0 and the 5% threshold);
  - ``Support tickets``: scale (count per case; production cuts tickets by about 20% at every
    plant and channel).

``case_id`` is an integer identifier, distinct on every row.

Usage: ``python -m data.generate --out data/sample.csv [--rows N] [--seed S]`` (defaults: 150,000
rows, seed 2024). ``--rows`` sets the exact row count; rows per day scale with it. Rows are
generated day by day, each day from its own random stream, and written in chunks, so ten million
rows stream to disk in bounded memory and give the same rows per day whatever the chunking.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

DEFAULT_ROWS = 150_000
DEFAULT_SEED = 2024
CHUNK_ROWS = 500_000

START = date(2024, 1, 1)
END = date(2025, 1, 31)
PILOT_START = date(2024, 4, 1)
PILOT_END = date(2024, 6, 30)
WAVE_STARTS = {1: date(2024, 7, 1), 2: date(2024, 9, 1), 3: date(2024, 11, 1)}

PILOT_PLANT = "Aarhus"
MESSY_PLANT = "Cluj"
MESSY_MISSING_DAYS = 0.10  # share of Cluj's days with no rows at all
MESSY_MISSING_VALUES = 0.15  # share of Cluj's metric values left empty
CLEAN_MISSING_VALUES = 0.005  # other plants (Aarhus: none)
REVENUE_RECORDED = 0.015  # share of cases with a recorded revenue


@dataclass(frozen=True)
class Plant:
    name: str
    wave: int
    volume: float  # relative case volume
    cost_level: float  # EUR per case before the AI, outside peak season
    minutes_level: float  # minutes saved per case before the AI
    minutes_effect: float  # minutes the AI adds in production (negative: worse)
    error_level: float  # error probability before the AI
    ticket_level: float  # tickets per case before the AI
    revenue_level: float  # EUR per recorded case
    accuracy_prod: float  # maintenance-model accuracy once in production


PLANTS: tuple[Plant, ...] = (
    Plant("Aarhus", 1, 0.90, 36.0, 22.0, 6.0, 0.204, 0.40, 820.0, 0.90),
    Plant("Lyon", 1, 1.30, 44.0, 20.0, 5.5, 0.264, 0.48, 980.0, 0.655),
    Plant("Porto", 1, 1.00, 39.0, 19.0, -3.5, 0.240, 0.45, 760.0, 0.545),
    Plant("Ghent", 1, 0.80, 41.0, 21.0, 5.0, 0.228, 0.42, 880.0, 0.685),
    Plant("Turin", 2, 1.20, 46.0, 18.0, 5.5, 0.288, 0.50, 1040.0, 0.625),
    Plant("Graz", 2, 0.70, 38.0, 21.0, 6.0, 0.216, 0.41, 900.0, 0.665),
    Plant("Brno", 2, 0.90, 35.0, 19.5, -3.5, 0.252, 0.44, 700.0, 0.525),
    Plant("Bilbao", 2, 1.00, 42.0, 20.0, 5.0, 0.240, 0.46, 860.0, 0.605),
    Plant("Lodz", 3, 1.10, 34.0, 18.5, 5.5, 0.276, 0.47, 720.0, 0.595),
    Plant("Tampere", 3, 0.80, 43.0, 22.0, -3.5, 0.216, 0.43, 950.0, 0.575),
    Plant("Cluj", 3, 0.90, 33.0, 19.0, 5.0, 0.300, 0.49, 680.0, 0.565),
    Plant("Kosice", 3, 0.70, 37.0, 20.5, 5.5, 0.252, 0.45, 740.0, 0.615),
)

CHANNELS: tuple[str, ...] = ("phone", "email", "chat", "portal")
CHANNEL_SHARE = np.array([0.30, 0.25, 0.25, 0.20])
# Channel effects are kept small on outcomes so that a channel's production effect is not
# confused with its level; the chatbot's resolution differs a lot by channel.
CHANNEL_COST = np.array([1.04, 1.00, 0.97, 0.98])
CHANNEL_TICKETS = np.array([1.03, 1.00, 0.98, 0.99])
CHANNEL_RESOLUTION_PROD = np.array([-0.12, -0.03, 0.08, 0.04])

# Season intensity by calendar month (1 = the November peak).
SEASON = {1: 0.10, 2: 0.0, 3: 0.0, 4: 0.05, 5: 0.10, 6: 0.15, 7: 0.10, 8: 0.0, 9: 0.20}
SEASON |= {10: 0.55, 11: 1.0, 12: 0.85}
WEEKDAY_VOLUME = np.array([1.0, 1.05, 1.05, 1.0, 0.95, 0.35, 0.20])

COLUMNS: tuple[str, ...] = (
    "date",
    "phase",
    "plant",
    "channel",
    "case_id",
    "Maintenance model accuracy",
    "Exception rate",
    "Uptime",
    "Latency ms",
    "Chatbot resolution",
    "Cost per case (EUR)",
    "Minutes saved",
    "Error rate",
    "Revenue per case (EUR)",
    "Support tickets",
)
METRICS: tuple[str, ...] = COLUMNS[5:]
INTEGER_METRICS = frozenset(
    {
        "Maintenance model accuracy",
        "Exception rate",
        "Chatbot resolution",
        "Error rate",
        "Support tickets",
    }
)
CASE_ID_START = 1_000_001

# Effects of the AI (multiplicative unless said otherwise).
COST_PILOT, COST_PROD = 0.80, 0.85
ERROR_PILOT, ERROR_PROD = 0.80, 1.04
TICKETS_PILOT, TICKETS_PROD = 0.75, 0.80
REVENUE_PILOT, REVENUE_PROD = 1.08, 1.03
MINUTES_PILOT = 9.0  # minutes added in the pilot (production: per plant, see PLANTS)


@dataclass(frozen=True)
class _Layout:
    """What is fixed before any row is drawn: days, row counts per cell, shocks, streams."""

    days: list[date]
    counts: np.ndarray  # (day, plant, channel) rows
    offsets: np.ndarray  # first case_id offset of each day
    shocks: dict[str, np.ndarray]  # (plant, month index) shocks per metric
    day_seeds: list[np.random.SeedSequence]


def _month_index(d: date) -> int:
    return (d.year - START.year) * 12 + d.month - START.month


def _phase_of(plant: Plant, d: date) -> str:
    if plant.name == PILOT_PLANT and PILOT_START <= d <= PILOT_END:
        return "pilot"
    if d >= WAVE_STARTS[plant.wave]:
        return "production"
    return "baseline"


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` rows over cells in proportion to ``weights`` (largest remainder)."""
    flat = weights.ravel() / weights.sum()
    exact = flat * total
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts.reshape(weights.shape)


def _layout(rows: int, seed: int) -> _Layout:
    if rows < 1:
        raise ValueError("rows must be at least 1")
    days = [START + timedelta(days=i) for i in range((END - START).days + 1)]
    root = np.random.SeedSequence(seed)
    layout_seed, days_seed = root.spawn(2)
    rng = np.random.default_rng(layout_seed)

    n_days, n_plants = len(days), len(PLANTS)
    present = np.ones((n_days, n_plants), dtype=bool)
    messy = [p.name for p in PLANTS].index(MESSY_PLANT)
    # Cluj loses whole days, in short outages of 1 to 4 days.
    lost, target = 0, int(MESSY_MISSING_DAYS * n_days)
    while lost < target:
        start, length = int(rng.integers(0, n_days)), int(rng.integers(1, 5))
        block = present[start : start + length, messy]
        lost += int(block.sum())
        block[:] = False

    day_volume = np.array(
        [WEEKDAY_VOLUME[d.weekday()] * (1.0 + 0.3 * SEASON[d.month]) for d in days]
    )
    plant_volume = np.array([p.volume for p in PLANTS])
    weights = (
        day_volume[:, None, None]
        * plant_volume[None, :, None]
        * CHANNEL_SHARE[None, None, :]
        * present[:, :, None]
    )
    counts = _allocate(rows, weights)
    per_day = counts.sum(axis=(1, 2))
    offsets = np.concatenate([[0], np.cumsum(per_day)[:-1]])

    n_months = _month_index(END) + 1
    shocks = {
        "cost": rng.normal(0.0, 0.015, (n_plants, n_months)),
        "minutes": rng.normal(0.0, 0.4, (n_plants, n_months)),
        "latency": rng.normal(0.0, 0.03, (n_plants, n_months)),
    }
    return _Layout(days, counts, offsets, shocks, days_seed.spawn(n_days))


def _day(layout: _Layout, i: int) -> dict[str, np.ndarray]:
    """All rows of day ``i`` as column arrays (floats, NaN where a value is missing)."""
    d = layout.days[i]
    counts = layout.counts[i]
    n = int(counts.sum())
    rng = np.random.default_rng(layout.day_seeds[i])
    plant_idx = np.repeat(np.arange(len(PLANTS)), counts.sum(axis=1))
    chan_idx = np.concatenate([np.repeat(np.arange(len(CHANNELS)), c) for c in counts])
    phases = np.array([_phase_of(p, d) for p in PLANTS])
    phase = phases[plant_idx]
    pilot = (phase == "pilot").astype(float)
    prod = (phase == "production").astype(float)
    season = SEASON[d.month]
    month = _month_index(d)

    def col(attr: str) -> np.ndarray:
        return np.array([getattr(p, attr) for p in PLANTS])[plant_idx]

    # Maintenance model accuracy: a schedule-based rule before the AI, the model after.
    acc_p = 0.52 - 0.03 * season + pilot * (0.94 - 0.52) + prod * (col("accuracy_prod") - 0.52)
    acc_p = acc_p + prod * -0.03 * season + pilot * 0.03 * season
    accuracy = (rng.random(n) < acc_p).astype(float)

    exc_p = 0.05 + 0.02 * season - 0.02 * pilot + 0.025 * prod
    exception = (rng.random(n) < exc_p).astype(float)

    up_mu = 0.9985 + 0.0008 * pilot + 0.0005 * prod - 0.0002 * season
    uptime = np.minimum(rng.normal(up_mu, 0.0005, n), 1.0)

    lat_median = np.where(pilot > 0, 160.0, np.where(prod > 0, 240.0, 420.0))
    lat_shock = np.exp(layout.shocks["latency"][plant_idx, month])
    latency = lat_median * (1 + 0.3 * season) * lat_shock * rng.lognormal(0.0, 0.35, n)

    res_p = 0.35 - 0.04 * season
    res_p = np.where(pilot > 0, 0.80, res_p)
    res_p = np.where(prod > 0, 0.66 + CHANNEL_RESOLUTION_PROD[chan_idx] - 0.10 * season, res_p)
    resolution = (rng.random(n) < res_p).astype(float)

    # Outcomes.
    cost_mu = (
        col("cost_level")
        * CHANNEL_COST[chan_idx]
        * (1 + 0.20 * season)
        * (1 + layout.shocks["cost"][plant_idx, month])
        * np.where(pilot > 0, COST_PILOT, 1.0)
        * np.where(prod > 0, COST_PROD, 1.0)
    )
    cost_shape = 12.0  # gamma: sd about 29% of the mean
    cost = rng.gamma(cost_shape, cost_mu / cost_shape)

    minutes_mu = (
        col("minutes_level")
        - 3.0 * season
        + layout.shocks["minutes"][plant_idx, month]
        + pilot * MINUTES_PILOT
        + prod * col("minutes_effect")
    )
    minutes = rng.normal(minutes_mu, 8.0)

    err_p = col("error_level") * (1 + 0.20 * season)
    err_p = err_p * np.where(pilot > 0, ERROR_PILOT, 1.0) * np.where(prod > 0, ERROR_PROD, 1.0)
    error = (rng.random(n) < err_p).astype(float)

    rev_mu = (
        col("revenue_level")
        * (1 + 0.10 * season)
        * np.where(pilot > 0, REVENUE_PILOT, 1.0)
        * np.where(prod > 0, REVENUE_PROD, 1.0)
    )
    rev_sigma = 1.1
    revenue = rev_mu * rng.lognormal(-0.5 * rev_sigma**2, rev_sigma, n)
    revenue[rng.random(n) >= REVENUE_RECORDED] = np.nan

    tick_lam = (
        col("ticket_level")
        * CHANNEL_TICKETS[chan_idx]
        * (1 + 0.25 * season)
        * np.where(pilot > 0, TICKETS_PILOT, 1.0)
        * np.where(prod > 0, TICKETS_PROD, 1.0)
    )
    tickets = rng.poisson(tick_lam).astype(float)

    values = {
        "Maintenance model accuracy": accuracy,
        "Exception rate": exception,
        "Uptime": np.round(uptime, 6),
        "Latency ms": np.round(latency, 1),
        "Chatbot resolution": resolution,
        "Cost per case (EUR)": np.round(cost, 2),
        "Minutes saved": np.round(minutes, 1),
        "Error rate": error,
        "Revenue per case (EUR)": np.round(revenue, 2),
        "Support tickets": tickets,
    }
    # Missing values: none at the pilot plant, a few elsewhere, many at the messy plant.
    names = np.array([p.name for p in PLANTS])[plant_idx]
    miss_p = np.where(names == MESSY_PLANT, MESSY_MISSING_VALUES, CLEAN_MISSING_VALUES)
    miss_p = np.where(names == PILOT_PLANT, 0.0, miss_p)
    for name in METRICS:
        values[name][rng.random(n) < miss_p] = np.nan

    start = CASE_ID_START + int(layout.offsets[i])
    return {
        "date": np.full(n, d.isoformat(), dtype=object),
        "phase": phase.astype(object),
        "plant": names.astype(object),
        "channel": np.array(CHANNELS, dtype=object)[chan_idx],
        "case_id": np.arange(start, start + n, dtype=np.int64),
        **values,
    }


def _frame(blocks: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    data: dict[str, object] = {}
    for name in COLUMNS:
        arr = np.concatenate([b[name] for b in blocks])
        if name in INTEGER_METRICS:
            data[name] = pd.array(arr, dtype="Float64").astype("Int64")
        else:
            data[name] = arr
    return pd.DataFrame(data, columns=list(COLUMNS))


def iter_chunks(
    rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The sample as DataFrames of whole days, each about ``chunk_rows`` rows or fewer."""
    layout = _layout(rows, seed)
    blocks: list[dict[str, np.ndarray]] = []
    pending = 0
    for i in range(len(layout.days)):
        block = _day(layout, i)
        size = len(block["case_id"])
        if blocks and pending + size > chunk_rows:
            yield _frame(blocks)
            blocks, pending = [], 0
        blocks.append(block)
        pending += size
    if blocks:
        yield _frame(blocks)


def generate(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The whole sample in one DataFrame (for tests and small sizes)."""
    return pd.concat(list(iter_chunks(rows, seed)), ignore_index=True)


def write_sample(path: str | Path, rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> int:
    """Write the sample as CSV at ``path``, chunk by chunk; returns the rows written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    written = 0
    # No value or header holds a comma or a quote, so nothing needs quoting.
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    writer: pacsv.CSVWriter | None = None
    try:
        with tmp.open("wb") as sink:
            sink.write((",".join(COLUMNS) + "\n").encode())
            for chunk in iter_chunks(rows, seed):
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                if writer is None:
                    writer = pacsv.CSVWriter(sink, table.schema, write_options=options)
                writer.write_table(table)
                written += len(chunk)
            if writer is not None:
                writer.close()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data.generate", description="Write Scalegate's sample telemetry CSV."
    )
    parser.add_argument("--out", default="data/sample.csv", help="CSV file to write")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    written = write_sample(args.out, args.rows, args.seed)
    print(f"wrote {written} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
