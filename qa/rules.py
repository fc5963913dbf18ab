"""The service rules on one call: plain data in, findings out (no database here).

``scan.py`` turns the call's rows into a :class:`CallContext` and a list of
:class:`Utterance`; the functions here apply POLICY.md to them.

Where the agent's part of the call begins matters to every transcript rule. The
agent track (MixMonitor ``t()``) holds everything the caller heard, so it starts
with the IVR: the opening line played by the IVR, the menu prompts, the transfer
prompt. Judging those as the agent's words would pass a missing opening on the
IVR's greeting and blame the agent for prompts. The agent's part starts at the
latest of: the agent's pickup (``Call.agent_answered_at``), the last menu step,
and the end of the last utterance that is one of the configured menu prompts.
The transfer prompt, played after the menu, is skipped wherever it appears.

That guess is the fallback. A call whose IVR recorded its timeline (ivr/timeline.py:
when each prompt played, when the transfer rang, when the agent answered and left)
gives ``CallContext.agent_spans``: then an agent-track utterance is the agent's only
if at least half of it lies in those spans, whatever its text. Prompts, ringback and
the goodbye after the agent left are nobody's speech for the rules; the transcriber
labels the prompts ``ivr`` anyway, from their known text.

Personal data is read over the whole call (``transcribe.pii.find_pii_segments`` with each
utterance's speaker): a number an agent reads out over two segments is one number, flagged
once, on the first agent utterance it touches. Everything shown to reviewers (flag excerpts)
is masked the same way, with ``qa.pii.mask_kinds``. A PII flag's key holds the kind, never
the digits: the fingerprint is a sha256 anyone with the database could brute-force back to a
short code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from qa.matcher import Hit, Matcher, speaker_applies
from settings import REVIEW_CATEGORY, REVIEW_RULE, Config
from transcribe.normalize import Normalized, canonical, normalize
from transcribe.phonetic import coverage, fuzzy_contains
from transcribe.pii import Piece, find_pii, find_pii_segments, mask_segments, requests_over, secret_requests
from transcribe.sounds import contains_name

AGENT_SIDE = ("agent", "unknown")
IVR = "ivr"  # the transcriber's label for the prompts the IVR played (their known text)
PROMPT_COVERAGE = 0.8  # an utterance this close to a configured prompt is the IVR speaking
MIN_PROMPT_PIECE = 6  # shorter pieces (请稍候) are too common in agent speech to call them the IVR
APOLOGY_WINDOW_S = 20.0  # "the agent's first utterances after the wait": this long after it ends
APOLOGY_UTTERANCES = 3  # ... and at most this many of them
UNREADABLE = "unreadable"  # Finding.extra key: judged on a transcript that needs review


@dataclass(frozen=True, slots=True)
class Utterance:
    seq: int
    speaker: str  # agent | caller | unknown
    start_s: float
    end_s: float
    text: str
    words: Sequence[Sequence[object]] | None = None  # [start, end, word, probability]
    segment_id: int | None = None


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the rules need from the call row and its events, as offsets into the recording."""

    agent_answer_s: float | None = None  # the agent picked up (None: unknown)
    menu_end_s: float | None = None  # the last menu step
    reached_agent: bool = False  # an agent was connected (Call.agent or a pickup time)
    hangup_by: str | None = None
    hangup_s: float | None = None
    ring_s: float | None = None
    queue_wait_s: float | None = None
    holds: Sequence[tuple[float, float]] = ()  # (start, end) of each hold
    needs_review: bool = False
    review_reason: str | None = None
    has_transcript: bool = True  # False: only the event rules that need no words can run
    # Where the agent can be heard (the IVR's timeline); None: not recorded, guess as before
    agent_spans: Sequence[tuple[float, float]] | None = None
    # The recording was paused (ivr/timeline.py ``paused``) when the agent picked up / when the call
    # ended: the opening or closing line, if said, is not on the tracks, so it cannot be judged.
    opening_paused: bool = False
    closing_paused: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    category: str
    severity: str
    key: str  # what makes this finding itself (for the fingerprint), beside call and rule
    speaker: str | None = None
    utterance: Utterance | None = None
    offset_s: float | None = None
    matched: str | None = None  # shown to reviewers: PII masked
    context: str | None = None  # the utterance, PII masked
    start: int | None = None  # span of the match in the utterance text
    end: int | None = None
    source: str = ""
    suggestion: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _utterance_hits(config: Config, matcher: Matcher, norm: Normalized, speaker: str, secrets: bool = True
                    ) -> list[Hit]:
    """Phrase rules, and (``secrets``) the agent asking for a password or a whole code, on one utterance."""
    text = norm.original
    norm = matcher.standardised(norm)  # read once with the regional words: 讲俾我听 is 说给我听 to both
    hits = matcher.find(norm, speaker, standardised=True)
    if secrets and speaker in AGENT_SIDE:
        r = config.qa.ask_secret
        for q in secret_requests(norm):
            hits.append(Hit(r.id, "pii", r.severity, text[q.start:q.end], q.start, q.end, f"asks-{q.kind}",
                            r.source, r.suggestion, q.norm_start, q.norm_end))
    return hits


