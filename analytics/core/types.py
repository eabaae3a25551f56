"""Names shared across the engine."""

from __future__ import annotations

from typing import Literal

Phase = Literal["baseline", "pilot", "production"]
PHASES: tuple[Phase, ...] = ("baseline", "pilot", "production")
# What a phase mapping may send a value to besides a phase: its rows are set aside, and the
# validation report counts them under their own reason (a choice, not a reading error).
LEAVE_OUT = "leave_out"
Kind = Literal["outcome", "process"]
Direction = Literal["higher", "lower"]
Grain = Literal["week", "month"]
Verdict = Literal["scale", "fix_first", "do_not_scale", "need_more_data"]
Role = Literal["phase", "site", "channel", "date", "metric", "value", "weight", "ignore"]
DIMENSIONS: tuple[str, ...] = ("date", "phase", "site", "channel")
