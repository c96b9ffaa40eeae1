"""API sessions: a verification a bank opened, its capture link, and its status.

``open_api_session`` records a session the API opened with
``sessions.open_session`` (lockout checked there) and a document face already
checked, and returns the capture token: ``<payload>.<signature>``, payload
the session id and expiry, HMAC-SHA256 with a key derived from the evidence
key (so the API and the Streamlit process agree without a second secret).
``claim_capture`` is the customer page's one use of it: a forged, expired or
already used token is ``CaptureRefused``; the first use returns the sealed
document and the session nonce that ``sessions.consume_session`` needs when
the verdict is recorded. ``session_view`` derives the status from the case.
``settle`` drops the document photo once it is no longer needed (case
recorded, or session expired): it is kept no longer than the capture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa

from ..signed import BadSignature, open_payload, sign_payload
from . import audit
from .api_schema import ApiSession, WebhookDelivery
from .cases import CaseSummary, case_query
from .schema import Case
from .sessions import SessionGrant
from .store import Store

MODES = ("live", "recorded")  # recorded: the bank's app uploads a video answering a signed challenge script
LOCALES = {"pt-BR": "pt", "en": "en"}
TOKEN_PURPOSE = "capture-token"


class CaptureRefused(Exception):
    def __init__(self, reason: str, lang: str | None = None):
        super().__init__({"forged": "invalid capture link", "expired": "this capture link has expired",
                          "used": "this capture link was already used"}[reason])
        self.reason = reason  # "forged", "expired" or "used"
        self.lang = lang  # the session's page language, when the link is genuine


class ApiSessionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Capture:
    """What the customer page needs for one API session."""

    session_id: str
    nonce: str
    expires_at: datetime
    document_jpeg: bytes
    lang: str  # the page's language ("pt" / "en")
    challenge_script: str | None = None  # mode "recorded": the signed script the video must answer

    def grant(self) -> SessionGrant:
        """The store session this capture records its case against."""
        return SessionGrant(self.session_id, self.nonce, self.expires_at)


@dataclass(frozen=True)
class ApiSessionView:
    session_id: str
    status: str
    customer_ref: str
    operation: str | None
    locale: str
    mode: str
    created_at: datetime
    expires_at: datetime
    capture_opened_at: datetime | None
    case: CaseSummary | None

    def to_dict(self) -> dict:
        """The API's ``Session`` body, also the webhook's ``data``."""
        case = self.case
        return {
            "session_id": self.session_id, "status": self.status, "customer_ref": self.customer_ref,
            "operation": self.operation, "locale": self.locale, "mode": self.mode,
            "created_at": self.created_at.isoformat(), "expires_at": self.expires_at.isoformat(),
            "capture_opened_at": self.capture_opened_at and self.capture_opened_at.isoformat(),
            "completed_at": case and case.created_at.isoformat(),
            "case_id": case and case.id,
            "verdict": case and case.verdict,
            "reasons": list(case.reasons) if case else [],
            "scores": dict(case.scores) if case else {},
            "policy_version": case and case.policy_version,
            "policy_digest": case and case.policy_digest,
            "model_versions": dict(case.model_versions) if case else {},
            "decision": case and case.decision and {"outcome": case.decision.outcome, "note": case.decision.note,
                                                    "decided_at": case.decision.decided_at.isoformat()},
        }


def is_session_id(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


def capture_token(store: Store, session_id: str, expires_at: datetime) -> str:
    return sign_payload({"s": session_id, "e": int(expires_at.timestamp())}, store.vault.derive_key(TOKEN_PURPOSE))


def _token_session(store: Store, token: str) -> tuple[str, datetime]:
    try:
        fields = open_payload(token, store.vault.derive_key(TOKEN_PURPOSE))
        return str(fields["s"]), datetime.fromtimestamp(int(fields["e"]), timezone.utc)
    except (BadSignature, KeyError, TypeError, ValueError, OverflowError, OSError):
        raise CaptureRefused("forged") from None


def open_api_session(store: Store, client_id: str, grant: SessionGrant, customer_ref: str, document_jpeg: bytes,
                     operation: str | None, callback_url: str | None, locale: str, mode: str,
                     actor: str, challenge_script: str | None = None) -> tuple[ApiSessionView, str]:
    """Record the API's side of a session opened by ``sessions.open_session``; returns it and its capture token."""
    if locale not in LOCALES or mode not in MODES:
        raise ValueError(f"locale must be one of {', '.join(LOCALES)} and mode one of {', '.join(MODES)}")
    now = store.now()
    row = ApiSession(id=grant.session_id, client_id=client_id, customer_ref=customer_ref,
                     operation=operation, callback_url=callback_url, locale=locale, mode=mode,
                     nonce_sealed=store.vault.seal(f"nonce{grant.session_id}", grant.nonce.encode()),
                     document_sealed=store.vault.seal(f"document{grant.session_id}", document_jpeg),
                     challenge_script=challenge_script,
                     created_at=now, expires_at=grant.expires_at, capture_opened_at=None, notified_status=None)
    with store.write() as session:
        session.add(row)
        audit.append(session, now, actor, "api_session.created", f"session:{grant.session_id}",
                     {"operation": operation, "mode": mode, "callback": callback_url is not None})
        view = _view(row, None, now)  # just made: no case yet
    return view, capture_token(store, grant.session_id, grant.expires_at)