def text_hits(config: Config, matcher: Matcher, text: str, speaker: str) -> list[Hit]:
    """Phrase rules, secret requests and PII on one utterance (what `hotline qa scan` prints)."""
    norm = normalize(text)
    hits = _utterance_hits(config, matcher, norm, speaker)
    pii = config.qa.pii
    if speaker in AGENT_SIDE:  # a caller giving their own number breaks no rule; it is only masked
        for m in find_pii(norm, pii.kinds):
            hits.append(Hit(pii.id, "pii", pii.severity, text[m.start:m.end], m.start, m.end, m.kind,
                            pii.source, None, m.norm_start, m.norm_end))
    hits.sort(key=lambda h: (h.start, -h.end, h.rule))
    return hits


def masked_texts(config: Config, utts: Sequence[Utterance]) -> dict[int, str]:
    """Each utterance's text (by seq) as reviewers see it: ``mask_kinds`` hidden over the whole
    run of utterances, so a number split across two segments is hidden in both."""
    masked = mask_segments([u.text for u in utts], config.qa.pii.mask_kinds, [u.speaker for u in utts])
    return {u.seq: m for u, m in zip(utts, masked, strict=True)}


def _masked_join(config: Config, utts: Sequence[Utterance]) -> str:
    masked = masked_texts(config, utts)
    return "".join(masked[u.seq] for u in utts)


def time_at(u: Utterance, char: int) -> float:
    """Seconds into the recording where character ``char`` of the utterance is said."""
    norm = normalize(u.text)
    k = sum(1 for o in norm.offsets if o < char)  # normalised index of that character
    if u.words:
        seen = 0
        for w in u.words:
            n = len(canonical(str(w[2])))
            if seen + n > k:
                return float(w[0])  # type: ignore[arg-type]
            seen += n
    share = k / len(norm.text) if norm.text else 0.0
    return u.start_s + share * max(0.0, u.end_s - u.start_s)


def is_prompt(text: str, prompts: Sequence[str]) -> bool:
    """Whether an utterance is one of these IVR prompts (as heard through the ASR)."""
    t = canonical(text)
    if not t:
        return False
    for p in prompts:
        c = canonical(p)
        if not c:
            continue
        # the whole prompt in one utterance, or a piece of it (Whisper splits long prompts)
        if len(t) <= 1.3 * len(c) and coverage(c, t) >= PROMPT_COVERAGE:
            return True
        if len(t) >= MIN_PROMPT_PIECE and coverage(t, c) >= PROMPT_COVERAGE:
            return True
    return False


