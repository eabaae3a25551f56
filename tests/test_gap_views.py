"""The gap shown (issue 14): the waterfall chart's bars chain the decomposition's fixed-order
steps with each step's range over the orders; the pack's slide "Why production falls short"
carries the same sentence, shares and representativeness sentence as the results (bundled
sample); the sentence is one function for the pages and the pack."""

from __future__ import annotations

import textwrap

import gap_rows as g
import pytest
from test_charts import sample_results

from analytics.decide.gap_report import gap_row
from analytics.decide.representativeness_report import representativeness_row
from analytics.engine.gap import LABELS
from analytics.present.gap_charts import share_lines, waterfall_frame
from analytics.present.gap_text import representativeness_sentence, why_sentence
from analytics.present.pack_why import why_slide


@pytest.fixture(scope="module")
def sample():
    results, catalog, _, _ = sample_results()
    return results, catalog


def test_waterfall_chains_the_fixed_order_steps_with_their_order_range() -> None:
    row = gap_row("score", g.cells(g.rows()), 1, 0.95)
    d = row.gap
    for sign in (1, -1):
        frame = waterfall_frame(row, sign)
        assert frame["end"].iloc[0] == pytest.approx(sign * d.pilot)
        assert frame["end"].iloc[-1] == pytest.approx(sign * d.comparable, abs=1e-9)
        steps = frame.iloc[1:-1]
        assert list(steps["start"].iloc[1:]) == pytest.approx(list(steps["end"].iloc[:-1]))
        shares = {s.factor: s for s in d.shares}
        for (factor, step), (_, bar) in zip(d.waterfall, steps.iterrows(), strict=True):
            assert bar["end"] - bar["start"] == pytest.approx(sign * step)
            lo, hi = sorted(sign * x for x in (shares[factor].low, shares[factor].high))
            assert (bar["range_low"], bar["range_high"]) == pytest.approx(
                (bar["start"] + lo, bar["start"] + hi)
            )
    # The channel-at-peak loss planted: channels' and load's whiskers have width.
    frame = waterfall_frame(row, 1).set_index("label")
    assert (frame["range_high"] - frame["range_low"])["New channels"] > 0.5


def test_share_lines_state_each_interval_at_its_level() -> None:
    row = gap_row("score", g.cells(g.rows()), 1, 0.99)
    lines = share_lines(row, 1)
    for s, line in zip(row.gap.shares, lines, strict=True):
        lo, hi = s.ci
        assert (
            line
            == f"{LABELS[s.factor].capitalize()}: {s.value:+.3g} (99% interval {lo:+.3g} to {hi:+.3g})"
        )


def test_pack_slide_says_why_with_the_results_sentences(sample) -> None:
    results, _ = sample
    spec = why_slide(results, _ctx(results))
    assert spec["key"] == "why_production_falls_short"
    named = [gp for gp in results.gaps if "cannot be ranked" not in gp.gap.sentence]
    chosen = (named or list(results.gaps))[0]
    label = results.verdict(chosen.metric).label
    assert spec["title"] == f"Why production falls short: {label}"
    title = spec["chart"].to_dict()["title"]
    assert title["text"] == textwrap.wrap(chosen.gap.sentence, 90)
    subtitle = " ".join(title["subtitle"])
    assert "99% interval" in subtitle
    assert representativeness_sentence(results, chosen.metric).split(";")[0][:60] in subtitle
    for gp in results.gaps:
        assert why_sentence(results, gp.metric) in spec["notes"]
        assert representativeness_sentence(results, gp.metric) in spec["notes"]


def test_results_rows_match_the_sections(sample) -> None:
    results, catalog = sample
    doc = results.to_dict()
    assert [r["metric"] for r in doc["representativeness"]] == [r.metric for r in results.gaps]
    for r in doc["representativeness"]:
        assert r["sentence"] == representativeness_sentence(results, r["metric"])
        assert sum(m["production_share"] for m in r["mix"] if m["dimension"] == "site") == (
            pytest.approx(1.0)
        )


def test_lower_is_better_reads_the_same_in_improvement_terms() -> None:
    cells = g.cells(g.rows(wide_pilot=True))
    neg = cells.assign(mean=lambda c: -c["mean"])
    up = representativeness_row("score", cells, 1, 0.95)
    down = representativeness_row("score", neg, -1, 0.95)
    assert up.sentence == down.sentence
    assert up.rep.reweighted_effect == pytest.approx(-down.rep.reweighted_effect, abs=1e-9)


def _ctx(results):
    from analytics.present.charts import context_from

    return context_from(results)
