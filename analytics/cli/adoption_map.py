"""`--map HEADER=adoption`: the usage-share column (issue 14, item 5) is read as a metric and
named in the catalog's settings, which makes it the adoption column and never an outcome."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping


def adoption_mapping(
    mapping: Mapping[str, str], catalog_text: str | None
) -> tuple[dict[str, str], str | None]:
    """The mapping with HEADER=adoption read as HEADER=metric, and the catalog text with
    ``adoption = "HEADER"`` in its [settings] (added when it has none)."""
    named = [h for h, role in mapping.items() if role == "adoption"]
    if not named:
        return dict(mapping), catalog_text
    roles = {h: ("metric" if role == "adoption" else role) for h, role in mapping.items()}
    line = f"adoption = {json.dumps(named[0])}"
    text = catalog_text or ""
    if re.search(r"^\s*\[settings\]\s*$", text, flags=re.M):
        text = re.sub(r"^\s*\[settings\]\s*$", f"[settings]\n{line}", text, count=1, flags=re.M)
    else:
        text = f"{text}\n[settings]\n{line}\n"
    return roles, text