def menu_prompts(config: Config) -> list[str]:
    return [m.prompt for m in config.menus.values()] + [config.prompts.invalid, config.prompts.timeout]


def agent_part(config: Config, utts: Sequence[Utterance], facts: CallContext) -> tuple[float, list[Utterance]]:
    """Where the agent's part of the call starts, and the agent-side utterances in it.

    With no agent connected, the agent side holds only what the IVR played: whatever the
    ASR made of those prompts is nobody's speech, so there is no agent part at all."""
    if not facts.reached_agent:
        return 0.0, []
    if facts.agent_spans is not None:
        return _agent_part_from_timeline(utts, facts, facts.agent_spans)
    start = max((x for x in (facts.agent_answer_s, facts.menu_end_s) if x is not None), default=0.0)
    prompts = menu_prompts(config)
    for u in utts:
        if u.speaker in AGENT_SIDE and is_prompt(u.text, prompts):
            start = max(start, u.end_s)
    transfer = [config.prompts.transfer]
    agent = [u for u in utts if u.speaker in AGENT_SIDE and u.end_s > start + 1e-6
             and not is_prompt(u.text, transfer)]
    return start, agent


def in_spans(u: Utterance, spans: Sequence[tuple[float, float]]) -> bool:
    """At least half of the utterance lies in the spans (a zero-length one: its start does)."""
    length = u.end_s - u.start_s
    if length <= 1e-6:
        return any(a <= u.start_s <= b for a, b in spans)
    inside = sum(max(0.0, min(u.end_s, b) - max(u.start_s, a)) for a, b in spans)
    return inside >= 0.5 * length


def _agent_part_from_timeline(utts: Sequence[Utterance], facts: CallContext, spans: Sequence[tuple[float, float]]
                              ) -> tuple[float, list[Utterance]]:
    if any(u.speaker == IVR for u in utts):
        # Transcribed with the timeline: the engine decoded only the agent's stretches, pinned
        # to the audio by the prompts (transcribe/align.py); the spans here are the service's
        # clock, which can run a second or two off the file on a real Asterisk.
        agent = [u for u in utts if u.speaker in AGENT_SIDE]
    else:  # transcribed whole: only what lies in the agent's spans is the agent's
        agent = [u for u in utts if u.speaker in AGENT_SIDE and in_spans(u, spans)]
    if facts.agent_answer_s is not None:
        start = facts.agent_answer_s
    else:
        start = min((a for a, _ in spans), default=agent[0].start_s if agent else 0.0)
    return start, agent


def phrase_findings(config: Config, matcher: Matcher, utts: Sequence[Utterance], agent: Sequence[Utterance]
                    ) -> list[Finding]:
    """Phrase rules and PII: agent-side utterances in the agent's part, caller utterances for caller rules."""
    agent_seqs = {u.seq for u in agent}
    caller_rules = any(speaker_applies(r.speaker, "caller") for r in config.qa.phrases)
    masked = masked_texts(config, utts)
    out: list[Finding] = []
    for u in utts:
        if u.seq not in agent_seqs and not (u.speaker == "caller" and caller_rules):
            continue
        context = masked[u.seq]
        for h in _utterance_hits(config, matcher, normalize(u.text), u.speaker, secrets=False):
            out.append(Finding(
                h.rule, h.category, h.severity, f"{u.speaker}|{u.seq}|{h.norm_start}|{canonical(h.match)}",
                speaker=u.speaker, utterance=u, offset_s=time_at(u, h.start), matched=context[h.start:h.end],
                context=context, start=h.start, end=h.end, source=h.source, suggestion=h.suggestion,
                extra={"how": h.how},
            ))
    out += secret_findings(config, matcher, utts, agent_seqs, masked)
    out += pii_findings(config, utts, agent_seqs, masked)
    out.sort(key=lambda f: (f.offset_s if f.offset_s is not None else -1.0, f.start or 0, f.rule))
    return out


