"""Models shared across Streamlit sessions, loaded once per process (``st.cache_resource``).

The per-stream networks (landmarker, YuNet, passive CNN) belong to each
``VerificationSession`` and SFace to the whole process
(``liveness.matching.shared_embedder``); document enrolment is shared here,
behind a lock because OpenCV's YuNet object is not thread-safe.
"""

from __future__ import annotations

import threading

import numpy as np
import streamlit as st

from liveness.detection import FaceDetector
from liveness.matching import EnrolledFace, enroll_face, shared_embedder
from liveness.policy import Policy


class DocumentEnroller:
    def __init__(self, detection_score: float):
        self._detector = FaceDetector(score_threshold=detection_score)
        self._embedder = shared_embedder()
        self._lock = threading.Lock()

    def enroll(self, image: np.ndarray, policy: Policy) -> EnrolledFace:
        with self._lock:
            return enroll_face(image, policy, detector=self._detector, embedder=self._embedder)


@st.cache_resource(show_spinner=False)
def document_enroller(detection_score: float) -> DocumentEnroller:
    return DocumentEnroller(detection_score)
