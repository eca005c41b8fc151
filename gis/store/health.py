"""The store's health: can we reach it, which PostGIS, which schema, how many rows per layer."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.errors import DatabaseUnavailable
from gis.registry.layers import LAYERS
from gis.store.db import check_postgis

# Rows per registry layer (its own table and constant condition; no joins needed to count).
COUNTS_SQL = "SELECT " + ", ".join(
    f"(SELECT count(*) FROM {layer.table} t WHERE {layer.where}) AS {layer.id}"
    for layer in LAYERS.values()
)


def layer_counts(engine: Engine) -> dict[str, int]:
    """Rows per layer (current grids and units only)."""
    with engine.connect() as conn:
        return {k: int(v) for k, v in conn.execute(sa.text(COUNTS_SQL)).mappings().one().items()}


def health(engine: Engine) -> dict[str, Any]:
    """A health report; raises DatabaseUnavailable when the store cannot answer."""
    version = check_postgis(engine)
    with engine.connect() as conn:
        try:
            revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        except sa.exc.ProgrammingError as exc:
            raise DatabaseUnavailable(
                "the database has no OneMap schema; run `onemap db migrate`"
            ) from exc
    try:
        counts = layer_counts(engine)
    except sa.exc.DBAPIError as exc:  # the database went away or lost its tables meanwhile
        raise DatabaseUnavailable(f"the database stopped answering: {exc.orig}") from exc
    return {
        "status": "ok",
        "database": "ok",
        "postgis": version,
        "schema_revision": revision,
        "counts": counts,
    }
