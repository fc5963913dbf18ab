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

A collect menu (settings.Collect) is walked like a key with one option: the caller keys in
``walk_number`` (a fixed digit string that fails Luhn, so no real card) and goes on to its
``next``; its invalid path keys in too few digits, ended by '#'. Those digits are never
shown: a path prints "<16 digits>" for them.

Each path says what the caller does at each prompt (``Key``), which prompts the
service should play in order (``heard``), and where the call should end (``end``).

With business hours (``ivr.schedule``) each menu the schedule picks is walked as an
entry menu of its own, at a moment the schedule picks it (``at``: the first such hour
from now); the service's clock is set to that moment while those calls run.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from app.demo import demo_env, prompt_seconds
from ivr.calltrack import Clock
from ivr.collect import luhn_ok
from menus.prompts import GREETING, menu_prompt_name
from menus.schedule import entry_choice, moments
from pbx.simulator import Agent, CallScript, Press
from settings import Collect, Config, Route, load_config

Kind = Literal["option", "number", "no-input", "invalid"]
_KEY_ORDER = "1234567890*#"  # the first of these with no option is the "invalid" key


@dataclass(frozen=True)
class Key:
    """What the caller does while one menu prompt plays: press ``digit``, or (None) nothing; at a
    collect menu, key in ``number`` (then '#' if it is shorter than the menu reads)."""

    menu: str
    digit: str | None
    number: str = ""

    @property
    def shown(self) -> str:
        """What a table or JSON may say: never the number's digits, only how many."""
        return f"<{len(self.number)} digits>" if self.number else self.digit or "-"


@dataclass(frozen=True)
class WalkPath:
    keys: tuple[Key, ...]
    heard: tuple[str, ...]  # prompt names in the order the service should play them
    end: str  # "queue support", "extension operator", "hangup", "loop: menu main", "repeat: menu main"
    kind: Kind
    route: Route | None  # the route taken at the end; None when the path is cut at a loop
    via_fallback: bool = False
    at: datetime | None = None  # business hours: the moment the call starts (its schedule picks keys[0].menu)
    why: str = ""  # the schedule's reason for that menu

    @property
    def digits(self) -> str:
        """``1 *``, ``- - -`` (waits), ``4 4 4``: the keys pressed, '-' for waiting through a timeout."""
        return " ".join(k.shown for k in self.keys)

    @property
    def name(self) -> str:
        where = " > ".join(dict.fromkeys(k.menu for k in self.keys))
        return f"{self.kind} [{self.digits}] via {where}"

    @property
    def cut(self) -> bool:
        """The path stops at a menu it has heard before: the caller hangs up there."""
        return self.route is None or self.route.action in ("submenu", "repeat")

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "digits": self.digits, "keys": [[k.menu, k.shown] for k in self.keys],
                "heard": list(self.heard), "end": self.end, "via_fallback": self.via_fallback,
                "at": self.at.isoformat() if self.at else None, "schedule": self.why or None}  # fmt: skip


def invalid_key(options: dict[str, Route]) -> str | None:
    return next((k for k in _KEY_ORDER if k not in options), None)


def walk_number(collect: Collect) -> str:
    """The digits the walk keys in at a collect menu: 16 (a card's length) within the menu's bounds,
    from a fixed pattern, the last digit changed if need be so that it fails Luhn: no real card."""
    n = min(max(16, collect.min_digits), collect.max_digits)
    digits = ("1234567890" * 4)[:n]
    return digits if not luhn_ok(digits) else digits[:-1] + str((int(digits[-1]) + 1) % 10)


def plan(config: Config, at: datetime | None = None) -> list[WalkPath]:
    """Every path a caller can take from each entry menu, cycles cut (see the module docstring).

    ``at``: only the entry menu of a call starting then (a walk on the real PBX runs now)."""
    out: list[WalkPath] = []
    for start, when, why in _starts(config, at):
        found: list[WalkPath] = []
        _visit(config, start, (), (GREETING,), (start,), found)
        out += [replace(p, at=when, why=why) for p in found]
    return out


