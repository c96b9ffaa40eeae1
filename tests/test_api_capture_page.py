"""The customer page opened from a capture link (``?session=<token>``), under AppTest.

A valid link shows the bank's document as received (no upload) in the
session's language; a reused, forged or expired link is refused in plain
words. The live part is driven in Chromium by tests/test_api_browser.py.
"""

from __future__ import annotations

from datetime import timedelta

import cv2
import pytest

from liveness.media import iter_video
from liveness.store import api_clients, api_sessions, open_store, sessions
from test_app_pages import CLIP, app_store, no_webrtc_session, page  # noqa: F401  (app_store: the fixture)


@pytest.fixture(scope="module")
def client(app_store):
    return api_clients.create_client(app_store, "bank", ["sessions:write"]).client


def _capture_token(store, client, customer: str, locale: str = "pt-BR") -> str:
    frame = next(f for f in iter_video(CLIP, max_frames=20) if f.index == 15)
    document = cv2.imencode(".jpg", frame.image)[1].tobytes()
    grant = sessions.open_session(store, customer)
    _, token = api_sessions.open_api_session(store, client.id, grant, customer, document, None, None, locale,
                                             "live", client.actor)
    return token


def _open(token: str):
    at = page("verify")
    at.query_params["session"] = token
    with no_webrtc_session():
        return at.run()


def _texts(at) -> str:
    return " ".join(e.value for kind in (at.success, at.error, at.info, at.markdown) for e in kind)


def test_capture_link_once_in_its_language_then_refused(app_store, client):
    token = _capture_token(app_store, client, "cust-page", locale="en")
    at = _open(token)
    assert not at.exception
    assert "Your bank has already sent the photo of your document." in _texts(at)
    assert not at.get("file_uploader") and not at.get("camera_input")  # no document upload
    again = _open(token)
    # A new browser session: the genuine link's refusal still speaks the session's language.
    assert "This verification link was already used" in _texts(again)


def test_forged_and_expired_links_refused(app_store, client):
    forged = _open(_capture_token(app_store, client, "cust-forged")[:-4] + "AAAA")
    assert "Link de verificação inválido" in _texts(forged)
    past = open_store(str(app_store.engine.url.render_as_string(hide_password=False)),
                      clock=lambda: app_store.now() - timedelta(minutes=20))
    expired, expired_en = (_open(_capture_token(past, client, f"cust-expired-{locale}", locale))
                           for locale in ("pt-BR", "en"))
    past.close()
    assert "Este link de verificação expirou" in _texts(expired)
    assert "This verification link has expired" in _texts(expired_en)
