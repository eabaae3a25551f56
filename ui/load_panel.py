"""The Data page's load flow: pick files (upload, or a local path on this machine only), confirm
the detected mapping, load with progress, read the validation report.

Nothing is stored before the user presses Load, and a load that fails stores nothing (the
engine loads in one transaction); the sentence it raised is shown as is.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

# Streamlit's stop and rerun requests, raised inside a script at its next call (1.67, pinned).
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from analytics.core.errors import ScalegateError
from analytics.core.types import LEAVE_OUT
from analytics.ingest.load import (
    DateOrder,
    Detection,
    LoadResult,
    Source,
    default_name,
    detect,
    load_files,
    reusable_plan,
)
from analytics.ingest.progress import Progress
from analytics.ingest.read import expand_local
from analytics.ingest.staged import StagedLoad
from analytics.present.ui_state import local_paths_allowed
from analytics.store.database import DatasetInfo, Store
from ui import cached, handover, warm
from ui.load_notice import DETECTED_KEY, LOADS_KEY, REPORT_KEY, landed, loaded_sentence
from ui.pages import PAGES
from ui.text import plain
from ui.uploads import spooled_sources

ROLES = ["phase", "site", "channel", "date", "metric", "value", "weight", "ignore"]
# Each role in plain words, shown beside the grid and in it.
ROLE_HELP = {
    "phase": "which stage each row belongs to: before the AI (baseline), the pilot, production",
    "site": "where the work was done: a plant, store, branch, region or office",
    "channel": "how the work came in: phone, chat, email, web…",
    "date": "when the row happened: a day, or the start or end of its week or month",
    "metric": "a number to judge: a cost, a rate, a time, a score (Yes/No counts as 1/0)",
    "value": "in a long file, the number; another column names its metric",
    "weight": "how many cases each row stands for (contacts handled, tickets…): rows count by it",
    "ignore": "not used",
}
DATE_ORDERS = {
    "auto": "Decide from the whole column",
    "day-first": "Day first (03/04/2024 is 3 April)",
    "month-first": "Month first (03/04/2024 is 4 March)",
}
PHASE_CHOICES = ["baseline", "pilot", "production", "(leave out)"]
_COMMITTED = "data_committed"  # what Load's click committed (a LoadResult or the refusal)
_STAGED = "data_staged"  # (detection key, StagedLoad): the pass run ahead of Load
# Files larger than this together are not passed over ahead of Load: a pass thrown away by a
# change would cost minutes of CPU and leave the database file that much larger until reused.
STAGE_MAX_BYTES = 512 * 2**20
# Load pressed while the pass runs: when it should be over within this many seconds, the click
# waits for it (the button shows the wait) and the answer follows; longer, a progress bar.
QUICK = 2.5


def allow_local() -> bool:
    return local_paths_allowed(
        st.get_option("server.address"), os.environ.get("SCALEGATE_ALLOW_LOCAL_PATHS")
    )


def _pick_sources() -> tuple[list[Source], str]:
    """The files chosen, and a key that changes when the choice does."""
    uploads = st.file_uploader(
        "Upload one or more files (they must share their columns)",
        type=["csv", "gz", "tsv", "txt", "parquet", "xlsx"],
        accept_multiple_files=True,
        # A new key after each load empties the box, so the same files are not offered again.
        key=f"data_upload_{st.session_state.get(LOADS_KEY, 0)}",
    )
    sources = spooled_sources(uploads or [])  # written to disk once per upload
    key = "|".join(f"{f.file_id}:{f.name}:{f.size}" for f in uploads or [])
    if allow_local():
        pattern = st.text_input(
            "…or a path or pattern on this machine",
            key="data_local_path",
            placeholder="~/exports/pilot_*.csv",
            help="Offered because Scalegate serves on this machine only.",
        )
        if pattern.strip() and not sources:
            paths = expand_local(pattern)
            sources = [Source.from_path(p) for p in paths]
            key = "|".join(f"{p}:{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in paths)
    return sources, key


def _detect(
    sources: Sequence[Source], key: str, mapping: dict, phase_map: dict, order: DateOrder
) -> Detection:
    wanted = (key, tuple(sorted(mapping.items())), tuple(sorted(phase_map.items())), order)
    held = st.session_state.get(DETECTED_KEY)
    if held is None or held[0] != wanted:
        with st.spinner("Reading the files' columns…"):
            held = (wanted, detect(sources, mapping, phase_map, order))
        st.session_state[DETECTED_KEY] = held
    return held[1]


def _role_table(detection: Detection) -> pd.DataFrame:
    def role(header: str) -> str:
        found = detection.roles.get(header, "ignore")
        return "ignore" if found == "identifier" else found

    def means(header: str) -> str:
        found = detection.roles.get(header, "ignore")
        if found == "identifier":
            return "an identifier (a ticket or case number): not used"
        guess = detection.guesses.get(header)
        return guess.split(": ", 1)[-1] if guess else ROLE_HELP.get(found, "")

    return pd.DataFrame(
        {
            "Column": list(detection.headers),
            "Role": [role(h) for h in detection.headers],
            "What Scalegate sees": [means(h) for h in detection.headers],
        }
    )


def _rows_label(detection: Detection) -> str:
    return "Rows (estimated)" if detection.phase_counts_estimated else "Rows"


def _phase_table(detection: Detection) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Value in the file": list(detection.phase_values),
            "Phase": [p or "(leave out)" for p in detection.phase_values.values()],
            _rows_label(detection): [
                detection.phase_counts.get(v, 0) for v in detection.phase_values
            ],
        }
    )


def _confirm_mapping(
    detection: Detection, round_key: str, before: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Show the detected roles and phase values for correction; return the roles the user
    changed from the detection, and the phase map the table now says (phase_choices)."""
    st.caption(
        f"{', '.join(map(plain, detection.files))}: {detection.encoding}"
        + (f", {detection.delimiter}-separated" if detection.delimiter else "")
        + f", {detection.form} form."
    )
    for warning in detection.warnings:
        st.warning(plain(warning))
    roles_col, phases_col = st.columns([3, 2])
    with roles_col:
        st.markdown("**Column roles**")
        roles = st.data_editor(
            _role_table(detection),
            key=f"data_roles_editor_{round_key}",
            hide_index=True,
            disabled=["Column", "What Scalegate sees"],
            column_config={
                "Role": st.column_config.SelectboxColumn(
                    options=ROLES, required=True, help="Change a role where it is wrong."
                )
            },
        )
        with st.expander("What each role means"):
            st.markdown("\n".join(f"- **{r}**: {ROLE_HELP[r]}" for r in ROLES))
    with phases_col:
        st.markdown("**Phase values**")
        if detection.phase_column is None:
            st.warning("No phase column was found: give one column the role phase.")
            phases = pd.DataFrame(columns=["Value in the file", "Phase"])
        else:
            phases = st.data_editor(
                _phase_table(detection),
                key=f"data_phases_editor_{round_key}",
                hide_index=True,
                disabled=["Value in the file", _rows_label(detection)],
                column_config={
                    "Phase": st.column_config.SelectboxColumn(options=PHASE_CHOICES, required=True)
                },
            )
            if detection.phase_counts_estimated:
                st.caption(
                    "Rows estimated from a sample spread across the large file; the load "
                    "counts every row."
                )
    detected = _role_table(detection).set_index("Column")["Role"]
    mapping = {
        str(r["Column"]): str(r["Role"])
        for r in roles.to_dict("records")
        if r["Role"] != detected.get(r["Column"])
    }
    chosen = {str(r["Value in the file"]): str(r["Phase"]) for r in phases.to_dict("records")}
    return mapping, phase_choices(chosen, detection.phase_values, before)


