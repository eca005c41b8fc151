"""The analyst notebooks run top to bottom against a real server (nbclient, a real kernel),
and what they print is checked against direct SQL on the same database."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa
from nbclient import NotebookClient
from sqlalchemy.engine import Connection, Engine

from tests.helpers import ServerProcess

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
OPEN = "('reported', 'registered', 'dispatched', 'in_progress', 'responded')"


def _outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Each code cell's printed and displayed text, in order."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = []
        for o in cell.get("outputs", []):
            text.append(o.get("text", ""))
            text.append(str(o.get("data", {}).get("text/plain", "")))
        out.append("\n".join(text))
    return out


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _table(text: str, row: str) -> dict[str, list[str]]:
    """The rows of a printed DataFrame whose index matches `row`: index -> cells."""
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and re.fullmatch(row, parts[0]):
            found[parts[0]] = parts[1:]
    return found


def _scalar(conn: Connection, sql: str) -> float:
    return float(conn.execute(sa.text(sql)).scalar_one())


def check_layers(cells: list[str], conn: Connection) -> None:
    """layers.ipynb: grids per village and area, open cases, dispatched cases by category."""
    text = "\n".join(cells)
    m = re.search(r"([\d,]+) grids in ([\d,]+) villages; ([\d,.]+) km² in all", text)
    assert m, text[:2000]
    current = "FROM grids WHERE valid_to IS NULL"
    assert _number(m[1]) == _scalar(conn, f"SELECT count(*) {current}")  # noqa: S608
    assert _number(m[2]) == _scalar(conn, f"SELECT count(DISTINCT village_code) {current}")  # noqa: S608
    km2 = _scalar(conn, f"SELECT sum(ST_Area(geom::geography)) / 1e6 {current}")  # noqa: S608
    assert abs(_number(m[3]) - km2) <= 0.005 * km2  # UTM in the notebook, the ellipsoid here

    per_village = dict(
        conn.execute(
            sa.text(f"SELECT village_code, count(*) {current} GROUP BY village_code")  # noqa: S608
        ).all()
    )
    shown = _table(cells[1], r"\d{12}")
    assert len(shown) == 10
    assert {code: int(cells[0]) for code, cells in shown.items()} == {
        code: per_village[code] for code in shown
    }
    assert max(int(c[0]) for c in shown.values()) == max(per_village.values())

    cases = "FROM cases c JOIN grids g ON g.id = c.grid_id WHERE g.valid_to IS NULL"
    m = re.search(r"([\d,]+) open cases of ([\d,]+)", text)
    assert m, text[:2000]
    assert _number(m[1]) == _scalar(conn, f"SELECT count(*) {cases} AND c.status IN {OPEN}")  # noqa: S608
    assert _number(m[2]) == _scalar(conn, f"SELECT count(*) {cases}")  # noqa: S608
    per_grid = {
        code: (int(n_open), int(total))
        for code, n_open, total in conn.execute(
            sa.text(
                f"SELECT g.code, count(*) FILTER (WHERE c.status IN {OPEN}), count(*) "  # noqa: S608
                f"{cases} GROUP BY g.code"
            )
        )
    }
    busiest = _table(cells[2], r"\d{15}")  # name, open, total, open per km²
    assert len(busiest) == 10
    assert {k: (int(float(v[1])), int(float(v[2]))) for k, v in busiest.items()} == {
        k: per_grid[k] for k in busiest
    }
    assert max(int(float(v[1])) for v in busiest.values()) == max(o for o, _ in per_grid.values())

    by_category = dict(
        conn.execute(
            sa.text(
                "SELECT category, count(*) FROM cases WHERE status = 'dispatched' GROUP BY category"
            )
        ).all()
    )
    m = re.search(r"([\d,]+) dispatched cases", text)
    assert m and _number(m[1]) == sum(by_category.values()) > 0
    shown = _table(cells[3], r"[a-z_]+")
    assert {k: int(v[0]) for k, v in shown.items() if k in by_category} == by_category
    phones = conn.execute(
        sa.text(
            "SELECT reporter_phone FROM cases WHERE reporter_phone IS NOT NULL "
            "UNION SELECT leader_phone FROM grids WHERE leader_phone IS NOT NULL"
        )
    ).scalars()
    assert not [p for p in phones if p in text]  # no reporter's or leader's phone shown


ORACLES: dict[str, Callable[[list[str], Connection], None]] = {"layers.ipynb": check_layers}


def test_every_notebook_has_an_oracle() -> None:
    assert [p.name for p in NOTEBOOKS] == sorted(ORACLES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_tells_the_truth(
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
    ).execute()  # a cell that raises fails the test
    with demo_ro.connect() as conn:
        ORACLES[path.name](_outputs(nb), conn)
