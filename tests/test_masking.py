"""Free text under the access policy: a case's title, description, address and history notes
carry phone and ID numbers; an analyst (who sees reporters masked) reads them masked on every
front, a dispatcher and the case's grid worker read them whole. The oracle is the expected text
written out by hand; the numbers that are no phone or ID (a case id, a date, a grid and a unit
code) stay."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from typing import Any

import httpx
import pytest

from tests.test_cases import INSIDE, Env, env  # noqa: F401 - the module's fixture

# What was typed, and what a masked reader sees: written by hand, number by number.
TITLE = "门口积水 电话13812345678"
TITLE_MASKED = "门口积水 电话138****78"
DESCRIPTION = (
    "身份证350502199001011234，座机0595-22345678，手机+86 139-8765-4321 或 177 1234 5678，"
    "老证号350502750101123；见案件12345，2026-12-02 上午，网格359902103205003，"
    "单元359902103205003003，区号0595"
)
DESCRIPTION_MASKED = (
    "身份证350****34，座机0595-****78，手机+86 139****21 或 177****78，"
    "老证号350****23；见案件12345，2026-12-02 上午，网格359902103205003，"
    "单元359902103205003003，区号0595"
)
ADDRESS = "中山路100号 房东15912345678"
ADDRESS_MASKED = "中山路100号 房东159****78"
NOTE = "已联系(010)12345678与18612345678,证件11010519491231002X"
NOTE_MASKED = "已联系(010)****78与186****78,证件110****2X"
RAW = ("13812345678", "350502199001011234", "22345678", "8765-4321", "15912345678", "12345678")
SHOWN = {  # role -> whole (True) or masked (False)
    "dispatcher": True,
    "grid_worker": True,
    "admin": True,
    "analyst": False,
}


@pytest.fixture(scope="module")
def case(env: Env) -> dict[str, Any]:  # noqa: F811
    """A case whose free text holds every kind of number, registered with a note that does
    too, and a second case beside it (whose 'nearby' lists the first)."""
    created = env.new_case(title=TITLE, description=DESCRIPTION, address=ADDRESS)
    r = env.http.post(
        env.url(f"/api/v1/cases/{created['id']}/actions"),
        json={"action": "register", "note": NOTE},
        headers={**env.h("dispatcher"), "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    neighbour = env.new_case(title="旁边的积水")
    return {"id": created["id"], "neighbour": neighbour["id"]}


def _want(role: str) -> dict[str, str]:
    if SHOWN[role]:
        return {"title": TITLE, "description": DESCRIPTION, "address": ADDRESS, "note": NOTE}
    return {
        "title": TITLE_MASKED,
        "description": DESCRIPTION_MASKED,
        "address": ADDRESS_MASKED,
        "note": NOTE_MASKED,
    }


def _no_raw(text: str) -> None:
    for raw in RAW:
        assert raw not in text, raw


@pytest.mark.parametrize("role", list(SHOWN))
def test_free_text_on_every_front(env: Env, case: dict[str, Any], role: str) -> None:  # noqa: F811
    want, h, cid = _want(role), env.h(role), case["id"]
    texts = {k: want[k] for k in ("title", "description", "address")}

    r = env.http.get(env.url(f"/api/v1/cases/{cid}"), headers=h)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in texts} == texts

    r = env.http.get(env.url(f"/api/v1/cases?grid={env.grid}&limit=1000"), headers=h)
    listed = {c["id"]: c for c in r.json()["cases"]}
    assert {k: listed[cid][k] for k in texts} == texts

    r = env.http.get(env.url(f"/ogc/collections/cases/items/{cid}"), headers=h)
    props = r.json()["properties"]
    assert (props["title"], props["description"]) == (want["title"], want["description"])
    r = env.http.get(env.url(f"/ogc/collections/cases/items?grid_code={env.grid}"), headers=h)
    found = {f["id"]: f["properties"] for f in r.json()["features"]}
    assert found[cid]["description"] == want["description"]

    r = env.http.get(env.url(f"/api/v1/cases?grid={env.grid}&f=csv"), headers=h)
    rows = {int(x["id"]): x for x in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff")))}
    assert {k: rows[cid][k] for k in texts} == texts
    r = env.http.get(env.url(f"/api/v1/cases?grid={env.grid}&f=geojson"), headers=h)
    found = {f["id"]: f["properties"] for f in r.json()["features"]}
    assert {k: found[cid][k] for k in texts} == texts

    r = env.http.get(env.url(f"/open311/v2/requests/{cid}.json"), headers=h)
    assert r.status_code == 200, r.text
    assert r.json()[0]["description"] == want["description"]
    assert r.json()[0]["address"] == want["address"]

    r = env.http.get(env.url(f"/api/v1/cases/{cid}/history"), headers=h)
    notes = [x["note"] for x in r.json()["history"] if x["action"] == "register"]
    assert notes == [want["note"]]

    # the console's panel: the neighbour's surroundings list this case by its title; search
    r = env.http.get(env.url(f"/api/v1/cases/{case['neighbour']}/nearby"), headers=h)
    assert r.status_code == 200, r.text
    titles = {c["id"]: c["title"] for c in r.json()["nearby"] + r.json()["duplicates"]}
    assert titles[cid] == want["title"]
    r = env.http.get(env.url(f"/api/v1/search?q={cid}"), headers=h)
    names = {x["id"]: x["name"] for x in r.json()["results"] if x["kind"] == "case"}
    assert names == {cid: want["title"]}

    if not SHOWN[role]:
        for path in (f"/api/v1/cases/{cid}", f"/api/v1/cases/{cid}/history"):
            _no_raw(env.http.get(env.url(path), headers=h).text)


def test_a_masked_number_is_not_found_by_its_digits(env: Env, case: dict[str, Any]) -> None:  # noqa: F811
    """Searching for a phone the analyst cannot see finds nothing (else the search would tell
    whose case it is); the dispatcher finds the case by it."""
    for role, finds in (("dispatcher", True), ("analyst", False)):
        for q in ("13812345678", "350502199001011234", "15912345678"):
            r = env.http.get(env.url("/api/v1/cases"), params={"q": q}, headers=env.h(role))
            assert r.status_code == 200, r.text
            assert (case["id"] in {c["id"] for c in r.json()["cases"]}) == finds, (role, q)
    r = env.http.get(env.url("/api/v1/cases"), params={"q": "138****78"}, headers=env.h("analyst"))
    assert case["id"] in {c["id"] for c in r.json()["cases"]}


def test_tiles_and_the_stream_carry_no_free_text(env: Env, case: dict[str, Any]) -> None:  # noqa: F811
    from tests.test_tiles import tile_of

    z, x, y = tile_of(16, *INSIDE)
    for role in ("public", "dispatcher", "analyst"):
        r = env.http.get(env.url(f"/tiles/cases/{z}/{x}/{y}.geojson"), headers=env.h(role))
        assert r.status_code == 200
        for f in r.json()["features"]:
            assert not {"title", "description", "address"} & set(f["properties"])
        _no_raw(r.text)
        r = env.http.get(env.url(f"/tiles/cases/{z}/{x}/{y}.mvt"), headers=env.h(role))
        _no_raw(r.content.decode("latin-1"))

    heard: list[str] = []

    def listen() -> None:
        try:
            with httpx.stream(
                "GET", env.url("/api/v1/cases/stream"), headers=env.h("analyst"), timeout=15
            ) as r:
                for line in r.iter_lines():
                    heard.append(line)
        except httpx.HTTPError:
            return

    threading.Thread(target=listen, daemon=True).start()
    time.sleep(1.5)
    created = env.new_case(title=TITLE, description=DESCRIPTION)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(str(created["id"]) in h for h in heard):
        time.sleep(0.05)
    events = [json.loads(h[5:]) for h in heard if h.startswith("data:")]
    assert created["id"] in {e["id"] for e in events}
    _no_raw("\n".join(heard))
