"""The console's CSV upload: a file of points comes back with owner columns to download; a
file with bad rows shows which rows and why (oracle: tests.helpers.PlanOracle, shapely alone)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy.engine import Engine

from tests.console import console, open_console
from tests.helpers import PlanOracle, ServerProcess


def test_upload_a_csv_and_download_the_owners(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str, tmp_path: Path
) -> None:
    oracle = PlanOracle(demo_ro)
    pts = [(119.01, 25.43), (119.131, 25.406), (118.9365, 25.4279)]
    good = tmp_path / "points.csv"
    good.write_text("name,lon,lat\n" + "".join(f"p{i},{x},{y}\n" for i, (x, y) in enumerate(pts)))
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lon,lat\np0,119.01,25.43\np1,abc,25.4\n")
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base)
        page.locator("[data-testid=upload-box] summary").click()
        page.set_input_files("[data-testid=upload-file]", str(good))
        with page.expect_download() as download:
            page.locator("[data-testid=upload-box] button[type=submit]").click()
            page.locator("[data-testid=upload-result]").wait_for(timeout=20_000)
            page.locator("[data-testid=upload-result]").click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
        assert download.value.suggested_filename == "points.located.csv"
        for row, (x, y) in zip(rows, pts, strict=True):
            assert row["unit_code"] == oracle.answer(x, y)["unit"]["code"]
        page.set_input_files("[data-testid=upload-file]", str(bad))
        page.locator("[data-testid=upload-box] button[type=submit]").click()
        page.wait_for_selector("[data-testid=upload-box][data-status='422']")
        listed = page.locator("[data-upload-errors] li").all_inner_texts()
        assert len(listed) == 1 and "2" in listed[0] and "lon" in listed[0]
        assert "not a number" in listed[0]
    assert [u.split(" ")[0] for u in rec.failed] == ["422"]  # the refusal, nothing else
