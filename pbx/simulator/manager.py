"""What every simulated AMI session shares with its actions (manager.c): event categories, masks, replies.

A response carries ``ActionID`` as its second line when the action had one; ``error`` and
``ack`` are astman_send_error / astman_send_ack (``Response: Error|Success`` + ``Message``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pbx.simulator.session import AmiSession

Fields = list[tuple[str, str]]

CATEGORIES = ("system", "call", "log", "verbose", "command", "agent", "user", "config", "dtmf", "reporting",
              "cdr", "dialplan", "originate", "agi", "cc", "aoc", "test", "security", "message")  # fmt: skip


def event_mask(value: str) -> set[str] | None:
    """An ``Events:``/``EventMask:`` value as a set of categories; None if it names an unknown one."""
    v = value.strip().lower()
    if v in ("on", "yes", "true", "all", "1"):
        return set(CATEGORIES)
    if v in ("off", "no", "false", "0", ""):
        return set()
    cats = {c.strip() for c in v.split(",")}
    return cats if cats <= set(CATEGORIES) else None


def response(status: str, action_id: str, *fields: tuple[str, str]) -> Fields:
    out: Fields = [("Response", status)]
    if action_id:
        out.append(("ActionID", action_id))
    out.extend(fields)
    return out


def error(session: AmiSession, action_id: str, message: str) -> None:
    session.send(response("Error", action_id, ("Message", message)))


def ack(session: AmiSession, action_id: str, message: str) -> None:
    session.send(response("Success", action_id, ("Message", message)))