def secret_findings(config: Config, matcher: Matcher, utts: Sequence[Utterance], agent_seqs: set[int],
                    masked: dict[int, str]) -> list[Finding]:
    """The agent asking for a password or a whole code, read over each run of consecutive agent-side
    utterances (a request spread over pauses, a warning's negation before one): flagged once, on the
    first utterance the request touches."""
    r = config.qa.ask_secret
    out: list[Finding] = []
    for run in _agent_runs(utts, agent_seqs):
        norms = [matcher.standardised(normalize(v.text)) for v in run]  # regional words, as the phrase rules read them
        for q in requests_over(norms):
            p = q.pieces[0]
            v = run[p.segment]
            out.append(Finding(
                r.id, "pii", r.severity, f"{v.speaker}|{v.seq}|{p.norm_start}|asks-{q.kind}", speaker=v.speaker,
                utterance=v, offset_s=time_at(v, p.start), context=masked[v.seq], start=p.start, end=p.end,
                matched="".join(masked[run[x.segment].seq][x.start:x.end] for x in q.pieces), source=r.source,
                suggestion=r.suggestion, extra={"how": f"asks-{q.kind}"},
            ))
    return out


def _agent_runs(utts: Sequence[Utterance], agent_seqs: set[int]) -> list[list[Utterance]]:
    """Consecutive agent-side utterances of one speaker, nobody else speaking between them."""
    runs: list[list[Utterance]] = [[]]
    for u in utts:
        if u.seq not in agent_seqs or u.speaker not in AGENT_SIDE:
            runs.append([])
        elif runs[-1] and runs[-1][-1].speaker != u.speaker:
            runs.append([u])
        else:
            runs[-1].append(u)
    return [run for run in runs if run]


def pii_findings(config: Config, utts: Sequence[Utterance], agent_seqs: set[int], masked: dict[int, str]
                 ) -> list[Finding]:
    """Personal data the agent said, read over the whole call with each utterance's speaker.

    The digits of two consecutive segments of one speaker join (a number read out over a pause);
    a match is flagged once, on the first agent utterance it touches. The key holds its kind,
    never its digits (see the module docstring)."""
    pii = config.qa.pii
    out: list[Finding] = []
    for m in find_pii_segments([u.text for u in utts], pii.kinds, [u.speaker for u in utts]):
        pieces = [p for p in m.pieces if utts[p.segment].seq in agent_seqs]
        if not pieces:
            continue  # the caller's own number (or the IVR's): masked, not flagged
        p = pieces[0]
        u = utts[p.segment]
        context = masked[u.seq]
        matched = "".join(masked[utts[q.segment].seq][q.start:q.end] for q in m.pieces)
        out.append(Finding(
            pii.id, "pii", pii.severity, f"{u.speaker}|{u.seq}|{p.norm_start}|{m.kind}", speaker=u.speaker,
            utterance=u, offset_s=time_at(u, p.start), matched=matched, context=context, start=p.start, end=p.end,
            source=pii.source, extra={"how": m.kind, "legacy_key": _legacy_key(u, p, len(m.pieces))},
        ))
    return out


def _legacy_key(u: Utterance, p: Piece, pieces: int) -> str | None:
    """The key this finding had before PII keys held the kind (raw digits): lets a scan move an
    existing flag, and its reviews, to the new key instead of raising it again. None: a match
    the old per-utterance scan could not have made (split across segments)."""
    if pieces != 1:
        return None
    return f"{u.speaker}|{u.seq}|{p.norm_start}|{canonical(u.text[p.start:p.end])}"


def first_turn(agent: Sequence[Utterance], others: Sequence[Utterance], until_s: float) -> list[Utterance]:
    """The agent's first turn: the first agent utterance and those following it before
    the caller speaks (Whisper splits one sentence at pauses), starting by ``until_s``."""
    if not agent or agent[0].start_s > until_s:
        return []
    turn = [agent[0]]
    for u in agent[1:]:
        if u.start_s > until_s or any(turn[-1].start_s < o.start_s < u.start_s for o in others):
            break
        turn.append(u)
    return turn


