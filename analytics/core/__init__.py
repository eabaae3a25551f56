"""The vocabulary every other package speaks: the one error a user can cause (errors), the
shared types (types), the metric catalog (catalog: kind, direction, thresholds, keyword
defaults, TOML overrides) and the one number formatter (fmt: money, percentages, intervals,
interval levels in words, method names, help text of statistical words).
"""
