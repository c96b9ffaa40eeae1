"""``Store``: the database, the evidence vault, the attempt limits and the clock.

Create one per process (in Streamlit: ``st.cache_resource``) with
``open_store()`` and pass it to the functions of ``sessions``, ``cases``,
``reviews``, ``auth``, ``policies``, ``retention`` and ``audit``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..config import Settings, settings as current_settings
from .db import BEGIN_OPTION, init_db
from .evidence import EvidenceVault
from .ratelimit import AttemptLimits


class StoreUnavailable(OSError):
    """The database cannot be reached or opened."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Store:
    engine: Engine
    vault: EvidenceVault
    limits: AttemptLimits = field(default_factory=AttemptLimits)
    clock: Callable[[], datetime] = utcnow  # tests pass a fake clock instead of sleeping

    def __post_init__(self):
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(self.engine.execution_options(**{BEGIN_OPTION: "DEFERRED"}),
                                    expire_on_commit=False)

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        with self._writer.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | None = None, *, evidence_key: str | None = None,
               evidence_dir: Path | None = None, limits: AttemptLimits | None = None,
               clock: Callable[[], datetime] | None = None, config: Settings | None = None) -> Store:
    """Migrate the database and open the evidence vault.

    Defaults come from ``liveness.config.settings()`` (``DATABASE_URL``,
    ``LIVENESS_EVIDENCE_DIR``, ``LIVENESS_EVIDENCE_KEY``). Raises
    ``EvidenceKeyMissing`` in production mode without a key and
    ``StoreUnavailable`` when the database cannot be reached.
    """
    config = config or current_settings()
    vault = EvidenceVault.from_settings(config, key=evidence_key, directory=evidence_dir)
    try:
        engine = init_db(url or config.database_url)
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else exc.__class__.__name__
        raise StoreUnavailable(f"the database is unreachable: {reason}") from None
    return Store(engine, vault, limits or AttemptLimits(), clock or utcnow)
