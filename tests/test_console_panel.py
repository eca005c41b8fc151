"""The case panel: grid code and full history; dispatching from it moves the case in the
database; a second tab acting on a stale version is shown the conflict; j/k/Enter open."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page
from sqlalchemy.engine import Engine

from tests.console import console, open_console, row_ids, shot, watch
from tests.helpers import ServerProcess


def _first(db: Engine, status: str) -> tuple[int, str, int]:
    with db.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(
                sa.text(
                    "SELECT c.id, g.code, (SELECT count(*) FROM case_history h"
                    "  WHERE h.case_id = c.id) FROM cases c JOIN grids g ON g.id = c.grid_id "
                    "WHERE c.status = :s ORDER BY 3 DESC, c.id LIMIT 1"
                ),
                {"s": status},
            ).one()
        )


def _open_case(page: Page, case_id: int) -> None:
    page.get_by_test_id("search").fill(str(case_id))
    page.get_by_test_id("search").press("Enter")
    page.wait_for_selector(f"[data-testid=case-panel] h4[data-case-id='{case_id}']")


def _status(db: Engine, case_id: int) -> tuple[str, int]:
    with db.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(
                sa.text(
                    "SELECT status, (SELECT count(*) FROM case_history WHERE case_id = :i) "
                    "FROM cases WHERE id = :i"
                ),
                {"i": case_id},
            ).one()
        )


def test_panel_shows_grid_and_history_and_dispatches(
    writable: tuple[ServerProcess, str, Engine], chromium: str
) -> None:
    server, token, db = writable
    case_id, grid_code, steps = _first(db, "registered")
    with console(chromium, server.base) as (page, rec):
        open_console(page, server.base, token=token)
        _open_case(page, case_id)
        panel = page.get_by_test_id("case-panel")
        text = panel.inner_text()
        history = panel.locator("ol.history li").count()
        shot(page, "console-case-panel")
        actions = page.eval_on_selector_all(
            "[data-testid=case-action]", "bs => bs.map(b => b.dataset.action)"
        )
        page.click("[data-testid=case-action][data-action=dispatch]")
        page.wait_for_selector("[data-testid=case-panel] .s-dispatched", timeout=10_000)
        after = panel.locator("ol.history li").count()
    assert grid_code in text
    assert history == steps  # the demo city has no transitions yet; one after dispatch
    assert actions == ["dispatch"]
    assert _status(db, case_id) == ("dispatched", steps + 1)
    assert after == steps + 1
    assert rec.failed == [] and rec.real_errors() == []


def test_stale_second_tab_is_shown_the_conflict(
    writable: tuple[ServerProcess, str, Engine], chromium: str
) -> None:
    server, token, db = writable
    case_id, _, steps = _first(db, "reported")
    with console(chromium, server.base) as (first, rec):
        second = first.context.new_page()
        watch(second, rec)
        # The second tab's live connection is down: else the live update would refresh its
        # panel before it acts, and only If-Match is left to catch the stale version.
        second.route("**/api/v1/cases/stream", lambda route: route.abort())
        for page in (first, second):
            open_console(page, server.base, token=token)
            _open_case(page, case_id)
        first.click("[data-testid=case-action][data-action=register]")
        first.wait_for_selector("[data-testid=case-panel] .s-registered", timeout=10_000)
        second.click("[data-testid=case-action][data-action=register]")  # a stale version
        conflict = second.locator("[data-testid=case-panel] .conflict")
        conflict.wait_for(timeout=10_000)
        shot(second, "console-conflict")
        message = conflict.inner_text()
        refreshed = second.eval_on_selector_all(
            "[data-testid=case-action]", "bs => bs.map(b => b.dataset.action)"
        )
    assert "冲突" in message and "2" in message  # now version 2, said plainly
    assert refreshed == ["dispatch"]  # the panel shows the case as it is now
    assert _status(db, case_id) == ("registered", steps + 1)  # acted on once only


def test_keyboard_moves_in_the_queue_and_opens(
    writable: tuple[ServerProcess, str, Engine], chromium: str
) -> None:
    server, token, _ = writable
    with console(chromium, server.base) as (page, _rec):
        open_console(page, server.base, token=token)
        ids = row_ids(page)
        page.locator("body").press("j")
        page.locator("body").press("j")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"[data-testid=case-panel] h4[data-case-id='{ids[1]}']")
        page.keyboard.press("?")
        assert page.locator("#help").is_visible()
