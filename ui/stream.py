"""The key of the customer's webrtc stream, and the one streamlit-webrtc check it must skip."""

from __future__ import annotations

import streamlit as st

from .common import page_visit


def live_stream_key() -> str:
    """The live check's stream key: one per page visit and attempt; call before each render.

    It does not change with the document: the upload's rerun draws the document's
    result before the stream, and a customer quick to press START would press it on
    a stream about to be replaced. A new document gets a new engine session; the
    stream, and its frames, go on to it.

    streamlit-webrtc 0.79 resets a context (stopping its worker) when the session's
    script_run_count moved by more than one since the last render, taking that for a
    page change. But the count is bumped on the event loop when a finished run's
    message is sent, and the next run may read it before then (two cores, a browser
    starting): the following render then looks like one that skipped the component,
    and the worker that has just answered the offer is stopped; the browser waits for
    its answer forever. The check is turned off for this key; page changes are told
    apart by the key itself (a new visit, a new key).
    """
    key = f"verification-{st.session_state.get('attempt', 0)}-{page_visit()}"
    context = st.session_state.get(key)
    if context is not None:
        context._last_rendered_run_count = None  # None: streamlit-webrtc skips the check
    return key
