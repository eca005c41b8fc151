"""The `onemap` command line: database, demo city, import/export, quality checks, server."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gis.errors import OneMapError


class OneMapGroup(click.Group):
    """Turns OneMap's domain errors into a clear message and exit status 2, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except OneMapError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(2)


@click.group(cls=OneMapGroup)
def main() -> None:
    """OneMap (一张图): the grid-governance map of a city."""


# --- db -------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Manage the project-local PostGIS cluster (or the database in ONEMAP_DATABASE_URL)."""


def _cluster():  # type: ignore[no-untyped-def]
    from gis.store.cluster import LocalCluster
    from gis.store.settings import get_settings

    return LocalCluster.from_settings(get_settings())


def _external_url() -> str | None:
    from gis.store.settings import get_settings

    return get_settings().database_url


@db.command("start")
def db_start() -> None:
    """Start the local cluster (creating it the first time); prints its URL."""
    if _external_url():
        click.echo("ONEMAP_DATABASE_URL is set; the local cluster is not used.")
        return
    cluster = _cluster()
    cluster.start()
    click.echo(f"PostGIS running: {cluster.url()}")


@db.command("stop")
def db_stop() -> None:
    """Stop the local cluster."""
    stopped = _cluster().stop()
    click.echo("stopped" if stopped else "not running")


@db.command("status")
def db_status() -> None:
    """Say whether the database answers, and its PostGIS version and schema revision."""
    import sqlalchemy as sa

    from gis.store.db import check_postgis, get_engine

    engine = get_engine()
    version = check_postgis(engine)
    with engine.connect() as conn:
        try:
            rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        except sa.exc.ProgrammingError:
            rev = None
    click.echo(f"database: {engine.url.render_as_string(hide_password=True)}")
    click.echo(f"postgis:  {version}")
    click.echo(f"schema:   {rev or 'not migrated (run `onemap db migrate`)'}")


@db.command("url")
def db_url() -> None:
    """Print the database URL in force."""
    from gis.store.db import database_url

    click.echo(database_url())


@db.command("migrate")
def db_migrate() -> None:
    """Apply the migrations to the database in force (creating PostGIS if needed)."""
    from gis.store.db import database_url
    from gis.store.migrate import upgrade

    url = database_url()
    upgrade(url)
    click.echo("schema is up to date")


# --- demo city --------------------------------------------------------------------------
BOUNDARIES = Path(__file__).resolve().parent.parent / "data" / "boundaries"


@main.command("demo-city")
@click.option("--grids", default=1000, show_default=True, help="grids (at least)")
@click.option("--units", default=4000, show_default=True, help="units (at least)")
@click.option("--cases", default=5000, show_default=True)
@click.option("--hotspots", default=200, show_default=True)
@click.option("--parcels", default=100, show_default=True)
@click.option("--stations", default=300, show_default=True)
@click.option("--seed", type=int, default=None, help="generator seed (default ONEMAP_SEED)")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="folder for the layer files",
)
def demo_city(
    grids: int,
    units: int,
    cases: int,
    hotspots: int,
    parcels: int,
    stations: int,
    seed: int | None,
    out: Path,
) -> None:
    """Generate a synthetic city (boundaries and thematic layers) into files."""
    import time

    from gis.demo.city import CitySpec
    from gis.demo.files import write_city
    from gis.store.settings import get_settings

    started = time.perf_counter()
    try:
        spec = CitySpec(grids=grids, units=units, seed=seed or get_settings().seed)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    counts = write_city(spec, out, cases, hotspots, parcels, stations)
    click.echo(", ".join(f"{v:,} {k}" for k, v in counts.items()))
    click.echo(f"written to {out} in {time.perf_counter() - started:.1f} s")


@main.group()
def demo() -> None:
    """The demo city in the database."""


