"""Small helpers shared by tests: run the real CLI and server, find Chromium, and the
independent oracles (a shapely owner of points, hand-worked GCJ-02/BD-09 coordinates)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def owner_url_of(engine: Engine) -> str:
    """The URL of `engine`'s database signed in as the owner role (the local cluster's)."""
    from gis.store.cluster import LocalCluster
    from gis.store.roles import OWNER, with_role
    from gis.store.settings import get_settings

    password = LocalCluster.from_settings(get_settings()).passwords()[OWNER]
    return with_role(url_of(engine), OWNER, password)


def as_owner(engine: Engine) -> Engine:
    """An engine on `engine`'s database as the owner role, for what the app may not do (the
    caller disposes of it)."""
    import sqlalchemy as sa

    return sa.create_engine(owner_url_of(engine))


def run_cli(
    *args: str, engine: Engine | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `onemap ARGS` in a subprocess against `engine`'s database (as the app role, and
    the owner role for the commands that need it)."""
    full_env = {**os.environ, **(env or {})}
    if engine is not None:
        full_env["ONEMAP_DATABASE_URL"] = url_of(engine)
        full_env["ONEMAP_OWNER_DATABASE_URL"] = owner_url_of(engine)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=600,
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`onemap serve` in a subprocess on a free port, for clients that talk real HTTP."""

    def __init__(
        self, database_url: str, extra_env: dict[str, str] | None = None, log_level: str = "warning"
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "ONEMAP_DATABASE_URL": database_url,
            "ONEMAP_PORT": str(self.port),
            **(extra_env or {}),
        }
        self.log = open(ROOT / ".onemap" / f"test-server-{self.port}.log", "w+")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                log_level,  # "info" adds uvicorn's access log (each request's path and query)
                # Open event streams end at shutdown (clients reconnect) rather than block it.
                "--timeout-graceful-shutdown",
                "3",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self) -> None:
        import time

        import httpx

        deadline = time.monotonic() + 120  # a loaded machine (2 shared cores) starts slowly
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                httpx.get(self.base + "/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.log.seek(0)
        raise RuntimeError(f"server did not start: {self.log.read()}")

    def logs(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


# The layers and how many rows each holds (current grids and units only), counted by hand.
LAYER_ROWS_SQL = {
    "districts": "SELECT count(*) FROM regions WHERE level = 'district'",
    "towns": "SELECT count(*) FROM regions WHERE level = 'town'",
    "villages": "SELECT count(*) FROM regions WHERE level = 'village'",
    "grids": "SELECT count(*) FROM grids WHERE valid_to IS NULL",
    "units": "SELECT count(*) FROM units WHERE valid_to IS NULL",
    "cases": "SELECT count(*) FROM cases",
    "hotspots": "SELECT count(*) FROM hotspots",
    "parcels": "SELECT count(*) FROM parcels",
    "stations": "SELECT count(*) FROM stations",
    "gazetteer": "SELECT count(*) FROM gazetteer",
    # the analysts' computed layers (the demo load publishes them), over the current grids
    "case_hotspots": "SELECT count(*) FROM grid_hotspots h JOIN grids g ON g.id = h.grid_id "
    "WHERE h.subject = 'cases' AND g.valid_to IS NULL",
    "waterlogging_hotspots": "SELECT count(*) FROM grid_hotspots h JOIN grids g "
    "ON g.id = h.grid_id WHERE h.subject = 'waterlogging' AND g.valid_to IS NULL",
    "coverage": "SELECT count(DISTINCT c.area_id) FROM area_coverage c JOIN grids g "
    "ON g.id = c.area_id WHERE c.level = 'grid' AND g.valid_to IS NULL",
}
LAYERS = tuple(LAYER_ROWS_SQL)
PERSONAL_FIELDS = {
    "leader_name",
    "leader_phone",
    "reporter_name",
    "reporter_phone",
    "contact_name",
    "contact_phone",
    "grid_leader_name",
    "grid_leader_phone",
}


def layer_rows(engine: Engine) -> dict[str, int]:
    """Rows per layer, by direct SQL."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        return {k: conn.execute(sa.text(q)).scalar_one() for k, q in LAYER_ROWS_SQL.items()}


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> tuple[str | None, str]:
    """Chromium's executable (ONEMAP_CHROMIUM, else the first of CHROMIUM_NAMES on PATH), or
    None and what to do about it."""
    given = os.environ.get("ONEMAP_CHROMIUM")
    if given:
        path = shutil.which(given)
        if path:
            return path, ""
        return None, f"ONEMAP_CHROMIUM={given!r} is not an executable: point it at Chromium"
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path, ""
    return None, (
        f"no Chromium on PATH (looked for {', '.join(CHROMIUM_NAMES)}): install it with "
        "`apt-get install chromium` (or `make test`, which does), or set ONEMAP_CHROMIUM "
        "to its executable"
    )


