"""Reviewer page: run the engine over a recorded video and optionally save it as a case."""

import ui  # noqa: F401  (engine first: native load order)

import tempfile
from pathlib import Path

import streamlit as st

from liveness.challenge import Step
from liveness.challenge_script import ScriptError, load_script, script_key
from liveness.config import settings
from liveness.media import VIDEO_FILE_TYPES, MediaError, read_image
from liveness.pipeline import verify_video
from liveness.store import LockedOut, SessionRefused
from ui.app_config import app_config
from ui.cases import open_grant, record, store
from ui.charts import show_timeline
from ui.common import lang as current_lang, media_error_text, setup_page, tr
from ui.login import require_user
from ui.verdict_view import show_verdict

setup_page("replay_title", "🎞️")
require_user("reviewer", "admin")
policy = app_config().policy

with st.form("replay"):
    video = st.file_uploader(tr("replay_video"), type=list(VIDEO_FILE_TYPES))
    document = st.file_uploader(tr("replay_document"), type=["jpg", "jpeg", "png", "webp"])
    script_text = st.text_area(tr("replay_script"), help=tr("replay_script_help"))
    steps = st.multiselect(tr("replay_steps"), list(Step), default=[Step.SMILE],
                           format_func=lambda step: tr(f"step_{step.value}"))
    run = st.form_submit_button(tr("replay_run"), type="primary")

if run:
    if video is None or not (steps or script_text.strip()):
        st.error(tr("replay_need_video"))
        st.stop()
    try:
        document_image = read_image(document.getvalue()) if document is not None else None
        script = load_script(script_text, script_key()) if script_text.strip() else None
    except MediaError as error:
        st.error(media_error_text(error))
        st.stop()
    except ScriptError as error:
        st.error(str(error))
        st.stop()
    bar = st.progress(0.0, text=tr("replay_running"))

    def show_progress(done: int, total: int | None) -> None:
        if total:
            bar.progress(min(done / total, 1.0), text=tr("replay_running"))

    # Plain files only while the engine runs: the video and its annotated copy show faces.
    work_dir = settings().var_dir / "replay"
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        source = Path(tmp) / "upload"
        source.write_bytes(video.getvalue())
        try:
            outcome = verify_video(source, document=document_image, steps=steps, policy=policy,
                                   progress=show_progress, annotated_out=Path(tmp) / "annotated.mp4",
                                   lang=current_lang(), show_scores=True, script=script)
        except MediaError as error:
            bar.empty()
            st.error(media_error_text(error))
            st.stop()
        annotated = outcome.annotated_path.read_bytes() if outcome.annotated_path else None
    bar.empty()
    st.session_state.replay_result = {"outcome": outcome, "annotated": annotated, "case": None}

replay = st.session_state.get("replay_result")
if replay is not None:
    outcome = replay["outcome"]
    verdict_column, video_column = st.columns([1, 1])
    with verdict_column:
        show_verdict(outcome.verdict, show_scores=True)
        st.caption(tr("replay_frames", frames=outcome.frames_analysed, seconds=outcome.elapsed_s))
    with video_column:
        if replay["annotated"]:
            st.video(replay["annotated"], format="video/mp4")
    show_timeline(outcome.evidence.series, outcome.evidence.series.get("t", []), outcome.evidence.timeline,
                  outcome.verdict.reasons)

    st.subheader(tr("replay_save_title"))
    if replay["case"] is not None:
        st.success(tr("verify_case_saved", case_id=replay["case"].id))
    else:
        with st.form("save_case"):
            customer = st.text_input(tr("replay_customer_ref"), help=tr("replay_customer_ref_help"))
            save = st.form_submit_button(tr("replay_save"))
        if save:
            if not customer.strip():
                st.error(tr("replay_customer_ref_required"))
                st.stop()
            try:
                grant = open_grant(customer.strip())
                # verify_video runs its own engine session; the case belongs to the store's
                # session for this replay, so the verdict is filed under that id.
                verdict = {**outcome.verdict.to_dict(), "session_id": grant.session_id,
                           "engine_session_id": outcome.verdict.session_id, "source": "replay"}
                replay["case"] = record(store(), grant.session_id, grant.nonce, verdict, outcome.evidence)
            except (LockedOut, SessionRefused, ValueError) as error:
                st.error(tr("verify_not_recorded", error=error))
                st.stop()
            st.rerun()