def phase_choices(
    chosen: dict[str, str], detected: Mapping[str, Any], before: Mapping[str, Any]
) -> dict[str, str]:
    """The phase map a table of choices says: each value's phase, and LEAVE_OUT for a value
    the person left out that would otherwise load (the detection gave it a phase, or an
    earlier check left it out). Values nobody could place stay out of the map: they are set
    aside as unknown."""
    out: dict[str, str] = {}
    for value, phase in chosen.items():
        if phase in PHASE_CHOICES[:3]:
            out[value] = phase
        elif detected.get(value) is not None or before.get(value) == LEAVE_OUT:
            out[value] = LEAVE_OUT
    return out


def _show_report(held: dict[str, Any]) -> None:
    report = held["report"]
    if held["already"]:
        st.info(
            f"This content is already loaded as dataset {plain(held['name'])}: nothing changed."
        )
    else:
        st.success(loaded_sentence(held))
    read, loaded, aside = st.columns(3)
    read.metric("Rows read", f"{report['rows_read']:,}")
    loaded.metric("Rows loaded", f"{report['rows_loaded']:,}")
    aside.metric("Rows set aside", f"{report['rows_rejected']:,}")
    for warning in report.get("warnings", []):
        st.warning(plain(warning))
    with st.expander("The full validation report"):
        st.text(held["text"])


