"""`onemap locate`: which grid and unit own a point, or every point of a CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("locate")
@click.argument("lon", type=float, required=False)
@click.argument("lat", type=float, required=False)
@click.option("--crs", default=None, help="EPSG:4326 (default), EPSG:4490, EPSG:45xx, GCJ02, BD09")
@click.option(
    "--csv",
    "csv_in",
    type=click.Path(dir_okay=False, path_type=Path),
    help="a CSV of points to locate (with --scheduler also a .parquet file or directory)",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="where to write the CSV with owner columns added",
)
@click.option("--lon-col", help="CSV column of longitudes (or x)")
@click.option("--lat-col", help="CSV column of latitudes (or y)")
@click.option("--encoding", help="CSV encoding, e.g. GBK")
@click.option(
    "--tolerance-m",
    type=float,
    default=50.0,
    show_default=True,
    help="how far outside every grid a point is still given to the nearest",
)
@click.option(
    "--bad-rows",
    type=click.Choice(["refuse", "mark"]),
    default="refuse",
    show_default=True,
    help="a file with bad rows is refused (they are listed, nothing is written), or they are "
    "written marked locate_status error",
)
@click.option(
    "--scheduler",
    help="locate on Dask: 'local' (a local cluster of --workers processes) or a scheduler's "
    "address (tcp://host:8786); --out is then a GeoParquet dataset (a directory)",
)
@click.option("--workers", type=int, default=2, show_default=True, help="local Dask workers")
def locate_cmd(
    lon: float | None,
    lat: float | None,
    crs: str | None,
    csv_in: Path | None,
    out: Path | None,
    lon_col: str | None,
    lat_col: str | None,
    encoding: str | None,
    tolerance_m: float,
    bad_rows: str,
    scheduler: str | None,
    workers: int,
) -> None:
    """Which grid and unit own LON LAT, or every point of a CSV (--csv IN --out OUT)."""
    import json

    import numpy as np

    from gis.crs.systems import parse_crs
    from gis.owners.locate import locate_point
    from gis.owners.pointcheck import cached_extent, check_points
    from gis.store.db import get_engine

    parsed = parse_crs(crs)
    engine = get_engine()
    if csv_in is not None:
        if out is None or lon is not None:
            raise click.UsageError("use either LON LAT, or --csv IN --out OUT")
        mark = bad_rows == "mark"
        if scheduler is not None:
            from gis.owners.bulk_geoparquet import locate_files

            summary = locate_files(
                engine, csv_in, out, parsed, scheduler, workers, lon_col, lat_col, tolerance_m, mark
            )
        else:
            from gis.io.locate_csv import locate_csv

            summary = locate_csv(
                engine, csv_in, out, parsed, lon_col, lat_col, encoding, tolerance_m, True, mark
            )
        click.echo(f"{summary}; written to {out}")
        return
    if lon is None or lat is None:
        raise click.UsageError("give LON and LAT, or --csv IN --out OUT")
    with engine.connect() as conn:
        checked = check_points(np.array([lon]), np.array([lat]), parsed, cached_extent(conn))
        if checked.problems[0]:
            click.secho(f"error: {checked.problems[0]}", fg="red", err=True)
            sys.exit(2)
        loc = locate_point(conn, float(checked.lon[0]), float(checked.lat[0]), tolerance_m)
    click.echo(json.dumps(loc.as_dict(), ensure_ascii=False, indent=1))
    if loc.status == "outside":
        sys.exit(1)