@demo.command("load")
@click.option(
    "--boundaries",
    type=click.Path(file_okay=False, path_type=Path),
    default=BOUNDARIES,
    show_default=True,
)
@click.option("--cases", default=5000, show_default=True)
@click.option("--reset", is_flag=True, help="empty every layer first (asks for confirmation)")
@click.option("--yes", is_flag=True, help="do not ask")
def demo_load(boundaries: Path, cases: int, reset: bool, yes: bool) -> None:
    """Load the demo city (once; a database that holds districts is left alone)."""
    from gis.demo.files import empty_layers, load_demo
    from gis.store.db import get_engine
    from gis.store.health import layer_counts
    from gis.store.settings import get_settings

    engine = get_engine()
    if reset:
        url = engine.url.render_as_string(hide_password=True)
        if not yes:
            click.confirm(f"Delete every row of every layer in {url}?", abort=True)
        empty_layers(engine)
    summaries = load_demo(engine, boundaries, get_settings().seed, cases=cases)
    if not summaries:
        click.echo("demo city already loaded")
    for s in summaries:
        click.echo(str(s))
    counts = layer_counts(engine)
    click.echo("in the database: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))


DEMO_ROLES = ("dispatcher", "grid_worker", "analyst", "admin")


@demo.command("tokens")
def demo_tokens() -> None:
    """Issue (anew) one demo user per role and print their tokens."""
    import sqlalchemy as sa

    from gis.access.users import add_user
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        grid = conn.execute(
            sa.text(
                "SELECT g.code FROM grids g JOIN cases c ON c.grid_id = g.id "
                "WHERE g.valid_to IS NULL GROUP BY g.code ORDER BY count(*) DESC, g.code LIMIT 1"
            )
        ).scalar()
        if grid is None:
            raise click.ClickException("load the demo city first: onemap demo load")
        click.echo("demo tokens (new ones each time; send as Authorization: Bearer TOKEN):")
        for role in DEMO_ROLES:
            g = grid if role == "grid_worker" else None
            token = add_user(conn, f"demo-{role.replace('_', '-')}", role, g)
            where = f" (grid {grid})" if g else ""
            click.echo(f"  {role:12s}{where:24s} {token}")


# --- users ------------------------------------------------------------------------------
@main.group()
def users() -> None:
    """Users and their bearer tokens."""


@users.command("add")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(DEMO_ROLES))
@click.option("--grid", "grid_code", default=None, help="the grid of a grid_worker")
def users_add(name: str, role: str, grid_code: str | None) -> None:
    """Create a user (or renew their token) and print the token, once."""
    from gis.access.users import add_user
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        token = add_user(conn, name, role, grid_code)
    click.echo(token)


@users.command("list")
def users_list() -> None:
    """Users, roles and grids (never tokens)."""
    import sqlalchemy as sa

    from gis.store.db import get_engine

    with get_engine().connect() as conn:
        for r in conn.execute(
            sa.text("SELECT name, role, grid_code, disabled FROM users ORDER BY name")
        ):
            state = " (disabled)" if r.disabled else ""
            click.echo(f"{r.name:24s} {r.role:12s} {r.grid_code or '':15s}{state}")


@users.command("disable")
@click.argument("name")
def users_disable(name: str) -> None:
    """Disable a user's token."""
    from gis.access.users import disable_user
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        disable_user(conn, name)
    click.echo(f"disabled {name}")


# --- case categories --------------------------------------------------------------------
@main.group()
def categories() -> None:
    """Case categories (major/minor classes) and their deadlines."""


@categories.command("list")
def categories_list() -> None:
    from gis.cases.read import categories as read
    from gis.store.db import get_engine

    with get_engine().connect() as conn:
        for c in read(conn):
            click.echo(
                f"{c['major_label']}/{c['label']:10s} {c['code']:22s} "
                f"respond {c['respond_hours']:4d} h  close {c['close_hours']:4d} h"
            )


@categories.command("set")
@click.argument("code")
@click.option("--respond-hours", type=click.IntRange(1, 8760), required=True)
@click.option("--close-hours", type=click.IntRange(1, 8760), required=True)
def categories_set(code: str, respond_hours: int, close_hours: int) -> None:
    """Change a category's deadlines (for cases reported from now on)."""
    import sqlalchemy as sa

    from gis.store.db import get_engine

    if respond_hours > close_hours:
        raise click.BadParameter("--respond-hours must not exceed --close-hours")
    with get_engine().begin() as conn:
        done = conn.execute(
            sa.text(
                "UPDATE case_categories SET respond_hours = :r, close_hours = :c WHERE code = :k"
            ),
            {"r": respond_hours, "c": close_hours, "k": code},
        )
        if done.rowcount == 0:
            raise click.BadParameter(f"unknown category {code!r} (onemap categories list)")
    click.echo(f"{code}: respond within {respond_hours} h, close within {close_hours} h")


# --- import / export --------------------------------------------------------------------
def _layer_choice() -> click.Choice:
    from gis.registry.layers import LAYERS

    return click.Choice(list(LAYERS))


@main.command("import")
@click.argument("layer", type=_layer_choice())
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--crs", help="CRS of a file that declares none, e.g. EPSG:4490 or EPSG:4549")
@click.option("--encoding", help="text encoding of a Shapefile or CSV, e.g. GBK")
@click.option("--lon-col", help="CSV column of longitudes (default: lon, lng, longitude, x, 经度)")
@click.option("--lat-col", help="CSV column of latitudes (default: lat, latitude, y, 纬度)")
def import_cmd(
    layer: str,
    file: Path,
    crs: str | None,
    encoding: str | None,
    lon_col: str | None,
    lat_col: str | None,
) -> None:
    """Import FILE (GeoJSON, GeoPackage, Shapefile or CSV) into LAYER, all or nothing."""
    from gis.io.importer import import_file
    from gis.store.db import get_engine

    summary = import_file(
        get_engine(),
        layer,
        file,
        crs=crs,
        encoding=encoding,
        lon_col=lon_col,
        lat_col=lat_col,
        progress=True,
    )
    click.echo(str(summary))


