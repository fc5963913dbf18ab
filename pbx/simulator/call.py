"""One scripted call: its caller channel, clock, scripted caller, prompts and hangup sequences.

Everything a call does runs in one task on the simulator's event loop; timers (DTMF,
the scripted hangup, the agent answering) only emit their first event and wake the
task, which then emits the rest in the order the real traces show. Times are call
seconds counted from the answer (``now()``); waits are divided by the simulator speed.
What the channel runs (dialplan, Async AGI loop) is ``dialplan.py``.

Hangup orders (caller channel), from tests/fixtures/asterisk/README.md:
- caller BYE: [RTP QoS VarSets] HangupRequest > [running command's AGIExecEnd /
  AsyncAGIExec(-1)] > AsyncAGIEnd > AGISTATUS=HANGUP > SoftHangupRequest(16) > Hangup
- AGI HANGUP / AMI Hangup: SoftHangupRequest(32) > AGIExecEnd > AsyncAGIExec > AsyncAGIEnd > ...
- core stop now: Cdr > SoftHangupRequest(4) > AsyncAGIEnd > ... > Hangup(0)
- ASYNCAGI BREAK (or a failed command): AsyncAGIEnd > AGISTATUS > Newexten Hangup() >
  SoftHangupRequest(16) > Hangup(16)
The Cdr has no fixed place in real traces; the simulator rotates it between three
positions seen there (after the first hangup event, before Hangup, after Hangup) by
channel number, so clients cannot come to depend on one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pbx.simulator import dialplan, recorder
from pbx.simulator.channel import UP, Channel, cause_text
from pbx.simulator.media import AGENT_VOICE, CALLER_VOICE
from pbx.simulator.recorder import MixMonitor, Segment
from pbx.simulator.records import RTP_QOS, cdr_event
from pbx.simulator.script import CallScript

if TYPE_CHECKING:
    from pbx.simulator.legs import AgentLeg
    from pbx.simulator.originate import OriginateRequest
    from pbx.simulator.server import AsteriskSimulator

log = logging.getLogger("pbx.simulator")

WAKE_END = frozenset({"end", "redirect"})


class _Waiter:
    def __init__(self, future: asyncio.Future[tuple[str, str]], digits: str | None, wake: frozenset[str]) -> None:
        self.future = future
        self.digits = digits
        self.wake = wake

    def offer(self, kind: str, value: str = "") -> bool:
        if self.future.done():
            return False
        if kind == "digit":
            if self.digits is None or value not in self.digits:
                return False
        elif kind != "timeout" and kind not in self.wake:
            return False
        self.future.set_result((kind, value))
        return True


class SimCall:
    """A call placed by ``AsteriskSimulator.place_call`` (or by an AMI Originate).

    What tests and the demo read:
    - ``channel`` / ``uniqueid``: the caller channel (``SIP/caller-0000000N``, ``<epoch>.<N>``);
    - ``done``: a future, resolved once the caller's ``Hangup`` is sent (recordings complete);
    - ``heard``: ``(call time, prompt name)`` for every prompt played to the caller;
    - ``commands``: every AGI command received for the channel, in order;
    - ``hangup_by``: ``caller`` (scripted hangup), ``agent`` (the agent's hangup ended the
      call), ``asterisk`` (AGI HANGUP, AMI Hangup, end of dialplan), ``shutdown``, ``killed``;
    - ``agent_channel``, ``agent_hung_up_first``, ``recordings`` (paths of WAVs written).
    """

    def __init__(
        self, sim: AsteriskSimulator, script: CallScript, *, peer: str = "SIP/caller",
        origin: OriginateRequest | None = None,
    ) -> None:  # fmt: skip
        self.sim = sim
        self.script = script
        self.origin = origin
        self.loop = asyncio.get_running_loop()
        self.chan: Channel = sim.new_channel(
            peer, script.caller_num, script.caller_name, context="hotline", exten=script.exten,
            dnid="" if origin else script.exten,
        )
        self.chan.call = self
        self.seq = sim.channel_seq(self.chan)
        self.channel = self.chan.name
        self.uniqueid = self.chan.uniqueid
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.heard: list[tuple[float, str]] = []
        self.commands: list[str] = []
        self.hangup_by: str | None = None
        self.agent_channel: str | None = None
        self.agent_hung_up_first = False
        self.recordings: list[Path] = []
        self.t0 = self.loop.time()
        self.start_wall = time.time()
        self.answer_wall: float | None = None
        self.rx: list[Segment] = []
        self.tx: list[Segment] = []
        self.monitors: list[MixMonitor] = []
        self.leg: AgentLeg | None = None
        self.ending: str | None = None  # bye | soft | shutdown | timeout
        self.hangup_cause: int | None = None
        self.redirect: tuple[str, str, int] | None = None
        self.was_bridged = False
        self.in_agi = False
        self.after: dict[str, list[Callable[[], None]]] = {"agi_end": [], "agistatus": [], "caller_hangup": []}
        self.cdr_app = ("", "")
        self.cdr_dest: Channel | None = None
        self.cdr_disposition = "ANSWERED"
        self.cdr_end: float | None = None
        self._cdr_sent = False
        self._cdr_slot = ("early", "before_hangup", "after_hangup")[self.seq % 3]
        self._waiter: _Waiter | None = None
        # DTMF that arrived while a command ran without reading the channel (ANSWER, SET
        # VARIABLE, ...): it waits in the channel's frame queue for the next reader.
        self._queued_digits: list[str] = []
        self._timers: list[asyncio.TimerHandle] = []
        self._pending: list[asyncio.Task[None]] = []
        # Synthesize every line now (once per distinct sentence, in worker threads).
        for say in script.says:
            sim.speech.request(say.text, CALLER_VOICE)
        for say in script.agent.says if script.agent else ():
            sim.speech.request(say.text, AGENT_VOICE)
        self.task = asyncio.ensure_future(self._run())

    # -- clock, timers, waiting ------------------------------------------------------------
    def now(self) -> float:
        return (self.loop.time() - self.t0) * self.sim.speed

    def at(self, when: float, fn: Callable[..., None], *args: object) -> asyncio.TimerHandle:
        handle = self.loop.call_at(self.t0 + when / self.sim.speed, fn, *args)
        self._timers.append(handle)
        return handle

    def signal(self, kind: str, value: str = "") -> bool:
        return self._waiter.offer(kind, value) if self._waiter is not None else False

    async def wait(
        self, seconds: float | None, *, digits: str | None = None, wake: frozenset[str] = WAKE_END
    ) -> tuple[str, str]:
        """Wait ``seconds`` of call time (None: no limit) for a wanted digit or a wake-up kind."""
        if "end" in wake and self.ending:
            return ("end", "")
        if "redirect" in wake and self.redirect:
            return ("redirect", "")
        # Reading the channel consumes queued DTMF: a wanted digit returns at once, the
        # others are read and dropped (as ast_waitstream / ast_waitfordigit do).
        while self._queued_digits:
            digit = self._queued_digits.pop(0)
            if digits is not None and digit in digits:
                return ("digit", digit)
        waiter = _Waiter(self.loop.create_future(), digits, wake)
        self._waiter = waiter
        handle = None
        if seconds is not None:
            handle = self.loop.call_later(max(0.0, seconds) / self.sim.speed, waiter.offer, "timeout")
        try:
            return await waiter.future
        finally:
            if handle is not None:
                handle.cancel()
            if self._waiter is waiter:
                self._waiter = None

    def emit(self, fields: list[tuple[str, str]]) -> None:
        self.sim.emit(fields)

    def varset(self, chan: Channel, name: str, value: str) -> None:
        chan.vars[name] = value
        self.emit(chan.event("VarSet", "dialplan,all", ("Variable", name), ("Value", value)))

    # -- the scripted caller -----------------------------------------------------------------
    def _schedule_script(self) -> None:
        for press in self.script.presses:
            self.at(press.at, self._dtmf_begin, press.digit)
        if self.script.hangs_up_at is not None:
            self.at(self.script.hangs_up_at, self.caller_bye)
        if self.script.agent is None:
            for say in self.script.says:
                self.say(self.rx, say.at, say.text, CALLER_VOICE)

    def say(self, track: list[Segment], when: float, text: str, voice: object) -> Segment:
        seg = Segment(start=when, pending=self.sim.speech.request(text, voice))  # type: ignore[arg-type]
        track.append(seg)
        return seg

    def _dtmf_begin(self, digit: str) -> None:
        if not self.chan.alive or self.ending:
            return
        self.emit(self.chan.event("DTMFBegin", "dtmf,all", ("Digit", digit), ("Direction", "Received")))
        leg = self.leg.chan if self.leg is not None and self.leg.bridged else None
        if leg is not None:
            self.emit(leg.event("DTMFBegin", "dtmf,all", ("Digit", digit), ("Direction", "Sent")))
        self.at(self.now() + 0.2, self._dtmf_end, digit)

    def _dtmf_end(self, digit: str) -> None:
        if not self.chan.alive or self.ending:
            return
        self.emit(self.chan.event(
            "DTMFEnd", "dtmf,all", ("Digit", digit), ("DurationMs", "200"), ("Direction", "Received")
        ))  # fmt: skip
        leg = self.leg.chan if self.leg is not None and self.leg.bridged else None
        if leg is not None:
            self.emit(leg.event("DTMFEnd", "dtmf,all", ("Digit", digit), ("DurationMs", "200"), ("Direction", "Sent")))
        # Only a command that is running gets it (if it wants it); while the AGI is idle
        # its loop reads and drops it, as the type-ahead trace shows. A command that is
        # not reading the channel right now (no wait) leaves it queued for the next one.
        if self._waiter is None and self.in_agi:
            self._queued_digits.append(digit)
        else:
            self.signal("digit", digit)

    def caller_bye(self) -> None:
        """The caller hangs up (SIP BYE)."""
        if self.ending or not self.chan.alive:
            return
        self.hangup_by = self.hangup_by or "caller"
        for name, value in RTP_QOS:
            self.varset(self.chan, name, value)
        # Seen in the traces: Cause 16 when bridged by Dial, no Cause line otherwise.
        bridged_by_dial = self.leg is not None and self.leg.bridged and self.leg.app == "Dial"
        self.emit(self.chan.event("HangupRequest", "call,all", *([("Cause", "16")] if bridged_by_dial else [])))
        self._end("bye")

    def soft_hangup(self, cause: int | None = None, *, by: str = "asterisk") -> None:
        """AGI HANGUP or AMI Hangup on the caller channel (AST_SOFTHANGUP_EXPLICIT)."""
        if self.ending or not self.chan.alive:
            return
        self.hangup_by = self.hangup_by or by
        self.hangup_cause = cause
        if self._cdr_slot == "early":
            self.emit_cdr()
        self.emit(self.chan.event("SoftHangupRequest", "call,all", ("Cause", "32")))
        self._end("soft")

    def shutdown(self) -> None:
        """``core stop now``: Cdr, then SoftHangupRequest(4)."""
        if self.ending or not self.chan.alive:
            return
        self.hangup_by = self.hangup_by or "shutdown"
        self.hangup_cause = 0
        self.emit_cdr()
        self.emit(self.chan.event("SoftHangupRequest", "call,all", ("Cause", "4")))
        if self.leg is not None and self.leg.chan.alive:
            self.emit(self.leg.chan.event("SoftHangupRequest", "call,all", ("Cause", "4")))
        self._end("shutdown")

    def autohangup(self) -> None:
        """SET AUTOHANGUP expired: a soft hangup flag without an event of its own."""
        if not self.ending and self.chan.alive:
            self.hangup_by = self.hangup_by or "asterisk"
            self._end("timeout")

    def _end(self, kind: str) -> None:
        self.ending = kind
        if self._cdr_slot == "early" and kind == "bye":
            self.emit_cdr()
        self.signal("end")

    def agi_enqueue(self, command: str, command_id: str) -> None:
        assert self.chan.agi_queue is not None
        self.chan.agi_queue.append((command, command_id))
        self.commands.append(command)
        self.signal("cmd")

    def request_redirect(self, context: str, exten: str, priority: int) -> None:
        self.redirect = (context, exten, priority)
        self.signal("redirect")

    # -- dialplan ----------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            await dialplan.run(self)
        except asyncio.CancelledError:
            self._vanish("killed")
            raise
        except Exception:
            log.exception("simulator: call %s failed; hanging it up", self.channel)
            if self.chan.alive:
                self._remove_channel(self.chan)
        finally:
            self._close()

    def answer(self) -> None:
        if self.chan.state != UP:
            self.chan.set_state(UP)
            self.emit(self.chan.event("Newstate", "call,all"))
            self.t0 = self.loop.time()
            self.answer_wall = time.time()
            self.start_wall = self.answer_wall
            self._schedule_script()

    def bye_cause(self) -> int:
        if self.hangup_cause is not None:
            return self.hangup_cause
        return 16 if self.was_bridged else 0

    def run_after(self, stage: str) -> None:
        hooks, self.after[stage] = self.after[stage], []
        for hook in hooks:
            hook()

    def drop_queued_digits(self) -> None:
        self._queued_digits.clear()

    # -- playing prompts ------------------------------------------------------------------------
    async def play(self, name: str, escape: str | None = "", offset: int = 0) -> tuple[str | None, int] | None:
        """Play a prompt to the caller: None if it cannot be opened, else (outcome, endpos).

        outcome is "" when it played to the end, the digit when an escape digit stopped
        it (on DTMFEnd), None when the channel hung up or was redirected meanwhile.
        """
        pcm = self.sim.prompts.load(name)
        if pcm is None:
            log.warning("simulator: %s: prompt %r not found in %s", self.channel, name, self.sim.prompts.sounds_dir)
            return None
        offset = min(max(offset, 0), pcm.size)
        start = self.now()
        self.heard.append((round(start, 3), name))
        seg = Segment(start=start, pcm=pcm[offset:])
        self.tx.append(seg)
        kind, value = await self.wait((pcm.size - offset) / 8000, digits=escape)
        if kind == "timeout":
            return "", pcm.size
        stopped = self.now()
        seg.stop_at(stopped)
        played = min(pcm.size - offset, int((stopped - start) * 8000) // 160 * 160)
        return (value if kind == "digit" else None), offset + played

    # -- recording (recorder.py does the work) -----------------------------------------------------
    def start_mixmonitor(self, filename: str, options: dict[str, str]) -> MixMonitor:
        return recorder.start(self, filename, options)

    def recording_active(self) -> bool:
        return any(m.stop is None for m in self.monitors)

    def stop_mixmonitors(self) -> bool:
        return recorder.stop_all(self)

    def mute_mixmonitors(self, direction: str, on: bool) -> bool:
        return recorder.set_mute(self, direction, on)

    async def _finish_recordings(self) -> None:
        await recorder.finish_all(self)

    # -- the end --------------------------------------------------------------------------------
    def emit_cdr(self) -> None:
        if not self._cdr_sent:
            self._cdr_sent = True
            self.emit(cdr_event(self))

    async def hangup_caller(self, cause: int) -> None:
        """The caller channel's last events: SoftHangupRequest(16), Hangup, and the Cdr."""
        chan = self.chan
        if not chan.alive:
            return
        self.hangup_by = self.hangup_by or "asterisk"
        self.emit(chan.event("SoftHangupRequest", "call,all", ("Cause", "16")))
        for handle in self._timers:
            handle.cancel()
        await self._finish_recordings()
        if self._cdr_slot != "after_hangup":
            self.emit_cdr()
        self.emit(chan.event("Hangup", "call,all", ("Cause", str(cause)), ("Cause-txt", cause_text(cause))))
        self._remove_channel(chan)
        self.emit_cdr()
        self.run_after("caller_hangup")

    def _remove_channel(self, chan: Channel) -> None:
        chan.alive = False
        self.sim.remove_channel(chan)

    def _vanish(self, why: str) -> None:
        """Killed: the channels disappear without a single event (SIGKILL)."""
        self.hangup_by = self.hangup_by or why
        for chan in (self.chan, self.leg.chan if self.leg else None):
            if chan is not None and chan.alive:
                self._remove_channel(chan)

    def _close(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        if not self.done.done():
            self.done.set_result(None)
        self.sim.call_finished(self)

    def __repr__(self) -> str:
        return f"<SimCall {self.script.name} {self.channel} {'done' if self.done.done() else 'up'}>"
