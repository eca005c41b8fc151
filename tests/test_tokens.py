"""Tokens expire (12 hours by default, settable) and can be revoked: an expired or disabled
token is a 401 that says so; the time is checked against the database's clock."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from gis.access.users import add_user
from tests.helpers import run_cli
from tests.test_cases import Env, env  # noqa: F401 - the module's fixture


def _hours_left(env: Env, name: str) -> float:  # noqa: F811
    """How long the user's token still holds, by the database's clock."""
    with env.engine.connect() as conn:
        hours = conn.execute(
            sa.text(
                "SELECT extract(epoch FROM expires_at - now()) / 3600 FROM users WHERE name = :n"
            ),
            {"n": name},
        ).scalar_one()
    return float(hours)


def test_a_token_expires(env: Env) -> None:  # noqa: F811
    with env.engine.begin() as conn:
        token = add_user(conn, "t-expiring", "analyst")
    assert 11.9 < _hours_left(env, "t-expiring") <= 12.0
    h = {"Authorization": f"Bearer {token}"}
    assert httpx.get(env.url("/api/v1/cases?limit=1"), headers=h).status_code == 200
    with env.engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE users SET expires_at = now() - interval '1 second' "
                "WHERE name = 't-expiring'"
            )
        )
    r = httpx.get(env.url("/api/v1/cases?limit=1"), headers=h)
    assert r.status_code == 401 and "expired" in r.json()["detail"], r.text
    assert token not in r.text


def test_tokens_are_issued_for_a_while_and_revoked(env: Env) -> None:  # noqa: F811
    r = run_cli(
        "users", "add", "--name", "t-cli", "--role", "analyst", "--hours", "0", engine=env.engine
    )
    assert r.returncode == 2 and "0 to 8784 hours" in r.stderr
    r = run_cli(
        "users", "add", "--name", "t-cli", "--role", "analyst", "--hours", "2", engine=env.engine
    )
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert 1.9 < _hours_left(env, "t-cli") <= 2.0
    listed = run_cli("users", "list", engine=env.engine).stdout
    assert any(line.startswith("t-cli") and " until " in line for line in listed.splitlines())
    assert run_cli("users", "disable", "t-cli", engine=env.engine).returncode == 0
    r = httpx.get(env.url("/api/v1/cases?limit=1"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and "disabled" in r.json()["detail"]


def test_an_open_stream_ends_when_its_token_is_revoked(env: Env) -> None:  # noqa: F811
    import threading
    import time

    with env.engine.begin() as conn:
        token = add_user(conn, "t-stream", "dispatcher")
    lines: list[str] = []
    done = threading.Event()

    def listen() -> None:
        try:
            with httpx.stream(
                "GET",
                env.url("/api/v1/cases/stream"),
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ) as r:
                assert r.status_code == 200
                for line in r.iter_lines():
                    lines.append(line)
        except httpx.HTTPError:
            pass
        finally:
            done.set()

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    time.sleep(1.0)
    assert not done.is_set()
    assert run_cli("users", "disable", "t-stream", engine=env.engine).returncode == 0
    assert done.wait(15), "the stream went on after its token was revoked"
    assert "event: end" in lines
