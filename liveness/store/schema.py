"""SQLAlchemy 2 models: the tables behind sessions, cases, reviewers and audit.

The Alembic migrations in ``liveness/store/migrations`` create exactly these
tables (a test compares them); change both together.

Times are stored as UTC and always come back timezone-aware. Customer and
device references are opaque strings chosen by the caller: pass a pseudonym
(for example an HMAC of the CPF), never a name or a document number.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(sa.TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: sa.JSON, list: sa.JSON}


class User(Base):
    """A reviewer or an administrator of the review and threshold pages."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (sa.CheckConstraint("role IN ('reviewer', 'admin')", name="ck_users_role"),)


class VerificationSession(Base):
    """One verification run of a customer: a single-use, expiring nonce.

    Only a hash of the nonce is kept, so a database leak cannot replay it.
    """

    __tablename__ = "verification_sessions"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    nonce_hash: Mapped[str] = mapped_column(sa.String(64))
    customer_ref: Mapped[str] = mapped_column(sa.String(128), index=True)
    device_ref: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]


class Attempt(Base):
    """Every verification outcome, for the attempt limit and statistics."""

    __tablename__ = "attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str | None] = mapped_column(sa.ForeignKey("verification_sessions.id"))
    customer_ref: Mapped[str] = mapped_column(sa.String(128))
    device_ref: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime]
    failed: Mapped[bool]
    reason: Mapped[str] = mapped_column(sa.String(200))

    __table_args__ = (
        sa.Index("ix_attempts_customer_time", "customer_ref", "created_at"),
        sa.Index("ix_attempts_device_time", "device_ref", "created_at"),
    )


class Lockout(Base):
    """A customer or device refused until ``locked_until``."""

    __tablename__ = "lockouts"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(140), index=True)  # "customer:<ref>" / "device:<ref>"
    created_at: Mapped[datetime]
    locked_until: Mapped[datetime]


class PolicyVersion(Base):
    """A saved decision policy; the newest row is the one in force."""

    __tablename__ = "policy_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(40), unique=True)
    digest: Mapped[str] = mapped_column(sa.String(12))
    values: Mapped[dict]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class Case(Base):
    """The verdict of one session, and its encrypted evidence file.

    ``evidence_file`` is relative to the evidence directory; it is set only
    after the file is durably on disk, and cleared (``purged_at``) when the
    retention period is over.

    ``trace`` is the session's ``liveness.trace.SessionTrace`` (None for cases
    recorded before it was kept): per-frame numbers — smile, blink, yaw,
    quality and live scores, identity similarities — no image and no
    embedding. It lives in the row, not in the encrypted evidence, so that
    the what-if reads every labelled case without opening its evidence, and
    stays after the evidence is purged, as the scores and the label do.
    """

    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(sa.ForeignKey("verification_sessions.id"), unique=True)
    customer_ref: Mapped[str] = mapped_column(sa.String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    verdict: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    reasons: Mapped[list]
    scores: Mapped[dict]
    policy_version: Mapped[str] = mapped_column(sa.String(40))
    policy_digest: Mapped[str] = mapped_column(sa.String(12))
    model_versions: Mapped[dict]
    trace: Mapped[dict | None]
    evidence_file: Mapped[str | None] = mapped_column(sa.String(200))
    evidence_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    evidence_bytes: Mapped[int | None]
    purged_at: Mapped[datetime | None]

    decision: Mapped["Decision | None"] = relationship(back_populates="case", uselist=False)

    __table_args__ = (
        sa.CheckConstraint("verdict IN ('accepted', 'review')", name="ck_cases_verdict"),
        sa.CheckConstraint("status IN ('accepted', 'review', 'approved', 'rejected')", name="ck_cases_status"),
    )


class Decision(Base):
    """A reviewer's approve/reject on a case: the case's label."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.id"), unique=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(sa.String(16))
    note: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]

    case: Mapped[Case] = relationship(back_populates="decision")
    reviewer: Mapped[User] = relationship()

    __table_args__ = (sa.CheckConstraint("outcome IN ('approve', 'reject')", name="ck_decisions_outcome"),)


class AuditEvent(Base):
    """Append-only log, hash-chained: each row's hash covers the previous one.

    UPDATE and DELETE are refused by the ORM (see ``audit.py``) and by
    database triggers (see the migration); ``prev_hash`` is unique, so the
    chain cannot fork.
    """

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(64))
    subject: Mapped[str] = mapped_column(sa.String(140))
    details: Mapped[dict]
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
