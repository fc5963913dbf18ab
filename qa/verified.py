"""Phrase flags checked against the audio (issue 11, part 2).

The transcription worker scores each phrase the agent may not say against the agent's own
speech (transcribe/spotting.py) and stores the results with the transcript. Here they meet the
text rules' findings:

- a text hit with a score on the same stretch carries it (``extra["verify_score"]``): a
  confirmed hit is sure, one the audio argues against is shown as unsure (a fuzzy text hit,
  scored as a garble of the phrase, carries the garble's score when the audio accepted it);
- a phrase the audio supports where the free transcript wrote something else (a garble) becomes
  a finding of its own, with the score as its confidence: recall the text alone misses. It is
  judged by the text rules as if the transcript had held it: a garbled 不知道 in 父之道您喊电话 reads
  不知道您…, a polite question, as a text hit there would;
- a missing opening or closing the text rules found is dropped when the audio shows every part
  of it was said (the ASR garbled it), and otherwise carries the audio's confidence that it was
  said, which the flag's confidence turns round (transcribe/lines.py rows, ``check`` set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from qa.confidence import LISTEN_BELOW
from qa.matcher import Matcher
from qa.rules import UNREADABLE, Finding, Utterance
from settings import Config, PhraseRule, per_rule_set
from transcribe.normalize import says_more
from transcribe.pii import mask

# Segment times and the scored stretch are approximate (VAD padding, word timestamps).
SLACK_S = 0.5


@per_rule_set
def _rules_by_phrase(rules: Sequence[PhraseRule]) -> dict[str, PhraseRule]:
    """Every wording of the agent's rules (gaps spelled out) -> its rule."""
    return {p: r for r in rules if r.speaker in ("agent", "any") for p in r.wordings()}


def _phrases_of(rule_id: str, by_phrase: Mapping[str, PhraseRule]) -> set[str]:
    rule = next((r for r in by_phrase.values() if r.id == rule_id), None)
    return set() if rule is None else set(rule.wordings())


def _overlaps(row: Mapping[str, Any], start: float, end: float) -> bool:
    return float(row["start"]) < end + SLACK_S and start - SLACK_S < float(row["end"])


def apply_verification(config: Config, findings: list[Finding], agent: Sequence[Utterance],
                       verified: Sequence[Mapping[str, Any]] | None, matcher: Matcher) -> list[Finding]:
    """``findings`` with the audio's scores on phrase hits, plus the garbled phrases it found in
    ``agent`` (the utterances the rules judge as the agent's: qa.rules.agent_part) that the text
    rules (``matcher``, compiled from config's) flag where they stand."""
    if verified is None:  # the transcript predates the check, or the check failed: text alone
        return [f for f in findings if not f.extra.get(UNREADABLE)]
    lines = [row for row in verified if row.get("check")]
    verified = [row for row in verified if not row.get("check")]
    findings = [g for g in (_line_checked(config, f, lines) for f in findings) if g is not None]
    by_phrase = _rules_by_phrase(config.qa.phrases)
    findings = [f for f in findings if not _said_longer(f, verified, by_phrase)]
    for i, f in enumerate(findings):
        if f.category not in ("forbidden", "vague") or f.utterance is None:
            continue
        u = f.utterance
        phrases = _phrases_of(f.rule, by_phrase)
        # The audio's word on this stretch: a score of the text hit itself, or a garble the audio
        # accepted there (the text rules match 不知到 for 不知道 by sound; the check scored it as one)
        rows = [row for row in verified if row["phrase"] in phrases
                and (row["exact"] or row["accepted"]) and _overlaps(row, u.start_s, u.end_s)]
        if not rows:
            continue
        f.extra["verify_score"] = max(float(row["confidence"]) for row in rows)
        # A rival is a sound-alike word or what a second decoding of the stretch read (spotting.py):
        # speech, so it is masked like the transcript.
        alike = sorted({mask(str(row["rival"]), config.qa.pii.mask_kinds) for row in rows if row.get("rival")})
        if alike and not any(row["accepted"] for row in rows):  # the reviewer hears why it is unsure
            findings[i] = replace(f, matched=f"{f.matched} (audio: sounds like {', '.join(alike)})")
    return findings + _garbles(config, findings, agent, verified, by_phrase, matcher)


