"""Callback requests: calls whose caller, outside business hours, pressed the key that asks to be
called back (POLICY.md §6: within 24 hours).

There is no action of its own for that key: in config.yaml the after-hours menu's 1 is a
``hangup`` (with a category), and the call row keeps the caller's number. So a callback request
is a call whose caller *chose* (not fell back to) a ``hangup`` key in a menu that business hours
send callers to when closed (``schedules.*.entry.closed`` / ``holiday``), unless that menu is also
a daytime one. The keys are read from the config as it is now: a key renumbered since is
looked up under its new number, as `calls list` shows paths with the digits as pressed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

import db
from ivr.tables import Call, MenuStep
from recordings.redact import mask_number
from settings import Config


def callback_keys(config: Config) -> list[tuple[str, str]]:
    """(menu, digit) of each key that files a callback request: a hangup key in an after-hours menu."""
    daytime = {s.entry.open for s in config.schedules.values()}
    closed = [m for s in config.schedules.values() for m in (s.entry.closed, s.entry.holiday) if m]
    menus = [m for m in dict.fromkeys(closed) if m not in daytime and m in config.menus]
    return [(m, d) for m in menus for d, r in config.menus[m].options.items() if r.action == "hangup"]


def list_callbacks(url: str, config: Config, since: datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Newest first, the caller's number masked (last 4 digits, as in `calls list`): whoever calls
    back finds the full number with `calls show ID --unmask`, which checks the role and records it."""
    keys = callback_keys(config)
    if not keys:
        return []
    chosen = or_(*(and_(MenuStep.menu == m, MenuStep.digit == d) for m, d in keys))
    stmt = (select(Call, MenuStep.menu, MenuStep.digit, MenuStep.at).join(MenuStep, MenuStep.call_id == Call.id)
            .where(MenuStep.outcome == "chosen", MenuStep.action == "hangup", chosen)
            .order_by(Call.started_at.desc(), Call.id.desc()).limit(limit))  # fmt: skip
    if since is not None:
        stmt = stmt.where(Call.started_at >= since)
    with db.transaction(url) as s:
        return [{"id": c.id, "started_at": c.started_at, "asked_at": at, "caller": mask_number(c.caller_num),
                 "did": c.did, "key": f"{menu}:{digit}", "path": c.menu_path, "category": c.category,
                 "status": c.status} for c, menu, digit, at in s.execute(stmt)]  # fmt: skip