def _starts(config: Config, at: datetime | None) -> list[tuple[str, datetime | None, str]]:
    """(entry menu, the moment a call gets it, why): one per menu business hours pick."""
    if config.ivr.schedule is None:
        return [(config.ivr.entry_menu, None, "")]
    if at is not None:
        menu, why = entry_choice(config, at)
        return [(menu, at, why)]
    found = moments(config.schedules[config.ivr.schedule], datetime.now(UTC))
    # config order, not the order of the moments: the table must not reshuffle with the time of day
    return [(menu, *found[menu]) for menu in config.menus if menu in found]


def moments_text(paths: list[WalkPath]) -> list[str]:
    """One line per entry menu business hours pick: the moment its calls start, and why."""
    seen = dict.fromkeys((p.keys[0].menu, p.at, p.why) for p in paths if p.at is not None and p.keys)
    return [f"from menu {menu}: calls at {at.isoformat(timespec='minutes')} ({why})" for menu, at, why in seen
            if at is not None]  # fmt: skip


class ClockAt(Clock):
    """The service's call clock moved to ``at``: business hours choose the entry menu by it."""

    def __init__(self, scale: float, at: datetime) -> None:
        super().__init__(scale)
        self._shift = at - super().now()

    def now(self) -> datetime:
        return super().now() + self._shift


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
    number = walk_number(menu.collect) if menu.collect is not None else ""
    moves: list[tuple[Key, Route, Kind]] = []
    if menu.collect is not None:
        moves.append((Key(menu_id, None, number), menu.collect.next, "number"))
    moves += [(Key(menu_id, digit), route, "option") for digit, route in menu.options.items()]
    for key, route, kind in moves:
        k = (*keys, key)
        if route.action == "submenu" and route.target not in stack and len(k) < limit:
            _visit(config, str(route.target), k, heard_here, (*stack, str(route.target)), out)
        else:
            out.append(_end(config, route, k, heard_here, stack, kind, False, menu_id))
    # No input: the prompt, then "timeout" + the prompt again per retry, then the fallback.
    tries = menu.retries + 1
    if len(keys) + tries <= limit:
        waits = tuple(Key(menu_id, None) for _ in range(tries))
        h = heard_here + ("timeout", prompt) * menu.retries
        out.append(_end(config, menu.fallback, (*keys, *waits), h, stack, "no-input", True, menu_id))
        # A collect menu: too few digits (none when one is enough: any key is a number then).
        short = number[: menu.collect.min_digits - 1] if menu.collect is not None else ""
        bad = invalid_key(menu.options) if menu.collect is None else None
        if bad is not None or short:
            presses = tuple(Key(menu_id, bad, short) for _ in range(tries))
            h = heard_here + ("invalid", prompt) * menu.retries
            out.append(_end(config, menu.fallback, (*keys, *presses), h, stack, "invalid", True, menu_id))


# ---------------------------------------------------------------- placing the calls

SLACK_S = 3.0  # call seconds a caller stays past the expected end before hanging up anyway


@dataclass(frozen=True)
class WalkResult:
    """One path walked: what the caller heard and where the service sent the call."""

    path: WalkPath
    heard: tuple[str, ...]
    route: str | None  # the service's route ("queue support", "hangup"); None if the caller left in the menus
    steps: str  # the service's menu path, "main:1 > orders:*"
    problem: str  # "" when the call went as the plan says

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def ended(self) -> str:
        return self.route or (f"caller hung up at {self.heard[-1]}" if self.heard else "caller hung up")

    def as_dict(self) -> dict[str, object]:
        return {**self.path.as_dict(), "expected_heard": list(self.path.heard), "heard": list(self.heard),
                "route": self.route, "ended": self.ended, "steps": self.steps, "ok": self.ok,
                "problem": self.problem}  # fmt: skip


def expected_route(path: WalkPath) -> str | None:
    if path.cut or path.route is None:
        return None
    return f"{path.route.action} {path.route.target}" if path.route.target else path.route.action


