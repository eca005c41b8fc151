"""Request limits over real HTTP (api/limits.py): the body limit before the body is read, rate
limits on the heavy anonymous endpoints, the cached boundaries and /healthz counts."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.access.users import add_user
from tests.conftest import Server, _copy, bearer
from tests.helpers import ServerProcess, as_owner

INSIDE = (119.01, 25.43)
PUBLIC_MAX, SIGNED_MAX = 65_536, 4_000_000
LIMITED_ENV = {
    "ONEMAP_PUBLIC_MAX_BODY": str(PUBLIC_MAX),
    "ONEMAP_SIGNED_IN_MAX_BODY": str(SIGNED_MAX),
    "ONEMAP_RATE_BATCH_LOCATE": "3/minute",
    "ONEMAP_RATE_STATISTICS": "2/minute",
    "ONEMAP_RATE_LARGE_PAGES": "2/minute",
    "ONEMAP_RATE_BOUNDARIES": "",  # off: the cache tests below download them freely
}


@dataclass
class Limited:
    engine: Engine
    server: ServerProcess
    token: str  # a dispatcher's

    def url(self, path: str) -> str:
        return self.server.base + path


@pytest.fixture(scope="module")
def limited(server: Server, demo_template: str) -> Iterator[Limited]:
    """A server with small limits on a private copy of the demo city."""
    for engine in _copy(server, demo_template):
        with engine.begin() as conn:
            token = add_user(conn, "limits-dispatcher", "dispatcher")
        srv = ServerProcess(engine.url.render_as_string(hide_password=False), LIMITED_ENV)
        try:
            yield Limited(engine, srv, token)
        finally:
            srv.stop()


def _points(n: int) -> bytes:
    return json.dumps({"points": [list(INSIDE)] * n}).encode()


def _raw(port: int, head: bytes, chunks: list[bytes]) -> bytes:
    """Send a request's head and some of its body on a raw socket, never finishing the body; the
    server's answer (it can only come from a server that did not wait for the rest)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(head)
        for chunk in chunks:
            s.sendall(chunk)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = s.recv(65536)
            if not data:
                break
            answer += data
        return answer


