"""Webhooks through the real server: signed, retried after a forced failure, one delivery per event.

The receiver on loopback checks signatures with the README's own
``verify_webhook`` and answers 500 to the first request; the case is recorded
and decided in-process with the store functions the customer page and the
review page call.
"""

from __future__ import annotations

import json
import time

import httpx

from api_harness import api_server, bearer, document_jpeg, readme_receiver, webhook_receiver
from liveness.store import api_clients, api_sessions, auth, cases, reviews, sessions, webhooks
from liveness.store.testing import evidence_for, verdict_for


def test_one_signed_delivery_per_event_after_a_failure_and_retry(tmp_path):
    with api_server(f"sqlite:///{tmp_path / 'api.db'}", tmp_path) as server:
        store = server.store()
        client = api_clients.create_client(store, "bank", ["sessions:write", "sessions:read"])
        with webhook_receiver(client.webhook_secret, fail_first=1) as receiver, \
                document_jpeg(tmp_path).open("rb") as document:
            created = httpx.post(server.url + "/v1/sessions", headers=bearer(client.api_key), timeout=30,
                                 data={"customer_ref": "cust-hook", "callback_url": receiver.url},
                                 files={"document": document}).json()
            session_id = created["session_id"]
            capture = api_sessions.claim_capture(store, created["capture_url"].split("?session=")[1])
            ticket = sessions.consume_session(store, capture.session_id, capture.nonce)
            case = cases.record_case(store, ticket, verdict_for(session_id, "review"), evidence_for(3))

            completed = receiver.wait_for(1, timeout_s=30)
            assert len(completed) == 1, receiver.requests
            assert [r["signed"] for r in receiver.requests] == [True, True]  # the failed try, then the retry
            assert len({r["headers"]["X-Webhook-Id"] for r in receiver.requests}) == 1
            event = completed[0]
            assert event["type"] == "session.completed" and event["data"]["session_id"] == session_id
            assert event["data"]["status"] == "review" and event["data"]["case_id"] == case.id

            reviewer = auth.create_user(store, "rita", "correct horse battery staple", "reviewer")
            reviews.decide(store, reviewer, case.id, "reject", "a printed photo")
            events = receiver.wait_for(2, timeout_s=30)
            time.sleep(1.5)  # several sender rounds: nothing more may arrive
            assert len(receiver.accepted) == 2 and len(receiver.requests) == 3
            decided = events[1]
            assert decided["type"] == "session.decided" and decided["data"]["status"] == "rejected"
            assert decided["data"]["decision"]["outcome"] == "reject"
            assert decided["id"] != event["id"]
            # GET agrees with the last event.
            polled = httpx.get(f"{server.url}/v1/sessions/{session_id}", headers=bearer(client.api_key)).json()
            assert polled == decided["data"]

        log = webhooks.deliveries(store, session_id)
        assert [(d.event, d.attempts) for d in log] == [("session.completed", 2), ("session.decided", 1)]
        assert [a["status"] for a in log[0].attempt_log] == [500, 200]
        assert all(d.delivered_at is not None and d.failed_at is None for d in log)
        store.close()


def test_readme_receiver_refuses_forgeries_and_replays():
    verify_webhook = readme_receiver()
    secret, body = "whsec_test", json.dumps({"id": "e1"}).encode()
    now = int(time.time())
    signature = webhooks.sign(secret.encode(), now, body)
    headers = {"X-Timestamp": str(now), "X-Signature": signature}
    assert verify_webhook(secret, headers, body) == {"id": "e1"}
    for bad_headers, bad_body in (({**headers, "X-Signature": "0" * 64}, body),  # forged
                                  (headers, body + b" "),  # altered body
                                  ({**headers, "X-Timestamp": str(now + 1)}, body)):  # timestamp changed
        try:
            verify_webhook(secret, bad_headers, bad_body)
        except ValueError:
            continue
        raise AssertionError("accepted a forged delivery")
    old = {"X-Timestamp": str(now - 3600), "X-Signature": webhooks.sign(secret.encode(), now - 3600, body)}
    try:
        verify_webhook(secret, old, body)
    except ValueError as error:
        assert "replay" in str(error)
    else:
        raise AssertionError("accepted a replay an hour old")


def test_retries_back_off_then_give_up():
    policy = webhooks.RetryPolicy(base_s=5, max_s=60, max_attempts=3)
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 5)] == [5, 10, 20, 60]
