"""The analyst notebooks run top to bottom against a real server (nbclient, a real kernel)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa
from nbclient import NotebookClient
from sqlalchemy.engine import Engine

from tests.helpers import ServerProcess

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def _text(nb: nbformat.NotebookNode) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", ""))
            out.append(str(o.get("data", {}).get("text/plain", "")))
    return "\n".join(out)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(
    path: Path,
    demo_server: ServerProcess,
    demo_ro: Engine,
    tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONEMAP_URL", demo_server.base)
    monkeypatch.setenv("ONEMAP_TOKEN", tokens["analyst"])
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    text = _text(nb)
    with demo_ro.connect() as conn:
        grids = conn.execute(
            sa.text("SELECT count(*) FROM grids WHERE valid_to IS NULL")
        ).scalar_one()
        dispatched = conn.execute(
            sa.text("SELECT count(*) FROM cases WHERE status = 'dispatched'")
        ).scalar_one()
    assert f"{grids:,} grids in" in text
    assert f"{dispatched:,} dispatched cases" in text
    assert "100-0000" not in text  # no leader's or reporter's phone reached the analyst
    assert os.environ["ONEMAP_URL"] == demo_server.base


def test_there_is_a_notebook() -> None:
    assert NOTEBOOKS