def load_panel(store: Store, datasets: Sequence[DatasetInfo]) -> None:
    """Pick files, confirm the mapping, load, and show the report of the last load."""
    last = st.container()  # the last load's report, above the next upload
    try:
        sources, key = _pick_sources()
        _follow_click()
        held = st.session_state.get(REPORT_KEY)
        if held and not sources:  # a new upload is reviewed on its own, not under the old report
            with last:
                _show_report(held)
        if not sources:
            drop_staged()
            return
        mapping = st.session_state.get("data_mapping", {})
        phase_map = st.session_state.get("data_phase_map", {})
        order = st.selectbox(
            "How to read dates such as 03/04/2024",
            list(DATE_ORDERS),
            format_func=DATE_ORDERS.get,
            key="data_date_order",
        )
        detection = _detect(sources, key, mapping, phase_map, order)
        round_key = str(abs(hash(st.session_state[DETECTED_KEY][0])))
        changed, new_phase_map = _confirm_mapping(detection, round_key, phase_map)
        new_mapping = {**mapping, **changed}
        shown = {v: p or PHASE_CHOICES[3] for v, p in detection.phase_values.items()}
        edited = bool(changed) or new_phase_map != phase_choices(
            shown, detection.phase_values, phase_map
        )
        if edited:
            st.caption(
                "You changed the mapping: check it to see what the load will make of it, or "
                "press Load to load it with your changes."
                + "".join(
                    f"\n- {plain(h)}: {r}, {ROLE_HELP.get(r, '')}" for h, r in changed.items()
                )
            )
            if st.button("Check the corrected mapping", key="data_redetect"):
                st.session_state["data_mapping"] = new_mapping
                st.session_state["data_phase_map"] = new_phase_map
                st.rerun()
        # Loaded as detected: the detection's plan is the load's (the files are not planned again),
        # and its pass starts now, while the columns are reviewed.
        planned = None if edited else detection
        staged = _staged(store, sources, planned)
        _load_form(store, datasets, sources, (new_mapping, new_phase_map, order), (planned, staged))
    except ScalegateError as error:
        st.error(plain(error))


def _staged(
    store: Store, sources: Sequence[Source], detection: Detection | None
) -> StagedLoad | None:
    """The pass of the load as detected, started once per detection; any other is dropped."""
    plan = reusable_plan(detection, None)
    key = st.session_state[DETECTED_KEY][0] if plan is not None else None
    held = st.session_state.get(_STAGED)
    if held is not None and held[0] == key:
        return held[1]
    drop_staged()
    if plan is None or sum(s.size() for s in sources) > STAGE_MAX_BYTES:
        return None
    stage = StagedLoad(store, sources, plan, ahead=handover.home_ahead(plan.catalog))
    st.session_state[_STAGED] = (key, stage)
    return stage


def drop_staged() -> None:
    """Roll back the pass run ahead, if any (nothing of it was stored)."""
    held = st.session_state.pop(_STAGED, None)
    if held is not None:
        held[1].discard()


