"""The vocabulary every other package speaks: the one error a user can cause (errors), the
shared types (types) and the metric catalog (catalog: kind, direction, thresholds, keyword
defaults, TOML overrides).
"""