def script_for(path: WalkPath, config: Config, seconds: dict[str, float], name: str, *,
               transfer_stay: float | None = None) -> Any:  # fmt: skip
    """The scripted caller for one path: keys timed against the rendered prompts' lengths.

    A key is pressed 60% of the way into its menu prompt (GET DATA takes it there), so the
    few milliseconds each command costs, which add up along a path, never push a press
    in front of the prompt it answers. ``transfer_stay``: hang up this long into the transfer
    prompt (a real PBX: before anyone is rung), instead of after the agent answers."""
    t = 0.0
    presses: list[Press] = []
    keys = list(path.keys)
    hang: float | None = None
    for prompt in path.heard:
        d = seconds.get(prompt, 0.0)
        if prompt.startswith("menu-") and keys:
            key = keys.pop(0)
            if key.number:  # keyed in at a steady pace, '#' ending a number shorter than the menu reads
                collect = config.menus[key.menu].collect
                tail = "#" if collect is not None and len(key.number) < collect.max_digits else ""
                at = t + max(0.3, d * 0.6)
                presses += [Press(round(at + 0.3 * i, 3), ch) for i, ch in enumerate(key.number + tail)]
                t = at + 0.3 * (len(key.number + tail) - 1) + 0.2
            elif key.digit is not None:
                at = t + max(0.3, d * 0.6)
                presses.append(Press(round(at, 3), key.digit))
                t = at + 0.2  # GET DATA returns on the DTMF end
            else:
                t += d + config.menus[key.menu].timeout
        elif prompt.startswith("menu-"):
            hang = t + max(0.3, d * 0.5)  # back at a menu already walked: the path ends here
            break
        elif prompt == "transfer":
            # the agent answers after 1 s; the caller leaves soon after
            hang = t + (d + 1.0 + SLACK_S if transfer_stay is None else transfer_stay)
            break
        elif prompt == "goodbye":
            hang = t + d + SLACK_S  # the service should hang up first
            break
        else:
            t += d
    return CallScript(name, caller_num="5550100" + name.split("-")[-1].zfill(3), presses=tuple(presses),
                      hangs_up_at=round(hang, 3) if hang is not None else None,
                      agent=Agent(answer_after=1.0))  # fmt: skip


def check(path: WalkPath, heard: tuple[str, ...], route: str | None) -> str:
    want = expected_route(path)
    if heard[: len(path.heard)] != path.heard:
        return f"heard {' '.join(heard) or 'nothing'}; expected {' '.join(path.heard)}"
    if path.cut and len(heard) != len(path.heard):
        return f"heard more than expected: {' '.join(heard[len(path.heard):])}"
    if route != want:
        return f"ended at {route or 'no route'}; expected {want or 'the caller hanging up in the menus'}"
    return ""


async def walk_simulated(config_path: Path, paths: list[WalkPath], *, workdir: Path, speed: float = 4.0,
                         parallel: int = 12) -> list[WalkResult]:  # fmt: skip
    """Place one call per path on the built-in Asterisk simulator, answered by the real IVR service.

    The demo's copy of the config drops ivr.schedule (its scripts press the daytime menus'
    keys): the walk puts it back, and runs each moment's paths in turn."""
    schedule = load_config(config_path).ivr.schedule

    def keep_schedule(data: Any) -> None:
        if schedule is not None:
            data.setdefault("ivr", {})["schedule"] = schedule

    async with demo_env(workdir, base_config=config_path, speed=speed, edit=keep_schedule) as env:
        seconds = prompt_seconds(env.config)
        gate = asyncio.Semaphore(parallel)

        async def one(i: int, path: WalkPath) -> WalkResult:
            script = script_for(path, env.config, seconds, f"walk-{i + 1}")
            async with gate:
                call = await env.call(script, timeout=600)
            summary = next((s for s in env.service.finished if s.uniqueid == call.uniqueid), None)
            heard = tuple(n.rsplit("/", 1)[-1] for _t, n in call.heard)
            route = summary.route if summary is not None else None
            steps = summary.path if summary is not None else ""
            return WalkResult(path, heard, route, steps, check(path, heard, route))

        results: list[WalkResult] = []
        for when in dict.fromkeys(p.at for p in paths):
            if when is not None:
                env.service.clock = ClockAt(speed, when)
            results += await asyncio.gather(*(one(i, p) for i, p in enumerate(paths) if p.at == when))
        return results


def walk(config: Config, *, speed: float = 4.0, workdir: Path | None = None) -> list[WalkResult]:
    """Plan the paths of ``config`` and walk each through the simulator (a work folder of its own)."""
    if config.source is None:
        raise ValueError("walk needs a config loaded from a file")
    paths = plan(config)
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="hotline-walk-") as tmp:
            return asyncio.run(walk_simulated(config.source, paths, workdir=Path(tmp), speed=speed))
    return asyncio.run(walk_simulated(config.source, paths, workdir=workdir, speed=speed))
