"""Roles on the console: a grid worker sees only their grid's cases; the public page shows
no case details; a title with markup renders as text."""

from __future__ import annotations

import re

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.console import console, open_console, row_ids, set_view, shot, wait_some
from tests.helpers import ServerProcess
from tests.test_console_live import grid_point

XSS = "<img src=x onerror=alert(1)>"


def test_grid_worker_sees_only_their_grid(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str, tokens: dict[str, str]
) -> None:
    grid = tokens["worker_grid"]
    with demo_ro.connect() as conn:
        status = conn.execute(
            sa.text(
                "SELECT c.status FROM cases c JOIN grids g ON g.id = c.grid_id WHERE g.code = :g "
                "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            ),
            {"g": grid},
        ).scalar_one()
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base, f"?status={status}", token=tokens["grid_worker"])
        ids = row_ids(page)
        total = page.locator("#total").inner_text()
        shot(page, "console-grid-worker")
    with demo_ro.connect() as conn:
        want = conn.execute(
            sa.text(
                "SELECT c.id FROM cases c JOIN grids g ON g.id = c.grid_id "
                "WHERE g.code = :g AND c.status = :s"
            ),
            {"g": grid, "s": status},
        ).scalars()
        want_ids = set(want)
    assert ids and set(ids) <= want_ids
    assert re.search(rf"\b{len(want_ids)}\b", total)
    assert rec.failed == [] and rec.real_errors() == []


def test_public_page_shows_no_case_details(demo_server: ServerProcess, chromium: str) -> None:
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base)
        wait_some(page, "cases")  # per-grid counts
        set_view(page, 25.43, 119.01, 17)
        page.wait_for_timeout(1500)
        shot(page, "console-public")
        queue_visible = page.get_by_test_id("case-queue").is_visible()
        rows = page.get_by_test_id("case-row").count()
        body = page.locator("body").inner_text()
    assert not queue_visible and rows == 0
    assert "公众" in body
    assert not [u for u in rec.requests if re.search(r"/api/v1/cases(/\d+|\?)", u)]
    assert "100-0000" not in body  # no phone numbers
    assert rec.failed == [] and rec.real_errors() == []


def test_markup_in_a_title_renders_as_text(
    writable: tuple[ServerProcess, str, Engine],
    chromium: str,
) -> None:
    server, token, db = writable
    lon, lat = grid_point(db)
    r = httpx.post(
        server.base + "/api/v1/cases",
        json={"category": "sanitation", "title": XSS, "location": {"lon": lon, "lat": lat}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    dialogs: list[str] = []
    with console(chromium, server.base) as (page, rec):
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        open_console(page, server.base, "?sort=-reported_at", token=token)
        row = page.locator(f"[data-testid=case-row][data-case-id='{case_id}']")
        row.wait_for(timeout=10_000)
        row.click()
        page.wait_for_selector(f"[data-testid=case-panel] h4[data-case-id='{case_id}']")
        page.wait_for_timeout(500)
        shot(page, "console-xss")
        row_text = row.inner_text()
        panel_text = page.get_by_test_id("case-panel").inner_text()
        images = page.locator("img[src=x]").count()
    assert XSS in row_text and XSS in panel_text
    assert images == 0 and dialogs == []
    assert not [u for u in rec.requests if u.endswith("/x")]
