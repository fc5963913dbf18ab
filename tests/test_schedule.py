"""Business hours (issue 16): the entry menu by the clock, from config.yaml `schedules:`.

The pure rule (menus/schedule.menu_for) on a weekday in hours, a night, a weekend, a public
holiday and a make-up working day (调休); the same five moments through the real service
and the Asterisk simulator with the service's clock set to them (the caller hears the
after-hours menu at night and the main menu in hours); `hotline menu schedule show --at`;
a typo in `schedules:` as one line naming the field; lint and the edit guard.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from ivr_env import call_row, prompts_heard, rendered_sounds, run_env
from menu_cli import run

from app.demo import DemoEnv, prompt_seconds
from app.walk import ClockAt, moments_text, plan
from menus.lint import lint_file
from menus.schedule import entry_choice, menu_for
from pbx.simulator import CallScript, Press
from settings import ConfigError, Schedule, load_config

SHANGHAI = "Asia/Shanghai"
SHANGHAI_TZ = ZoneInfo(SHANGHAI)

# One schedule for the rule's tests: weekdays 09:00-12:00 and 13:00-18:00, Saturdays 10:00-14:00,
# 国庆节 2027-10-01..07 with its make-up Saturday 2027-10-09 (dates of this test, not an official calendar).
SCHEDULE = Schedule.model_validate({
    "hours": {"mon-fri": ["09:00-12:00", "13:00-18:00"], "sat": ["10:00-14:00"]},
    "holidays": {"2027-01-01": "元旦", "2027-10-01..2027-10-07": "国庆节"},
    "workdays": {"2027-10-09": "国庆节调休", "2027-10-10": "国庆节调休"},
    "overrides": {"2027-12-31": ["09:00-11:00"], "2027-11-11": "closed"},
    "entry": {"open": "main", "closed": "after_hours", "holiday": "holiday"},
})  # fmt: skip


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI_TZ)

CASES = [
    # (Shanghai time, menu, reason): 2027-01-04 is a Monday, 2027-10-10 a Sunday
    ("2027-01-04 10:30", "main", "weekday hours 09:00-12:00"),
    ("2027-01-04 16:00", "main", "weekday hours 13:00-18:00"),
    ("2027-01-04 12:30", "after_hours", "break (hours 09:00-12:00, 13:00-18:00)"),
    ("2027-01-04 21:00", "after_hours", "night (hours 09:00-12:00, 13:00-18:00)"),
    ("2027-01-04 08:59", "after_hours", "night (hours 09:00-12:00, 13:00-18:00)"),
    ("2027-01-09 11:00", "main", "weekend hours 10:00-14:00"),  # a Saturday with hours
    ("2027-01-10 11:00", "after_hours", "closed on Sundays"),
    ("2027-01-01 10:30", "holiday", "holiday 元旦"),  # a Friday
    ("2027-10-04 10:30", "holiday", "holiday 国庆节"),  # inside the span, a Monday
    ("2027-10-10 10:30", "main", "make-up working day 国庆节调休, hours 09:00-12:00"),  # a Sunday that is worked
    ("2027-10-10 19:00", "after_hours", "make-up working day 国庆节调休, night (hours 09:00-12:00, 13:00-18:00)"),
    ("2027-12-31 10:00", "main", "override 2027-12-31: hours 09:00-11:00"),  # a Friday, short day
    ("2027-12-31 14:00", "after_hours", "override 2027-12-31: outside 09:00-11:00"),
    ("2027-11-11 10:00", "after_hours", "override 2027-11-11: closed"),  # a Thursday
]


@pytest.mark.parametrize(("when", "menu", "reason"), CASES, ids=[c[0] for c in CASES])
def test_menu_for(when: str, menu: str, reason: str) -> None:
    assert menu_for(SCHEDULE, local(when)) == (menu, reason)


def test_a_moment_in_utc_is_read_on_the_schedules_clock() -> None:
    # Monday 23:30 UTC is Tuesday 07:30 in Shanghai: before opening, not Monday night in London
    assert menu_for(SCHEDULE, datetime(2027, 1, 4, 23, 30, tzinfo=UTC)) == (
        "after_hours", "night (hours 09:00-12:00, 13:00-18:00)")
    assert menu_for(SCHEDULE, datetime(2027, 1, 5, 1, 30, tzinfo=UTC)).menu == "main"  # 09:30 Tuesday
    # Friday 2027-10-08 17:00 UTC is Saturday 01:00: the make-up Saturday 10-09, still night
    assert menu_for(SCHEDULE, datetime(2027, 10, 8, 17, 0, tzinfo=UTC)).reason.startswith("make-up working day")
    # the closed menu stands in for a missing holiday menu
    plain = SCHEDULE.model_copy(update={"entry": SCHEDULE.entry.model_copy(update={"holiday": None})})
    assert menu_for(plain, local("2027-10-04 10:30")) == ("after_hours", "holiday 国庆节")


def test_ranges_as_typed_on_a_chinese_keyboard() -> None:
    typed = Schedule.model_validate({"hours": {"mon-fri": ["08:30～12:00", "13:00至17:30"], "sat": "09:00－12:00"},
                                     "entry": {"open": "main", "closed": "after_hours"}})  # fmt: skip
    assert menu_for(typed, local("2027-01-04 17:00")) == ("main", "weekday hours 13:00-17:30")
    assert menu_for(typed, local("2027-01-09 11:59")) == ("main", "weekend hours 09:00-12:00")


# Nights past midnight: weekdays 08:00-12:00 and 22:00-02:00; 2027-01-01 (a Friday) a holiday,
# 2027-12-31 (a Friday) closed by an override.
NIGHTS = Schedule.model_validate({
    "hours": {"mon-fri": ["22:00-02:00", "08:00-12:00"]},
    "holidays": {"2027-01-01": "元旦"},
    "overrides": {"2027-12-31": "closed", "2027-01-11": ["23:00-01:30"]},
    "entry": {"open": "main", "closed": "after_hours", "holiday": "holiday"},
})  # fmt: skip
NIGHT_CASES = [
    ("2027-01-04 23:00", "main", "weekday hours 22:00-02:00 next day"),  # Monday night
    ("2027-01-05 01:59", "main", "weekday hours 22:00-02:00 next day, from Monday"),  # still Monday's range
    ("2027-01-05 02:00", "after_hours", "night (hours 08:00-12:00, 22:00-02:00 next day)"),
    ("2027-01-04 01:00", "after_hours", "night (hours 08:00-12:00, 22:00-02:00 next day)"),  # Sunday had no night
    ("2027-01-09 01:00", "main", "weekday hours 22:00-02:00 next day, from Friday"),  # Saturday morning: Friday's
    ("2027-01-10 01:00", "after_hours", "closed on Sundays"),  # Saturday started no range
    # the part after midnight goes by the day it started on: open on the holiday's first hours ...
    ("2027-01-01 01:00", "main", "weekday hours 22:00-02:00 next day, from Thursday"),
    ("2027-01-01 23:00", "holiday", "holiday 元旦"),
    # ... closed after the holiday's night, and after a day an override closed
    ("2027-01-02 01:00", "after_hours", "closed on Saturdays"),
    ("2028-01-01 01:00", "after_hours", "closed on Saturdays"),
    # an override's own night range runs past midnight too, and replaces the weekday's
    ("2027-01-12 01:00", "main", "override 2027-01-11: hours 23:00-01:30 next day, from Monday"),
    ("2027-01-11 22:30", "after_hours", "override 2027-01-11: outside 23:00-01:30 next day"),
]


@pytest.mark.parametrize(("when", "menu", "reason"), NIGHT_CASES, ids=[c[0] for c in NIGHT_CASES])
def test_a_range_past_midnight_belongs_to_the_day_it_starts_on(when: str, menu: str, reason: str) -> None:
    assert menu_for(NIGHTS, local(when)) == (menu, reason)


# ---------------------------------------------------------------- the shipped config


def test_shipped_config_by_the_clock() -> None:
    cfg = load_config(Path(__file__).resolve().parent.parent / "config.yaml")
    assert cfg.ivr.schedule == "office" and cfg.schedules["office"].timezone == SHANGHAI
    assert entry_choice(cfg, local("2027-01-04 10:00")) == ("main", "weekday hours 08:00-20:00")
    assert entry_choice(cfg, local("2027-01-04 20:00")) == ("after_hours", "night (hours 08:00-20:00)")
    assert entry_choice(cfg, local("2027-01-09 10:00")).menu == "after_hours"  # Saturday
    # without a schedule: the entry menu at every hour, and no reason to record
    plain = cfg.model_copy(update={"ivr": cfg.ivr.model_copy(update={"schedule": None})})
    assert entry_choice(plain, local("2027-01-04 23:00")) == ("main", "")
    # a schedule naming a menu that is gone: callers still get an answer, the entry menu
    gone = cfg.model_copy(update={"menus": {k: v for k, v in cfg.menus.items() if k != "after_hours"}})
    assert entry_choice(gone, local("2027-01-04 23:00")) == (
        "main", "night (hours 08:00-20:00); menu 'after_hours' is missing, entry menu instead")


SALES = "  sales:\n    hours: {mon-sun: ['00:00-24:00']}\n    entry: {open: orders, closed: after_hours}\n" \
        "    numbers: ['401']\n"  # a second hotline number, answered day and night by the orders menu


def with_sales_line(cfg: Path) -> None:
    text = cfg.read_text(encoding="utf-8")
    anchor = "    entry: {open: main, closed: after_hours}\n"
    cfg.write_text(text.replace(anchor, anchor + SALES, 1), encoding="utf-8")


def test_each_dialled_number_goes_by_its_own_schedule(cfg: Path) -> None:
    with_sales_line(cfg)
    config = load_config(cfg)
    night = local("2027-01-04 23:00")
    assert entry_choice(config, night, "401") == ("orders", "weekday hours 00:00-24:00")
    assert entry_choice(config, night, "400") == ("after_hours", "night (hours 08:00-20:00)")  # ivr.schedule
    assert entry_choice(config, night) == ("after_hours", "night (hours 08:00-20:00)")
    code, out, err = run(cfg, "menu", "schedule", "show", "--at", "2027-01-04 23:00", "--number", "401")
    assert code == 0, err
    assert out.splitlines()[0] == "a call at 2027-01-04 23:00 to 401 starts in menu orders: weekday hours 00:00-24:00"
    assert "schedule sales (numbers 401)" in out


# ---------------------------------------------------------------- hand edits: one line naming the field

TYPOS = [
    ("      mon-fri: ['08:00-20:00']", "      mon-fri: ['08:00-2000']", "schedules.office.hours.mon-fri.0",
     "'08:00-2000' is not a time range: write 'HH:MM-HH:MM' in quotes, e.g. '09:00-18:00'"),
    ("      mon-fri: ['08:00-20:00']", "      mon-fri: ['08：00-20:00']", "schedules.office.hours.mon-fri.0",
     "a full-width colon '：': type ':'"),
    ("      mon-fri: ['08:00-20:00']", "      monday-fri: ['08:00-20:00']", "schedules.office.hours",
     "'monday-fri' is not a weekday: write mon, tue, wed, thu, fri, sat, sun or a span such as mon-fri"),
    ("      mon-fri: ['08:00-20:00']", "      mon-fri: ['08:00-08:00']", "schedules.office.hours.mon-fri.0",
     "'08:00-08:00': an empty range (it ends when it starts); for a whole day write '00:00-24:00'"),
    ("    overrides: {}", "    overrides: {2027-12-31: ['20:00-20:00']}", "schedules.office.overrides",
     "'20:00-20:00': an empty range"),
    ("    timezone: Asia/Shanghai", "    timezone: Asia/Shangai", "schedules.office.timezone",
     "unknown timezone 'Asia/Shangai' (an IANA name such as Asia/Shanghai)"),
    ("    holidays:", "    holiday:", "schedules.office.holiday", "unknown field 'holiday' (did you mean 'holidays'?)"),
    ("      2027-01-01: 元旦", "      '2027-01-01.2027-01-03': 元旦", "schedules.office.holidays",
     "'2027-01-01.2027-01-03' is not a date: write YYYY-MM-DD, or a span YYYY-MM-DD..YYYY-MM-DD"),
    ("  schedule: office", "  schedule: ofice", "ivr.schedule", "unknown schedule 'ofice' (configured: office) "
     "(did you mean 'office'?)"),
    ("    overrides: {}", "    overrides: {2027-12-31: shut}", "schedules.office.overrides",
     "2027-12-31: 'shut' is not an override: write open, closed or a list of hours"),
    ("    entry: {open: main, closed: after_hours}\n",
     "    entry: {open: main, closed: after_hours}\n    numbers: ['401']\n"
     "  night:\n    entry: {open: after_hours, closed: after_hours}\n    numbers: ['402', '401']\n",
     "schedules.night.numbers", "number 401 is also in schedule office (a dialled number answers by one schedule)"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "field", "says"), TYPOS, ids=[t[2] + ":" + t[1].strip() for t in TYPOS])
def test_a_typo_in_schedules_is_one_line_naming_the_field(cfg: Path, old: str, new: str, field: str,
                                                          says: str) -> None:  # fmt: skip
    text = cfg.read_text(encoding="utf-8")
    assert old in text
    cfg.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    msg = str(caught.value)
    assert "\n" not in msg and len(caught.value.problems) == 1, caught.value.problems
    # file:line: field: what is wrong, the line being the field's key in its section
    lines = cfg.read_text(encoding="utf-8").splitlines()
    line = lines.index(field.split(".")[0] + ":")
    for key in [k for k in field.split(".")[1:] if not k.isdigit()]:  # each key below the one before
        line = next(n for n in range(line, len(lines)) if lines[n].lstrip().startswith(key + ":"))
    line += 1
    assert msg.startswith(f"{cfg}:{line}: {field}: ") and says in msg, msg


def test_an_impossible_date_is_one_line_naming_its_line(cfg: Path) -> None:
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("      2027-01-01: 元旦", "      2027-02-30: 元旦"), encoding="utf-8")
    line = 1 + text[: text.index("2027-01-01: 元旦")].count("\n")
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    assert str(caught.value) == f"{cfg}:{line}: not a date (day is out of range for month): write YYYY-MM-DD"


# ---------------------------------------------------------------- lint, the edit guard


def test_lint_warns_on_a_schedule_naming_a_missing_menu(cfg: Path) -> None:
    assert lint_file(cfg) == []  # the after-hours menu counts as reachable: a schedule sends callers there
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("closed: after_hours}", "closed: afterhours}"), encoding="utf-8")
    problems = lint_file(cfg)
    rules = [(p.rule, p.severity) for p in problems]
    assert ("schedule-menu", "warning") in rules
    bad = next(p for p in problems if p.rule == "schedule-menu")
    assert bad.format(cfg).startswith(f"{cfg}:{text[:text.index('entry: {open: main')].count(chr(10)) + 1}:")
    assert "schedule office sends callers to menu 'afterhours', which does not exist" in bad.message
    assert ("unreachable", "warning") in rules  # and after_hours is now reached by nobody


def test_removing_a_menu_a_schedule_uses_is_refused(cfg: Path) -> None:
    before = cfg.read_bytes()
    code, _out, err = run(cfg, "menu", "remove", "after_hours")
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "menu after_hours" in lines[0] and "[schedule-menu]" in lines[0], err
    assert "schedule office sends callers to it (entry.closed)" in lines[0]
    assert cfg.read_bytes() == before
    code, _out, err = run(cfg, "menu", "remove", "after_hours", "--force", "-m", "closed nights: main menu only")
    assert code == 0, err
    assert "after_hours" not in load_config(cfg).menus


# ---------------------------------------------------------------- the CLI


def test_schedule_show_at(cfg: Path) -> None:
    code, out, err = run(cfg, "menu", "schedule", "show", "--at", "2027-10-09 21:30")
    assert code == 0, err
    assert out.splitlines()[0] == ("a call at 2027-10-09 21:30 starts in menu after_hours: make-up working day "
                                   "国庆节调休, night (hours 08:00-20:00)")  # fmt: skip
    assert "schedule office (in use: ivr.schedule), Asia/Shanghai" in out
    rows = {ln.split("│")[1].strip(): ln for ln in out.splitlines() if ln.startswith("│ 2027")}
    assert list(rows) == [f"2027-10-{d:02d}" for d in range(9, 16)]  # the week from --at's day
    assert "make-up day" in rows["2027-10-09"] and "main" in rows["2027-10-09"]
    assert "closed" in rows["2027-10-10"] and "weekend" in rows["2027-10-10"]
    code, out, _ = run(cfg, "menu", "schedule", "show", "--at", "2027-10-01T02:00Z", "--json")
    data = json.loads(out)
    assert (data["menu"], data["reason"]) == ("after_hours", "holiday 国庆节")  # 10:00 in Shanghai
    assert data["schedules"][0]["at"] == "2027-10-01T10:00+08:00"
    assert data["schedules"][0]["week"][0] == {"date": "2027-10-01", "weekday": "Friday", "kind": "holiday",
                                               "label": "国庆节", "hours": "closed", "open_menu": None,
                                               "closed_menu": "after_hours"}  # fmt: skip
    # a schedule not named by ivr.schedule decides nothing: the entry menu at every hour
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("  schedule: office ", "  # schedule: office "), encoding="utf-8")
    code, out, _ = run(cfg, "menu", "schedule", "show", "--at", "2027-10-09 21:30")
    assert out.splitlines()[0] == ("a call at 2027-10-09 21:30 starts in menu main: no schedule: ivr.entry_menu "
                                   "at all hours")  # fmt: skip
    assert "schedule office (not in use: set ivr.schedule)" in out
    assert "past midnight" not in out  # no range of this week does
    code, _out, err = run(cfg, "menu", "schedule", "show", "--at", "tomorrow")
    assert code == 2 and err.strip() == ("error: --at tomorrow: not a date and time; write YYYY-MM-DD HH:MM, "
                                         "e.g. '2027-10-01 10:00'")  # fmt: skip


def test_schedule_show_a_night_past_midnight(cfg: Path) -> None:
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("mon-fri: ['08:00-20:00']", "mon-fri: ['08:00-12:00', '22:00-02:00']"), "utf-8")
    code, out, err = run(cfg, "menu", "schedule", "show", "--at", "2027-01-09 01:30")  # a Saturday
    assert code == 0, err
    assert out.splitlines()[0] == ("a call at 2027-01-09 01:30 starts in menu main: weekday hours 22:00-02:00 "
                                   "next day, from Friday")  # fmt: skip
    note = "hours past midnight belong to the day they start on: that day's holiday or override decides them"
    assert note in out
    code, out, _ = run(cfg, "menu", "schedule", "show", "--at", "2027-01-09 01:30", "--json")
    office = json.loads(out)["schedules"][0]
    assert office["note"] == note
    assert [d["hours"] for d in office["week"][:3]] == ["closed", "closed", "08:00-12:00, 22:00-02:00 next day"]


def test_walk_plans_each_menu_the_schedule_picks(cfg: Path) -> None:
    config = load_config(cfg)
    paths = plan(config)
    starts = {p.keys[0].menu for p in paths}
    assert starts == {"main", "after_hours"}
    night = [p for p in paths if p.keys[0].menu == "after_hours"]
    assert {(p.kind, p.digits, p.end) for p in night} == {
        ("option", "1", "hangup"), ("option", "9", "repeat: menu after_hours"),
        ("no-input", "- -", "fallback hangup"), ("invalid", "2 2", "fallback hangup")}
    assert all(entry_choice(config, p.at).menu == "after_hours" for p in night if p.at)  # a moment it is chosen
    lines = moments_text(paths)
    # the next moment after_hours answers, from now: a weeknight, or a whole closed day (Saturday morning +08:00)
    assert len(lines) == 2 and lines[1].startswith("from menu after_hours: calls at ")
    assert "(night (hours" in lines[1] or "(closed on " in lines[1]
    # a walk on the real PBX runs now: only the menu a call gets now
    assert {p.keys[0].menu for p in plan(config, at=local("2027-01-04 21:00"))} == {"after_hours"}


# ---------------------------------------------------------------- through the simulator, a fixed clock

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
# Call seconds per wall second. At tests/ivr_env.py's 20 a loaded CI machine once lost the night
# caller's key, pressed a second into the menu (the call ran 26 s with no choice): 8 leaves room.
SPEED = 8.0


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendered_sounds(tmp_path_factory.mktemp("sounds"))


CALLS = [
    # (Shanghai time, number dialled, menu heard first, reason on the call's events) in the shipped schedule
    ("2027-01-04 10:00", "400", "main", "weekday hours 08:00-20:00"),  # Monday
    ("2027-01-04 23:00", "400", "after_hours", "night (hours 08:00-20:00)"),
    ("2027-01-09 10:00", "400", "after_hours", "closed on Saturdays"),
    ("2027-10-01 10:00", "400", "after_hours", "holiday 国庆节"),
    ("2027-10-09 10:00", "400", "main", "make-up working day 国庆节调休, hours 08:00-20:00"),  # a Saturday worked
    ("2027-01-04 23:00", "401", "orders", "weekday hours 00:00-24:00"),  # the sales line's own schedule
]


@needs_espeak
def test_the_caller_hears_the_menu_of_the_hour(tmp_path: Path, sounds: Path) -> None:
    def wire_schedule(data: Any) -> None:  # the demo's copy drops it: its scripts are daytime callers
        data["ivr"]["schedule"] = "office"
        data["schedules"]["sales"] = {"hours": {"mon-sun": ["00:00-24:00"]}, "numbers": ["401"],
                                      "entry": {"open": "orders", "closed": "after_hours"}}  # fmt: skip

    async def body(env: DemoEnv) -> list[Any]:
        seconds = prompt_seconds(env.config)
        g = seconds["greeting"]
        out = []
        for i, (when, number, menu, _why) in enumerate(CALLS):
            env.service.clock = ClockAt(SPEED, local(when))  # the service's call clock, set to that moment
            # at night 1 asks for a call back (goodbye, hang up, filed with the number); by day 1 is the
            # orders menu, where the caller hangs up
            stay = seconds["goodbye"] + 3.0 if menu == "after_hours" else 2.0
            presses = (Press(g + 1.0, "1"),) if menu != "orders" else ()  # the sales caller only listens
            script = CallScript(f"s{i}", caller_num=f"1380000000{i}", exten=number, presses=presses,
                                hangs_up_at=g + 1.0 + stay, agent=None)
            out.append(await env.call(script))
        return out

    calls = run_env(tmp_path, sounds, body, edit=wire_schedule, speed=SPEED)
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    for call, (when, _number, menu, why) in zip(calls, CALLS, strict=True):
        heard = prompts_heard(call)
        assert heard[:2] == ["greeting", f"menu-{menu}"], (when, heard)
        row = call_row(url, call.uniqueid)
        assert ("schedule", {"menu": menu, "reason": why}) in row["events"], (when, row["events"])
        assert row["started_at"].replace(tzinfo=UTC).astimezone(SHANGHAI_TZ).strftime("%Y-%m-%d %H") == when[:13]
        if menu == "after_hours":  # the callback request: hung up by the service, filed under its category
            assert row["steps"][0][:4] == ("after_hours", "1", "chosen", "hangup"), row["steps"]
            assert heard[-1] == "goodbye" and row["category"] == "其他问题" and row["hangup_by"] == "system"
        elif menu == "main":
            assert row["steps"][0][:4] == ("main", "1", "chosen", "submenu")
            assert "menu-orders" in heard


def test_clock_at_runs_on_from_the_moment() -> None:
    clock = ClockAt(SPEED, local("2027-01-04 23:00"))
    first = clock.now()
    assert abs((first - local("2027-01-04 23:00")).total_seconds()) < 1
    asyncio.run(asyncio.sleep(0.05))
    assert clock.now() > first  # call time goes on (SPEED x), timestamps stay ordered
