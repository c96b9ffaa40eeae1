"""Engines, transactions and migrations for SQLite and PostgreSQL.

``make_engine(url)`` gives an engine with the right settings for the backend;
``upgrade(engine)`` / ``init_db(url)`` bring the schema to the newest Alembic
revision (from any working directory). On SQLite every write transaction
starts with ``BEGIN IMMEDIATE``: writers queue on the busy timeout instead of
failing half-way with "database is locked".
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
BEGIN_OPTION = "liveness_sqlite_begin"  # execution option: "IMMEDIATE" (default) or "DEFERRED"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we ship
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=10)
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL")


def _sqlite_engine(url) -> Engine:
    if url.database and url.database != ":memory:":
        path = Path(url.database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only from the start (SQLite gives its -wal and -shm files the same mode).
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                                 "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # evidence rows must survive a power cut
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_sqlite(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"


def serialize_on(session: Session, key: str) -> None:
    """Hold a transaction-scoped lock named ``key`` until commit or rollback.

    For read-then-write sequences (the audit chain head, attempt counts).
    SQLite needs nothing: its write transactions are already serial.
    """
    if is_sqlite(session):
        return
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})


def alembic_config(url: str | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``, one process at a time."""
    from alembic import command

    config = alembic_config()
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # Several app processes may start at once on a fresh database.
            connection.execute(sa.text("SELECT pg_advisory_lock(7201)"))
            connection.commit()
        try:
            with connection.begin():  # BEGIN IMMEDIATE on SQLite: the same guarantee
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_unlock(7201)"))
                connection.commit()


def init_db(url: str) -> Engine:
    """An engine on ``url`` with the schema at the newest revision."""
    engine = make_engine(url)
    upgrade(engine)
    return engine
