"""The benchmark's one table: rows built from the measurements, as markdown, and the README."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import gib, rows_label

README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"
README_HEADING = "## Performance"

INGEST_MAX = 1.3
ANALYSIS_MAX = 3.0
INTERACTION_MAX_S = 0.5
MEMORY_MAX_BYTES = 1.5 * 2**30
PEER_MIN = 3.0


@dataclass(frozen=True)
class Row:
    measure: str
    rows: str
    ours: str
    reference: str
    ratio: str
    target: str
    result: str  # pass / FAIL / error / — (reported, no target)


def _s(seconds: float) -> str:
    if seconds < 0.1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.1f} s"


def _x(ratio: float) -> str:
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.1f}×"


def _verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def ratio_row(measure: str, label: str, ours: float, ref: float, most: float) -> Row:
    """Our time against its reference's, judged by their ratio: at most `most` times."""
    ratio = ours / ref
    target = f"≤ {most:g}×"
    return Row(measure, label, _s(ours), _s(ref), _x(ratio), target, _verdict(ratio <= most))


def memory_row(measure: str, label: str, peak: float, ref: float, most: float) -> Row:
    """A peak RSS (bytes) beside its reference's, judged against a ceiling in bytes."""
    target = f"≤ {gib(most)}"
    return Row(measure, label, gib(peak), gib(ref), _x(peak / ref), target, _verdict(peak <= most))


def size_rows(rows: int, m: dict[str, Any]) -> list[Row]:
    """The rows of one dataset size, from what the children reported."""
    label = rows_label(rows)
    out: list[Row] = []
    t = m.get("timings")
    if t:
        ours, ref = t["ingest"]["ours"]["seconds"], t["ingest"]["ref"]["seconds"]
        out.append(
            ratio_row(
                "ingest: Scalegate load / DuckDB `CREATE TABLE AS read_csv`",
                label,
                ours,
                ref,
                INGEST_MAX,
            )
        )
        ours, ref = t["analysis"]["ours"]["seconds"], t["analysis"]["ref"]["seconds"]
        out.append(
            ratio_row(
                "analysis: full report `analyse` / bare DuckDB GROUP BY of its cells",
                label,
                ours,
                ref,
                ANALYSIS_MAX,
            )
        )
        for key, what in (("site", "one site"), ("month", "one month")):
            inter = t["interactions"].get(key)
            if not inter:
                continue
            ours, ref = inter["ours"]["seconds"], inter["ref"]["seconds"]
            out.append(
                Row(
                    f"interaction: report for {what} ({inter['name']}) / same GROUP BY filtered",
                    label,
                    _s(ours),
                    _s(ref),
                    _x(ours / ref),
                    f"≤ {INTERACTION_MAX_S} s",
                    _verdict(ours <= INTERACTION_MAX_S),
                )
            )
    for key, what, ref_name in (
        ("load", "load", "DuckDB CTAS read_csv"),
        ("report", "report", "bare GROUP BY"),
    ):
        mem = m.get("memory", {}).get(key)
        ref = m.get("memory", {}).get("ctas" if key == "load" else "groupby")
        if not mem or not ref:
            continue
        out.append(
            memory_row(
                f"memory: peak RSS of the {what}, fresh process / {ref_name}",
                label,
                mem["peak_rss"],
                ref["peak_rss"],
                MEMORY_MAX_BYTES,
            )
        )
    peer = m.get("peer")
    if peer:
        at = peer["rows"]
        where = rows_label(at) if at == rows else f"{rows_label(at)} (see note)"
        ours, theirs = peer["ours"], peer["peer"]
        ratio = theirs["seconds"] / ours["seconds"]
        out.append(
            Row(
                "peer time: notebook (pandas+scipy+statsmodels) / ours (load + report)",
                where,
                _s(ours["seconds"]),
                _s(theirs["seconds"]),
                _x(ratio),
                f"≥ {PEER_MIN:g}×",
                _verdict(ratio >= PEER_MIN),
            )
        )
        ratio = theirs["peak_rss"] / ours["peak_rss"]
        out.append(
            Row(
                "peer memory: notebook peak RSS / ours (load + report)",
                where,
                gib(ours["peak_rss"]),
                gib(theirs["peak_rss"]),
                _x(ratio),
                f"≥ {PEER_MIN:g}×",
                _verdict(ratio >= PEER_MIN),
            )
        )
    return out


def page_rows(
    rows: int, pages: list[dict[str, Any]], target: float | None = None, label: str = ""
) -> list[Row]:
    """One row per page; with a target (seconds), the cold render is judged against it."""
    label = label or rows_label(rows)
    out = []
    for p in pages:
        if p["exceptions"]:
            result = f"error ({p['exceptions']} exception)"
        elif target is None:
            result = "—"
        else:
            result = "pass" if p["cold"] <= target else "FAIL"
        out.append(
            Row(
                f"page `{p['path']}`: AppTest render, cold cache (reference: re-run, warm)",
                label,
                _s(p["cold"]),
                _s(p["warm"]),
                "—",
                f"≤ {target:g} s" if target is not None else "—",
                result,
            )
        )
    return out


def pack_rows(pack: dict[str, Any], target: float) -> list[Row]:
    """The sample's board pack: warm (the page's one click) and the CLI in a fresh process."""

    def judged(seconds: float) -> str:
        return "pass" if seconds <= target else "FAIL"

    return [
        Row(
            f"board pack (PPTX, PDF, {pack['files'] - 3} chart files): built from results, warm",
            "sample",
            _s(pack["warm"]),
            "—",
            "—",
            f"≤ {target:g} s",
            judged(pack["warm"]),
        ),
        Row(
            "board pack: `python -m analytics pack data/sample.csv`, fresh process, end to end",
            "sample",
            _s(pack["cli"]),
            "—",
            "—",
            f"≤ {target:g} s",
            judged(pack["cli"]),
        ),
    ]


def markdown(rows: list[Row]) -> str:
    head = ("measure", "rows", "ours", "reference", "ratio", "target", "result")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for r in rows:
        cells = (r.measure, r.rows, r.ours, r.reference, r.ratio, r.target, r.result)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def update_readme(readme: Path, body: str) -> None:
    """Put `body` between the bench markers, adding the section at the end the first time."""
    text = readme.read_text(encoding="utf-8")
    block = f"{README_START}\n{body.strip()}\n{README_END}"
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + f"\n\n{README_HEADING}\n\n{block}\n"
    readme.write_text(text, encoding="utf-8")
