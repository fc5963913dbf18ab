"""Calendar periods of the reports (qa/periods.py): ISO weeks, months, quarters, years, ranges, timezones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from qa.periods import PRESETS, Period, PeriodError, containing, day_range, parse_period, today_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def test_iso_week_runs_monday_to_sunday_across_a_year_end() -> None:
    # 2026-12-31 is a Thursday: its ISO week is 2026-W53, running into January 2027
    w = containing("week", date(2026, 12, 31))
    assert (w.start, w.last_day, w.key) == (date(2026, 12, 28), date(2027, 1, 3), "2026-W53")
    assert w.label_zh == "2026年第53周"
    # 2027-01-01 (a Friday) belongs to that same week, not to a week of 2027
    assert containing("week", date(2027, 1, 1)) == w
    assert w.shift(1).key == "2027-W01" and w.shift(1).start == date(2027, 1, 4)
    # 2025-12-29 (Monday) starts 2026-W01: the ISO year is not the calendar year
    assert containing("week", date(2025, 12, 30)).key == "2026-W01"
    assert parse_period("2026-W01", date(2026, 6, 1)).start == date(2025, 12, 29)
    assert containing("week", date(2026, 12, 6)).start == date(2026, 11, 30)  # a Sunday ends its week


def test_months_quarters_and_years_step_over_year_ends() -> None:
    dec = containing("month", date(2026, 12, 2))
    assert (dec.start, dec.end, dec.key, dec.label_zh) == (date(2026, 12, 1), date(2027, 1, 1), "2026-12", "2026年12月")
    assert dec.shift(1).key == "2027-01" and dec.shift(-12).key == "2025-12"
    assert containing("month", date(2028, 2, 10)).last_day == date(2028, 2, 29)  # leap year
    q4 = containing("quarter", date(2026, 11, 15))
    assert (q4.start, q4.end, q4.key, q4.label_zh) == (date(2026, 10, 1), date(2027, 1, 1), "2026-Q4", "2026年第4季度")
    assert q4.shift(1).key == "2027-Q1" and q4.shift(-4).key == "2025-Q4"
    assert containing("quarter", date(2026, 3, 31)).key == "2026-Q1"
    assert containing("quarter", date(2026, 4, 1)).key == "2026-Q2"
    y = containing("year", date(2026, 7, 1))
    assert (y.start, y.end, y.label_zh) == (date(2026, 1, 1), date(2027, 1, 1), "2026年")
    assert y.shift(-1).key == "2025"


def test_parse_reads_presets_keys_and_ranges_and_refuses_the_rest() -> None:
    today = date(2026, 1, 14)  # a Wednesday in January: "last" of each unit lies in 2025
    assert parse_period("month", today).key == "2026-01"
    assert parse_period("this-week", today).key == "2026-W03"
    assert parse_period("last-week", today).key == "2026-W02"
    assert parse_period("last-month", today).key == "2025-12"
    assert parse_period("last-quarter", today).key == "2025-Q4"
    assert parse_period("last-year", today).key == "2025"
    assert len(PRESETS) == 8 and all(parse_period(p, today) for p in PRESETS)
    for key in ("2026-W49", "2026-12", "2026-Q4", "2026", "2026-11-01..2026-11-15"):
        assert parse_period(key, today).key == key  # a period's key reads back as the same period
    r = parse_period("2026-11-01..2026-11-15", today)
    assert r.unit is None and (r.end - r.start).days == 15 and r.shift(-1).key == "2026-10-17..2026-10-31"
    for bad in ("fortnight", "2026-13", "2025-W53", "2026-Q5", "2026-11-15..2026-11-01", "2026-02-30..2026-03-01"):
        with pytest.raises(PeriodError):
            parse_period(bad, today)
    with pytest.raises(PeriodError, match="at most"):
        day_range(date(2000, 1, 1), date(2026, 1, 1))


def test_bounds_are_local_midnights_in_the_configured_timezone() -> None:
    dec = Period("month", date(2026, 12, 1), date(2027, 1, 1))
    start, end = dec.bounds(SHANGHAI)  # UTC+8, no summer time
    assert start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC) and end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    # Berlin switches to summer time on 2026-03-29: March starts at UTC+1 and April at UTC+2
    start, end = containing("month", date(2026, 3, 5)).bounds(BERLIN)
    assert start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC) and end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    # 20:00 UTC on 31 December is already 1 January in Shanghai: "this year" there is 2027
    late = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    assert today_in(SHANGHAI, late) == date(2027, 1, 1) and today_in(UTC, late) == date(2026, 12, 31)
