"""Performance figures (绩效评价) on the demo city with a simulated lifecycle: every figure of
every level agrees with an oracle computed in Python from case_history rows (not from the
module's columns or SQL), for four periods, one of them empty; the ranking, the HTTP and CLI
fronts, the files and the access policy."""

from __future__ import annotations

import io
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.access.roles import ANALYST, GRID_WORKER, PUBLIC, Actor
from gis.errors import InvalidInput
from gis.stats import kpis
from gis.stats.kpi_config import parse_config
from tests.conftest import bearer
from tests.helpers import ServerProcess, run_cli

CN = timezone(timedelta(hours=8))
PERIODS = {
    "august": (datetime(2026, 8, 1, tzinfo=CN), datetime(2026, 9, 1, tzinfo=CN)),
    "last-fortnight": (datetime(2026, 10, 19, tzinfo=CN), datetime(2026, 11, 2, tzinfo=CN)),
    "year": (datetime(2025, 10, 1, tzinfo=CN), datetime(2026, 11, 2, tzinfo=CN)),
    "empty": (datetime(2024, 1, 1, tzinfo=CN), datetime(2024, 2, 1, tzinfo=CN)),
}
LEVELS = ("grid", "unit", "village", "town", "district")
OPEN = ("reported", "registered", "dispatched", "in_progress", "responded")
ORDER = ("reported", "registered", "dispatched", "in_progress", "responded", "closed", "evaluated")
WEIGHTS = {"cot": 0.5, "cr": 0.3, "rf": 0.1, "hot": 0.1}


@dataclass
class City:
    engine: Engine
    server: ServerProcess
    tokens: dict[str, str]
    worker_grid: str
    cases: list[dict[str, Any]]
    areas: dict[str, set[str]]

    def url(self, path: str) -> str:
        return self.server.base + path


@pytest.fixture(scope="module")
def city(demo_ro: Engine, demo_server: ServerProcess, tokens: dict[str, str]) -> City:
    """The demo city as loaded (its cases walked through the lifecycle by gis/demo/history.py),
    read only, with the session's server and tokens."""
    return City(
        demo_ro,
        demo_server,
        tokens,
        tokens["worker_grid"],
        _raw_cases(demo_ro),
        _areas(demo_ro),
    )


def _raw_cases(engine: Engine) -> list[dict[str, Any]]:
    """Each case with its area codes, deadlines and its history's times (the oracle's input)."""
    with engine.connect() as conn:
        cases = [
            dict(r)
            for r in conn.execute(
                sa.text(
                    "SELECT c.id, c.status, c.reported_at, c.close_by, c.respond_by, "
                    "cc.respond_hours, cc.close_hours, g.code AS grid, u.code AS unit, "
                    "g.village_code AS village FROM cases c JOIN case_categories cc "
                    "ON cc.code = c.category LEFT JOIN grids g ON g.id = c.grid_id "
                    "LEFT JOIN units u ON u.id = c.unit_id"
                )
            ).mappings()
        ]
        history: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
        for cid, at, action in conn.execute(
            sa.text("SELECT case_id, at, action FROM case_history ORDER BY id")
        ):
            history[cid].append((at, action))
    for c in cases:
        h = history[c["id"]]
        starts = [at for at, a in h if a == "start"]
        responds = [at for at, a in h if a == "respond"]
        closes = [at for at, a in h if a == "close"]
        c["first_start"] = starts[0] if starts else None
        c["handled_at"] = responds[-1] if responds else None
        c["closed_time"] = closes[-1] if closes else None
        c["reworked"] = any(a == "rework" for _, a in h)
        if c["village"]:
            c["town"] = c["village"][:9] + "000"
            c["district"] = c["village"][:6] + "000000"
    return cases


def _areas(engine: Engine) -> dict[str, set[str]]:
    sql = {
        "grid": "SELECT code FROM grids WHERE valid_to IS NULL",
        "unit": "SELECT code FROM units WHERE valid_to IS NULL",
        **{
            lv: f"SELECT code FROM regions WHERE level = '{lv}'"  # noqa: S608
            for lv in ("village", "town", "district")
        },
    }
    with engine.connect() as conn:
        return {lv: set(conn.execute(sa.text(q)).scalars()) for lv, q in sql.items()}