# --- hand-worked coordinates -------------------------------------------------------------
# Points of the demo city in WGS 84 and the same points in GCJ-02 and BD-09, worked out with
# prcoords 1.0.2 (a public-domain implementation of the published algorithm) and checked
# against eviltransform 0.1.1 (to 1 cm): an oracle that owes nothing to gis/crs/.
# (wgs lon, wgs lat, gcj lon, gcj lat, bd lon, bd lat)
CHINA_VECTORS = [
    (119.01, 25.43, 119.01474038996874, 25.42723029515426, 119.02120952570128, 25.43331541824661),
    (
        119.0101,
        25.43,
        119.01484072842446,
        25.42723059440132,
        119.02130947617556,
        25.433317534725017,
    ),
    (
        119.131,
        25.406,
        119.13589408216941,
        25.403369354397658,
        119.14235254100375,
        25.409473990623226,
    ),
    (
        118.9365,
        25.4279,
        118.94102438414406,
        25.424941122973706,
        118.94747597052313,
        25.43109974581668,
    ),
    (
        119.0372,
        25.4263,
        119.04202576386561,
        25.423606756553745,
        119.04843511968615,
        25.429958714291033,
    ),
]


# --- who owns a point, by shapely alone ----------------------------------------------------
class PlanOracle:
    """The current grid plan read straight from PostGIS with geopandas, answering "who owns
    this point" by brute force with shapely alone (every grid's `covers`; lowest code on a
    shared edge; else the nearest grid within the tolerance, in metres in UTM): an oracle
    that owes nothing to gis/owners/."""

    def __init__(self, engine: Engine, tolerance_m: float = 50.0) -> None:
        import geopandas as gpd
        import numpy as np
        import shapely
        import sqlalchemy as sa
        from pyproj import Transformer

        current = "FROM {} WHERE valid_to IS NULL ORDER BY code"
        grids = gpd.read_postgis(
            "SELECT code, name, village_code, geom " + current.format("grids"), engine
        )
        units = gpd.read_postgis(
            "SELECT code, name, grid_code, geom " + current.format("units"), engine
        )
        with engine.connect() as conn:
            self.regions = {
                r.code: (r.name, r.parent_code)
                for r in conn.execute(sa.text("SELECT code, name, parent_code FROM regions"))
            }
        self.utm = grids.estimate_utm_crs()
        self._to_utm = Transformer.from_crs(4326, self.utm, always_xy=True)
        self.grids, self.units = grids.to_dict("records"), units.to_dict("records")
        self.grid_geoms = np.asarray(grids.geometry.values)
        self.grid_geoms_m = np.asarray(grids.to_crs(self.utm).geometry.values)
        self.unit_geoms = np.asarray(units.geometry.values)
        self.unit_geoms_m = np.asarray(units.to_crs(self.utm).geometry.values)
        self.units_of = {
            code: np.flatnonzero(units.grid_code.values == code) for code in grids.code
        }
        self._bounds_m = shapely.bounds(self.grid_geoms_m)
        for geoms in (self.grid_geoms, self.grid_geoms_m, self.unit_geoms, self.unit_geoms_m):
            shapely.prepare(geoms)
        self.tolerance_m = tolerance_m

    def _metric(self, lon: float, lat: float) -> Any:
        import shapely

        return shapely.Point(*self._to_utm.transform(lon, lat))

    def _distances(self, pm: Any) -> Any:
        """Metres from pm to every grid (exact for the nearest ones: a grid whose bounding
        box is further than the second nearest grid is given its box's distance)."""
        import numpy as np
        import shapely

        b = self._bounds_m
        x, y = shapely.get_x(pm), shapely.get_y(pm)
        dx = np.maximum.reduce([b[:, 0] - x, np.zeros(len(b)), x - b[:, 2]])
        dy = np.maximum.reduce([b[:, 1] - y, np.zeros(len(b)), y - b[:, 3]])
        d = np.hypot(dx, dy)  # a lower bound of each grid's distance
        two = np.argsort(d)[:2]
        bound = shapely.distance(self.grid_geoms_m[two], pm).max()
        near = np.flatnonzero(d <= bound)
        d[near] = shapely.distance(self.grid_geoms_m[near], pm)
        return d

    def near_coverage_edge(self, n: int, seed: int) -> list[tuple[float, float]]:
        """n points up to 80 m from the edge of the covered area, either side: inside,
        snapped and outside ones."""
        import numpy as np
        import shapely

        rng = np.random.default_rng(seed)
        edge = shapely.boundary(shapely.union_all(self.grid_geoms_m))
        on = shapely.line_interpolate_point(edge, rng.uniform(0, 1, n), normalized=True)
        angle, dist = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 80, n)
        x = shapely.get_x(on) + dist * np.cos(angle)
        y = shapely.get_y(on) + dist * np.sin(angle)
        lon, lat = self._to_utm.transform(x, y, direction="INVERSE")
        return list(zip(lon.tolist(), lat.tolist(), strict=True))

    def answer(self, lon: float, lat: float) -> dict[str, Any]:
        """The public answer of GET /api/v1/locate for (lon, lat) in EPSG:4326, worked out
        by shapely; "margin_m" says how clear-cut it is (how far from the tolerance, or
        from a tie between the two nearest areas)."""
        import numpy as np
        import shapely

        p = shapely.Point(lon, lat)
        covering = np.flatnonzero(shapely.covers(self.grid_geoms, p))  # in code order
        out: dict[str, Any] = {"lon": lon, "lat": lat, "on_boundary": len(covering) > 1}
        out["margin_m"] = float("inf")
        if len(covering):
            out["status"], out["distance_m"] = "inside", None
            grid = int(covering[0])
        else:
            d = self._distances(self._metric(lon, lat))
            first, second = np.argsort(d)[:2]
            grid, out["distance_m"] = int(first), float(d[first])
            out["margin_m"] = min(abs(d[first] - self.tolerance_m), d[second] - d[first])
            if d[first] > self.tolerance_m:
                nearest = self.grids[grid]
                out["status"] = "outside"
                out["nearest_grid"] = {"code": nearest["code"], "name": nearest["name"]}
                for level in ("district", "town", "village", "grid", "unit"):
                    out[level] = None
                return out
            out["status"] = "snapped"
        g = self.grids[grid]
        mine = self.units_of[g["code"]]
        in_unit = mine[shapely.covers(self.unit_geoms[mine], p)]
        if len(in_unit):
            unit = int(in_unit[0])
        else:  # snapped: the grid's nearest unit
            du = shapely.distance(self.unit_geoms_m[mine], self._metric(lon, lat))
            order = np.argsort(du)
            unit = int(mine[order[0]])
            if len(order) > 1:
                out["margin_m"] = min(out["margin_m"], du[order[1]] - du[order[0]])
        u = self.units[unit]
        out["grid"] = {"code": g["code"], "name": g["name"]}
        out["unit"] = {"code": u["code"], "name": u["name"]}
        code = g["village_code"]
        for level in ("village", "town", "district"):
            name, parent = self.regions[code]
            out[level] = {"code": code, "name": name}
            code = parent
        return out


