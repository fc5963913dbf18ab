"""Were the mandated opening and the closing courtesy said? Checked against the agent's audio.

The text rules (qa/rules.py) look for the opening line and a closing phrase in the free
transcript, and Whisper base garbles both on phone audio (海尔斯科技 -> 爱二十个纪, 感谢您的来电
-> 当天您的台电, or no text at all where it looped). Forced decoding of the whole line against
such text did not separate said from unsaid (bench/verify_lines.py), but the line's parts
did, one by one, by how much the audio raises their tokens over silence (``pmi``, see
transcribe/verify.py):

- the opening, in the agent's first turn (pickup until the caller first speaks back): the
  company's name and the offer of help (the rule's offer phrases, or the line's clause holding
  one); both must be heard;
- the closing, in the last seconds of the agent's speech (VAD, inside the agent's stretches
  of the IVR timeline, so the IVR's own goodbye prompt never counts): any closing phrase
  longer than two syllables (再见 alone raised pmi in the middle of calls too).

A part the free transcript holds as the text rules read it (qa/rules.py: within about a
syllable of sound, the company's name in Latin letters too) is taken as said without scoring:
no text flag stands there for the audio to weigh (qa/verified.py reads these rows only against
one), most real voices' lines are written so, and the check costs encoder and decoder passes.

Each part is a row in ``Transcript.verified`` with ``check`` = opening / closing; QA
(qa/verified.py) drops a text flag the audio contradicts and grades the rest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from settings import Config
from transcribe.engine import AsrSegment, CallResult, TrackPlan
from transcribe.normalize import canonical
from transcribe.phonetic import fuzzy_contains
from transcribe.sounds import contains_name, read_syllables
from transcribe.verdict import sigmoid
from transcribe.verify import MAX_WINDOW_S, PhraseScorer

_CLAUSE = re.compile(r"[，,。？?！!；;、\s]+")
OPENING_TAIL_S = 10.0  # without a caller turn to end it, the first turn is read to within_s plus this
CLOSING_S = 8.0  # the closing window: this much before the agent's last speech ends
STEP_S, MIN_TAIL_S = 1.0, 2.0  # with no free text: a start every second, at least this much audio left
# With no free text in the opening's window and the company heard, the offer is tried from each second of
# its first seconds: it follows a greeting and the company (很高兴为您服务 read 0.36 from pickup, 1.34 from
# 2 s on, in set22's call whose opening the ASR dropped), and the window may run on for other turns.
OPENING_STARTS_S = 6.0
# Free text this long after pickup leaves the opening's start unwritten, as if none were there: held-out
# set69's agent greeted with the company and an offer the ASR wrote only the last words of, 10 s in
# (您有什么关注); scored from pickup alone its offer read 0.36, from the second it began 1.25.
UNWRITTEN_LEAD_S = 3.0


@dataclass(frozen=True)
class LineBars:
    """pmi (nats per token) bars, read off bench/verify_lines.py on 32 scripted calls: parts
    said scored 0.93-3.6, parts not said -1.4-0.52 (the highest where a window grazed a
    said closing). At or above ``said`` a part counts as heard; the confidence that it was
    said is sigmoid(scale * (pmi - center)), so a flag for its absence is sure below
    ``center`` and asks for listening between the two.

    ``closing_center``: the closing's own center. 再见 (curt alone, and no closing phrase since
    session 28, but said by most polite agents) is too short to check on the audio (再见 scored -3.0
    to +1.1 at the end of 88 scripted agents who all said it, and up to +3.5 at the end of their
    other turns): only the longer phrases are scored. An agent who said 感谢您的耐心，再见 scored
    0.30 on 感谢您的来电 (its 感谢您的 was said), and three agents who closed with nothing
    courteous -0.46, 0.16 and 0.23 (app/qa_eval_calls.yaml's closing-missing calls). Between
    the two the audio cannot tell them apart: such a flag asks for listening, and only a
    closing the audio argues against (pmi below 0) is sure."""

    said: float = 0.8
    center: float = 0.5
    closing_center: float = 0.0
    scale: float = 4.0

    def confidence(self, pmi: float, check: str = "opening") -> float:
        center = self.closing_center if check == "closing" else self.center
        return 0.0 if math.isnan(pmi) else sigmoid(self.scale * (pmi - center))


BARS = LineBars()


def clauses(line: str) -> list[str]:
    return [c for c in _CLAUSE.split(line) if c]


def opening_parts(config: Config) -> dict[str, list[str]]:
    """The opening's parts and the phrasings each may be heard as."""
    rule = config.qa.opening
    parts = clauses(config.opening_line)
    # The company is its name alone: the clause's 这里是 is said before any firm's name, and scored
    # with it an agent who said 这里是东山电梯 read 0.39-0.70 on 这里是海尔斯科技 (unsure), against
    # -0.78 to -0.36 on the name; agents who said the name read 1.15 and up on it, 2.05 and up in a
    # whole opening (bench/verify_cost.py --save, 9 runs' recordings, 173 agents). The offer keeps
    # the line's own clause first: it is what a polite agent says, and the first phrasing heard ends
    # the search (check_lines).
    company = [config.company]
    offer = [*(c for c in parts if any(p in c for p in rule.offer_phrases)), *rule.offer_phrases]
    return {k: list(dict.fromkeys(p for p in v if p)) for k, v in (("company", company), ("offer", offer)) if any(v)}


def expected_lines(config: Config) -> list[str]:
    """The opening line in the two stretches an agent says whole: the greeting through the company's
    name, and the rest (the offer). Phrase candidates inside a stretch the text reads as one of them
    are that line's words (PhraseScorer.score_segments' ``lines``); a clause alone is too short to say
    so (您好: a true 你找错部门了 was written 您好,说不闻了). The closing phrases are not: dropping the
    candidates over them saved nothing on the scripted calls, and moved other candidates' windows."""
    parts = clauses(config.opening_line)
    at = next((i + 1 for i, c in enumerate(parts) if config.company and config.company in c), len(parts))
    return [line for line in ("".join(parts[:at]), "".join(parts[at:])) if len(read_syllables(line)) > 3]


def closing_phrases(config: Config) -> list[str]:
    """The closing phrases scored on the audio: four syllables or more. Shorter ones are read in the
    text only: the audio "heard" 谢谢您 (pmi 1.22) where a curt agent said 三天内会有人联系您
    (app/qa_eval_calls.yaml, closing-missing-hangup), and 再见 or 祝您 in as little."""
    return [p for p in config.qa.closing.phrases if len(read_syllables(p)) > 3]


def text_in(segments: Sequence[AsrSegment], lo: float, hi: float) -> str:
    return "".join(s.text for s in _overlapping(segments, lo, hi))


def _overlapping(segments: Iterable[AsrSegment], lo: float, hi: float) -> list[AsrSegment]:
    return [s for s in segments if s.start < hi and s.end > lo]


def opening_window(config: Config, result: CallResult, plan: TrackPlan | None) -> tuple[float, float] | None:
    """The agent's first turn, seconds on the agent track: from pickup (the first agent
    stretch of the timeline, else the first agent speech) until the caller speaks after
    the agent began, and not before the agent's first stretch of speech ends."""
    agent = next((t for t in result.tracks if t.speaker == "agent"), None)
    if agent is None:
        return None
    if plan is not None and plan.decode:
        lo = plan.decode[0][0]
    elif agent.speech:
        lo = agent.speech[0][0]
    else:
        return None
    within = config.qa.opening.within_s
    first = next(((a, b) for a, b in agent.speech if a >= lo - 0.5), None)
    hi = lo + within
    if first is not None and first[0] <= lo + within:
        began, spoke_until = first
        replies = [s.start for s in result.segments if s.speaker == "caller" and s.start > began + 2.0]
        # A caller talking over the opening ("你好，我的订单…" while the agent still greets) does not
        # cut it short: the turn lasts at least as long as the agent's first stretch of speech.
        hi = max(min(replies) if replies else lo + within + OPENING_TAIL_S, spoke_until + 0.3)
    hi = min(hi, lo + MAX_WINDOW_S, agent.duration)
    if plan is not None and plan.decode:
        hi = min(hi, plan.decode[0][1])
    return (lo, hi) if hi - lo >= 0.5 else None


def closing_window(result: CallResult, plan: TrackPlan | None) -> tuple[float, float] | None:
    """The end of the agent's speech; only with a timeline (without one, the track's last
    speech may be the IVR's goodbye prompt, which says the closing for the agent)."""
    agent = next((t for t in result.tracks if t.speaker == "agent"), None)
    if agent is None or plan is None or not plan.decode or not agent.speech:
        return None
    end = agent.speech[-1][1]
    return max(plan.decode[0][0], end - CLOSING_S), min(agent.duration, end + 0.3)


def check_lines(scorer: PhraseScorer, config: Config, audio: np.ndarray, result: CallResult,
                plan: TrackPlan | None, bars: LineBars = BARS) -> list[dict[str, Any]]:
    """One row per part heard or not: check, part, the best phrasing, the window scored,
    pmi, confidence that it was said, said (bool), and what the ASR wrote there."""
    rows: list[dict[str, Any]] = []
    for check, parts, (lo, hi), text in _jobs(config, result, plan):
        written = {part: _written(config, part, text, phrases) for part, phrases in parts.items()}
        rows += [_row(check, part, phrase, lo, hi, None, bars) for part, phrase in written.items() if phrase]
        unread = [(part, phrases) for part, phrases in parts.items() if phrases and not written[part]]
        if not unread:
            continue  # the transcript already holds every part: no audio to score (most real calls)
        placed = check == "closing" or _first_text(result, lo, hi) - lo < UNWRITTEN_LEAD_S
        starts = [lo] if text.strip() and placed else _starts(
            lo, hi if check == "closing" else min(hi, lo + OPENING_STARTS_S))
        whole = scorer.encode_window(audio, lo, hi)
        windows = [(scorer.after(whole, a - lo) if a > lo else whole, {}) for a in starts]
        for part, phrases in unread:
            later = check == "closing" or (part == "offer" and _said(rows, "opening", "company"))
            tries = windows if later else windows[:1]
            pmi, heard, phrase = _best(scorer, tries, text, phrases, bars.said)
            if len(tries) > 1 and check == "opening" and pmi < bars.said:
                # a later start counts only where it hears the offer: the best of several tries at a part
                # not said runs higher by chance (an agent silent at pickup: 0.43 from it, 0.50 the best
                # of five), and the bars were read off the opening scored from pickup (passes cached)
                pmi, heard, phrase = _best(scorer, windows[:1], text, phrases, bars.said)
            rows.append(_row(check, part, phrase, lo, hi, pmi, bars, heard))
    return rows


def shared_windows(config: Config, result: CallResult, plan: TrackPlan | None) -> list[tuple[float, float]]:
    """The windows check_lines will encode (those with a part the transcript does not hold word
    for word): phrase candidates inside them can share the encoder pass (PhraseScorer.sharing)."""
    return [window for _, parts, window, text in _jobs(config, result, plan)
            if any(phrases and not _written(config, part, text, phrases) for part, phrases in parts.items())]


def _jobs(config: Config, result: CallResult, plan: TrackPlan | None
          ) -> list[tuple[str, dict[str, list[str]], tuple[float, float], str]]:
    """(check, its parts and their phrasings, the window, the agent's free text in it), for the
    checks that have both parts and a window."""
    agent = [s for s in result.segments if s.speaker == "agent"]
    jobs = [("opening", opening_parts(config), opening_window(config, result, plan)),
            ("closing", {"closing": closing_phrases(config)}, closing_window(result, plan))]
    return [(check, parts, window, text_in(agent, *window)) for check, parts, window in jobs
            if window is not None and any(parts.values())]


def _written(config: Config, part: str, text: str, phrases: list[str]) -> str | None:
    """The phrasing the free text holds as the text rules read it, if any: a phrase (for the
    closing and the offer, the rule's written-only ones too) within about a syllable of sound, or the
    company's name spelled in Latin letters."""
    said = canonical(text)
    if part == "company" and contains_name(text, config.company):
        return config.company
    if part == "closing":
        read = config.qa.closing.courteous
    else:
        read = [*phrases, *config.qa.opening.written] if part == "offer" else phrases
    return next((p for p in read if canonical(p) and fuzzy_contains(canonical(p), said)), None)


def _row(check: str, part: str, phrase: str, lo: float, hi: float, pmi: float | None, bars: LineBars,
         heard: str | None = None) -> dict[str, Any]:
    """A row of ``Transcript.verified``; ``pmi`` None: the transcript holds the phrase (not scored)."""
    return {
        "check": check, "part": part, "phrase": phrase, "start": round(lo, 3), "end": round(hi, 3),
        "pmi": None if pmi is None else round(pmi, 3),
        "confidence": 1.0 if pmi is None else round(bars.confidence(pmi, check), 3),
        "said": pmi is None or pmi >= bars.said, "heard": phrase if heard is None else heard,
    }  # fmt: skip


def _best(scorer: PhraseScorer, windows: list[tuple[Any, dict[Any, Any]]], text: str, phrases: list[str],
          said: float) -> tuple[float, str, str]:
    """(pmi, heard, phrase) of the best-scoring phrasing; the first one heard ends the search (the
    rest would cost decoder passes to change nothing but the figure shown)."""
    best = (-math.inf, "", phrases[0])
    for phrase in phrases:
        for encoded, cache in windows:
            pmi, heard = scorer.presence(encoded, text, phrase, cache, enough=said)
            if pmi > best[0]:
                best = (pmi, heard, phrase)
            if pmi >= said:
                return best
    return best


def _said(rows: list[dict[str, Any]], check: str, part: str) -> bool:
    return any(r["said"] for r in rows if r["check"] == check and r["part"] == part)


def _first_text(result: CallResult, lo: float, hi: float) -> float:
    """When the agent's first free text in the window begins (``hi`` with none)."""
    agent = (s for s in result.segments if s.speaker == "agent")
    return min((s.start for s in _overlapping(agent, lo, hi) if s.text.strip()), default=hi)


def _starts(lo: float, hi: float) -> list[float]:
    """Where to start scoring a window the ASR wrote nothing for. With free text a phrase is placed
    in it; with none it can only go first, and a closing after other words (给您添麻烦了，感谢您的来电)
    scored 0.18 there: so it is tried from each second too, on one encoding of the window sliced at
    each start (PhraseScorer.after)."""
    return [lo + k * STEP_S for k in range(max(1, int((hi - lo - MIN_TAIL_S) / STEP_S) + 1))]
