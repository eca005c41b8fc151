"""Grid-plan generations: import a new plan, then re-join the layers to it.

A new plan closes every current grid and unit (valid_to = now) and adds the new ones in the
same transaction, so at any instant exactly one generation is current. Closed cases keep
the grid they had; everything else is re-joined by `rejoin`.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gis.io.importer import ImportSummary, import_source
from gis.io.read import read_source
from gis.owners.areas import AREA_OWNER_SQL, refresh_parcel_shares
from gis.owners.cache import owner_index
from gis.registry.layers import get_layer

CLOSED_CASE_STATUSES = ("closed", "evaluated", "cancelled")


def import_new_plan(
    engine: Engine, grids: Path, units: Path, crs: str | None = None, encoding: str | None = None
) -> list[ImportSummary]:
    """Replace the current grids and units with those in the two files, all or nothing."""
    grid_source = read_source(grids, crs=crs, encoding=encoding)
    unit_source = read_source(units, crs=crs, encoding=encoding)
    with engine.begin() as conn:
        conn.execute(sa.text("LOCK TABLE grids, units IN SHARE ROW EXCLUSIVE MODE"))
        conn.execute(sa.text("UPDATE units SET valid_to = now() WHERE valid_to IS NULL"))
        conn.execute(sa.text("UPDATE grids SET valid_to = now() WHERE valid_to IS NULL"))
        return [
            import_source(conn, get_layer("grids"), grid_source, grids.name),
            import_source(conn, get_layer("units"), unit_source, units.name),
        ]


@dataclass
class LayerMoves:
    """What re-joining did to one layer."""

    layer: str
    checked: int = 0
    moved: int = 0
    transitions: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)

    def lines(self, top: int = 10) -> list[str]:
        out = [f"{self.layer}: {self.checked:,} re-joined, {self.moved:,} changed grid"]
        for (old, new), n in self.transitions.most_common(top):
            out.append(f"  {old or '(none)'} -> {new or '(none)'}: {n:,}")
        if len(self.transitions) > top:
            out.append(f"  ... and {len(self.transitions) - top} more transitions")
        return out


@dataclass
class RejoinReport:
    """What `rejoin` did, layer by layer."""

    layers: list[LayerMoves]
    seconds: float

    def __str__(self) -> str:
        lines = [line for layer in self.layers for line in layer.lines()]
        return "\n".join([*lines, f"re-joined in {self.seconds:.1f} s"])


POINT_LAYERS = {
    "cases": f"status NOT IN {CLOSED_CASE_STATUSES}",
    "stations": "true",
    "hotspots": "GeometryType(t.geom) = 'POINT'",
}


def _rejoin_points(conn: Connection, layer: str, where: str) -> LayerMoves:
    rows = conn.execute(
        sa.text(
            f"SELECT t.id, g.code, ST_X(t.geom), ST_Y(t.geom) FROM {layer} t "  # noqa: S608
            f"LEFT JOIN grids g ON g.id = t.grid_id WHERE {where} ORDER BY t.id"
        )
    ).all()
    moves = LayerMoves(layer, len(rows))
    if not rows:
        return moves
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    old = [r[1] for r in rows]
    index = owner_index(conn)
    o = index.owners(np.array([r[2] for r in rows], float), np.array([r[3] for r in rows], float))
    new_codes = [index.grid_rows[g]["code"] if g >= 0 else None for g in o.grid.tolist()]
    frame = pd.DataFrame(
        {
            "id": ids,
            "grid_id": pd.array(np.where(o.grid >= 0, index.grid_ids[o.grid], 0), dtype="Int64"),
            "unit_id": pd.array(np.where(o.unit >= 0, index.unit_ids[o.unit], 0), dtype="Int64"),
            "on_boundary": o.on_boundary,
            "snap": np.where(o.status == "snapped", np.round(o.distance_m, 3), np.nan),
        }
    )
    frame.loc[o.grid < 0, "grid_id"] = pd.NA
    frame.loc[o.unit < 0, "unit_id"] = pd.NA
    conn.execute(
        sa.text(
            "CREATE TEMP TABLE _owners (id bigint, grid_id integer, unit_id integer, "
            "on_boundary boolean, snap double precision) ON COMMIT DROP"
        )
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    buf = io.StringIO()
    frame.to_csv(buf, header=False, index=False)
    with raw.cursor() as cur, cur.copy("COPY _owners FROM STDIN (FORMAT csv)") as copy:
        copy.write(buf.getvalue())
    conn.execute(
        sa.text(
            f"UPDATE {layer} t SET grid_id = o.grid_id, unit_id = o.unit_id, "  # noqa: S608
            "on_boundary = o.on_boundary, snap_distance_m = o.snap FROM _owners o WHERE t.id = o.id"
        )
    )
    conn.execute(sa.text("DROP TABLE _owners"))
    for a, b in zip(old, new_codes, strict=True):
        if a != b:
            moves.moved += 1
            moves.transitions[(a, b)] += 1
    return moves


def _codes(conn: Connection, sql: str) -> dict[int, str | None]:
    return {int(r[0]): r[1] for r in conn.execute(sa.text(sql))}


def rejoin(engine: Engine) -> RejoinReport:
    """Re-assign hotspots, parcels, stations and open cases to the current plan."""
    started = time.perf_counter()
    layers = []
    with engine.begin() as conn:
        for layer, where in POINT_LAYERS.items():
            layers.append(_rejoin_points(conn, layer, where))
        # Hotspot areas: the grid with the largest share, in SQL.
        before = _codes(
            conn,
            "SELECT h.id, g.code FROM hotspots h LEFT JOIN grids g "
            "ON g.id = h.grid_id WHERE GeometryType(h.geom) <> 'POINT'",
        )
        conn.execute(
            sa.text(
                "UPDATE hotspots t SET grid_id = o.grid_id, unit_id = o.unit_id, on_boundary = false, "  # noqa: S608
                "snap_distance_m = NULL FROM (SELECT s.id, og.grid_id, ou.unit_id FROM hotspots s "
                f"{AREA_OWNER_SQL} WHERE GeometryType(s.geom) <> 'POINT') o WHERE t.id = o.id"
            )
        )
        after = _codes(
            conn,
            "SELECT h.id, g.code FROM hotspots h LEFT JOIN grids g "
            "ON g.id = h.grid_id WHERE GeometryType(h.geom) <> 'POINT'",
        )
        areas = LayerMoves("hotspot areas", len(before))
        parcels_before = _codes(
            conn, "SELECT p.id, g.code FROM parcels p LEFT JOIN grids g ON g.id = p.grid_id"
        )
        refresh_parcel_shares(conn)
        parcels_after = _codes(
            conn, "SELECT p.id, g.code FROM parcels p LEFT JOIN grids g ON g.id = p.grid_id"
        )
        parcels = LayerMoves("parcels", len(parcels_before))
        for moves, b, a in ((areas, before, after), (parcels, parcels_before, parcels_after)):
            for key, old in b.items():
                if a.get(key) != old:
                    moves.moved += 1
                    moves.transitions[(old, a.get(key))] += 1
        layers += [areas, parcels]
    return RejoinReport(layers, time.perf_counter() - started)
