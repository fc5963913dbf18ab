"""The conversation itself, measured (issue 15): talk, silence, interruptions, speech rate.

Plain data in, plain data out (no database here; ``qa.conversation_store`` keeps the figures).
Everything is measured while the caller and the agent are connected: from the agent's answer to
the agent leaving, holds excluded (``connected_spans``). Only the agent's own speech counts for
the agent (``qa.rules.agent_part``: the IVR's prompts on the agent track are nobody's), and only
what the caller says while connected counts for the caller.

A side speaks where the ASR put its words (``spoken``): Whisper's segment bounds run wider than the
speech, and one segment can span a silence (a word on each side, or a zero-length word after it).
Pauses between words shorter than ``JOIN_S`` are talk (a comma); longer ones split the speech.
Whisper stretches the first word after a pause back into it and the last word before one into
it (by up to a second on the synthesized calls): a word at either edge of a run of speech is cut
to ``MAX_CHAR_S`` a character. An utterance without word timestamps is talk from start to end.

- silence: the stretches, while connected, in which neither side speaks, from the answer to the
  last words (after them someone hangs up: the hang-up rules judge that, not dead air);
- an interruption: the agent starts (after ``ONSET_GAP_S`` of its own quiet) while the caller is
  speaking, and both then speak for at least ``min_overlap_s``;
- speech rate: characters said (``canonical``: no punctuation) per minute of the agent's speech,
  per turn (the agent's utterances until the caller speaks again) and over the call.

``conversation_findings`` applies the ``qa.conversation`` rules of config.yaml to the figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qa.rules import CallContext, Finding, Utterance
from settings import Config
from transcribe.normalize import canonical

Span = tuple[float, float]
ONSET_GAP_S = 0.5  # agent speech this soon after its previous words continues a start, it is no new one
JOIN_S = 1.0  # a pause between two words of an utterance shorter than this is talk
MAX_CHAR_S = 0.6  # the longest a character is said at the edge of speech (espeak's slowest: about 0.6)
CATEGORY = "conversation"


@dataclass(frozen=True, slots=True)
class TurnRate:
    start: float
    end: float
    chars: int
    speech_s: float

    @property
    def cpm(self) -> float | None:
        return self.chars / self.speech_s * 60 if self.speech_s > 0 else None


@dataclass(frozen=True, slots=True)
class Interruption:
    at: float  # when the agent started
    overlap_s: float  # how long both spoke


@dataclass(frozen=True, slots=True)
class Conversation:
    connected_s: float  # caller and agent connected, holds excluded
    agent_talk_s: float
    caller_talk_s: float
    silences: tuple[Span, ...]  # nobody speaking while connected (see the module docstring)
    interruptions: tuple[Interruption, ...]
    turns: tuple[TurnRate, ...]  # the agent's turns
    caller_chars: int = 0

    @property
    def talk_ratio(self) -> float | None:
        """The agent's share of the talk time (0..1)."""
        total = self.agent_talk_s + self.caller_talk_s
        return self.agent_talk_s / total if total > 0 else None

    @property
    def silence_s(self) -> float:
        return sum(b - a for a, b in self.silences)

    @property
    def longest_silence(self) -> Span | None:
        return max(self.silences, key=lambda s: s[1] - s[0], default=None)

    @property
    def agent_cpm(self) -> float | None:
        speech = sum(t.speech_s for t in self.turns)
        return sum(t.chars for t in self.turns) / speech * 60 if speech > 0 else None

    @property
    def caller_cpm(self) -> float | None:
        return self.caller_chars / self.caller_talk_s * 60 if self.caller_talk_s > 0 else None

    def as_dict(self) -> dict[str, Any]:
        longest = self.longest_silence
        return {
            "connected_s": _r(self.connected_s), "agent_talk_s": _r(self.agent_talk_s),
            "caller_talk_s": _r(self.caller_talk_s), "talk_ratio": _r(self.talk_ratio),
            "silence_s": _r(self.silence_s),
            "longest_silence_s": _r(longest[1] - longest[0]) if longest else None,
            "longest_silence_at_s": _r(longest[0]) if longest else None,
            "interruptions": len(self.interruptions),
            "agent_cpm": _r(self.agent_cpm, 0), "caller_cpm": _r(self.caller_cpm, 0),
            "silences": [[_r(a), _r(b)] for a, b in self.silences],
            "interruption_list": [{"at_s": _r(i.at), "overlap_s": _r(i.overlap_s)} for i in self.interruptions],
            "turns": [{"start_s": _r(t.start), "end_s": _r(t.end), "chars": t.chars, "speech_s": _r(t.speech_s),
                       "cpm": _r(t.cpm, 0)} for t in self.turns],
        }  # fmt: skip


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


