"""Menu lint: everything that would hurt a caller, one line per problem naming the menu and digit.

Lint looks at the raw YAML tree and reports every problem at once, the schema's
(settings.validate) included, and ones a schema cannot see: menus no caller can reach,
loops a caller can never leave, a fallback sending callers back round, an opening line
without the company name, options the prompt never announces. Errors block a save;
warnings are shown but do not (menus.guard refuses an edit that introduces some of them).
`hotline menu lint` and `hotline config check` print them; every edit runs them before writing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from settings import (
    DIGITS,
    RETRIES_RANGE,
    ROUTE_FIELDS,
    TARGET_KIND,
    TIMEOUT_RANGE,
    UNQUOTED_HASH,
    ConfigError,
    OpeningRule,
    did_you_mean,
    hand_edit_hint,
    line_of,
    read_yaml,
    route_shape_problem,
    route_target_problem,
    validate,
)

Severity = Literal["error", "warning"]

EXITS = ("queue", "extension", "hangup")  # actions that take the caller out of the menus
MENU_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # it names a prompt file Asterisk plays
MAX_OPTIONS = 9  # more than a caller can keep in mind from one prompt
PROMPT_MAX_CHARS = 60  # about 15 s of speech at the prompt voice's pace
GREETING_MAX_CHARS = 40  # the opening line is heard before anything useful happens
_ANNOUNCED = re.compile(r"按\s*(星号|井号|[0-9*#])")
_KEY_WORDS = {"星号": "*", "井号": "#"}
NEXT = "collect.next"  # the 'digit' of a collect menu's way on, in problems


@dataclass(frozen=True)
class Problem:
    severity: Severity
    rule: str
    message: str
    menu: str | None = None
    digit: str | None = None  # a DTMF key, or "fallback"
    line: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def where(self) -> str:
        if self.menu is None:
            return self.digit or "config"
        if self.digit is None:
            return f"menu {self.menu}"
        if self.digit == "fallback":
            return f"menu {self.menu} fallback"
        return f"menu {self.menu} digit {self.digit}"

    def format(self, path: Path | str | None = None) -> str:
        """``config.yaml:58: error: menu main digit 4: unknown queue 'x' [unknown-queue]``."""
        head = f"{path}:{self.line}: " if path is not None and self.line else (f"{path}: " if path else "")
        return f"{head}{self.severity}: {self.where}: {self.message} [{self.rule}]"

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "rule": self.rule, "menu": self.menu, "digit": self.digit,
                "line": self.line, "message": self.message}  # fmt: skip


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def lint_file(path: Path) -> list[Problem]:
    """Lint a config file, each problem with what to type instead when its line shows a hand-edit slip.

    `hotline config check` prints exactly these, so both number lines alike. A file that cannot
    even be parsed is one error."""
    try:
        data = read_yaml(path)
    except ConfigError as exc:
        return [_from_config_error(str(exc))]
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [_hinted(p, lines) for p in lint_data(data, path)]
    for n, line in enumerate(lines, 1):  # YAML reads `#: ...` as a comment: nothing else would notice
        if UNQUOTED_HASH.search(line):
            found.append(Problem("error", "hand-edit", f"{hand_edit_hint(line)}", line=n))
    return found


def _hinted(p: Problem, lines: list[str]) -> Problem:
    hint = hand_edit_hint(lines[p.line - 1]) if 0 < p.line <= len(lines) else None
    if not hint or hint in p.message:
        return p
    return Problem(p.severity, p.rule, f"{p.message}; {hint}", p.menu, p.digit, p.line, p.extra)


def lint_data(data: Mapping[str, Any], path: Path) -> list[Problem]:
    """Every menu problem in a loaded (round-trip) YAML tree, then every schema problem lint did not name.

    A schema problem on a line lint already flagged, or in a menu lint flagged, says the same thing
    in other words; an unknown field is always shown (lint does not look for those outside routes)."""
    found = _Linter(data).run()
    try:
        validate(data, path)
    except ConfigError as exc:
        flagged = errors(found)
        lines, menus = {p.line for p in flagged}, {p.menu for p in flagged if p.menu}
        for text in exc.problems:
            p = _from_config_error(text)
            in_menu = re.match(r"menus\.([^.:]+)", p.message)
            if p.line in lines or (in_menu and in_menu.group(1) in menus and "unknown field" not in p.message):
                continue
            found.append(p)
    return found


def _from_config_error(text: str) -> Problem:
    m = re.match(r"^(.*?):(\d+): (.*)$", text)
    line, message = (int(m.group(2)), m.group(3)) if m else (0, text)
    return Problem("error", "config", message, line=line)


def menu_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Lint's own findings on a raw tree, without the schema's (menus.guard compares two of these)."""
    return _Linter(data).run()


