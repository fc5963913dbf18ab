"""What the events of one call say about it: the event side of a call session.

``CallTracker`` is fed, synchronously and in stream order, every event of one call (the
caller leg by Uniqueid, agent legs by Linkedid) and derives what the call row needs:
who hung up first (the first ``HangupRequest`` per leg, ``AgentComplete`` Reason), the
agent who answered (``DialEnd`` ANSWER / ``AgentConnect`` Interface), ring time before
the answer (every agent leg's AgentCalled/DialBegin -> DialEnd, overlaps counted once, so
a Dial that rang out before the fallback queue counts too; ``AgentConnect`` RingTime when
no DialEnd ANSWER came), queue wait, hold (music on hold after an agent answered), talk time, the hangup cause
(the caller leg's ``Hangup``, which comes after ``AsyncAGIEnd``), and the type-ahead
buffer from ``DTMFEnd``. Each finding is also written as a CallEvent as it happens, and
the answer's figures go to the row at once, so a service that adopts the call after a
restart starts from them (its talk time then comes from Asterisk's ``ANSWEREDTIME_MS``).
The flow that drives the call (session.py) is a subclass and reads the same state.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from db import now
from ivr.callstore import CallStore
from ivr.tables import AGENT_ANSWERED, HOLD_END, HOLD_START
from pbx.agi import parse_env
from pbx.protocol import Message

_CHANNEL_SUFFIX = re.compile(r"-[0-9a-f]+(;\d+)?$")


def interface_of(channel: str) -> str:
    """``SIP/agent1001-00000004`` -> ``SIP/agent1001`` (the device behind a channel)."""
    return _CHANNEL_SUFFIX.sub("", channel)


@dataclass(frozen=True)
class CallInfo:
    """Who is calling, from AsyncAGIStart (channel block + Env)."""

    channel: str
    uniqueid: str
    linkedid: str
    caller_num: str | None
    caller_name: str | None
    did: str | None

    @classmethod
    def from_start(cls, msg: Message) -> CallInfo:
        env = parse_env(msg.get("Env") or "")
        uniqueid = msg.get("Uniqueid") or env.get("agi_uniqueid") or ""
        return cls(
            channel=msg.get("Channel") or env.get("agi_channel") or "",
            uniqueid=uniqueid,
            linkedid=msg.get("Linkedid") or uniqueid,
            caller_num=_known(env.get("agi_callerid") or msg.get("CallerIDNum")),
            caller_name=_known(env.get("agi_calleridname") or msg.get("CallerIDName")),
            did=_known(env.get("agi_dnid")) or _known(env.get("agi_extension") or msg.get("Exten")),
        )

    @classmethod
    def from_channel(cls, item: Message) -> CallInfo:
        """From a CoreShowChannel item (a call adopted after a reconnect or restart)."""
        uniqueid = item.get("Uniqueid") or ""
        return cls(item.get("Channel") or "", uniqueid, item.get("Linkedid") or uniqueid,
                   _known(item.get("CallerIDNum")), _known(item.get("CallerIDName")), _known(item.get("Exten")))


class Clock:
    """Call time: wall-clock datetimes and monotonic seconds, optionally sped up.

    Against real Asterisk ``scale`` is 1. The simulator runs calls ``speed`` times faster
    than real time while its recordings and reported durations stay in call time, so the
    demo and tests give the service the same factor: ring times, talk times and every
    timestamp stored (and QA's offsets into the recordings) are then in call time too.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self._m0 = time.monotonic()
        self._w0 = now()

    def mono(self) -> float:
        if self.scale == 1.0:
            return time.monotonic()
        return self._m0 + (time.monotonic() - self._m0) * self.scale

    def now(self) -> datetime:
        if self.scale == 1.0:
            return now()
        return self._w0 + timedelta(seconds=(time.monotonic() - self._m0) * self.scale)


def _known(value: str | None) -> str | None:
    return None if value in (None, "", "<unknown>", "unknown") else value


@dataclass
class CallFacts:
    """What the events and the flow established; becomes the call row when it closes."""

    answered_at: Any = None
    hangup_by: str | None = None  # caller | agent | system: whoever asked first
    hangup_cause: int | None = None
    hangup_cause_txt: str | None = None
    route_action: str | None = None
    route_target: str | None = None
    category: str | None = None
    agent: str | None = None
    agent_answered_at: Any = None
    ring_s: float | None = None
    queue_wait_s: float | None = None
    talk_s: float | None = None
    dial_status: str | None = None
    path: list[str] = field(default_factory=list)
    error: str | None = None
    status: str = "ended"


class DigitBuffer:
    """Type-ahead: digits the caller pressed that no AGI command consumed."""

    def __init__(self) -> None:
        self.buffer: deque[str] = deque(maxlen=16)
        self.collecting = False
        self._during: list[str] = []
        self._owed: tuple[str, float] | None = None  # consumed digit whose DTMFEnd is yet to come

    def pressed(self, digit: str) -> None:
        if self._owed is not None:
            owed, until = self._owed
            self._owed = None
            if digit == owed and time.monotonic() < until:
                return
        (self._during if self.collecting else self.buffer).append(digit)

    def start(self) -> None:
        """A digit-reading command is about to be sent."""
        self.collecting = True
        self._during = []

    def stop(self, consumed: str | None) -> None:
        """Its result came: ``consumed`` is the digit it returned. Digits it did not take
        (pressed before it started, or after it returned) are type-ahead."""
        self.collecting = False
        rest, self._during = self._during, []
        if consumed:
            if consumed in rest:
                rest.remove(consumed)
            else:  # the DTMFEnd has not reached us yet: do not buffer it when it does
                self._owed = (consumed, time.monotonic() + 1.0)
        self.buffer.extend(rest)

    def take(self) -> str | None:
        return self.buffer.popleft() if self.buffer else None

    def clear(self) -> None:
        self.buffer.clear()


class CallTracker:
    """The event side of one call: state derived from AMI events, written as CallEvents."""

    def __init__(self, info: CallInfo, store: CallStore, *, clock: Clock | None = None,
                 rx_clock: Callable[[], float] = time.monotonic) -> None:
        self.info = info
        self.store = store
        self.facts = CallFacts()
        self.digits = DigitBuffer()
        clock = clock or Clock()
        self.clock = clock.mono  # event times; a trace replay substitutes the trace's clock
        self._now = clock.now
        self.started = clock.mono()
        self.started_at = clock.now()
        self.agi_ended = asyncio.Event()
        self.hung_up = asyncio.Event()  # the caller leg's Hangup event came
        self.caller_left = False  # a HangupRequest on the caller leg (or its Hangup)
        self._rx_clock = rx_clock  # when the bytes being dispatched were read (bench)
        self._last_rx: float | None = rx_clock()
        self._rings: dict[str, float] = {}  # agent leg uniqueid -> when it started ringing
        self._ring_ends: dict[str, float] = {}  # agent leg uniqueid -> its (first) DialEnd
        self._ifaces: dict[str, str] = {}  # agent leg uniqueid -> queue member interface
        self._agent_uid: str | None = None
        self._agent_channel: str | None = None
        self._agent_t: float | None = None
        self._in_queue_since: float | None = None
        self._hold_since: float | None = None
        self._hangup_reqs: set[str] = set()

    @property
    def uniqueid(self) -> str:
        return self.info.uniqueid

    @property
    def channel(self) -> str:
        return self.info.channel

    # ===== the event side (sync, stream order) =====================================

    def on_event(self, msg: Message) -> None:
        handler = _HANDLERS.get(msg.name)
        if handler is not None:
            handler(self, msg)

    def _mine(self, msg: Message) -> bool:
        return msg.get("Uniqueid") == self.uniqueid

    def _ev_dtmf(self, msg: Message) -> None:
        if self._mine(msg) and msg.get("Direction", "Received") == "Received":
            digit = msg.get("Digit") or ""
            if len(digit) == 1:
                self.digits.pressed(digit)

    def _ev_agi_exec(self, msg: Message) -> None:
        # A result's own future is settled by pbx.agi; a result that ends a command cut by a
        # link loss is kept by ivr/linkloss.py (LinkAware.on_event). Here: when it came (bench).
        if self._mine(msg):
            self._last_rx = self._rx_clock()

    def _ev_agi_end(self, msg: Message) -> None:
        if self._mine(msg):
            self.agi_ended.set()

    def _ev_hangup_request(self, msg: Message) -> None:
        uid = msg.get("Uniqueid") or ""
        leg = "caller" if uid == self.uniqueid else "agent"
        if leg == "caller":
            self.caller_left = True
        elif uid != self._agent_uid and msg.get("Channel") != self._agent_channel:
            return  # an agent leg that never answered (a ringall sibling, a cancelled ring)
        if leg in self._hangup_reqs:
            return
        self._hangup_reqs.add(leg)
        cause = msg.get("Cause")
        if self.facts.hangup_by is None:
            self.facts.hangup_by = leg
        if leg == "agent" or self._agent_t is not None:
            self._end_talk()
        self._event("hangup_request", leg=leg, channel=msg.get("Channel"),
                    cause=int(cause) if cause and cause.isdigit() else None)

    def _ev_soft_hangup(self, msg: Message) -> None:
        # Cause 4 is Asterisk shutting down (internal soft-hangup flag, not Q.850).
        if self._mine(msg) and msg.get("Cause") == "4" and self.facts.hangup_by is None:
            self.facts.hangup_by = "system"

    def _ev_hangup(self, msg: Message) -> None:
        if not self._mine(msg):
            return
        cause = msg.get("Cause")
        self.facts.hangup_cause = int(cause) if cause and cause.isdigit() else None
        self.facts.hangup_cause_txt = msg.get("Cause-txt")
        self.caller_left = True
        self.hung_up.set()

    def _ring_start(self, msg: Message) -> None:
        dest = msg.get("DestUniqueid") or msg.get("DestChannel") or ""
        if dest and dest not in self._rings:
            self._rings[dest] = self.clock()
            iface = msg.get("Interface") or interface_of(msg.get("DestChannel") or "")
            self._event("agent_ringing", interface=iface, channel=msg.get("DestChannel"),
                        queue=msg.get("Queue"))
        if msg.get("Interface"):
            self._ifaces[dest] = msg.get("Interface") or ""

    def _ev_dial_end(self, msg: Message) -> None:
        status = msg.get("DialStatus") or ""
        dest = msg.get("DestUniqueid") or msg.get("DestChannel") or ""
        if dest in self._ring_ends:
            return  # Asterisk 20's Queue ends a ringall member it cancels twice (two DialEnd CANCEL)
        ended = self.clock()
        if dest:
            self._ring_ends[dest] = ended
        began = self._rings.get(dest)
        rung = round(ended - began, 3) if began is not None else None
        if status == "ANSWER":
            self._answered(dest, msg.get("DestChannel") or "", rung)
        elif status:
            iface = self._ifaces.get(dest) or interface_of(msg.get("DestChannel") or "")
            self._event("agent_noanswer", interface=iface, status=status, ring_s=rung)

    def _answered(self, dest: str, dest_channel: str, rung: float | None) -> None:
        if self._agent_uid is not None:
            return
        self._agent_uid = dest
        self._agent_channel = dest_channel
        self._agent_t = self.clock()
        iface = self._ifaces.get(dest) or interface_of(dest_channel)
        self.facts.agent = iface
        self.facts.dial_status = self.facts.dial_status or "ANSWER"
        self.facts.agent_answered_at = self._now()
        self.facts.ring_s = self._rang(dest, rung, self._agent_t)
        if self._in_queue_since is not None:
            self.facts.queue_wait_s = round(self._agent_t - self._in_queue_since, 3)
        self._event(AGENT_ANSWERED, interface=iface, channel=dest_channel, ring_s=rung)
        self._keep_answer()

    def _keep_answer(self) -> None:
        """Write the answer's figures to the row now, not only at the close: a ``serve`` that dies
        while the agent talks leaves them for the one that adopts the call (ivr/adopt.py)."""
        f = self.facts
        self.store.update_call(self.uniqueid, agent=f.agent, agent_answered_at=f.agent_answered_at, ring_s=f.ring_s,
                               queue_wait_s=f.queue_wait_s, dial_status=f.dial_status)

    def _rang(self, answered: str, rung: float | None, at: float) -> float | None:
        """How long the caller waited on ringing agents before ``answered`` picked up at ``at``: the
        union of every leg's ring (a Dial that rang out, then the queue's; ringall siblings overlap)."""
        spans = [(began, self._ring_ends.get(dest, at)) for dest, began in self._rings.items()]
        if answered not in self._rings:  # no AgentCalled/DialBegin seen: the queue's RingTime
            if rung is None:
                return None
            spans.append((at - rung, at))
        total, reach = 0.0, float("-inf")
        for begin, end in sorted(spans):
            begin = max(begin, reach)
            if end > begin:
                total += end - begin
                reach = end
        return round(total, 3)

    def _ev_agent_connect(self, msg: Message) -> None:
        dest = msg.get("DestUniqueid") or msg.get("DestChannel") or ""
        if msg.get("Interface"):
            self._ifaces[dest] = msg.get("Interface") or ""
        if self._agent_uid is None:  # no DialEnd seen: take the queue's whole seconds
            self._answered(dest, msg.get("DestChannel") or "", _float(msg.get("RingTime")))
        if self._agent_uid == dest and msg.get("Interface"):
            self.facts.agent = msg.get("Interface")
        if self.facts.ring_s is None:
            self.facts.ring_s = _float(msg.get("RingTime"))
        if self.facts.queue_wait_s is None:
            self.facts.queue_wait_s = _float(msg.get("HoldTime"))
        if self._agent_uid == dest:
            self._keep_answer()  # the queue's interface and times complete what DialEnd gave
        self._event("agent_connect", interface=msg.get("Interface"), queue=msg.get("Queue"),
                    ring_time=_float(msg.get("RingTime")), hold_time=_float(msg.get("HoldTime")))

    def _ev_agent_complete(self, msg: Message) -> None:
        reason = msg.get("Reason")
        if reason in ("agent", "caller") and self.facts.hangup_by is None:
            self.facts.hangup_by = reason
        self._end_talk()
        self._event("agent_complete", reason=reason, talk_time=_float(msg.get("TalkTime")),
                    hold_time=_float(msg.get("HoldTime")), interface=msg.get("Interface"))

    def _ev_agent_noanswer(self, msg: Message) -> None:
        self._event("agent_noanswer", interface=msg.get("Interface"), queue=msg.get("Queue"),
                    ring_s=_float(msg.get("RingTime")), status="RINGNOANSWER")

    def _ev_queue_join(self, msg: Message) -> None:
        if self._mine(msg):
            self._in_queue_since = self.clock()
            self._event("queue_join", queue=msg.get("Queue"), position=_float(msg.get("Position")))

    def _ev_queue_leave(self, msg: Message) -> None:
        if self._mine(msg):
            waited = self.clock() - self._in_queue_since if self._in_queue_since else None
            self._event("queue_leave", queue=msg.get("Queue"), waited_s=_round(waited))

    def _ev_moh_start(self, msg: Message) -> None:
        # Music on hold while waiting in a queue is the queue wait (queue_join/queue_leave,
        # queue_wait_s); only music after an agent answered is the agent putting the caller
        # on hold, which QA's hold rule looks at.
        answered = self._agent_t is not None or self.facts.agent_answered_at is not None  # here, or before adoption
        if self._mine(msg) and self._hold_since is None and answered:
            self._hold_since = self.clock()
            self._event(HOLD_START, moh_class=msg.get("Class"))

    def _ev_moh_stop(self, msg: Message) -> None:
        if self._mine(msg) and self._hold_since is not None:
            held = self.clock() - self._hold_since
            self._hold_since = None
            self._event(HOLD_END, seconds=_round(held))

    def _ev_varset(self, msg: Message) -> None:
        # Dial and Queue set ANSWEREDTIME_MS on the caller when the bridge ends (both orders of
        # hang-up, tests/fixtures/asterisk/README.md). Talk time measured here wins; this is for
        # a call adopted with its agent already talking, whose answer this tracker never saw.
        if msg.get("Variable") != "ANSWEREDTIME_MS" or not self._mine(msg) or self._agent_t is not None:
            return
        talked = _float(msg.get("Value"))
        if talked is None or talked <= 0 or self.facts.talk_s is not None:
            return
        self.facts.talk_s = round(talked / 1000, 3)
        if self.facts.agent_answered_at is None:  # answered while no service drove the call
            self.facts.agent_answered_at = self._now() - timedelta(seconds=self.facts.talk_s)

    def _end_talk(self) -> None:
        if self._agent_t is not None and self.facts.talk_s is None:
            self.facts.talk_s = round(self.clock() - self._agent_t, 3)

    def _event(self, kind: str, **data: Any) -> None:
        self.store.add_event(self.uniqueid, kind, {k: v for k, v in data.items() if v is not None}, at=self._now())


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


_HANDLERS = {
    "DTMFEnd": CallTracker._ev_dtmf,
    "AsyncAGIExec": CallTracker._ev_agi_exec,
    "AsyncAGIEnd": CallTracker._ev_agi_end,
    "HangupRequest": CallTracker._ev_hangup_request,
    "SoftHangupRequest": CallTracker._ev_soft_hangup,
    "Hangup": CallTracker._ev_hangup,
    "DialBegin": CallTracker._ring_start,
    "AgentCalled": CallTracker._ring_start,
    "DialEnd": CallTracker._ev_dial_end,
    "AgentConnect": CallTracker._ev_agent_connect,
    "AgentComplete": CallTracker._ev_agent_complete,
    "AgentRingNoAnswer": CallTracker._ev_agent_noanswer,
    "QueueCallerJoin": CallTracker._ev_queue_join,
    "QueueCallerLeave": CallTracker._ev_queue_leave,
    "MusicOnHoldStart": CallTracker._ev_moh_start,
    "MusicOnHoldStop": CallTracker._ev_moh_stop,
    "VarSet": CallTracker._ev_varset,
}
EVENTS = frozenset(_HANDLERS) | {"AsyncAGIStart"}
