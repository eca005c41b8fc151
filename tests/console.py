"""Helpers of the console's browser tests: a recorded headless page, sign-in, the map."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, Response, sync_playwright

from tests.helpers import ServerProcess
from tests.test_map_page import FLAGS

SHOTS = Path(__file__).parent / "screenshots"


@dataclass
class Record:
    """Every request URL, every failed response and every console error of a page."""

    base: str
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def response(self, r: Response) -> None:
        if r.status < 400:
            return
        self.failed.append(f"{r.status} {r.url}")

    def real_errors(self) -> list[str]:
        """The page's console errors."""
        return list(self.errors)

    def foreign(self) -> list[str]:
        return [u for u in self.requests if not (u.startswith(self.base) or u.startswith("data:"))]


@contextmanager
def console(chromium: str, base: str, width: int = 1400) -> Iterator[tuple[Page, Record]]:
    """A headless Chromium page recording requests, failures and errors (nothing stubbed)."""
    rec = Record(base)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        context = browser.new_context(viewport={"width": width, "height": 860})
        page = context.new_page()
        watch(page, rec)
        try:
            yield page, rec
        finally:
            browser.close()


def watch(page: Page, rec: Record) -> None:
    page.on("request", lambda r: rec.requests.append(r.url))
    page.on("requestfailed", lambda r: rec.failed.append(f"failed {r.url} {r.failure}"))
    page.on("response", rec.response)
    page.on("pageerror", lambda e: rec.errors.append(str(e)))
    page.on("console", lambda m: rec.errors.append(m.text) if m.type == "error" else None)


def open_console(page: Page, base: str, query: str = "", token: str | None = None) -> None:
    """Open /map, wait until the console is ready, and sign in with the token if given."""
    page.goto(f"{base}/map{query}")
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=30_000)
    if token:
        sign_in(page, token)


def sign_in(page: Page, token: str) -> None:
    page.get_by_test_id("sign-in-token").fill(token)
    page.get_by_test_id("sign-in-submit").click()
    page.wait_for_selector(
        "body[data-role]:not([data-role='public'])", state="attached", timeout=10_000
    )
    page.get_by_test_id("case-row").first.wait_for(timeout=15_000)


def wait_some(page: Page, attr: str, timeout: int = 20_000) -> None:
    """Wait (without eval: the CSP forbids it) until body's data-<attr> is a count above 0."""
    page.wait_for_selector(
        f"body[data-{attr}]:not([data-{attr}='0'])", state="attached", timeout=timeout
    )


def set_view(page: Page, lat: float, lon: float, zoom: int) -> None:
    # a block, not an arrow's value: Playwright would serialise the whole map back (slow)
    page.evaluate(
        "([lat, lon, z]) => { window.map_console.setView([lat, lon], z); }", [lat, lon, zoom]
    )


def shot(page: Page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def row_ids(page: Page) -> list[int]:
    return [
        int(x)
        for x in page.eval_on_selector_all(
            "[data-testid=case-row]", "rows => rows.map(r => r.dataset.caseId)"
        )
    ]


def pixels_like(path: Path, rgb: tuple[int, int, int], left: int = 0, tol: int = 40) -> int:
    """How many pixels of a screenshot, right of `left`, are within tol of a colour."""
    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(path).convert("RGB"), dtype=np.int32)[:, left:, :]
    return int((np.abs(img - np.array(rgb)).sum(axis=2) <= tol).sum())


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def restart(server: ServerProcess, database_url: str, meanwhile: Callable[[], None]) -> None:
    """Stop the server (its open event streams drop), run `meanwhile`, start it again on the
    same port with the same command."""
    argv = list(server.proc.args)  # type: ignore[arg-type]
    server.proc.terminate()  # not stop(): that closes the log the new process writes to
    server.proc.wait(10)
    meanwhile()
    server.proc = subprocess.Popen(
        argv,
        cwd=Path(__file__).parent.parent,
        env={**os.environ, "ONEMAP_DATABASE_URL": database_url},
        stdout=server.log,
        stderr=subprocess.STDOUT,
    )
    server._wait()
