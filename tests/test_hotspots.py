"""Hotspot statistics: Gi* and local Moran's I checked against the formulas computed here with
numpy (a hand-built grid and two demo grids, neighbours from shapely's touches()), permutation
p-values against an independent permutation, the public's withheld counts against SQL, and the
published layers through OGC API Features."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.access.roles import PUBLIC, Actor
from gis.errors import BadParameter
from gis.stats import hotspots as hs
from tests.conftest import bearer
from tests.helpers import ServerProcess, run_cli

K = 5  # the public's smallest count (ONEMAP_PUBLIC_MIN_COUNT's default)
ANALYST = Actor("t", "analyst")


def gi_star(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Getis and Ord (1995) Gi* z-scores: binary weights with w_ii = 1, all n values."""
    n = len(y)
    w = w + np.eye(n)
    np.seterr(invalid="ignore")  # a cell whose sum holds every value: 0 / 0
    mean, s = y.mean(), np.sqrt((y**2).mean() - y.mean() ** 2)
    wi, wi2 = w.sum(1), (w**2).sum(1)
    return (w @ y - mean * wi) / (s * np.sqrt((n * wi2 - wi**2) / (n - 1)))


def local_moran(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Anselin's local I with row-standardised weights: (n-1) z_i (W z)_i / sum z²."""
    z = y - y.mean()
    rows = w.sum(1, keepdims=True)
    lag = np.divide(w, rows, out=np.zeros_like(w), where=rows > 0) @ z
    return (len(y) - 1) * z * lag / (z**2).sum()


def touches(geoms: list[shapely.Geometry]) -> np.ndarray:
    return np.array([[float(a is not b and a.touches(b)) for b in geoms] for a in geoms])


def boxes(side: int) -> list[shapely.Geometry]:
    return [shapely.box(i, j, i + 1, j + 1) for j in range(side) for i in range(side)]


def test_gi_star_and_moran_agree_with_the_formulas_on_a_hand_built_grid() -> None:
    import geopandas as gpd

    geoms = boxes(3)
    y = np.array([1.0, 2, 3, 4, 9, 6, 7, 8, 5])
    got = hs.local_statistics(gpd.GeoSeries(geoms), y, 999, 7)
    w = touches(geoms)
    # by hand for the centre: all nine cells are in its Gi* sum, so its z is 0/0 -> the
    # formula's numerator is 0 (sum - mean * 9 = 45 - 5 * 9); the corner (0) has 3 neighbours
    assert list(got["neighbours"]) == [3, 5, 3, 5, 8, 5, 3, 5, 3]
    np.testing.assert_allclose(got["gi_z"], gi_star(y, w), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["moran_i"], local_moran(y, w), rtol=1e-9)
    # corner 0 by hand: z = (1+2+4+9 - 5*4) / (sqrt(20/3) * sqrt((9*4 - 16)/8))
    assert got["gi_z"][0] == pytest.approx(-4 / (np.sqrt(20 / 3) * np.sqrt(20 / 8)))


def test_an_island_is_classed_and_has_no_statistics() -> None:
    import geopandas as gpd

    geoms = [*boxes(3), shapely.box(10, 10, 11, 11)]
    got = hs.local_statistics(gpd.GeoSeries(geoms), np.arange(10.0), 999, 7)
    island = got.iloc[9]
    assert island["neighbours"] == 0 and island["gi_class"] == island["moran_class"] == "island"
    assert np.isnan(island["gi_z"]) and np.isnan(island["moran_p"])
    assert (got["gi_class"].iloc[:9] != "island").all()


def test_nothing_varies_nothing_is_significant() -> None:
    import geopandas as gpd

    got = hs.local_statistics(gpd.GeoSeries(boxes(3)), np.zeros(9), 999, 7)
    assert set(got["gi_class"]) == {"ns"} and got["gi_z"].isna().all()


def test_permutation_p_values_are_seeded_and_agree_with_an_independent_permutation() -> None:
    import geopandas as gpd

    geoms = boxes(6)
    rng = np.random.default_rng(3)
    y = rng.poisson(2, 36).astype(float)
    y[[0, 1, 6, 7]] += 12  # a hot corner
    y[[28, 29, 34, 35]] = 0  # a cold one
    a = hs.local_statistics(gpd.GeoSeries(geoms), y, 999, 11)
    b = hs.local_statistics(gpd.GeoSeries(geoms), y, 999, 11)
    assert a.equals(b)  # the same seed, the same answer
    # conditional permutation by hand: the cell keeps its value, its neighbours are drawn
    # from the others; the pseudo p counts draws at least as extreme (ties on both sides)
    w = touches(geoms)
    mine = np.random.default_rng(99)
    for i in (0, 7, 35):
        nb = int(w[i].sum())
        others = np.delete(y, i)
        draws = np.array([mine.choice(others, nb, replace=False).sum() for _ in range(9999)])
        observed = y[w[i] > 0].sum()
        m = min((draws >= observed).sum(), (draws <= observed).sum())
        assert a["gi_p"][i] == pytest.approx((m + 1) / 10000, abs=0.02), i
    assert a["gi_class"][0].startswith("hot") and a["moran_class"][0] == "HH"
    assert a["gi_class"][35].startswith("cold")


def _demo_rates(engine: Engine) -> tuple[list[str], list[shapely.Geometry], np.ndarray]:
    """Current grids by code: their geometries and cases per km², by direct SQL."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT g.code, ST_AsBinary(g.geom), (SELECT count(*) FROM cases c "
                "WHERE c.grid_id = g.id) / (ST_Area(g.geom::geography) / 1e6) "
                "FROM grids g WHERE g.valid_to IS NULL ORDER BY g.code"
            )
        ).all()
    return (
        [r[0] for r in rows],
        [shapely.from_wkb(bytes(r[1])) for r in rows],
        np.array([r[2] for r in rows], dtype=float),
    )


def test_demo_city_values_agree_with_numpy_over_shapely_neighbours(demo_ro: Engine) -> None:
    codes, geoms, y = _demo_rates(demo_ro)
    with demo_ro.connect() as conn:
        got = hs.analyse(conn, hs.Analysis("cases"))
    assert list(got.index) == codes
    np.testing.assert_allclose(got["rate"], y, rtol=1e-9)
    tree = shapely.STRtree(geoms)
    busiest = int(np.argmax(y))
    quiet = int(np.argmin(y))
    for i in (busiest, quiet):  # two grids: rows of the weights from shapely's touches()
        cand = tree.query(geoms[i])
        nb = [j for j in cand if j != i and geoms[i].touches(geoms[j])]
        assert got["neighbours"].iloc[i] == len(nb)
        n = len(y)
        wi = np.zeros(n)
        wi[nb] = 1
        mean, s = y.mean(), np.sqrt((y**2).mean() - y.mean() ** 2)
        star = wi.copy()
        star[i] = 1
        z = (star @ y - mean * star.sum()) / (
            s * np.sqrt((n * star.sum() - star.sum() ** 2) / (n - 1))
        )
        assert got["gi_z"].iloc[i] == pytest.approx(z, rel=1e-9)
        dev = y - mean
        moran = (n - 1) * dev[i] * (wi @ dev / wi.sum()) / (dev**2).sum()
        assert got["moran_i"].iloc[i] == pytest.approx(moran, rel=1e-9)
        p = got["gi_p"].iloc[i]  # the class follows the documented thresholds
        level = next((c for c, a in (("99", 0.01), ("95", 0.05), ("90", 0.1)) if p <= a), None)
        side = "hot" if z > 0 else "cold"
        assert got["gi_class"].iloc[i] == (f"{side}_{level}" if level else "ns")
    assert (
        got["gi_class"].str.startswith("hot") == ((got["gi_z"] > 0) & (got["gi_p"] <= 0.1))
    ).all()
    islands = got[got["neighbours"] == 0]
    assert (islands["gi_class"] == "island").all()


def test_the_public_sees_small_counts_withheld(demo_ro: Engine) -> None:
    a = hs.Analysis("cases", category="waterlogging")
    with demo_ro.connect() as conn:
        public = hs.hotspots(conn, a, PUBLIC)
        analyst = hs.hotspots(conn, a, ANALYST)
        exact = dict(
            conn.execute(
                sa.text(
                    "SELECT g.code, count(c.id) FROM grids g LEFT JOIN cases c ON "
                    "c.grid_id = g.id AND c.category = 'waterlogging' WHERE g.valid_to IS NULL "
                    "GROUP BY g.code"
                )
            ).all()
        )
    assert {k: int(v) for k, v in analyst["n"].items()} == exact
    small = {k for k, v in exact.items() if 0 < v < K}
    assert small  # the demo city has grids with 1 to 4 waterlogging cases
    assert set(public.index[public["n"].isna()]) == small
    assert public.loc[list(small), "rate"].isna().all()
    assert (public["gi_class"] == analyst["gi_class"]).all()  # classes are for everyone
    with pytest.raises(BadParameter, match="since: the period .* shorter than 7 days"):
        with demo_ro.connect() as conn:
            hs.hotspots(
                conn,
                hs.Analysis(
                    since=datetime(2026, 10, 30, tzinfo=UTC),
                    until=datetime(2026, 11, 1, tzinfo=UTC),
                ),
                PUBLIC,
            )


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"subject": "floods"}, "subject: 'floods' is not one of"),
        ({"category": "bogus"}, "category: 'bogus' is not a case category"),
        ({"subject": "waterlogging", "since": "2026-01-01T00:00:00Z"}, "have no category or time"),
        ({"since": "2026-01-01T00:00:00"}, "has no time zone"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "ends before"),
        ({"permutations": "5"}, "permutations: 5 is not in 99..9999"),
        ({"since": "2026-10-30T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "shorter than 7"),
    ],
)
def test_bad_parameters_are_422_naming_them(
    demo_server: ServerProcess, params: dict[str, str], why: str
) -> None:
    r = httpx.get(demo_server.base + "/api/v1/hotspots", params=params, timeout=60)
    assert r.status_code == 422, r.text
    assert why in r.json()["detail"]


def test_http_json_and_csv(demo_server: ServerProcess, tokens: dict[str, str]) -> None:
    url = demo_server.base + "/api/v1/hotspots"
    params = {"subject": "cases", "since": "2026-08-01T00:00:00Z", "until": "2026-11-01T00:00:00Z"}
    signed = httpx.get(url, params=params, headers=bearer(tokens["analyst"]), timeout=120)
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["analysis"]["permutations"] == 999 and len(body["grids"]) == 1002
    public = httpx.get(url, params={**params, "format": "csv"}, timeout=120)
    lines = public.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(hs.COLUMNS) and len(lines) == 1003
    by_code = {g["code"]: g for g in body["grids"]}
    for line in lines[1:]:
        code, _, n, *_rest = line.split(",")
        exact = by_code[code]["n"]
        assert n == ("" if 0 < exact < K else str(exact))


def test_published_layers_through_ogc(demo_server: ServerProcess, demo_ro: Engine) -> None:
    ids = {c["id"] for c in httpx.get(demo_server.base + "/ogc/collections").json()["collections"]}
    assert {"case_hotspots", "waterlogging_hotspots"} <= ids
    url = demo_server.base + "/ogc/collections/case_hotspots/items"
    page = httpx.get(url, params={"limit": 2000}, timeout=60).json()  # the public
    assert page["numberMatched"] == 1002
    with demo_ro.connect() as conn:
        exact = dict(
            conn.execute(
                sa.text(
                    "SELECT g.code, count(c.id) FROM grids g LEFT JOIN cases c ON c.grid_id = g.id "
                    "WHERE g.valid_to IS NULL GROUP BY g.code"
                )
            ).all()
        )
    for f in page["features"]:
        p = f["properties"]
        assert p["n"] == (None if 0 < exact[p["code"]] < K else exact[p["code"]])
        assert p["gi_class"] in {"ns", "island"} | {
            f"{d}_{c}" for d in ("hot", "cold") for c in ("99", "95", "90")
        }
        assert p["permutations"] == 999 and p["category"] is None
    hot = httpx.get(url, params={"gi_class": "hot_99"}).json()
    assert hot["numberMatched"] == sum(
        f["properties"]["gi_class"] == "hot_99" for f in page["features"]
    )


def test_publish_replaces_the_layer_and_the_cli_writes_csv(demo_db: Engine, tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "w.csv"
    r = run_cli(
        "hotspots", "--subject", "cases", "--category", "dispute", "--since", "2026-09-01",
        "--publish", "--out", str(out), engine=demo_db,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "published 1,002 grids as the layer case_hotspots" in r.stderr
    rows = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 1003
    with demo_db.connect() as conn:
        stored = conn.execute(
            sa.text(
                "SELECT DISTINCT category, period_from FROM grid_hotspots WHERE subject = 'cases'"
            )
        ).all()
    assert stored == [("dispute", datetime(2026, 9, 1, tzinfo=UTC))]
    bad = run_cli("hotspots", "--category", "nope", engine=demo_db)
    assert bad.returncode == 2 and "category: 'nope' is not a case category" in bad.stderr
