"""The policy's phrases checked against the agent's audio after transcription (issue 11).

A text match on the free transcript is a hint (DESIGN.md, "Trusting a flag"). After a call is
transcribed, every forbidden or vague phrase an agent may not say is scored against the agent's
own speech with the same Whisper model (transcribe/verify.py): text hits are confirmed or
doubted, and phrases the free transcript garbled are found. The opening and closing lines
are checked the same way (transcribe/lines.py). The transcript itself stays unbiased; the
results are stored beside it (``Transcript.verified``) for QA to read.
"""

from __future__ import annotations

import logging
import time
import weakref
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import ahocorasick

from settings import CLAUSE_END, Config, PhraseRule, bare, fillings, gap_parts, per_rule_set
from transcribe.engine import AsrSegment, CallResult, TrackPlan, Transcriber
from transcribe.lines import check_lines, expected_lines, opening_parts, shared_windows
from transcribe.normalize import canonical, punctuated, said_together
from transcribe.sounds import Gapped, Span, exact_spans, find_spans, read_syllables, sounds_of
from transcribe.verdict import VerifyOptions, judge
from transcribe.verify import SAMPLE_RATE, Joined, PhraseScorer, Spotted, join_segments, resolve

log = logging.getLogger("hotline.transcribe")
# Where a hit's second readings start and end, seconds before and after its stretch, in the order
# tried (_second_opinion). Measured on four eval runs' hits on the scripted calls (11 text hits, 12
# garbles found, 3 false): each start alone misread true hits; with all three no true hit went
# unread, and no reading of any of the 3 false ones held its phrase (不知道 for 说不好 and for 不好的,
# 你等着 for 帮您登记). A stretch that ends inside speech (2.5 s after a word, VerifyOptions.window_s)
# can make every greedy reading of it loop: on six runs' recordings two true 快点 went unread
# (Kliden 火 火 火, 座殿窝) and read as 快点 with a second more of the audio after. Those readings
# must say the phrase word for word: as garbles, one of them read a polite 补送过去 as 不能够.
# How far past a hit's window its allowed wordings are read (_allowed): the longest, 不知道现在是否方便,
# is six syllables past 不知道, about 2 s of the scripted calls' speech.
_READ_ON_S = 2.0
# A one-syllable-longer allowed wording is tried only where the text is this close to it in sound
# (_allowed): a near initial or final (见 for 尽), not a neighbouring word (否 for 不, 0.75).
_ONE_MORE_MAX_COST = 0.25
# The hit's own window first: scoring encoded it already (PhraseScorer.sharing), so a hit that
# reading holds costs a decoder pass and no encoder one. Which reading holds, not which comes
# first, decides.
_READINGS = ((0.0, 0.0), (0.5, 0.0), (1.0, 0.0), (0.0, 1.0), (0.5, 1.0), (1.0, 1.0))

# One scorer per loaded model: it caches the silence prior and token ids across calls.
_scorers: weakref.WeakKeyDictionary[Transcriber, PhraseScorer] = weakref.WeakKeyDictionary()


def searched_phrases(config: Config) -> list[str]:
    """The phrases of the rules that apply to the agent (forbidden and vague), each with its gaps
    empty (我…不能 -> 我不能): searched for on the audio by sound, and where the text says them."""
    return _searched(config.qa.phrases)


def agent_phrases(config: Config) -> tuple[list[str], list[str]]:
    """``searched_phrases``, and the other wordings of the agent's rules (gaps filled: 我真的不能;
    the variants), checked only where the text says them word for word."""
    return _searched(config.qa.phrases), _worded(config.qa.phrases)


def _agent_rules(rules: Sequence[PhraseRule]) -> list[PhraseRule]:
    return [r for r in rules if r.speaker in ("agent", "any")]


def _searched(rules: Sequence[PhraseRule]) -> list[str]:
    return sorted({p for r in _agent_rules(rules) for p in r.bare_phrases()})


def _worded(rules: Sequence[PhraseRule]) -> list[str]:
    # a wording anchored to its clause (不成。) is read in the text only: the audio has no clauses
    wordings = {w for r in _agent_rules(rules) for w in r.wordings() if CLAUSE_END not in w}
    return sorted(wordings - set(_searched(rules)))


