"""The reports page in Debian's Chromium (issue 14: "open the reports for this month and export CSV"),
with tests/test_web_browser.py's served app, browser and sign-in."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from test_web_browser import CHROMIUM, Served, browser, served, shot, sign_in  # noqa: F401  (fixtures used by name)

import db
from qa.report import report_for, resolve_period

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (dev.sh)")


def test_a_lead_opens_this_months_report_and_exports_csv(browser: object, served: Served,  # noqa: F811
                                                         tmp_path: Path) -> None:
    with db.transaction(served.cfg.database_url) as s:
        month = report_for(s, served.cfg, resolve_period(served.cfg, "this-month"))
    page = sign_in(browser, served, "lead-zhao")
    page.click("header.top a[href='/reports']")  # type: ignore[attr-defined]
    page.wait_for_url(served.base + "/reports")  # type: ignore[attr-defined]
    assert page.input_value("#period-select") == "this-month"  # type: ignore[attr-defined]
    assert page.get_attribute("#period-label", "data-period") == month["period"]  # type: ignore[attr-defined]
    for figure in ("calls", "confirmed", "dismissed", "unreviewed"):
        assert page.inner_text(f"[data-figure={figure}]") == str(month[figure])  # type: ignore[attr-defined]
    # every chart arrived as an image the browser could decode
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    widths = page.eval_on_selector_all("img.chart", "imgs => imgs.map(i => i.naturalWidth)")  # type: ignore
    assert len(widths) == 5 and all(w > 0 for w in widths)
    shot(page, "20-reports-this-month")
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.click("#export-csv")  # type: ignore[attr-defined]
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"qa-report-{month['period']}.csv"
    data = saved.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[2][:6] == ["total", "all", "全部", str(month["confirmed"]), str(month["dismissed"]),
                           str(month["unreviewed"])]
    assert "13812345678" not in data.decode("utf-8-sig")  # the seeded caller's number
    # the picker: last month
    page.select_option("#period-select", "last-month")  # type: ignore[attr-defined]
    page.click("#period-apply")  # type: ignore[attr-defined]
    page.wait_for_url("**/reports?period=last-month")  # type: ignore[attr-defined]
    last = resolve_period(served.cfg, "last-month")
    assert page.get_attribute("#period-label", "data-period") == last.key  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]
