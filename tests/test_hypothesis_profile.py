"""The suite's hypothesis profile is the fixed one (tests/conftest.py), unless asked otherwise."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings


@pytest.mark.skipif("HYPOTHESIS_PROFILE" in os.environ, reason="another profile was asked for")
def test_hypothesis_draws_the_same_examples_every_run_with_no_deadline() -> None:
    current = settings()
    assert current.derandomize is True
    assert current.deadline is None
    assert current.database is None