@per_rule_set
def gapped_phrases(rules: Sequence[PhraseRule]) -> tuple[Gapped, ...]:
    """The agent's phrases with one gap (我…不清楚), for the search of their wordings with the gap garbled."""
    split = ((gap_parts(p), r) for r in _agent_rules(rules) for p in r.phrases)
    return tuple(Gapped(parts[0], parts[1], fillings(tuple(r.gap_words))) for parts, r in split if len(parts) == 2)


@per_rule_set
def _wordings_automaton(rules: Sequence[PhraseRule]) -> ahocorasick.Automaton | None:
    """agent_phrases' second list as an automaton, by canonical text (None: no such wordings)."""
    wordings = _worded(rules)
    if not wordings:
        return None
    automaton = ahocorasick.Automaton()
    for w in wordings:
        automaton.add_word(canonical(w), w)
    automaton.make_automaton()
    return automaton


def prepare(config: Config) -> None:
    """Build what verifying a call needs from the rules alone (the gap wordings' automaton: about a
    second of CPU for 220k wordings), so a worker pays it while loading, not on its first call."""
    _wordings_automaton(config.qa.phrases)


def said_wordings(config: Config, texts: Sequence[str]) -> list[str]:
    """The wordings of phrases with a gap (agent_phrases' second list) that ``texts`` say word for
    word: a few of thousands, found in one pass."""
    automaton = _wordings_automaton(config.qa.phrases)
    if automaton is None:
        return []
    return sorted({w for text in texts for _, w in automaton.iter(canonical(text))})


def scorer_for(transcriber: Transcriber) -> PhraseScorer:
    """The phrase scorer of this transcriber's model (made once)."""
    scorer = _scorers.get(transcriber)
    if scorer is None:
        scorer = _scorers[transcriber] = PhraseScorer(transcriber.whisper, language=transcriber.options.language)
    return scorer


def courtesy_wordings(config: Config) -> list[str]:
    """What a polite agent is expected to say: the opening's parts and the closing phrases. A
    garble that one of them reads better is refused (PhraseScorer.score_segments' rivals)."""
    return sorted({p for v in opening_parts(config).values() for p in v} | set(config.qa.closing.phrases))


def sound_alikes(config: Config) -> dict[str, list[str]]:
    """phrase (gaps empty, as searched) -> the everyday words that sound like it (the phrase rules'
    ``sounds_like``)."""
    out: dict[str, list[str]] = {}
    for rule in config.qa.phrases:
        for phrase, words in rule.sounds_like.items():
            out[bare(phrase)] = list(dict.fromkeys([*out.get(bare(phrase), []), *words]))
    return out


def allowed_wordings(config: Config) -> dict[str, list[str]]:
    """phrase -> the allowed wordings of its rule that hold it (可能我没有说清楚 for 可能); gaps empty,
    as the phrases searched by sound are (agent_phrases). One that starts its clause keeps the mark
    (。不知道您): _allowed tries it only there."""
    out: dict[str, list[str]] = {}
    for rule in config.qa.phrases:
        allowed = list(dict.fromkeys(bare(w).removesuffix(CLAUSE_END) for w in rule.allow))
        for phrase in rule.bare_phrases():
            holding = [w for w in allowed if phrase in w and w != phrase]
            if holding:
                out[phrase] = list(dict.fromkeys([*out.get(phrase, []), *holding]))
    return out


