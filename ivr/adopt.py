"""Taking over calls nobody drives: after a restart, a takeover from another ``serve``, or a gap.

Whether a channel waits in Async AGI is asked of Asterisk itself with an AGI NOOP
(ivr/probe.py), not read from CoreShowChannel's ``Application`` (the last application
run, ``MixMonitor`` for a call whose AGI ran ``EXEC MixMonitor``: see the after-kill trace).

What an adopted call gets depends on where its row says it was (``plan_for``):

* ``fresh``: no row or never answered, and Asterisk ran nothing but AGI: the normal
  flow from the greeting (nobody has heard anything yet).
* ``menu``: greeted or in the menus: no second greeting; the short ``retry`` prompt
  ("抱歉，请您重新选择") and the menu of the last step (the entry menu if none).
* ``transfer``: the route was a queue or extension (row, or Application Queue/Dial, or a
  bridge): wait for the caller to come back into Async AGI; if an agent answered,
  goodbye + HANGUP, else the retry prompt and the menu again.
* ``goodbye``: the route was hang up: goodbye + HANGUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select

import db
from ivr.calltrack import interface_of
from ivr.probe import Probe
from ivr.probe import probe as probe  # reconcile and the tests call it from here
from ivr.session import CallSession
from ivr.tables import Call, CallEvent, MenuStep
from pbx import agi
from pbx.protocol import Message

log = logging.getLogger("ivr.adopt")

Plan = Literal["fresh", "menu", "transfer", "goodbye"]


@dataclass(frozen=True)
class RowState:
    """What the call row says about where the call was (read once, at adoption)."""

    answered_at: datetime | None
    route_action: str | None
    route_target: str | None
    category: str | None
    agent: str | None
    ring_s: float | None
    queue_wait_s: float | None
    dial_status: str | None
    agent_answered_at: datetime | None
    menu_path: str | None
    last_menu: str | None  # the menu the caller was in when the row was last written
    steps: int
    greeted: bool
    started_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def call_states(url: str, uniqueids: list[str]) -> dict[str, RowState]:
    """Row states of these calls (any status: a transfer back in finds an ended row)."""
    if not uniqueids:
        return {}
    c = Call.__table__.c
    out: dict[str, RowState] = {}
    with db.transaction(url) as s:
        rows = s.execute(select(c.id, c.uniqueid, c.answered_at, c.route_action, c.route_target, c.category, c.agent,
                                c.ring_s, c.queue_wait_s, c.dial_status, c.agent_answered_at, c.menu_path,
                                c.started_at).where(c.uniqueid.in_(uniqueids))).all()
        for r in rows:
            steps = s.execute(select(MenuStep.menu, MenuStep.digit, MenuStep.outcome, MenuStep.action,
                                     MenuStep.target).where(MenuStep.call_id == r.id).order_by(MenuStep.seq)).all()
            # the menu the caller was in: a submenu step's target, else the step's own menu
            step = steps[-1] if steps else None
            last = (step.target if step.action == "submenu" else step.menu) if step is not None else None
            # the path as the session writes it (menu_path is stored only at the route and the close)
            path = " > ".join(f"{st.menu}:{_label(st.digit, st.outcome)}" for st in steps)
            greeted = s.scalar(select(func.count()).select_from(CallEvent)
                               .where(CallEvent.call_id == r.id, CallEvent.kind == "greeting")) or 0
            out[r.uniqueid] = RowState(r.answered_at, r.route_action, r.route_target, r.category, r.agent, r.ring_s,
                                       r.queue_wait_s, r.dial_status, r.agent_answered_at, r.menu_path or path, last,
                                       len(steps), bool(greeted), r.started_at)
    return out


def _label(digit: str | None, outcome: str) -> str:
    """A step in menu_path, as CallSession._step writes it (``1``, ``-(timeout)``, ``9(fallback)``)."""
    label = digit if digit is not None else "-"
    if outcome in ("timeout", "invalid", "limit", "fallback"):
        label += f"({outcome})"
    return label


def plan_for(item: Message, row: RowState | None) -> Plan:
    """Where to pick an adopted call up (module docstring)."""
    app = (item.get("Application") or "").strip()
    if row is not None and row.route_action in ("queue", "extension"):
        return "transfer"
    if app in ("Queue", "Dial") or (item.get("BridgeId") or item.get("BridgeID") or "").strip():
        return "transfer"  # the route was taken but its row update did not land before the stop
    if row is not None and row.route_action == "hangup":
        return "goodbye"
    if (row is None or (row.answered_at is None and not row.greeted and not row.steps)) and app in ("AGI", ""):
        return "fresh"
    return "menu"


class AdoptedSession(CallSession):
    """A call taken over from a driver that is gone: resumed where its row says it was."""

    def __init__(self, *args: Any, plan: Plan, row: RowState | None, probe_: Probe, **kw: Any) -> None:
        super().__init__(*args, adopted=True, **kw)
        self.plan = plan
        self.row = row
        self.probe = probe_
        if row is not None:  # close_call writes every field: start from what the row holds
            f = self.facts
            f.answered_at = row.answered_at
            f.route_action, f.route_target, f.category = row.route_action, row.route_target, row.category
            f.agent, f.ring_s, f.queue_wait_s = row.agent, row.ring_s, row.queue_wait_s
            f.dial_status, f.agent_answered_at = row.dial_status, row.agent_answered_at
            f.path = [p for p in (row.menu_path or "").split(" > ") if p]
            self._steps = row.steps
            if row.started_at is not None:
                self.started_at = row.started_at

    def _resume_menu(self) -> str:
        menu = self.row.last_menu if self.row is not None else None
        return menu if menu in self.config.menus else self.config.ivr.entry_menu

    async def _flow(self) -> None:
        self._event("adopted", plan=self.plan, probe=self.probe.state, menu=self._resume_menu())
        log.info("adopting %s on %s: %s (probe %s)", self.uniqueid, self.channel, self.plan, self.probe.state)
        await self._back_in_agi()
        if self.caller_left:
            return
        if self.plan == "fresh":
            self.adopted = False  # only AGI ever ran: nothing to keep, nothing heard
            await CallSession._flow(self)
            return
        if self.row is None or self.row.answered_at is None:
            await self._cmd(agi.answer())  # harmless on an answered channel
        await self._start_recording()  # only if MIXMONITOR_FILENAME says nothing records
        if self.caller_left:
            return
        if self.plan == "goodbye":
            await self._goodbye()
            return
        if self.plan == "transfer" and await self._agent_answered():
            self.facts.dial_status = "ANSWER"
            if self.facts.talk_s is None:  # the bridge ended while no service listened: its VarSet went by
                talked = (await self._cmd(agi.get_variable("ANSWEREDTIME_MS"))).data
                self.facts.talk_s = int(talked) / 1000 if talked and talked.isdigit() and int(talked) else None
            if self.facts.agent is None:  # the old driver held it in memory only (written at the close)
                peer = (await self._cmd(agi.get_variable("DIALEDPEERNAME"))).data
                self.facts.agent = interface_of(peer) if peer else None
            if self.facts.hangup_by is None:
                self.facts.hangup_by = "agent"  # back in AGI with the caller still here
            await self._goodbye()
            return
        self.facts.route_action = self.facts.route_target = None  # back to the menus: no route yet
        self.digits.clear()  # keys so far went to the previous driver's command
        await self._play("retry")
        if self.caller_left:
            return
        menu = self._resume_menu()
        # Resume at that menu: a per-call copy of the config (this call's snapshot only).
        self.config = self.config.model_copy(update={"ivr": self.config.ivr.model_copy(update={"entry_menu": menu})})
        await self._menus()

    async def _back_in_agi(self) -> None:
        """Until the probe's NOOP has run (the caller is ours now) or the caller hangs up."""
        task = self.probe.pending
        if task is None:
            return
        hung = asyncio.ensure_future(self.hung_up.wait())
        try:
            await asyncio.wait({task, hung}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            hung.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hung
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]  # ChannelGone: the caller left Async AGI
        if not task.done():
            task.cancel()
            self.caller_left = True

    async def _agent_answered(self) -> bool:
        """Dial sets DIALSTATUS=ANSWER; Queue sets ANSWEREDTIME (both clear them when they start)."""
        if self._agent_uid is not None:
            return True
        if (await self._cmd(agi.get_variable("DIALSTATUS"))).data == "ANSWER":
            return True
        return bool((await self._cmd(agi.get_variable("ANSWEREDTIME"))).data)
