"""Import a layer file or frame: read, validate everything, then write all or nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from tqdm import tqdm

from gis.errors import ImportRejected, InvalidInput
from gis.io.read import Source, read_source
from gis.io.validate import Context, validate
from gis.io.write import write_rows
from gis.owners.extent import city_extent
from gis.registry.layers import get_layer
from gis.registry.model import Layer
from gis.store.settings import get_settings

PARENT_QUERY = {
    "district": None,
    "town": "SELECT code FROM regions WHERE level = 'district'",
    "village": "SELECT code FROM regions WHERE level = 'town'",
    "grid": "SELECT code FROM regions WHERE level = 'village'",
    "unit": "SELECT code FROM grids WHERE valid_to IS NULL",
}
EXISTING_QUERY = {
    "regions": "SELECT code FROM regions",
    "grids": "SELECT code FROM grids WHERE valid_to IS NULL",
    "units": "SELECT code FROM units WHERE valid_to IS NULL",
    "parcels": "SELECT code FROM parcels",
    "gazetteer": "SELECT code FROM gazetteer",
}


@dataclass
class ImportSummary:
    """What an import did."""

    layer: str
    source: str
    rows: int
    seconds: float
    owned: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        text = (
            f"imported {self.rows:,} {self.layer} from {self.source} in {self.seconds:.1f} s "
            f"({self.rows_per_second:,.0f} rows/s)"
        )
        if self.owned is not None:
            text += f"; {self.owned:,} given a grid, {self.rows - self.owned:,} outside coverage"
        return "\n".join([text, *(f"note: {n}" for n in self.notes)])


def load_context(conn: Connection, spec: Layer) -> Context:
    """The extent and the codes an import of `spec` is checked against."""
    extent = city_extent(conn, get_settings().extent_margin_m)
    existing: set[str] = set()
    if spec.table in EXISTING_QUERY:
        existing = set(conn.execute(sa.text(EXISTING_QUERY[spec.table])).scalars())
    parents = None
    parent_sql = PARENT_QUERY[spec.level] if spec.level else None
    if parent_sql:
        parents = set(conn.execute(sa.text(parent_sql)).scalars())
    return Context(extent, existing, parents)


def import_source(
    conn: Connection, spec: Layer, source: Source, name: str, progress: bool = False
) -> ImportSummary:
    """Validate and write `source` inside the caller's transaction; raise ImportRejected."""
    if not spec.import_fields:  # the analysts' layers: computed by gis/stats, never imported
        raise InvalidInput(f"{spec.id} is computed by OneMap, not imported: see onemap --help")
    started = time.perf_counter()
    conn.execute(sa.text(f"LOCK TABLE {spec.table} IN SHARE ROW EXCLUSIVE MODE"))
    ctx = load_context(conn, spec)
    frame, errors = validate(source, spec, ctx)
    if errors:
        raise ImportRejected(spec.name, name, errors, len(frame))
    with tqdm(
        total=len(frame),
        unit="rows",
        desc=f"writing {spec.name}",
        disable=not progress or len(frame) < 10_000,
        leave=False,
    ) as bar:
        rows = write_rows(conn, spec, frame, progress=bar.update)
    owned = None
    if spec.owned:
        owned = int(
            conn.execute(
                sa.text(
                    f"SELECT count(*) FROM (SELECT grid_id FROM {spec.table} "  # noqa: S608
                    "ORDER BY id DESC LIMIT :n) t WHERE grid_id IS NOT NULL"
                ),
                {"n": rows},
            ).scalar_one()
        )
    return ImportSummary(
        spec.name, name, rows, time.perf_counter() - started, owned, list(source.notes)
    )


def import_file(
    engine: Engine,
    layer: str,
    path: str | Path,
    crs: str | None = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    progress: bool = False,
) -> ImportSummary:
    """Import one file into `layer`, all or nothing."""
    spec = get_layer(layer)
    started = time.perf_counter()
    source = read_source(path, crs=crs, encoding=encoding, lon_col=lon_col, lat_col=lat_col)
    with engine.begin() as conn:
        summary = import_source(conn, spec, source, Path(path).name, progress=progress)
    summary.seconds = time.perf_counter() - started
    return summary
