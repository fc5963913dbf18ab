"""Phrase rules matched in one pass over the text (Aho-Corasick).

Every phrase and every ``allow`` phrase of every rule, spelled out (``我…不能`` is 我不能,
我真的不能, ...: settings/gaps.py), goes into one automaton over
the normalised text (``transcribe.normalize``), so a sentence is scanned once however many
rules there are. A hit is then

- dropped when an ``allow`` phrase of the same rule covers it (请您耐心等候 is not
  等着; 我不能肯定 is not 我不能),
- dropped when its wording is anchored by a 。 to its clause's end or start and the clause does
  not end or start there: 不成。 is 这样可不成， not 不成问题; the allowed 不过期。 covers 长期有效，不过期，
  随时都能预约, not 不过期限是七天,
- dropped when its clause (the text since the last punctuation mark) says one of the rule's
  ``not_after`` words before it: 如果重启之后还是不行 is a condition, not a refusal,
- dropped, for a rule's ``not_after_me`` phrases (快点), when the agent's own 我 comes earlier in the clause and no
  您/你 right before the hit: 我已经催师傅快点过去 hurries someone for the caller,
- dropped when its clause goes on to one of the rule's ``conceding_with`` words: 不知道型号也能报修
  grants the repair, it refuses nothing,
- dropped, for a rule ``not_closing_a_clause``, when it closes its clause after other words of it: 审核不过，
  and 那再好不过， are no yes-but,
- dropped when the rule's ``question_with`` words follow it in a clause that ends as a question:
  不知道您明天上午方便在家吗？ asks, it does not refuse,
- for a rule's ``hedged`` words (应该, 差不多), kept only in a clause that ends in 吧 said as no
  question, with no 您/你 right before the word: 应该是明天能送到吧。 guesses, 您应该收到了吧 checks,
- for a rule's ``rhetorical`` words (您不知道), kept only in a clause that ends in 吗 with no 我 or 的话 between:
  您不知道电饭煲不能干烧吗？ scolds, 您不知道型号也没关系 reassures,
- dropped when it stands inside quotation marks (“…”, 「…」): the agent repeating what the
  caller or someone else said (您说快递员跟您讲“等着吧”) is not saying it to the caller,
- dropped when a longer hit of another rule of the same category covers it, so
  "我不知道你去问问其他部门吧" is one flag for the bad answer, not a second one
  for 不知道 inside it,
- read with the config's regional words as their standard ones (``qa.regional_words``: 俺 is 我,
  侬 is 你, 勿 is 不), so 俺弄不了 is 我弄不了 to every rule,
- kept only for the speakers its rule applies to (``rule.speaker``: agent by
  default; ``unknown``, a mono recording, counts as agent: see ``speaker_applies``).

Optionally a second automaton matches the same phrases by toneless pinyin
(``pinyin=True``) to forgive homophone errors of the ASR (们/门, 错/措). ``qa.scan``
turns it on for phrases of three or more characters: ``qa.evaluate`` holds the
measurement that decided it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import ahocorasick

from settings import CLAUSE_END, PhraseRule, bare, longest_first
from transcribe.normalize import Normalized, canonical, normalize, punctuated, said_together
from transcribe.phonetic import loose, syllables

# Shorter phrases are not matched by sound: two syllables collide with ordinary words
# far too often (不行 bu xing / 步行, 大概 da gai / 大盖).
MIN_PINYIN_CHARS = 3
SEP = "'"


@dataclass(frozen=True, slots=True)
class Hit:
    """One rule matched in one utterance; ``start``/``end`` index the ORIGINAL text."""

    rule: str
    category: str
    severity: str
    match: str
    start: int
    end: int
    how: str  # exact | pinyin | pii kind (phone, id_card, bank_card) | opening ...
    source: str = ""
    suggestion: str | None = None
    norm_start: int = 0  # the same span in the normalised text
    norm_end: int = 0

    def as_json(self) -> dict[str, object]:
        return {"rule": self.rule, "category": self.category, "match": self.match,
                "start": self.start, "end": self.end}


def speaker_applies(rule_speaker: str, speaker: str) -> bool:
    """Whether a rule scoped to ``rule_speaker`` judges words said by ``speaker``.

    ``unknown`` (a mono recording: both sides on one track) is judged by agent rules:
    the words may be the agent's, and a flag only asks a person to listen.
    """
    if rule_speaker == "any":
        return True
    if rule_speaker == "agent":
        return speaker in ("agent", "unknown")
    return rule_speaker == speaker


@dataclass(frozen=True, slots=True)
class _Entry:
    rule: int
    allow: bool
    length: int  # in normalised characters
    clause_end: bool = False  # a wording that holds only where its clause ends (不过期。)
    clause_start: bool = False  # ... starts (。等着)
    # a rule's hedged word, holding only in a clause ending in 吧 (_hedges), or its rhetorical word, only in one
    # ending in 吗 (_rhetorical)
    only_in: Literal["", "hedged", "rhetorical"] = ""


class Matcher:
    """All phrase rules of a config, compiled once; ``find`` per utterance."""

    def __init__(self, rules: Sequence[PhraseRule], *, pinyin: bool = False,
                 pinyin_min_chars: int = MIN_PINYIN_CHARS, regional: Mapping[str, str] | None = None) -> None:
        self.rules = list(rules)
        self.pinyin = pinyin
        standard = {canonical(w): canonical(s) for w, s in (regional or {}).items()}
        standard = {w: s for w, s in standard.items() if w and s}
        self._regional = longest_first(standard)  # 俺们 before 俺
        self._standard = standard
        self._not_after = [[w for w in map(canonical, rule.not_after) if w] for rule in self.rules]
        self._question_with = [[w for w in map(canonical, rule.question_with) if w] for rule in self.rules]
        self._conceding_with = [[w for w in map(canonical, rule.conceding_with) if w] for rule in self.rules]
        self._offering_next = [[w for w in map(canonical, rule.offering_next) if w] for rule in self.rules]
        self._not_after_me = [{w for w in map(canonical, rule.not_after_me) if w} for rule in self.rules]
        self._exact = ahocorasick.Automaton()
        self._sound = ahocorasick.Automaton() if pinyin else None
        exact: dict[str, list[_Entry]] = {}
        sound: dict[str, list[_Entry]] = {}
        for r, rule in enumerate(self.rules):
            # Allowed wordings go in by sound where they hold a phrase matched by sound (below): 信不过
            # by sound is 中心，不过, and 不过 itself is never matched by sound.
            written = (canonical(bare(p)) for p in (*rule.phrases, *rule.variants))
            sounded = [k for k in written if len(k) >= pinyin_min_chars]
            allowed = [canonical(bare(a)) for a in rule.allow]
            by_sound = {*sounded, *(k for k in allowed if any(p in k for p in sounded))}
            for allow, phrases in ((False, rule.wordings()), (True, rule.allowed())):
                for phrase in phrases:
                    key = canonical(phrase)
                    if not key:
                        continue
                    entry = _Entry(r, allow, len(key), phrase.endswith(CLAUSE_END), phrase.startswith(CLAUSE_END))
                    exact.setdefault(key, []).append(entry)
                    # An allowed wording goes in by sound whatever its length: suppressing a sound-alike
                    # hit needs the sound-alike allow. A gap's fillings go in by their characters
                    # only: thousands of them, and the bare phrase already catches its homophones.
                    if pinyin and key in by_sound:
                        sound.setdefault(_sound_key(key), []).append(entry)
            for only_in, words in (("hedged", rule.hedged), ("rhetorical", rule.rhetorical)):
                for key in filter(None, map(canonical, words)):
                    exact.setdefault(key, []).append(_Entry(r, False, len(key), only_in=only_in))
        for key, entries in exact.items():
            self._exact.add_word(key, tuple(entries))
        self._exact.make_automaton()
        if self._sound is not None:
            for key, entries in sound.items():
                self._sound.add_word(key, tuple(entries))
            if sound:
                self._sound.make_automaton()
            else:
                self._sound = None

    def find(self, text: str | Normalized, speaker: str = "agent", *, standardised: bool = False) -> list[Hit]:
        """The rules' hits on ``text``; ``standardised``: it went through ``standardised`` already (a caller
        that reads it too standardises once)."""
        norm = text if isinstance(text, Normalized) else normalize(text)
        if not standardised:
            norm = self.standardised(norm)
        if not norm.text:
            return []
        found = list(self._iter_exact(norm.text))
        if self._sound is not None:
            found.extend(self._iter_sound(norm.text))
        return self._resolve(norm, found, speaker)

    def standardised(self, norm: Normalized) -> Normalized:
        """``norm`` with its regional words read as their standard ones, where no punctuation stands
        inside one (唔，可以 is no 不可以). Each character put in points at the words said, so a
        flag still quotes them."""
        if self._regional is None:
            return norm
        chars: list[str] = []
        offsets: list[int] = []
        at = 0
        for m in self._regional.finditer(norm.text):
            s, e = m.span()
            if _broken(norm, s, e):
                continue
            chars.append(norm.text[at:s])
            offsets += norm.offsets[at:s]
            standard = self._standard[m.group()]
            chars.append(standard)
            # the first characters stand on the first said, the last on the last (a flag spans them all)
            offsets += [norm.offsets[min(s + j, e - 1)] for j in range(len(standard) - 1)] + [norm.offsets[e - 1]]
            at = e
        if not at:
            return norm
        chars.append(norm.text[at:])
        offsets += norm.offsets[at:]
        return Normalized(norm.original, "".join(chars), tuple(offsets))

    def _iter_exact(self, text: str) -> Iterable[tuple[int, int, _Entry, str]]:
        for end, entries in self._exact.iter(text):
            for e in entries:
                yield end + 1 - e.length, end + 1, e, "exact"

    def _iter_sound(self, text: str) -> Iterable[tuple[int, int, _Entry, str]]:
        assert self._sound is not None
        sylls = [loose(x) for x in syllables(text)]
        joined = SEP + SEP.join(sylls) + SEP
        matches = list(self._sound.iter(joined))
        if not matches:
            return
        # char index of the syllable that starts at each position of ``joined``
        starts: dict[int, int] = {}
        pos = 1
        for i, s in enumerate(sylls):
            starts[pos] = i
            pos += len(s) + 1
        for end, entries in matches:
            for e in entries:
                # The key is SEP + syllables + SEP; the match starts at a separator.
                first = _first_syllable_start(joined, end, e, starts)
                if first is not None:
                    yield first, first + e.length, e, "pinyin"

    def _resolve(self, norm: Normalized, found: list[tuple[int, int, _Entry, str]], speaker: str) -> list[Hit]:
        allows: dict[int, list[tuple[int, int]]] = {}
        hits: dict[tuple[int, int, int], str] = {}
        for s, e, entry, how in found:
            if (entry.clause_end and e < len(norm.text) and not _break_before(norm, e)) or (
                    entry.clause_start and s > 0 and not _break_before(norm, s)) or (
                    entry.only_in == "hedged" and not _hedges(norm, s)) or (
                    entry.only_in == "rhetorical" and not _rhetorical(norm, e)):
                continue
            if entry.allow:
                if entry.clause_start and not said_together(norm.original[norm.offsets[s] : norm.offsets[e - 1] + 1]):
                    continue  # a clause's opening words (。不知道您) are said in one breath: 不知道，你问快递去 refuses
                allows.setdefault(entry.rule, []).append((s, e))
            elif speaker_applies(self.rules[entry.rule].speaker, speaker):
                key = (entry.rule, s, e)
                if hits.get(key) != "exact":  # an exact match wins over the same span by sound
                    hits[key] = how
        quoted = _quoted(norm) if hits else []  # most lines hold no hit: skip the walk over the text
        kept = [
            (r, s, e, how) for (r, s, e), how in hits.items()
            # an allowed wording whose first words close the clause before the hit is no reading of it (给我，快点)
            if not any(a <= s and e <= b and not _broken(norm, a, s + 1) for a, b in allows.get(r, ()))
            and not any(a <= s and e <= b for a, b in quoted)
            and not self._conditional(r, norm, s) and not self._asks(r, norm, s, e) and not self._concedes(r, norm, e)
            and not (norm.text[s:e] in self._not_after_me[r] and _for_the_caller(norm, s))
            and not self._offers(r, norm, e)
            and not (self.rules[r].not_closing_a_clause and _closes_clause(norm, s, e))
        ]
        # Longer hits of the same category subsume the hits they contain.
        final = [
            h for h in kept
            if not any(
                o is not h and self.rules[o[0]].category == self.rules[h[0]].category
                and o[1] <= h[1] and h[2] <= o[2] and (o[2] - o[1]) > (h[2] - h[1])
                for o in kept
            )
        ]
        final.sort(key=lambda h: (h[1], -h[2], h[0]))
        out = []
        for r, s, e, how in _joined(final):
            rule = self.rules[r]
            os_, oe = norm.span(s, e)
            out.append(Hit(rule.id, rule.category, rule.severity, norm.original[os_:oe], os_, oe, how,
                           rule.source, rule.suggestion, s, e))
        return out

    def _conditional(self, rule: int, norm: Normalized, start: int) -> bool:
        """Whether the clause holding the hit at ``start`` says one of the rule's ``not_after``
        words before it. A word of saying (您刚才说) brings back the caller's words, which a 我 after
        it ends: 您说的那个型号我不知道 is the agent's own (not a 我们: 您刚才说我们这些人根本不行)."""
        words = self._not_after[rule]
        if not words:
            return False
        before = norm.text[_clause_start(norm, start):start]
        for word in _NO_CONDITION:
            before = before.replace(word, "")
        return any(w in before and not (w.endswith("说") and _ME.search(before, before.rindex(w) + len(w)))
                   for w in words)

    def _concedes(self, rule: int, norm: Normalized, end: int) -> bool:
        """Whether the clause of the hit ending at ``end`` goes on to one of the rule's ``conceding_with`` words:
        不知道型号也能报修 grants the repair (not 不知道，也可以问问别人, a clause of its own)."""
        words = self._conceding_with[rule]
        if not words or end >= len(norm.text) or _break_before(norm, end):
            return False
        return any(w in norm.text[end:_clause_stop(norm, end)] for w in words)

    def _offers(self, rule: int, norm: Normalized, end: int) -> bool:
        """Whether one of the rule's ``offering_next`` words follows the hit ending at ``end`` in the rest
        of its clause or opens the next one: 我不能肯定是哪个零件坏了，但我可以先安排师傅上门 (not
        我不能肯定，我得问问网点)."""
        words = self._offering_next[rule]
        if not words or end >= len(norm.text):
            return False
        stop = _clause_stop(norm, end - 1)
        rest, after = norm.text[end:stop], norm.text[stop:]
        return any(w in rest or after.startswith(w) for w in words)

    def _asks(self, rule: int, norm: Normalized, start: int, end: int) -> bool:
        """Whether one of the rule's ``question_with`` words follows the hit from ``start`` to ``end`` (one of
        three characters or more, such as 合不合适, anywhere in its clause: 不知道这个时间合不合适？; any of them
        anywhere in a clause asked outright: 大概放了些什么？) and
        the clause is a question: a question mark, 吗/呢, 没有 or 不 as its last word, or a wish asked both ways
        (方不方便, ``_a_not_a``): the ASR often leaves the question mark out. After the agent's own 我 in
        the clause (我不知道您这个型号支不支持) the hit says what the agent does not know, and only 吗/呢 or a
        question mark make it a question."""
        if end >= len(norm.text) or _break_before(norm, end):
            return False  # 不知道，你问别人吧？ is a refusal, then something else
        last = _clause_stop(norm, end) - 1
        clause = norm.text[end:last + 1]
        asked = norm.text[last] in "吗呢" or _question_mark_after(norm, last)
        if not any(clause.startswith(w) or ((len(w) >= 3 or asked) and w in clause) for w in self._question_with[rule]):
            return False
        if asked:
            return True
        return not _ME.search(norm.text[_clause_start(norm, start):start]) and (
            clause.endswith(_ASKED_LAST) or _a_not_a(clause)
            or (clause.startswith(_WH) and (_sentence_asked(norm, last) or _said_to_caller(norm, start))))