def test_an_anonymous_body_over_the_limit_is_a_413_before_it_is_read(limited: Limited) -> None:
    # On the case intake (not rate-limited; without a token it would be a 401 after the body).
    port = limited.server.port
    # A declared length over the limit: answered at once, though not one byte of it was sent.
    head = (
        b"POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000000\r\n\r\n"
    )
    answer = _raw(port, head, [])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    problem = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert problem["type"] == "/problems/too-large" and problem["status"] == 413
    assert "100,000,000 bytes" in problem["detail"] and f"{PUBLIC_MAX:,}" in problem["detail"]
    assert "Authorization: Bearer" in problem["detail"] and problem["max_bytes"] == PUBLIC_MAX
    # Chunked, with no length: cut off once past the limit, while the body is still coming.
    head = (
        b"POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"x" * 8192
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    answer = _raw(port, head, [chunk] * (PUBLIC_MAX // len(piece) + 2))  # never the last chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert f"passed {PUBLIC_MAX:,} bytes" in answer.decode()
    # The same through a client: a sized body, then a streamed (chunked) one.
    big = _points(8000)  # 8,000 points of 16 bytes: about 128 KB
    assert len(big) > PUBLIC_MAX
    r = httpx.post(limited.url("/api/v1/cases"), content=big, timeout=30)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    r = httpx.post(limited.url("/api/v1/cases"), content=iter([big[:40_000], big[40_000:]]))
    assert r.status_code == 413, r.text[:200]
    # A token that is no token does not lift the limit.
    r = httpx.post(limited.url("/api/v1/cases"), content=big, headers=bearer("om_nothing"))
    assert r.status_code == 413


def test_a_signed_in_body_may_be_much_larger(limited: Limited) -> None:
    big = _points(8000)
    h = {**bearer(limited.token), "Content-Type": "application/json"}
    r = httpx.post(limited.url("/api/v1/locate"), content=big, headers=h, timeout=60)
    assert r.status_code == 200 and r.json()["count"] == 8000, r.text[:200]
    r = httpx.post(
        limited.url("/api/v1/locate"), content=iter([big[:40_000], big[40_000:]]), headers=h
    )
    assert r.status_code == 200 and r.json()["count"] == 8000, r.text[:200]
    huge = _points(300_000)  # about 4.8 MB: over the signed-in limit too
    assert len(huge) > SIGNED_MAX
    r = httpx.post(limited.url("/api/v1/locate"), content=huge, headers=h, timeout=60)
    assert r.status_code == 413 and f"at most {SIGNED_MAX:,} bytes" in r.json()["detail"]


def test_heavy_anonymous_requests_are_rate_limited_per_client(limited: Limited) -> None:
    small = {"points": [list(INSIDE)] * 2}
    answers = [httpx.post(limited.url("/api/v1/locate"), json=small) for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    r = answers[3]
    assert r.headers["content-type"] == "application/problem+json"
    wait = int(r.headers["retry-after"])
    assert 1 <= wait <= 60
    problem = r.json()
    assert problem["type"] == "/problems/too-many-requests" and problem["status"] == 429
    assert problem["limit"] == "batch_locate" and problem["rate"] == "3 per 1 minute"
    assert problem["retry_after_s"] == wait and f"retry in {wait} s" in problem["detail"]
    assert "ONEMAP_RATE_BATCH_LOCATE" in problem["detail"]
    # A signed-in caller is not limited (and not counted).
    for _ in range(5):
        r = httpx.post(limited.url("/api/v1/locate"), json=small, headers=bearer(limited.token))
        assert r.status_code == 200
    # Single locate and tiles: never limited.
    with httpx.Client(base_url=limited.server.base) as client:
        for _ in range(60):
            assert client.get("/api/v1/locate", params={"lon": 119.01, "lat": 25.43}).status_code
            assert client.get("/tiles/grids/12/3402/1748.mvt").status_code in (200, 204)
        codes = {client.get("/api/v1/locate?lon=119.01&lat=25.43").status_code for _ in range(60)}
        assert codes == {200}
        # Statistics: 2 a minute; OGC pages: only large ones count.
        stats = [client.get("/api/v1/cases/stats").status_code for _ in range(3)]
        assert stats == [200, 200, 429]
        small_pages = [client.get("/ogc/collections/grids/items?limit=10") for _ in range(5)]
        assert {r.status_code for r in small_pages} == {200}
        large = [client.get("/ogc/collections/grids/items?limit=5000") for _ in range(3)]
        assert [r.status_code for r in large] == [200, 200, 429]
        ogc = large[2]
        assert ogc.json()["code"] == "TooManyRequests" and "retry-after" in ogc.headers
        # Boundaries are set off in this server ("" turns a rule off).
        assert {client.get("/api/v1/boundaries/towns.geojson").status_code for _ in range(5)} == {
            200
        }


def test_limits_turned_off(demo_ro: Engine) -> None:
    env = {"ONEMAP_LIMITS": "false", "ONEMAP_PUBLIC_MAX_BODY": "1000"}
    srv = ServerProcess(demo_ro.url.render_as_string(hide_password=False), env)
    try:
        body = {"points": [list(INSIDE)] * 200}  # 3 KB > 1000 bytes
        r = httpx.post(srv.base + "/api/v1/locate", json=body)
        assert r.status_code == 200 and r.json()["count"] == 200
        codes = [httpx.get(srv.base + "/api/v1/cases/stats").status_code for _ in range(35)]
        assert set(codes) == {200}  # past the default 30 a minute
    finally:
        srv.stop()


def _grid_name(engine: Engine, code: str, name: str, triggers: bool) -> None:
    """Rename a grid; with triggers=False its table's version does not move (a change the
    caches cannot see: what they still answer shows they did not read the table again)."""
    owner = as_owner(engine)  # only the table's owner may switch its triggers off
    try:
        with (engine if triggers else owner).begin() as conn:
            if not triggers:
                conn.execute(sa.text("ALTER TABLE grids DISABLE TRIGGER USER"))
            conn.execute(
                sa.text("UPDATE grids SET name = :n WHERE code = :c AND valid_to IS NULL"),
                {"n": name, "c": code},
            )
            if not triggers:
                conn.execute(sa.text("ALTER TABLE grids ENABLE TRIGGER USER"))
    finally:
        owner.dispose()


def test_public_boundaries_are_cached_until_the_plan_changes(limited: Limited) -> None:
    with limited.engine.connect() as conn:
        code, name = conn.execute(
            sa.text("SELECT code, name FROM grids WHERE valid_to IS NULL ORDER BY code LIMIT 1")
        ).one()

    def names() -> tuple[dict[str, str], httpx.Response]:
        r = httpx.get(limited.url("/api/v1/boundaries/grids.geojson"), timeout=30)
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        return {f["properties"]["code"]: f["properties"]["name"] for f in r.json()["features"]}, r

    first, r1 = names()
    assert first[code] == name
    again = httpx.get(
        limited.url("/api/v1/boundaries/grids.geojson"),
        headers={"If-None-Match": r1.headers["etag"]},
    )
    assert again.status_code == 304 and again.content == b""
    _grid_name(limited.engine, code, "未发布的名字", triggers=False)
    cached, r2 = names()
    assert cached[code] == name and r2.content == r1.content  # served from the cache
    _grid_name(limited.engine, code, "新网格名", triggers=True)  # a plan change
    changed, r3 = names()
    assert changed[code] == "新网格名" and r3.headers["etag"] != r1.headers["etag"]
    with limited.engine.connect() as conn:  # every other grid as the database has it
        sql = "SELECT code, name FROM grids WHERE valid_to IS NULL"
        rows = {c: n for c, n in conn.execute(sa.text(sql))}
    assert changed == rows


def test_healthz_counts_are_cached_until_a_layer_changes(limited: Limited) -> None:
    def count(sql: str) -> int:
        with limited.engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar_one())

    stations = "SELECT count(*) FROM stations"
    before = httpx.get(limited.url("/healthz")).json()["counts"]
    assert before["stations"] == count(stations)
    copy = (
        "INSERT INTO stations (name, kind, geom) SELECT name || '2', kind, geom FROM stations "
        "ORDER BY id LIMIT 1"
    )
    owner = as_owner(limited.engine)  # only the table's owner may switch its triggers off
    with owner.begin() as conn:  # a row the version does not see: healthz did not count
        conn.execute(sa.text("ALTER TABLE stations DISABLE TRIGGER USER"))
        conn.execute(sa.text(copy))
        conn.execute(sa.text("ALTER TABLE stations ENABLE TRIGGER USER"))
    owner.dispose()
    for _ in range(3):
        assert httpx.get(limited.url("/healthz")).json()["counts"] == before
    assert count(stations) == before["stations"] + 1
    with limited.engine.begin() as conn:  # a change the version sees: counted again
        conn.execute(sa.text(copy))
    after = httpx.get(limited.url("/healthz")).json()["counts"]
    assert after["stations"] == count(stations) == before["stations"] + 2
    assert {k: v for k, v in after.items() if k != "stations"} == {
        k: v for k, v in before.items() if k != "stations"
    }
