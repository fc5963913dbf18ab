"""Who the caller heard when: the agent track's stretches, from the IVR's own records.

MixMonitor's ``t()`` track is everything the caller heard, not only the agent: the IVR's
prompts, then ringback or queue music, then the agent (with any hold music), then the
goodbye prompt. The session writes what it did as CallEvents while the call runs
(ivr.tables: PROMPT_START/PROMPT_END around each STREAM FILE / GET DATA, TRANSFER_START/
TRANSFER_END around EXEC Dial / Queue, AGENT_ANSWERED from DialEnd ANSWER or
AgentConnect, HOLD_START/HOLD_END for music on hold after the answer, hangup_request of
the agent leg). :func:`build` turns them into stretches of five kinds, in seconds from
the recording's start (``Call.recording_started_at``):

* ``ivr``: a prompt playing (its name and known text are kept: no need to decode it);
* ``ringback``: a transfer ringing or waiting in a queue, before any agent answered;
* ``hold``: music on hold after the agent answered;
* ``agent``: the agent's voice, from the answer until the agent leg hangs up, the
  Dial/Queue returns, a prompt starts again or the call ends;
* ``paused``: the recording paused (ivr/recpause.py: a collect menu, `calls pause`), from
  Asterisk's acknowledgement of the mute to that of the resume, or to the call's end. Both
  tracks hold silence there, whatever played: the pause cuts every other stretch, so a prompt
  asking for a card number is not taken as said, and the agent's silence is nobody's.

Times are when the IVR sent a command and when Asterisk answered it, so a prompt
stretch slightly contains its audio (a few ms each side). Plain data: transcription and
QA (both above this package) read it; nothing here knows of either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.recpause import RECORDING_PAUSED, RECORDING_RESUMED
from ivr.tables import (
    AGENT_ANSWERED,
    HOLD_END,
    HOLD_START,
    PROMPT_END,
    PROMPT_START,
    TRANSFER_END,
    TRANSFER_START,
    Call,
    CallEvent,
)

KINDS = ("ivr", "ringback", "hold", "agent", "paused")
# The agent's stretch is widened by this much each side when deciding what to decode and
# whose an utterance is: event times carry the loop's latency (x the simulator's speed),
# and cutting the agent's first syllable costs more than decoding a moment of ringback.
AGENT_PAD_S = 0.3


@dataclass(frozen=True, slots=True)
class Stretch:
    kind: str  # ivr | ringback | hold | agent | paused
    start: float  # seconds from the recording's start
    end: float
    name: str | None = None  # the prompt (ivr); who paused, e.g. "collect account" or "calls pause" (paused)
    text: str | None = None  # what the prompt says (ivr), from the config the call ran with

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "start": round(self.start, 3), "end": round(self.end, 3)}
        if self.name is not None:
            out["name"] = self.name
        if self.text is not None:
            out["text"] = self.text
        return out


@dataclass(frozen=True, slots=True)
class Timeline:
    """The stretches of one call's agent track, ordered by start; ``end`` = the call's end."""

    stretches: tuple[Stretch, ...]
    end: float | None = None

    def of(self, kind: str) -> list[Stretch]:
        return [s for s in self.stretches if s.kind == kind]

    def agent_spans(self, pad: float = AGENT_PAD_S) -> list[tuple[float, float]]:
        """Where the agent's voice can be: agent stretches widened by ``pad``, never into a prompt or a pause."""
        prompts = [(s.start, s.end) for s in self.of("ivr") + self.of("paused")]
        out: list[tuple[float, float]] = []
        for s in self.of("agent"):
            a, b = max(0.0, s.start - pad), s.end + pad
            for pa, pb in prompts:  # a prompt just before or after: stop at it
                if pb <= s.start + 1e-9:
                    a = max(a, pb)
                if pa >= s.end - 1e-9:
                    b = min(b, pa)
            if b > a:
                out.append((a, b))
        return out

    def prompts(self) -> list[Stretch]:
        """The prompts played, with their known text (what the IVR said on this track)."""
        return [s for s in self.of("ivr") if s.text]

    def as_list(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.stretches]


