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


# The versions of every layer table (migration 0003: bumped in the transaction of any change).
VERSIONS_SQL = sa.text(
    "SELECT string_agg(tbl || ':' || version, '/' ORDER BY tbl) FROM layer_versions"
)
_counted: dict[str, tuple[str, dict[str, int]]] = {}  # database -> (versions, counts)


def layer_counts(engine: Engine) -> dict[str, int]:
    """Rows per layer (current grids and units only), counted again only when a layer table
    has changed since the last count: a probe calling /healthz costs one indexed read."""
    key = str(engine.url)
    with engine.connect() as conn:
        versions = str(conn.execute(VERSIONS_SQL).scalar_one())  # read first: counts are newer
        cached = _counted.get(key)
        if cached is not None and cached[0] == versions:
            return dict(cached[1])
        row = conn.execute(sa.text(COUNTS_SQL)).mappings().one()
    counts = {k: int(v) for k, v in row.items()}
    _counted[key] = (versions, counts)
    return dict(counts)


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
