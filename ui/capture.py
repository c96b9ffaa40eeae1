"""The customer page opened from an API session's capture link: ``?session=<token>``.

The token is claimed once per Streamlit session (its reruns reuse the
claim); a second browser, a reload after the claim, an expired or forged
token get ``CaptureRefused`` with its reason, for a clear message.
"""

from __future__ import annotations

import streamlit as st

from liveness.store.api_sessions import Capture, CaptureRefused, claim_capture

from .cases import store
from .common import set_lang

_CLAIM = "api_capture"  # (token, Capture | CaptureRefused) of this browser session


def capture_from_link() -> Capture | CaptureRefused | None:
    """This session's capture, its refusal, or None without ``?session=``. Call before ``setup_page``:
    the first claim sets the page's language to the session's locale (a forged link's is unknown)."""
    token = st.query_params.get("session")
    if not token:
        return None
    claimed = st.session_state.get(_CLAIM)
    if claimed is not None and claimed[0] == token:
        return claimed[1]
    try:
        result = claim_capture(store(), token)
    except CaptureRefused as refused:
        result = refused
    if result.lang:  # a genuine link, even refused, speaks its session's language
        set_lang(result.lang)
    st.session_state[_CLAIM] = (token, result)
    return result
