"""`onemap stats`: performance figures (绩效评价) and the ranking per area for a period, and
the points of a file counted per area on Dask (`count`)."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import click

from gis.owners.levels import LEVELS

LEVEL = click.Choice(LEVELS)
SHOWN = ("reported", "closed_rate", "closed_on_time_rate", "rework_rate", "overdue", "score")


def _options(fn: Any) -> Any:
    for option in reversed(
        (
            click.option("--by", type=LEVEL, default="grid", show_default=True),
            click.option(
                "--since",
                help="ISO date or date-time (+08:00 unless given); default: 14 days before --until",
            ),
            click.option("--until", help="exclusive; default: now"),
            click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path)),
            click.option("--xlsx", "xlsx_out", type=click.Path(dir_okay=False, path_type=Path)),
        )
    ):
        fn = option(fn)
    return fn


def _run(what: str, by: str, since: str | None, until: str | None, **more: Any) -> list[Any]:
    from gis.access.roles import COMMAND_LINE
    from gis.stats import kpis
    from gis.store.db import get_engine

    start, end = kpis.default_period(kpis.instant(since, "--since"), kpis.instant(until, "--until"))
    with get_engine().connect() as conn:
        fn = kpis.kpis if what == "kpis" else kpis.ranking
        rows: list[Any] = fn(conn, by, start, end, COMMAND_LINE, **more)
    click.echo(
        f"{by}, {start.astimezone(UTC):%Y-%m-%d %H:%M} to {end.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    )
    return rows


def _write(rows: list[Any], csv_out: Path | None, xlsx_out: Path | None) -> None:
    from gis.stats.tables import csv_bytes, frame_of, xlsx_bytes

    cols = ["rank"] if rows and "rank" in rows[0] else []
    click.echo("  ".join([*cols, "code", "name", *SHOWN, "grade"]))
    for r in rows:
        values = [r.get(c) for c in (*cols, "code", "name", *SHOWN, "grade")]
        click.echo("  ".join("-" if v is None else str(v) for v in values))
    for path, fn in ((csv_out, csv_bytes), (xlsx_out, xlsx_bytes)):
        if path is not None:
            path.write_bytes(fn(frame_of(rows)))
            click.echo(f"written to {path}")


@click.group()
def stats() -> None:
    """Performance figures (绩效评价) and rankings per area (the definitions: README), and
    points of a file counted per area on Dask."""


@stats.command("kpis")
@_options
def kpis_cmd(
    by: str, since: str | None, until: str | None, csv_out: Path | None, xlsx_out: Path | None
) -> None:
    """Every figure of each area for cases reported in the period."""
    _write(_run("kpis", by, since, until), csv_out, xlsx_out)


@stats.command("ranking")
@_options
@click.option("--bottom", type=click.IntRange(1, 1000), help="only the last N, worst first")
def ranking_cmd(
    by: str,
    since: str | None,
    until: str | None,
    csv_out: Path | None,
    xlsx_out: Path | None,
    bottom: int | None,
) -> None:
    """The areas by their 综合指标值, best first; --bottom N: the bulletin's last N."""
    _write(_run("ranking", by, since, until, bottom=bottom), csv_out, xlsx_out)


@stats.command("count")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--by", type=LEVEL, default="grid", show_default=True, help="the level counted")
@click.option(
    "--column",
    "columns",
    multiple=True,
    help="a column of SRC to count by as well, e.g. category or year (repeatable)",
)
@click.option("--crs", default=None, help="EPSG:4326 (default), EPSG:4490, EPSG:45xx, GCJ02, BD09")
@click.option("--lon-col", help="column of longitudes (or x)")
@click.option("--lat-col", help="column of latitudes (or y)")
@click.option("--tolerance-m", type=float, default=50.0, show_default=True)
@click.option(
    "--scheduler",
    help="a Dask scheduler's address (tcp://host:8786); default: a local cluster of --workers",
)
@click.option("--workers", type=int, default=2, show_default=True, help="local Dask workers")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--xlsx", "xlsx_out", type=click.Path(dir_okay=False, path_type=Path))
def count_cmd(
    src: Path,
    by: str,
    columns: tuple[str, ...],
    crs: str | None,
    lon_col: str | None,
    lat_col: str | None,
    tolerance_m: float,
    scheduler: str | None,
    workers: int,
    csv_out: Path | None,
    xlsx_out: Path | None,
) -> None:
    """The points of SRC (a CSV, or a Parquet or GeoParquet file or dataset, e.g. years of
    cases) counted per area, on Dask; points no grid owns are counted under an empty code."""
    import time

    from gis.crs.systems import parse_crs
    from gis.owners.bulk_counts import count_file
    from gis.stats.tables import csv_bytes, xlsx_bytes
    from gis.store.db import get_engine

    started = time.perf_counter()
    frame = count_file(
        get_engine(),
        src,
        parse_crs(crs),
        by,
        columns,
        scheduler,
        workers,
        lon_col,
        lat_col,
        tolerance_m,
    )
    click.echo(
        f"{int(frame['points'].sum()):,} points in {len(frame):,} rows "
        f"({time.perf_counter() - started:.1f} s)"
    )
    click.echo(frame.head(20).to_string(index=False))
    if csv_out is not None:
        csv_out.write_bytes(csv_bytes(frame))
        click.echo(f"written to {csv_out}")
    if xlsx_out is not None:
        xlsx_out.write_bytes(xlsx_bytes(frame, "点数统计"))
        click.echo(f"written to {xlsx_out}")
