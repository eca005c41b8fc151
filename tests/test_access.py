"""The one access policy, seen from outside: every endpoint that returns cases, asked as every
role for the same cases, shows exactly what the policy says — the same rows, the same fields,
the same masking. The oracle is the policy written out by hand below, and masks worked by hand;
the README's table must be the policy's own."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import pytest
import sqlalchemy as sa

from gis.access.table import markdown
from tests.helpers import run_cli
from tests.test_cases import INSIDE, Env, env  # noqa: F401 - the module's fixture
from tests.test_tiles import tile_of

ROLES = ("public", "dispatcher", "grid_worker", "other_worker", "analyst", "admin")
REPORTER = {"name": "欧阳测试", "phone": "139-8765-4321"}
# role -> (reads this grid's case, how it sees personal fields); other_worker works elsewhere.
POLICY: dict[str, tuple[bool, str | None]] = {
    "public": (False, None),
    "dispatcher": (True, "full"),
    "grid_worker": (True, "full"),
    "other_worker": (False, None),
    "analyst": (True, "masked"),
    "admin": (True, "full"),
}
ROOT = Path(__file__).resolve().parent.parent


def masked_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1)


def masked_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return digits[:3] + "****" + digits[-2:]


def expected_personal(role: str, leader: dict[str, str]) -> dict[str, str] | None:
    """The four personal fields of the case as `role` should see them (None: not at all)."""
    how = POLICY[role][1]
    raw = {
        "reporter_name": REPORTER["name"],
        "reporter_phone": REPORTER["phone"],
        "grid_leader_name": leader["name"],
        "grid_leader_phone": leader["phone"],
    }
    if how == "full":
        return raw
    if how == "masked":
        return {
            k: masked_phone(v) if k.endswith("phone") else masked_name(v) for k, v in raw.items()
        }
    return None


@pytest.fixture(scope="module")
def case(env: Env) -> dict[str, Any]:  # noqa: F811
    """One case in env.grid, with a known reporter, and its grid leader from the database."""
    created = env.new_case(reporter=REPORTER, title="政策测试案件")
    with env.engine.connect() as conn:
        name, phone = conn.execute(
            sa.text("SELECT leader_name, leader_phone FROM grids WHERE code = :g"),
            {"g": env.grid},
        ).one()
    assert name and phone
    return {"id": created["id"], "leader": {"name": name, "phone": phone}}


def _rest_personal(view: dict[str, Any]) -> dict[str, str] | None:
    if "reporter" not in view:
        assert "leader" not in (view.get("grid") or {})
        return None
    return {
        "reporter_name": view["reporter"]["name"],
        "reporter_phone": view["reporter"]["phone"],
        "grid_leader_name": view["grid"]["leader"]["name"],
        "grid_leader_phone": view["grid"]["leader"]["phone"],
    }


def _flat_personal(props: dict[str, Any]) -> dict[str, str] | None:
    keys = ("reporter_name", "reporter_phone", "grid_leader_name", "grid_leader_phone")
    present = [k for k in keys if k in props]
    assert present in ([], list(keys)), present  # all four or none
    return {k: props[k] for k in keys} if present else None


def _no_raw(text: str, leader: dict[str, str]) -> None:
    for raw in (REPORTER["name"], REPORTER["phone"], leader["phone"]):
        assert raw not in text


def _check_collection(
    url: str, h: dict[str, str], cid: int, role: str, want: dict[str, str] | None
) -> None:
    """A FeatureCollection of cases: the case is in it iff the role reads it, as it should look."""
    r = httpx.get(url, headers=h)
    assert r.status_code == (401 if role == "public" else 200)
    if role != "public":
        found = {f["id"]: f for f in r.json()["features"]}
        assert (cid in found) == POLICY[role][0]
        if cid in found:
            assert _flat_personal(found[cid]["properties"]) == want


@pytest.mark.parametrize("role", ROLES)
def test_every_case_endpoint_follows_the_policy(env: Env, case: dict[str, Any], role: str) -> None:  # noqa: F811
    reads, _ = POLICY[role]
    want = expected_personal(role, case["leader"])
    h, cid, grid = env.h(role), case["id"], env.grid
    no_token = role == "public"

    # REST: one case and a filtered list
    r = httpx.get(env.url(f"/api/v1/cases/{cid}"), headers=h)
    assert r.status_code == (200 if reads else 401 if no_token else 404), r.text
    if reads:
        assert _rest_personal(r.json()) == want
    r = httpx.get(env.url(f"/api/v1/cases?grid={grid}&limit=1000"), headers=h)
    assert r.status_code == (401 if no_token else 200)
    if not no_token:
        listed = {c["id"]: c for c in r.json()["cases"]}
        assert (cid in listed) == reads
        if reads:
            assert _rest_personal(listed[cid]) == want

    # OGC API Features: items and one item
    _check_collection(
        env.url(f"/ogc/collections/cases/items?grid_code={grid}&limit=10000"), h, cid, role, want
    )
    r = httpx.get(env.url(f"/ogc/collections/cases/items/{cid}"), headers=h)
    assert r.status_code == (200 if reads else 401 if no_token else 404)
    if reads:
        assert _flat_personal(r.json()["properties"]) == want

    # Tiles at street zoom: features for readers (public fields only), counts for the public
    z, x, y = tile_of(16, *INSIDE)
    r = httpx.get(env.url(f"/tiles/cases/{z}/{x}/{y}.geojson"), headers=h)
    ids = {f.get("id") for f in r.json()["features"]} if r.status_code == 200 else set()
    assert (cid in ids) == reads
    if no_token:
        assert r.status_code == 200 and all(
            "cases" in f["properties"] for f in r.json()["features"]
        )
    _no_raw(r.text, case["leader"])
    assert not re.search(r"reporter_|leader_", r.text)
    r = httpx.get(env.url(f"/tiles/cases/{z}/{x}/{y}.mvt"), headers=h)
    assert r.status_code in (200, 204)
    features = mapbox_vector_tile.decode(r.content).get("cases", {}).get("features", [])
    assert (cid in {f["properties"].get("id") for f in features}) == reads
    for feature in features:
        assert not any(k.startswith(("reporter_", "grid_leader_")) for k in feature["properties"])
    _no_raw(r.content.decode("latin-1"), case["leader"])

    # Open311: GeoReport v2 carries no personal field for anyone; rows as the policy says
    r = httpx.get(env.url(f"/open311/v2/requests/{cid}.json"), headers=h)
    assert r.status_code == (200 if reads else 403 if no_token else 404), r.text
    _no_raw(r.text, case["leader"])
    if reads:
        assert r.json()[0]["service_request_id"] == str(cid)

    r = httpx.get(env.url(f"/api/v1/cases/{cid}/history"), headers=h)
    assert r.status_code == (200 if reads else 401 if no_token else 404)
    r = httpx.get(env.url("/open311/v2/requests.json?service_code=waterlogging"), headers=h)
    assert r.status_code == (403 if no_token else 200)
    if not no_token:
        assert (str(cid) in {q["service_request_id"] for q in r.json()}) == reads
        _no_raw(r.text, case["leader"])

    # Exports of the filtered view: CSV and GeoJSON
    r = httpx.get(env.url(f"/api/v1/cases?grid={grid}&f=csv"), headers=h)
    assert r.status_code == (401 if no_token else 200)
    if not no_token:
        rows = {int(row["id"]): row for row in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff")))}
        assert (cid in rows) == reads
        if reads:
            assert _flat_personal(rows[cid]) == want
        elif want is None:
            _no_raw(r.text, case["leader"])
    _check_collection(env.url(f"/api/v1/cases?grid={grid}&f=geojson"), h, cid, role, want)


def test_the_cli_export_is_an_admins_view(env: Env, case: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "cases.geojson"
    r = run_cli("export", "cases", str(out), engine=env.engine)
    assert r.returncode == 0, r.stderr
    found = {f["properties"]["id"]: f for f in json.loads(out.read_text())["features"]}
    assert _flat_personal(found[case["id"]]["properties"]) == expected_personal(
        "admin", case["leader"]
    )


def test_the_live_stream_follows_the_policy(env: Env) -> None:  # noqa: F811
    heard: dict[str, list[dict[str, Any]]] = {r: [] for r in ROLES}
    status: dict[str, int] = {}
    raw: dict[str, list[str]] = {r: [] for r in ROLES}

    def listen(role: str) -> None:
        try:
            with httpx.stream(
                "GET", env.url("/api/v1/cases/stream"), headers=env.h(role), timeout=20
            ) as r:
                status[role] = r.status_code
                if r.status_code != 200:
                    return
                for line in r.iter_lines():
                    raw[role].append(line)
                    if line.startswith("data:"):
                        heard[role].append(json.loads(line[5:].strip()))
        except httpx.HTTPError:
            return

    threads = [threading.Thread(target=listen, args=(r,), daemon=True) for r in ROLES]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(status) < len(ROLES) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status == {r: 401 if r == "public" else 200 for r in ROLES}
    time.sleep(1.0)  # every stream subscribed to the server's one LISTEN
    created = env.new_case(reporter=REPORTER, title="直播测试")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        e.get("id") == created["id"] for e in heard["dispatcher"]
    ):
        time.sleep(0.05)
    time.sleep(1.0)  # the others had as long
    for role in ROLES:
        reads, _ = POLICY[role]
        got = [e for e in heard[role] if e.get("id") == created["id"]]
        assert bool(got) == reads, (role, heard[role])
        text = "\n".join(raw[role])
        assert REPORTER["name"] not in text and REPORTER["phone"] not in text


def test_the_readme_table_is_the_policys() -> None:
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- policy:start -->\n", "<!-- policy:end -->"
    assert start in readme and end in readme
    shown = readme[readme.index(start) + len(start) : readme.index(end)]
    assert shown == markdown(), "README is stale: paste `python -m gis.access.table` into it"
    # and the table says what the policy test above checks, in words a reader trusts
    cases = [line for line in shown.splitlines() if line.startswith("| cases |")]
    assert cases == [
        "| cases | *rows* | counts per grid | all rows | own grid's rows | all rows | all rows "
        "| counts per grid |"  # the last: intake keys read what the public reads
    ]
    assert (
        "|  | reporter_phone (tiles: hidden) | hidden | full | full | masked | full | hidden |"
        in shown
    )


# role -> how it sees the leaders of grids and units and the contacts of stations (OGC items)
OPEN_LAYER_PERSONAL = {
    "public": None,
    "dispatcher": "full",
    "grid_worker": None,  # only through their own grid's cases
    "other_worker": None,
    "analyst": "masked",
    "admin": "full",
}


@pytest.mark.parametrize("role", ROLES)
def test_leaders_and_contacts_follow_the_policy(env: Env, role: str) -> None:  # noqa: F811
    with env.engine.connect() as conn:
        rows = {
            "grids": conn.execute(
                sa.text("SELECT code, leader_name, leader_phone FROM grids WHERE code = :g"),
                {"g": env.grid},
            ).one(),
            "units": conn.execute(
                sa.text(
                    "SELECT code, leader_name, leader_phone FROM units "
                    "WHERE grid_code = :g AND valid_to IS NULL ORDER BY code LIMIT 1"
                ),
                {"g": env.grid},
            ).one(),
            "stations": conn.execute(
                sa.text(
                    "SELECT s.id, s.contact_name, s.contact_phone FROM stations s "
                    "JOIN grids g ON g.id = s.grid_id WHERE s.contact_phone IS NOT NULL "
                    "ORDER BY g.code = :g DESC, s.id LIMIT 1"
                ),
                {"g": env.grid},
            ).one(),
        }
    how = OPEN_LAYER_PERSONAL[role]
    for layer, (key, name, phone) in rows.items():
        r = httpx.get(env.url(f"/ogc/collections/{layer}/items/{key}"), headers=env.h(role))
        assert r.status_code == 200, r.text
        props = r.json()["properties"]
        prefix = "contact" if layer == "stations" else "leader"
        got = {k: props[k] for k in (f"{prefix}_name", f"{prefix}_phone") if k in props}
        if how is None:
            assert got == {}, (role, layer, got)
            assert phone not in r.text
        elif how == "full":
            assert got == {f"{prefix}_name": name, f"{prefix}_phone": phone}
        else:
            assert got == {
                f"{prefix}_name": masked_name(name),
                f"{prefix}_phone": masked_phone(phone),
            }


# Hostile values that used to reach PostgreSQL (a NUL) or int() ('²'): each a clear 4xx in the
# front's own shape, nothing written, and no personal data in the server's log.
HOSTILE = [
    ("GET", "/ogc/collections/grids/items?name=%00", 400, "name"),
    ("GET", "/ogc/collections/cases/items?status=a%01b", 400, "status"),
    ("GET", "/api/v1/cases?category=%00", 422, "category"),
    ("GET", "/api/v1/cases?q=%7F", 422, "q"),
    ("GET", "/api/v1/locate?lon=119.01%00&lat=25.43", 422, "lon"),
    ("GET", "/open311/v2/requests.json?service_code=%00", 400, "service_code"),
    ("GET", "/ogc/collections/cases/items/%C2%B2", 404, None),
    ("GET", "/open311/v2/requests/%C2%B2.json", 404, None),
    ("GET", "/open311/v2/requests.json?service_request_id=%C2%B2", 400, None),
    ("GET", "/ogc/collections/grids/items?offset=" + "9" * 30, 400, "offset"),
    ("GET", "/ogc/collections/grids/items?limit=" + "9" * 5000, 400, "limit"),
    ("GET", "/api/v1/cases?offset=" + "9" * 30, 422, None),
]


@pytest.mark.parametrize(("method", "path", "status", "param"), HOSTILE)
def test_hostile_values_are_refused_plainly(
    env: Env,  # noqa: F811
    method: str,
    path: str,
    status: int,
    param: str | None,
) -> None:
    r = httpx.request(method, env.url(path), headers=env.h("dispatcher"))
    assert r.status_code == status, r.text
    if param is not None and not path.startswith("/open311"):
        assert r.json()["parameter"] == param


def test_a_nul_in_a_new_case_is_refused_and_never_logged(env: Env) -> None:  # noqa: F811
    with env.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM cases")).scalar_one()
    body = {
        "category": "waterlogging",
        "title": "积水\u0000严重",
        "location": {"lon": INSIDE[0], "lat": INSIDE[1]},
        "reporter": {"name": "毒药测试", "phone": "137-0000-9999"},
    }
    r = httpx.post(env.url("/api/v1/cases"), json=body, headers=env.h("dispatcher"))
    assert r.status_code == 422 and "U+0000" in r.json()["detail"], r.text
    body["category"] = "water\u0000logging"
    body["title"] = "积水"
    r = httpx.post(env.url("/api/v1/cases"), json=body, headers=env.h("dispatcher"))
    assert r.status_code == 422 and "category" in r.json()["detail"], r.text
    r = httpx.post(
        env.url("/api/v1/cases/1/actions"),
        json={"action": "register"},
        headers={**env.h("dispatcher"), "If-Match": '"²"'.encode()},
    )
    assert r.status_code == 412, r.text  # a well-formed tag (obs-text) that is no version
    with env.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM cases")).scalar_one() == before
    log = env.server.logs()
    assert "毒药测试" not in log and "137-0000-9999" not in log


def test_the_csv_export_quotes_what_a_spreadsheet_would_run(env: Env) -> None:  # noqa: F811
    title = '=HYPERLINK("http://example.invalid","点我")'
    cid = env.new_case(title=title)["id"]
    r = httpx.get(env.url(f"/api/v1/cases?grid={env.grid}&f=csv"), headers=env.h("dispatcher"))
    rows = {int(row["id"]): row for row in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff")))}
    assert rows[cid]["title"] == "'" + title
    r = httpx.get(env.url(f"/api/v1/cases/{cid}"), headers=env.h("dispatcher"))
    assert r.json()["title"] == title  # only the spreadsheet file is quoted


def test_an_anonymous_batch_is_bounded(env: Env) -> None:  # noqa: F811
    """More than 10,000 points without a token: a 413 that says how to do it instead; with a
    token the same batch is answered."""
    body = {"points": [list(INSIDE)] * 10_001}
    r = httpx.post(env.url("/api/v1/locate"), json=body, timeout=60)
    assert r.status_code == 413, r.text[:300]
    assert "10,001 points" in r.json()["detail"] and "onemap locate --csv" in r.json()["detail"]
    r = httpx.post(env.url("/api/v1/locate"), json=body, headers=env.h("analyst"), timeout=60)
    assert r.status_code == 200 and r.json()["count"] == 10_001
    small = httpx.post(env.url("/api/v1/locate"), json={"points": [list(INSIDE)] * 10}, timeout=60)
    assert small.status_code == 200
