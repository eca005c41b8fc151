"""`onemap demo-city` and `onemap demo`: generate the synthetic city, load it, issue tokens."""

from __future__ import annotations

from pathlib import Path

import click

from gis.access.roles import GRID_BOUND, USER_ROLES

BOUNDARIES = Path(__file__).resolve().parents[2] / "data" / "boundaries"


@click.command("demo-city")
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


@click.group()
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
    from gis.store.db import engine_for, get_engine, owner_database_url
    from gis.store.health import layer_counts
    from gis.store.settings import get_settings

    engine = get_engine()  # the load is an ordinary import, as the app role
    if reset:  # emptying (TRUNCATE, history included) is the owner's
        owner = engine_for(owner_database_url())
        url = owner.url.render_as_string(hide_password=True)
        if not yes:
            click.confirm(f"Delete every row of every layer in {url}?", abort=True)
        empty_layers(owner)
    summaries = load_demo(engine, boundaries, get_settings().seed, cases=cases)
    if not summaries:
        click.echo("demo city already loaded")
    for s in summaries:
        click.echo(str(s))
    counts = layer_counts(engine)
    click.echo("in the database: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))


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
        for role in USER_ROLES:
            g = grid if role in GRID_BOUND else None
            token = add_user(conn, f"demo-{role.replace('_', '-')}", role, g)
            where = f" (grid {grid})" if g else ""
            click.echo(f"  {role:12s}{where:24s} {token}")
