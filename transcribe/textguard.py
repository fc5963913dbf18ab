"""Text clean-up for the ASR engine: which decoded segments are loops or known hallucinations.

`TextGuard` judges one segment's text (known hallucinations, zlib compression ratio, an n-gram
said over and over) and a run of segments (the decoder copying one line across segments);
`repetition_span` and `compression_ratio` are the plain measures it uses. Kept apart from
`transcribe.engine` because it is pure text: no audio, no model.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from difflib import SequenceMatcher

from transcribe.normalize import canonical
from transcribe.options import AsrOptions


def compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


def repetition_span(text: str, max_ngram: int, min_repeats: int, min_ngram: int = 1) -> tuple[str, int] | None:
    """The longest run of one n-gram (min_ngram..max_ngram chars) repeated >= min_repeats times."""
    if max_ngram < min_ngram:
        return None
    return _longest(re.compile(r"(.{%d,%d}?)\1{%d,}" % (min_ngram, max_ngram, min_repeats - 1)), text)  # noqa: UP031


def scattered_span(text: str, min_ngram: int, min_repeats: int, max_gap: int) -> tuple[str, int] | None:
    """The longest run of one n-gram (``min_ngram`` chars or more) said >= min_repeats times with at most
    ``max_gap`` other characters between each two: a loop the decoder garbles a little each time round
    (此么是爱而死,可其 four times, with 此 and 此之 between, over an agent's 25 s; zlib ratio 2.25)."""
    return _longest(re.compile(r"(.{%d,}?)(?:.{0,%d}?\1){%d,}" % (min_ngram, max_gap, min_repeats - 1)), text)  # noqa: UP031


def _longest(pattern: re.Pattern[str], text: str) -> tuple[str, int] | None:
    """(the repeated n-gram, the run's length) of ``pattern``'s longest match in ``text``."""
    runs = [(m.group(1), len(m.group(0))) for m in pattern.finditer(text)]
    return max(runs, key=lambda run: run[1], default=None)


# A single Latin letter joined by a dot or hyphen to the letter after it: "K." in "I.R.C.K.K.K.K.W.N.Y".
_SPELLED_LETTER = re.compile(r"(?<![A-Za-z])[A-Za-z][.\-](?=[A-Za-z])")


def spelled_letters(text: str) -> int:
    """The longest run of single Latin letters spelled out with dots or hyphens (I.R.C.K.K: 4;
    I-20: 0; U.S.A.: 2)."""
    best = run = 0
    end = -1
    for match in _SPELLED_LETTER.finditer(text):
        run = run + 1 if match.start() == end else 1
        end = match.end()
        best = max(best, run)
    return best


LOOP_GAP = 2  # characters a garbled loop puts between its rounds (more, and a list's items could pass for one)


class TextGuard:
    """Decides which decoded segments are loops or known hallucinations."""

    def __init__(self, options: AsrOptions) -> None:
        self.options = options
        self._contains = tuple(n for n in (canonical(h) for h in options.hallucinations) if n)
        self._whole = frozenset(canonical(h) for h in options.silence_hallucinations)

    def reject_reason(self, text: str) -> str | None:
        """'hallucination' (a known one, or letters spelled out of nothing), 'repetition' or None (keep)."""
        norm = canonical(text)
        if not norm:
            return None
        if norm in self._whole or any(h in norm for h in self._contains):
            return "hallucination"
        o = self.options
        if spelled_letters(text) > o.max_spelled_letters:
            return "hallucination"
        if o.compression_ratio_threshold is not None and compression_ratio(text) > o.compression_ratio_threshold:
            return "repetition"
        span = self.loop_span(norm)
        if span is not None and span[1] >= 0.5 * len(norm):
            return "repetition"
        return None

    def loop_span(self, norm: str) -> tuple[str, int] | None:
        """The longest loop in normalised text: a short n-gram (up to loop_max_ngram chars, or a
        quarter of the text if longer) said loop_min_repeats times in a row, or a long one
        (loop_long_ngram chars up to a third of the text) said loop_long_repeats times.

        The n-gram bound comes from the text's length: a fixed 8 let a 9-character clause
        loop through ("这么多年,我只能理解," x n)."""
        o = self.options
        found = [
            repetition_span(norm, max(o.loop_max_ngram, len(norm) // o.loop_min_repeats), o.loop_min_repeats),
            repetition_span(norm, len(norm) // o.loop_long_repeats, o.loop_long_repeats, o.loop_long_ngram),
            scattered_span(norm, o.loop_long_ngram, o.loop_long_repeats, LOOP_GAP),
        ]
        return max((f for f in found if f is not None), key=lambda f: f[1], default=None)

    def repeated_segments(self, texts: Sequence[str]) -> list[int]:
        """Indexes of segments that only repeat the one before them, in a loop across segments.

        A run of consecutive segments that each say one unit of text once or more (``您好`` and
        ``您好，您好``), as many times in all as the loop rule for one segment asks
        (loop_min_repeats, or loop_long_repeats for a unit of at least loop_long_ngram
        characters), is a loop: the decoder copying a line it had ("我已不知" in 8 segments of a
        polite agent; "此理事,此理事," twice and "此理事," twice, its garble of the opening's
        这里是, over an agent's answer and closing). The first of the run is kept: each segment of
        the run already passed the guard on its own, and the first is the one decoded from audio
        before the copying began; the copies are dropped (and their audio decoded again apart)."""
        o = self.options
        out: list[int] = []
        units = [_unit(canonical(t)) for t in texts]
        i = 0
        while i < len(units):
            unit, said = units[i]
            j = i + 1
            while j < len(units) and units[j][0] == unit:
                said += units[j][1]
                j += 1
            need = o.loop_long_repeats if len(unit) >= o.loop_long_ngram else o.loop_min_repeats
            if unit and j - i > 1 and said >= need:
                out.extend(range(i + 1, j))
            i = j
        return out

    def copied_segments(self, texts: Sequence[str]) -> list[int]:
        """Indexes of segments whose text nearly repeats an earlier segment's (copy_similarity of
        at least copy_min_chars characters). Whisper copies a sentence it wrote earlier in the
        window over audio that says something else (measured: the opening written again over
        25 s in which the agent asked for an order number, most words 0 s long at the end).
        The engine drops the copy and decodes its audio again apart: a sentence an agent
        really said twice comes back from that second pass, which sees no earlier text."""
        o = self.options
        norms = [canonical(t) for t in texts]
        out: list[int] = []
        # Each segment against every earlier one (quadratic in a long track): the matcher keeps its
        # analysis of the later text across them, and two cheap upper bounds of ratio() go first.
        match = SequenceMatcher(autojunk=False)
        for i, n in enumerate(norms):
            if len(n) < o.copy_min_chars:
                continue
            match.set_seq2(n)
            for m in norms[:i]:
                if len(m) < o.copy_min_chars:
                    continue
                match.set_seq1(m)
                if (match.real_quick_ratio() >= o.copy_similarity and match.quick_ratio() >= o.copy_similarity
                        and match.ratio() >= o.copy_similarity):
                    out.append(i)
                    break
        return out


def _unit(norm: str) -> tuple[str, int]:
    """(u, k): the shortest text u of two or more characters that ``norm`` is k copies of
    (("此理事", 2) for 此理事此理事). Not one character: 谢谢 and 看看 are words, not loops of 谢, 看."""
    period = (norm + norm).find(norm, 1) if norm else 0
    return (norm[:period], len(norm) // period) if 1 < period < len(norm) else (norm, 1)