def spot_phrases(
    transcriber: Transcriber, config: Config, agent_track: Path, result: CallResult, plan: TrackPlan | None = None,
    share: bool = True,
) -> list[dict[str, Any]]:
    """The agent's phrases verified in the agent's segments of ``result``, as plain JSON rows:
    phrase, start/end (seconds on the track), confidence in [0, 1], whether the free text
    already held it (``exact``) and what the ASR wrote there (``heard``); then the rows of the
    opening and closing checks (transcribe/lines.py, ``check`` set). ``share``: phrase candidates
    inside the opening's or closing's window are scored on that window's one encoding (cut to
    their stretch; bench/verify_cost.py measured the saving and the same rows on the scripted calls)."""
    segments = [s for s in result.segments if s.speaker == "agent" and s.text.strip()]
    phrases = searched_phrases(config)
    worded = said_wordings(config, [s.text for s in segments])
    started = time.perf_counter()
    scorer = scorer_for(transcriber)
    audio = transcriber.load_audio(agent_track)
    rows: list[dict[str, Any]] = []
    with scorer.sharing(shared_windows(config, result, plan) if share else []):
        if segments and phrases:
            alikes = sound_alikes(config)
            # A garble that an expected line or an everyday sound-alike word reads better is refused.
            rivals = courtesy_wordings(config) + sorted({w for words in alikes.values() for w in words})
            scored = scorer.score_segments(audio, segments, phrases, rivals, shown_only=True, worded=worded,
                                           gapped=gapped_phrases(config.qa.phrases), lines=expected_lines(config))
            # The accepted ones (text hits confirmed, garbles found), and the text hits the audio
            # argues against: QA shows those as unsure rather than dropping them.
            found = resolve(scored) + [s for s in scored if s.score.exact and not s.score.accepted]
            found = [_doubt(scorer, audio, s, alikes.get(s.phrase, [])) for s in found]
            allowed = allowed_wordings(config)
            groups = join_segments(segments, scorer.options.join_gap_s, scorer.options.pad_s)
            found = [_allowed(scorer, audio, s, allowed.get(s.phrase, []), next(g for g in groups if s.segment in g[1]))
                     for s in found]
            found = _doubt_in_sentence(found, alikes, scorer.options)
            found = [_second_opinion(scorer, audio, s) for s in found]
            rows = [_row(s, segments) for s in sorted(found, key=lambda s: s.start)]
        rows += check_lines(scorer, config, audio, result, plan)
    log.debug("verified %d phrase(s) and line(s) on %s in %.2fs", len(rows), agent_track, time.perf_counter() - started)
    return rows


def _doubt(scorer: PhraseScorer, audio: Any, spotted: Spotted, words: list[str]) -> Spotted:
    """A hit that an everyday word sounding like the phrase, put in its place, reads about as well
    on the same audio (VerifyOptions.alike_margin) is unsure: the ASR writes 快点 for 快递. A text
    hit stays a flag, shown as needing a listen rather than as a sure breach (and only a word one
    syllable from the phrase doubts it: one_sound_apart); a garble (快地 for 快递, found as 快点) is
    refused, as a garble a courtesy line reads better is."""
    score = spotted.score
    if score.exact:
        words = [w for w in words if one_sound_apart(score.phrase, w)]
    if not score.accepted or not words:
        return spotted
    encoded = scorer.candidate_window(audio, spotted.start, spotted.end)  # what the hit was scored on
    span = Span(0.0, score.start, score.end)
    for word in words:
        if scorer.alike_delta(encoded, score.text, span, score.phrase, word) >= -scorer.options.alike_margin:
            return _unsure(spotted, word, scorer.options)
    return spotted


def one_sound_apart(phrase: str, word: str) -> bool:
    """Whether ``word`` is ``phrase`` with one syllable changed, as the ASR writes one for the other (快点 for 快递,
    大概 for 打开). Only such a word doubts a text hit: 我帮您 differs from 我不能 in two, and over a segment the
    ASR cut after a true 我不能 (帮您改…) it read as well as the phrase; it refuses garbles only (我颁您 for 我帮您)."""
    a, b = sounds_of(phrase), sounds_of(word)
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 1


