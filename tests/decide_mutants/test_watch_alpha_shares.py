"""The watch splits its alpha: half over the outcomes, each outcome its equal share. With a
second outcome in the catalog, the first one's CUSUM threshold is that of half the alpha it had
alone, so it rises (the simulated threshold falls as alpha grows), on the same data."""

from __future__ import annotations

from pathlib import Path

from test_watch import _scenario, _watch, decided  # noqa: F401 - decided is a fixture

from analytics.store.database import Store


def _outcomes(document: dict) -> dict[str, float]:
    return {o["metric"]: o["cusum_threshold"] for o in document["outcomes"]}


def test_a_second_outcome_halves_the_first_ones_alpha(
    decided: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    alone = _scenario(decided, tmp_path / "one")
    both = _scenario(decided, tmp_path / "two")
    store = Store(both)
    with store.transaction() as cur:  # accuracy judged as an outcome too, higher is better
        cur.execute(
            "UPDATE metrics SET kind = 'outcome', guardrail = NULL WHERE metric_id = 'accuracy'"
        )
    store.close()
    _, one = _watch(alone, tmp_path / "one" / "out")
    _, two = _watch(both, tmp_path / "two" / "out")
    assert list(_outcomes(one)) == ["cost_per_case_eur"]
    assert sorted(_outcomes(two)) == ["accuracy", "cost_per_case_eur"]
    assert _outcomes(two)["cost_per_case_eur"] > _outcomes(one)["cost_per_case_eur"] > 0