@main.command("export")
@click.argument("layer", type=_layer_choice())
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_cmd(layer: str, file: Path) -> None:
    """Export LAYER to FILE (.geojson, .gpkg or .shp)."""
    from gis.io.export import export_layer
    from gis.store.db import get_engine

    n = export_layer(get_engine(), layer, file)
    click.echo(f"exported {n:,} {layer} to {file}")


# --- quality checks ---------------------------------------------------------------------
@main.command("qa")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="check a plan given as files (districts.geojson … units.geojson) instead",
)
@click.option(
    "--min-area",
    type=float,
    default=0.01,
    show_default=True,
    help="smallest gap or overlap reported, in m²",
)
@click.option("--json", "as_json", is_flag=True, help="print the findings as JSON")
def qa_cmd(folder: Path | None, min_area: float, as_json: bool) -> None:
    """Check the grid plan: invalid shapes, overlaps, gaps, outside parents, duplicate codes.

    Exits 1 when anything is found.
    """
    import json

    from gis.plan.qa import check_database, check_files, findings_frame

    if folder:
        findings = check_files(folder, min_area)
    else:
        from gis.store.db import get_engine

        findings = check_database(get_engine(), min_area)
    if as_json:
        click.echo(json.dumps([f.as_dict() for f in findings], ensure_ascii=False, indent=1))
    elif findings:
        table = findings_frame(findings)
        with __import__("pandas").option_context(
            "display.max_rows", 500, "display.width", 200, "display.max_colwidth", 80
        ):
            click.echo(table.to_string(index=False))
    click.echo(f"{len(findings)} finding(s)", err=as_json)
    if findings:
        sys.exit(1)


# --- server -----------------------------------------------------------------------------
@main.command("serve")
@click.option("--host", default=None, help="default ONEMAP_HOST (127.0.0.1)")
@click.option("--port", type=int, default=None, help="default ONEMAP_PORT (8000)")
@click.option("--workers", type=int, default=1, show_default=True)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the API and the map."""
    import uvicorn

    from gis.store.db import check_postgis, get_engine
    from gis.store.settings import get_settings

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    check_postgis(get_engine())
    base = f"http://{host}:{port}"
    click.echo(
        f"OneMap serving on {base}\n  map:      {base}/map\n  health:   {base}/healthz\n"
        f"  API docs: {base}/docs"
    )
    uvicorn.run(
        "api.app:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # no URLs in logs: Open311 clients put api_key in query strings
        timeout_graceful_shutdown=5,  # open event streams end at shutdown; clients reconnect
    )


# --- locate -----------------------------------------------------------------------------
@main.command("locate")
@click.argument("lon", type=float, required=False)
@click.argument("lat", type=float, required=False)
@click.option("--crs", default=None, help="EPSG:4326 (default), EPSG:4490, EPSG:45xx, GCJ02, BD09")
@click.option(
    "--csv",
    "csv_in",
    type=click.Path(dir_okay=False, path_type=Path),
    help="a CSV of points to locate",
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
        from gis.io.locate_csv import locate_csv

        summary = locate_csv(
            engine, csv_in, out, parsed, lon_col, lat_col, encoding, tolerance_m, progress=True
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


# --- plan generations -------------------------------------------------------------------
@main.command("new-plan")
@click.argument("grids", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("units", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--crs", help="CRS of files that declare none")
@click.option("--encoding", help="text encoding of Shapefiles or CSVs, e.g. GBK")
def new_plan_cmd(grids: Path, units: Path, crs: str | None, encoding: str | None) -> None:
    """Import a new grid plan (GRIDS and UNITS files) as a new generation, all or nothing.

    The current grids and units get valid_to = now; run `onemap rejoin` afterwards.
    """
    from gis.plan.generations import import_new_plan
    from gis.store.db import get_engine

    for summary in import_new_plan(get_engine(), grids, units, crs, encoding):
        click.echo(str(summary))
    click.echo("the previous plan is closed; run `onemap rejoin` to re-assign the layers")


@main.command("rejoin")
def rejoin_cmd() -> None:
    """Re-assign hotspots, parcels, stations and open cases to the current grid plan."""
    from gis.plan.generations import rejoin
    from gis.store.db import get_engine

    click.echo(str(rejoin(get_engine())))


if __name__ == "__main__":  # pragma: no cover
    main()
