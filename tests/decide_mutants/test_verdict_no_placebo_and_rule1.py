"""Rule 1's sentences worked by hand: a two-site dataset whose production runs at one site, a
row count too small whose spread is said only when it is known, and a design with no placebo
at all, with and without a count of the sites that would give one."""

from __future__ import annotations

from test_verdict import evidence

from analytics.core.catalog import Settings
from analytics.decide.verdict import decide, few_sites_reason
from analytics.engine.placebo import PlaceboTest


def test_a_two_site_dataset_running_at_one_site_needs_more_sites() -> None:
    settings = Settings()
    d = decide(evidence(n_sites=1, dataset_sites=2), settings)
    assert d.verdict == "need_more_data"
    assert d.reasons == (
        f"Production runs at 1 site(s); at least {settings.min_production_sites} are needed to "
        "tell the AI from the site.",
    )
    # A one-site dataset is judged on its one site (there is no other to compare with).
    assert decide(evidence(n_sites=1, dataset_sites=1), settings).verdict == "scale"


def test_too_few_rows_say_their_spread_only_when_it_is_counted() -> None:
    settings = Settings()
    known = decide(evidence(n_rows=12, n_sites=3, periods=4, period_unit="week"), settings)
    assert known.reasons[0] == (
        f"Only 12 production rows (3 sites over 4 weeks) of Minutes saved; at least "
        f"{settings.min_production_rows} are needed to judge."
    )
    unknown = decide(evidence(n_rows=12, n_sites=3, periods=0, period_unit="week"), settings)
    assert unknown.reasons[0] == (
        f"Only 12 production rows of Minutes saved; at least {settings.min_production_rows} "
        "are needed to judge."
    )


def test_no_placebo_at_all_with_the_sites_that_would_give_one_counted() -> None:
    # No assignment: floor 1/(0+1) = 1 > 0.05. Reaching 0.05 takes ceil(1/0.05 - 1) = 19
    # assignments; with 1, 2, 3 added sites the design has 0, 3, 25: the third reaches 19.
    test = PlaceboTest(t_real=2.5, placebo_t=(), assignments=0, with_more=(0, 3, 25))
    e = evidence(placebo=test, treated_sites=2, ci_level=0.95)
    assert few_sites_reason(e) == (
        "2 live site(s) cannot be tested against site-to-site variation: no site still on the "
        "baseline shares their go-live periods, so no placebo comparison exists. With 3 more "
        "site(s) kept on the old way of working throughout, the test could reach 0.05."
    )
    assert decide(e, Settings()).reasons == (few_sites_reason(e),)
    uncounted = evidence(placebo=PlaceboTest(2.5, (), 0), treated_sites=2, ci_level=0.95)
    assert few_sites_reason(uncounted).endswith(
        "no placebo comparison exists. Keeping some sites on the baseline for longer would give one."
    )
