"""`hotline menu walk`: one test call per reachable DTMF path through the menus.

`plan(config)` enumerates the paths depth-first from the entry menu, the way
ivr/session.py runs a call: the greeting, then each menu's prompt; a key that routes
to a queue or an extension ends the path there ("transfer" is heard), ``hangup`` ends
it with "goodbye", a submenu goes one level deeper. A submenu already on the path
(``*`` back to main) or ``repeat`` is followed once, to hear that menu's prompt again,
and cut there: the caller hangs up. Every menu also gets a no-input path (the caller
waits through each timeout: "timeout" is heard ``retries`` times, then the fallback)
and an invalid-key path (a key with no option, pressed at every prompt: "invalid",
then the fallback).

Each path says what the caller does at each prompt (``Key``), which prompts the
service should play in order (``heard``), and where the call should end (``end``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivr.prompts import GREETING, menu_prompt_name
from settings import Config, Route

Kind = Literal["option", "no-input", "invalid"]
_KEY_ORDER = "1234567890*#"  # the first of these with no option is the "invalid" key


@dataclass(frozen=True)
class Key:
    """What the caller does while one menu prompt plays: press ``digit``, or (None) nothing."""

    menu: str
    digit: str | None


@dataclass(frozen=True)
class WalkPath:
    keys: tuple[Key, ...]
    heard: tuple[str, ...]  # prompt names in the order the service should play them
    end: str  # "queue support", "extension operator", "hangup", "loop: menu main", "repeat: menu main"
    kind: Kind
    route: Route | None  # the route taken at the end; None when the path is cut at a loop
    via_fallback: bool = False

    @property
    def digits(self) -> str:
        """``1 *``, ``- - -`` (waits), ``4 4 4``: the keys pressed, '-' for waiting through a timeout."""
        return " ".join(k.digit or "-" for k in self.keys)

    @property
    def name(self) -> str:
        where = " > ".join(dict.fromkeys(k.menu for k in self.keys))
        return f"{self.kind} [{self.digits}] via {where}"

    @property
    def cut(self) -> bool:
        """The path stops at a menu it has heard before: the caller hangs up there."""
        return self.route is None or self.route.action in ("submenu", "repeat")

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "digits": self.digits, "keys": [[k.menu, k.digit] for k in self.keys],
                "heard": list(self.heard), "end": self.end, "via_fallback": self.via_fallback}  # fmt: skip


def invalid_key(options: dict[str, Route]) -> str | None:
    return next((k for k in _KEY_ORDER if k not in options), None)


def plan(config: Config) -> list[WalkPath]:
    """Every path a caller can take from the entry menu, cycles cut (see the module docstring)."""
    out: list[WalkPath] = []
    _visit(config, config.ivr.entry_menu, (), (GREETING,), (config.ivr.entry_menu,), out)
    return out


def _end(config: Config, route: Route, keys: tuple[Key, ...], heard: tuple[str, ...], stack: tuple[str, ...],
         kind: Kind, via_fallback: bool, here: str) -> WalkPath:  # fmt: skip
    """A path that leaves the menus (queue/extension/hangup) or comes back to a menu already heard."""
    prefix = "fallback " if via_fallback else ""
    if route.action in ("queue", "extension"):
        return WalkPath(keys, (*heard, "transfer"), f"{prefix}{route.action} {route.target}", kind, route,
                        via_fallback)  # fmt: skip
    if route.action == "hangup":
        return WalkPath(keys, (*heard, "goodbye"), f"{prefix}hangup", kind, route, via_fallback)
    target = here if route.action == "repeat" else str(route.target)
    label = "repeat" if route.action == "repeat" else ("loop" if target in stack else "menu")
    return WalkPath(keys, (*heard, menu_prompt_name(target)), f"{prefix}{label}: menu {target}", kind, route,
                    via_fallback)  # fmt: skip


def _visit(config: Config, menu_id: str, keys: tuple[Key, ...], heard: tuple[str, ...], stack: tuple[str, ...],
           out: list[WalkPath]) -> None:  # fmt: skip
    menu = config.menus[menu_id]
    prompt = menu_prompt_name(menu_id)
    heard_here = (*heard, prompt)
    limit = config.ivr.max_steps
    for digit, route in menu.options.items():
        k = (*keys, Key(menu_id, digit))
        if route.action == "submenu" and route.target not in stack and len(k) < limit:
            _visit(config, str(route.target), k, heard_here, (*stack, str(route.target)), out)
        else:
            out.append(_end(config, route, k, heard_here, stack, "option", False, menu_id))
    # No input: the prompt, then "timeout" + the prompt again per retry, then the fallback.
    tries = menu.retries + 1
    if len(keys) + tries <= limit:
        waits = tuple(Key(menu_id, None) for _ in range(tries))
        h = heard_here + ("timeout", prompt) * menu.retries
        out.append(_end(config, menu.fallback, (*keys, *waits), h, stack, "no-input", True, menu_id))
        bad = invalid_key(menu.options)
        if bad is not None:
            presses = tuple(Key(menu_id, bad) for _ in range(tries))
            h = heard_here + ("invalid", prompt) * menu.retries
            out.append(_end(config, menu.fallback, (*keys, *presses), h, stack, "invalid", True, menu_id))
