"""If-Match on case actions as RFC 9110 §13.1.1 says: a missing or malformed header is a 428,
a well-formed tag that is not the case's version a 412 (weak tags never match: the comparison
is strong), "*" or a list holding the version goes through. Nothing changes on a refusal."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from tests.test_cases import Env, env  # noqa: F401 - the module's fixture

CASES = [
    (None, 428),
    ("", 428),
    ("yesterday", 428),
    ('"1', 428),
    ('"abc"', 412),
    ('"2"', 412),
    ('W/"1"', 412),
    ('"7", "1"', 200),
    ("*", 200),
    ('"1"', 200),
    ("1", 200),  # a bare version, as typed by hand
]


@pytest.mark.parametrize(("if_match", "status"), CASES)
def test_if_match(env: Env, if_match: str | None, status: int) -> None:  # noqa: F811
    cid = env.new_case()["id"]
    headers = env.h("dispatcher")
    if if_match is not None:
        headers = {**headers, "If-Match": if_match}
    r = httpx.post(
        env.url(f"/api/v1/cases/{cid}/actions"), json={"action": "register"}, headers=headers
    )
    assert r.status_code == status, r.text
    with env.engine.connect() as conn:
        version, state = conn.execute(
            sa.text("SELECT version, status FROM cases WHERE id = :i"), {"i": cid}
        ).one()
    assert (version, state) == ((2, "registered") if status == 200 else (1, "reported"))
    if status == 412 and if_match.startswith("W/"):
        assert "compares strongly" in r.json()["detail"]
