"""``Idempotency-Key`` on the API's POSTs: a retried request gets the first answer.

``begin`` reserves the key (client, key) with the request's fingerprint, or
returns the stored answer of an earlier request; the same key with another
request, or while the first still runs, is ``IdempotencyConflict``. ``finish``
stores the answer; ``release`` forgets a key whose request failed on our side,
so that a retry runs again. Keys are kept for ``TTL``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .api_schema import IdempotencyRecord
from .jsondata import json_safe
from .store import Store

TTL = timedelta(hours=24)
MAX_KEY = 255


class IdempotencyConflict(Exception):
    pass


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: dict


def begin(store: Store, client_id: str, key: str, fingerprint: str) -> StoredAnswer | None:
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"Idempotency-Key must have 1 to {MAX_KEY} characters")
    now = store.now()
    try:
        with store.write() as session:
            session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - TTL))
            row = session.scalar(sa.select(IdempotencyRecord).where(
                IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key))
            if row is None:
                session.add(IdempotencyRecord(client_id=client_id, key=key, fingerprint=fingerprint,
                                              status_code=None, response=None, created_at=now))
                return None
            if row.fingerprint != fingerprint:
                raise IdempotencyConflict("this Idempotency-Key was used with a different request")
            if row.status_code is None:
                raise IdempotencyConflict("a request with this Idempotency-Key is still running")
            return StoredAnswer(row.status_code, dict(row.response))
    except IntegrityError:  # the same key arrived twice at once
        raise IdempotencyConflict("a request with this Idempotency-Key is still running") from None


def finish(store: Store, client_id: str, key: str, status_code: int, body: dict) -> None:
    with store.write() as session:
        session.execute(sa.update(IdempotencyRecord)
                        .where(IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key)
                        .values(status_code=status_code, response=json_safe(body, "response")))


def release(store: Store, client_id: str, key: str) -> None:
    with store.write() as session:
        session.execute(sa.delete(IdempotencyRecord).where(
            IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key,
            IdempotencyRecord.status_code.is_(None)))
