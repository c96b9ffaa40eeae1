"""Models shared across Streamlit sessions, loaded once per process (``st.cache_resource``).

The per-stream networks (landmarker, YuNet, passive CNN) belong to each
``VerificationSession`` and SFace to the whole process
(``liveness.matching.shared_embedder``); document enrolment is shared here.
"""

from __future__ import annotations

import streamlit as st

from liveness.matching import DocumentEnroller


@st.cache_resource(show_spinner=False)
def document_enroller(detection_score: float) -> DocumentEnroller:
    return DocumentEnroller(detection_score)
