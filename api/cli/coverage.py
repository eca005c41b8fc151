"""`onemap coverage` and `onemap hotspots`: the analysts' tables as CSV (to a file or stdout),
and the refresh or publication of their map layers."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

OUT = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write the CSV here (default: standard output)",
)


def _write(body: bytes, out: Path | None) -> None:
    if out is None:
        sys.stdout.buffer.write(body.removeprefix("\ufeff".encode()))
    else:
        out.write_bytes(body)
        click.echo(f"wrote {out}", err=True)


@click.command("coverage")
@click.option("--kind", help="a station kind (default: all)")
@click.option("--radius", type=int, help="300, 500 or 1000 metres")
@click.option("--level", default="grid", show_default=True, help="grid or unit")
@click.option("--uncovered", is_flag=True, help="only areas with none of the kind within radius")
@click.option("--refresh", is_flag=True, help="recompute first, even when nothing changed")
@OUT
def coverage_cmd(
    kind: str | None,
    radius: int | None,
    level: str,
    uncovered: bool,
    refresh: bool,
    out: Path | None,
) -> None:
    """Service coverage (15-minute life circle, straight-line) per grid or unit and kind."""
    from gis.stats import coverage as cov
    from gis.store.db import get_engine
    from layers.tablefile import to_csv

    cov.check(kind, radius, level)
    with get_engine().begin() as conn:
        if refresh:
            click.echo(f"recomputed {cov.refresh(conn):,} rows", err=True)
        rows = cov.table(conn, kind, radius, level, uncovered)
    _write(to_csv(rows, cov.columns(radius)), out)


@click.command("hotspots")
@click.option("--subject", default="cases", show_default=True, help="cases or waterlogging")
@click.option("--category", help="a case category (default: all)")
@click.option("--since", type=click.DateTime(), help="cases reported from (UTC unless a zone)")
@click.option("--until", type=click.DateTime(), help="... and before")
@click.option("--permutations", default=999, show_default=True, type=int)
@click.option("--seed", default=20240917, show_default=True, type=int)
@click.option("--publish", is_flag=True, help="make it the subject's map layer")
@OUT
def hotspots_cmd(
    subject: str,
    category: str | None,
    since: datetime | None,
    until: datetime | None,
    permutations: int,
    seed: int,
    publish: bool,
    out: Path | None,
) -> None:
    """Gi* and local Moran's I per grid of cases (or waterlogging spots) per km²."""
    from datetime import UTC

    from gis.access.roles import COMMAND_LINE
    from gis.stats import hotspots as hs
    from gis.store.db import get_engine
    from layers.tablefile import to_csv

    since, until = (t and (t if t.tzinfo else t.replace(tzinfo=UTC)) for t in (since, until))
    a = hs.Analysis(subject, category, since, until, permutations, seed)
    with get_engine().begin() as conn:
        frame = hs.analyse(conn, a)
        if publish:
            n = hs.publish(conn, a, frame)
            layer = "case_hotspots" if subject == "cases" else "waterlogging_hotspots"
            click.echo(f"published {n:,} grids as the layer {layer}", err=True)
        rows = hs.records(hs.for_actor(frame, a, COMMAND_LINE))
    _write(to_csv(rows, hs.COLUMNS), out)
