"""API clients: a bank backend's key (stored hashed), its scopes, rate limit and webhook secret.

``create_client`` returns the key and the webhook secret once; only the
key's SHA-256 is kept (the key is 256 random bits, so a fast hash is enough),
and the webhook secret is sealed with the evidence key, since the API must
sign with it. A key reads ``lv_<client id>_<secret>``: the id finds the row,
the secret is compared in constant time. Revoked clients are kept for the
audit log. Every API call is audited with ``actor = client:<name>``;
``over_rate_limit`` counts those events in the last minute.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from . import audit
from .api_schema import ApiClient
from .schema import AuditEvent
from .store import Store

SCOPES = ("sessions:write", "sessions:read", "verifications:write")
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
DEFAULT_RATE_LIMIT = 120  # calls per minute and key: a bank backend's bursts, not a scraper's
RATE_WINDOW = timedelta(minutes=1)
KEY_PREFIX = "lv_"


class ClientAuthError(Exception):
    """A missing, malformed, unknown or revoked key (one message for all)."""


@dataclass(frozen=True)
class ClientInfo:
    id: str
    name: str
    scopes: tuple[str, ...]
    rate_limit_per_minute: int
    created_at: datetime
    revoked_at: datetime | None

    @property
    def actor(self) -> str:
        return f"client:{self.name}"

    @classmethod
    def of(cls, row: ApiClient) -> "ClientInfo":
        return cls(row.id, row.name, tuple(row.scopes), row.rate_limit_per_minute, row.created_at, row.revoked_at)


@dataclass(frozen=True)
class NewClient:
    client: ClientInfo
    api_key: str  # shown once
    webhook_secret: str  # shown once; signs the webhooks


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_client(store: Store, name: str, scopes: list[str], rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
                  actor: str = audit.SYSTEM) -> NewClient:
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError("a client name is 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(SCOPES)} (got {', '.join(unknown) or 'none'})")
    if not 1 <= rate_limit_per_minute <= 100_000:
        raise ValueError("the rate limit is 1 to 100000 calls per minute")
    client_id, secret = uuid.uuid4().hex, secrets.token_urlsafe(32)
    webhook_secret = f"whsec_{secrets.token_urlsafe(32)}"
    now = store.now()
    row = ApiClient(id=client_id, name=name, key_hash=_secret_hash(secret), scopes=sorted(set(scopes)),
                    webhook_secret_sealed=store.vault.seal(f"webhook{client_id}", webhook_secret.encode()),
                    rate_limit_per_minute=rate_limit_per_minute, created_at=now, revoked_at=None)
    try:
        with store.write() as session:
            session.add(row)
            session.flush()
            audit.append(session, now, actor, "api_client.created", f"api_client:{name}",
                         {"scopes": row.scopes, "rate_limit_per_minute": rate_limit_per_minute})
    except IntegrityError:
        raise ValueError(f"a client named {name!r} already exists") from None
    return NewClient(ClientInfo.of(row), f"{KEY_PREFIX}{client_id}_{secret}", webhook_secret)


def authenticate_key(store: Store, api_key: str) -> ClientInfo:
    """The client of an active key; else ClientAuthError."""
    client_id, _, secret = api_key.removeprefix(KEY_PREFIX).partition("_")
    if not api_key.startswith(KEY_PREFIX) or len(client_id) != 32 or not secret:
        raise ClientAuthError("invalid API key")
    with store.read() as session:
        row = session.get(ApiClient, client_id)
        # Compare even for an unknown id, so both take the same time.
        expected = row.key_hash if row is not None else _secret_hash("no such client")
        if not secrets.compare_digest(expected, _secret_hash(secret)) or row is None or row.revoked_at is not None:
            raise ClientAuthError("invalid API key")
        return ClientInfo.of(row)


def webhook_secret(store: Store, client_id: str) -> bytes:
    with store.read() as session:
        sealed = session.get(ApiClient, client_id).webhook_secret_sealed
    return store.vault.open_sealed(f"webhook{client_id}", sealed)


def over_rate_limit(store: Store, client: ClientInfo) -> bool:
    """Whether the client made its limit of calls in the last minute: its audited calls
    (``api.*`` events; the domain events a call also writes, e.g. a session opened, are not calls)."""
    now = store.now()
    with store.read() as session:
        calls = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.actor == client.actor, AuditEvent.action.like("api.%"),
            AuditEvent.at > now - RATE_WINDOW, AuditEvent.at <= now))
    return calls >= client.rate_limit_per_minute


def audit_call(store: Store, actor: str, action: str, subject: str, details: dict) -> None:
    """One API call in the audit log (method, route, status; never a body)."""
    now = store.now()
    with store.write() as session:
        audit.append(session, now, actor[:64], action[:64], subject[:140], details)


def revoke_client(store: Store, name: str, actor: str = audit.SYSTEM) -> ClientInfo:
    now = store.now()
    with store.write() as session:
        row = session.scalar(sa.select(ApiClient).where(ApiClient.name == name))
        if row is None:
            raise ValueError(f"no client named {name!r}")
        if row.revoked_at is None:
            row.revoked_at = now
            audit.append(session, now, actor, "api_client.revoked", f"api_client:{name}")
        return ClientInfo.of(row)


def list_clients(store: Store) -> list[ClientInfo]:
    with store.read() as session:
        return [ClientInfo.of(r) for r in session.scalars(sa.select(ApiClient).order_by(ApiClient.name))]