def _allowed(scorer: PhraseScorer, audio: Any, spotted: Spotted, wordings: list[str], group: Joined) -> Spotted:
    """A hit inside a stretch that sounds like one of its rule's allowed wordings (within the
    pre-filter's bound) is unsure when the wording, put there, reads the audio about as well as the
    hit's own reading (VerifyOptions.wording_margin) and the audio says the words it adds
    (PhraseScorer.added_pmi at least min_pmi: over a garbled breach any fluent wording reads
    better), or when the text writes the very sounds of the words it adds before the phrase (the ASR
    chose among homophones). The text rules let 可能 pass in 可能我没有说清楚, and the ASR wrote that
    apology as 可能我没有,我先住. A text hit stays a flag needing a listen, a garble is refused.

    A wording one syllable longer than the phrase is tried only where the text writes it to within
    a near sound (``_ONE_MORE_MAX_COST``): one syllable is what a neighbouring word sounds like, and
    the audio cannot tell them apart (a true 师傅可能 written 是否可能 read better as 不可能, by 0.85
    nats per token, its added word raised 4.0 over silence; a polite 会尽可能 written 会见,可能
    read +0.35 as 尽可能, added 1.40). 否 is 0.75 from 不, 见 0.25 from 尽.

    Both readings are of the text without punctuation: a wording put over 不知道，仓库 drops a
    comma that alone cost the text 13 nats. A wording that runs past the hit's window (window_s
    after the phrase: 可能我没有,我先 of the apology) is read on the text it was found in
    (``group``, segments joined as spotting joins them) to its end or ``_READ_ON_S`` further (cut
    at the window, the apology read 0.3-0.7 nats per token worse than on its whole)."""
    score = spotted.score
    if not score.accepted:
        return spotted
    o = scorer.options
    kept = [i for i, ch in enumerate(score.text) if canonical(ch)]
    local = "".join(score.text[i] for i in kept)
    hit = Span(score.cost, bisect_left(kept, score.start), bisect_left(kept, score.end))
    more, end = _read_on(group, score.text, spotted.end)
    text = local + more
    encoded: dict[bool, Any] = {}
    for wording in wordings:
        word = wording.removeprefix(CLAUSE_END)  # 。不知道您: only at the start of a clause, not in 我不知道您的钱…
        margin = o.wording_margin(len(read_syllables(word)) - score.syllables)
        for span in wording_spans(word, text, hit, score.syllables, o):
            if word != wording and not _opens_clause(score.text, kept, span):
                continue
            on = span.end > len(local)  # the wording runs past the hit's window
            reading = text if on else local
            # Where the text says the very sounds of a wording that adds words before the phrase (离近快点 for
            # 尽快点击, set52; 世复快点 for 师傅快点, set62) the ASR chose among homophones, which the audio cannot
            # tell apart: the delta weighs only which characters the language model prefers (-1.15 in set52), and
            # the added words' pmi how fluent the homophones are (0.42 for 世复, under min_pmi); the ASR heard
            # those sounds. Not after the phrase: a true 快点把单号报给我 read 1.2-1.8 nats per token better than the
            # then allowed 快点拔, the same sounds, so the text decides there.
            if word.endswith(score.phrase) and sounds_of(reading[span.start : span.end]) == sounds_of(word):
                return _unsure(spotted, word, o)
            if on not in encoded:
                encoded[on] = (scorer.encode_window(audio, spotted.start, end) if on
                               else scorer.candidate_window(audio, spotted.start, spotted.end))
            if (scorer.alike_delta(encoded[on], reading, hit, score.phrase, word, span) >= -margin
                    and scorer.added_pmi(encoded[on], reading, span, score.phrase, word) >= o.min_pmi):
                return _unsure(spotted, word, o)
    return spotted


def _opens_clause(text: str, kept: list[int], span: Span) -> bool:
    """Whether ``span`` of ``text``'s ``kept`` characters opens a clause, in one breath, as the text rules
    read a wording that starts its clause (qa/matcher.py): first in the window's text (a segment starts
    after a pause) or after punctuation, with no punctuation or space inside (不知到，你问快递去 refuses)."""
    if span.end > len(kept):
        return False  # it runs on past the window's text
    before = text[kept[span.start - 1] + 1 : kept[span.start]] if span.start else "。"
    return punctuated(before) and said_together(text[kept[span.start] : kept[span.end - 1] + 1])


def wording_spans(word: str, text: str, hit: Span, phrase_syllables: int, options: VerifyOptions) -> list[Span]:
    """Where ``text`` (punctuation-free) may have said the allowed wording ``word`` over the
    phrase at ``hit`` (its cost: the sound edits of the hit itself): stretches that sound like it,
    hold the hit and more of the text (the text wrote something for the rest of it). The syllables
    the wording adds must sound like the text there within the pre-filter's bound for that many
    syllables, or within ``_ONE_MORE_MAX_COST`` for one: a bound on the whole wording let its
    exact phrase pay for the rest, and a breach 材料费我不知道 (written 太阳说我不知道) was doubted
    as 如果你不知道, with 阳说我 for 如果你 (2.5 edits of 3 syllables; the whole allowed 3.0)."""
    syllables = len(read_syllables(word))
    added = syllables - phrase_syllables
    if added <= 0:
        return []
    # the hit's own edits (its cost is per syllable) are paid apart from the added syllables'
    bound = hit.cost * phrase_syllables + (options.max_cost(added) * added if added > 1 else _ONE_MORE_MAX_COST)
    return [span for span in find_spans(word, text, bound, options.spans_per_phrase)
            if span.start <= hit.start and hit.end <= span.end and span.end - span.start > hit.end - hit.start]


