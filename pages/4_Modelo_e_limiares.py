"""AI team page: the shipped models' evaluation, a threshold what-if on labelled cases, new policy versions."""

import ui  # noqa: F401  (engine first: native load order)

import json

import pandas as pd
import streamlit as st

from liveness.config import PROJECT_ROOT
from liveness.store import PermissionDenied
from liveness.store import audit, policies, reviews
from liveness.store.policies import PolicyVersionExists
from ui.cases import store
from ui.charts import show_error_rates
from ui.common import setup_page, tr
from ui.login import require_user
from ui.model_info import evaluation_tables, evaluation_title, models_table, plot_caption
from ui.whatif import CONTROLS, passive_sweep, rates, redecide, replay_key

PASSIVE_DIR = PROJECT_ROOT / "models" / "passive"

setup_page("thresholds_title", "📈")
user = require_user("admin")
current = policies.current_policy(store()).policy

# -- evaluation of the shipped models -----------------------------------------------------------
st.subheader(tr("thresholds_models"))
st.dataframe(models_table(evaluation=True), hide_index=True, width="stretch")
# One folder per evaluation (report.json + ROC/DET/histogram PNGs), see MODEL_CARD.md.
evaluations = sorted(path.parent for path in PASSIVE_DIR.glob("evaluation/*/report.json"))
if not evaluations:
    st.info(tr("thresholds_no_evaluation"))
for folder in evaluations:
    st.markdown(f"**{evaluation_title(folder.name)}**")
    for caption, table in evaluation_tables(json.loads((folder / "report.json").read_text())):
        if caption:
            st.caption(caption)
        st.dataframe(table, hide_index=True)
    columns = st.columns(3)
    for index, plot in enumerate(sorted(folder.glob("*.png"))):
        columns[index % 3].image(str(plot), caption=plot_caption(plot.stem), width="stretch")
if (PASSIVE_DIR / "MODEL_CARD.md").is_file():
    with st.expander("MODEL_CARD.md"):
        st.markdown((PASSIVE_DIR / "MODEL_CARD.md").read_text())

# -- what-if on labelled cases ------------------------------------------------------------------
st.subheader(tr("thresholds_whatif"))
labelled = reviews.labelled_cases(store())


def control(field, label, low, high, step):
    return st.slider(tr(label), low, high, float(getattr(current, field)), step, key=f"whatif_{field}")


values = {spec[0]: control(*spec) for spec in CONTROLS[:2]}
with st.expander(tr("thresholds_more")):
    values.update({spec[0]: control(*spec) for spec in CONTROLS[2:]})
candidate = current.replace(**values)
if not labelled:
    st.info(tr("thresholds_no_labels"))
else:
    key = replay_key(labelled, candidate)
    if st.session_state.get("whatif_replay_key") != key:  # replays are the costly part
        st.session_state.update(whatif_replay_key=key, whatif_redecided=redecide(labelled, candidate))
    redecided = st.session_state.whatif_redecided
    result = rates(redecided, candidate)
    a, b, c, d = st.columns(4)
    a.metric("APCER", "—" if result.apcer is None else f"{result.apcer:.1%}", help=tr("thresholds_apcer_help"))
    b.metric("BPCER", "—" if result.bpcer is None else f"{result.bpcer:.1%}", help=tr("thresholds_bpcer_help"))
    c.metric(tr("thresholds_labelled"), f"{result.genuine} / {result.attacks}", help=tr("thresholds_labelled_help"))
    d.metric(tr("thresholds_changed"), result.changed)
    st.caption(tr("thresholds_exactness", exact=result.exact, diverged=result.diverged,
                  score_only=result.score_only))
    show_error_rates([(th, r.apcer, r.bpcer) for th, r in passive_sweep(redecided, candidate)],
                     candidate.passive_threshold)

# -- save as a new policy version ---------------------------------------------------------------
st.subheader(tr("thresholds_save"))
with st.form("save_policy"):
    version = st.text_input(tr("policy_version"), value=policies.next_version(store()))
    note = st.text_area(tr("queue_note"), max_chars=audit.MAX_NOTE)
    save = st.form_submit_button(tr("thresholds_save_button"), type="primary")
if save:
    try:
        record = policies.save_policy(store(), candidate.replace(version=version.strip()), user, note)
    except audit.NoteRequired:
        st.error(tr("note_required", max=audit.MAX_NOTE))
    except (PolicyVersionExists, PermissionDenied, ValueError) as error:
        st.error(str(error))
    else:
        st.success(tr("thresholds_saved", version=record.version))
st.dataframe(pd.DataFrame([{tr("policy_version"): r.version, "digest": r.policy.digest(),
                            **{field: getattr(r.policy, field) for field, *_ in CONTROLS},
                            "by": r.created_by or "—", "note": r.note}
                           for r in policies.policy_history(store())]), hide_index=True, width="stretch")
