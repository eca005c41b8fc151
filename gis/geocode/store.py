"""The gazetteer table: writing an import (names normalised and keyed, parents and aliases
resolved) and ad-hoc lookups by character bigrams in PostGIS."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.errors import ImportRejected, RowError
from gis.geocode.normalise import bigrams, normalise

COLUMNS = ("code", "name", "level", "kind", "number", "valid_from", "valid_to", "norm", "bigrams")
LINKS = ("parent_code", "alias_of")  # codes of other entries, in the file or already stored


def _array(values: list[str]) -> str:
    return (
        "{"
        + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )


def _check_links(conn: Connection, frame: pd.DataFrame) -> None:
    """Every parent_code and alias_of names an entry of the file or of the table."""
    known = set(frame["code"]) | set(conn.execute(sa.text("SELECT code FROM gazetteer")).scalars())
    errors = []
    codes = frame["code"].tolist()
    for column in LINKS:
        for i, value in enumerate(frame[column].tolist()):
            if value is not None and value not in known:
                errors.append(
                    RowError(
                        i + 1, column, value, "no entry has this code: add it or import it first"
                    )
                )
            elif value is not None and value == codes[i]:
                errors.append(RowError(i + 1, column, value, "an entry cannot point at itself"))
    if errors:
        errors.sort(key=lambda e: e.row)
        raise ImportRejected("gazetteer", "the file", errors, len(frame))


def write_gazetteer(
    conn: Connection, frame: pd.DataFrame, progress: Callable[[int], object] | None = None
) -> int:
    """Insert validated gazetteer rows (the registry's fields and `geom`), all or nothing: a
    polygon is kept as `area` with its inner point as `geom`; names get their normalised form
    and bigrams; parent_code and alias_of become links to the entries they name."""
    _check_links(conn, frame)
    geoms = np.asarray(frame["geom"].to_numpy(), dtype=object)
    polygonal = shapely.get_type_id(geoms) != 0
    points = geoms.copy()
    points[polygonal] = shapely.point_on_surface(geoms[polygonal])
    areas = np.full(len(geoms), None, dtype=object)
    areas[polygonal] = [
        g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geoms[polygonal]
    ]
    norms = [normalise(n) for n in frame["name"]]
    out = pd.DataFrame({c: frame[c] for c in COLUMNS if c in frame})
    out["norm"] = norms
    out["bigrams"] = [_array(bigrams(n)) for n in norms]
    for c in LINKS:
        out[c] = frame[c]
    out["geom"] = shapely.to_wkb(shapely.set_srid(points, 4326), hex=True, include_srid=True)
    out["area"] = [
        None
        if a is None
        else shapely.to_wkb(shapely.set_srid(a, 4326), hex=True, include_srid=True)
        for a in areas
    ]
    conn.execute(
        sa.text(
            "CREATE TEMP TABLE _gazetteer (id integer DEFAULT nextval(pg_get_serial_sequence("
            "'gazetteer', 'id')), code text, name text, level text, kind text, number text, "
            "valid_from date, valid_to date, norm text, bigrams text[], parent_code text, "
            "alias_of text, geom geometry, area geometry) ON COMMIT DROP"
        )
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    cols = list(out.columns)
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY _gazetteer ({', '.join(cols)}) FROM STDIN (FORMAT csv)") as copy,
    ):
        for start in range(0, len(out), 50_000):
            buf = io.StringIO()
            part = out.iloc[start : start + 50_000]
            part.to_csv(buf, header=False, index=False)
            copy.write(buf.getvalue())
            if progress:
                progress(len(part))
    conn.execute(sa.text("ANALYZE _gazetteer"))
    # Ids are drawn first, so an entry links to one of the same file in the same INSERT.
    conn.execute(
        sa.text(
            "INSERT INTO gazetteer (id, code, name, level, kind, number, valid_from, valid_to, "
            "norm, bigrams, geom, area, parent_id, alias_of) "
            "SELECT s.id, s.code, s.name, s.level, s.kind, s.number, s.valid_from, s.valid_to, "
            "s.norm, s.bigrams, s.geom, s.area, coalesce(fp.id, tp.id), coalesce(fa.id, ta.id) "
            "FROM _gazetteer s "
            "LEFT JOIN _gazetteer fp ON fp.code = s.parent_code "
            "LEFT JOIN gazetteer tp ON tp.code = s.parent_code "
            "LEFT JOIN _gazetteer fa ON fa.code = s.alias_of "
            "LEFT JOIN gazetteer ta ON ta.code = s.alias_of ORDER BY s.id"
        )
    )
    conn.execute(sa.text("DROP TABLE _gazetteer"))
    return len(out)


SIMILAR_SQL = sa.text("""
SELECT t.code, t.name, t.level, coalesce(a.code, t.code) AS place_code,
       ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat,
       2.0 * cardinality(ARRAY(SELECT unnest(t.bigrams) INTERSECT SELECT unnest(CAST(:keys AS text[]))))
           / (cardinality(t.bigrams) + cardinality(CAST(:keys AS text[]))) AS dice
  FROM gazetteer t LEFT JOIN gazetteer a ON a.id = t.alias_of
 WHERE t.bigrams && CAST(:keys AS text[])
 ORDER BY dice DESC, char_length(t.name), t.code
 LIMIT :n
""")


def similar_names(conn: Connection, name: str, limit: int = 10) -> list[dict[str, Any]]:
    """Entries whose names share character bigrams with `name`, most alike first (Dice's
    coefficient over the bigrams): the GIN index answers, for ad-hoc lookups and checks."""
    keys = bigrams(normalise(name))
    if not keys:
        return []
    rows = conn.execute(SIMILAR_SQL, {"keys": keys, "n": limit}).mappings()
    return [dict(r) | {"dice": round(float(r["dice"]), 3)} for r in rows]