def _read(matcher: Matcher | None, said: str) -> str:
    """``said`` normalised, its regional words read as the standard ones (恁 is 您: 谢谢恁打电话来)."""
    return canonical(said) if matcher is None else matcher.standardised(normalize(said)).text


def opening_finding(config: Config, agent: Sequence[Utterance], start_s: float, facts: CallContext,
                    others: Sequence[Utterance] = (), matcher: Matcher | None = None) -> Finding | None:
    """The mandated opening line in the agent's first turn after pickup (POLICY.md §1).

    ``others`` are the caller's utterances: they end the agent's turn. ``matcher``: the phrase rules,
    whose regional words the line is read with."""
    rule = config.qa.opening
    if not agent and not facts.reached_agent:
        return None  # the caller never reached an agent (hung up in the menu)
    pickup = pickup_s(agent, start_s, facts)
    first = first_turn(agent, others, pickup + rule.within_s)
    if not first:
        return Finding(rule.id, "opening", rule.severity, "opening", speaker="agent", offset_s=pickup,
                       matched=f"no agent speech within {rule.within_s:g} s of pickup", source=rule.source,
                       suggestion=config.opening_line)
    said = "".join(u.text for u in first)
    text = _read(matcher, said)
    # The line's substance is the company and an offer of help (POLICY.md §1), the two parts the
    # audio check scores too: other words around them (很高兴为您服务, the agent's name) are no breach.
    problems = []
    # The ASR writes 海尔斯科技 as 爱尔斯 / I-20个纪: a name within about one syllable of sound counts.
    if not (fuzzy_contains(canonical(config.company), text) or contains_name(said, config.company)):
        problems.append(f"company name {config.company} missing")
    if not any(fuzzy_contains(canonical(p), text) for p in rule.offers):
        problems.append("no offer of help")
    if not problems:
        return None
    context = _masked_join(config, first)
    return Finding(rule.id, "opening", rule.severity, "opening", speaker=first[0].speaker, utterance=first[0],
                   offset_s=first[0].start_s, matched="; ".join(problems), context=context, source=rule.source,
                   suggestion=config.opening_line)


def pickup_s(agent: Sequence[Utterance], start_s: float, facts: CallContext) -> float:
    """When the agent picked up: recorded, else (no time recorded) when the agent first spoke."""
    if facts.agent_answer_s is not None or not agent:
        return start_s
    return agent[0].start_s


def closing_finding(config: Config, agent: Sequence[Utterance], matcher: Matcher | None = None) -> Finding | None:
    """A courteous close in the agent's last ``closing.last_s`` seconds of speech (POLICY.md §4), read with
    ``matcher``'s regional words."""
    rule = config.qa.closing
    if not agent:
        return None
    last_end = max(u.end_s for u in agent)
    tail = [u for u in agent if u.end_s >= last_end - rule.last_s]
    text = _read(matcher, "".join(u.text for u in tail))
    if any(fuzzy_contains(canonical(p), text) for p in rule.courteous):
        return None
    last = tail[-1]
    context = masked_texts(config, tail)[last.seq]
    return Finding(rule.id, "closing", rule.severity, "closing", speaker=last.speaker, utterance=last,
                   offset_s=last.start_s, matched=f"no closing phrase in the agent's last {rule.last_s:g} s",
                   context=context, source=rule.source, suggestion=rule.suggestion)


