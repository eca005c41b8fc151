"""Alembic environment: migrates the database named by the config or by OneMap's settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from gis.store.db import database_url, normalise_url
from gis.store.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or database_url()


def run_migrations_online() -> None:
    engine = create_engine(normalise_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=lambda obj, name, type_, reflected, compare_to: (
                not (type_ == "table" and name in {"spatial_ref_sys"})
            ),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
