"""Inference on cells, never on rows: aggregate merges the stored day cells into period cells
(Chan's formula), compare holds the unadjusted Welch comparisons and Holm, stats the adjusted
models (WLS, cluster / HC1), lifts, retention, slice effects, trend, counterfactual and power.
"""
