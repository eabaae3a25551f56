"""Amounts typed on the command line: read as people write them, refused where a reading would
be a guess (analytics/cli/amounts.py)."""

from __future__ import annotations

import pytest

from analytics.cli.amounts import parse_amount
from analytics.core.errors import ScalegateError


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("250000", 250_000.0),
        ("£250,000", 250_000.0),
        ("250 000 EUR", 250_000.0),
        ("EUR 250000", 250_000.0),
        ("$1,200", 1_200.0),
        ("€1.250.000,50", 1_250_000.5),
        ("1,250,000.5", 1_250_000.5),
        ("1 250 000", 1_250_000.0),
        ("12,5", 12.5),
        ("1.5", 1.5),
        ("1.2345", 1.2345),
        ("1.2m", 1_200_000.0),
        ("45k", 45_000.0),
        ("2bn", 2e9),
        ("-3,000", -3_000.0),
    ],
)
def test_amounts_as_people_type_them(text: str, value: float) -> None:
    assert parse_amount(text, "--run-cost") == value


@pytest.mark.parametrize("text", ["250.000", "1,25,000", "abc", "1,2,3", "12..5", "£", "1e9", ""])
def test_an_amount_that_would_be_a_guess_is_refused_with_one_sentence(text: str) -> None:
    with pytest.raises(ScalegateError) as caught:
        parse_amount(text, "--run-cost")
    message = str(caught.value)
    assert message.startswith("--run-cost ") and "\n" not in message
    assert "250000" in message  # says what to type instead
