"""Method codes in plain words for the watch and the Monitor page.

The one table of plain method names is core/fmt.py's METHOD_NAMES; it has no entry yet for the
imputation estimator's codes (dev "refactor" builds the full table). Until it does, the codes
the verdicts now carry are named here, and fmt's table wins wherever it names a code.
"""

from __future__ import annotations

from analytics.core import fmt

LOCAL_NAMES: dict[str, str] = {
    "imputation_cluster_site": (
        "compared with sites still on the old way of working, clustered by site"
    ),
    "imputation_placebo": (
        "compared with sites still on the old way of working, tested against placebo sites "
        "(few live sites)"
    ),
    "imputation_hc_cells": (
        "compared with sites still on the old way of working, cell-level errors (few sites)"
    ),
}


def plain_method(code: str) -> str:
    """A method code as words; several codes joined by ', '."""
    parts = [c.strip() for c in str(code).split(",") if c.strip()]
    names = [fmt.METHOD_NAMES.get(c) or LOCAL_NAMES.get(c) or fmt.method_name(c) for c in parts]
    return ", ".join(names) or fmt.method_name("")
