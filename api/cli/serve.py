"""`onemap serve`: the API and the map under uvicorn."""

from __future__ import annotations

import click


@click.command("serve")
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