def claim_capture(store: Store, token: str) -> Capture:
    """The capture link's single use. Raises CaptureRefused."""
    session_id, token_expiry = _token_session(store, token)
    return _claim(store, session_id, token_expiry, lambda row: row.mode == "live")


def claim_upload(store: Store, session_id: str, client_id: str) -> Capture:
    """A ``recorded`` session's single upload, by its client. Raises ApiSessionNotFound or CaptureRefused."""
    return _claim(store, session_id, None, lambda row: row.client_id == client_id and row.mode == "recorded",
                  missing=ApiSessionNotFound(f"no recorded session {session_id}"))


def resume_upload(store: Store, session_id: str) -> tuple[Capture, datetime] | None:
    """A ``recorded`` session's upload claimed before the API stopped and never recorded, with
    when it was claimed; None when there is nothing to resume (no such session, already a
    case, expired, or its document dropped)."""
    now = store.now()
    with store.write() as session:
        row = session.get(ApiSession, session_id)
        recorded = session.scalar(sa.select(Case.id).where(Case.session_id == session_id))
        if row is None or row.mode != "recorded" or row.capture_opened_at is None or recorded is not None \
                or row.document_sealed is None or row.expires_at <= now:
            return None
        audit.append(session, now, audit.SYSTEM, "api_session.upload_resumed", f"session:{session_id}")
        return _capture(store, row), row.capture_opened_at


def _capture(store: Store, row: ApiSession) -> Capture:
    return Capture(row.id, store.vault.open_sealed(f"nonce{row.id}", row.nonce_sealed).decode(), row.expires_at,
                   store.vault.open_sealed(f"document{row.id}", row.document_sealed), LOCALES[row.locale],
                   row.challenge_script)


def _claim(store: Store, session_id: str, token_expiry: datetime | None, belongs, missing=None) -> Capture:
    now = store.now()
    with store.write() as session:
        row = session.get(ApiSession, session_id)
        if row is None or not belongs(row):
            raise missing or CaptureRefused("forged")
        if min(row.expires_at, token_expiry or row.expires_at) <= now:
            raise CaptureRefused("expired", LOCALES[row.locale])
        claimed = session.execute(
            sa.update(ApiSession).where(ApiSession.id == session_id, ApiSession.capture_opened_at.is_(None),
                                        ApiSession.document_sealed.is_not(None))
            .values(capture_opened_at=now).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            raise CaptureRefused("used", LOCALES[row.locale])
        audit.append(session, now, audit.SYSTEM, "api_session.capture_opened", f"session:{session_id}")
        return _capture(store, row)


def _status(row: ApiSession, case: Case | None, now: datetime) -> str:
    if case is not None:
        return case.status
    if row.expires_at <= now:
        return "expired"
    return "in_progress" if row.capture_opened_at is not None else "created"


def _view(row: ApiSession, case: Case | None, now: datetime) -> ApiSessionView:
    return ApiSessionView(row.id, _status(row, case, now), row.customer_ref, row.operation,
                          row.locale, row.mode, row.created_at, row.expires_at, row.capture_opened_at,
                          CaseSummary.of(case) if case is not None else None)


def session_view(store: Store, session_id: str, client_id: str) -> ApiSessionView:
    """The session as its client sees it; another client's session is not found."""
    with store.read() as session:
        row = session.get(ApiSession, session_id)
        if row is None or row.client_id != client_id:
            raise ApiSessionNotFound(f"no session {session_id}")
        case = session.scalar(case_query().where(Case.session_id == session_id))
        return _view(row, case, store.now())


def settle(store: Store, actor: str = audit.SYSTEM) -> int:
    """Drop the document photos no capture will use any more (the session expired or has its
    case), audited when there were any. Returns how many."""
    now = store.now()
    with store.write() as session:
        done = sa.select(Case.session_id).where(Case.session_id == ApiSession.id).exists()
        dropped = session.execute(
            sa.update(ApiSession).where(ApiSession.document_sealed.is_not(None),
                                        sa.or_(ApiSession.expires_at <= now, done))
            .values(document_sealed=None).execution_options(synchronize_session=False)).rowcount
        if dropped:
            audit.append(session, now, actor, "api_session.documents_dropped", f"api_sessions:{dropped}")
        return dropped


def purge_before(session, cutoff: datetime) -> int:
    """Retention (``retention.purge``, in its transaction): finished webhook deliveries, and API
    sessions that never got a case, created before ``cutoff``. Returns how many rows."""
    deliveries = session.execute(
        sa.delete(WebhookDelivery).where(WebhookDelivery.created_at < cutoff,
                                         WebhookDelivery.next_attempt_at.is_(None))
        .execution_options(synchronize_session=False)).rowcount
    unused = session.execute(
        sa.delete(ApiSession).where(ApiSession.created_at < cutoff,
                                    ~sa.exists().where(Case.session_id == ApiSession.id),
                                    ~sa.exists().where(WebhookDelivery.session_id == ApiSession.id))
        .execution_options(synchronize_session=False)).rowcount
    return deliveries + unused