def reachable(data: Mapping[str, Any], start: str | None = None) -> set[str]:
    """The menus a caller can reach from ``start`` (default: the entry menu), ``start`` included."""
    linter = _Linter(data)
    # a menu a schedule picks at some hours is an entry menu too (menus/schedule.py)
    starts = [linter.entry, *scheduled_menus(data).values()] if start is None else [start]
    seen = {s for s in starts if s in linter.menus}
    todo = list(seen)
    while todo:
        for nxt in linter.submenus(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def scheduled_menus(data: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(schedule, entry field) -> the menu it names (``schedules.office.entry.closed``), from the raw tree."""
    schedules = data.get("schedules")
    out: dict[tuple[str, str], str] = {}
    for name, sched in (schedules.items() if isinstance(schedules, Mapping) else ()):
        entry = sched.get("entry") if isinstance(sched, Mapping) else None
        for key, menu in (entry.items() if isinstance(entry, Mapping) else ()):
            if menu is not None:
                out[(str(name), str(key))] = str(menu)
    return out


def _routes(menu: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(digit or 'fallback', route) pairs; a missing fallback is the schema's default, hang up."""
    options = menu.get("options")
    pairs = [(str(k), v) for k, v in options.items()] if isinstance(options, Mapping) else []
    collect = menu.get("collect")
    if isinstance(collect, Mapping) and "next" in collect:  # a collect menu's way on (settings.Collect)
        pairs.append((NEXT, collect["next"]))
    return [*pairs, ("fallback", menu.get("fallback", {"action": "hangup"}))]


class _Linter:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        menus = data.get("menus")
        self.menus: dict[str, Mapping[str, Any]] = (
            {str(k): v for k, v in menus.items() if isinstance(v, Mapping)} if isinstance(menus, Mapping) else {}
        )
        self.queues = set(map(str, data.get("queues") or {}))
        self.extensions = set(map(str, data.get("extensions") or {}))
        ivr = data.get("ivr") if isinstance(data.get("ivr"), Mapping) else {}
        self.entry = str(ivr.get("entry_menu", "main"))  # type: ignore[union-attr]
        self.out: list[Problem] = []

    def add(self, severity: Severity, rule: str, message: str, menu: str | None = None,
            digit: str | None = None, loc: tuple[str, ...] = ()) -> None:  # fmt: skip
        if not loc and menu is not None:
            loc = ("menus", menu) if digit is None else (
                ("menus", menu, "fallback") if digit == "fallback" else
                ("menus", menu, "collect", "next") if digit == NEXT else ("menus", menu, "options", digit))
        line = line_of(self.data, loc) if loc else 0
        self.out.append(Problem(severity, rule, message, menu, digit, line))

    def run(self) -> list[Problem]:
        self.greeting()
        if not self.menus:
            self.add("error", "no-menus", "no menus are configured", loc=("menus",))
            return self.out
        if self.entry not in self.menus:
            self.add("error", "entry-menu", f"'{self.entry}' is not a menu (known: {', '.join(self.menus)})",
                     digit="ivr.entry_menu", loc=("ivr", "entry_menu"))  # fmt: skip
        for name, menu in self.menus.items():
            self.menu(name, menu)
        self.schedules()
        self.reachability()
        self.dead_ends()
        return self.out

    def greeting(self) -> None:
        line = self.data.get("opening_line")
        company = str(self.data.get("company") or "").strip()
        loc = ("opening_line",)
        if not isinstance(line, str) or not line.strip():
            self.add("error", "opening-line", "the mandated opening line is missing", digit="opening_line", loc=loc)
            return
        if company and company not in line:
            self.add("error", "opening-line", f"the opening line must say the company name '{company}'",
                     digit="opening_line", loc=loc)  # fmt: skip
        qa = self.data.get("qa") if isinstance(self.data.get("qa"), Mapping) else {}
        opening = qa.get("opening") if isinstance(qa.get("opening"), Mapping) else {}  # type: ignore[union-attr]
        offers = opening.get("offer_phrases") or OpeningRule().offer_phrases  # type: ignore[union-attr]
        if not any(str(p) in line for p in offers):
            self.add("error", "opening-line", f"the opening line must offer help (one of: {', '.join(offers)})",
                     digit="opening_line", loc=loc)  # fmt: skip
        if len(line) > GREETING_MAX_CHARS:
            self.add("warning", "long-prompt", f"the opening line is {len(line)} characters; callers hear all of "
                     f"it before the menu (keep it under {GREETING_MAX_CHARS})", digit="opening_line", loc=loc)

    def menu(self, name: str, menu: Mapping[str, Any]) -> None:
        if not MENU_ID.fullmatch(name):
            self.add("error", "menu-id", "menu ids may hold only letters, digits, '-' and '_' "
                     "(the id names the prompt file Asterisk plays)", name)  # fmt: skip
        prompt = menu.get("prompt")
        if (not isinstance(prompt, str) or not prompt.strip()) and not menu.get("prompt_file"):
            self.add("error", "no-prompt", "the menu has no prompt: callers would hear silence", name)
        self.number(name, menu, "timeout", TIMEOUT_RANGE, integer=False)
        self.number(name, menu, "retries", RETRIES_RANGE, integer=True)
        options = menu.get("options") or {}
        if not isinstance(options, Mapping):
            self.add("error", "bad-options", "options must be a mapping of digit: route", name, loc=("menus", name))
            options = {}
        seen: set[str] = set()
        for key in options:
            digit = str(key)
            if digit not in DIGITS:
                self.add("error", "bad-digit", f"'{digit}' is not a phone key (0-9, *, #)", name, digit)
            elif digit in seen:
                self.add("error", "duplicate-digit", f"digit {digit} is defined twice", name, digit)
            seen.add(digit)
        for digit, route in _routes(menu):
            self.route(name, digit, route)
        reads_number = menu.get("collect") is not None  # no keys to offer or announce (settings.Collect)
        if not options and not reads_number:
            self.add("warning", "no-options", "no options: callers can only wait for the fallback", name)
        elif len(options) > MAX_OPTIONS:
            self.add("warning", "too-many-options", f"{len(options)} options: more than {MAX_OPTIONS} is more than "
                     "callers remember from one prompt; split it into submenus", name)  # fmt: skip
        if isinstance(prompt, str):
            if not reads_number:
                self.announced(name, prompt, seen)
            if len(prompt) > PROMPT_MAX_CHARS:
                self.add("warning", "long-prompt", f"the prompt is {len(prompt)} characters; over "
                         f"{PROMPT_MAX_CHARS} callers forget the first choices", name, loc=("menus", name, "prompt"))

    def number(self, name: str, menu: Mapping[str, Any], key: str, bounds: tuple[int, int], integer: bool) -> None:
        if key not in menu:
            return
        value = menu[key]
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and integer and not float(value).is_integer():
            ok = False
        if not ok or not bounds[0] <= value <= bounds[1]:
            kind = "a whole number" if integer else "seconds"
            self.add("error", f"{key}-range", f"{key} {value!r} is out of range ({kind}, "
                     f"{bounds[0]}-{bounds[1]})", name, loc=("menus", name, key))  # fmt: skip

    def route(self, name: str, digit: str, route: Any) -> None:
        if not isinstance(route, Mapping):
            self.add("error", "bad-action", "a route needs 'action' (and 'target' for submenu/queue/extension)",
                     name, digit)  # fmt: skip
            return
        unknown = [str(k) for k in route if str(k) not in ROUTE_FIELDS]
        if unknown:  # `acton: queue` is a typo of a field, not an action called None
            self.add("error", "unknown-field", f"unknown field '{unknown[0]}'"
                     f"{did_you_mean(unknown[0], ROUTE_FIELDS)} in {{action, target, category}}", name, digit)
            return
        action, target = route.get("action"), route.get("target")
        problem = route_shape_problem(action, target)
        if problem:
            self.add("error", "bad-action", problem, name, digit)
            return
        problem = route_target_problem(action, target, menus=self.menus, queues=self.queues,
                                       extensions=self.extensions)  # fmt: skip
        if problem:
            self.add("error", f"unknown-{TARGET_KIND[str(action)]}", problem, name, digit)
        if digit == "fallback" and action == "repeat":
            self.add("warning", "repeat-fallback", "fallback 'repeat' sends callers round again once their tries "
                     "are used up; send them to a person (queue or extension)", name, digit)  # fmt: skip
        if digit == "fallback" and action == "submenu" and name in reachable(self.data, str(target)):
            self.add("warning", "fallback-loop", f"fallback submenu {target} loops back into the menus the caller "
                     "just ran out of tries in; send them to a person (queue or extension)", name, digit)  # fmt: skip

    def announced(self, name: str, prompt: str, options: set[str]) -> None:
        said = {_KEY_WORDS.get(k, k) for k in _ANNOUNCED.findall(prompt)}
        if not said:
            return  # a prompt that names no keys at all (or not in this pattern): nothing to compare
        for digit in sorted(options - said):
            self.add("warning", "unannounced-option", f"the prompt never tells callers to press {digit}", name, digit)
        for digit in sorted(said - options):
            self.add("warning", "announced-missing", f"the prompt says to press {digit} but {digit} has no option "
                     "(callers will hear 'invalid')", name, digit, loc=("menus", name, "prompt"))  # fmt: skip

    def submenus(self, name: str) -> list[str]:
        out = []
        for _digit, route in _routes(self.menus[name]):
            if not isinstance(route, Mapping) or route.get("action") != "submenu":
                continue
            if str(route.get("target")) in self.menus:
                out.append(str(route["target"]))
        return out

    def schedules(self) -> None:
        for (name, key), menu in scheduled_menus(self.data).items():
            if menu not in self.menus:
                self.add("warning", "schedule-menu", f"schedule {name} sends callers to menu '{menu}', which does "
                         f"not exist (they get the entry menu '{self.entry}' instead)",
                         digit=f"schedules.{name}.entry.{key}", loc=("schedules", name, "entry", key))  # fmt: skip

    def reachability(self) -> None:
        if self.entry not in self.menus:
            return
        seen = reachable(self.data)
        for name in self.menus:
            if name not in seen:
                self.add("warning", "unreachable", f"no caller can reach this menu from the entry menu "
                         f"'{self.entry}' (route an option to it, or remove it)", name)  # fmt: skip

    def dead_ends(self) -> None:
        """Menus from which no sequence of keys or timeouts ever reaches a queue, an extension or hang-up."""
        can_exit: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, menu in self.menus.items():
                if name in can_exit:
                    continue
                for _digit, route in _routes(menu):
                    action = route.get("action") if isinstance(route, Mapping) else None
                    if action in EXITS or (action == "submenu" and str(route.get("target")) in can_exit):
                        can_exit.add(name)
                        changed = True
                        break
        for name in self.menus:
            if name in can_exit:
                continue
            within = ", ".join(sorted(reachable(self.data, name)))
            self.add("error", "dead-end-loop", f"no way out: every option and the fallback stay within "
                     f"menu(s) {within}, never reaching a queue, an extension or hang-up", name)  # fmt: skip
