"""Verification sessions: a single-use nonce that expires.

The customer's page calls ``open_session`` when a verification starts (it
refuses a locked-out customer or device) and hands the nonce to the capture;
``consume_session`` is called once when the capture is submitted, before the
engine runs. A second submission of the same session (a replay), a wrong
nonce or an expired session raises ``SessionRefused`` and counts as a failed
attempt. The ticket it returns is what ``cases.record_case`` needs.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from . import ratelimit
from .schema import VerificationSession
from .store import Store


REF_MAX = 128  # the column width of customer_ref and device_ref


@dataclass(frozen=True)
class SessionGrant:
    session_id: str
    nonce: str  # give to the client; only its hash is stored
    expires_at: datetime


@dataclass(frozen=True)
class SessionTicket:
    """A consumed session: proof that this submission is the first and in time."""

    session_id: str
    customer_ref: str
    device_ref: str | None


class SessionRefused(Exception):
    def __init__(self, reason: str):
        messages = {"unknown": "unknown verification session",
                    "replayed": "this verification session was already used",
                    "expired": "this verification session has expired: please start again"}
        super().__init__(messages[reason])
        self.reason = reason  # "unknown", "replayed" or "expired"


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def open_session(store: Store, customer_ref: str, device_ref: str | None = None) -> SessionGrant:
    """Start a verification; raises ``ratelimit.LockedOut`` for a locked customer or device."""
    if not customer_ref or len(customer_ref) > REF_MAX or (device_ref and len(device_ref) > REF_MAX):
        raise ValueError(f"customer_ref is required, and references have at most {REF_MAX} characters")
    now = store.now()
    grant = SessionGrant(uuid.uuid4().hex, secrets.token_urlsafe(32), now + store.limits.session_ttl)
    with store.write() as session:
        ratelimit.check(session, ratelimit.subjects(customer_ref, device_ref), now)
        session.add(VerificationSession(id=grant.session_id, nonce_hash=_nonce_hash(grant.nonce),
                                        customer_ref=customer_ref, device_ref=device_ref,
                                        created_at=now, expires_at=grant.expires_at))
    return grant


def consume_session(store: Store, session_id: str, nonce: str) -> SessionTicket:
    """Use the session once. Raises ``SessionRefused`` or ``ratelimit.LockedOut``."""
    now = store.now()
    with store.write() as session:
        row = session.get(VerificationSession, session_id)
        if row is None or not secrets.compare_digest(row.nonce_hash, _nonce_hash(nonce)):
            raise SessionRefused("unknown")
        ratelimit.check(session, ratelimit.subjects(row.customer_ref, row.device_ref), now)
        # One conditional UPDATE: of two concurrent submissions exactly one wins.
        used = session.execute(
            sa.update(VerificationSession)
            .where(VerificationSession.id == session_id, VerificationSession.consumed_at.is_(None),
                   VerificationSession.expires_at > now)
            .values(consumed_at=now)
            .execution_options(synchronize_session=False)).rowcount
        ticket = SessionTicket(row.id, row.customer_ref, row.device_ref)
    if used == 1:
        return ticket
    reason = "replayed" if row.consumed_at is not None or row.expires_at > now else "expired"
    with store.write() as session:
        ratelimit.record_attempt(session, store.limits, now, row.customer_ref, row.device_ref,
                                 row.id, failed=True, reason=f"session {reason}")
    raise SessionRefused(reason)