def _div(a: int, b: int) -> float | None:
    return a / b if b else None


def oracle(
    cases: list[dict[str, Any]],
    areas: dict[str, set[str]],
    level: str,
    since: datetime,
    until: datetime,
    now: datetime,
) -> dict[str, dict[str, Any]]:
    """Every figure per area, in Python, from the cases' rows and their history
    (`cases` and `areas` as _raw_cases and _areas read them)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in cases:
        if c["grid"] and c.get(level) and since <= c["reported_at"] < until:
            groups[c[level]].append(c)
    out = {}
    for code in areas[level] | set(groups):
        n: dict[str, Any] = defaultdict(int)
        to_respond, to_close = [], []
        for c in groups.get(code, []):
            s = c["status"]
            deadline = c["close_by"] or c["reported_at"] + timedelta(hours=c["close_hours"])
            respond_deadline = c["respond_by"] or c["reported_at"] + timedelta(
                hours=c["respond_hours"]
            )
            registered = s not in ("reported", "cancelled")
            closed, handled = s in ("closed", "evaluated"), s in ORDER[4:]
            dispatched = s in ORDER[2:]
            past = now >= deadline
            flags = {
                "reported": True,
                "registered": registered,
                "due_to_close": registered and (closed or past),
                "closed": closed,
                "closed_on_time": closed
                and c["closed_time"] is not None
                and c["closed_time"] <= deadline,
                "due_to_handle": dispatched and (handled or past),
                "handled": handled,
                "handled_on_time": handled
                and c["handled_at"] is not None
                and c["handled_at"] <= deadline,
                "handled_once": handled or c["reworked"],
                "reworked": c["reworked"],
                "overdue": s in OPEN
                and (
                    now > deadline
                    or (
                        c["first_start"] is None
                        and s in ("reported", "registered", "dispatched")
                        and now > respond_deadline
                    )
                ),
            }
            for k, v in flags.items():
                n[k] += int(bool(v))
            if c["first_start"] is not None:
                to_respond.append((c["first_start"] - c["reported_at"]).total_seconds() / 3600)
            if closed and c["closed_time"] is not None:
                to_close.append((c["closed_time"] - c["reported_at"]).total_seconds() / 3600)
        row: dict[str, Any] = {k: n[k] for k in kpis.COUNTS}
        row["closed_rate"] = _div(n["closed"], n["due_to_close"])
        row["closed_on_time_rate"] = _div(n["closed_on_time"], n["due_to_close"])
        row["handled_rate"] = _div(n["handled"], n["due_to_handle"])
        row["handled_on_time_rate"] = _div(n["handled_on_time"], n["due_to_handle"])
        row["rework_rate"] = _div(n["reworked"], n["handled_once"])
        row["median_hours_to_respond"] = statistics.median(to_respond) if to_respond else None
        row["median_hours_to_close"] = statistics.median(to_close) if to_close else None
        rr = row["rework_rate"]
        row["score"] = (
            100
            * (
                WEIGHTS["cot"] * (row["closed_on_time_rate"] or 0)
                + WEIGHTS["cr"] * (row["closed_rate"] or 0)
                + WEIGHTS["rf"] * (1 - rr if rr is not None else 0)
                + WEIGHTS["hot"] * (row["handled_on_time_rate"] or 0)
            )
            if n["due_to_close"]
            else None
        )
        score = row["score"]  # a score of exactly 90 is an A, whatever float rounding says
        bounds = [
            (g, low) for g, low in (("A", 90), ("B", 80), ("C", 60)) if (score or 0) > low - 1e-9
        ]
        row["grade"] = None if score is None else bounds[0][0] if bounds else "D"
        out[code] = row
    return out


def _now(city: City) -> datetime:
    with city.engine.connect() as conn:
        return conn.execute(sa.text("SELECT now()")).scalar_one()


def _same(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    for k, v in want.items():
        if v is None or isinstance(v, str | int) and not isinstance(v, bool):
            assert got[k] == v, (where, k, got[k], v)
        else:
            assert got[k] == pytest.approx(
                v, abs=0.006 if "hours" in k or k == "score" else 6e-5
            ), (
                where,
                k,
            )


@pytest.mark.parametrize("period", list(PERIODS))
@pytest.mark.parametrize("level", LEVELS)
def test_every_figure_agrees_with_the_history(city: City, period: str, level: str) -> None:
    since, until = PERIODS[period]
    now = _now(city)
    with city.engine.connect() as conn:
        got = {r["code"]: r for r in kpis.kpis(conn, level, since, until, Actor("a", ANALYST))}
    want = oracle(city.cases, city.areas, level, since, until, now)
    assert set(got) == set(want)
    for code, row in want.items():
        _same(got[code], row, f"{level} {code}")
    total = sum(r["reported"] for r in got.values())
    if period == "empty":
        assert total == 0 and all(r["score"] is None for r in got.values())
    else:
        assert total > 0 and any(r["reworked"] for r in got.values())
        assert any(r["closed_on_time"] for r in got.values())


def test_ranking_bottom_five_is_the_oracles_order(city: City) -> None:
    since, until = PERIODS["year"]
    want = oracle(city.cases, city.areas, "grid", since, until, _now(city))
    scored = sorted(
        ((r["score"], code) for code, r in want.items() if r["score"] is not None),
        key=lambda p: (-p[0], p[1]),
    )
    bottom = [code for _, code in scored[::-1][:5]]
    with city.engine.connect() as conn:
        got = kpis.ranking(conn, "grid", since, until, Actor("a", ANALYST), bottom=5)
        full = kpis.ranking(conn, "grid", since, until, Actor("a", ANALYST))
    assert [r["code"] for r in got] == bottom
    assert [r["rank"] for r in got] == list(range(len(scored), len(scored) - 5, -1))
    assert [r["code"] for r in full] == [code for _, code in scored]
    r = httpx.get(
        city.url("/api/v1/stats/ranking"),
        params={"by": "grid", "since": since.isoformat(), "until": until.isoformat(), "bottom": 5},
        headers=bearer(city.tokens["analyst"]),
    )
    assert r.status_code == 200 and [a["code"] for a in r.json()["areas"]] == bottom


def test_http_json_csv_and_excel(city: City, tmp_path: Any) -> None:
    since, until = PERIODS["august"]
    params = {"by": "village", "since": since.isoformat(), "until": until.isoformat()}
    h = bearer(city.tokens["analyst"])
    doc = httpx.get(city.url("/api/v1/stats/kpis"), params=params, headers=h).json()
    want = oracle(city.cases, city.areas, "village", since, until, _now(city))
    assert set(doc["areas"]) == set(want)  # keyed by area code, for a choropleth
    for code, row in want.items():
        _same(doc["areas"][code], row, code)
    assert doc["weights"]["closed_on_time_rate"] == 0.5 and doc["grades"]["A"] == 90
    csv = httpx.get(city.url("/api/v1/stats/kpis"), params={**params, "f": "csv"}, headers=h)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    header = csv.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:4] == ["代码", "名称", "上报数", "立案数"] and "按期结案率" in header
    xlsx = httpx.get(city.url("/api/v1/stats/kpis"), params={**params, "f": "xlsx"}, headers=h)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert "综合指标值" in rows[0] and "等级" in rows[0] and len(rows) == len(want) + 1
    col = rows[0].index("立案数")
    assert {r[0]: r[col] for r in rows[1:]} == {c: w["registered"] for c, w in want.items()}
    out = tmp_path / "bottom.xlsx"
    cli = run_cli(
        "stats", "ranking", "--by", "town", "--since", "2026-08-01", "--until", "2026-09-01",
        "--bottom", "3", "--xlsx", str(out), engine=city.engine,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    ws = openpyxl.load_workbook(out).active
    assert ws is not None
    got = [r[0] for r in list(ws.iter_rows(values_only=True))[1:]]
    town = oracle(city.cases, city.areas, "town", since, until, _now(city))
    order = sorted(
        (c for c in town if town[c]["score"] is not None), key=lambda c: (-town[c]["score"], c)
    )
    assert got == order[::-1][:3] and "排名" in next(ws.iter_rows(values_only=True))


def test_grid_worker_sees_their_grid_only(city: City) -> None:
    since, until = PERIODS["year"]
    params = {"by": "grid", "since": since.isoformat(), "until": until.isoformat()}
    mine = httpx.get(
        city.url("/api/v1/stats/kpis"), params=params, headers=bearer(city.tokens["grid_worker"])
    ).json()["areas"]
    want = oracle(city.cases, city.areas, "grid", since, until, _now(city))
    assert list(mine) == [city.worker_grid]
    _same(mine[city.worker_grid], want[city.worker_grid], "worker")
    up = httpx.get(
        city.url("/api/v1/stats/kpis"),
        params={**params, "by": "village"},
        headers=bearer(city.tokens["grid_worker"]),
    )
    assert up.status_code == 403 and "by=village" in up.json()["detail"]
    with city.engine.connect() as conn:
        units = kpis.kpis(conn, "unit", since, until, Actor("w", GRID_WORKER, city.worker_grid))
    assert units and all(r["code"].startswith(city.worker_grid) for r in units)


def test_the_public_sees_counts_with_small_ones_withheld(city: City) -> None:
    since, until = PERIODS["year"]
    params = {"by": "village", "since": since.isoformat(), "until": until.isoformat()}
    public = httpx.get(city.url("/api/v1/stats/kpis"), params=params).json()["areas"]
    want = oracle(city.cases, city.areas, "village", since, until, _now(city))
    for code, row in want.items():
        got = public[code]
        assert got["median_hours_to_respond"] is None and got["median_hours_to_close"] is None
        for c in kpis.COUNTS:
            assert got[c] == (row[c] if row[c] == 0 or row[c] >= 5 else None), (code, c)
            assert (c in got["withheld"]) == (0 < row[c] < 5)
    assert any(0 < r["handled_once"] < 5 for r in want.values())
    short = httpx.get(
        city.url("/api/v1/stats/kpis"),
        params={"since": "2026-10-01T00:00:00Z", "until": "2026-10-03T00:00:00Z"},
    )
    assert short.status_code == 422 and short.json()["parameter"] == "since"


@pytest.mark.parametrize(
    ("params", "param", "text"),
    [
        ({"by": "planet"}, "by", "'planet'"),
        ({"since": "2026-10-02T00:00:00Z", "until": "2026-10-01T00:00:00Z"}, "until", "not after"),
        ({"since": "2026-10-01T00:00:00"}, "since", "time zone"),
        ({"f": "pdf"}, "f", "pdf"),
        ({"bottom": "0"}, "bottom", "0"),
    ],
)
def test_bad_parameters_are_422_naming_them(
    city: City, params: dict[str, str], param: str, text: str
) -> None:
    path = "/api/v1/stats/ranking" if "bottom" in params else "/api/v1/stats/kpis"
    r = httpx.get(city.url(path), params=params, headers=bearer(city.tokens["analyst"]))
    assert r.status_code == 422, r.text
    assert r.json()["parameter"] == param and text in r.json()["detail"]


def test_weights_come_from_the_settings_file(city: City, tmp_path: Any) -> None:
    since, until = PERIODS["august"]
    doc = {
        "denominators": {"due_to_close": "registered", "due_to_handle": "dispatched"},
        "weights": {"closed_rate": 1.0},
        "grades": {"A": 95, "B": 90, "C": 50},
    }
    with city.engine.connect() as conn:
        got = kpis.kpis(conn, "town", since, until, Actor("a", ANALYST), parse_config(doc, "t"))
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in city.cases:
        if c["grid"] and since <= c["reported_at"] < until:
            groups[c["town"]].append(c)
    for row in got:
        cases = groups.get(row["code"], [])
        registered = [c for c in cases if c["status"] not in ("reported", "cancelled")]
        closed = [c for c in registered if c["status"] in ("closed", "evaluated")]
        assert row["due_to_close"] == len(registered)
        assert row["due_to_handle"] == sum(c["status"] in ORDER[2:] for c in cases)
        if registered:
            assert row["score"] == pytest.approx(100 * len(closed) / len(registered), abs=0.006)
    with pytest.raises(InvalidInput, match="sum to 0.9"):
        parse_config({**doc, "weights": {"closed_rate": 0.9}}, "t")
    with pytest.raises(InvalidInput, match="unknown weight 'speed'"):
        parse_config({**doc, "weights": {"speed": 1.0}}, "t")
    assert PUBLIC.role == "public" and UTC  # imported names in use
