"""Cases: a session's verdict and its encrypted evidence.

After ``sessions.consume_session`` and the engine's run, call
``record_case(store, ticket, verdict.to_dict(), EvidenceInput(...), trace)``. The
evidence file is written and fsynced first, then the case row, its attempt
and an audit event commit in one transaction; if that fails the file is
removed, and if the process dies in between the file is an orphan that
``retention.sweep_orphans`` deletes. No row ever points to a missing file.

An attempt the engine could not finish (unreadable media, no face, several
faces) is ``record_failure(store, ticket, reason)``: a failed attempt, no case.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from . import audit, ratelimit
from .auth import UserInfo, require_role
from .evidence import Evidence, EvidenceError, EvidenceInput
from .jsondata import json_safe
from .schema import Case, Decision, VerificationSession
from .sessions import SessionTicket, consume_session
from .store import Store

log = logging.getLogger(__name__)

VERDICTS = ("accepted", "review")


class CaseNotFound(LookupError):
    pass


@dataclass(frozen=True)
class DecisionInfo:
    outcome: str  # "approve" or "reject"
    note: str
    reviewer: str
    decided_at: datetime


@dataclass(frozen=True)
class CaseSummary:
    id: str
    session_id: str
    customer_ref: str
    created_at: datetime
    verdict: str  # the engine's: "accepted" or "review"
    status: str  # "accepted", "review", or after a reviewer "approved" / "rejected"
    reasons: list[str]
    scores: dict
    policy_version: str
    policy_digest: str
    model_versions: dict
    has_evidence: bool  # False once purged
    decision: DecisionInfo | None

    @classmethod
    def of(cls, case: Case) -> "CaseSummary":
        decision = case.decision
        return cls(case.id, case.session_id, case.customer_ref, case.created_at, case.verdict, case.status,
                   list(case.reasons), dict(case.scores), case.policy_version, case.policy_digest,
                   dict(case.model_versions), case.evidence_file is not None,
                   DecisionInfo(decision.outcome, decision.note, decision.reviewer.username, decision.created_at)
                   if decision else None)


def _checked_verdict(ticket: SessionTicket, verdict: Mapping) -> dict:
    verdict = json_safe(verdict, "verdict")
    if verdict.get("verdict") not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}")
    if verdict.get("session_id") != ticket.session_id:
        raise ValueError("the verdict belongs to another session")  # a mixed-up record, refused
    for key in ("policy_version", "policy_digest"):
        if not isinstance(verdict.get(key), str) or not verdict[key]:
            raise ValueError(f"verdict[{key!r}] is required")
    if not isinstance(verdict.get("reasons", []), list) or not isinstance(verdict.get("scores", {}), dict):
        raise ValueError("verdict reasons must be a list and scores a dict")
    return verdict


def case_query():
    return sa.select(Case).options(selectinload(Case.decision).selectinload(Decision.reviewer))


def record_case(store: Store, ticket: SessionTicket, verdict: Mapping,
                evidence: EvidenceInput, trace: Mapping | None = None) -> CaseSummary:
    """Store a finished session: evidence file first, then the row. Returns the case.

    trace: the session's ``SessionTrace.to_dict()``, kept in the row for the what-if.
    """
    verdict = _checked_verdict(ticket, verdict)
    trace = None if trace is None else json_safe(trace, "trace")
    case_id = uuid.uuid4().hex
    stored = store.vault.write(case_id, verdict, evidence)
    try:
        now = store.now()
        with store.write() as session:
            row = session.get(VerificationSession, ticket.session_id)
            if row is None or row.consumed_at is None:
                raise ValueError("record_case needs a session consumed with consume_session")
            # The row, not the ticket, says whose session it is: a ticket is only a dataclass.
            case = Case(id=case_id, session_id=row.id, customer_ref=row.customer_ref,
                        created_at=now, verdict=verdict["verdict"], status=verdict["verdict"],
                        reasons=verdict.get("reasons", []), scores=verdict.get("scores", {}),
                        policy_version=verdict["policy_version"], policy_digest=verdict["policy_digest"],
                        model_versions=verdict.get("model_versions", {}), trace=trace,
                        evidence_file=stored.name,
                        evidence_sha256=stored.sha256, evidence_bytes=stored.size)
            session.add(case)
            session.flush()  # a second case for the session fails here, before the audit
            ratelimit.record_attempt(session, store.limits, now, row.customer_ref, row.device_ref,
                                     row.id, failed=verdict["verdict"] != "accepted",
                                     reason=f"verdict {verdict['verdict']}")
            audit.append(session, now, audit.SYSTEM, "case.created", f"case:{case_id}",
                         {"session_id": ticket.session_id, "verdict": verdict["verdict"],
                          "policy_version": verdict["policy_version"]})
            summary = CaseSummary.of(case)
    except BaseException:
        _discard_unless_committed(store, case_id, stored.name)
        raise
    log.info("case %s recorded: %s", case_id, summary.verdict)
    return summary


def _discard_unless_committed(store: Store, case_id: str, name: str) -> None:
    """Remove the evidence of a case that did not commit.

    A commit can fail after the server applied it (a connection lost at that
    moment): the file is deleted only when the row is known to be absent.
    """
    try:
        with store.read() as session:
            committed = session.get(Case, case_id) is not None
    except Exception:  # the database is unreachable: the orphan sweep decides later
        log.warning("case %s: could not tell whether it committed; its file is left to the orphan sweep", case_id)
        return
    if not committed:
        store.vault.delete(name)


def record_failure(store: Store, ticket: SessionTicket, reason: str) -> datetime | None:
    """A failed attempt without a case (e.g. "no face in the document"). Returns the lock end, if any."""
    with store.write() as session:
        row = session.get(VerificationSession, ticket.session_id)
        if row is None:
            raise ValueError("record_failure needs a session opened with open_session")
        return ratelimit.record_attempt(session, store.limits, store.now(), row.customer_ref,
                                        row.device_ref, row.id, failed=True, reason=reason)


def _case(session: Session, case_id: str) -> Case:
    case = session.scalar(case_query().where(Case.id == case_id))
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    return case


def get_case(store: Store, case_id: str) -> CaseSummary:
    with store.read() as session:
        return CaseSummary.of(_case(session, case_id))


def list_cases(store: Store, status: str | None = None, customer_ref: str | None = None,
               limit: int = 50, offset: int = 0, oldest_first: bool = False) -> list[CaseSummary]:
    query = case_query().order_by(Case.created_at.asc() if oldest_first else Case.created_at.desc(), Case.id)
    if status:
        query = query.where(Case.status == status)
    if customer_ref:
        query = query.where(Case.customer_ref == customer_ref)
    with store.read() as session:
        return [CaseSummary.of(c) for c in session.scalars(query.limit(limit).offset(offset))]


def load_evidence(store: Store, case_id: str, viewer: UserInfo | None = None) -> Evidence:
    """Decrypt a case's evidence. Raises EvidenceError when purged, missing or tampered.

    Pass the logged-in ``viewer`` from the review page: viewing biometric
    evidence is then role-checked and audited (LGPD access trail).
    """
    if viewer is not None:
        require_role(viewer, "reviewer", "admin")
    with store.read() as session:
        case = _case(session, case_id)
        name, sha256 = case.evidence_file, case.evidence_sha256
    if viewer is not None:
        with store.write() as session:
            audit.append(session, store.now(), viewer.username, "evidence.viewed", f"case:{case_id}")
    if name is None:
        raise EvidenceError(f"case {case_id}: the evidence was purged (retention period over)")
    return store.vault.read(case_id, name, sha256)


def record_session_result(store: Store, session_id: str, nonce: str, verdict: Mapping, evidence) -> CaseSummary:
    """Consume the session (once, in time) and store its verdict with the encrypted evidence and the trace.

    evidence: the engine session's ``liveness.session.Evidence``. The customer page's live check and
    the API's uploaded recordings both end here.
    """
    ticket = consume_session(store, session_id, nonce)
    return record_case(store, ticket, verdict, EvidenceInput.of_session(evidence), evidence.trace.to_dict())
