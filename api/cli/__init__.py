"""The `onemap` command line: the `main` group, with one module per command group."""

from __future__ import annotations

import sys

import click

from api.cli import (
    backup,
    categories,
    coverage,
    data,
    db,
    demo,
    geocode,
    locate,
    serve,
    stats,
    users,
)
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


for _command in (
    db.db,
    demo.demo,
    demo.demo_city,
    users.users,
    categories.categories,
    data.import_cmd,
    data.export_cmd,
    data.qa_cmd,
    data.new_plan_cmd,
    data.rejoin_cmd,
    locate.locate_cmd,
    geocode.geocode_cmd,
    serve.serve,
    backup.backup_cmd,
    backup.restore_cmd,
    coverage.coverage_cmd,
    coverage.hotspots_cmd,
    stats.stats,
):
    main.add_command(_command)
