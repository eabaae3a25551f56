"""Names shared across the engine."""

from __future__ import annotations

from typing import Literal

Phase = Literal["baseline", "pilot", "production"]
PHASES: tuple[Phase, ...] = ("baseline", "pilot", "production")
Kind = Literal["outcome", "process"]
Direction = Literal["higher", "lower"]
Grain = Literal["week", "month"]
Verdict = Literal["scale", "fix_first", "do_not_scale", "need_more_data"]
Role = Literal["phase", "site", "channel", "date", "metric", "value", "weight", "ignore"]
DIMENSIONS: tuple[str, ...] = ("date", "phase", "site", "channel")
