"""What the analyst notebooks print, checked against direct SQL or a computation written here
(never the function a notebook calls): the oracles of tests/test_notebooks.py."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tests.helpers import CHINA_VECTORS
from tests.test_hotspots import gi_star, local_moran
from tests.test_kpis import _areas, _raw_cases, oracle

CN = timezone(timedelta(hours=8))


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _table(text: str, row: str) -> dict[str, list[str]]:
    """The rows of a printed DataFrame whose index matches `row`: index -> cells."""
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and re.fullmatch(row, parts[0]):
            found[parts[0]] = parts[1:]
    return found


def _scalar(conn: Connection, sql: str) -> float:
    return float(conn.execute(sa.text(sql)).scalar_one())


def check_quickstart(cells: list[str], engine: Engine, out: Path) -> None:
    """quickstart.ipynb: grids, stations (local = remote), dispatched cases in a box, the owners
    of GPS points and of an AMap (GCJ-02) point, the GeoParquet file."""
    text = "\n".join(cells)
    current = "FROM grids WHERE valid_to IS NULL"
    with engine.connect() as conn:
        m = re.search(r"([\d,]+) grids as analyst, CRS EPSG:4326", text)
        assert m and _number(m[1]) == _scalar(conn, f"SELECT count(*) {current}")  # noqa: S608
        m = re.search(r"([\d,]+) stations; the same rows locally and through \S+: True", text)
        assert m and _number(m[1]) == _scalar(conn, "SELECT count(*) FROM stations")
        m = re.search(r"([\d,]+) dispatched cases in \(119.0, 25.4, 119.1, 25.5\)", text)
        box = "ST_MakeEnvelope(119.0, 25.4, 119.1, 25.5, 4326)"
        want = _scalar(
            conn,
            f"SELECT count(*) FROM cases WHERE status = 'dispatched' AND ST_Intersects(geom, {box})",  # noqa: S608
        )
        assert m and _number(m[1]) == want > 0

        def owner(table: str, lon: float, lat: float) -> str | None:
            return conn.execute(
                sa.text(
                    f"SELECT code FROM {table} WHERE valid_to IS NULL AND "  # noqa: S608
                    "ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
                ),
                {"x": lon, "y": lat},
            ).scalar()

        rows = [line.split() for line in cells[4].splitlines() if re.match(r"\d+ ", line)]
        assert len(rows) == 5, cells[4]
        wx, wy, gx, gy = CHINA_VECTORS[0][:4]  # a WGS84 point and its GCJ-02, worked by hand
        for _, name, lon, lat, status, *owners in rows:
            x, y = float(lon), float(lat)
            if name == "高德选点":  # GCJ-02: the hand-worked vector's WGS84 point is the truth
                assert (x, y) == (round(gx, 6), round(gy, 6))
                x, y = wx, wy
            grid = owner("grids", x, y)
            if grid is None:
                near = f"ST_DWithin(geom::geography, ST_MakePoint({x}, {y})::geography, 50)"
                assert status == "outside" and not _scalar(
                    conn,
                    f"SELECT count(*) {current} AND {near}",  # noqa: S608
                )
            else:
                assert (
                    status == "inside" and owners[0] == grid and owners[2] == owner("units", x, y)
                )
        assert {r[1] for r in rows if r[4] == "inside"} >= {"路口", "高德选点"}
        assert rows[0][5] == rows[4][5]  # the AMap point is the first GPS point's place
        frame = gpd.read_parquet(out / "located.parquet")
        assert frame.crs == "EPSG:4326" and len(frame) == 4
        assert list(frame["grid_code"].fillna("-")) == [
            r[5] if r[4] == "inside" else "-" for r in rows[:4]
        ]


def _period(m: re.Match[str]) -> tuple[datetime, datetime]:
    return tuple(datetime.fromisoformat(d).replace(tzinfo=CN) for d in (m[1], m[2]))  # type: ignore[return-value]


def check_performance(cells: list[str], engine: Engine, out: Path) -> None:
    """performance.ipynb: the period's totals by SQL; the bulletin, its files and the quantile
    classes against the Python oracle of tests/test_kpis.py (built from case_history)."""
    text = "\n".join(cells)
    m = re.search(
        r"(\d{4}-\d\d-\d\d) to (\d{4}-\d\d-\d\d) \(\+08:00\), (\d+) villages: ([\d,]+) "
        r"registered \(立案数\); 结案率 ([\d.]+)%, 按期结案率 ([\d.]+)%",
        text,
    )
    assert m, text[:2000]
    since, until = _period(m)
    deadline = "coalesce(c.close_by, c.reported_at + cc.close_hours * interval '1 hour')"
    with engine.connect() as conn:
        last = conn.execute(sa.text("SELECT max(reported_at) FROM cases")).scalar_one()
        assert until.date() == last.astimezone(CN).date() + timedelta(days=1)
        assert until - since == timedelta(days=91)
        assert int(m[3]) == _scalar(conn, "SELECT count(*) FROM regions WHERE level = 'village'")
        registered, due, closed, on_time = conn.execute(
            sa.text(
                "WITH k AS (SELECT c.status IN ('closed', 'evaluated') AS closed, "  # noqa: S608
                f"c.closed_at <= {deadline} AS on_time, now() >= {deadline} AS past "
                "FROM cases c JOIN case_categories cc ON cc.code = c.category "
                "JOIN grids g ON g.id = c.grid_id WHERE c.reported_at >= :s "
                "AND c.reported_at < :u AND c.status NOT IN ('reported', 'cancelled')) "
                "SELECT count(*), count(*) FILTER (WHERE closed OR past), "
                "count(*) FILTER (WHERE closed), count(*) FILTER (WHERE closed AND on_time) FROM k"
            ),
            {"s": since, "u": until},
        ).one()
        now = conn.execute(sa.text("SELECT now()")).scalar_one()
    assert _number(m[4]) == registered > 100
    assert float(m[5]) == pytest.approx(100 * closed / due, abs=0.051)
    assert float(m[6]) == pytest.approx(100 * on_time / due, abs=0.051)
    assert on_time < closed  # the demo's histories: some closed late

    want = oracle(_raw_cases(engine), _areas(engine), "village", since, until, now)
    scored = {code: r["score"] for code, r in want.items() if r["score"] is not None}
    shown = _table(cells[2], r"\d{12}")  # name, rank, score, grade, rates, overdue
    assert len(shown) == 5
    scores = [float(v[2]) for v in shown.values()]
    assert scores == sorted(scores)  # worst first
    assert scores == pytest.approx(sorted(scored.values())[:5], abs=0.006)
    assert [int(v[1]) for v in shown.values()] == list(range(len(scored), len(scored) - 5, -1))
    for code, v in shown.items():
        assert float(v[2]) == pytest.approx(scored[code], abs=0.006)
        assert v[3] == want[code]["grade"]
        for cell, rate in zip(
            v[4:7], ("closed_on_time_rate", "closed_rate", "rework_rate"), strict=True
        ):
            expected = want[code][rate]
            assert (
                cell == "NaN"
                if expected is None
                else float(cell) == pytest.approx(expected, abs=6e-5)
            )
        assert int(v[7]) == want[code]["overdue"]
    assert f"the last 5 of {len(scored)} villages ranked" in text

    sheet = openpyxl.load_workbook(out / "bulletin.xlsx")["倒数5名通报"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("代码", "名称", "排名", "综合指标值", "等级") and "按期结案率" in rows[0]
    assert [r[0] for r in rows[1:]] == list(shown)
    assert [r[3] for r in rows[1:]] == pytest.approx([scored[c] for c in shown], abs=0.006)
    csv = (out / "bulletin.csv").read_text(encoding="utf-8-sig").splitlines()
    assert csv[0].startswith("代码,名称,排名,综合指标值,等级") and len(csv) == 6

    m = re.search(r"class upper bounds: ([\d., ]+)\n", text)
    counts = re.search(r"areas per class: ([\d, ]+)\n", text)
    assert m and counts
    bins = [float(b) for b in m[1].split(",")]
    y = np.round(np.array(list(scored.values())), 2)  # the scores as served (2 decimals)
    assert bins == pytest.approx(np.quantile(y, [0.2, 0.4, 0.6, 0.8, 1.0]), abs=0.006)
    per_class = np.bincount(np.searchsorted(bins, y, side="left"), minlength=len(bins))
    assert [int(c) for c in counts[1].split(",")] == per_class.tolist()


HOTSPOT_SUBJECTS = {  # the notebook's name of a subject -> its count per grid, by SQL
    "waterlogging spots": "SELECT count(*) FROM hotspots h WHERE h.grid_id = g.id "
    "AND h.kind = 'waterlogging'",
    "waterlogging cases": "SELECT count(*) FROM cases c WHERE c.grid_id = g.id "
    "AND c.category = 'waterlogging'",
    "cases": "SELECT count(*) FROM cases c WHERE c.grid_id = g.id",
}


def _blocks(text: str, head: str, row: str) -> dict[str, tuple[re.Match[str], list[list[str]]]]:
    """Each printed summary line (matching `head`, named by its first group) with the table
    rows (first cell matching `row`) printed after it."""
    out: dict[str, tuple[re.Match[str], list[list[str]]]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(head, line)
        if m:
            current = m[1]
            out[current] = (m, [])
        elif current and line.split() and re.fullmatch(row, line.split()[0]):
            out[current][1].append(line.split())
    return out


def check_hotspots(cells: list[str], engine: Engine, out: Path) -> None:
    """hotspots.ipynb: counts per grid by SQL; rates, neighbours, Gi* z and local Moran's I
    of the top five from the formulas (tests/test_hotspots.py) over shapely's touches()."""
    text = "\n".join(cells)
    blocks = _blocks(
        text,
        r"([a-z ]+): ([\d,]+) in ([\d,]+) grids; (\d+) hot and (\d+) cold spots at 95 %, "
        r"(\d+) HH clusters",
        r"\d{15}",
    )
    assert set(blocks) == set(HOTSPOT_SUBJECTS), text[:2000]
    with engine.connect() as conn:
        grids = conn.execute(
            sa.text(
                "SELECT code, ST_AsBinary(geom), ST_Area(geom::geography) / 1e6 FROM grids "
                "WHERE valid_to IS NULL ORDER BY code"
            )
        ).all()
        counts = {
            what: np.array(
                conn.execute(
                    sa.text(f"SELECT ({sql}) FROM grids g WHERE g.valid_to IS NULL ORDER BY g.code")  # noqa: S608
                )
                .scalars()
                .all(),
                dtype=float,
            )
            for what, sql in HOTSPOT_SUBJECTS.items()
        }
    codes = [r[0] for r in grids]
    index = {c: i for i, c in enumerate(codes)}
    geoms = [shapely.from_wkb(bytes(r[1])) for r in grids]
    area = np.array([r[2] for r in grids], dtype=float)
    tree = shapely.STRtree(geoms)
    w = np.zeros((len(geoms), len(geoms)))
    for i, g in enumerate(geoms):
        for j in tree.query(g):
            if j != i and g.touches(geoms[j]):
                w[i, j] = 1.0
    island = w.sum(1) == 0
    for what, (m, rows) in blocks.items():
        n = counts[what]
        y = n / area
        z, moran = gi_star(y, w), local_moran(y, w)
        z[island] = np.nan
        assert (_number(m[2]), _number(m[3])) == (n.sum(), len(codes)) and n.sum() > 0
        assert len(rows) == 5
        top = np.sort(z[~island])[::-1][:5]
        assert [float(r[5]) for r in rows] == pytest.approx(top, abs=6e-5)  # the highest z
        for code, _name, cnt, rate, nb, gz, gp, gclass, mi, _mclass in rows:
            i = index[code]
            assert int(cnt) == n[i] and float(rate) == pytest.approx(y[i], abs=6e-5)
            assert int(nb) == w[i].sum()
            assert float(gz) == pytest.approx(z[i], abs=6e-5)
            assert float(mi) == pytest.approx(moran[i], abs=6e-5)
            p = float(gp)  # the class follows the documented thresholds of the permutation p
            level = next((c for c, a in (("99", 0.01), ("95", 0.05), ("90", 0.1)) if p <= a), None)
            assert gclass == (f"{'hot' if z[i] > 0 else 'cold'}_{level}" if level else "ns")


