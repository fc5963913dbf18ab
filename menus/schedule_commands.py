"""`hotline menu schedule show`: which menu a call would start in at a given moment, and the week around it.

Read-only; the logic is menus/schedule.py. ``--at`` without a UTC offset is read on each
schedule's own clock (``--at '2027-10-01 10:00'`` is 10:00 in Shanghai for a Shanghai
schedule); with an offset (``...T02:00Z``) it is converted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cliutil import ConfigOpt, JsonOpt, command_group, console, fail, load, print_json
from menus.schedule import DAY_NAMES, Day, entry_choice, local_time, menu_for, midnight_note, schedule_for, week
from settings import Config

schedule_app = command_group("Business hours: which menu calls start in, by the clock (config.yaml schedules).")

AtOpt = Annotated[
    str | None,
    typer.Option("--at", help="The moment to ask about, e.g. '2027-10-01 10:00' (the schedule's time) or "
                 "2027-10-01T02:00Z [default: now]."),
]  # fmt: skip
NumberOpt = Annotated[str | None, typer.Option("--number", help="The dialled number (DID) the call is to.")]


def parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"--at {text}: not a date and time; write YYYY-MM-DD HH:MM, e.g. '2027-10-01 10:00'")


_KIND = {"override": "override", "holiday": "holiday", "workday": "make-up day",
         "weekday": "weekday", "weekend": "weekend"}  # fmt: skip


def _day_dict(day: Day, closed_menu: str, open_menu: str) -> dict[str, Any]:
    return {"date": day.day.isoformat(), "weekday": DAY_NAMES[day.day.weekday()], "kind": day.kind,
            "label": day.label if day.kind in ("holiday", "workday") else None, "hours": day.hours,
            "open_menu": open_menu if day.ranges else None, "closed_menu": closed_menu}  # fmt: skip


def schedule_data(cfg: Config, at: datetime, number: str | None = None) -> dict[str, Any]:
    """What `schedule show --json` prints: the call's choice, then each schedule with its week."""
    choice = entry_choice(cfg, at, number)
    out: dict[str, Any] = {"menu": choice.menu, "reason": choice.reason or "no schedule: ivr.entry_menu at all hours",
                           "in_use": schedule_for(cfg, number), "schedules": []}  # fmt: skip
    for name, sched in cfg.schedules.items():
        local = local_time(sched, at)
        menu, reason = menu_for(sched, at)
        days = week(sched, local.date())
        out["schedules"].append({
            "name": name, "numbers": sched.numbers, "timezone": sched.timezone,
            "at": local.isoformat(timespec="minutes"),
            "menu": menu, "reason": reason,
            "week": [_day_dict(d, closed, sched.entry.open) for d, closed in days],
            "note": midnight_note([d for d, _ in days]),
        })  # fmt: skip
    return out


def show(at: AtOpt = None, number: NumberOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Which menu a call starting at --at would get and why, and each schedule's next seven days."""
    cfg = load(config)
    data = schedule_data(cfg, parse_at(at), number)
    if as_json:
        print_json(data)
        return
    when = ("now" if at is None else f"at {at}") + (f" to {number}" if number else "")
    console.print(Text.assemble(f"a call {when} starts in menu ", (data["menu"], "bold"), f": {data['reason']}"),
                  soft_wrap=True)
    for s in data["schedules"]:
        use = " (in use: ivr.schedule)" if s["name"] == cfg.ivr.schedule else (
            f" (numbers {', '.join(s['numbers'])})" if s["numbers"] else " (not in use: set ivr.schedule)")
        console.print(Text.assemble("\nschedule ", (s["name"], "bold"), use, f", {s['timezone']}, at {s['at']}: "
                                    f"menu {s['menu']} ({s['reason']})"), soft_wrap=True)  # fmt: skip
        table = Table("date", "day", "kind", "hours", "in hours", "outside")
        for d in s["week"]:
            kind = _KIND[d["kind"]] + (f" {d['label']}" if d["label"] else "")
            table.add_row(d["date"], d["weekday"][:3], kind, d["hours"], d["open_menu"] or "-", d["closed_menu"])
        console.print(table)
        if s["note"]:
            console.print(Text(s["note"]), soft_wrap=True)
    if not data["schedules"]:
        console.print(Text("no schedules in config.yaml: add a `schedules:` section to answer by the clock"))


schedule_app.command("show")(show)
