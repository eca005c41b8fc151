"""The store's health: can we reach it, which PostGIS, which schema, how many rows per layer."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.errors import DatabaseUnavailable
from gis.store.db import check_postgis

COUNTS_SQL = """
SELECT
  (SELECT count(*) FROM regions WHERE level = 'district') AS districts,
  (SELECT count(*) FROM regions WHERE level = 'town') AS towns,
  (SELECT count(*) FROM regions WHERE level = 'village') AS villages,
  (SELECT count(*) FROM grids WHERE valid_to IS NULL) AS grids,
  (SELECT count(*) FROM units WHERE valid_to IS NULL) AS units,
  (SELECT count(*) FROM cases) AS cases,
  (SELECT count(*) FROM hotspots) AS hotspots,
  (SELECT count(*) FROM parcels) AS parcels,
  (SELECT count(*) FROM stations) AS stations
"""


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