def _load(
    store: Store,
    sources: Sequence[Source],
    choices: tuple[dict[str, Any], dict[str, Any], DateOrder],
    ahead: tuple[Detection | None, StagedLoad | None],
    form: dict[str, Any],
) -> LoadResult:
    """The staged pass committed when it can be (a new dataset, no catalog file), else a load."""
    mapping, phase_map, order = choices
    detection, staged = ahead
    catalog = form["catalog"]
    try:
        if staged is not None and catalog is None and form["target"] is None:
            result = _commit_staged(staged, form["name"], form["strict"], form["progress"])
            if result is not None:
                return result
    finally:
        drop_staged()
    return load_files(
        store,
        list(sources),
        name=form["name"],
        mapping=mapping,  # type: ignore[arg-type]
        phase_map=phase_map,  # type: ignore[arg-type]
        catalog_text=catalog.getvalue() if catalog else None,
        catalog_name=catalog.name if catalog else None,
        strict=form["strict"],
        replace=form["target"],
        date_order=order,
        progress=form["progress"],
        planned=reusable_plan(detection, catalog.getvalue() if catalog else None),
    )


def _commit_staged(
    staged: StagedLoad, name: str | None, strict: bool, progress: HeldBack | None = None
) -> LoadResult | None:
    """Commit the staged pass (None: it cannot be used) and leave Home's answer, analysed
    during the pass, for the page that asks for it."""
    result = staged.commit(name=name, strict=strict, progress=progress)
    if result is not None:
        handover.offer(cached.db_path(), result.dataset_id, staged.ahead_result)
    return result


