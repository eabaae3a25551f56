"""Monitor: production since the latest decision, per outcome and guardrail, and the alerts."""

import streamlit as st

from analytics.core import fmt
from analytics.present.monitor_charts import guardrail_watch_chart, outcome_watch_chart
from ui.context import current
from ui.monitor_panel import alert_box, report
from ui.pages import PAGES
from ui.show import chart, need_dataset
from ui.text import plain

ctx = current()
need_dataset(ctx)
st.title("Monitor")
found = report(ctx)
if found is None:
    st.info("No decision is recorded for this dataset yet: production is watched against one.")
    st.page_link(PAGES["decision"], label="Record a decision", icon=":material/gavel:")
    st.stop()

decision = found.decision
st.caption(
    f"Since the decision ({plain(decision['decision'])}, {plain(decision['owner'])}, "
    f"{decision['decided_at'][:10]}) on data to {decision['data_until']}: "
    f"{found.meta['periods_since_decision']} {found.meta['grain']}s of production, checked "
    f"{found.meta['as_of']}. Repeated looks are controlled over {found.meta['horizon']} "
    f"{found.meta['grain']}s: a year of checks raises a false alert in under "
    f"{found.meta['alpha']:.0%} of years."
)
st.subheader("Alerts")
if found.nothing_yet:
    st.info(
        plain(found.lines()[0])
        if not found.alerts
        else f"Nothing to watch yet: no {found.meta['grain']} of production since the decision.",
        icon=":material/schedule:",
    )
elif not found.alerts:
    st.success("All hold: no alert since the decision.", icon=":material/check_circle:")
for k, alert in enumerate(found.alerts):
    alert_box(ctx, found, alert, k)

alerted = {a.metric for a in found.open_alerts}
st.subheader("Outcomes")
for o in found.outcomes:
    chart(outcome_watch_chart(o, alerted=o.metric in alerted), key=f"monitor_outcome_{o.metric}")
    st.caption(
        plain(
            o.note
            or "Decision-time effect recomputed with today's method "
            f"({fmt.method_name(o.reference_method)}): "
            f"{o.reference:+.1%}; the decision recorded {o.snapshot_estimate:+.1%}. "
            f"Threshold {o.min_effect:.0%}."
        )
    )
if found.guardrails:
    st.subheader("Guardrails")
for g in found.guardrails:
    chart(guardrail_watch_chart(g, alerted=g.metric in alerted), key=f"monitor_guard_{g.metric}")
