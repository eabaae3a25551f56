"""Acknowledging an alert: one sentence for a missing name, action or decision; nothing stored."""

from __future__ import annotations

from datetime import datetime

import pytest

from analytics.core.errors import ScalegateError
from analytics.decide.acks import Acknowledgement, acknowledge, acknowledgements
from analytics.store.database import Store


@pytest.mark.parametrize(
    ("who", "action", "sentence"),
    [
        ("  ", "Retrained.", r"^Say who acknowledges the alert: type a name\.$"),
        ("", "Retrained.", r"^Say who acknowledges the alert: type a name\.$"),
        ("Ops lead", " \t", r"^Say what was done about the alert, in a line\.$"),
        ("Ops lead", "Retrained.", r"^There is no decision number 5\.$"),
    ],
)
def test_a_refused_acknowledgement_says_why_and_stores_nothing(
    store: Store, who: str, action: str, sentence: str
) -> None:
    with pytest.raises(ScalegateError, match=sentence):
        acknowledge(store, 5, "aht:decline", who=who, action=action)
    assert acknowledgements(store, 5) == {}
    assert store.cursor().execute("SELECT count(*) FROM alert_acks").fetchone() == (0,)


def test_an_acknowledgement_reads_as_who_what_and_when_to_the_second() -> None:
    ack = Acknowledgement(3, 1, "aht:decline", datetime(2025, 3, 1, 9, 30, 15, 5), "Ops", "Fixed.")
    assert ack.to_dict() == {"who": "Ops", "action": "Fixed.", "at": "2025-03-01T09:30:15"}
