"""Alembic environment: runs on the connection handed over by models.db.Database.upgrade,
or, from the alembic command line, on REFORMFLOW_DATABASE_URL."""
from alembic import context
from sqlalchemy import create_engine

from models import Base
from models.db import default_url, normalise_url

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(normalise_url(default_url()))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
