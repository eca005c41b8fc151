"""Geocoding on the demo city: normalisation by hand-worked examples, the gazetteer against the
boundaries (PostGIS), the bigram index, and the quality goals on a generated test set of 6,000
addresses whose true points come from the demo generator; every grid and village truth is found
by PostGIS (ST_Covers), never by the geocoder's owner index."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from pyproj import Geod
from sqlalchemy.engine import Connection, Engine

from gis.demo.gazetteer import make_gazetteer
from gis.demo.things import make_things, random_points_in
from gis.geocode.answer import CONFIDENT, geocode
from gis.geocode.cache import gazetteer_index
from gis.geocode.index import GazetteerIndex
from gis.geocode.normalise import bigrams, normalise, split_modifier
from gis.geocode.quality import HOUSE_VARIANTS, make_test_set, scores
from gis.geocode.reverse import reverse
from gis.geocode.store import similar_names
from tests.conftest import BOUNDARIES, DEMO_NOW

SEED = 20240917
GEOD = Geod(ellps="WGS84")

NORMALISED = [  # written, as the matcher reads it (worked out by hand)
    ("荔城区西天尾镇溪白村三组十二号", "荔城区西天尾镇溪白村3组12号"),
    ("溪白村委会第三组１２号", "溪白村3组12号"),
    ("顶铺居委会", "顶铺社区"),
    ("三山村七境社区", "三山村七境社区"),  # numerals in names stay
    ("十字街二十三号", "十字街23号"),
    ("一百零五号", "105号"),
    ("锦绣小区3号楼2单元501室", "锦绣小区3栋2单元501室"),
    ("第三村民小组", "3组"),
    ("五队二十号", "5组20号"),
    ("东园镇 龙苍村，番仔楼（旁）", "东园镇龙苍村番仔楼旁"),
]


@pytest.mark.parametrize(("written", "expected"), NORMALISED)
def test_normalise(written: str, expected: str) -> None:
    assert normalise(written) == expected


@pytest.mark.parametrize(
    ("written", "core", "relation", "bearing", "distance"),
    [
        ("东园镇龙苍村番仔楼旁", "东园镇龙苍村番仔楼", "旁", None, None),
        ("阳昌小学东侧50米", "阳昌小学", "东侧50米", 90.0, 50.0),
        ("老党员工作室对面", "老党员工作室", "对面", None, None),
        ("桥头西北方向约200米", "桥头", "西北方向约200米", 315.0, 200.0),
        ("湖东", "湖东", None, None, None),  # a name ending in a side is no relation
    ],
)
def test_relation_words(
    written: str, core: str, relation: str | None, bearing: float | None, distance: float | None
) -> None:
    got, modifier = split_modifier(normalise(written))
    assert got == core
    if relation is None:
        assert modifier is None
    else:
        assert modifier is not None
        assert (modifier.text, modifier.bearing_deg, modifier.distance_m) == (
            relation,
            bearing,
            distance,
        )


def test_bigrams_strip_digits() -> None:
    assert set(bigrams("溪白村3组")) == {"溪白", "白村", "村组"}
    assert set(bigrams("溪白社区")) == {"溪白", "白社", "社区"}


@pytest.fixture(scope="module")
def conn(demo_ro: Engine) -> Iterator[Connection]:
    with demo_ro.connect() as c:
        yield c


@pytest.fixture(scope="module")
def ix(conn: Connection) -> GazetteerIndex:
    return gazetteer_index(conn)


@pytest.fixture(scope="module")
def truth_gazetteer() -> gpd.GeoDataFrame:
    """The demo gazetteer as the generator draws it: the test set's truth."""
    frames = {
        k: gpd.read_file(BOUNDARIES / f"{k}.geojson")
        for k in ("districts", "towns", "villages", "grids", "units")
    }
    stations = make_things(frames, SEED, DEMO_NOW)["stations"]
    return make_gazetteer(frames, stations, SEED)


