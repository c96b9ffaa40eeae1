"""Decision-policy versions: the threshold page saves, the engine reads.

``current_policy`` is the newest saved version, or the shipped
``DEFAULT_POLICY`` while none is saved. ``save_policy`` (admin only) stores a
new version — versions are never edited; going back means saving the old
values under a new version — and audits which thresholds changed, from what
to what, by whom. ``next_version`` suggests a version string for the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..policy import DEFAULT_POLICY, Policy
from . import audit
from .auth import UserInfo, recheck_role, require_role
from .db import serialize_on
from .schema import PolicyVersion, User
from .store import Store


class PolicyVersionExists(ValueError):
    pass


@dataclass(frozen=True)
class PolicyRecord:
    policy: Policy
    created_at: datetime | None  # None for the shipped default
    created_by: str | None
    note: str

    @property
    def version(self) -> str:
        return self.policy.version


DEFAULT_RECORD = PolicyRecord(DEFAULT_POLICY, None, None, "shipped default")


def _record(row: PolicyVersion, username: str | None) -> PolicyRecord:
    return PolicyRecord(Policy.from_dict(row.values), row.created_at, username, row.note)


def _query():
    return (sa.select(PolicyVersion, User.username)
            .outerjoin(User, User.id == PolicyVersion.created_by).order_by(PolicyVersion.id.desc()))


def _current(session) -> PolicyRecord:
    row = session.execute(_query().limit(1)).first()
    return _record(*row) if row else DEFAULT_RECORD


def current_policy(store: Store) -> PolicyRecord:
    with store.read() as session:
        return _current(session)


def policy_history(store: Store) -> list[PolicyRecord]:
    """Newest first, ending with the shipped default."""
    with store.read() as session:
        return [_record(*row) for row in session.execute(_query())] + [DEFAULT_RECORD]


def get_policy(store: Store, version: str) -> PolicyRecord:
    """The policy a case was decided under. Raises LookupError for an unknown version."""
    with store.read() as session:
        row = session.execute(_query().where(PolicyVersion.version == version)).first()
    if row:
        return _record(*row)
    if version == DEFAULT_POLICY.version:
        return DEFAULT_RECORD
    raise LookupError(f"no policy version {version!r}")


def next_version(store: Store) -> str:
    """The current version with its last number raised: 2026.11.0 → 2026.11.1."""
    version = current_policy(store).version
    head, _, last = version.rpartition(".")
    return f"{head}.{int(last) + 1}" if head and last.isdigit() else f"{version}.1"


def save_policy(store: Store, policy: Policy, user: UserInfo, note: str) -> PolicyRecord:
    """Store ``policy`` as the new current version, with the admin's ``note`` on why. Raises
    PermissionDenied, PolicyVersionExists, audit.NoteRequired."""
    require_role(user, "admin")
    note = audit.required_note(note)
    policy = Policy.from_dict(policy.to_dict())  # the same checks as a policy read back
    if policy.version == DEFAULT_POLICY.version:
        raise PolicyVersionExists(f"version {policy.version} is the shipped default: choose a new version")
    now = store.now()
    values = policy.to_dict()
    try:
        with store.write() as session:
            recheck_role(session, user, "admin")
            serialize_on(session, "policy-versions")  # "previous" is the true predecessor
            previous = _current(session).policy
            changes = {k: [v, values[k]] for k, v in previous.to_dict().items() if k != "version" and values[k] != v}
            row = PolicyVersion(version=policy.version, digest=policy.digest(), values=values,
                                note=note, created_at=now, created_by=user.id)
            session.add(row)
            session.flush()
            audit.append(session, now, user.username, "policy.saved", f"policy:{policy.version}",
                         {"previous_version": previous.version, "digest": policy.digest(),
                          "changes": changes, "note": note})
    except IntegrityError:
        raise PolicyVersionExists(f"policy version {policy.version} already exists") from None
    return PolicyRecord(policy, now, user.username, note)
