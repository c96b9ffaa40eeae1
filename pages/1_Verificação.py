"""Customer page: ID document, then the live check over WebRTC, then the verdict."""

import ui  # noqa: F401  (engine first: native load order)

import queue
import time

import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from liveness.config import settings
from liveness.live import LiveCheck
from liveness.store import LockedOut
from liveness.store.api_sessions import CaptureRefused
from ui.app_config import app_config
from ui.capture import capture_from_link
from ui.cases import customer_ref, open_grant, record, store
from ui.common import setup_page, tr
from ui.document import capture_document, uploaded_document
from ui.stream import live_stream_key
from ui.verdict_view import show_verdict

CHECK_MARK = "streaming"  # query parameter set while a live check streams


def show_speed(line, check: LiveCheck) -> None:
    speed = check.speed()
    if speed is not None:
        line.caption(tr("verify_speed", fps=speed.analysed.fps, ms=speed.analysed.mean_ms,
                        p95=speed.analysed.p95_ms, shown_fps=speed.shown.fps,
                        latency=speed.shown.mean_ms, latency_p95=speed.shown.p95_ms))


capture = capture_from_link()  # a bank's API session: its document, no scores, one attempt
lang = setup_page("verify_title", "🪪", customer_link=capture is not None)
config = app_config()
show_scores = not settings().production and capture is None

# -- 1. document -----------------------------------------------------------------------------
if isinstance(capture, CaptureRefused):
    st.error(tr(f"capture_{capture.reason}"))
    st.stop()
document = capture_document(capture, config) if capture else uploaded_document(config)

# -- 2. live check ---------------------------------------------------------------------------
st.subheader(tr("verify_live_title"))
live_help = st.empty()  # what to do, once the check is known

# The URL marks a check that is streaming: a page that finds the mark but no check of its own
# was served by a server that lost it (a replica died, the browser reconnected to another).
if "live_check" not in st.session_state and CHECK_MARK in st.query_params:
    st.warning(tr("verify_connection_lost"))
    del st.query_params[CHECK_MARK]

# One LiveCheck per document and per attempt: a new document or "new check" starts over.
check_key = (st.session_state.get("document_digest"), st.session_state.get("attempt", 0))
if st.session_state.get("live_check_key") != check_key:
    previous = st.session_state.get("live_check")
    if previous is not None:
        previous.close()
    try:
        grant = capture.grant() if capture else open_grant(customer_ref())
    except LockedOut as error:
        st.error(tr("verify_locked_out", until=error.until.astimezone().strftime("%H:%M")))
        st.stop()
    case_store = store()
    st.session_state.live_check = LiveCheck(
        document, config.policy, config.fixed_steps, lang, show_scores,
        session_id=grant.session_id, nonce=grant.nonce,
        on_verdict=lambda session, verdict: record(case_store, session.id, session.nonce,
                                                   verdict.to_dict(), session.evidence()))
    st.session_state.live_check_key = check_key
check: LiveCheck = st.session_state.live_check
check.lang = lang  # the overlay follows a language switch mid-stream
live_help.markdown(tr("verify_live_help" if check.verdict is None else
                      "verify_interrupted" if "stopped_early" in check.verdict.reasons else "verify_camera_off"))

ctx = webrtc_streamer(
    key=live_stream_key(),
    mode=WebRtcMode.SENDRECV,
    rtc_configuration={"iceServers": config.ice_servers},
    media_stream_constraints={"video": {"width": 640, "height": 480}, "audio": False},
    video_frame_callback=check.on_frame,
    on_video_ended=check.finish,
    async_processing=True,
    # A decided check turns the customer's camera off and hides START: "new check" opens another.
    desired_playing_state=False if check.verdict is not None else None,
    translations={name: tr(f"webrtc_{name}") for name in
                  ("start", "stop", "select_device", "media_api_not_available",
                   "device_ask_permission", "device_not_available", "device_access_denied")},
)

# The steps are not listed ahead: each is shown only when its prompt comes up (a random
# delay after the previous one), so a recording or an operator cannot prepare for it.
progress = st.empty()
speed_line = st.empty()

if ctx.state.playing and check.verdict is None:
    st.query_params[CHECK_MARK] = "1"
    progress.info(tr("verify_waiting_frames"))
    drawn, speed_drawn_at = None, 0.0
    while ctx.state.playing:
        try:
            result = check.results.get(timeout=1.0)
        except queue.Empty:  # no frame yet
            continue
        status = result.challenge
        remaining = None if status.remaining_s is None else round(status.remaining_s)
        # Redraw only what changed: every redraw costs the server and the customer's
        # browser a page update, and the video overlay already moves with every frame.
        if (status.instruction, status.index, status.finished, remaining) != drawn:
            drawn = (status.instruction, status.index, status.finished, remaining)
            with progress.container():  # instruction and bar replace the previous ones
                st.markdown(f"**{tr(status.instruction)}**")
                if status.prompting:
                    st.progress(status.index / status.total,
                                text=tr("verify_step_of", index=status.index + 1, total=status.total)
                                + (f" · {tr('verify_remaining', seconds=remaining)}"
                                   if remaining is not None else ""))
            if status.prompting:
                check.prompt_on_page(status.index)  # the window counts from whichever showed it first
        if show_scores and time.monotonic() - speed_drawn_at >= 1.0:
            show_speed(speed_line, check)
            speed_drawn_at = time.monotonic()
        if result.verdict is not None:
            st.rerun()  # the result is drawn by a run that turns the camera off
elif not ctx.state.playing and check.started:
    check.finish()  # the customer stopped the camera: decide with what we have

if CHECK_MARK in st.query_params and (check.verdict is not None or not ctx.state.playing):
    del st.query_params[CHECK_MARK]

# -- 3. verdict ------------------------------------------------------------------------------
if check.verdict is not None:
    progress.empty()
    st.subheader(tr("verify_result_title"))
    show_verdict(check.verdict, show_scores=show_scores, customer=True)
    check.wait_recorded(10)
    if check.record_error is not None:
        st.error(tr("verify_not_recorded", error=check.record_error))
    elif check.recorded is not None and show_scores:
        st.caption(tr("verify_case_saved", case_id=check.recorded.id))
    if show_scores:
        show_speed(speed_line, check)
    if capture:
        st.info(tr("capture_done"))
    elif st.button(tr("verify_again")):
        st.session_state.attempt = st.session_state.get("attempt", 0) + 1
        st.rerun()
