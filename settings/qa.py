"""``qa:``: the settings of each policy rule (phrases, opening, closing, personal data, hang-up,
slow answer, hold, the conversation's measures) and the section that holds them beside the
scorecard and the review app.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, model_validator

from settings.base import FieldError, Strict
from settings.gaps import CLAUSE_END, DEFAULT_GAP_WORDS, bare, gap_problem, longest_first, spelled_out
from settings.review_app import WebSettings
from settings.scorecard import REVIEW_RULE, ScorecardSettings, scorecard_problem

log = logging.getLogger(__name__)

Severity = Literal["high", "medium", "low"]
Speaker = Literal["agent", "caller", "any"]


class PhraseRule(Strict):
    id: str
    category: Literal["forbidden", "vague"]
    severity: Severity
    speaker: Speaker = "agent"
    phrases: Annotated[list[str], Field(min_length=1)]  # 我…不能: "…" holds up to two gap_words (settings/gaps.py)
    # more wordings of the rule (gaps as in phrases), matched in the text and checked on the audio where
    # the text says them, but not searched for on the audio by sound: each phrase searched that way
    # costs decoder passes on every call (transcribe/spotting.py). A 。 at a variant's end or start
    # anchors it to its clause's end or start (不成。: 这样可不成， but not 不成问题); such a variant is read
    # in the text only
    variants: list[str] = []
    # longer phrases in which a hit is not a violation (请您耐心等候); gaps as in phrases; anchored by 。
    # as variants are (不过期。: 长期有效，不过期， but not 不过期限是七天)
    allow: list[str] = []
    gap_words: list[str] = list(DEFAULT_GAP_WORDS)
    # a hit with one of these earlier in its clause is a condition, not something said to the caller
    # (如果重启之后还是不行，您再打过来): qa/matcher.py
    not_after: list[str] = []
    # phrases of the rule that the agent's own 我 earlier in their clause makes no breach, unless 您/你 stands right
    # before them: 我已经催师傅快点过去 hurries someone for the caller, 你快点说 hurries the caller: qa/matcher.py
    not_after_me: list[str] = []
    # a hit followed by one of these, in a clause that ends as a question (？, 吗, 呢), asks the caller
    # something (不知道您明天上午方便在家吗？) rather than saying the phrase to them: qa/matcher.py
    question_with: list[str] = []
    # a hit whose clause goes on to one of these grants something despite it, rather than refusing the caller
    # (不知道型号也能报修: not knowing the model is no bar): qa/matcher.py
    conceding_with: list[str] = []
    # a hit followed, in its own clause or right at the start of the next, by one of these says at once
    # what the agent will do: the hedge 001 slide 19 recommends (我不能肯定，但我可以帮你想想办法): qa/matcher.py
    offering_next: list[str] = []
    # words that breach the rule only in a clause ending in 吧 with no question mark: a guess offered as the
    # answer (应该是明天能送到吧。), not 应该 said plainly (您应该已经收到短信了) nor a check with the caller
    # (您应该收到了吧？): qa/matcher.py. Read in the text only, never searched for on the audio
    hedged: list[str] = []
    # words that breach the rule only in a clause ending in 吗: a rhetorical question scolds the caller
    # (您不知道电饭煲不能干烧吗？), where the same words said plainly are the caller's own (您不知道型号也没关系):
    # qa/matcher.py. Read in the text only, never searched for on the audio
    rhetorical: list[str] = []
    # a hit that closes its clause after other words of it is no breach: a 不过 there is a verb's or an
    # idiom's (审核不过，气不过，那再好不过，), where the yes-but opens its clause or goes on in it (不过七天…,
    # 我理解您不过这个…): qa/matcher.py
    not_closing_a_clause: bool = False
    # phrase -> everyday words that sound like it (快点: 快递): a text hit that one of them reads
    # better in the audio is shown as unsure (needs listening), not as a sure breach
    sounds_like: dict[str, list[str]] = {}
    source: str
    suggestion: str | None = None

    @model_validator(mode="after")
    def _sounds_like_known_phrases(self) -> PhraseRule:
        for field, phrases in (("phrases", self.phrases), ("variants", self.variants), ("allow", self.allow)):
            for i, phrase in enumerate(phrases):
                problem = gap_problem(phrase)
                if problem:
                    raise ValueError(f"{field}[{i}] {problem}")
                if CLAUSE_END in (phrase if field == "phrases" else phrase.strip(CLAUSE_END)):
                    raise ValueError(f"{field}[{i}] '{phrase}': {CLAUSE_END} may only start or end a variant or an "
                                     "allowed wording (the clause starts or ends there)")
        unknown = sorted(set(self.sounds_like) - set(self.phrases))
        if unknown:
            raise ValueError(f"sounds_like names {unknown}, which are not among this rule's phrases {self.phrases}")
        unmatched = sorted(set(self.not_after_me) - {*self.phrases, *self.variants})
        if unmatched:  # a word the rule never matches would exempt nothing
            raise ValueError(f"not_after_me names {unmatched}, which are not among this rule's phrases or variants")
        return self

    def wordings(self) -> list[str]:
        """Every phrase and variant spelled out: each gap empty, then filled with gap words (我不能,
        我真的不能, ...)."""
        return list(_spelled((*self.phrases, *self.variants), tuple(self.gap_words)))

    def allowed(self) -> list[str]:
        """Every allowed wording, spelled out as ``wordings``."""
        return list(_spelled(tuple(self.allow), tuple(self.gap_words)))

    def bare_phrases(self) -> list[str]:
        """The phrases (not the variants) with their gaps empty: what the audio is searched for by sound."""
        return list(dict.fromkeys(bare(p) for p in self.phrases))


@lru_cache(maxsize=256)  # rules are spelled out by every scan of a call: tens of thousands of wordings
def _spelled(phrases: tuple[str, ...], gap_words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for p in phrases for w in spelled_out(p, gap_words)))


Built = TypeVar("Built")


def per_rule_set(build: Callable[..., Built]) -> Callable[..., Built]:
    """``build`` kept per set of phrase rules (and whatever else it is given), keyed by their text:
    configs loaded anew (each test, each CLI reload) share what was built from the same rules, which
    with thousands of gap wordings takes most of a second. A few sets at most are kept."""
    kept: dict[str, Built] = {}

    @functools.wraps(build)
    def cached(*args: Any) -> Built:
        key = repr(args)
        if key not in kept:
            if len(kept) >= 16:
                kept.clear()
            kept[key] = build(*args)
        return kept[key]

    return cached


class OpeningRule(Strict):
    id: str = "opening.mandated"
    severity: Severity = "high"
    within_s: Annotated[float, Field(gt=0)] = 15.0
    offer_phrases: list[str] = ["有什么可以帮您", "有什么可以帮你", "为您服务"]
    # offers of help read where the transcript holds them, never scored on the audio (transcribe/lines.py)
    written: list[str] = []
    source: str = ""

    @property
    def offers(self) -> list[str]:
        """What offers help where the transcript holds it: the scored phrases and the written-only ones."""
        return [*self.offer_phrases, *self.written]

    @model_validator(mode="before")
    @classmethod
    def _retired_similarity(cls, data: Any) -> Any:
        """``min_similarity`` (closeness to the whole line) is no longer a bar: a config written
        before still loads, with one line saying so."""
        if isinstance(data, dict) and "min_similarity" in data:
            log.warning("config: qa.opening.min_similarity is no longer used (an opening needs the company "
                        "and an offer of help, worded as qa.opening.offer_phrases); remove it")
            data = {k: v for k, v in data.items() if k != "min_similarity"}
        return data


class ClosingRule(Strict):
    id: str = "closing.courtesy"
    severity: Severity = "low"
    last_s: Annotated[float, Field(gt=0)] = 30.0
    phrases: list[str] = ["感谢您的来电", "谢谢您的来电"]
    # courteous where the transcript holds them, never scored on the audio (transcribe/lines.py)
    written: list[str] = []
    source: str = ""
    suggestion: str | None = None

    @property
    def courteous(self) -> list[str]:
        """What closes a call politely where the transcript holds it: the phrases and the written-only ends."""
        return [*self.phrases, *self.written]


# transcribe.pii.KINDS
PiiKind = Literal["id_card", "bank_card", "phone", "code", "password", "name", "address", "email", "wechat"]


class PiiRule(Strict):
    id: str = "pii.spoken"
    severity: Severity = "medium"
    # flagged when the agent says them (a caller giving their own is only masked)
    kinds: list[PiiKind] = ["id_card", "bank_card", "phone", "code", "password"]
    # hidden wherever a transcript is shown; names and addresses are masked, never flagged
    mask_kinds: list[PiiKind] = ["id_card", "bank_card", "phone", "code", "password", "name", "address", "email",
                                 "wechat"]
    source: str = ""


class SecretRequestRule(Strict):
    """The agent asks the caller to say a password or a whole verification code (transcribe.pii.secret_requests)."""

    id: str = "pii.asks-secret"
    severity: Severity = "high"
    source: str = ""
    suggestion: str | None = None


class HangupRule(Strict):
    id: str = "hangup.agent-first"
    severity: Severity = "high"
    source: str = ""
    suggestion: str | None = None


class SlowAnswerRule(Strict):
    id: str = "slow-answer.rings"
    severity: Severity = "medium"
    max_ring_s: Annotated[float, Field(gt=0)] = 15.0
    source: str = ""


class HoldRule(Strict):
    id: str = "hold.no-apology"
    severity: Severity = "medium"
    max_wait_s: Annotated[float, Field(gt=0)] = 30.0
    apology_phrases: list[str] = ["久等", "抱歉", "不好意思", "感谢您的耐心", "谢谢您的耐心"]
    source: str = ""
    suggestion: str | None = None


class SilenceRule(Strict):
    id: str = "conversation.silence"
    severity: Severity = "low"
    max_s: Annotated[float, Field(gt=0)] = 10.0  # nobody speaking this long while connected, no hold
    source: str = ""
    suggestion: str | None = None


class InterruptionRule(Strict):
    id: str = "conversation.interruptions"
    severity: Severity = "medium"
    max: Annotated[int, Field(ge=0)] = 1  # flagged when the agent starts over the caller more often
    min_overlap_s: Annotated[float, Field(gt=0)] = 1.0  # both speaking this long: an interruption
    source: str = ""
    suggestion: str | None = None


class SpeechRateRule(Strict):
    id: str = "conversation.speech-rate"
    severity: Severity = "low"
    min_cpm: Annotated[float, Field(gt=0)] = 100.0  # the agent's characters per minute of speech
    max_cpm: Annotated[float, Field(gt=0)] = 280.0
    min_speech_s: Annotated[float, Field(ge=0)] = 10.0  # judged only on this much agent speech
    min_turn_s: Annotated[float, Field(ge=0)] = 2.0  # the turn named in the flag is at least this long
    source: str = ""
    suggestion: str | None = None

    @model_validator(mode="after")
    def _band(self) -> SpeechRateRule:
        if self.min_cpm >= self.max_cpm:
            raise ValueError(f"min_cpm {self.min_cpm:g} must be below max_cpm {self.max_cpm:g}")
        return self


class ConversationRules(Strict):
    """Rules on the measured conversation (qa/conversation.py)."""

    silence: SilenceRule = SilenceRule()
    interruptions: InterruptionRule = InterruptionRule()
    speech_rate: SpeechRateRule = SpeechRateRule()


class QaSettings(Strict):
    reviewer: str | None = None  # the account CLI reviews are credited to when neither --reviewer nor
    # $HOTLINE_USER names one (accounts.identity); never the OS user
    opening: OpeningRule = OpeningRule()
    closing: ClosingRule = ClosingRule()
    pii: PiiRule = PiiRule()
    ask_secret: SecretRequestRule = SecretRequestRule()
    agent_hangup: HangupRule = HangupRule()
    slow_answer: SlowAnswerRule = SlowAnswerRule()
    hold: HoldRule = HoldRule()
    conversation: ConversationRules = ConversationRules()
    web: WebSettings = WebSettings()
    phrases: list[PhraseRule] = []
    # Regional words the phrase rules read as their standard ones (俺: 我, 侬: 你, 唔知: 不知道)
    regional_words: dict[str, str] = {}
    scorecard: ScorecardSettings = ScorecardSettings()

    @model_validator(mode="after")
    def _unique_ids(self) -> QaSettings:
        seen: set[str] = set()
        for rule in self.phrases:
            if rule.id in seen:
                raise ValueError(f"rule id '{rule.id}' is used twice")
            seen.add(rule.id)
        for word, standard in self.regional_words.items():
            if not word.strip() or not standard.strip():
                raise FieldError(("qa", "regional_words", word),
                                 f"'{word}': '{standard}': give a word and the standard word it stands for")
        # read longest first, as the matcher reads (不沾边 is listed as itself, so 跟我们不沾边 stays as written)
        regional = longest_first(self.regional_words)
        for i, rule in enumerate(self.phrases):
            for field in ("phrases", "variants", "allow"):
                for k, wording in enumerate(getattr(rule, field)):
                    read = regional.finditer(wording) if regional else ()
                    word = next((m.group() for m in read if self.regional_words[m.group()] != m.group()), None)
                    if word is not None:  # the text is read with the standard word before matching
                        raise FieldError(("qa", "phrases", i, field, k),
                                         f"'{wording}' holds '{word}', which the rules read as "
                                         f"'{self.regional_words[word]}' (qa.regional_words): write it so")
        problem = scorecard_problem(self.scorecard, self.rule_ids())
        if problem:
            raise FieldError(("qa", "scorecard", *problem[0]), problem[1])
        return self

    def rule_ids(self) -> set[str]:
        """Every rule id a flag can carry."""
        singles = (self.opening, self.closing, self.pii, self.ask_secret, self.agent_hangup, self.slow_answer,
                   self.hold, self.conversation.silence, self.conversation.interruptions,
                   self.conversation.speech_rate)
        return {r.id for r in singles} | {r.id for r in self.phrases} | {REVIEW_RULE}

