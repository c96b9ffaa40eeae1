"""Tables of the bank's HTTP API (``api/``): clients and keys, API sessions, webhooks, idempotency.

Registered on the same ``Base`` as ``schema.py`` (``liveness/store/__init__.py``
imports this module); migration ``0003_api`` creates exactly these tables.
No column holds an image or an embedding in clear: the document photo and the
session nonce are sealed with the evidence key, the webhook secret too.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .schema import Base


class ApiClient(Base):
    """A bank backend calling the API: a hashed key, its scopes, a sealed webhook secret."""

    __tablename__ = "api_clients"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the key's secret part
    scopes: Mapped[list]
    webhook_secret_sealed: Mapped[bytes] = mapped_column(sa.LargeBinary)
    rate_limit_per_minute: Mapped[int]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ApiSession(Base):
    """A verification opened by a client; its id is the store's ``verification_sessions`` id.

    The status is derived, not stored: the case of the verification session
    (accepted, review, approved, rejected), else expired, else in progress
    once the capture link was opened, else created.
    """

    __tablename__ = "api_sessions"
    id: Mapped[str] = mapped_column(sa.ForeignKey("verification_sessions.id"), primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.ForeignKey("api_clients.id"), index=True)
    customer_ref: Mapped[str] = mapped_column(sa.String(128))
    operation: Mapped[str | None] = mapped_column(sa.String(64))
    callback_url: Mapped[str | None] = mapped_column(sa.String(2000))
    locale: Mapped[str] = mapped_column(sa.String(8))
    mode: Mapped[str] = mapped_column(sa.String(16))
    nonce_sealed: Mapped[bytes] = mapped_column(sa.LargeBinary)
    document_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # dropped once the case is recorded
    challenge_script: Mapped[str | None] = mapped_column(sa.Text)  # mode "recorded": the signed script issued
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    capture_opened_at: Mapped[datetime | None]
    notified_status: Mapped[str | None] = mapped_column(sa.String(16))  # last status a webhook was queued for


class WebhookDelivery(Base):
    """One event for a client's callback URL and the log of its delivery attempts."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)  # the event id receivers dedupe on
    session_id: Mapped[str] = mapped_column(sa.ForeignKey("api_sessions.id"), index=True)
    client_id: Mapped[str] = mapped_column(sa.ForeignKey("api_clients.id"))
    event: Mapped[str] = mapped_column(sa.String(32))
    url: Mapped[str] = mapped_column(sa.String(2000))
    payload: Mapped[dict]
    created_at: Mapped[datetime]
    attempts: Mapped[int]
    attempt_log: Mapped[list]  # [{"at", "status", "error"}], no payload
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)  # None once delivered or given up
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """A POST's response kept under its ``Idempotency-Key``, per client."""

    __tablename__ = "idempotency_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.ForeignKey("api_clients.id"))
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))  # of the request, to refuse a changed one
    status_code: Mapped[int | None]  # None while the first request runs
    response: Mapped[dict | None]
    created_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (sa.UniqueConstraint("client_id", "key", name="uq_idempotency_client_key"),)


# The per-key rate limit counts a client's audited calls in the last minute.
sa.Index("ix_audit_events_actor_at", Base.metadata.tables["audit_events"].c.actor,
         Base.metadata.tables["audit_events"].c.at)