def owners_by_sql(conn: Connection, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    """The covering current grid (lowest code) and its village of each point, by PostGIS."""
    rows = conn.execute(
        sa.text(
            "SELECT DISTINCT ON (p.i) p.i, g.code, g.village_code "
            "FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[])) WITH ORDINALITY "
            "AS p(lon, lat, i) JOIN grids g ON g.valid_to IS NULL "
            "AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)) "
            "ORDER BY p.i, g.code"
        ),
        {"lon": lon.tolist(), "lat": lat.tolist()},
    ).all()
    out = pd.DataFrame(index=range(1, len(lon) + 1), columns=["grid", "village"], dtype=object)
    for i, code, village in rows:
        out.loc[i] = (code, village)
    return out.reset_index(drop=True)


def test_database_is_utf8(conn: Connection) -> None:
    enc, ctype = conn.execute(
        sa.text(
            "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database "
            "WHERE datname = current_database()"
        )
    ).one()
    assert enc == "UTF8" and "UTF-8" in ctype.upper().replace("UTF8", "UTF-8")


def test_gazetteer_matches_the_generator_and_the_boundaries(
    conn: Connection, truth_gazetteer: gpd.GeoDataFrame
) -> None:
    stored = dict(
        conn.execute(sa.text("SELECT level, count(*) FROM gazetteer GROUP BY level")).all()
    )
    assert stored == truth_gazetteer["level"].value_counts().to_dict()
    assert stored["house"] >= 20_000 and stored["group"] > 500 and stored["road"] > 100
    # every house lies in the village its chain names (house -> group/road -> village)
    wrong = conn.execute(
        sa.text(
            "SELECT count(*) FROM gazetteer h JOIN gazetteer p ON p.id = h.parent_id "
            "JOIN gazetteer v ON v.id = p.parent_id JOIN regions r ON r.code = v.code "
            "WHERE h.level = 'house' AND NOT ST_Covers(r.geom, h.geom)"
        )
    ).scalar_one()
    assert wrong == 0
    # every current grid holds at least one house number (reverse geocoding relies on it)
    empty = conn.execute(
        sa.text(
            "SELECT count(*) FROM grids g WHERE g.valid_to IS NULL AND NOT EXISTS (SELECT 1 "
            "FROM gazetteer h WHERE h.level = 'house' AND ST_Covers(g.geom, h.geom))"
        )
    ).scalar_one()
    assert empty == 0
    # aliases name a place and carry their dates; the stations are landmarks
    former = conn.execute(
        sa.text(
            "SELECT count(*) FROM gazetteer a JOIN gazetteer t ON t.id = a.alias_of "
            "WHERE a.kind = 'former' AND a.valid_to IS NOT NULL"
        )
    ).scalar_one()
    assert former > 10
    stations = conn.execute(
        sa.text(
            "SELECT count(*) FROM stations s JOIN gazetteer g ON g.name = s.name "
            "AND g.level = 'poi' AND ST_Equals(g.geom, s.geom)"
        )
    ).scalar_one()
    assert stations == conn.execute(sa.text("SELECT count(*) FROM stations")).scalar_one()


def test_bigram_index_finds_a_renamed_village(conn: Connection) -> None:
    """溪白村 -> 溪白社区: pg_trgm gives 0.29; the bigrams share 溪白 of {溪白, 白村} and
    {溪白, 白社, 社区}: Dice 2x1/(2+3) = 0.4, worked by hand."""
    village = conn.execute(
        sa.text("SELECT name FROM regions WHERE level = 'village' AND name LIKE '%村' LIMIT 1")
    ).scalar_one()
    base = village[:-1]
    found = similar_names(conn, base + "社区")
    hit = [f for f in found if f["name"] == village]
    assert hit and hit[0]["dice"] == 0.4
    plan = "\n".join(
        r[0]
        for r in conn.execute(
            sa.text("EXPLAIN SELECT * FROM gazetteer WHERE bigrams && ARRAY['溪白']::text[]")
        )
    )
    assert "gazetteer_bigrams_idx" in plan


@pytest.fixture(scope="module")
def scored(conn: Connection, ix: GazetteerIndex, truth_gazetteer: gpd.GeoDataFrame) -> pd.DataFrame:
    table = make_test_set(truth_gazetteer, SEED)
    truth = owners_by_sql(conn, table["lon"].to_numpy(), table["lat"].to_numpy())
    best = [
        (a["candidates"][0] if a["candidates"] else None)
        for a in (geocode(ix, t) for t in table["address"])
    ]
    table["found"] = [b is not None for b in best]
    table["grid"] = [((b or {}).get("owner") or {}).get("grid") for b in best]
    table["grid"] = [g["code"] if g else None for g in table["grid"]]
    table["answer_village"] = [
        (b["owner"]["village"] or {}).get("code") if b else None for b in best
    ]
    table["answer_lon"] = [b["lon"] if b else np.nan for b in best]
    table["answer_lat"] = [b["lat"] if b else np.nan for b in best]
    table["score"] = [b["score"] if b else np.nan for b in best]
    table["truth_grid"], table["truth_village"] = truth["grid"], truth["village"]
    return table


def test_the_test_set(scored: pd.DataFrame) -> None:
    assert len(scored) >= 6000 and scored["numbered"].sum() >= 5000
    assert set(HOUSE_VARIANTS) <= set(scored["variant"])
    assert scored["truth_grid"].notna().all()  # every truth point lies in a grid


def test_quality_goals(scored: pd.DataFrame) -> None:
    s = scores(
        scored, scored["truth_grid"].to_numpy(), scored["truth_village"].to_numpy(), CONFIDENT
    )
    print(s)
    assert s["grid_hit_numbered"] >= 0.97
    assert s["village_hit_naming_village"] >= 0.995
    assert s["confident_wrong"] < 0.005
    assert s["median_error_m"] < 1.0  # a house found is its own point


def test_every_way_of_writing_is_read(scored: pd.DataFrame) -> None:
    numbered = scored[scored["numbered"]]
    by_variant = (numbered["grid"] == numbered["truth_grid"]).groupby(numbered["variant"]).mean()
    assert (by_variant >= 0.9).all(), by_variant


def test_reverse_round_trip(conn: Connection, ix: GazetteerIndex) -> None:
    """Random points in the units: reverse, write back as text, geocode: the same grid."""
    units = gpd.read_postgis(
        "SELECT code, geom FROM units WHERE valid_to IS NULL ORDER BY code", conn
    )
    rng = np.random.default_rng(14)
    pick = rng.integers(0, len(units), 1000)
    pts = random_points_in(np.asarray(units.geometry.values, dtype=object)[pick], rng)
    lon = np.array([p.x for p in pts])
    lat = np.array([p.y for p in pts])
    truth = owners_by_sql(conn, lon, lat)["grid"].to_numpy()
    same = 0
    for k in range(len(pts)):
        text = reverse(ix, float(lon[k]), float(lat[k]))["address"]
        best = geocode(ix, text)["candidates"][0]
        same += (best["owner"]["grid"] or {}).get("code") == truth[k]
    assert same / len(pts) >= 0.99


def test_modifier_moves_the_point(ix: GazetteerIndex, conn: Connection) -> None:
    school, lon, lat, village, town = conn.execute(
        sa.text(
            "SELECT s.name, ST_X(s.geom), ST_Y(s.geom), v.name, t.name FROM gazetteer s "
            "JOIN gazetteer v ON v.id = s.parent_id JOIN gazetteer t ON t.id = v.parent_id "
            "WHERE s.kind = 'school' ORDER BY s.code LIMIT 1"
        )
    ).one()
    best = geocode(ix, f"{town}{village}{school}东侧50米")["candidates"][0]
    azimuth, _, metres = GEOD.inv(lon, lat, best["lon"], best["lat"])
    assert best["precision"] == "兴趣点"
    assert abs(metres - 50) < 0.5 and abs(azimuth - 90) < 1
