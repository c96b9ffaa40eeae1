"""The app's side of the case store: one Store per process, cases from engine sessions."""

from __future__ import annotations

import uuid

import streamlit as st

from liveness.session import Evidence as SessionEvidence
from liveness.store import Store, open_store
from liveness.policy import Policy
from liveness.store import cases, policies, sessions
from liveness.store.sessions import SessionGrant


@st.cache_resource(show_spinner=False)
def store() -> Store:
    """Migrates the database on first use; refuses production mode without an evidence key."""
    return open_store(evidence_key=st.secrets.get("evidence_key") if _has_secrets() else None)


def _has_secrets() -> bool:
    try:
        return "evidence_key" in st.secrets
    except FileNotFoundError:  # no secrets.toml: the environment variable applies
        return False


def current_policy() -> Policy:
    """The policy version the AI team saved last (the shipped default before any)."""
    return policies.current_policy(store()).policy


def customer_ref() -> str:
    """The opaque customer reference the fintech passes as ``?customer=...``.

    Without one (a demo visit) each browser session gets its own pseudonym.
    Never a name or a CPF: the caller sends a pseudonym (e.g. an HMAC).
    """
    ref = st.query_params.get("customer")
    if ref:
        return ref[:128]
    return st.session_state.setdefault("anonymous_customer", f"anon-{uuid.uuid4().hex[:16]}")


def open_grant(customer: str) -> SessionGrant:
    """A single-use session for one check; raises LockedOut over the attempt limit."""
    return sessions.open_session(store(), customer)


def record(store_: Store, session_id: str, nonce: str, verdict: dict,
           evidence: SessionEvidence) -> cases.CaseSummary:
    """Consume the session and store its verdict, evidence and trace (``cases.record_session_result``).

    Takes the Store explicitly: the live check records from the WebRTC worker thread.
    """
    return cases.record_session_result(store_, session_id, nonce, verdict, evidence)
