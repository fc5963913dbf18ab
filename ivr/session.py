"""One call, from AsyncAGIStart to Hangup: the flow that drives it.

A :class:`CallSession` has two sides that share its state:

* ``run()``, a task: ANSWER; ``EXEC MixMonitor`` with separate tracks; the opening line
  (``STREAM FILE <prefix>/greeting ""``, never interruptible, always first); the menus
  (``GET DATA <prefix>/menu-<id> <ms> 1``) with timeout/invalid prompts, retries and the
  menu's fallback; then the route: submenu, repeat, queue (``EXEC Queue``), extension
  (``EXEC Dial``) or hang up (goodbye + ``HANGUP``).
* ``on_event()`` (inherited from :class:`~ivr.calltrack.CallTracker`), called by the
  service in stream order for every event of this call. It keeps the type-ahead buffer
  from ``DTMFEnd``, and derives from Dial/Queue/MOH/Hangup events who hung up first, the
  agent, ring time, queue wait, hold and talk time (README of the traces).

Decisions the real traces forced, and choices made here:

* GET DATA returns the digit itself; ``result= (timeout)`` is no input. A digit pressed
  while no digit-reading command runs (during the greeting, a prompt or between
  commands) is dropped by Asterisk but its DTMFEnd reaches us: it goes to the
  type-ahead buffer and answers the next menu without playing its prompt.
* ``STREAM FILE`` gives ``result=-1`` both for a hangup and for a prompt file Asterisk
  cannot play. A real hangup always shows a HangupRequest first, so -1 without one
  is logged as a prompt problem and the call goes on.
* After ``EXEC Dial``, ``DIALSTATUS`` decides (Dial's own result is 0 on NOANSWER).
  ANSWER and the caller still here means the agent hung up first: goodbye + HANGUP.
  NOANSWER / BUSY / CHANUNAVAIL / CONGESTION: the menu's fallback if it is a queue or a
  different extension (one such hop per call), else goodbye + HANGUP.
* After ``EXEC Queue`` with the caller still here (agent hung up first, or the queue
  gave up: ``QUEUESTATUS``): goodbye + HANGUP.
* ``ivr.max_steps`` menu steps at most; then the menu's fallback if it ends the menu
  (queue, extension, hangup), else goodbye + HANGUP.
* AMI link lost while a command waits (ivr/linkloss.py): the service reconnects and lists
  the channels (CoreShowChannels), then an AGI NOOP asks Asterisk whether the channel is
  gone or waits in Async AGI (ivr/probe.py; CoreShowChannel's Application still names an
  app that returned during the gap). Gone: the call is closed as ``lost`` (an ``EXEC
  MixMonitor`` cut that way may have run: its files are registered and checked). A command still
  running (``EXEC Dial/Queue``, a GET DATA) is awaited: its result comes on the new link,
  then the NOOP's. One that ended during the gap: a prompt or GET DATA is sent again
  (the caller may hear it twice); ``EXEC Dial/Queue`` is taken as done if its status
  variable is set (DIALSTATUS, QUEUESTATUS/QUEUEWAIT), else sent again; ``EXEC
  MixMonitor`` is sent again only if ``MIXMONITOR_FILENAME`` is not set. Up but out of
  Async AGI: closed as ``lost``.
* A crash in our code: one log line naming the channel, the error on the call row, a
  clean goodbye + HANGUP attempt; other calls never notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from ivr.callstore import CallStore
from ivr.calltrack import CallFacts, CallInfo, Clock
from ivr.collect import read_number
from ivr.linkloss import CallLost, Link, LinkAware
from ivr.tables import PROMPT_END, PROMPT_START, TRANSFER_END, TRANSFER_START
from menus.prompts import menu_prompt_name, playback_name, prompt_texts
from menus.schedule import entry_choice
from pbx import agi
from pbx.agi import AgiResult, AsyncAgi, ChannelGone
from recordings import store as rec_store
from settings import Config, Route

log = logging.getLogger("ivr.session")

FAILED_DIAL = {"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"}
HANGUP_WAIT_S = 5.0  # how long to wait for the caller's Hangup (it carries the cause) after AsyncAGIEnd


class CallSession(LinkAware):
    """Drives one caller channel through the IVR; isolated from every other call."""

    def __init__(
        self,
        info: CallInfo,
        config: Config,
        agi_: AsyncAgi,
        store: CallStore,
        link: Link,
        *,
        menu_version: int | None = None,
        gaps: list[float] | None = None,
        adopted: bool = False,
        clock: Clock | None = None,
        rx_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(info, store, clock=clock, rx_clock=rx_clock)
        self.config = config  # the snapshot this call started with: reloads do not touch it
        self.agi = agi_
        self.link = link
        self.menu_version = menu_version
        self.adopted = adopted
        self.heard: list[str] = []  # prompt names played, in order (the tests read it)
        self._gaps = gaps  # app time per AGI command (bench): last result/event -> next send
        self._steps = 0
        self._sent_hangup = False
        self._texts = prompt_texts(config)  # what each prompt says: the timeline keeps it (QA, ASR)

    # ===== the flow (a task) ======================================================

    async def run(self) -> CallFacts:
        """Drive the call; never raises (except cancellation). Returns what happened."""
        info = self.info
        self.store.open_call(
            info.uniqueid, at=self.started_at, linkedid=info.linkedid, channel=info.channel,
            caller_num=info.caller_num, caller_name=info.caller_name, did=info.did,
            menu_version=self.menu_version,
        )  # fmt: skip
        try:
            await self._flow()
        except (ChannelGone, agi.AgiError) as exc:
            if not self.caller_left and not self.agi_ended.is_set() and not isinstance(exc, ChannelGone):
                await self._crashed(exc)
        except CallLost:
            self.facts.status = "lost"
        except asyncio.CancelledError:
            # The service is stopping: the row stays active and the channel stays in
            # Async AGI, so the next start adopts the call (or closes it as lost).
            raise
        except Exception as exc:  # our bug: this call only
            await self._crashed(exc)
        await self._await_hangup()
        self._close()
        return self.facts

    async def _crashed(self, exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}"
        self.facts.error = text[:500]
        log.error("call %s on %s failed: %s", self.uniqueid, self.channel, text)
        log.debug("traceback", exc_info=exc)
        self.store.update_call(self.uniqueid, error=self.facts.error)
        if self.caller_left or self.agi_ended.is_set() or self._sent_hangup:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._goodbye(), 15.0)

    async def _await_hangup(self) -> None:
        if self.facts.status == "lost" or self.hung_up.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.hung_up.wait(), HANGUP_WAIT_S)

    def _close(self) -> None:
        f = self.facts
        if f.hangup_by is None and f.status != "lost":
            f.hangup_by = "system" if self._sent_hangup else ("caller" if self.caller_left else None)
        self._end_talk()
        self.store.close_call(
            self.uniqueid, status=f.status, ended_at=self._now(), hangup_cause=f.hangup_cause,
            hangup_cause_txt=f.hangup_cause_txt, hangup_by=f.hangup_by, route_action=f.route_action,
            route_target=f.route_target, category=f.category, agent=f.agent, ring_s=f.ring_s,
            queue_wait_s=f.queue_wait_s, talk_s=f.talk_s, menu_path=self.menu_path[:255],
            dial_status=f.dial_status, agent_answered_at=f.agent_answered_at, error=f.error,
        )  # fmt: skip

    @property
    def menu_path(self) -> str:
        return " > ".join(self.facts.path)

    @property
    def duration_s(self) -> float:
        return self.clock() - self.started

    async def _flow(self) -> None:
        if self.adopted:  # found in Async AGI with no session driving it: start it over
            self._event("adopted")
        await self._cmd(agi.answer())
        self.facts.answered_at = self._now()
        self.store.update_call(self.uniqueid, answered_at=self.facts.answered_at)
        await self._start_recording()
        # The mandated opening line, before anything else and never cut short by a key.
        res = await self._play("greeting")
        self._event("greeting", complete=not res.hungup, endpos=res.endpos)
        if self.caller_left:
            return
        entry = entry_choice(self.config, self.started_at, self.info.did)  # business hours, by the call's clock
        if entry.reason:
            self._event("schedule", menu=entry.menu, reason=entry.reason)
            ivr = self.config.ivr.model_copy(update={"entry_menu": entry.menu})  # this call's snapshot only
            self.config = self.config.model_copy(update={"ivr": ivr})
        await self._menus()

    async def _start_recording(self) -> None:
        if self.adopted and (await self._cmd(agi.get_variable("MIXMONITOR_FILENAME"))).data:
            return  # MixMonitor outlives the process that started it: still recording
        try:
            files = rec_store.tracks(self.config, self.uniqueid)
            args = rec_store.mixmonitor_args(files)
        except ValueError as exc:
            self._event("recording_failed", error=str(exc))
            log.error("call %s on %s: not recorded: %s", self.uniqueid, self.channel, exc)
            return
        try:
            res = await self._cmd(agi.exec_("MixMonitor", args))
        except (CallLost, ChannelGone):
            if self.unsettled is not None:  # it may have run before the channel went: the close checks the files
                self.store.add_recordings(self.uniqueid, files, at=self._now())
            raise
        if res.ok and not res.hungup:
            self.store.add_recordings(self.uniqueid, files, at=self._now())
        else:
            self._event("recording_failed", result=res.raw.strip())

    # ----- menus ------------------------------------------------------------------

    async def _menus(self) -> None:
        cfg = self.config
        menu_id = cfg.ivr.entry_menu
        tries = 0
        hops = 0  # fallbacks taken after a failed transfer
        while not self.caller_left:
            menu = cfg.menus[menu_id]
            if self._steps >= cfg.ivr.max_steps:
                route = menu.fallback if menu.fallback.action in ("queue", "extension", "hangup") else None
                self._step(menu_id, None, "limit", route, typeahead=False)
                await self._route(route or Route(action="hangup"), menu_id, hops)
                return
            if menu.collect is not None:  # a number keyed in with the recording paused (ivr/collect.py)
                route = await read_number(self, menu_id, menu)
                if route is None:
                    return
                if route.action == "submenu":
                    menu_id, tries = route.target or menu_id, 0
                    continue
                await self._route(route, menu_id, hops)
                return
            digit, typeahead = self.digits.take(), True
            if digit is None:
                digit, typeahead = await self._ask(menu_id, menu.timeout), False
            if self.caller_left:
                self._step(menu_id, digit, "hangup", None, typeahead=typeahead)
                return
            route = menu.options.get(digit) if digit is not None else None
            if route is None:
                tries += 1
                outcome = "timeout" if digit is None else "invalid"
                if tries > menu.retries:
                    self._step(menu_id, digit, "fallback", menu.fallback, typeahead=typeahead)
                    route = menu.fallback
                else:
                    self._step(menu_id, digit, outcome, None, typeahead=typeahead)
                    await self._play(outcome)
                    continue
            else:
                self._step(menu_id, digit, "chosen", route, typeahead=typeahead)
            tries = 0
            if route.action == "submenu":
                assert route.target is not None
                menu_id = route.target
            elif route.action == "repeat":
                continue
            else:
                await self._route(route, menu_id, hops)
                return

    async def _ask(self, menu_id: str, timeout_s: float) -> str | None:
        """Play a menu prompt and read one key; None for no input."""
        name = menu_prompt_name(menu_id)
        self.digits.start()
        consumed: str | None = None
        try:
            self._prompt_started(name, "get_data")
            res = await self._cmd(agi.get_data(playback_name(self.config, name), int(timeout_s * 1000), 1))
            self._prompt_ended(name, res)
            self.heard.append(name)
            consumed = res.digit
            if res.hungup and not self.caller_left:
                log.warning("call %s on %s: GET DATA %s gave -1 without a hangup (prompt file missing?)",
                            self.uniqueid, self.channel, name)
        finally:
            self.digits.stop(consumed)
        if consumed is None:
            return self.digits.take()  # a key pressed just before the command started
        return consumed[:1]

    def _step(self, menu_id: str, digit: str | None, outcome: str, route: Route | None, *, typeahead: bool) -> None:
        self._steps += 1
        label = digit if digit is not None else "-"
        if outcome in ("timeout", "invalid", "limit"):
            label += f"({outcome})"
        elif outcome == "fallback":
            label += "(fallback)"
        self.facts.path.append(f"{menu_id}:{label}")
        self.store.add_step(
            self.uniqueid, seq=self._steps, at=self._now(), menu=menu_id, prompt=self.config.menus[menu_id].prompt,
            digit=digit, outcome=outcome, action=route.action if route else None,
            target=route.target if route else None, typeahead=typeahead,
        )  # fmt: skip

    # ----- routes -----------------------------------------------------------------

    async def _route(self, route: Route, menu_id: str, hops: int) -> None:
        f = self.facts
        f.route_action, f.route_target = route.action, route.target
        if route.action == "queue":
            assert route.target is not None
            f.category = route.category or self.config.queues[route.target].category
        else:
            f.category = route.category
        self.store.update_call(self.uniqueid, route_action=route.action, route_target=route.target,
                               category=f.category, menu_path=self.menu_path[:255])
        self._event("route", action=route.action, target=route.target, menu=menu_id)
        self.digits.clear()
        if route.action == "queue":
            await self._queue(route)
        elif route.action == "extension":
            status = await self._dial(route)
            if status in FAILED_DIAL and not self.caller_left:
                fb = self.config.menus[menu_id].fallback
                if hops == 0 and fb.action in ("queue", "extension") and fb != route:
                    self._event("dial_fallback", status=status, action=fb.action, target=fb.target)
                    await self._route(fb, menu_id, hops + 1)
                    return
                await self._goodbye()
        else:
            await self._goodbye()

    async def _queue(self, route: Route) -> None:
        queue = self.config.queues[route.target or ""]
        await self._play("transfer")
        if self.caller_left:
            return
        await self._transfer("Queue", queue.name)
        if self.caller_left:
            return
        if self._agent_uid is None:
            status = (await self._cmd(agi.get_variable("QUEUESTATUS"))).data
            self.facts.dial_status = status or None
            self._event("queue_result", status=status)
        else:
            self.facts.dial_status = "ANSWER"
        await self._goodbye()

    async def _dial(self, route: Route) -> str | None:
        ext = self.config.extensions[route.target or ""]
        await self._play("transfer")
        if self.caller_left:
            return None
        await self._transfer("Dial", f"{ext.dial},{ext.timeout}")
        if self.caller_left:
            return None
        status = (await self._cmd(agi.get_variable("DIALSTATUS"))).data or None
        self.facts.dial_status = status
        self._event("dial_result", status=status, dial=ext.dial)
        if status == "ANSWER" and self.facts.hangup_by is None and not self.caller_left:
            self.facts.hangup_by = "agent"  # Dial returned with the caller still here
        if status not in FAILED_DIAL:
            await self._goodbye()
        return status

    async def _goodbye(self) -> None:
        if not self.caller_left:
            await self._play("goodbye")
        if not self.caller_left:
            self._sent_hangup = True
            if self.facts.hangup_by is None:
                self.facts.hangup_by = "system"
            await self._cmd(agi.hangup())

    async def _play(self, name: str) -> AgiResult:
        self._prompt_started(name, "stream")
        res = await self._cmd(agi.stream_file(playback_name(self.config, name)))
        self._prompt_ended(name, res)
        self.heard.append(name)
        if res.hungup and not self.caller_left:
            log.warning("call %s on %s: prompt %s gave -1 without a hangup (file missing?)",
                        self.uniqueid, self.channel, name)
        return res

    # ----- the timeline of the agent track (ivr/timeline.py) ----------------------------
    # What the caller hears is known here exactly: a prompt from the moment its command is
    # sent until its result comes; ringback or queue music from EXEC Dial/Queue until the
    # agent answers (calltrack's AGENT_ANSWERED); the agent until Dial/Queue returns.

    def _prompt_started(self, name: str, command: str) -> None:
        self._event(PROMPT_START, name=name, text=self._texts.get(name), command=command)

    def _prompt_ended(self, name: str, res: AgiResult) -> None:
        self._event(PROMPT_END, name=name, result=res.result, endpos=res.endpos)

    async def _transfer(self, app: str, args: str) -> AgiResult:
        self._event(TRANSFER_START, app=app, target=args)
        try:
            return await self._cmd(agi.exec_(app, args))
        finally:
            self._event(TRANSFER_END, app=app)
