"""The API's store functions in-process, on SQLite and PostgreSQL: retention of API sessions and deliveries."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
import cv2

from liveness.store import api_clients, api_sessions, audit, cases, retention, sessions, webhooks
from liveness.store.api_schema import ApiSession, WebhookDelivery
from liveness.store.schema import VerificationSession
from liveness.store.testing import *  # noqa: F403  (the store fixtures)
from liveness.store.testing import evidence_for, verdict_for


def _api_session(store, client, customer: str, callback: str | None = None) -> str:
    grant = sessions.open_session(store, customer)
    document = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    view, _ = api_sessions.open_api_session(store, client.id, grant, customer, document, None, callback,
                                            "pt-BR", "live", client.actor)
    return view.session_id


def test_purge_drops_unused_api_sessions_and_finished_deliveries(store, clock):
    client = api_clients.create_client(store, "bank", ["sessions:write"]).client
    unused = _api_session(store, client, "cust-unused")
    done = _api_session(store, client, "cust-done", callback="http://127.0.0.1:9/hook")
    capture = api_sessions.claim_capture(store, api_sessions.capture_token(
        store, done, store.now() + timedelta(minutes=5)))
    ticket = sessions.consume_session(store, capture.session_id, capture.nonce)
    cases.record_case(store, ticket, verdict_for(done, "accepted"), evidence_for(1))
    assert webhooks.enqueue_due(store) == 1 and webhooks.enqueue_due(store) == 0  # one event per change
    [due] = webhooks.claim_due(store)
    webhooks.record_attempt(store, due.id, 200, None, webhooks.RetryPolicy())
    assert api_sessions.settle(store) == 1  # the recorded session's document is dropped at once

    clock.advance(days=200)
    retention.purge(store, timedelta(days=180), actor="test")
    with store.read() as session:
        assert session.get(ApiSession, unused) is None and session.get(VerificationSession, unused) is None
        assert session.get(ApiSession, done) is not None  # it has a case: kept with it
        assert session.query(WebhookDelivery).count() == 0
    assert api_sessions.settle(store) == 0


def test_retention_drops_expired_sessions_document_photos_without_the_api(store, clock):
    """The API's loop settles documents only while it runs; the purge (a cron job) must too."""
    client = api_clients.create_client(store, "bank", ["sessions:write"]).client
    late = _api_session(store, client, "cust-late")
    waiting = _api_session(store, client, "cust-waiting")
    clock.advance(minutes=1)
    assert retention.purge(store, timedelta(days=180), actor="test").documents_dropped == 0  # both still usable

    with store.write() as session:  # only ``late`` has expired by now
        session.get(ApiSession, late).expires_at = store.now() - timedelta(seconds=1)
    report = retention.purge(store, timedelta(days=180), actor="test")
    assert report.documents_dropped == 1
    with store.read() as session:
        assert session.get(ApiSession, late).document_sealed is None
        assert session.get(ApiSession, waiting).document_sealed is not None
    [event] = [e for e in audit.entries(store) if e.action == "api_session.documents_dropped"]
    assert (event.actor, event.subject) == ("test", "api_sessions:1")
    assert retention.purge(store, timedelta(days=180), actor="test").documents_dropped == 0
    assert audit.verify_chain(store).ok


def test_webhooks_go_only_to_the_hosts_the_operator_named(store, monkeypatch):
    """An API key alone must not make the server call any address (SSRF): LIVENESS_WEBHOOK_HOSTS."""
    import httpx

    from api.config import callback_refusal
    from api.models import SessionFields
    from api.webhooks import deliver

    monkeypatch.delenv("LIVENESS_WEBHOOK_HOSTS", raising=False)
    assert callback_refusal("http://127.0.0.1:9/hook", production=False) is None  # demo: local receivers
    assert "LIVENESS_WEBHOOK_HOSTS" in callback_refusal("https://hooks.bank.example/x", production=True)
    assert "https" in callback_refusal("http://hooks.bank.example/x", production=True)
    monkeypatch.setenv("LIVENESS_WEBHOOK_HOSTS", "bank.example, partner.example.")
    for allowed in ("https://bank.example/x", "https://hooks.bank.example:8443/x", "https://PARTNER.example/x"):
        assert callback_refusal(allowed, production=True) is None, allowed
    for refused in ("https://169.254.169.254/latest", "https://evilbank.example/x", "https://bank.example.evil.io/x",
                    "https://127.0.0.1:5432/", "https://bank.example@evil.io/x"):
        assert "not one of LIVENESS_WEBHOOK_HOSTS" in callback_refusal(refused, production=True), refused
    with pytest.raises(ValueError, match="not one of LIVENESS_WEBHOOK_HOSTS"):  # refused when the session opens
        SessionFields.model_validate({"customer_ref": "cust-ssrf", "callback_url": "http://10.0.0.5/admin"})

    # Refused again at delivery (the list may change after a session opened): nothing is sent.
    client = api_clients.create_client(store, "bank", ["sessions:write"]).client
    done = _api_session(store, client, "cust-hook", callback="https://bank.example/hook")
    capture = api_sessions.claim_capture(store, api_sessions.capture_token(
        store, done, store.now() + timedelta(minutes=5)))
    ticket = sessions.consume_session(store, capture.session_id, capture.nonce)
    cases.record_case(store, ticket, verdict_for(done, "accepted"), evidence_for(1))
    webhooks.enqueue_due(store)
    [due] = webhooks.claim_due(store)
    monkeypatch.setenv("LIVENESS_WEBHOOK_HOSTS", "partner.example")
    sent = []
    with httpx.Client(transport=httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))) as http:
        assert deliver(store, http, due, webhooks.RetryPolicy()) is False
    assert sent == []
    [attempt] = webhooks.deliveries(store, done)[0].attempt_log
    assert attempt["status"] is None and "not one of LIVENESS_WEBHOOK_HOSTS" in attempt["error"]


def test_a_session_that_expires_without_a_case_sends_one_expired_event(store, clock):
    client = api_clients.create_client(store, "bank", ["sessions:write"]).client
    waiting = _api_session(store, client, "cust-never-came", callback="http://127.0.0.1:9/hook")
    _api_session(store, client, "cust-no-callback")
    assert webhooks.enqueue_due(store) == 0  # not expired yet
    clock.advance(days=1)
    assert webhooks.enqueue_due(store) == 1 and webhooks.enqueue_due(store) == 0  # once, and only with a callback
    [due] = webhooks.claim_due(store)
    body = json.loads(due.body)
    assert due.event == body["type"] == "session.expired"
    assert body["data"]["session_id"] == waiting and body["data"]["status"] == "expired"