# -- spans ----------------------------------------------------------------------------------


def union(spans: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def subtract(spans: Sequence[Span], cut: Sequence[Span]) -> list[Span]:
    """``spans`` without ``cut`` (both any order; the result merged and ordered)."""
    out = union(spans)
    for c0, c1 in union(cut):
        kept: list[Span] = []
        for a, b in out:
            if c1 <= a or c0 >= b:
                kept.append((a, b))
                continue
            if a < c0:
                kept.append((a, c0))
            if c1 < b:
                kept.append((c1, b))
        out = kept
    return out


def intersect(spans: Sequence[Span], window: Sequence[Span]) -> list[Span]:
    w = union(window)
    return union([(max(a, c), min(b, d)) for a, b in spans for c, d in w if min(b, d) > max(a, c)])


def total(spans: Sequence[Span]) -> float:
    return sum(b - a for a, b in union(spans))


def spoken(u: Utterance) -> list[Span]:
    """Where the utterance is said: its words, pauses under ``JOIN_S`` joined (the segment's bounds
    when the ASR gave no words, or only zero-length ones)."""
    words = sorted((float(w[0]), float(w[1]), max(1, len(canonical(str(w[2])))) * MAX_CHAR_S)  # type: ignore[arg-type]
                   for w in u.words or () if float(w[1]) > float(w[0]))  # type: ignore[arg-type]
    if not words:
        return [(u.start_s, u.end_s)] if u.end_s > u.start_s else []
    runs: list[list[tuple[float, float, float]]] = [[words[0]]]
    for w in words[1:]:
        if w[0] - max(x[1] for x in runs[-1]) < JOIN_S:
            runs[-1].append(w)
        else:
            runs.append([w])
    out = []
    for run in runs:
        a = max(run[0][0], run[0][1] - run[0][2])  # the first word: at most its longest
        last = run[-1]
        b = min(max(x[1] for x in run), max(last[0], a) + last[2])  # the last word likewise
        out.append((a, max(a, b)))
    return [s for s in out if s[1] > s[0]]


def speech(utts: Sequence[Utterance]) -> list[Span]:
    return union([s for u in utts for s in spoken(u)])


# -- measuring ------------------------------------------------------------------------------


def connected_spans(facts: CallContext, agent: Sequence[Utterance]) -> list[Span]:
    """Where caller and agent were connected, holds excluded.

    The IVR's timeline (agent spans) when it was recorded: it also leaves out the recording's
    pauses (ivr/timeline.py), whose silence on both tracks is nobody's, as a hold's music is;
    else from the answer (or the agent's first words) to whoever hung up (or the last words)."""
    if not facts.reached_agent:
        return []
    if facts.agent_spans:
        spans = list(facts.agent_spans)
    else:
        said = speech(agent)
        start = facts.agent_answer_s if facts.agent_answer_s is not None else (said[0][0] if said else None)
        end = facts.hangup_s if facts.hangup_s is not None else (said[-1][1] if said else None)
        if start is None or end is None:
            return []
        spans = [(start, end)]
    return subtract(spans, facts.holds)


def measure(agent: Sequence[Utterance], caller: Sequence[Utterance], connected: Sequence[Span], *,
            min_overlap_s: float) -> Conversation:
    """The figures of one call: ``agent`` are the agent's own utterances (``qa.rules.agent_part``),
    ``caller`` the caller's, ``connected`` from ``connected_spans``."""
    window = union(connected)
    agent_speech = intersect(speech(agent), window)
    caller_utts = [u for u in caller if intersect(spoken(u), window)]
    caller_speech = intersect(speech(caller_utts), window)
    everyone = union(agent_speech + caller_speech)
    silences: list[Span] = []
    if everyone and window:
        until = [(window[0][0], everyone[-1][1])]
        silences = subtract(intersect(window, until), everyone)
    return Conversation(
        connected_s=total(window), agent_talk_s=total(agent_speech), caller_talk_s=total(caller_speech),
        silences=tuple(silences), interruptions=tuple(interruptions(agent, caller_utts, min_overlap_s)),
        turns=tuple(agent_turns(agent, caller_utts)),
        caller_chars=sum(len(canonical(u.text)) for u in caller_utts),
    )


def interruptions(agent: Sequence[Utterance], caller: Sequence[Utterance], min_overlap_s: float
                  ) -> list[Interruption]:
    """The agent starting while the caller speaks, both then speaking ``min_overlap_s`` or longer."""
    callers = speech(caller)
    out: list[Interruption] = []
    last_end = float("-inf")
    for a0, a1 in sorted(s for u in agent for s in spoken(u)):
        onset = a0 - last_end >= ONSET_GAP_S
        last_end = max(last_end, a1)
        if not onset:
            continue
        for c0, c1 in callers:
            if c0 < a0 < c1 and min(a1, c1) - a0 >= min_overlap_s:
                out.append(Interruption(a0, min(a1, c1) - a0))
                break
    return out


def agent_turns(agent: Sequence[Utterance], caller: Sequence[Utterance]) -> list[TurnRate]:
    """The agent's utterances grouped into turns (a caller starting to speak ends one)."""
    caller_starts = sorted(s[0][0] for s in (spoken(u) for u in caller) if s)
    turns: list[list[Span]] = []
    chars: list[int] = []
    for u in sorted((u for u in agent if spoken(u)), key=lambda x: spoken(x)[0][0]):
        spans = spoken(u)
        if turns and not any(turns[-1][-1][0] < c < spans[0][0] for c in caller_starts):
            turns[-1] += spans
            chars[-1] += len(canonical(u.text))
        else:
            turns.append(list(spans))
            chars.append(len(canonical(u.text)))
    return [TurnRate(spans[0][0], max(b for _, b in spans), n, total(spans)) for spans, n in zip(turns, chars,
                                                                                                strict=True)]


# -- rules ----------------------------------------------------------------------------------


def conversation_findings(config: Config, conv: Conversation) -> list[Finding]:
    """The ``qa.conversation`` rules on one call's figures: long silence, interruptions, speech rate."""
    rules = config.qa.conversation
    out: list[Finding] = []
    s = rules.silence
    for a, b in conv.silences:
        if b - a > s.max_s:
            out.append(Finding(s.id, CATEGORY, s.severity, f"silence|{a:.0f}", speaker=None, offset_s=a,
                               matched=f"{b - a:.1f} s of silence without a hold > {s.max_s:g} s",
                               source=s.source, suggestion=s.suggestion))
    i = rules.interruptions
    if len(conv.interruptions) > i.max:
        at = ", ".join(f"{x.at:.1f} s" for x in conv.interruptions)
        out.append(Finding(i.id, CATEGORY, i.severity, "interruptions", speaker="agent",
                           offset_s=conv.interruptions[0].at,
                           matched=f"agent started over the caller {len(conv.interruptions)} times (at {at}) "
                                   f"> {i.max}",
                           source=i.source, suggestion=i.suggestion))
    r = rules.speech_rate
    cpm = conv.agent_cpm
    speech = sum(t.speech_s for t in conv.turns)
    if cpm is not None and speech >= r.min_speech_s and not r.min_cpm <= cpm <= r.max_cpm:
        fast = cpm > r.max_cpm
        judged = [t for t in conv.turns if t.cpm is not None and t.speech_s >= r.min_turn_s] or list(conv.turns)
        worst = (max if fast else min)(judged, key=lambda t: t.cpm or 0.0)
        band = f"> {r.max_cpm:g}" if fast else f"< {r.min_cpm:g}"
        out.append(Finding(r.id, CATEGORY, r.severity, "speech-rate", speaker="agent", offset_s=worst.start,
                           matched=f"agent speech rate {cpm:.0f} chars/min {band} "
                                   f"({'fastest' if fast else 'slowest'} turn {worst.cpm or 0:.0f} at "
                                   f"{worst.start:.1f} s)",
                           source=r.source, suggestion=r.suggestion))
    return out