def _read_on(group: Joined, text: str, end: float) -> tuple[str, float]:
    """What ``group``'s text (verify.join_segments) says after ``text`` (a hit's scored text, as the
    ASR wrote it), up to ``_READ_ON_S`` after ``end`` (by its word times), without punctuation, and
    where that audio ends: ("", ``end``) when it says no more, ``text`` is not one stretch of it, or
    there are no word times to say where its audio is."""
    joined, _, times, _, hi = group
    at = joined.find(text)
    if times is None or at < 0 or joined.count(text) != 1:
        return "", end
    limit = end + _READ_ON_S
    after = zip(joined[at + len(text) :], times[at + len(text) :], strict=True)
    rest = "".join(ch for ch, (a, _) in after if a < limit and canonical(ch))
    return (rest, min(limit, hi)) if rest else ("", end)


def _doubt_in_sentence(found: list[Spotted], alikes: dict[str, list[str]], options: VerifyOptions) -> list[Spotted]:
    """Every text hit of a phrase in a text where one of its hits was doubted for a sound-alike word
    is unsure too. Once the ASR took the everyday word for the phrase in a sentence, its other
    readings of the phrase there are no surer: it wrote 您的快点点下,无非送到快点,让送之前快点提宁 for
    您的快递明天下午会送到,快递员送之前会联系您, and 快递 in the last 快点's place (会联系)
    reads no better than 快点, so only the first two were doubted."""
    doubted = {(s.phrase, s.score.text): s.score.rival for s in found
               if s.score.exact and s.score.rival in alikes.get(s.phrase, [])}  # fmt: skip
    out = []
    for s in found:
        rival = doubted.get((s.phrase, s.score.text))
        if rival is not None and s.score.exact and s.score.accepted:
            s = _unsure(s, rival, options)
        out.append(s)
    return out


def _second_opinion(scorer: PhraseScorer, audio: Any, spotted: Spotted) -> Spotted:
    """A hit the audio confirmed (a text hit, or a garble found) is decoded again on its own
    stretch, with no text before it. Where no such reading holds the phrase (PhraseScorer.holds),
    the hit is unsure (``rival``: what was read): the ASR decodes 30 s windows after what it wrote
    before, and wrote 现在我不知道 for 现在说不好 once, which scoring against that same text then
    confirmed; and a garble scored against gibberish (不抱著 for 不好的) can beat it with any fluent
    phrase (不知道). A lone reading misses a window's first word now and then (可能 read as 这人
    on a true hit), or loops where the audio stops mid-sentence, so the stretch is read from up to
    three starts and then to a second further (_READINGS, word for word only), and one reading
    holding the phrase keeps the hit sure. Shown as needing a listen, never dropped."""
    score = spotted.score
    if not score.accepted:
        return spotted
    readings: dict[tuple[float, float], str] = {}
    for lead, tail in _READINGS:
        window = (max(0.0, spotted.start - lead), min(len(audio) / SAMPLE_RATE, spotted.end + tail))
        if window in readings:  # a start or end clipped to the track's edge: the same audio again
            continue
        encoded = scorer.encode_window(audio, *window)
        heard = scorer.redecode(encoded, max_tokens=2 * len(score.text) + 8)  # 1-2 tokens a character
        # The later readings are more tries at the same stretch: each must say the phrase word for word.
        if exact_spans(score.phrase, heard) if tail else scorer.holds(score.phrase, heard):
            return spotted
        readings[window] = heard.strip()
    return _unsure(spotted, next(iter(readings.values())) or "…", scorer.options)


def _unsure(spotted: Spotted, rival: str, options: VerifyOptions) -> Spotted:
    """The hit judged again with ``rival`` as the likelier reading: unsure, or refused if a garble."""
    return replace(spotted, score=judge(replace(spotted.score, rival=rival), options))


def _row(s: Spotted, segments: list[AsrSegment]) -> dict[str, Any]:
    return {
        "phrase": s.phrase, "start": round(s.start, 3), "end": round(s.end, 3),
        "confidence": round(s.score.confidence, 3), "accepted": s.score.accepted, "exact": s.score.exact,
        "heard": s.score.heard, "segment_start": round(segments[s.segment].start, 3), "rival": s.score.rival,
    }  # fmt: skip
