"""Review queue: cases sent to review, their evidence, and the reviewer's decision (a label)."""

import ui  # noqa: F401  (engine first: native load order)

import streamlit as st

from liveness.store import AlreadyDecided, CaseNotFound, EvidenceError, PermissionDenied
from liveness.store import audit, cases, reviews
from ui.cases import store
from ui.charts import key_frame_caption, show_timeline
from ui.common import setup_page, tr
from ui.login import require_user
from ui.verdict_view import show_scores_table

setup_page("queue_title", "🗂️")
user = require_user("reviewer", "admin")

decided = st.session_state.pop("queue_last_decision", None)
if decided:  # kept across the rerun: the queue may be empty now
    st.success(decided)

queue = reviews.review_queue(store(), limit=200)
st.caption(tr("queue_count", count=len(queue)))
if not queue:
    st.success(tr("queue_empty"))
    st.stop()


def case_label(case: cases.CaseSummary) -> str:
    when = case.created_at.astimezone().strftime(tr("date_time_format"))
    return f"{when} · {case.customer_ref} · " + ", ".join(tr(reason) for reason in case.reasons)


# Keyed: a label that changes with the language would otherwise reset the choice to the first case.
case = st.selectbox(tr("queue_case"), queue, format_func=case_label, key="queue_case")

summary, decision = st.columns([2, 1])
with summary:
    st.markdown(f"**{tr('reasons')}**")
    st.markdown("\n".join(f"- {tr(reason)}" for reason in case.reasons) or "—")
    st.markdown(f"**{tr('scores')}**")
    show_scores_table(case.scores, case.policy_version, case.policy_digest, case.model_versions)

with decision:
    with st.form(f"decide-{case.id}"):
        outcome = st.radio(tr("decision"), ["approve", "reject"], format_func=lambda o: tr(f"queue_{o}"))
        note = st.text_area(tr("queue_note"), max_chars=audit.MAX_NOTE)
        submitted = st.form_submit_button(tr("queue_submit"), type="primary")
    if submitted:
        try:
            reviews.decide(store(), user, case.id, outcome, note)
        except audit.NoteRequired:
            st.error(tr("note_required", max=audit.MAX_NOTE))
        except (ValueError, AlreadyDecided, CaseNotFound, PermissionDenied) as error:
            st.error(str(error))
        else:
            st.session_state.queue_last_decision = tr("queue_decided", outcome=tr(f"queue_{outcome}"))
            st.rerun()

st.subheader(tr("queue_evidence", ref=case.customer_ref))
try:
    evidence = cases.load_evidence(store(), case.id, viewer=user)  # audited: who saw which evidence
except EvidenceError as error:
    st.warning(str(error))
    st.stop()
if evidence.key_frames_jpeg:
    columns = st.columns(4)
    for index, (jpeg, label) in enumerate(zip(evidence.key_frames_jpeg, evidence.key_frame_labels)):
        columns[index % 4].image(jpeg, caption=key_frame_caption(label) if label else None, width="stretch")
show_timeline(evidence.series, evidence.timestamps, evidence.timeline, case.reasons)