def located(r: Any) -> dict[str, Any]:
    """A GET /locate answer as an owner record: a 200's body, or for a point outside coverage
    the 404 problem (application/problem+json) with its nearest grid and distance."""
    body = r.json()
    if r.status_code == 200:
        assert r.headers["content-type"].startswith("application/json")
        return dict(body)
    assert r.status_code == 404 and body["type"] == "/problems/outside-coverage", body
    assert r.headers["content-type"].startswith("application/problem+json")
    levels = dict.fromkeys(("district", "town", "village", "grid", "unit"))
    return {**body, **levels, "status": "outside", "on_boundary": False}


def assert_same_owner(got: dict[str, Any], want: dict[str, Any]) -> None:
    """An API answer equals the oracle's: every field, distances to 0.5 % (UTM against the
    server's own metric)."""
    where = (want["lon"], want["lat"])
    for key in ("status", "district", "town", "village", "grid", "unit", "on_boundary"):
        assert got[key] == want[key], (where, key, got[key], want[key])
    assert got.get("nearest_grid") == want.get("nearest_grid"), where
    assert abs(got["lon"] - want["lon"]) < 1e-7 and abs(got["lat"] - want["lat"]) < 1e-7, where
    if want["distance_m"] is None:
        assert got["distance_m"] is None, where
    else:
        assert abs(got["distance_m"] - want["distance_m"]) <= 0.005 * want["distance_m"] + 0.01


def shared_landmark(engine: Engine) -> str:
    """The name of a landmark that several places share (an address too vague to place)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        return str(
            conn.execute(
                sa.text(
                    "SELECT name FROM gazetteer WHERE kind = 'landmark' GROUP BY name "
                    "HAVING count(*) > 3 ORDER BY name LIMIT 1"
                )
            ).scalar_one()
        )