def _said_longer(f: Finding, verified: Sequence[Mapping[str, Any]], by_phrase: Mapping[str, PhraseRule]) -> bool:
    """The audio surely heard, over ``f``'s words, a longer phrase of another rule of its category
    holding one of ``f``'s phrases (我不能确定 over the text hit 我不能): as the text rules keep the
    longer of two such hits (qa/matcher.py), the garble's finding stands for both."""
    if f.category not in ("forbidden", "vague") or f.utterance is None:
        return False
    u = f.utterance
    mine = _phrases_of(f.rule, by_phrase)
    for row in verified:
        rule = by_phrase.get(row["phrase"])
        if (rule is not None and rule.id != f.rule and rule.category == f.category and not row["exact"]
                and row["accepted"] and float(row["confidence"]) >= LISTEN_BELOW and _overlaps(row, u.start_s, u.end_s)
                and any(says_more(row["phrase"], p) for p in mine)):
            return True
    return False


def _garbles(config: Config, findings: Sequence[Finding], agent: Sequence[Utterance],
             verified: Sequence[Mapping[str, Any]], by_phrase: Mapping[str, PhraseRule], matcher: Matcher,
             ) -> list[Finding]:
    out: list[Finding] = []
    for row in verified:
        rule = by_phrase.get(row["phrase"])
        if rule is None or not row["accepted"]:
            continue
        start = float(row["start"])
        if any(f.rule == rule.id and f.utterance is not None and _overlaps(row, f.utterance.start_s, f.utterance.end_s)
               for f in findings):
            continue  # the text already caught this rule here
        heard_in = [u for u in agent if _overlaps(row, u.start_s, u.end_s)]
        if not heard_in:
            continue  # not in the agent's own speech (an IVR prompt, the caller, before the answer)
        u = heard_in[0]
        if row["exact"] and str(row["heard"]) in u.text:
            continue  # the text rules read that phrase where it stands, and let it pass
        # What the row heard may run over two segments (不知, | 道…, which the text rules never saw
        # whole): the rules read them joined.
        said = "".join(v.text for v in heard_in)
        if not _flagged_as_said(matcher, said, str(row["heard"]), row["phrase"], rule.id):
            continue  # where it stands the rule allows it (a polite question, a condition, an allowed wording)
        context = mask(u.text, config.qa.pii.mask_kinds)
        out.append(Finding(
            rule.id, rule.category, rule.severity, f"agent|spot|{row['phrase']}|{round(start, 1)}",
            speaker="agent", utterance=u, offset_s=max(start, u.start_s),
            matched=f"{row['phrase']} (heard: {mask(str(row['heard']), config.qa.pii.mask_kinds)})",
            context=context, source=rule.source, suggestion=rule.suggestion,
            extra={"verify_score": float(row["confidence"]), "spotted": row["phrase"]},
        ))  # fmt: skip
    return out


def _flagged_as_said(matcher: Matcher, text: str, heard: str, phrase: str, rule: str) -> bool:
    """Whether ``rule`` flags ``text`` with ``phrase`` in place of what the ASR wrote for it
    (``heard``); True when ``heard`` is not found whole in ``text``."""
    at = text.find(heard) if heard else -1
    if at < 0:
        return True
    said = text[:at] + phrase + text[at + len(heard):]
    return any(h.rule == rule for h in matcher.find(said, "agent"))


def _line_checked(config: Config, f: Finding, lines: Sequence[Mapping[str, Any]]) -> Finding | None:
    """An opening or closing finding in the light of the audio check of that line: None when
    every part was heard, else the finding with the confidence that the line was said (the
    least sure part's) and what was not heard."""
    check = {config.qa.opening.id: "opening", config.qa.closing.id: "closing"}.get(f.rule)
    rows = [r for r in lines if r.get("check") == check] if check else []
    if not rows:  # not a line rule, or not checked: the text alone (none at all if unreadable)
        return None if check and f.extra.get(UNREADABLE) else f
    parts: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        parts.setdefault(str(r["part"]), []).append(r)
    missing = [p for p, group in parts.items() if not any(r["said"] for r in group)]
    if not missing:
        return None
    presence = min(max(float(r["confidence"]) for r in group) for group in parts.values())
    heard = f"audio: {', '.join(missing)} not heard"
    matched = f"{f.matched}; {heard}" if f.matched else heard
    return replace(f, matched=matched, extra={**f.extra, "verify_score": presence})
