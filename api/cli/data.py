"""`onemap import`, `export`, `qa`, `new-plan` and `rejoin`: layers in and out of files, the
grid plan's quality checks and its generations."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _layer_choice() -> click.Choice:
    from gis.registry.layers import LAYERS

    return click.Choice(list(LAYERS))


@click.command("import")
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


@click.command("export")
@click.argument("layer", type=_layer_choice())
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_cmd(layer: str, file: Path) -> None:
    """Export LAYER to FILE (.geojson, .gpkg or .shp)."""
    from gis.io.export import export_layer
    from gis.store.db import get_engine

    n = export_layer(get_engine(), layer, file)
    click.echo(f"exported {n:,} {layer} to {file}")


@click.command("qa")
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


@click.command("new-plan")
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


@click.command("rejoin")
def rejoin_cmd() -> None:
    """Re-assign hotspots, parcels, stations and open cases to the current grid plan."""
    from gis.plan.generations import rejoin
    from gis.store.db import get_engine

    click.echo(str(rejoin(get_engine())))
