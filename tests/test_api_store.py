"""The API's store functions in-process, on SQLite and PostgreSQL: retention of API sessions and deliveries."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import cv2

from liveness.store import api_clients, api_sessions, cases, retention, sessions, webhooks
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