def build(events: Iterable[tuple[str, float, dict[str, Any]]], end: float | None) -> Timeline | None:
    """The timeline from (kind, seconds from the recording start, data), in the order they happened.

    None when the call has no prompt events (recorded before the IVR kept its timeline):
    readers then fall back to what they did before."""
    evs = sorted(events, key=lambda e: e[1])
    if not any(k == PROMPT_START for k, _, _ in evs):
        return None
    out: list[Stretch] = []
    open_: dict[str, tuple[float, dict[str, Any]]] = {}  # kind -> (since, data)

    def close(kind: str, at: float) -> None:
        got = open_.pop(kind, None)
        if got is None:
            return
        since, data = got
        if at > since:
            out.append(Stretch(kind, since, at, data.get("name"), data.get("text")))

    for kind, at, data in evs:
        if kind == PROMPT_START:
            # a prompt means the IVR has the channel again: no agent, no ringing any more
            for k in ("ivr", "agent", "hold", "ringback"):
                close(k, at)
            open_["ivr"] = (at, data)
        elif kind == PROMPT_END:
            close("ivr", at)
        elif kind == TRANSFER_START:
            close("ivr", at)
            open_["ringback"] = (at, {})
        elif kind == AGENT_ANSWERED:
            close("ringback", at)
            if "agent" not in open_:
                open_["agent"] = (at, {})
        elif kind == HOLD_START and "agent" in open_:
            close("agent", at)
            open_["hold"] = (at, {})
        elif kind == HOLD_END and "hold" in open_:
            close("hold", at)
            open_["agent"] = (at, {})
        elif kind == TRANSFER_END or (kind == "hangup_request" and data.get("leg") == "agent"):
            for k in ("ringback", "agent", "hold"):
                close(k, at)
    last = end if end is not None else (evs[-1][1] if evs else 0.0)
    for k in list(open_):
        close(k, max(last, open_[k][0]))
    paused = pauses(evs, end)
    out = [piece for s in out for piece in _outside(s, paused)] + paused
    out.sort(key=lambda s: (s.start, s.end))
    return Timeline(tuple(out), end)


def pauses(events: Iterable[tuple[str, float, dict[str, Any]]], end: float | None) -> list[Stretch]:
    """The ``paused`` stretches from (kind, seconds, data) events: each pause to its resume, a pause
    never resumed to ``end`` (the recording stopped with the call). Also for calls without a timeline."""
    evs = sorted(events, key=lambda e: e[1])
    out: list[Stretch] = []
    since: tuple[float, str | None] | None = None
    for kind, at, data in evs:
        if kind == RECORDING_PAUSED and since is None:
            since = (at, data.get("via"))
        elif kind == RECORDING_RESUMED and since is not None:
            out.append(Stretch("paused", since[0], max(at, since[0]), since[1]))
            since = None
    if since is not None:
        last = end if end is not None else (evs[-1][1] if evs else since[0])
        out.append(Stretch("paused", since[0], max(last, since[0]), since[1]))
    return out


def _outside(s: Stretch, paused: Sequence[Stretch]) -> list[Stretch]:
    """The parts of ``s`` outside every pause (the recording holds silence inside one)."""
    parts = [(s.start, s.end)]
    for p in paused:
        parts = [piece for a, b in parts for piece in ((a, min(b, p.start)), (max(a, p.end), b)) if piece[1] > piece[0]]
    return [Stretch(s.kind, a, b, s.name, s.text) for a, b in parts]


def _offset(base: datetime | None, at: datetime | None) -> float | None:
    if base is None or at is None:
        return None
    return (at - base).total_seconds()


def call_timeline(session: Session, call: Call) -> Timeline | None:
    """The stored call's timeline (None: not recorded for this call)."""
    base = call.recording_started_at or call.started_at
    rows = session.scalars(select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.id)).all()
    events = []
    for ev in rows:
        at = _offset(base, ev.at)
        if at is not None:
            events.append((ev.kind, at, dict(ev.data or {})))
    timeline = build(events, _offset(base, call.ended_at))
    answered = bool(call.agent) or call.agent_answered_at is not None or call.dial_status == "ANSWER"
    if timeline is not None and answered and not timeline.of("agent"):
        timeline = _ringback_as_agent(timeline)
    return timeline


def _ringback_as_agent(timeline: Timeline) -> Timeline:
    """The call row says an agent answered, but no answer event was recorded (an AMI link
    lost at that moment): the whole transfer may hold the agent. Decoding some ringback
    costs time; losing the agent's words would cost the review."""
    stretches = tuple(Stretch("agent", s.start, s.end) if s.kind == "ringback" else s for s in timeline.stretches)
    return Timeline(stretches, timeline.end)

