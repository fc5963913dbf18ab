"""Business hours (``schedules:``): time ranges, weekdays, holidays and overrides as typed in
config.yaml, each error saying what to write. The clock's logic is menus/schedule.py.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, field_validator

from settings.base import Strict

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*[-–—－~～至]\s*(\d{1,2}):(\d{2})")  # 至, ～: as typed on a Chinese keyboard


def time_range(text: object) -> tuple[int, int]:
    """``'09:00-18:00'`` -> minutes after midnight (540, 1080); the ValueError says what to write.
    A range past midnight ends on the next day: ``'22:00-02:00'`` -> (1320, 1560)."""
    m = _RANGE.fullmatch(text.strip()) if isinstance(text, str) else None
    if m is None:
        slip = " (a full-width colon '：': type ':')" if "：" in str(text) else ""
        raise ValueError(f"'{text}' is not a time range{slip}: write 'HH:MM-HH:MM' in quotes, e.g. '09:00-18:00'")
    h1, m1, h2, m2 = map(int, m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60:
        raise ValueError(f"'{text}': times run from 00:00 to 24:00")
    if end == start:
        raise ValueError(f"'{text}': an empty range (it ends when it starts); for a whole day write '00:00-24:00'")
    return start, end if end > start else end + 24 * 60  # the next day's hours belong to this day (holidays)


def weekday_span(key: object) -> list[int]:
    """``'mon-fri'`` -> [0..4], ``'sat'`` -> [5] (datetime.weekday() numbers)."""
    first, _, last = str(key).strip().lower().partition("-")
    if first not in WEEKDAYS or last not in ("", *WEEKDAYS) or WEEKDAYS.index(last or first) < WEEKDAYS.index(first):
        raise ValueError(f"'{key}' is not a weekday: write mon, tue, wed, thu, fri, sat, sun or a span such as mon-fri")
    a = WEEKDAYS.index(first)
    return list(range(a, WEEKDAYS.index(last or first) + 1))


def date_span(key: object) -> tuple[date, date]:
    """``2027-10-01`` (YAML reads it as a date) or ``'2027-10-01..2027-10-07'`` -> (first, last) day."""
    first, sep, last = str(key).strip().partition("..")
    try:
        a = date.fromisoformat(first.strip())
        b = date.fromisoformat(last.strip()) if sep else a
    except ValueError:
        raise ValueError(f"'{key}' is not a date: write YYYY-MM-DD, or a span YYYY-MM-DD..YYYY-MM-DD") from None
    if b < a:
        raise ValueError(f"'{key}': the span ends before it starts")
    return a, b


def _days(value: Any) -> Any:
    """Date keys as text (YAML gives date objects for unquoted ones), each checked."""
    if not isinstance(value, dict):
        return value
    out = {str(k): v for k, v in value.items()}
    for key in out:
        date_span(key)
    return out


def _range_text(value: str) -> str:
    time_range(value)
    return value


TimeRange = Annotated[str, AfterValidator(_range_text)]  # its error names the weekday's line and the range


class ScheduleEntry(Strict):
    open: str  # the menu callers get in opening hours
    closed: str  # nights, days off: the after-hours menu
    holiday: str | None = None  # public holidays (default: the closed menu)


class Schedule(Strict):
    timezone: str = "Asia/Shanghai"  # the hotline's wall clock, whatever the server's is
    hours: dict[str, list[TimeRange]] = {}  # mon-fri: ['08:00-20:00']; a day not named is closed
    workday_hours: list[TimeRange] | None = None  # make-up working days; default: Monday's hours
    holidays: dict[str, str] = {}  # date or span -> name; closed
    workdays: dict[str, str] = {}  # 调休: a weekend date that is a working day -> name
    overrides: dict[str, str | list[str]] = {}  # date -> open | closed | ['09:00-12:00']; beats all else
    entry: ScheduleEntry
    numbers: list[str] = []  # dialled numbers (DIDs) this schedule answers; ivr.schedule answers the rest

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone '{value}' (an IANA name such as Asia/Shanghai)") from None
        return value

    @field_validator("hours", mode="before")
    @classmethod
    def _weekdays(cls, value: Any) -> Any:
        if isinstance(value, dict):
            seen: set[int] = set()
            for key in value:
                days = weekday_span(key)
                if seen & set(days):
                    raise ValueError(f"'{key}': a day named twice (each weekday once)")
                seen |= set(days)
            return {str(k): v if isinstance(v, list) else [v] for k, v in value.items()}
        return value

    _holidays = field_validator("holidays", "workdays", mode="before")(_days)

    @field_validator("overrides", mode="before")
    @classmethod
    def _override(cls, value: Any) -> Any:
        value = _days(value)
        for key, what in (value.items() if isinstance(value, dict) else ()):
            if isinstance(what, list):
                for r in what:
                    time_range(r)
            elif what not in ("open", "closed"):
                raise ValueError(f"{key}: '{what}' is not an override: write open, closed or a list of "
                                 "hours such as ['09:00-12:00']")
        return value

