"""The review queue, reviewers' decisions, and the labels they make.

``review_queue`` lists the cases the engine sent to review, oldest first;
``decide`` records a reviewer's approve/reject with a note (one decision per
case, audited); ``labelled_cases`` gives every decided case with its
reasons, scores, trace and policy version, for the threshold page's what-if
(approve = genuine, reject = attack).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from . import audit
from .auth import UserInfo, recheck_role, require_role
from .cases import CaseSummary, _case, case_query
from .schema import Case, Decision
from .store import Store

OUTCOMES = {"approve": "approved", "reject": "rejected"}


class AlreadyDecided(Exception):
    pass


@dataclass(frozen=True)
class LabelledCase:
    case_id: str
    created_at: datetime
    scores: dict
    verdict: str  # what the engine said
    policy_version: str
    genuine: bool  # what the reviewer said
    reasons: list[str]
    trace: dict | None  # the session's SessionTrace.to_dict(); None for cases recorded before traces


def review_queue(store: Store, limit: int = 50, offset: int = 0) -> list[CaseSummary]:
    query = case_query().where(Case.status == "review").order_by(Case.created_at, Case.id)
    with store.read() as session:
        return [CaseSummary.of(c) for c in session.scalars(query.limit(limit).offset(offset))]


def decide(store: Store, user: UserInfo, case_id: str, outcome: str, note: str) -> CaseSummary:
    """Approve or reject a case. Raises PermissionDenied, CaseNotFound, AlreadyDecided, ValueError."""
    require_role(user, "reviewer", "admin")
    if outcome not in OUTCOMES:
        raise ValueError("outcome must be 'approve' or 'reject'")
    note = audit.required_note(note)
    now = store.now()
    try:
        with store.write() as session:
            reviewer = recheck_role(session, user, "reviewer", "admin")
            case = _case(session, case_id)
            if case.decision is not None:
                raise AlreadyDecided(f"case {case_id} was already decided")
            previous = case.status
            case.status = OUTCOMES[outcome]
            case.decision = Decision(case_id=case_id, reviewer_id=user.id, outcome=outcome, note=note,
                                     created_at=now, reviewer=reviewer)
            session.flush()
            audit.append(session, now, user.username, f"case.{outcome}", f"case:{case_id}",
                         {"previous_status": previous, "note": note})
            return CaseSummary.of(case)
    except IntegrityError:  # another reviewer decided the same case at the same moment
        raise AlreadyDecided(f"case {case_id} was already decided") from None


def labelled_cases(store: Store, since: datetime | None = None) -> list[LabelledCase]:
    query = (sa.select(Case.id, Case.created_at, Case.scores, Case.verdict, Case.policy_version, Decision.outcome,
                       Case.reasons, Case.trace)
             .join(Decision, Decision.case_id == Case.id).order_by(Case.created_at))
    if since is not None:
        query = query.where(Case.created_at >= since)
    with store.read() as session:
        return [LabelledCase(r.id, r.created_at, dict(r.scores), r.verdict, r.policy_version, r.outcome == "approve",
                             list(r.reasons), r.trace)
                for r in session.execute(query)]