def _hedges(norm: Normalized, start: int) -> bool:
    """Whether the word at ``start`` hedges its clause: the clause ends in 吧 with no question mark after
    it, and no 您/你 stands right before the word (您应该收到了吧 checks a fact with the caller)."""
    last = _clause_stop(norm, start) - 1
    return norm.text[last] == "吧" and not _question_mark_after(norm, last) and not _said_to_caller(norm, start)


def _rhetorical(norm: Normalized, end: int) -> bool:
    """Whether the word ending at ``end`` asks its clause rhetorically: the clause ends in 吗, and neither the agent's
    own 我 nor a 的话 comes between (您不知道的话我帮您查一下好吗？ offers help on a condition)."""
    last = _clause_stop(norm, end - 1) - 1
    between = norm.text[end:last]
    return norm.text[last] == "吗" and "的话" not in between and not _ME.search(between)


def _for_the_caller(norm: Normalized, start: int) -> bool:
    """Whether the agent's own 我 comes earlier in the clause of the word at ``start``, with no 您/你 right before the
    word: the agent says what they do for the caller (我已经催师傅快点过去, 我这边快点帮您提交)."""
    return bool(_ME.search(norm.text, _clause_start(norm, start), start)) and not _said_to_caller(norm, start)


def _said_to_caller(norm: Normalized, start: int) -> bool:
    """Whether 您/你 stands right before the word at ``start``: the caller is asked to guess (您大概什么时间在家)."""
    return start > 0 and norm.text[start - 1] in "您你"


