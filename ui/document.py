"""Step 1 of the customer page: the ID document, uploaded or photographed, or sent by the bank."""

from __future__ import annotations

import hashlib

import cv2
import streamlit as st

from liveness.matching import EnrolledFace
from liveness.media import MediaError, read_image
from liveness.store.api_sessions import Capture

from .app_config import AppConfig
from .common import media_error_text, tr
from .resources import document_enroller


def _enrolled(digest: str, data: bytes, config: AppConfig) -> EnrolledFace:
    """The document's face, enrolled once per document (kept in the session across reruns).
    Raises MediaError for a file that is no usable image."""
    if st.session_state.get("document_digest") != digest:
        image = read_image(data)
        enrolled = document_enroller(config.policy.detection_score).enroll(image, config.policy)
        st.session_state.update(document_digest=digest, document=enrolled, document_image=image)
    return st.session_state["document"]


def _forget_document() -> None:
    st.session_state.update(document_digest=None, document=None, document_image=None)


def uploaded_document(config: AppConfig) -> EnrolledFace | None:
    """The upload or camera widgets, the document with its faces boxed, and whether one was found."""
    st.subheader(tr("verify_document_title"))
    upload_tab, camera_tab = st.tabs([tr("verify_document_upload"), tr("verify_document_camera")])
    with upload_tab:
        uploaded = st.file_uploader(tr("verify_document_upload"), type=["jpg", "jpeg", "png", "webp"],
                                    key="document_upload", label_visibility="collapsed")
    with camera_tab:
        photographed = st.camera_input(tr("verify_document_camera"), key="document_camera",
                                       label_visibility="collapsed")
    document_file = uploaded or photographed
    if document_file is None:  # removed, or dropped with the widgets when the customer left the page
        _forget_document()  # a check now goes on without one, as the page says
        st.info(tr("verify_document_needed"))
        return None
    data = document_file.getvalue()
    try:
        document = _enrolled(hashlib.sha256(data).hexdigest(), data, config)
    except MediaError as error:  # as if none was sent: the customer may send another, or go on without
        _forget_document()  # not an earlier one
        st.error(media_error_text(error))
        return None
    shown = st.session_state["document_image"].copy()
    for face in document.all_faces:
        x, y, w, h = (int(v) for v in face.box)
        color = (80, 200, 80) if face is document.face else (60, 60, 230)
        cv2.rectangle(shown, (x, y), (x + w, y + h), color, max(2, shown.shape[1] // 300))
    column, _ = st.columns([1, 2])
    column.image(shown, channels="BGR", width="stretch")
    if document.ok:
        column.success(tr("verify_document_face_found"))
    else:
        column.error(tr(f"document_{document.reason}"))
    return document


def capture_document(capture: Capture, config: AppConfig) -> EnrolledFace:
    """The document the bank sent with the API session (checked there): no upload, nothing shown but a line."""
    st.subheader(tr("verify_document_title"))
    st.success(tr("capture_document_received"))
    try:
        return _enrolled(f"session:{capture.session_id}", capture.document_jpeg, config)
    except MediaError as error:  # the API checked it when the bank sent it: not the customer's to fix
        st.error(media_error_text(error))
        st.stop()
