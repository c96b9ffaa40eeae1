"""Webhooks: events for a session's callback URL, their signature, and the delivery log.

The events are derived from the store's state, not pushed by whoever changed
it: ``enqueue_due`` finds API sessions whose case status moved since the last
event (the customer page recorded a verdict: ``session.completed``; a
reviewer decided in ``reviews.decide``: ``session.decided``; the session
expired without a case: ``session.expired``) and queues one delivery each,
in one transaction with the marker, so every change gives exactly one event
whichever process made it, and a crash loses none.
``claim_due`` leases deliveries to one sender; ``record_attempt`` logs each
try and schedules the next with exponential backoff until ``max_attempts``.

Signature (what a receiver checks with the standard library, README "HTTP API")::

    X-Timestamp: <unix seconds>          X-Signature: hex(HMAC-SHA256(secret, f"{timestamp}." + body))
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .api_schema import ApiSession, WebhookDelivery
from .api_sessions import _view
from .cases import case_query
from .db import serialize_on
from .schema import Case
from .store import Store

LEASE = timedelta(seconds=60)  # a sender that dies mid-delivery leaves it to another after this


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 5.0  # first retry after this, then doubling
    max_s: float = 3600.0
    max_attempts: int = 8  # ~21 minutes of retries with the defaults

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.max_s, self.base_s * 2 ** (attempts - 1)))


@dataclass(frozen=True)
class DueDelivery:
    id: str
    client_id: str
    url: str
    event: str
    body: bytes  # exactly the bytes to send and sign
    attempts: int


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def enqueue_due(store: Store) -> int:
    """Queue one event per status change of a session with a callback URL, and one
    ``session.expired`` for a session that expired without a case (its customer never
    finished: the bank's backend must not wait for a webhook that never comes). Returns how many."""
    now = store.now()
    with store.write() as session:
        serialize_on(session, "webhooks-enqueue")
        with_callback = ApiSession.callback_url.is_not(None)
        changed = session.execute(
            case_query().add_columns(ApiSession).join(ApiSession, ApiSession.id == Case.session_id)
            .where(with_callback, sa.or_(ApiSession.notified_status.is_(None), ApiSession.notified_status != Case.status))
            .limit(100)).all()
        # A consumed session is never expired (sessions.consume_session refuses one past its
        # expiry), so an expired one gets no case later.
        expired = session.scalars(
            sa.select(ApiSession).where(with_callback, ApiSession.notified_status.is_(None), ApiSession.expires_at <= now,
                                        ~sa.select(Case.id).where(Case.session_id == ApiSession.id).exists())
            .limit(100)).all()
        events = [(row, case) for case, row in changed]
        for api_session, case in events + [(row, None) for row in expired]:
            view = _view(api_session, case, now)
            event = "session.expired" if case is None else \
                "session.completed" if api_session.notified_status is None else "session.decided"
            delivery_id = uuid.uuid4().hex
            payload = {"id": delivery_id, "type": event, "created_at": now.isoformat(), "data": view.to_dict()}
            session.add(WebhookDelivery(id=delivery_id, session_id=api_session.id, client_id=api_session.client_id,
                                        event=event, url=api_session.callback_url, payload=payload,
                                        created_at=now, attempts=0, attempt_log=[], next_attempt_at=now,
                                        delivered_at=None, failed_at=None))
            api_session.notified_status = view.status
        return len(events) + len(expired)


def claim_due(store: Store, limit: int = 10) -> list[DueDelivery]:
    """Deliveries whose time has come, leased to the caller."""
    now = store.now()
    with store.write() as session:
        serialize_on(session, "webhooks-claim")
        rows = session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.next_attempt_at <= now)
                               .order_by(WebhookDelivery.next_attempt_at).limit(limit)).all()
        for row in rows:
            row.next_attempt_at = now + LEASE
        return [DueDelivery(r.id, r.client_id, r.url, r.event, body_bytes(r.payload), r.attempts) for r in rows]


def record_attempt(store: Store, delivery_id: str, status: int | None, error: str | None,
                   retry: RetryPolicy) -> None:
    """Log one try (2xx: delivered); schedule the next or give up."""
    now = store.now()
    with store.write() as session:
        row = session.get(WebhookDelivery, delivery_id)
        row.attempts += 1
        row.attempt_log = [*row.attempt_log, {"at": now.isoformat(), "status": status,
                                              "error": error and error[:200]}]
        if status is not None and 200 <= status < 300:
            row.delivered_at, row.next_attempt_at = now, None
        elif row.attempts >= retry.max_attempts:
            row.failed_at, row.next_attempt_at = now, None
        else:
            row.next_attempt_at = now + retry.delay(row.attempts)


@dataclass(frozen=True)
class DeliveryInfo:
    id: str
    session_id: str
    event: str
    attempts: int
    attempt_log: list
    delivered_at: datetime | None
    failed_at: datetime | None


def deliveries(store: Store, session_id: str) -> list[DeliveryInfo]:
    with store.read() as session:
        return [DeliveryInfo(r.id, r.session_id, r.event, r.attempts, list(r.attempt_log), r.delivered_at,
                             r.failed_at)
                for r in session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.session_id == session_id)
                                         .order_by(WebhookDelivery.created_at))]
