"""Attempt limits: too many failures lock a customer, a device or a login.

With the defaults, 5 failures within 3 minutes lock the customer (and,
separately, the device) for 30 minutes. A failure is a verdict sent to
review, a refused session (replayed, expired) or an attempt the engine could
not finish (``cases.record_failure``). Counts run inside the caller's write
transaction, serialized per subject, so concurrent failures are all counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .db import serialize_on
from .schema import Attempt, AuditEvent, Lockout


@dataclass(frozen=True)
class AttemptLimits:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=3)
    lockout: timedelta = timedelta(minutes=30)
    session_ttl: timedelta = timedelta(minutes=5)

    def __post_init__(self):
        if not timedelta(minutes=3) <= self.session_ttl <= timedelta(minutes=10):
            raise ValueError("session_ttl must be between 3 and 10 minutes")
        if self.max_failures < 1 or self.window <= timedelta(0) or self.lockout <= timedelta(0):
            raise ValueError("max_failures, window and lockout must be positive")


class LockedOut(Exception):
    """Too many recent failures; retry after ``until``."""

    def __init__(self, subject_kind: str, until: datetime):
        super().__init__(f"too many failed attempts: try again after {until:%H:%M} UTC")
        self.subject_kind = subject_kind  # "customer", "device" or "user"
        self.until = until


def subjects(customer_ref: str, device_ref: str | None) -> list[str]:
    return [f"customer:{customer_ref}"] + ([f"device:{device_ref}"] if device_ref else [])


def check(session: Session, subject_keys: list[str], now: datetime) -> None:
    """Raise LockedOut when any subject is locked at ``now``."""
    row = session.execute(
        sa.select(Lockout.subject, sa.func.max(Lockout.locked_until))
        .where(Lockout.subject.in_(subject_keys), Lockout.locked_until > now)
        .group_by(Lockout.subject).limit(1)).first()
    if row:
        raise LockedOut(row[0].split(":", 1)[0], row[1])


def _counting_since(session: Session, limits: AttemptLimits, subject: str, now: datetime) -> datetime:
    """Start of the failure window; failures before the last lockout began do not count twice."""
    last_lock = session.scalar(sa.select(sa.func.max(Lockout.created_at)).where(Lockout.subject == subject))
    return max(now - limits.window, last_lock or now - limits.window)


def _lock_if_over(session: Session, limits: AttemptLimits, subject: str, failures: int,
                  now: datetime) -> datetime | None:
    if failures < limits.max_failures:
        return None
    until = now + limits.lockout
    session.add(Lockout(subject=subject, created_at=now, locked_until=until))
    return until


def record_attempt(session: Session, limits: AttemptLimits, now: datetime, customer_ref: str,
                   device_ref: str | None, session_id: str | None, failed: bool, reason: str) -> datetime | None:
    """Log one attempt; on a failure, lock what went over the limit. Returns the lock end, if any."""
    keys = subjects(customer_ref, device_ref)
    for key in keys:  # always customer before device: no two transactions wait on each other
        serialize_on(session, f"attempts:{key}")
    session.add(Attempt(session_id=session_id, customer_ref=customer_ref, device_ref=device_ref,
                        created_at=now, failed=failed, reason=reason[:200]))
    session.flush()
    if not failed:
        return None
    locked = None
    # keys has no device entry when there is no device_ref: zip stops after the customer.
    for key, column, value in zip(keys, (Attempt.customer_ref, Attempt.device_ref), (customer_ref, device_ref)):
        since = _counting_since(session, limits, key, now)
        failures = session.scalar(sa.select(sa.func.count()).select_from(Attempt).where(
            column == value, Attempt.failed.is_(True), Attempt.created_at > since, Attempt.created_at <= now))
        locked = _lock_if_over(session, limits, key, failures, now) or locked
    return locked


def record_login_failure(session: Session, limits: AttemptLimits, now: datetime, username: str,
                         failed_action: str) -> datetime | None:
    """Lock a username after too many failed logins (counted from the audit log)."""
    key = f"user:{username}"
    serialize_on(session, f"attempts:{key}")
    since = _counting_since(session, limits, key, now)
    failures = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.subject == key, AuditEvent.action == failed_action,
        AuditEvent.at > since, AuditEvent.at <= now))
    return _lock_if_over(session, limits, key, failures, now)
