"""Cases, evidence and reviewers: the persistent side of the product.

One ``Store`` per process (Streamlit: ``st.cache_resource``)::

    from liveness.store import open_store, sessions, cases, reviews, auth, policies, retention
    store = open_store(evidence_key=st.secrets.get("evidence_key"))   # migrates; refuses production without a key

Customer's page (no login)::

    grant = sessions.open_session(store, customer_ref, device_ref)     # LockedOut when over the attempt limit
    ticket = sessions.consume_session(store, grant.session_id, grant.nonce)   # once; SessionRefused on replay/expiry
    case = cases.record_case(store, ticket, verdict.to_dict(),
                             EvidenceInput(key_frames, series, timestamps, timeline), trace.to_dict())
    cases.record_failure(store, ticket, "no face in the document")   # when the engine could not finish

Review page (``auth.require_role(user, "reviewer", "admin")``)::

    user = auth.authenticate(store, username, password)               # AuthError / LockedOut
    queue = reviews.review_queue(store)                               # [CaseSummary], oldest first
    evidence = cases.load_evidence(store, case.id, viewer=user)       # Evidence: key_frames_jpeg, series, timeline, verdict; audited
    reviews.decide(store, user, case.id, "approve" | "reject", note)  # audited; AlreadyDecided

Threshold page (admin)::

    policies.current_policy(store).policy; policies.policy_history(store)
    policies.save_policy(store, new_policy, user, note)                # new version, audited with the changes
    reviews.labelled_cases(store)                                     # [LabelledCase] reasons, scores, trace + genuine, for the what-if

Operations: ``retention.purge`` (``python -m liveness purge``), ``retention.check_consistency``,
``audit.entries(store)`` / ``audit.verify_chain(store)``, ``python -m liveness users|purge|db ...``.

Nothing here logs a face, an embedding, a score series or an evidence path.
"""

from . import audit  # noqa: F401  (registers the append-only guards on the ORM)
from . import api_schema  # noqa: F401  (the HTTP API's tables, on the same metadata)
from .auth import AuthError, PermissionDenied, UserInfo
from .cases import CaseNotFound, CaseSummary
from .evidence import Evidence, EvidenceError, EvidenceInput, EvidenceKeyMissing
from .ratelimit import AttemptLimits, LockedOut
from .reviews import AlreadyDecided
from .sessions import SessionRefused, SessionTicket
from .store import Store, StoreUnavailable, open_store

__all__ = [
    "AlreadyDecided", "AttemptLimits", "AuthError", "CaseNotFound", "CaseSummary", "Evidence",
    "EvidenceError", "EvidenceInput", "EvidenceKeyMissing", "LockedOut", "PermissionDenied",
    "SessionRefused", "SessionTicket", "Store", "StoreUnavailable", "UserInfo", "open_store",
]