def _question_mark_after(norm: Normalized, last: int) -> bool:
    """Whether a question mark follows normalised character ``last`` (the end of its clause) in the original text."""
    return norm.original[norm.offsets[last] + 1 :].lstrip()[:1] in ("？", "?")


def _sentence_asked(norm: Normalized, last: int) -> bool:
    """Whether the sentence holding normalised character ``last`` ends in a question mark: a clause opening
    with a question word is asked when a later clause carries the mark (您大概是什么时候买的，还记得吗？)."""
    rest = _SENTENCE_END.split(norm.original[norm.offsets[last] + 1 :], maxsplit=1)[0]
    return "？" in rest or "?" in rest


def _a_not_a(clause: str) -> bool:
    """Whether ``clause`` asks the caller's wish or time both ways (方不方便, 要不要, 能不能); not 是不是 or
    有没有, which a refusal asks of the facts (我不知道您这个是不是漏气，您去问问燃气公司吧)."""
    return any(clause[i] == clause[i + 2] and clause[i + 1] in "不没" and clause[i] not in "是有"
               for i in range(len(clause) - 2))


_ME = re.compile("我(?!们)")  # the agent speaking for themself
_NO_CONDITION = ("主要是",)  # words holding a condition word (要是) that set none: 主要是财务那边拖着 blames
_SENTENCE_END = re.compile("[。！!；;]")  # what ends a sentence, besides the question mark _sentence_asked looks for
_WH = ("什么", "几", "哪", "多少", "是什么", "是几", "是哪", "是多少")  # a clause opening with one asks a question
_ASKED_LAST = ("没有", "了没", "不")  # a clause asked by its last word, as 吗 asks: 不知道您收到短信没有, …方便不
_QUOTES = {"“": "”", "「": "」", "『": "』", "‘": "’", '"': '"', "'": "'"}


