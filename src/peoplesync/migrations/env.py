"""Alembic environment: runs on the connection handed over by ``peoplesync.people.database``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from peoplesync.messaging import tables as _messaging_tables  # noqa: F401 - registers its tables
from peoplesync.messaging.links import tables as _link_tables  # noqa: F401 - registers its tables
from peoplesync.people.tables import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # command-line use: alembic -x url=... upgrade head
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = engine_from_config(
        {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as sync_connection:
        context.configure(
            connection=sync_connection, target_metadata=metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
