"""The append-only, hash-chained audit log: who did what, when.

``append`` is called inside the transaction that does the audited change, so
the change and its record commit together or not at all. Each event's hash
covers its fields and the previous event's hash; ``verify_chain`` recomputes
the chain and names the first event that does not fit (an edited or deleted
row). UPDATE and DELETE are refused here, at the ORM level, and by database
triggers (see the initial migration).

Details must never hold a face, an embedding or an evidence path: ids,
outcomes, thresholds and notes only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from .db import serialize_on
from .jsondata import json_safe
from .schema import AuditEvent

if TYPE_CHECKING:
    from .store import Store

GENESIS = "0" * 64
SYSTEM = "system"


MAX_NOTE = 2000  # characters of a person's note on what they did (a decision, a policy)


class AuditLogImmutable(RuntimeError):
    """An attempt to change or delete an audit event."""


class NoteRequired(ValueError):
    """A person's act that must say why came without a note, or with one over MAX_NOTE."""

    def __init__(self):
        super().__init__(f"a note of 1 to {MAX_NOTE} characters is required")


def required_note(note: str) -> str:
    """``note`` stripped; raises NoteRequired when that is empty or longer than MAX_NOTE."""
    note = note.strip()
    if not note or len(note) > MAX_NOTE:
        raise NoteRequired()
    return note


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper, _connection, _target):
    raise AuditLogImmutable("audit_events is append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state):
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is AuditEvent:
        raise AuditLogImmutable("audit_events is append-only")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    first_bad_id: int | None = None
    problem: str = ""


def _hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str, details: dict) -> str:
    body = json.dumps({"prev": prev_hash, "at": at.isoformat(), "actor": actor, "action": action,
                       "subject": subject, "details": details}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def append(session: Session, at: datetime, actor: str, action: str, subject: str,
           details: dict | None = None) -> None:
    """Add an event to the chain, in the caller's transaction."""
    serialize_on(session, "audit-chain")
    details = json_safe(details or {}, "audit details")
    at = at.astimezone(timezone.utc)  # hashed as it will read back from the database
    prev = session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    session.add(AuditEvent(at=at, actor=actor, action=action, subject=subject, details=details,
                           prev_hash=prev, hash=_hash(prev, at, actor, action, subject, details)))
    session.flush()


def entries(store: "Store", limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
    """Newest first, for an audit page; page on with ``before_id`` = the last id shown."""
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    with store.read() as session:
        return [AuditEntry(e.id, e.at, e.actor, e.action, e.subject, e.details) for e in session.scalars(query)]


def verify_chain(store: "Store") -> ChainCheck:
    """Recompute the chain from the first event; names the first one that does not fit."""
    prev = GENESIS
    count = 0
    with store.read() as session:
        for event_ in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).yield_per(500):
            count += 1
            if event_.prev_hash != prev:
                return ChainCheck(False, count, event_.id, "an event before this one is missing or was replaced")
            if _hash(prev, event_.at, event_.actor, event_.action, event_.subject, event_.details) != event_.hash:
                return ChainCheck(False, count, event_.id, "this event was altered")
            prev = event_.hash
    return ChainCheck(True, count)