def _joined(hits: list[tuple[int, int, int, str]]) -> list[tuple[int, int, int, str]]:
    """Overlapping hits of one rule as one (你等着 and 等着吧 in 你等着吧): one breach, one flag.
    ``hits`` are sorted by start."""
    out: list[tuple[int, int, int, str]] = []
    for r, s, e, how in hits:
        prev = next((i for i in range(len(out) - 1, -1, -1) if out[i][0] == r), None)
        if prev is not None and s < out[prev][2]:
            _, ps, pe, phow = out[prev]
            out[prev] = (r, ps, max(pe, e), "exact" if "exact" in (how, phow) else phow)
        else:
            out.append((r, s, e, how))
    return out


def _quoted(norm: Normalized) -> list[tuple[int, int]]:
    """The stretches of the normalised text that stand inside a pair of quotation marks."""
    out: list[tuple[int, int]] = []
    closing, opened = None, 0
    for i, ch in enumerate(norm.original):
        if closing is None and ch in _QUOTES:
            closing, opened = _QUOTES[ch], i
        elif ch == closing:
            out.append((bisect_left(norm.offsets, opened), bisect_left(norm.offsets, i)))
            closing = None
    return out


def _break_before(norm: Normalized, i: int) -> bool:
    """Whether a clause ends between normalised characters ``i - 1`` and ``i``: a punctuation mark
    stands between them in the original text."""
    return punctuated(norm.original[norm.offsets[i - 1] + 1 : norm.offsets[i]])


