"""What makes the first page fast, checked without a clock (issue 19): rendering a page leaves
the heavy modules unimported until they are used, the server's warm-up computes exactly the
analysis the first session's Home asks for, and a load reports its progress truthfully.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.cli.commands import load_sample_if_empty  # noqa: E402
from analytics.ingest.load import Source, load_files  # noqa: E402
from analytics.ingest.progress import STAGES, csv_lines  # noqa: E402
from analytics.store.database import open_store  # noqa: E402
from ui.pages import PAGES  # noqa: E402

HEAVY = ("statsmodels.tsa", "pptx", "reportlab", "vl_convert")

# Renders the pages in a fresh interpreter and prints, after each, the heavy modules loaded.
RENDER = """
import json, sys
from streamlit.testing.v1 import AppTest
from ui import warm
app, paths = sys.argv[1], json.loads(sys.argv[2])
heavy = tuple(json.loads(sys.argv[3]))
at = AppTest.from_file(app, default_timeout=180)
at.run()
found = {}
for path in paths:
    at.switch_page(path).run()
    warm.done.wait(60)  # the background imports app.py starts count as the page's
    found[path] = {
        "exceptions": [e.message for e in at.exception],
        "heavy": sorted(m for m in sys.modules if m.startswith(heavy)),
    }
print("RESULT " + json.dumps(found))
"""


def render_in_fresh_process(db: Path, paths: list[str]) -> dict[str, dict]:
    env = {"SCALEGATE_DB": str(db), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", RENDER, str(ROOT / "app.py"), json.dumps(paths), json.dumps(HEAVY)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def test_pages_leave_forecasting_and_the_pack_unimported_until_used(tmp_path):
    # Home, Data, Pilot vs Production and Sites & Channels show no forecast: statsmodels'
    # time-series modules stay out. Scorecard, Decision and Baseline use the forecast (the
    # full analysis), but no page imports the board pack's PowerPoint or PDF libraries, or the
    # chart renderer, before a download is asked for.
    light = [PAGES[k] for k in ("home", "data", "pilot", "sites")]
    full = [PAGES[k] for k in ("scorecard", "decision", "baseline")]
    found = render_in_fresh_process(tmp_path / "scalegate.duckdb", light + full)
    for path, seen in found.items():
        assert seen["exceptions"] == [], path
        packs = [m for m in seen["heavy"] if not m.startswith("statsmodels.tsa")]
        assert packs == [], f"{path} imported {packs}"
    for path in light:
        assert found[path]["heavy"] == [], f"{path} imported {found[path]['heavy']}"
    # The check can fail: the Baseline page's forecast does load the time-series modules.
    assert "statsmodels.tsa.statespace.structural" in found[PAGES["baseline"]]["heavy"]


def test_the_warm_up_computes_exactly_what_the_first_home_asks_for(own_db, monkeypatch):
    from ui import warm

    load_sample_if_empty(open_store(own_db))
    calls = counted_analyses(monkeypatch)
    warm.default_view()
    assert calls == ["answer", True]  # Home's answer (completed, not redone), the forecasts
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(m.value.startswith("Across 5 outcome metrics") for m in at.markdown)
    assert calls == ["answer", True]  # the first session found both in the cache
    at.switch_page(PAGES["scorecard"]).run()
    assert not at.exception
    at.switch_page(PAGES["pilot"]).run()
    assert not at.exception
    assert calls == ["answer", True]


def test_the_server_analyses_homes_view_before_it_answers(own_db, monkeypatch):
    # python -m ui.serve runs prepare() before the port is bound: the first session's Home
    # then finds its analysis in the cache, computed once.
    from ui import warm

    load_sample_if_empty(open_store(own_db))
    calls = counted_analyses(monkeypatch)
    warm.prepare()
    assert calls == ["answer"]  # Home's answer only: the rest waits for the background
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(m.value.startswith("Across 5 outcome metrics") for m in at.markdown)
    assert calls.count("answer") == 1  # the session did not compute Home's answer again


def counted_analyses(monkeypatch) -> list[object]:
    """The analyses the cache makes from now on: "answer" for Home's answer, else whether
    the analysis had the forecasts."""
    from ui import cached

    calls: list[object] = []
    real, real_answer = cached.analyse, cached.answer_first

    def counted(*args, **kwargs):
        calls.append(kwargs.get("with_counterfactual", True))
        return real(*args, **kwargs)

    def counted_answer(*args, **kwargs):
        calls.append("answer")
        return real_answer(*args, **kwargs)

    monkeypatch.setattr(cached, "analyse", counted)
    monkeypatch.setattr(cached, "answer_first", counted_answer)
    return calls


def rollout_csv(rows_per_day: int = 40) -> bytes:
    rng = np.random.default_rng(19)
    days = pd.date_range("2024-01-01", "2024-06-30", freq="D")
    frame = pd.DataFrame(
        {
            "date": np.repeat(days.date, rows_per_day),
            "site": rng.choice(["Oslo", "Bergen", "Malmo"], len(days) * rows_per_day),
            "channel": rng.choice(["phone", "chat"], len(days) * rows_per_day),
        }
    )
    live = pd.to_datetime(frame["date"]) >= pd.Timestamp("2024-04-01")
    frame["phase"] = np.where(live & (frame["site"] != "Malmo"), "production", "baseline")
    frame["Cost per case (EUR)"] = rng.normal(40, 5, len(frame)).round(2)
    return frame.to_csv(index=False).encode()


def test_a_load_reports_its_stages_in_order_and_the_rows_it_read(store):
    data = rollout_csv()
    source = Source.from_bytes("rollout.csv", data)
    rows_in_file = len(pd.read_csv(io.BytesIO(data)))
    assert csv_lines([source]) == rows_in_file
    seen = []
    result = load_files(store, [source], progress=seen.append)
    stages = [p.stage for p in seen]
    firsts = list(dict.fromkeys(stages))
    assert firsts == list(STAGES)  # plan, pass, check, cells, save: each reached, in order
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and 0 <= fractions[0] and fractions[-1] <= 1
    assert seen[-1].rows == result.report.rows_read == rows_in_file


@pytest.mark.parametrize("name", ["rollout.csv.gz", "rollout.parquet"])
def test_rows_are_not_guessed_for_compressed_or_binary_files(name):
    assert csv_lines([Source.from_bytes(name, b"a,b\n1,2\n")]) is None


def test_the_warm_up_serves_an_uploaded_dataset_without_a_volume(own_db, monkeypatch):
    # A file loaded without a catalog has no annual volume: the warm-up (at server start, and
    # after a load on the Data page) must still compute exactly what that dataset's Home asks
    # for (measured: it raised on float(None) and every first Home computed its own analysis).
    from analytics.core.catalog import read_catalog
    from ui import warm

    store = open_store(own_db)
    loaded = load_files(store, [Source.from_bytes("rollout.csv", rollout_csv())])
    assert read_catalog(store.cursor(), loaded.dataset_id).settings.annual_volume is None
    calls = counted_analyses(monkeypatch)
    warm.default_view(loaded.dataset_id, full=False)
    assert calls == ["answer"]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(m.value.startswith("Across 1 outcome metric") for m in at.markdown), [
        m.value for m in at.markdown
    ][:5]
    assert calls.count("answer") == 1  # Home found the warm-up's answer
