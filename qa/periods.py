"""Calendar periods for QA reports: week, month, quarter, year, or a range of days.

Seed 001 (slides 152-156) asks how often to report: 周/月/季/年 -- a weekly list of all
complaints and the most complained-about staff, a monthly chart of counts, a quarterly
report with praise, criticism and an action plan, a yearly satisfaction analysis. Those
are calendar periods (this month is 1 December to today), not "the last 30 days", so two
reports of the same month always hold the same calls. Weeks are ISO weeks, Monday to
Sunday: the working week of the seeds (002: 每周一早上 the weekly status report).

Days are local days in the configured timezone; ``Period.bounds`` turns them into the UTC
instants the database holds. Everything here is pure: no clock is read, ``today`` is passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

Unit = Literal["week", "month", "quarter", "year"]
UNITS: tuple[Unit, ...] = ("week", "month", "quarter", "year")
UNIT_ZH = {"week": "周", "month": "月", "quarter": "季度", "year": "年"}
# what a picker offers: this or last of each unit
PRESETS = tuple(f"{rel}-{u}" for u in UNITS for rel in ("this", "last"))
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{1,2})")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"\d{4}")
MAX_RANGE_DAYS = 3660  # a range is a report, not a dump: ten years at most


class PeriodError(ValueError):
    """A period that cannot be read; the message says what is accepted."""


@dataclass(frozen=True)
class Period:
    """Local days ``start`` (first day) up to ``end`` (the day after the last); ``unit`` is None for a range."""

    unit: Unit | None
    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def key(self) -> str:
        """The period written so that parse_period reads it back: 2026-W49, 2026-12, 2026-Q4, 2026, a..b."""
        s = self.start
        if self.unit == "week":
            year, week, _ = s.isocalendar()
            return f"{year}-W{week:02d}"
        if self.unit == "month":
            return f"{s.year}-{s.month:02d}"
        if self.unit == "quarter":
            return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
        if self.unit == "year":
            return str(s.year)
        return f"{s.isoformat()}..{self.last_day.isoformat()}"

    @property
    def label_zh(self) -> str:
        """How a Chinese report names it: 2026年第49周, 2026年12月, 2026年第4季度, 2026年."""
        s = self.start
        if self.unit == "week":
            year, week, _ = s.isocalendar()
            return f"{year}年第{week}周"
        if self.unit == "month":
            return f"{s.year}年{s.month}月"
        if self.unit == "quarter":
            return f"{s.year}年第{(s.month - 1) // 3 + 1}季度"
        if self.unit == "year":
            return f"{s.year}年"
        return f"{s.isoformat()} 至 {self.last_day.isoformat()}"

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) as UTC instants: local midnight of the first day to local midnight after the last."""
        return (datetime.combine(self.start, time(), tzinfo=tz).astimezone(UTC),
                datetime.combine(self.end, time(), tzinfo=tz).astimezone(UTC))

    def shift(self, n: int) -> Period:
        """The period n units later (negative: earlier); a range moves by its own length."""
        if self.unit is None:
            length = self.end - self.start
            return Period(None, self.start + n * length, self.end + n * length)
        if self.unit == "week":
            return containing("week", self.start + timedelta(weeks=n))
        months = {"month": 1, "quarter": 3, "year": 12}[self.unit] * n
        index = self.start.year * 12 + self.start.month - 1 + months
        return containing(self.unit, date(index // 12, index % 12 + 1, 1))


def containing(unit: Unit, day: date) -> Period:
    """The calendar week (ISO, Monday first), month, quarter or year that holds ``day``."""
    if unit == "week":
        start = day - timedelta(days=day.weekday())
        return Period("week", start, start + timedelta(days=7))
    if unit == "year":
        return Period("year", date(day.year, 1, 1), date(day.year + 1, 1, 1))
    months = 3 if unit == "quarter" else 1
    first = (day.month - 1) // months * months + 1
    start = date(day.year, first, 1)
    after = first + months
    end = date(day.year + 1, 1, 1) if after > 12 else date(day.year, after, 1)
    return Period(unit, start, end)


def day_range(first: date, last: date) -> Period:
    """Every day from ``first`` to ``last``, both included."""
    if last < first:
        raise PeriodError(f"date range {first}..{last}: the last day is before the first")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise PeriodError(f"date range {first}..{last}: at most {MAX_RANGE_DAYS} days")
    return Period(None, first, last + timedelta(days=1))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def parse_period(text: str, today: date) -> Period:
    """Read a period as a person types it.

    ``week``/``month``/``quarter``/``year`` (the one holding ``today``), ``this-month``,
    ``last-quarter``, ``2026-W49``, ``2026-12``, ``2026-Q4``, ``2026`` or ``2026-11-01..2026-11-15``.
    """
    t = text.strip()
    rel, _, unit = t.partition("-")
    if t in UNITS:
        return containing(t, today)  # type: ignore[arg-type]  # t is one of UNITS
    if rel in ("this", "last") and unit in UNITS:
        p = containing(unit, today)  # type: ignore[arg-type]  # unit is one of UNITS
        return p.shift(-1) if rel == "last" else p
    try:
        if m := _RANGE.fullmatch(t):
            return day_range(_day(m[1]), _day(m[2]))
        if m := _WEEK.fullmatch(t):
            return containing("week", date.fromisocalendar(int(m[1]), int(m[2]), 1))
        if m := _QUARTER.fullmatch(t):
            return containing("quarter", date(int(m[1]), 3 * int(m[2]) - 2, 1))
        if m := _MONTH.fullmatch(t):
            return containing("month", date(int(m[1]), int(m[2]), 1))
        if _YEAR.fullmatch(t):
            return containing("year", date(int(t), 1, 1))
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"period {text!r}: {exc}") from None
    raise PeriodError(f"period {text!r}: one of {', '.join(UNITS)}, this-/last-<unit>, 2026-W49, 2026-12, "
                      "2026-Q4, 2026, or 2026-11-01..2026-11-15")


def today_in(tz: tzinfo, now: datetime | None = None) -> date:
    """The local date in ``tz`` (a report's "this month" is the month where the hotline is)."""
    return (now or datetime.now(UTC)).astimezone(tz).date()
