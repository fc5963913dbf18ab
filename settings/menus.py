"""The call flow: ``menus:`` with their routes and collect menus, ``queues:``, ``extensions:`` and
``ivr:``. The route rules here are menu lint's too (menus/lint.py), which checks the raw tree.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from settings.base import Strict

DIGITS = set("0123456789*#")

Action = Literal["submenu", "queue", "extension", "repeat", "hangup"]
ACTIONS: tuple[str, ...] = get_args(Action)
TARGET_KIND = {"submenu": "menu", "queue": "queue", "extension": "extension"}  # what each action's target names
TARGET_ACTIONS = tuple(TARGET_KIND)  # the actions that need a target; the others take none
TIMEOUT_RANGE = (1, 30)  # seconds a menu waits for a key
RETRIES_RANGE = (0, 5)


def route_shape_problem(action: object, target: object) -> str | None:
    """Why an action/target pair is not a route (names are checked against the config elsewhere)."""
    if action not in ACTIONS:
        return f"unknown action '{action}' (one of: {', '.join(ACTIONS)})"
    if action in TARGET_ACTIONS and not target:
        return f"action '{action}' needs a target"
    if action not in TARGET_ACTIONS and target:
        return f"action '{action}' takes no target (got '{target}')"
    return None


def route_target_problem(action: object, target: object, *, menus: Collection[str], queues: Collection[str],
                         extensions: Collection[str]) -> str | None:  # fmt: skip
    """Why a route's target is not among the configured menus/queues/extensions, or None.

    The one rule for the schema (on the validated model) and menu lint (on the raw tree)."""
    kind = TARGET_KIND.get(str(action))
    if kind is None:
        return None
    names = {"menu": menus, "queue": queues, "extension": extensions}[kind]
    if str(target) not in names:
        return f"unknown {kind} '{target}' (configured {kind}s: {', '.join(sorted(names)) or 'none'})"
    return None


class Route(Strict):
    action: Action
    target: str | None = None
    category: str | None = None  # feedback category (POLICY.md §6) this route files calls under

    @model_validator(mode="after")
    def _target_matches_action(self) -> Route:
        problem = route_shape_problem(self.action, self.target)
        if problem:
            raise ValueError(problem)
        return self


ROUTE_FIELDS = tuple(Route.model_fields)
DIGITS_RANGE = (1, 32)  # how many digits a collect menu may read (a card number has up to 19)


class Collect(Strict):
    """A menu that reads a number (an account or card number) instead of one key, with the call's
    recording paused while it is keyed in (ivr/collect.py). The menu's prompt asks for it, its
    timeout is the wait for each digit, '#' ends a shorter entry; too few digits count as a try.
    The call keeps only ``name``, how many digits came and whether they pass Luhn: never the digits."""

    name: Annotated[str, Field(pattern=r"^\w{1,32}$")]
    min_digits: Annotated[int, Field(ge=DIGITS_RANGE[0], le=DIGITS_RANGE[1])] = 1
    max_digits: Annotated[int, Field(ge=DIGITS_RANGE[0], le=DIGITS_RANGE[1])] = 19
    next: Route  # where the caller goes once the number is in

    @model_validator(mode="after")
    def _sane(self) -> Collect:
        if self.min_digits > self.max_digits:
            raise ValueError(f"min_digits {self.min_digits} is above max_digits {self.max_digits}")
        if self.next.action == "repeat":
            raise ValueError("next: 'repeat' would ask for the number again; send the caller on")
        return self


class Menu(Strict):
    prompt: str
    prompt_file: Path | None = None  # an admin's recording wins over the synthesized prompt
    timeout: Annotated[float, Field(ge=TIMEOUT_RANGE[0], le=TIMEOUT_RANGE[1])] = 5.0
    retries: Annotated[int, Field(ge=RETRIES_RANGE[0], le=RETRIES_RANGE[1])] = 2
    fallback: Route = Route(action="hangup")
    options: dict[str, Route] = {}
    collect: Collect | None = None  # read a number instead of one key (then no options)

    @model_validator(mode="after")
    def _collect_or_options(self) -> Menu:
        if self.collect is not None and self.options:
            raise ValueError("a collect menu reads a number, not keys: remove its options")
        return self

    @field_validator("options", mode="before")
    @classmethod
    def _digits_are_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, route in value.items():
                digit = str(key)
                if digit not in DIGITS:
                    raise ValueError(f"'{digit}' is not a DTMF key (0-9, *, #)")
                if digit in out:
                    raise ValueError(f"digit '{digit}' appears twice")
                out[digit] = route
            return out
        return value


class Queue(Strict):
    name: str  # the Asterisk queue name (queues.conf)
    category: str | None = None


class Extension(Strict):
    dial: str  # Dial() argument, e.g. SIP/agent1001 or PJSIP/1001
    timeout: Annotated[int, Field(ge=1, le=300)] = 20


class IvrSettings(Strict):
    entry_menu: str = "main"
    schedule: str | None = None  # a `schedules` entry that picks the entry menu by the clock; none: entry_menu always
    max_steps: Annotated[int, Field(ge=1, le=100)] = 20  # hard stop so no caller loops forever
    # One driving `serve` per Asterisk (ivr/lease.py): renew every lease_interval s; a standby
    # takes over after lease_ttl s without a renew.
    lease_interval: Annotated[float, Field(gt=0, le=10)] = 1.0
    lease_ttl: Annotated[float, Field(gt=0, le=60)] = 5.0

