"""Business hours: which menu a call gets at a given moment, and why.

A schedule (config.yaml ``schedules:``, checked by settings.Schedule) is read in this order,
the first rule that names the day wins:

1. ``overrides``: one date, ``open`` (all day), ``closed`` or its own hours;
2. ``holidays``: closed, the holiday menu (public holidays, set by the admin each year);
3. ``workdays``: 调休, a weekend date that is a working day: ``workday_hours``
   (default: Monday's), so Saturday callers hear the daytime menu;
4. ``hours``: the weekday's opening hours; a day with none is closed.

Times are the schedule's own wall clock (``timezone``): a server on UTC answers a
Shanghai hotline by Shanghai's hours. A range may run past midnight (``'22:00-02:00'``):
its hours after midnight belong to the day it started on, so that day's rule (a holiday,
an override) decides them, not the next day's. Everything here is pure: the clock is an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from settings import WEEKDAYS, Config, Schedule, date_span, time_range, weekday_span

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Choice(NamedTuple):
    menu: str
    reason: str  # "" when no schedule decides (ivr.entry_menu at all hours)


@dataclass(frozen=True)
class Day:
    """One calendar day of a schedule: its opening ranges and what made them so."""

    day: date
    kind: str  # override | holiday | workday | weekday | weekend
    label: str  # the holiday's or make-up day's name, or the override's date
    ranges: tuple[tuple[int, int], ...]  # minutes after midnight (past 24:00: the next day); () = closed all day

    @property
    def hours(self) -> str:
        return ", ".join(_span(a, b) for a, b in self.ranges) or "closed"


DAY_MINUTES = 24 * 60


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _span(start: int, end: int) -> str:
    if end > DAY_MINUTES:
        return f"{_hhmm(start)}-{_hhmm(end - DAY_MINUTES)} next day"
    return f"{_hhmm(start)}-{_hhmm(end)}"


def midnight_note(days: list[Day]) -> str | None:
    """What `schedule show` says under a week in which a range runs into the next day."""
    if any(b > DAY_MINUTES for d in days for _a, b in d.ranges):
        return "hours past midnight belong to the day they start on: that day's holiday or override decides them"
    return None


def _ranges(texts: list[str] | None) -> tuple[tuple[int, int], ...]:
    return tuple(sorted(time_range(t) for t in texts or []))


def _named(dates: dict[str, str], day: date) -> str | None:
    """The name of the entry (a date or a span) that covers ``day``."""
    for key, name in dates.items():
        first, last = date_span(key)
        if first <= day <= last:
            return name
    return None


def week_hours(schedule: Schedule) -> list[tuple[tuple[int, int], ...]]:
    """Opening ranges per weekday, Monday first."""
    out: list[tuple[tuple[int, int], ...]] = [()] * 7
    for key, texts in schedule.hours.items():
        for wd in weekday_span(key):
            out[wd] = _ranges(texts)
    return out


def day_plan(schedule: Schedule, day: date) -> Day:
    """What ``day`` is in ``schedule``: the first of override, holiday, make-up day, weekday that names it."""
    for key, what in schedule.overrides.items():
        first, last = date_span(key)
        if first <= day <= last:
            ranges = ((0, 24 * 60),) if what == "open" else () if what == "closed" else _ranges(list(what))
            return Day(day, "override", key, ranges)
    holiday = _named(schedule.holidays, day)
    if holiday is not None:
        return Day(day, "holiday", holiday, ())
    workday = _named(schedule.workdays, day)
    weekly = week_hours(schedule)
    if workday is not None:
        hours = schedule.workday_hours
        return Day(day, "workday", workday, _ranges(hours) if hours is not None else weekly[0])
    wd = day.weekday()
    return Day(day, "weekday" if wd < 5 else "weekend", WEEKDAYS[wd], weekly[wd])


def local_time(schedule: Schedule, at: datetime) -> datetime:
    """``at`` on the schedule's wall clock; a naive ``at`` is taken as already on it."""
    zone = ZoneInfo(schedule.timezone)
    return at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone)


