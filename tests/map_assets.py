"""The scripts and styles a map's HTML loads (inside iframe srcdoc too), read with the standard
library's HTML parser, and the check that each comes from the OneMap test server and answers."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.frames = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(str(a["src"]))
        elif tag == "link" and a.get("href"):
            self.urls.append(str(a["href"]))
        elif tag == "iframe" and a.get("srcdoc"):  # folium's notebook view: the page, escaped
            inner = _Assets()  # a parser of its own: feed() is not re-entrant
            inner.feed(str(a["srcdoc"]))
            inner.close()
            self.urls += inner.urls
            self.frames += 1 + inner.frames


def asset_urls(html: str) -> tuple[list[str], int]:
    """Every <script src> and <link href> of the HTML and of its iframes' srcdoc; iframes seen."""
    parser = _Assets()
    parser.feed(html)
    parser.close()
    return parser.urls, parser.frames


def assert_served_by(urls: list[str], base: str) -> None:
    """Each URL is on the server at `base` (scheme, host and port) and answers 200 there."""
    here = urlsplit(base)
    foreign = [u for u in urls if urlsplit(u)[:2] != here[:2]]
    assert not foreign, f"assets from another host: {foreign}"
    with httpx.Client(timeout=30) as client:
        failed = [
            (u, r.status_code) for u in sorted(set(urls)) if (r := client.get(u)).status_code != 200
        ]
    assert not failed, failed
