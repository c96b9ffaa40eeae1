"""Pytest fixtures for the storage tests: every test runs on SQLite and on PostgreSQL.

Import them into a test module (``from liveness.store.testing import *``).
PostgreSQL comes from ``LIVENESS_TEST_PG_URL`` (default: the cluster
``scripts/ensure_postgres.sh`` starts); each test gets a fresh database,
dropped afterwards. When the server is unreachable the PostgreSQL variants
are skipped, or fail when ``CI=true``.
"""

from __future__ import annotations

import base64
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from .ratelimit import AttemptLimits
from .store import Store, open_store

__all__ = ["clock", "database_url", "evidence_key", "make_store", "store"]  # the fixtures, for `import *`

DEFAULT_PG_URL = "postgresql+psycopg://liveness_test:liveness_test@127.0.0.1:55432/liveness_test"
BACKENDS = ("sqlite", "postgresql")


def pg_admin_url() -> str:
    return os.environ.get("LIVENESS_TEST_PG_URL", DEFAULT_PG_URL)


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


class FakeClock:
    """A settable clock, so expiry and lockout tests never sleep."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def _pg_unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not reachable ({reason}); run scripts/ensure_postgres.sh or set LIVENESS_TEST_PG_URL")


def fresh_pg_database():
    """A new, empty PostgreSQL database; a generator yielding its URL, dropping it after."""
    admin_url = make_url(pg_admin_url())
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        _pg_unavailable(str(exc.orig).splitlines()[0] if exc.orig else str(exc))
    name = f"lt_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'liveness.db'}"
    else:
        yield from fresh_pg_database()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def evidence_key():
    return new_key()


@pytest.fixture
def make_store(database_url, tmp_path, clock, evidence_key):
    """Opens a Store on the test's database (again, to simulate a restart)."""
    opened: list[Store] = []

    def make(**overrides) -> Store:
        options = dict(evidence_key=evidence_key, evidence_dir=tmp_path / "evidence",
                       limits=AttemptLimits(), clock=clock)
        options.update(overrides)
        store = open_store(database_url, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store):
    return make_store()


def verdict_for(session_id: str, verdict: str = "review", marker: float = 0.5) -> dict:
    """A verdict dict shaped like ``Verdict.to_dict()``; ``marker`` tags its scores."""
    return {"verdict": verdict, "reasons": [] if verdict == "accepted" else ["passive score below threshold"],
            "scores": {"match": marker, "passive": 1 - marker}, "policy_version": "2026.11.0",
            "policy_digest": "0123456789ab", "model_versions": {"sface": "2021dec", "passive": "test"},
            "challenge": [{"step": "smile", "ok": True}], "session_id": session_id}


def evidence_for(marker: int) -> "EvidenceInput":
    """Evidence whose frames, series and timeline all carry ``marker`` (0..255)."""
    import numpy as np

    from .evidence import EvidenceInput

    frame = np.full((48, 64, 3), marker, np.uint8)
    return EvidenceInput(key_frames=[frame, frame.copy()], series={"marker": [float(marker)] * 5},
                         timestamps=[i / 30 for i in range(5)], timeline=[{"event": "start", "marker": marker}])


def child_env() -> dict[str, str]:
    """Environment for a test's child Python process: the repository importable."""
    from ..config import PROJECT_ROOT

    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{PROJECT_ROOT}{os.pathsep}{path}" if path else str(PROJECT_ROOT)}
