"""`make bench`: every benchmark, each printing its ratio against a baseline from the same run."""

from __future__ import annotations

from bench import (
    console,
    geocode,
    http_locate,
    import_speed,
    locate_bulk,
    locate_dask,
    locate_http_bulk,
    tiles,
)


def main() -> None:
    locate_bulk.main()
    http_locate.main()
    import_speed.main()
    tiles.main()
    console.main()
    locate_http_bulk.main()
    locate_dask.main()
    geocode.main()


if __name__ == "__main__":
    main()
