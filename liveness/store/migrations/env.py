"""Alembic environment: run on the connection ``db.upgrade`` passes in, or on a URL.

From the command line (``alembic upgrade head`` at the repository root) the
URL is ``DATABASE_URL``, else the default SQLite file from ``liveness.config``.
"""

from alembic import context

import liveness  # noqa: F401  (import order guard)
from liveness.config import settings
from liveness.store.db import make_engine
from liveness.store.schema import Base

config = context.config


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or settings().database_url)
    with engine.begin() as conn:
        run(conn)
