"""Open311 intake keys over real HTTP: a role that only files requests, made with the CLI; the key
from the X-API-Key header or the form's api_key field, never the query string, never logged,
and checked before the rest of the body is parsed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import Server, _copy, bearer
from tests.helpers import ServerProcess, run_cli

INSIDE = (119.01, 25.43)
URL = "/open311/v2/requests.json"
FORM = {
    "service_code": "waterlogging",
    "lat": str(INSIDE[1]),
    "long": str(INSIDE[0]),
    "description": "路口积水",
    "first_name": "小明",
    "last_name": "王",
    "phone": "13900001111",
}


@dataclass
class Env:
    engine: Engine
    server: ServerProcess
    intake: str
    analyst: str

    def url(self, path: str) -> str:
        return self.server.base + path

    def cases(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM cases")).scalar_one())


@pytest.fixture(scope="module")
def env(server: Server, demo_template: str) -> Iterator[Env]:
    """A server logging every request (uvicorn's access log) on a private demo copy, with an
    intake key and an analyst's token made by `onemap users add`."""
    for engine in _copy(server, demo_template):
        keys = {}
        for name, role in (("hotline-12345", "intake"), ("o311-analyst", "analyst")):
            done = run_cli("users", "add", "--name", name, "--role", role, engine=engine)
            assert done.returncode == 0, done.stderr
            keys[role] = done.stdout.strip()
        url = engine.url.render_as_string(hide_password=False)
        srv = ServerProcess(url, log_level="info")
        try:
            yield Env(engine, srv, keys["intake"], keys["analyst"])
        finally:
            srv.stop()


def _filed(env: Env, r: httpx.Response, before: int) -> int:
    assert r.status_code == 201, r.text
    (receipt,) = r.json()
    rid = int(receipt["service_request_id"])
    assert env.cases() == before + 1
    with env.engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT c.source, c.reporter_phone, h.actor, h.actor_role FROM cases c "
                "JOIN case_history h ON h.case_id = c.id WHERE c.id = :id"
            ),
            {"id": rid},
        ).one()
    assert tuple(row) == ("open311", "13900001111", "hotline-12345", "intake")
    assert "13900001111" not in r.text and "王" not in r.text  # a receipt, no personal data
    return rid


def test_an_intake_key_files_from_the_header_or_the_form(env: Env) -> None:
    before = env.cases()
    r = httpx.post(env.url(URL), data=FORM, headers={"X-API-Key": env.intake})
    _filed(env, r, before)
    r = httpx.post(env.url(URL), data={**FORM, "api_key": env.intake})
    rid = _filed(env, r, before + 1)
    r = httpx.post(env.url(URL), json={**FORM, "api_key": env.intake})
    _filed(env, r, before + 2)
    # It reads no more than the public: no case, no list, no case API.
    h = {"X-API-Key": env.intake}
    assert httpx.get(env.url(f"/open311/v2/requests/{rid}.json"), headers=h).status_code == 403
    assert httpx.get(env.url(URL), headers=h).status_code == 403
    r = httpx.get(env.url(f"/api/v1/cases/{rid}"), headers=bearer(env.intake))
    assert r.status_code == 403 and "may not read cases" in r.json()["detail"]
    assert httpx.get(env.url("/api/v1/cases"), headers=bearer(env.intake)).status_code == 403
    r = httpx.get(env.url("/api/v1/cases/stream"), headers=bearer(env.intake))
    assert r.status_code == 403  # nor the live stream
    public = httpx.get(env.url("/api/v1/cases/stats?since=2026-01-01T00:00:00Z")).json()
    mine = httpx.get(
        env.url("/api/v1/cases/stats?since=2026-01-01T00:00:00Z"), headers=bearer(env.intake)
    ).json()
    assert mine == public
    # The GET views take a key from the header too (an analyst's reads the case).
    r = httpx.get(env.url(f"/open311/v2/requests/{rid}.json"), headers={"X-API-Key": env.analyst})
    assert r.status_code == 200 and r.json()[0]["service_request_id"] == str(rid)


def test_a_key_in_the_query_string_is_a_400_and_files_nothing(env: Env) -> None:
    before = env.cases()
    r = httpx.post(env.url(URL), params={"api_key": env.intake}, data=FORM)
    assert r.status_code == 400, r.text
    ((err,),) = [r.json()]
    assert err["code"] == 400 and "X-API-Key" in err["description"]
    assert "query string" in err["description"] and env.intake not in r.text
    r = httpx.get(env.url(URL), params={"api_key": env.analyst})
    assert r.status_code == 400 and "X-API-Key" in r.text
    assert env.cases() == before


@pytest.mark.parametrize(
    "how",
    ["no key", "bad header", "bad field", "analyst key", "bad key, broken body"],
)
def test_a_bad_key_is_refused_before_the_body_is_processed(env: Env, how: str) -> None:
    before = env.cases()
    headers: dict[str, str] = {}
    body: dict[str, str] | bytes = dict(FORM)
    if how == "bad header":
        headers["X-API-Key"] = "om_not-a-key"
    elif how == "bad field":
        body = {**FORM, "api_key": "om_not-a-key"}
    elif how == "analyst key":  # a real token, of a role that may not file
        headers["X-API-Key"] = env.analyst
    elif how == "bad key, broken body":  # a body that would be a 400: the key is looked at first
        headers = {"X-API-Key": "om_not-a-key", "Content-Type": "application/x-www-form-urlencoded"}
        body = b"service_code=%FF%FE&lat=north&long="
    if isinstance(body, bytes):
        r = httpx.post(env.url(URL), content=body, headers=headers)
    else:
        r = httpx.post(env.url(URL), data=body, headers=headers)
    assert r.status_code == 403, r.text
    (err,) = r.json()
    assert err["code"] == 403
    expected = {
        "no key": "api_key is required",
        "analyst key": "may not file",
    }.get(how, "unknown token")
    assert expected in err["description"]
    assert env.cases() == before


def test_a_valid_key_then_the_fields_are_checked(env: Env) -> None:
    before = env.cases()
    r = httpx.post(env.url(URL), data={**FORM, "lat": "north"}, headers={"X-API-Key": env.intake})
    assert r.status_code == 400 and "lat='north' is not a number" in r.text
    assert env.cases() == before


def test_no_key_reaches_the_log(env: Env) -> None:
    # Every kind of request above has run (the module's order); and once more here, each way.
    httpx.post(env.url(URL), params={"api_key": env.intake}, data=FORM)
    httpx.post(env.url(URL), data={**FORM, "api_key": env.intake})
    httpx.get(env.url(URL), params={"api_key": env.analyst})
    logs = env.server.logs()
    assert '"POST /open311/v2/requests.json?api_key=[hidden] HTTP/1.1" 400' in logs  # it logs
    assert env.intake not in logs and env.analyst not in logs
    assert "13900001111" not in logs
