"""Reports pages of the review app: period figures, rule health, charts and CSV export (issue 14).

The figures are computed in qa (qa/report.py, qa/health.py, qa/periods.py) so the page, its CSV
and `hotline qa report` show the same numbers; this module reads the request and renders. Every
route needs the SEE_REPORTS permission (leads, admins): a reviewer gets 403. Nothing here names
a caller: the figures are per agent, rule, route and category.

A period is ``?period=`` (this-month, last-quarter, 2026-W49, 2026-12, 2026-Q4, 2026,
2026-11-01..2026-11-15) or ``?start=&end=`` (two days, both included), in qa.web.timezone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

import db
from accounts.roles import SEE_REPORTS
from accounts.tables import Account
from qa.periods import Period, PeriodError, day_range, parse_period, today_in
from qa.report import csv_bytes, data_stamp, report_for
from qa.report_charts import CHARTS, chart_png
from web.auth import require
from web.i18n import N_
from web.templating import render

router = APIRouter()
Lead = Annotated[Account, Depends(require(SEE_REPORTS))]
DEFAULT = "this-month"  # slide 154's monthly report: what a lead opens most
# the picker's choices, in the order a lead looks for them
PRESET_NAMES = {"this-week": N_("This week"), "last-week": N_("Last week"), "this-month": N_("This month"),
                "last-month": N_("Last month"), "this-quarter": N_("This quarter"),
                "last-quarter": N_("Last quarter"), "this-year": N_("This year"), "last-year": N_("Last year")}


def _period(request: Request, period: str | None, start: str | None, end: str | None) -> Period:
    """The period the query names, or 400 with what is accepted."""
    try:
        if start or end:
            if not (start and end):
                raise PeriodError("a date range needs both its first and its last day")
            return day_range(_day(start), _day(end))
        return parse_period(period or DEFAULT, today_in(request.app.state.tz))
    except PeriodError as exc:
        raise HTTPException(400, {"message": N_("Unknown period."), "detail": str(exc)}) from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class _Kept:
    """Reports and charts already made, by period and data stamp (qa.report.data_stamp).

    One page view asks for the figures six times (the page, then its five charts), and a year of
    flags takes a while to count; while nothing changed in the database, the same answer is served
    again. A few periods are kept, the oldest dropped first. Charts are drawn one at a time:
    matplotlib's settings are process-wide."""

    SIZE = 24  # a period's report and five charts: the last four periods looked at

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.draw = threading.Lock()
        self.items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.SIZE:
                self.items.popitem(last=False)
        return value


_kept = _Kept()


def _report(request: Request, span: Period) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """The period's report and the data stamp it was made at."""
    cfg = request.app.state.cfg
    with db.transaction(cfg.database_url) as s:
        key = (cfg.database_url, span.key, *data_stamp(s))
        return _kept.get(("report", *key), lambda: report_for(s, cfg, span)), key


def _chart(request: Request, span: Period, name: str) -> bytes:
    rep, key = _report(request, span)

    def draw() -> bytes:
        with _kept.draw:
            return chart_png(rep, name)

    png: bytes = _kept.get(("chart", name, *key), draw)
    return png


@router.get("/report")
def old_address(request: Request) -> Response:
    """The address the old page used (issue 14: it gave 404)."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/reports{query}", status_code=303)


@router.get("/reports")
def reports_page(request: Request, lead: Lead, period: str | None = None, start: str | None = None,
                 end: str | None = None) -> Response:
    span = _period(request, period, start, end)
    rep, _ = _report(request, span)
    chosen = period if period in PRESET_NAMES and not (start or end) else ""
    return render(request, "reports.html", {
        "rep": rep, "span": span, "key": span.key, "prev_key": span.shift(-1).key, "next_key": span.shift(1).key,
        "presets": PRESET_NAMES, "chosen": chosen or ("" if (start or end or period) else DEFAULT),
        "charts": list(CHARTS),
    })


@router.get("/reports/chart/{name}.png")
def chart(request: Request, lead: Lead, name: str, period: str | None = None, start: str | None = None,
          end: str | None = None) -> Response:
    if name not in CHARTS:
        raise HTTPException(404)
    span = _period(request, period, start, end)
    return Response(_chart(request, span, name), media_type="image/png")


@router.get("/reports.csv")
def export_csv(request: Request, lead: Lead, period: str | None = None, start: str | None = None,
               end: str | None = None) -> Response:
    span = _period(request, period, start, end)
    data = csv_bytes(_report(request, span)[0])
    name = f"qa-report-{span.key.replace('..', '_')}.csv"
    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