class HeldBack:
    """The load's progress bar, holding back a click elsewhere until the load is stored.

    Streamlit stops or reruns a script at its next call when the person clicks another page
    or closes the tab. During a load that call is the progress bar's: the load, and its
    transaction, used to end there without a word (Load, then Home at once, stored nothing).
    Here the request is kept while the load runs and raised again once it is stored."""

    def __init__(self, bar: Any = None) -> None:
        self.bar = bar
        self.request: ScriptControlException | None = None

    def __call__(self, progress: Progress) -> None:
        if self.bar is not None:
            self.quietly(self.bar.progress, progress.fraction, text=progress.text())

    def quietly(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Make a Streamlit call and return what it returns; a stop or rerun it raises is kept
        for later (and the call, and every later one, returns None)."""
        if self.request is not None:
            return None
        try:
            return call(*args, **kwargs)
        except ScriptControlException as request:
            self.request = request
            return None

    def honour(self) -> None:
        if self.request is not None:
            raise self.request


def _remember(result: LoadResult, replaced: bool, done: list[dict[str, Any]]) -> None:
    """A load stored: Home's answer computed in the background at once, and the load handed to
    the session through `done` (the session's `landed` list, which the next run applies, even
    when a click elsewhere has replaced this run meanwhile)."""
    warm.dataset_in_background(result.dataset_id)  # Home's answer, while the page switches
    report = {
        "name": result.name,
        "already": result.already_loaded,
        "replaced": replaced and not result.already_loaded,
        "report": result.report.to_dict(),
        "text": result.report.to_text(),
    }
    done.append({"id": result.dataset_id, "report": report})


def _load_form(
    store: Store,
    datasets: Sequence[DatasetInfo],
    sources: Sequence[Source],
    choices: tuple[dict[str, Any], dict[str, Any], DateOrder],
    ahead: tuple[Detection | None, StagedLoad | None],
) -> None:
    by_id = {d.id: d for d in datasets}
    name_col, target_col = st.columns(2)
    name = name_col.text_input(
        "Dataset name", key="data_load_name", placeholder=default_name(sources)
    )
    target = target_col.selectbox(
        "Load as",
        [None, *by_id],
        key="data_load_target",
        format_func=lambda i: (
            "a new dataset" if i is None else f"a replacement for {by_id[i].name}"
        ),
    )
    catalog_file = st.file_uploader(
        "Optional metric catalog (TOML)", type=["toml"], key="data_load_catalog"
    )
    strict = st.checkbox("Refuse the files if any row must be set aside", key="data_load_strict")
    if not st.button(
        "Load",
        key="data_load_button",
        type="primary",
        on_click=_commit_ahead,
        args=(ahead[1], landed()),
    ):
        return
    refused = st.session_state.pop(_COMMITTED, None)  # a commit by the click went to _follow_click
    if isinstance(refused, ScalegateError):
        raise refused  # the sentence, under the page's usual error box
    form = dict(name=name.strip() or None, strict=strict, catalog=catalog_file, target=target)
    done = _load_with_progress(
        lambda progress: _load(store, sources, choices, ahead, {**form, "progress": progress}),
        len(sources),
        target is not None,
        landed(),
    )
    if done.already_loaded:
        st.rerun()  # nothing changed: the Data page says so
    st.switch_page(PAGES["home"])  # the answer on the new content, with what the load did


def _follow_click() -> None:
    """After Load's click committed the staged pass: Home, the answer on the new content (the
    Data page for content already stored, which its report says)."""
    done = st.session_state.get(_COMMITTED)
    if isinstance(done, LoadResult):
        del st.session_state[_COMMITTED]
        if not done.already_loaded:
            st.switch_page(PAGES["home"])


def _commit_ahead(staged: StagedLoad | None, done: list[dict[str, Any]]) -> None:
    """Load's click, before the page runs again: a staged pass that is over is committed here.
    A callback makes no Streamlit call, so a click elsewhere right after Load cannot cut it
    short; the session knows the new dataset whatever page comes next. A pass about to end is
    waited for here (_over_soon). Anything else (a longer pass, a replacement, a catalog file)
    loads in the page's run, with progress."""
    state = st.session_state
    if staged is None or state.get("data_load_target") is not None:
        return
    if state.get("data_load_catalog") is not None or not _over_soon(staged):
        return
    name = (state.get("data_load_name") or "").strip() or None
    try:
        result = _commit_staged(staged, name, bool(state.get("data_load_strict")))
    except ScalegateError as error:
        state[_COMMITTED] = error
        return
    finally:
        drop_staged()
    if result is not None:
        _remember(result, replaced=False, done=done)
        state[_COMMITTED] = result


def _over_soon(staged: StagedLoad) -> bool:
    """Whether the pass is over, or is after a wait of QUICK seconds at most while the pace of
    its read says it will be over by then (or cannot say yet): a wait that short is shown by the
    button, not by a progress bar, which would have the browser redraw the page while the pass
    needs the machine. A pass that will take longer is left at once to the page's run."""
    end = time.monotonic() + QUICK
    while not staged.wait(0.05):
        eta, left = staged.eta(), end - time.monotonic()
        if left <= 0 or (eta is not None and eta > left):
            return False
    return True


def _load_with_progress(
    load: Callable[[HeldBack], LoadResult], files: int, replaces: bool, done: list[dict[str, Any]]
) -> LoadResult:
    """`load` in the page's run, its stages shown; a click elsewhere meanwhile is held back
    until the load is stored and the session knows it, from the first Streamlit call on."""
    held = HeldBack()
    status = held.quietly(st.status, "Loading…", expanded=True)
    if status is not None:
        held.quietly(status.write, f"Reading {files} file(s) and checking every row…")
        held.bar = held.quietly(status.progress, 0.0, text="Starting…")
    try:
        result = load(held)
    except ScalegateError:
        if status is not None:
            label = "Nothing was loaded: the stored data is unchanged."
            held.quietly(status.update, label=label, state="error")
        raise
    _remember(result, replaced=replaces, done=done)
    if status is not None:
        held.quietly(status.write, f"Stored {result.report.rows_loaded:,} rows in one transaction.")
        held.quietly(status.update, label="Loaded.", state="complete")
    held.honour()  # a click elsewhere during the load: go there now that it is stored
    return result
