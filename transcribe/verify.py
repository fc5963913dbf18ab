"""Checking phrases against the audio: forced-decoding scores, keyword spotting, name tolerance.

A text match on the free Whisper transcript is a hint, not a verdict (DESIGN.md, "Trusting
a flag"): Whisper base on 8 kHz phone audio garbles words (你找错部门了 -> 您早说不门了) and
can invent text. Biasing the decoder toward the phrases (hotwords) invents them outright, so
the transcript stays unbiased and each phrase is instead checked against the audio it is
said to be in:

- ``score_phrase``: the decoder's teacher-forced log-probability (CTranslate2
  ``Whisper.align``) of the free text with one span replaced by the phrase, against that
  of the free text itself, per phrase token (``delta``; 0 when the text already holds the
  phrase), and how much this audio raised the phrase's own tokens over silence after the
  same words (``pmi``: the decoder's language prior, and its habit of copying what the
  text already says, cancel out). evidence = delta + 0.5 * pmi; with a floor on pmi it
  decides, and it gives a ``confidence`` in [0, 1].
- ``PhraseScorer.spot``: keyword spotting over the agent's segments. A sound-alike
  pre-filter (toneless pinyin, near sounds cost less; a lost 不/没/别 disqualifies) picks
  the few stretches worth a decoder pass; only audio around them is encoded. Used both
  ways: text hits are confirmed (precision) and garbled phrases found (recall).
- ``contains_name``: a company name found within about one syllable of sound
  (ai er si ke ji for hai er si ke ji), Latin letters and digits read out first
  (I-20 -> ai er shi).

Measured in bench/verify.py (figures and how the bars were chosen are in its docstring):
delta alone is fooled wherever the free text is gibberish (any fluent phrase beats it),
which is why pmi is in the evidence and has a floor.

"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer

from transcribe.normalize import canonical, says_more, to_simplified
from transcribe.sounds import (
    Gapped,
    Span,
    exact_spans,
    find_spans,
    gap_garbles,
    latin_runs,
    negation_kept_or_misheard,
    read_syllables,
)
from transcribe.verdict import PMI_CAP, PhraseScore, VerifyOptions, judge

SAMPLE_RATE = 16000  # what the encoder takes; 8 kHz phone audio is resampled first
_HOP = 160  # samples per mel frame
MAX_WINDOW_S = 29.0  # the encoder takes at most 30 s
# A candidate's window may reach this far out of a shared window and still be cut from it (sharing()):
# the pad_s kept before the agent's first words reached up to 0.04 s before the pickup where the
# opening's window starts (5 of 32 scripted calls), audio from before the agent answered.
HOST_SLACK_S = 0.3
_PRIORS_KEPT = 4096  # token sequences whose prior over silence is kept (a few KB each)
# An expected line is read in the text within this many sound edits per syllable (score_segments' ``lines``):
# the text rules' own tolerance (phonetic.fuzzy_contains). 您好,这里是I-20个器 is 1.0 from the greeting with
# 海尔斯科技 (10 syllables), 您抱着离世爱而是个气 1.5; 您好,这部门子 (a garbled 你找错部门了) is past 2.5.
EXPLAINED_MAX_COST = 0.25
_REDECODE_NO_REPEAT = 12  # as AsrOptions.no_repeat_ngram_size: a greedy loop stops repeating itself


class SegmentLike(Protocol):
    """What spotting needs of an ASR segment (transcribe.engine's segments have it)."""

    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Spotted:
    """A phrase verified in one segment of a track."""

    phrase: str
    segment: int  # index into the segments given to spot(): where the phrase starts
    start: float  # the audio that was scored, seconds on the track (play from here)
    end: float
    score: PhraseScore


@dataclass(frozen=True)
class Encoded:
    """A stretch of audio through the encoder once, scored against many texts."""

    output: Any  # ctranslate2.StorageView, [1, frames / 2, d_model]
    frames: int


class PhraseScorer:
    """Scores phrases against audio with a loaded faster-whisper model (no second copy)."""

    def __init__(self, model: WhisperModel, options: VerifyOptions | None = None, language: str = "zh") -> None:
        self.options = options or VerifyOptions()
        self._whisper = model
        self._ct2 = model.model
        self._tok = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)
        self._sot = [*self._tok.sot_sequence, self._tok.no_timestamps]
        self._null: Encoded | None = None
        # Priors over silence depend on the tokens alone: kept across windows and calls (the same
        # closing phrase tried from each second, the same clause on every call), within a bound.
        self._priors: dict[tuple[int, ...], np.ndarray] = {}
        # Inside sharing(): the windows the caller will score later, and each window encoded so far
        # (by sample range), for the one track being verified.
        self._planned: list[tuple[float, float]] = []
        self._shared: dict[tuple[int, int], Encoded] | None = None  # None: outside sharing()
        self._track: np.ndarray | None = None
        # cost accounting (the benches print them): passes, and their CPU seconds in this process
        self.encodes = 0
        self.decoder_passes = 0
        self.encode_cpu = 0.0
        self.decode_cpu = 0.0

    # primitives

    def encode(self, audio: np.ndarray) -> Encoded:
        """Encoder output for 16 kHz mono float32 audio, not padded to Whisper's 30 s
        window: the encoder's cost grows faster than linearly with length, and a segment
        is a few seconds."""
        audio = np.asarray(audio, dtype=np.float32)
        if audio.size < SAMPLE_RATE // 2:
            audio = np.concatenate([audio, np.zeros(SAMPLE_RATE // 2 - audio.size, np.float32)])
        frames = audio.size // _HOP
        frames -= frames % 2  # the encoder halves the frame count
        if frames > 3000:
            raise ValueError(f"{audio.size / SAMPLE_RATE:.1f} s of audio: the encoder takes at most 30 s "
                             "(score a segment, not a whole track)")
        features = np.ascontiguousarray(self._whisper.feature_extractor(audio)[:, :frames])
        self.encodes += 1
        started = time.process_time()
        out = self._ct2.encode(ctranslate2.StorageView.from_array(features[None]), to_cpu=False)
        self.encode_cpu += time.process_time() - started
        return Encoded(out, frames)

    @contextmanager
    def sharing(self, windows: Sequence[tuple[float, float]]) -> Iterator[None]:
        """Within it, each window of the track being verified is encoded once (``encode_window``),
        and a phrase candidate whose window lies inside one of ``windows`` (seconds on the track:
        the opening and closing windows, transcribe/lines.py) is scored on that window's encoding,
        cut to its own stretch (``within``), rather than on an encoding of its own."""
        self._planned, self._shared, self._track = sorted(windows), {}, None
        try:
            yield
        finally:
            self._planned, self._shared, self._track = [], None, None

    def encode_window(self, audio: np.ndarray, t0: float, t1: float) -> Encoded:
        """``encode`` of ``audio`` from ``t0`` to ``t1`` seconds; inside ``sharing()`` a window
        already encoded is not encoded again."""
        a, b = max(0, round(t0 * SAMPLE_RATE)), min(audio.size, round(t1 * SAMPLE_RATE))
        if self._shared is None:
            return self.encode(audio[a:b])
        if audio is not self._track:  # another track: its windows are other audio
            self._shared, self._track = {}, audio
        if (a, b) not in self._shared:
            self._shared[a, b] = self.encode(audio[a:b])
        return self._shared[a, b]

    def candidate_window(self, audio: np.ndarray, t0: float, t1: float) -> Encoded:
        """The encoding a phrase candidate's window (``t0`` to ``t1`` seconds) is scored on: cut
        from a shared window holding it (the shortest), else its own."""
        held = [w for w in self._planned if w[0] - HOST_SLACK_S <= t0 and t1 <= w[1] + HOST_SLACK_S]
        if not held:
            return self.encode_window(audio, t0, t1)
        lo, hi = min(held, key=lambda w: w[1] - w[0])
        return self.within(self.encode_window(audio, lo, hi), t0 - lo, t1 - lo)

    @staticmethod
    def after(encoded: Encoded, seconds: float) -> Encoded:
        """The encoder output from ``seconds`` into its audio on: the decoder then reads the audio
        as starting there. One encoding sliced at each start stands in for encoding each tail
        anew; on a closing said after other words the best start scored within 0.4 nats of the
        re-encoded tails, and no start of a window without it rose over 0.13 (nor did a tail)."""
        return PhraseScorer.within(encoded, seconds, math.inf)

    @staticmethod
    def within(encoded: Encoded, start: float, end: float) -> Encoded:
        """The encoder output from ``start`` to ``end`` seconds into its audio (at least one frame).
        It stands in for encoding that stretch alone, as ``after`` does: the frames still saw the
        audio around them (self-attention), and a decoder pass costs in proportion to the frames
        read, so each candidate keeps its own short window. Measured on the 32 scripted calls
        (bench/verify_cost.py --share): rows as on their own encodings. Scoring candidates on the
        whole opening/closing window instead cost as many decoder seconds as it saved encoder ones,
        and with the closing's text before it a second 台电 rose over the bar as 快点 (call 26)."""
        frames = encoded.frames // 2
        a = min(max(0, round(start * SAMPLE_RATE / _HOP / 2)), frames - 1)
        b = frames if end == math.inf else min(frames, max(a + 1, round(end * SAMPLE_RATE / _HOP / 2)))
        out = np.ascontiguousarray(np.asarray(encoded.output)[:, a:b, :])
        return Encoded(ctranslate2.StorageView.from_array(out), out.shape[1] * 2)

    def token_logprobs(self, encoded: Encoded, tokens: Sequence[int]) -> np.ndarray:
        """Teacher-forced log-probability of each token over the encoded audio."""
        if not tokens:
            return np.zeros(0)
        self.decoder_passes += 1
        started = time.process_time()
        # Only the token probabilities are read, never the alignment: a median filter of width 1 is
        # none, and spares the pass filtering the attention weights (a quarter of a pass on 10-20 s).
        result = self._ct2.align(encoded.output, self._sot, [list(tokens)], [encoded.frames], median_filter_width=1)
        self.decode_cpu += time.process_time() - started
        probs = np.asarray(result[0].text_token_probs, dtype=np.float64)
        return np.log(np.maximum(probs, 1e-12))

    def redecode(self, encoded: Encoded, max_tokens: int) -> str:
        """What the decoder reads in ``encoded`` on its own: greedy, no text before it, at most
        ``max_tokens`` tokens (a loop stops there), in Simplified characters."""
        self.decoder_passes += 1
        started = time.process_time()
        result = self._ct2.generate(encoded.output, [self._sot], beam_size=1, max_length=len(self._sot) + max_tokens,
                                    no_repeat_ngram_size=_REDECODE_NO_REPEAT)
        self.decode_cpu += time.process_time() - started
        return to_simplified(self._tok.decode(result[0].sequences_ids[0]))

    def holds(self, phrase: str, text: str) -> bool:
        """``text`` says ``phrase``, word for word or as a garble the spotter would score (close
        enough in sound, enough of its syllables, its 不/没/别 kept or, in a long phrase, misheard)."""
        if exact_spans(phrase, text):
            return True
        syllables = max(1, len(read_syllables(phrase)))
        spans = find_spans(phrase, text, self.options.max_cost(syllables) * syllables, self.options.spans_per_phrase)
        return any(negation_kept_or_misheard(phrase, text[s.start : s.end])
                   and self._may_accept(text, phrase, s, syllables) for s in spans)

    def _null_encoded(self) -> Encoded:
        if self._null is None:
            self._null = self.encode(np.zeros(round(self.options.null_seconds * SAMPLE_RATE), np.float32))
        return self._null

    # one phrase over one stretch

    def score_phrase(
        self, audio: np.ndarray | Encoded, text: str, phrase: str, span: Span | None = None
    ) -> PhraseScore:
        """How strongly ``audio`` (the stretch whose free transcript is ``text``) supports
        ``phrase``. Without ``span`` the phrase is placed where the text holds it, else at
        the stretch that sounds most like it (or appended, when nothing does)."""
        encoded = audio if isinstance(audio, Encoded) else self.encode(audio)
        if span is None:
            exact = exact_spans(phrase, text)
            found = exact or find_spans(phrase, text, max_cost=math.inf, limit=1)
            span = found[0] if found else Span(float(len(read_syllables(phrase))), len(text), len(text))
        score = self._score(encoded, text, phrase, span, {})
        if not score.exact and not negation_kept_or_misheard(phrase, score.heard):
            score = replace(score, accepted=False, confidence=min(score.confidence, 0.49))
        return score

    def _score(self, encoded: Encoded, text: str, phrase: str, span: Span, cache: dict[Any, Any]) -> PhraseScore:
        exact = canonical(text[span.start : span.end]) == canonical(phrase)
        pre, post = self._tokens(text[: span.start], cache), self._tokens(text[span.end :], cache)
        said = self._tokens(phrase, cache)
        # A text hit's delta is 0 and its pmi reads the phrase's tokens only, which the text after
        # them does not change (the decoder reads left to right): that text is left out of the pass.
        lp_edit = self._logprobs(encoded, pre + said + ([] if exact else post), cache)
        # The free text is scored once per stretch, tokenized whole.
        delta = 0.0 if exact else float(lp_edit.sum() - self._logprobs(encoded, self._tokens(text, cache), cache).sum())
        delta /= max(1, len(said))
        o = self.options
        if delta + o.pmi_weight * PMI_CAP < min(o.min_evidence, o.short_min_evidence):
            pmi = math.nan  # no audio evidence could lift it over the bar: spare the pass
        else:
            pmi = self._pmi(lp_edit, pre, said)
        disputed = math.nan
        if not exact and not math.isnan(pmi):
            at = _disputed_tokens(self._tok, said, phrase, text[span.start : span.end])
            disputed = self._pmi(lp_edit, pre, said, at) if at else math.nan
        syllables = max(1, len(read_syllables(phrase)))
        raw = PhraseScore(
            phrase=phrase,
            text=text,
            start=span.start,
            end=span.end,
            exact=exact,
            syllables=syllables,
            cost=span.cost / syllables,
            delta=delta,
            pmi=pmi,
            evidence=0.0,
            confidence=0.0,
            accepted=False,
            disputed_pmi=disputed,
        )
        return judge(raw, self.options)

    def _pmi(self, lp_edit: np.ndarray, pre: list[int], said: list[int], only: Sequence[int] | None = None) -> float:
        """Mean log-prob of the phrase's tokens (``said``, after ``pre``) over the audio minus
        over silence: what the audio, not the language prior, says for the phrase. The same
        context also cancels the decoder's habit of copying a phrase the text already holds
        (measured on hotword transcripts: a prior without the context let a repeat through).
        ``only``: of those tokens (indexes into ``said``)."""
        if not said:
            return 0.0
        at = slice(len(pre), len(pre) + len(said))
        over = lp_edit[at] - self._prior(pre + said)[at]
        return float(np.mean(over if only is None else over[list(only)]))

    def alike_delta(self, encoded: Encoded, text: str, span: Span, phrase: str, word: str,
                    word_span: Span | None = None) -> float:
        """Nats per token by which ``word`` reads ``encoded`` worse than ``phrase`` does, each put in
        place of ``text[span]`` (0: as well; above 0: better). The larger of two readings: the whole
        text with each swapped in, and the text only up to it. The text after a misheard word was
        written to follow it (快点点下 for 快递明天下) and can sink the true word by 5 nats; the
        left-only reading misses what the audio after the word says against it. ``word_span``: the
        word goes over that stretch instead, one holding ``span`` (an allowed wording around a hit:
        可能我没有说清楚 over 可能我没有,我先住 where the phrase 可能 is over 可能)."""
        cache: dict[Any, Any] = {}
        word_span = word_span or span
        # The left-only reading ends where the later of the two swapped stretches ends.
        upto = max(span.end, word_span.end)
        alt_left = (self._tokens(text[: word_span.start], cache) + self._tokens(word, cache)
                    + self._tokens(text[word_span.end : upto], cache))
        said_left = (self._tokens(text[: span.start], cache) + self._tokens(phrase, cache)
                     + self._tokens(text[span.end : upto], cache))
        post = self._tokens(text[upto:], cache)
        lp_alt = self.token_logprobs(encoded, alt_left + post)
        lp_said = self.token_logprobs(encoded, said_left + post)
        whole = lp_alt.sum() - lp_said.sum()
        # The decoder reads left to right: the text up to the word scores as the whole text's first
        # tokens (the text before both, the same tokens in each, cancels out).
        left = lp_alt[: len(alt_left)].sum() - lp_said[: len(said_left)].sum()
        return float(max(whole, left)) / max(1, len(self._tokens(word, cache)))

    def added_pmi(self, encoded: Encoded, text: str, span: Span, phrase: str, word: str) -> float:
        """How much ``encoded`` raises, over silence, the tokens ``word`` adds around ``phrase`` (我没有说清楚
        of 可能我没有说清楚), ``word`` put over ``text[span]`` (``_pmi`` of those tokens alone). A fluent
        wording read over a garbled free text beats it whatever the audio says (我不能肯定 over
        我不能唤临, where the agent said 我不能帮您): the audio must say the added words too."""
        cache: dict[Any, Any] = {}
        at = word.index(phrase)
        pre = self._tokens(text[: span.start], cache)
        head, said, tail = (self._tokens(part, cache) for part in (word[:at], phrase, word[at + len(phrase) :]))
        tokens = pre + head + said + tail
        added = [*range(len(pre), len(pre) + len(head)), *range(len(pre) + len(head) + len(said), len(tokens))]
        if not added:
            return 0.0
        over = self.token_logprobs(encoded, tokens) - self._prior(tokens)
        return float(np.mean(over[added]))

    def presence(self, encoded: Encoded, text: str, phrase: str, cache: dict[Any, Any] | None = None,
                 enough: float = math.inf) -> tuple[float, str]:
        """``(pmi, heard)``: how much ``encoded`` audio, whose free transcript is ``text``, raises
        ``phrase`` over silence, placed where the text holds it or sounds most like it (else
        appended), and what the ASR wrote there. For lines that must be said (the opening, the
        closing): pmi alone, since against a garbled free text delta says little of presence
        (bench/verify_lines.py).

        Placed by sound under ``enough``, the phrase is tried at each stretch in Latin letters too,
        and the best place counts: Whisper writes a name it cannot spell in characters that way,
        which the sound-alike search cannot read (set6's 海尔斯科技 written "IrSkirkey" read -1.37
        where the search put it, 2.46 at the Latin word)."""
        cache = {} if cache is None else cache
        said = self._tokens(phrase, cache)

        def placed(span: Span) -> tuple[float, str]:
            pre = self._tokens(text[: span.start], cache)
            # The decoder reads left to right: the phrase's tokens score the same without the text
            # after it, and each token left out spares the pass a projection onto the vocabulary.
            return self._pmi(self._logprobs(encoded, pre + said, cache), pre, said), text[span.start : span.end]

        exact = exact_spans(phrase, text)
        if exact:
            return placed(exact[0])
        by_sound = find_spans(phrase, text, max_cost=math.inf, limit=1)
        best = placed(by_sound[0] if by_sound else Span(0.0, len(text), len(text)))
        for span in latin_runs(text):
            if best[0] >= enough:
                break
            best = max(best, placed(span), key=lambda scored: scored[0])
        return best

    def _tokens(self, text: str, cache: dict[Any, Any]) -> list[int]:
        key = ("tok", text)
        if key not in cache:
            cache[key] = list(self._tok.encode(text)) if text else []
        return list(cache[key])

    def _logprobs(self, encoded: Encoded, tokens: list[int], cache: dict[Any, Any]) -> np.ndarray:
        key = ("lp", tuple(tokens))
        if key not in cache:
            cache[key] = self.token_logprobs(encoded, tokens)
        return np.asarray(cache[key])

    def _prior(self, tokens: list[int]) -> np.ndarray:
        key = tuple(tokens)
        if key not in self._priors:
            if len(self._priors) >= _PRIORS_KEPT:
                self._priors.clear()
            self._priors[key] = self.token_logprobs(self._null_encoded(), tokens)
        return self._priors[key]

    # keyword spotting over a track

    def spot(self, audio: np.ndarray, segments: Sequence[SegmentLike], phrases: Sequence[str],
             rivals: Sequence[str] = (), worded: Sequence[str] = (), gapped: Sequence[Gapped] = ()) -> list[Spotted]:
        """Phrases verified in the given segments of a 16 kHz track (the agent's speech):
        text hits confirmed and garbles found (``resolve`` of ``score_segments``)."""
        return resolve(self.score_segments(audio, segments, phrases, rivals, shown_only=True, worded=worded,
                                           gapped=gapped))

    def score_segments(
        self, audio: np.ndarray, segments: Sequence[SegmentLike], phrases: Sequence[str], rivals: Sequence[str] = (),
        shown_only: bool = False, worded: Sequence[str] = (), gapped: Sequence[Gapped] = (),
        lines: Sequence[str] = (),
    ) -> list[Spotted]:
        """Every text hit and every stretch passing the sound-alike pre-filter, scored,
        accepted or not (for thresholds and the bench). ``shown_only``: only what ``resolve``
        may keep (every text hit, and the garbles that can be accepted), for fewer decoder passes.
        ``worded``: more phrases, scored only where the text says them word for word (the
        wordings of a phrase with a gap, settings/gaps.py: hundreds, too many to search by sound).
        ``gapped``: the phrases with a gap, whose wordings are searched by sound where the text has the
        words around the gap and a garbled filling between (sounds.gap_garbles: 我爱真不清楚).

        ``rivals`` are wordings an agent is expected to say (the courtesy lines): a garble is
        refused where one of them, placed over the same stretch, is the likelier reading of
        the audio (``rival``).

        ``lines``: what the agent is expected to say word for word (the opening's greeting with the
        company, its offer of help). Where a stretch of the text sounds like one of them, within
        ``EXPLAINED_MAX_COST`` per syllable, a garble lying wholly inside it is that line's words,
        garbled, and is not scored (nor its audio encoded): 你等着 over 您好,这 and 估计 over 科技 in
        "您好,这里是I-20科技" were a third of the phrase candidates of the scripted calls, all refused.

        Segments less than ``join_gap_s`` apart are searched as one text (Whisper splits a
        sentence at commas, and a garbled phrase across the split). Only audio around
        candidates is encoded: with word timestamps, ``window_s`` either side of each
        candidate (merged when they overlap), else the whole joined stretch."""
        o = self.options
        out: list[Spotted] = []
        for text, owner, times, lo, hi in join_segments(segments, o.join_gap_s, o.pad_s):
            said = canonical(text)
            candidates = [(w, s) for w in worded if canonical(w) in said for s in exact_spans(w, text)]
            expected = [s for line in lines
                        for s in find_spans(line, text, EXPLAINED_MAX_COST * len(read_syllables(line)), 2)]
            for phrase in phrases:
                exact = exact_spans(phrase, text)
                candidates.extend((phrase, s) for s in exact)
                syllables = len(read_syllables(phrase))
                limit = o.max_cost(syllables) * syllables
                for s in find_spans(phrase, text, limit, o.spans_per_phrase):
                    if any(s.overlaps(e) for e in exact) or any(s.within(e) for e in expected):
                        continue
                    # a garble that can never be accepted is not shown: its audio is not encoded
                    if shown_only and not self._may_ever_accept(text, phrase, s, max(1, syllables)):
                        continue
                    if negation_kept_or_misheard(phrase, text[s.start : s.end]):
                        candidates.append((phrase, s))
            found = self._score_windows(audio, text, owner, times, lo, hi, candidates, rivals, shown_only)
            # A wording with a garbled gap is looked for only where nothing was found, on windows of its own:
            # merged with the others' windows it moved their scores (a polite 尽快点击's 快点, doubted as 快递 on
            # its own window, read sure on one grown by 20 s).
            taken = [span for spotted, span in found if spotted.score.accepted]
            gap_candidates = [(w, s) for gap in gapped
                              for w, s in gap_garbles(gap, text, o.max_cost(len(read_syllables(gap.tail))))
                              if not any(s.overlaps(t) for t in taken) and not any(s.within(e) for e in expected)
                              and (not shown_only or self._may_ever_accept(text, w, s, len(read_syllables(w))))]
            found += self._score_windows(audio, text, owner, times, lo, hi, gap_candidates, rivals, shown_only)
            out += [spotted for spotted, _ in found]
        return out

    def _score_windows(self, audio: np.ndarray, text: str, owner: list[int], times: list[tuple[float, float]] | None,
                       lo: float, hi: float, candidates: list[tuple[str, Span]], rivals: Sequence[str],
                       shown_only: bool) -> list[tuple[Spotted, Span]]:
        """The candidates in one joined ``text`` scored, on windows around them (``_windows``), each with
        its stretch of ``text``."""
        o = self.options
        out: list[tuple[Spotted, Span]] = []
        for (t0, t1, c0, c1), group in _windows(candidates, times, lo, hi, o.window_s):
            a, b = max(0, round(t0 * SAMPLE_RATE)), min(audio.size, round(t1 * SAMPLE_RATE))
            if b - a < _HOP * 4:
                continue
            encoded = self.candidate_window(audio, t0, t1)
            cache: dict[Any, Any] = {}
            local = text[c0:c1]
            shifted = [Span(s.cost, s.start - c0, s.end - c0) for _, s in group]
            exact = [canonical(local[s.start : s.end]) == canonical(p)
                     for (p, _), s in zip(group, shifted, strict=True)]
            scores: dict[int, PhraseScore] = {}
            # Text hits first: resolve() drops a garble overlapping an accepted one in its window.
            for k in sorted(range(len(group)), key=lambda k: not exact[k]):
                if exact[k]:
                    scores[k] = self._score(encoded, local, group[k][0], shifted[k], cache)
                    continue
                hits = [h for h in scores.values() if h.exact and h.accepted]
                if shown_only and any(shifted[k].start < h.end and h.start < shifted[k].end
                                      and not says_more(group[k][0], h.phrase) for h in hits):
                    continue
                found = self._garble(encoded, local, group[k][0], shifted[k], rivals, cache, shown_only)
                if found is not None:
                    scores[k] = found
            out += [(Spotted(group[k][0], owner[group[k][1].start], t0, t1, scores[k]), group[k][1])
                    for k in sorted(scores)]
        return out

    def _garble(self, encoded: Encoded, text: str, phrase: str, span: Span, rivals: Sequence[str],
                cache: dict[Any, Any], shown_only: bool) -> PhraseScore | None:
        """The score of a sound-alike stretch of ``text``, or None (``shown_only``) when it cannot
        be accepted whatever the audio says (what resolve() would drop unseen)."""
        syllables = max(1, len(read_syllables(phrase)))
        # The cheapest sound match may be shorter than what the phrase's audio covers
        # (我们诚 for 我们非常忙): it is also tried as long as the phrase, the likelier kept.
        longer = _extend(text, span, syllables)
        if shown_only:
            may = [self._may_accept(text, phrase, s, syllables) for s in (span, longer) if s is not None]
            if not any(may):
                return None
            # Where one of the two can never be accepted, the other one not accepted settles it
            # (passes are cached: scoring it again below costs none).
            if len(may) == 2 and may != [True, True]:
                settles = self._score(encoded, text, phrase, span if may[0] else longer, cache)  # type: ignore[arg-type]
                if not settles.accepted:
                    return None
        best = self._score(encoded, text, phrase, span, cache)
        if longer is not None:
            other = self._score(encoded, text, phrase, longer, cache)
            best = other if other.evidence > best.evidence else best
        if best.accepted:
            best = self._against_rivals(encoded, text, best, rivals, cache)
        return best

    def _may_ever_accept(self, text: str, phrase: str, span: Span, syllables: int) -> bool:
        """``_may_accept`` for the stretch or for it grown to the phrase's length (``_garble``)."""
        longer = _extend(text, span, syllables)
        return any(self._may_accept(text, phrase, s, syllables) for s in (span, longer) if s is not None)

    def _may_accept(self, text: str, phrase: str, span: Span, syllables: int) -> bool:
        """What judge() asks of a garble's text alone: close enough in sound, and enough of the
        phrase's syllables heard."""
        o = self.options
        heard = len(read_syllables(text[span.start : span.end]))
        return span.cost / syllables <= o.max_cost(syllables) and heard >= o.min_heard_share * syllables

    def _against_rivals(self, encoded: Encoded, text: str, score: PhraseScore, rivals: Sequence[str],
                        cache: dict[Any, Any]) -> PhraseScore:
        """``score`` refused (``rival`` set) when a rival wording over the same stretch of ``text``
        makes the whole text likelier on this audio than the garble does. Two-syllable garbles
        need this: 快点 was "found" in the closing's 来电 (written 台电), which the closing
        phrase 感谢您的来电 explains better."""
        o = self.options
        said = self._tokens(text[: score.start], cache) + self._tokens(score.phrase, cache)
        garble = float(self._logprobs(encoded, said + self._tokens(text[score.end :], cache), cache).sum())
        for rival in rivals:
            limit = o.max_cost_per_syllable * len(read_syllables(rival))
            for span in exact_spans(rival, text) or find_spans(rival, text, limit, 1):
                if not (span.start < score.end and score.start < span.end):
                    continue
                tokens = self._tokens(text[: span.start], cache) + self._tokens(rival, cache)
                tokens += self._tokens(text[span.end :], cache)
                if float(self._logprobs(encoded, tokens, cache).sum()) >= garble:
                    return judge(replace(score, rival=rival), o)
        return score


# Segments joined into one text: (text, segment index of each character, times of each character or
# None, audio start, audio end).
Joined = tuple[str, list[int], list[tuple[float, float]] | None, float, float]


def join_segments(segments: Sequence[SegmentLike], gap_s: float, pad_s: float) -> list[Joined]:
    """Segments less than ``gap_s`` apart as one text: (text, segment index of each
    character, times of each character or None, audio start, audio end)."""
    out: list[Joined] = []
    group: list[int] = []

    def flush() -> None:
        if not group:
            return
        text = "".join(segments[i].text for i in group)
        owner = [i for i in group for _ in segments[i].text]
        parts = [_char_times(segments[i]) for i in group]
        times = None if any(p is None for p in parts) else [t for p in parts for t in p or ()]
        out.append((text, owner, times, segments[group[0]].start - pad_s, segments[group[-1]].end + pad_s))

    for i, seg in enumerate(segments):
        if group and seg.start - segments[group[-1]].end > gap_s:
            flush()
            group = []
        group.append(i)
    flush()
    return out


def _disputed_tokens(tok: Tokenizer, said: list[int], phrase: str, heard: str) -> list[int]:
    """Indexes of the tokens of ``phrase`` (``said``) that carry the characters the ASR wrote
    otherwise in ``heard``: all but the characters both start or end with (非常忙 of 我们非常忙 over
    我们会催,催). None where that is one character: a single token's pmi says little (你 of 你不明白
    over a said 你不明白 written 您不明白 read -1.2; 着 of 等着吧 written 等著吧, 0.5)."""
    ph, hd = canonical(phrase), canonical(heard)
    lo = _shared_start(ph, hd)
    hi = len(ph) - _shared_start(ph[lo:][::-1], hd[lo:][::-1])  # the common end, after the start
    if hi - lo < 2:
        return []
    ends = [len(canonical(tok.decode(said[: i + 1]).replace("\ufffd", ""))) for i in range(len(said))]
    return [i for i, end in enumerate(ends) if (ends[i - 1] if i else 0) < hi and end > lo]


def _shared_start(a: str, b: str) -> int:
    """How many characters ``a`` and ``b`` start with alike."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _extend(text: str, span: Span, syllables: int) -> Span | None:
    """``span`` grown to the right until it covers ``syllables`` syllables, or None if it
    already does (or the text ends first)."""
    sounds = read_syllables(text)
    inside = [k for k, s in enumerate(sounds) if span.start <= s.start and s.end <= span.end]
    if not inside or len(inside) >= syllables or inside[0] + syllables > len(sounds):
        return None
    return Span(span.cost, span.start, sounds[inside[0] + syllables - 1].end)


def _windows(
    candidates: list[tuple[str, Span]], times: list[tuple[float, float]] | None, lo: float, hi: float,
    window_s: float | None,
) -> list[tuple[tuple[float, float, int, int], list[tuple[str, Span]]]]:
    """Audio (t0, t1) and text (c0, c1) stretches to score the candidates on."""
    if not candidates:
        return []
    if window_s is None or times is None:
        if hi - lo <= MAX_WINDOW_S:
            return [((lo, hi, 0, 10**9), candidates)]
        # Too long for one encoder window and no word times: place characters evenly.
        n = max(1, max(s.end for _, s in candidates))
        step = (hi - lo) / n
        times = [(lo + k * step, lo + (k + 1) * step) for k in range(n)]
        window_s = max(window_s or 0.0, 5.0)
    spans = sorted((((max(lo, times[s.start][0] - window_s), min(hi, times[s.end - 1][1] + window_s)), (p, s))
                    for p, s in candidates), key=lambda x: x[0])  # fmt: skip
    groups: list[tuple[list[float], list[tuple[str, Span]]]] = []
    for (t0, t1), cand in spans:
        t1 = min(t1, t0 + MAX_WINDOW_S)
        if groups and t0 <= groups[-1][0][1] and t1 - groups[-1][0][0] <= MAX_WINDOW_S:
            groups[-1][0][1] = max(groups[-1][0][1], t1)
            groups[-1][1].append(cand)
        else:
            groups.append(([t0, t1], [cand]))
    out = []
    for (t0, t1), group in groups:
        inside = [i for i, (a, b) in enumerate(times) if t0 <= (a + b) / 2 <= t1]
        c0 = min([*inside, *(s.start for _, s in group)])
        c1 = max([*(i + 1 for i in inside), *(s.end for _, s in group)])
        out.append(((t0, t1, c0, c1), group))
    return out


def _char_times(seg: SegmentLike) -> list[tuple[float, float]] | None:
    """(start, end) seconds of each character of seg.text, from its word timestamps, or
    None when the segment has none or its words do not spell its text."""
    words = getattr(seg, "words", None)
    if not words:
        return None
    times: list[tuple[float, float]] = []
    spelled = ""
    for w in words:
        spelled += w.word
        times.extend([(float(w.start), float(w.end))] * len(w.word))
    lead = len(spelled) - len(spelled.lstrip())
    if spelled.strip() != seg.text.strip() or seg.text != seg.text.lstrip():
        return None
    return times[lead : lead + len(seg.text)]


def resolve(scored: Sequence[Spotted]) -> list[Spotted]:
    """The accepted scores, one phrase per stretch of text: within a segment a garble
    overlapping a text hit is dropped (不是 inside 这不是我们的责任 is not a garbled 不行),
    and of overlapping garbles the one with more evidence is kept. A garble of a longer phrase
    holding a text hit's phrase stays beside it (我不能确定 heard 我不能决定, over the hit 我不能):
    it names the rule broken, as the text rules' longer hit would (qa/verified.py keeps one)."""
    kept: list[Spotted] = []
    order = sorted((s for s in scored if s.score.accepted),
                   key=lambda s: (s.start, not s.score.exact, -s.score.evidence))  # fmt: skip
    for sp in order:
        sc = sp.score
        # Spans are comparable within one scored stretch of audio (same window).
        clash = any((k.start, k.end) == (sp.start, sp.end) and sc.start < k.score.end and k.score.start < sc.end
                    and not (k.score.exact and says_more(sc.phrase, k.score.phrase)) for k in kept)  # fmt: skip
        if sc.exact or not clash:
            kept.append(sp)
    return sorted(kept, key=lambda s: (s.start, s.score.start))


_scorers: dict[int, PhraseScorer] = {}


def score_phrase(model: WhisperModel, audio: np.ndarray, text: str, phrase: str,
                 options: VerifyOptions | None = None) -> PhraseScore:
    """``PhraseScorer(model, options).score_phrase(audio, text, phrase)``, the scorer kept
    per model (it holds the tokenizer and the encoded silence)."""
    scorer = _scorers.get(id(model))
    if scorer is None or scorer._whisper is not model:
        scorer = _scorers[id(model)] = PhraseScorer(model)
    if options is not None and options != scorer.options:
        scorer = PhraseScorer(model, options)
    return scorer.score_phrase(audio, text, phrase)
