"""`onemap geocode`: place one address, or every address of a CSV (a hotline export)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("geocode")
@click.argument("address", required=False)
@click.option(
    "--csv", "csv_in", type=click.Path(dir_okay=False, path_type=Path), help="a CSV of addresses"
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="the CSV to write")
@click.option("--address-col", help="the column of addresses (default: address or 地址)")
@click.option("--encoding", help="CSV encoding, e.g. GBK")
def geocode_cmd(
    address: str | None,
    csv_in: Path | None,
    out: Path | None,
    address_col: str | None,
    encoding: str | None,
) -> None:
    """Place ADDRESS (candidates as JSON), or every row of --csv IN into --out OUT: each input
    column kept, the best candidate's lon, lat, precision, score, the number of candidates
    and the owner codes and names added."""
    import json

    from gis.store.db import get_engine

    engine = get_engine()
    if csv_in is not None:
        if out is None or address is not None:
            raise click.UsageError("use either ADDRESS, or --csv IN --out OUT")
        from gis.geocode.csvfile import geocode_csv

        summary = geocode_csv(engine, csv_in, out, address_col, encoding, progress=True)
        click.echo(f"{summary}; written to {out}")
        return
    if address is None:
        raise click.UsageError("give an ADDRESS, or --csv IN --out OUT")
    from gis.geocode.answer import check_text, geocode
    from gis.geocode.cache import gazetteer_index

    with engine.connect() as conn:
        ix = gazetteer_index(conn)
    answer = geocode(ix, check_text(address, "ADDRESS"))
    click.echo(json.dumps(answer, ensure_ascii=False, indent=1))
