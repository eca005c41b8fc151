"""The queue: a stage filter changes the list and the map's markers, the URL reproduces the
view; by default the open cases by deadline (close_by) soonest first."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.console import console, open_console, row_ids, set_view, shot
from tests.helpers import ServerProcess

IN_BBOX = "ST_Intersects(geom, ST_MakeEnvelope(:w, :s, :e, :n, 4326))"


def _bbox(page) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The view's bounds as the page rounds them for the API (filter.js bboxOf)."""
    w, s, e, n = page.evaluate(
        "(() => { const b = window.map_console.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]"
        ".map(v => Number(v.toFixed(5))); })()"
    )
    return {"w": w, "s": s, "e": e, "n": n}


def _markers(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.eval_on_selector("body", "b => b.dataset.caseMarkers"))


def test_stage_filter_drives_list_markers_and_url(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str, tokens: dict[str, str]
) -> None:
    with demo_ro.connect() as conn:
        lon, lat = conn.execute(
            sa.text(
                "SELECT ST_X(geom), ST_Y(geom) FROM cases WHERE status = 'registered' "
                "ORDER BY id LIMIT 1"
            )
        ).one()
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base, token=tokens["dispatcher"])
        set_view(page, lat, lon, 15)
        page.wait_for_selector(
            "body[data-case-markers]:not([data-case-markers='0'])", state="attached"
        )
        page.wait_for_timeout(500)
        before = _markers(page)
        page.get_by_test_id("queue-filter-stage").select_option("registered")
        page.wait_for_timeout(1500)
        ids = row_ids(page)
        after = _markers(page)
        bbox = _bbox(page)
        url = page.url
        export = page.locator("#export").get_attribute("href") or ""
        shot(page, "console-filter-registered")
        again = page.context.new_page()
        open_console(again, demo_server.base, "?" + url.split("?", 1)[1], tokens["dispatcher"])
        again.wait_for_timeout(1000)
        again_ids = row_ids(again)
        stage = again.get_by_test_id("queue-filter-stage").input_value()
    with demo_ro.connect() as conn:
        registered = set(
            conn.execute(sa.text("SELECT id FROM cases WHERE status = 'registered'")).scalars()
        )
        in_view = conn.execute(
            sa.text(f"SELECT count(*) FROM cases WHERE status = 'registered' AND {IN_BBOX}"),  # noqa: S608
            bbox,
        ).scalar_one()
    assert "status=registered" in url
    assert "status=registered" in export and "f=csv" in export  # exactly the filtered view
    assert ids and set(ids) <= registered
    assert after == min(in_view, 1000) and after != before
    assert again_ids == ids and stage == "registered"
    assert rec.failed == [] and rec.real_errors() == []


def test_queue_lists_open_cases_by_deadline(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str, tokens: dict[str, str]
) -> None:
    with console(chromium, demo_server.base) as (page, _rec):
        open_console(page, demo_server.base, token=tokens["dispatcher"])
        ids = row_ids(page)
    with demo_ro.connect() as conn:
        want = list(
            conn.execute(
                sa.text(  # the deadline to close: set at intake, else the category's hours
                    "SELECT c.id FROM cases c JOIN case_categories cc ON cc.code = c.category "
                    "WHERE c.status IN ('reported', 'registered', 'dispatched', 'in_progress', "
                    "'responded') ORDER BY coalesce(c.close_by, c.reported_at + "
                    "cc.close_hours * interval '1 hour'), c.id LIMIT :n"
                ),
                {"n": len(ids)},
            ).scalars()
        )
    assert ids == want
