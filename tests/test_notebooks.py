"""The analyst notebooks run top to bottom against a real server and store (nbclient, a real
kernel), and what they print is checked against direct SQL on the same database or a
computation written here (never the function the notebook calls); notebooks are kept in git
without outputs."""

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
from tests.map_assets import assert_served_by, asset_urls
from tests.notebook_oracles import (
    _number,
    _scalar,
    _table,
    check_coverage,
    check_hotspots,
    check_performance,
    check_quickstart,
)

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
MAPS = {"quickstart.ipynb", "performance.ipynb", "hotspots.ipynb", "coverage.ipynb"}
OPEN = "('reported', 'registered', 'dispatched', 'in_progress', 'responded')"


def _outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Each code cell's printed and displayed text, in order (a stream may arrive in pieces
    that split a line: they are joined as they came)."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                text.append(o.get("text", ""))
            else:
                text.append("\n" + str(o.get("data", {}).get("text/plain", "")) + "\n")
        out.append("".join(text))
    return out


def check_layers(cells: list[str], engine: Engine, out: Path) -> None:
    """layers.ipynb: grids per village and area, open cases, dispatched cases by category."""
    with engine.connect() as conn:
        _check_layers(cells, conn)


def _check_layers(cells: list[str], conn: Connection) -> None:
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


ORACLES: dict[str, Callable[[list[str], Engine, Path], None]] = {
    "coverage.ipynb": check_coverage,
    "hotspots.ipynb": check_hotspots,
    "layers.ipynb": check_layers,
    "performance.ipynb": check_performance,
    "quickstart.ipynb": check_quickstart,
}


def test_every_notebook_has_an_oracle() -> None:
    assert [p.name for p in NOTEBOOKS] == sorted(ORACLES)
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_outputs_are_stripped(path: Path) -> None:
    """Notebooks are kept without outputs: no results, figures or data of a city in git."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    kept = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not kept, (
        f"{path.name} keeps the outputs of cells {kept}: strip them with "
        f"`jupyter nbconvert --clear-output --inplace notebooks/{path.name}`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_tells_the_truth(
    path: Path,
    demo_server: ServerProcess,
    demo_ro: Engine,
    tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ONEMAP_URL", demo_server.base)
    monkeypatch.setenv("ONEMAP_TOKEN", tokens["analyst"])
    monkeypatch.setenv("ONEMAP_DATABASE_URL", demo_ro.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ONEMAP_OUT", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()  # a cell that raises fails the test
    cells = _outputs(nb)
    ORACLES[path.name](cells, demo_ro, tmp_path)
    with demo_ro.connect() as conn:
        phones = conn.execute(
            sa.text(
                "SELECT reporter_phone FROM cases WHERE reporter_phone IS NOT NULL "
                "UNION SELECT leader_phone FROM grids WHERE leader_phone IS NOT NULL "
                "UNION SELECT contact_phone FROM stations WHERE contact_phone IS NOT NULL"
            )
        ).scalars()
        text = "\n".join(cells)
        assert not [p for p in phones if p in text]  # no reporter's, leader's or contact's phone
    # Maps load every script and style from the server (offline intranets), and each answers.
    html = [
        str(o["data"]["text/html"])
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if "text/html" in o.get("data", {})
    ]
    urls, maps = asset_urls("\n".join(html))
    if path.name in MAPS:
        assert maps >= 1 and any(u.endswith("/leaflet.js") for u in urls), (maps, urls)
    assert_served_by(urls, demo_server.base)