def check_coverage(cells: list[str], engine: Engine, out: Path) -> None:
    """coverage.ipynb: distances to the nearest station of each kind, the grids out of reach
    and the shares of units within 500 m, all by PostGIS in the city's Gauss-Krüger zone."""
    text = "\n".join(cells)
    assert "distance method: straight-line\n" in text
    with engine.begin() as conn:  # the stations in the zone, indexed: nearest by KNN (exact)
        for sql in (
            "CREATE TEMP TABLE s ON COMMIT DROP AS "
            "SELECT kind, ST_Transform(geom, 4549) AS geom FROM stations",
            "CREATE INDEX ON s USING gist (geom)",
            "ANALYZE s",
        ):
            conn.execute(sa.text(sql))
        nearest = conn.execute(
            sa.text(
                "SELECT k.kind, g.code, (SELECT ST_Distance(t.geom, s.geom) FROM s "
                "WHERE s.kind = k.kind ORDER BY t.geom <-> s.geom LIMIT 1) "
                "FROM grids g CROSS JOIN LATERAL (SELECT ST_Transform(g.geom, 4549) AS geom) t "
                "CROSS JOIN (SELECT DISTINCT kind FROM s) k WHERE g.valid_to IS NULL"
            )
        ).all()
        units: dict[str, float] = dict(
            conn.execute(
                sa.text(
                    "WITH u AS (SELECT grid_code, ST_Transform(ST_PointOnSurface(geom), 4549) AS p "
                    "FROM units WHERE valid_to IS NULL), per_grid AS (SELECT k.kind, u.grid_code, "
                    "avg((EXISTS (SELECT 1 FROM s WHERE s.kind = k.kind "
                    "AND ST_DWithin(s.geom, u.p, 500)))::int) AS share "
                    "FROM (SELECT DISTINCT kind FROM s) k CROSS JOIN u GROUP BY 1, 2) "
                    "SELECT kind, avg(share) FROM per_grid GROUP BY kind"
                )
            ).all()
        )
    by_kind: dict[str, dict[str, float]] = defaultdict(dict)
    for kind, code, d in nearest:
        by_kind[kind][code] = float(d)
    # kind: grids, median_m, none_500, none_1000, area_500, units_500
    table = _table(cells[1], r"[a-z]+(?:_[a-z]+)+")
    assert set(table) == set(by_kind) and len(by_kind) == 5
    for kind, (grids, median, none_500, none_1000, _area, unit_share) in table.items():
        d = np.array(list(by_kind[kind].values()))
        assert int(grids) == len(d)
        assert float(median) == pytest.approx(np.median(d), abs=0.01)
        assert (int(none_500), int(none_1000)) == ((d > 500).sum(), (d > 1000).sum())
        assert float(unit_share) == pytest.approx(float(units[kind]), abs=1e-4)
    far = by_kind["party_service_center"]
    m = re.search(
        r"(\d+) grids have no party_service_center within 1,000 m \(straight-line\)", text
    )
    assert m and int(m[1]) == sum(v > 1000 for v in far.values()) > 0
    shown = _table(cells[2], r"\d{15}")  # name, nearest_m: the ten farthest
    assert len(shown) == 10
    for code, (_name, dist) in shown.items():
        assert float(dist) == pytest.approx(far[code], abs=0.06)
    assert sorted(float(v[1]) for v in shown.values())[::-1] == pytest.approx(
        sorted(far.values())[::-1][:10], abs=0.06
    )
