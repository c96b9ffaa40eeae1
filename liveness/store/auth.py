"""Reviewer and administrator accounts: argon2id password hashes and roles.

The review page needs ``require_role(user, "reviewer", "admin")``, the
threshold page ``require_role(user, "admin")``; the customer's page needs no
login. ``authenticate`` gives the same error for an unknown user and a wrong
password, spends the same time on both, locks a username after too many
failures (``AttemptLimits``) and audits every success and failure.
Accounts are created with ``python -m liveness users create NAME --role ROLE``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from . import audit, ratelimit
from .schema import User
from .store import Store

ROLES = ("reviewer", "admin")
MIN_PASSWORD_LENGTH = 12
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
LOGIN_FAILED = "login.failed"

_hasher = PasswordHasher()  # argon2id with the library's current defaults


@functools.cache
def _dummy_hash() -> str:
    """Verified against for unknown users, so they take as long as known ones."""
    return _hasher.hash("timing equaliser for unknown users")


class AuthError(Exception):
    """Login refused; the message never says whether the user exists."""


class PermissionDenied(Exception):
    pass


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    role: str
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> "UserInfo":
        return cls(user.id, user.username, user.role, user.disabled, user.created_at)


def require_role(user: UserInfo | None, *roles: str) -> UserInfo:
    """The user, when logged in with one of ``roles``; else PermissionDenied."""
    if user is None or user.disabled or user.role not in roles:
        raise PermissionDenied(f"this page needs the role {' or '.join(roles)}")
    return user


def recheck_role(session, user: UserInfo, *roles: str) -> User:
    """The user's row, checked again inside a write transaction (disabled or demoted meanwhile)."""
    require_role(user, *roles)
    row = session.get(User, user.id)
    require_role(row and UserInfo.of(row), *roles)
    return row


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def create_user(store: Store, username: str, password: str, role: str, actor: str = audit.SYSTEM) -> UserInfo:
    if not USERNAME_PATTERN.fullmatch(username):
        raise ValueError("a username is 2-64 characters: lower-case letters, digits, '.', '_', '-'")
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    _check_password(password)
    now = store.now()
    try:
        with store.write() as session:
            user = User(username=username, password_hash=_hasher.hash(password), role=role,
                        created_at=now, disabled=False)
            session.add(user)
            session.flush()
            audit.append(session, now, actor, "user.created", f"user:{username}", {"role": role})
            return UserInfo.of(user)
    except IntegrityError:
        raise ValueError(f"user {username!r} already exists") from None


def authenticate(store: Store, username: str, password: str) -> UserInfo:
    """The user for these credentials; raises AuthError or ratelimit.LockedOut."""
    now = store.now()
    key = f"user:{username}"
    with store.write() as session:
        ratelimit.check(session, [key], now)
        user = session.scalar(sa.select(User).where(User.username == username))
        try:
            _hasher.verify(user.password_hash if user else _dummy_hash(), password)
            ok = user is not None and not user.disabled
        except (VerificationError, InvalidHashError):
            ok = False
        if ok:
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            audit.append(session, now, username, "login.ok", key)
            return UserInfo.of(user)
        audit.append(session, now, username[:64], LOGIN_FAILED, key[:140])
        ratelimit.record_login_failure(session, store.limits, now, username, LOGIN_FAILED)
    raise AuthError("wrong username or password")


def get_user(store: Store, username: str) -> UserInfo | None:
    with store.read() as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        return UserInfo.of(user) if user else None


def list_users(store: Store) -> list[UserInfo]:
    with store.read() as session:
        return [UserInfo.of(u) for u in session.scalars(sa.select(User).order_by(User.username))]


def _change(store: Store, username: str, actor: str, action: str, **values) -> UserInfo:
    now = store.now()
    with store.write() as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            raise ValueError(f"no user {username!r}")
        for name, value in values.items():
            setattr(user, name, value)
        audit.append(session, now, actor, action, f"user:{username}",
                     {k: v for k, v in values.items() if k != "password_hash"})
        return UserInfo.of(user)


def set_disabled(store: Store, username: str, disabled: bool, actor: str = audit.SYSTEM) -> UserInfo:
    return _change(store, username, actor, "user.disabled" if disabled else "user.enabled", disabled=disabled)


def set_password(store: Store, username: str, password: str, actor: str = audit.SYSTEM) -> UserInfo:
    _check_password(password)
    return _change(store, username, actor, "user.password_changed", password_hash=_hasher.hash(password))
