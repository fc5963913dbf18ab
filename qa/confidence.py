"""How sure QA is of a flag (issue 11 part 3; DESIGN.md "Trusting a flag").

Two scores, each in [0, 1], go into one:

- the ASR's own score of the segment the flag is on: ``exp(avg_logprob)``, the geometric
  mean of the decoder's token probabilities (Whisper's ``avg_logprob`` is a mean of
  natural-log token probabilities, so this is the per-token probability it stands for);
- the verification score (transcribe/verify.py): how well the decoder scores the rule's
  phrase itself against the audio of that stretch. NULL when the phrase was not checked.

The verification looks at the audio, the free transcript only at its own guess, so it
weighs three times as much, and where it did not confirm the phrase (a score under
``LISTEN_BELOW``) the flag stays unsure however sure the transcript is. For a flag about
something *missing* (no opening line, no closing courtesy) a high score that the phrase is
there speaks against the flag, so the score is turned round (``absence=True``), and it alone
decides: the ASR's score of the words it did write says nothing of the words that were not
there.

Flags from call events (hang-ups, slow answers, holds) are not read from speech: they
are as sure as the IVR's own log, 1.0.

A flag below ``LISTEN_BELOW`` is marked ``needs_listening``: a reviewer sees "listen"
instead of its severity, and it never counts as a breach until someone confirms it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from settings import REVIEW_CATEGORY

if TYPE_CHECKING:
    from qa.tables import Flag

LISTEN_BELOW = 0.5  # combined confidence under this asks for listening rather than accusing
VERIFY_WEIGHT = 0.75  # the audio check against the free transcript's own score
UNCHECKED_TEXT = 0.5  # a transcript flag with neither score: a guess either way
ABSENCE_CATEGORIES = frozenset({"opening", "closing"})  # flags for a phrase that was not said
EVENT_CATEGORIES = frozenset({"hangup", "slow-answer", "hold"})  # from the IVR's log, not from speech
LISTEN = "listen"  # the severity shown for a flag that needs listening


def asr_confidence(avg_logprob: float | None) -> float | None:
    """Whisper's segment ``avg_logprob`` (<= 0) as a probability in [0, 1]."""
    if avg_logprob is None or math.isnan(avg_logprob):
        return None
    return min(1.0, max(0.0, math.exp(min(0.0, avg_logprob))))


def flag_confidence(asr_logprob: float | None, verify_score: float | None, *, absence: bool = False,
                    from_speech: bool = True) -> tuple[float, bool]:
    """``(confidence, needs_listening)`` for one flag.

    ``asr_logprob``: the ``avg_logprob`` of the segment the flag is on (None: no segment).
    ``verify_score``: the decoder's score in [0, 1] that the rule's phrase is in the audio
    (None: not checked). ``absence``: the flag says the phrase is missing (opening, closing).
    ``from_speech=False``: an event flag (hang-up, wait, hold), sure by construction.
    """
    if not from_speech:
        return 1.0, False
    asr = asr_confidence(asr_logprob)
    verify = None
    if verify_score is not None and not math.isnan(verify_score):
        verify = min(1.0, max(0.0, float(verify_score)))
        if absence:
            verify = 1.0 - verify
    if verify is not None and asr is not None and not absence:
        combined = VERIFY_WEIGHT * verify + (1.0 - VERIFY_WEIGHT) * asr
        if verify < LISTEN_BELOW:
            # The audio did not confirm the phrase (a check's "no" is at most 0.49): the transcript's
            # own sureness must not lift it back over the bar (0.49 and an ASR score of 0.54 made a
            # sure 0.501 of a hit the audio doubted, on a held-out polite call).
            combined = min(combined, verify)
    elif verify is not None:
        combined = verify
    elif asr is not None:
        combined = asr
    else:
        combined = UNCHECKED_TEXT
    combined = round(combined, 3)
    return combined, combined < LISTEN_BELOW


def scores_for(category: str, asr_logprob: float | None,
               verify_score: float | None) -> tuple[float | None, float | None, float, bool]:
    """What a flag row stores: ``(asr_confidence, verify_confidence, confidence, needs_listening)``.

    ``verify_confidence`` is stored as the score that the phrase is present (as verify.py
    gave it); the turning round for absence flags happens only in the combined value.
    """
    from_speech = category not in EVENT_CATEGORIES
    confidence, listen = flag_confidence(asr_logprob, verify_score, absence=category in ABSENCE_CATEGORIES,
                                         from_speech=from_speech)
    asr = asr_confidence(asr_logprob) if from_speech else None
    verify = None if verify_score is None else round(min(1.0, max(0.0, float(verify_score))), 3)
    if category == REVIEW_CATEGORY:  # speech with no transcript: only a person listening can judge it
        listen = True
    return (None if asr is None else round(asr, 3)), verify, confidence, listen


def set_flag_confidence(flag: Flag, asr_logprob: float | None, verify_score: float | None = None) -> None:
    """Fill a flag's four confidence fields from its segment's ``avg_logprob`` and the audio check.

    Call after the flag's rule and category are set (qa/scan.py does, on every scan).
    """
    flag.asr_confidence, flag.verify_confidence, flag.confidence, flag.needs_listening = scores_for(
        flag.category, asr_logprob, verify_score)


def shown_severity(severity: str, needs_listening: bool, status: str = "new") -> str:
    """The severity a reviewer sees: an unsure flag asks to be listened to instead, until a
    person has given a verdict (then the rule's own severity stands)."""
    return LISTEN if needs_listening and status == "new" else severity