def _broken(norm: Normalized, start: int, end: int) -> bool:
    """Whether a clause ends between two of normalised characters ``start``..``end - 1``."""
    return any(_break_before(norm, i) for i in range(start + 1, end))


def _closes_clause(norm: Normalized, start: int, end: int) -> bool:
    """Whether normalised characters ``start``..``end`` close their clause after other words of it: a
    punctuation mark follows them (at the text's end too: a segment cut mid-sentence has none), none
    stands right before them."""
    stop = norm.offsets[end] if end < len(norm.text) else len(norm.original)
    return start > 0 and not _break_before(norm, start) and punctuated(norm.original[norm.offsets[end - 1] + 1 : stop])


def _clause_start(norm: Normalized, i: int) -> int:
    """Where the clause holding normalised character ``i`` starts: after the punctuation mark before
    it, or at the start of the text."""
    while i > 0 and not _break_before(norm, i):
        i -= 1
    return i


def _clause_stop(norm: Normalized, i: int) -> int:
    """Where the clause holding normalised character ``i`` stops: the next character after a
    punctuation mark, or the end of the text."""
    j = i + 1
    while j < len(norm.text) and not _break_before(norm, j):
        j += 1
    return j


def _sound_key(key: str) -> str:
    return SEP + SEP.join(loose(x) for x in syllables(key)) + SEP


def _first_syllable_start(joined: str, end: int, entry: _Entry, starts: dict[int, int]) -> int | None:
    # Walk back over ``entry.length`` syllables from the separator at ``end``.
    pos = end
    for _ in range(entry.length):
        pos = joined.rfind(SEP, 0, pos)
        if pos < 0:
            return None
    return starts.get(pos + 1)
