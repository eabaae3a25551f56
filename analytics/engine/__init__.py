"""Inference on cells, never on rows: aggregate merges the stored day cells into period cells
(Chan's formula), compare holds the unadjusted Welch comparisons and Holm, stats the two-way
model (WLS, cluster / HC1), lifts, retention, slice effects, trend, counterfactual and power.

The estimate behind every verdict (staggered rollouts): panel (cells as a rollout panel with
weights and go-lives), imputation (site + period levels on baseline cells, imputed
counterfactuals, influence per site), staggered (the estimator interface and its results type),
placebo (randomisation inference for 1-4 live sites), event_study (effects since go-live, the
pre-trend test), waves and group_time (each wave's effect, Callaway & Sant'Anna's ATT(g, t)),
sensitivity (the breakdown value).
"""
