"""Edits that would hurt callers: what an edit changes for them, found by comparing the file before and after.

Lint judges one file; a harm is a change. A prompt that announced 9 before an edit and
still announces it with 9 gone, a digit that routed somewhere else, a menu callers reached
and now cannot, a fallback that now sends callers who ran out of tries round the same
menus again. The service reloads config.yaml within seconds, so `hotline menu` refuses
these unless the admin says `--force --message WHY` (the why and the harms are recorded
in the version); a replaced digit is also allowed with `--replace`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from menus.lint import menu_problems, reachable, scheduled_menus

GUARDED_RULES = ("announced-missing", "fallback-loop")  # lint warnings an edit may not introduce


@dataclass(frozen=True)
class Harm:
    where: str  # "menu main digit 9"
    rule: str
    message: str

    @property
    def replaces(self) -> bool:
        """A changed route: `--replace` says the admin meant it."""
        return self.rule == "replace"

    def refusal(self) -> str:
        how = "--replace, or --force --message WHY" if self.replaces else "--force --message WHY"
        return f"refused: {self.where}: {self.message} [{self.rule}] ({how} to save it anyway)"


def _options(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    menus = data.get("menus")
    out: dict[str, dict[str, Any]] = {}
    for name, menu in (menus.items() if isinstance(menus, Mapping) else ()):
        options = menu.get("options") if isinstance(menu, Mapping) else None
        out[str(name)] = {str(d): r for d, r in options.items()} if isinstance(options, Mapping) else {}
    return out


def _route(r: Any) -> str:
    if not isinstance(r, Mapping):
        return "?"
    return " ".join(str(r[k]) for k in ("action", "target") if r.get(k))


def harms(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Harm]:
    """What ``new`` does to callers that ``old`` did not: one Harm per menu (and digit)."""
    found: list[Harm] = []
    heard_before, heard_after = reachable(old), reachable(new)  # a menu no caller reaches harms no caller
    old_problems = menu_problems(old)
    before = {(p.rule, p.menu, p.digit) for p in old_problems if p.menu in heard_before}
    broken = {(p.menu, p.digit) for p in old_problems if p.severity == "error"}  # mending a route harms nobody
    for p in menu_problems(new):
        if p.rule in GUARDED_RULES and p.menu in heard_after and (p.rule, p.menu, p.digit) not in before:
            found.append(Harm(p.where, p.rule, p.message))
    old_options, new_options = _options(old), _options(new)
    for menu, digits in new_options.items():
        for digit, route in digits.items():
            was = old_options.get(menu, {}).get(digit)
            if was is not None and _route(was) != _route(route) and (menu, digit) not in broken:
                found.append(Harm(f"menu {menu} digit {digit}", "replace",
                                  f"already routes to {_route(was)}; this would route it to {_route(route)}"))
    lost = sorted((heard_before & set(new_options)) - heard_after)
    for menu in lost:
        found.append(Harm(f"menu {menu}", "unreachable", "callers reach it today; after this edit none could "
                          "(route a digit to it first, or remove it)"))  # fmt: skip
    for (schedule, key), menu in scheduled_menus(new).items():  # business hours would lose their menu
        if menu in old_options and menu not in new_options:
            found.append(Harm(f"menu {menu}", "schedule-menu", f"schedule {schedule} sends callers to it "
                              f"(entry.{key}); change the schedule first"))
    return found