def event_findings(config: Config, facts: CallContext, agent: Sequence[Utterance], start_s: float) -> list[Finding]:
    """Rules on the call events: agent hung up first, slow answer, long wait with no apology."""
    qa = config.qa
    pickup = pickup_s(agent, start_s, facts)
    out: list[Finding] = []
    if facts.hangup_by == "agent":
        r = qa.agent_hangup
        out.append(Finding(r.id, "hangup", r.severity, "hangup", speaker="agent", offset_s=facts.hangup_s,
                           matched="agent hung up first", source=r.source, suggestion=r.suggestion))
    waits = [(name, v) for name, v in (("ring", facts.ring_s), ("queue", facts.queue_wait_s)) if v is not None]
    slow = [(name, v) for name, v in waits if v > qa.slow_answer.max_ring_s]
    if slow:
        r2 = qa.slow_answer
        said = ", ".join(f"{name} {v:.1f} s" for name, v in slow)
        out.append(Finding(r2.id, "slow-answer", r2.severity, "slow-answer", offset_s=pickup,
                           matched=f"{said} > {r2.max_ring_s:g} s", source=r2.source))
    hold = qa.hold
    long_waits: list[tuple[str, float, float]] = []
    if facts.queue_wait_s is not None and facts.queue_wait_s > hold.max_wait_s and (agent or facts.reached_agent):
        long_waits.append(("queue", pickup - facts.queue_wait_s, pickup))
    long_waits += [("hold", s, e) for s, e in facts.holds if e - s > hold.max_wait_s]
    apologies = [canonical(p) for p in hold.apology_phrases]
    for kind, begin, end in long_waits:
        after = [u for u in agent if end - 1.0 <= u.start_s <= end + APOLOGY_WINDOW_S][:APOLOGY_UTTERANCES]
        text = canonical("".join(u.text for u in after))
        if any(fuzzy_contains(p, text) for p in apologies):
            continue
        first = after[0] if after else None
        out.append(Finding(
            hold.id, "hold", hold.severity, f"{kind}|{begin:.1f}", speaker="agent", utterance=first,
            offset_s=end, matched=f"{kind} {end - begin:.0f} s, no apology after it",
            context=masked_texts(config, after)[first.seq] if first else None,
            source=hold.source, suggestion=hold.suggestion,
        ))
    return out


def review_finding(config: Config, facts: CallContext) -> Finding | None:
    """A transcript the ASR could not make out cannot pass QA silently (FINDINGS.md).

    A category of its own (``review``), not a breach of any rule: filed under the opening, as it
    was, it counted as a missing opening in reports and in ``qa eval-calls`` on polite calls whose
    agent only had a stretch the ASR wrote nothing for. It carries the opening's severity, as the
    first check that cannot be made, and always asks a reviewer to listen (qa/confidence.py).
    """
    if not facts.needs_review:
        return None
    r = config.qa.opening
    return Finding(REVIEW_RULE, REVIEW_CATEGORY, r.severity, "needs-review",
                   matched=facts.review_reason or "needs review",
                   source="FINDINGS.md: a track with speech and no transcript goes to manual review",
                   suggestion="listen to the recording: the transcript could not be checked")


def call_findings(config: Config, matcher: Matcher, utts: Sequence[Utterance], facts: CallContext) -> list[Finding]:
    """Every rule on one call."""
    start, agent = agent_part(config, utts, facts)
    if not facts.has_transcript:  # not transcribed (yet): only what the events alone show
        return [f for f in event_findings(config, facts, agent, start) if f.category in ("hangup", "slow-answer")]
    out = phrase_findings(config, matcher, utts, agent)
    review = review_finding(config, facts)
    if review is not None:
        out.append(review)
    callers = [u for u in utts if u.speaker == "caller"]
    opening = None if facts.opening_paused else opening_finding(config, agent, start, facts, callers, matcher)
    for f in (opening, None if facts.closing_paused else closing_finding(config, agent, matcher)):
        if f is not None:
            # On a transcript with speech and no text, a missing line may be the ASR's loss: only the
            # audio check (qa/verified.py) can tell, and without one the review flag stands for it.
            out.append(f if review is None else replace(f, extra={**f.extra, UNREADABLE: True}))
    out += event_findings(config, facts, agent, start)
    return out