def menu_for(schedule: Schedule, at: datetime) -> Choice:
    """The menu a call starting at ``at`` gets, and why (the reason goes on the call's timeline)."""
    local = local_time(schedule, at)
    plan = day_plan(schedule, local.date())
    minute = local.hour * 60 + local.minute
    entry = schedule.entry
    # After midnight, a range that began the day before is still open, whatever today is.
    before = day_plan(schedule, local.date() - timedelta(days=1))
    carried = next(((a, b) for a, b in before.ranges if a <= minute + DAY_MINUTES < b), None)
    if carried is not None:
        return Choice(entry.open, f"{_open_reason(before, carried)}, from {DAY_NAMES[before.day.weekday()]}")
    inside = next(((a, b) for a, b in plan.ranges if a <= minute < b), None)
    if plan.kind == "holiday":
        return Choice(entry.holiday or entry.closed, f"holiday {plan.label}")
    if inside is not None:
        return Choice(entry.open, _open_reason(plan, inside))
    if plan.kind == "override":
        return Choice(entry.closed, f"override {plan.label}: " + ("closed" if not plan.ranges else
                                                                  f"outside {plan.hours}"))  # fmt: skip
    if not plan.ranges:
        return Choice(entry.closed, f"closed on {DAY_NAMES[local.weekday()]}s")
    if plan.ranges[0][0] <= minute < plan.ranges[-1][1]:
        return Choice(entry.closed, f"break (hours {plan.hours})")
    what = f"make-up working day {plan.label}, " if plan.kind == "workday" else ""
    return Choice(entry.closed, f"{what}night (hours {plan.hours})")


def _open_reason(plan: Day, inside: tuple[int, int]) -> str:
    span = _span(*inside)
    return {"override": f"override {plan.label}: hours {span}", "workday": f"make-up working day {plan.label}, "
            f"hours {span}", "weekday": f"weekday hours {span}", "weekend": f"weekend hours {span}"}[plan.kind]


def entry_choice(config: Config, at: datetime, number: str | None = None) -> Choice:
    """The entry menu of a call to ``number`` (its DID) starting at ``at``: by the schedule listing
    that number, else by ``ivr.schedule`` if one is set, else ``ivr.entry_menu``.

    A schedule naming a menu that is gone (lint warns, the edit guard refuses it without
    --force) gives the plain entry menu: callers still get an answer."""
    name = schedule_for(config, number)
    if name is None:
        return Choice(config.ivr.entry_menu, "")
    menu, reason = menu_for(config.schedules[name], at)
    if menu not in config.menus:
        return Choice(config.ivr.entry_menu, f"{reason}; menu '{menu}' is missing, entry menu instead")
    return Choice(menu, reason)


def schedule_for(config: Config, number: str | None) -> str | None:
    """The name of the schedule a call to ``number`` goes by, or None."""
    by_number = next((n for n, s in config.schedules.items() if number is not None and number in s.numbers), None)
    name = by_number or config.ivr.schedule
    return name if name in config.schedules else None


def week(schedule: Schedule, start: date, days: int = 7) -> list[tuple[Day, str]]:
    """``days`` days from ``start``, each with the menu its closed hours get (for the table)."""
    out = []
    for n in range(days):
        plan = day_plan(schedule, start + timedelta(days=n))
        closed = (schedule.entry.holiday or schedule.entry.closed) if plan.kind == "holiday" else schedule.entry.closed
        out.append((plan, closed))
    return out


def schedule_menus(schedule: Schedule) -> list[str]:
    """The menus a schedule sends callers to, open first."""
    e = schedule.entry
    return list(dict.fromkeys(m for m in (e.open, e.closed, e.holiday) if m))


def moments(schedule: Schedule, start: datetime, days: int = 366,
            steady_h: int = 3) -> dict[str, tuple[datetime, str]]:  # fmt: skip
    """menu -> (the first hour from ``start`` at which the schedule chooses it, why). ``steady_h``: the
    choice holds that long after it, so calls placed over a few minutes from then all get it (`menu walk`)."""
    local = local_time(schedule, start).replace(minute=0, second=0, microsecond=0)
    out: dict[str, tuple[datetime, str]] = {}
    wanted = set(schedule_menus(schedule))
    for h in range(days * 24):
        at = local + timedelta(hours=h)
        menu, reason = menu_for(schedule, at)
        if menu not in out and menu_for(schedule, at + timedelta(hours=steady_h)).menu == menu:
            out[menu] = (at, reason)
            if set(out) == wanted:
                break
    return out
