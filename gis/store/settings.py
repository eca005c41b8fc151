"""Settings read from the environment (prefix ONEMAP_) with project-local defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ONEMAP_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="ONEMAP_", extra="ignore")

    database_url: str | None = None
    """The app role's PostGIS URL (the server and everyday commands: rows, never the schema);
    when unset, the project-local cluster under `home` is used, as its app role."""
    owner_database_url: str | None = None
    """The owner role's URL, for migrations, restores and `demo load --reset`; when unset, the
    local cluster's owner, or with ONEMAP_DATABASE_URL given alone, that same URL."""
    home: Path = PROJECT_ROOT / ".onemap"
    """Where the local cluster keeps its data, socket, log and chosen port."""
    db_port: int = 55432
    """Preferred port of the local cluster (another free one is chosen if taken)."""
    db_name: str = "onemap"
    port: int = 8000
    """Port of the HTTP server."""
    host: str = "127.0.0.1"
    seed: int = 20240917
    """Seed of the demo city generator."""
    extent_margin_m: float = 5000.0
    public_max_points: int = 10_000
    """The most points an anonymous batch locate may send (a token lifts it to 100,000)."""
    public_min_days: float = 7.0
    """The shortest period of case statistics the public may ask for."""
    public_min_count: int = 5
    """Counts of cases below this (k) are withheld from the public's statistics."""
    token_hours: float = 12.0
    """How long a new token is valid (`onemap users add --hours` overrides it)."""
    """How far outside the loaded districts a coordinate may fall before it is refused."""
    basemap_url: str | None = None
    """An optional basemap tile URL template ({z}/{x}/{y}) on an intranet mirror; none by default."""
    basemap_crs: Literal["WGS84", "GCJ02"] = "WGS84"
    """The basemap's datum: GCJ02 for AMap/Tencent-style tiles (the overlays are shifted)."""
    basemap_attribution: str | None = None
    limits: bool = True
    """Request limits on (body sizes and rate limits, api/limits.py); false turns them all off."""
    public_max_body: int = 2_000_000
    """The largest request body (bytes) without a token: a 413 before the body is read."""
    signed_in_max_body: int = 64_000_000
    """The largest request body (bytes) with a token (a bulk upload of a million rows)."""
    rate_batch_locate: str = "30/minute"
    """Anonymous batch locates (POST /api/v1/locate) per client address; "" turns it off."""
    rate_exports: str = "10/minute"
    """Anonymous exports (/api/v1/cases?f=csv|geojson) per client address."""
    rate_statistics: str = "30/minute"
    """Anonymous statistics per client address: /api/v1/cases/stats, /api/v1/stats/...,
    /api/v1/hotspots and /api/v1/coverage (each computed per request)."""
    rate_large_pages: str = "30/minute"
    """Anonymous OGC items pages of more than `large_page` features, per client address."""
    large_page: int = 1000
    """An OGC items page with a larger `limit` counts against `rate_large_pages`."""
    rate_boundaries: str = "60/minute"
    """Anonymous boundary GeoJSON downloads (/api/v1/boundaries/...) per client address."""
    rate_storage: str = "memory://"
    """Where rate-limit counters live (a `limits` storage URI; memory: per worker process)."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
