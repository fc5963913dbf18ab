"""Text read as Mandarin sounds: the sound-alike search behind phrase checks and name tolerance.

Toneless pinyin with cheaper near-sounds (zh/z, in/ing, h/none ...); Latin letters and digits
are read out first, as a Mandarin speaker says them (Whisper writes "I-20" for 爱尔斯 / 海尔斯).
Pure text: QA's opening rule uses ``contains_name`` without loading the Whisper model;
transcribe/verify.py scores the candidates ``find_spans`` picks against the audio.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

from pypinyin import Style, pinyin

from transcribe.normalize import canonical, normalize

# -- reading text as sounds ---------------------------------------------------------------

# How a Mandarin speaker says a Latin letter (Whisper writes "I-20" for 爱尔斯 / 海尔斯).
_LETTERS = {
    "a": "ei", "b": "bi", "c": "xi", "d": "di", "e": "yi", "f": "ai fu", "g": "ji", "h": "ai qi", "i": "ai",
    "j": "jie", "k": "kai", "l": "ai le", "m": "ai mu", "n": "en", "o": "ou", "p": "pi", "q": "kiu", "r": "a",
    "s": "ai si", "t": "ti", "u": "you", "v": "wei", "w": "da bu liu", "x": "ai ke si", "y": "wai", "z": "zei",
}  # fmt: skip
_DIGITS = ("ling", "yi", "er", "san", "si", "wu", "liu", "qi", "ba", "jiu")
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r",
             "z", "c", "s", "y", "w")  # fmt: skip
# A Latin word spelled like a pinyin syllable is read as one: Whisper writes 海尔斯 as "I Er, 四个儿"
# as well as "I-20", and its "Er" is 儿, not the letters e-r. Finals that stand without an initial
# are the ones a syllable may be written with alone (an, er ...; yi, wu take y/w as initials here).
_FINALS = frozenset((
    "a", "o", "e", "i", "u", "v", "ai", "ei", "ui", "ao", "ou", "iu", "ie", "ve", "ue", "er", "an", "en", "in",
    "un", "vn", "ang", "eng", "ing", "ong", "ia", "iao", "ian", "iang", "iong", "ua", "uo", "uai", "uan", "uang",
))  # fmt: skip
_BARE_FINALS = frozenset(("a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "er"))
# Pairs a phone line and Whisper base confuse: half the cost of an unrelated initial/final.
_NEAR = frozenset(frozenset(p) for p in (
    ("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"), ("j", "q"), ("j", "x"), ("q", "x"),
    ("b", "p"), ("d", "t"), ("g", "k"), ("", "y"), ("", "w"), ("", "h"),
    ("in", "ing"), ("en", "eng"), ("an", "ang"), ("ian", "iang"), ("uan", "uang"), ("i", "ing"),
    ("ian", "in"), ("ian", "ing"), ("e", "ei"), ("uo", "o"), ("ou", "u"),
))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Syllable:
    sound: str  # toneless pinyin (or a Latin word of 4+ letters, which only matches itself)
    start: int  # the characters of the original text it was read from: text[start:end]
    end: int


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0002ffff" or "\uf900" <= ch <= "\ufaff"


@lru_cache(maxsize=8192)
def _char_sound(ch: str) -> str:
    return str(pinyin(ch, style=Style.NORMAL, errors="default")[0][0])


def _number_sounds(digits: str) -> list[str]:
    """'20' -> er shi, '105' -> yi bai ling wu; long runs (phone numbers) digit by digit."""
    if len(digits) > 4 or (len(digits) > 1 and digits[0] == "0"):
        return [_DIGITS[int(d)] for d in digits]
    out: list[str] = []
    units = ("", "shi", "bai", "qian")
    n = len(digits)
    zero = False
    for k, d in enumerate(digits):
        v, unit = int(d), units[n - 1 - k]
        if v == 0:
            zero = True
            continue
        if zero and out:
            out.append("ling")
        zero = False
        if not (v == 1 and unit == "shi" and not out):  # 十二, not 一十二
            out.append(_DIGITS[v])
        if unit:
            out.append(unit)
    return out or ["ling"]


def read_syllables(text: str) -> list[Syllable]:
    """The sounds of ``text``: CJK characters as toneless pinyin, digits as numbers, a Latin word
    spelled like a pinyin syllable as that syllable, other short Latin words letter by letter;
    punctuation and spaces are silent."""
    return list(_read(text))


def sounds_of(text: str) -> list[str]:
    """The toneless syllables of ``text`` alone (read_syllables without where each was read from)."""
    return [s.sound for s in _read(text)]


# Kept: a call's text is read once per phrase searched in it (bench/verify_cost.py: reading and
# the sound-alike search were a tenth of verification's CPU).
@lru_cache(maxsize=4096)
def _read(text: str) -> tuple[Syllable, ...]:
    out: list[Syllable] = []
    chars = [unicodedata.normalize("NFKC", c)[:1].lower() for c in text]
    i = 0
    while i < len(chars):
        ch = chars[i]
        if _is_cjk(ch):
            out.append(Syllable(_char_sound(ch), i, i + 1))
            i += 1
            continue
        j = i
        if ch.isascii() and ch.isdigit():
            while j < len(chars) and chars[j].isascii() and chars[j].isdigit():
                j += 1
            out.extend(Syllable(s, i, j) for s in _number_sounds("".join(chars[i:j])))
        elif ch.isascii() and ch.isalpha():
            while j < len(chars) and chars[j].isascii() and chars[j].isalpha():
                j += 1
            word = "".join(chars[i:j])
            if len(word) > 1 and _is_pinyin(word):
                out.append(Syllable(word, i, j))
            elif len(word) <= 3:
                out.extend(Syllable(s, i + k, i + k + 1) for k, c in enumerate(word) for s in _LETTERS[c].split())
            else:
                out.append(Syllable(word, i, j))
        else:
            j = i + 1
        i = j
    return tuple(out)


def _is_pinyin(word: str) -> bool:
    ini, fin = _split(word)
    return fin in (_FINALS if ini else _BARE_FINALS)


@lru_cache(maxsize=8192)
def _split(sound: str) -> tuple[str, str]:
    for ini in _INITIALS:
        if sound.startswith(ini) and len(sound) > len(ini):
            return ini, sound[len(ini) :]
    return "", sound


@lru_cache(maxsize=1 << 16)
def sound_cost(a: str, b: str) -> float:
    """0 for the same syllable, 1 for unrelated ones; half an initial or final costs 0.5,
    a near one (zh/z, in/ing, ...) 0.25."""
    if a == b:
        return 0.0
    if not (a.isascii() and b.isascii()) or len(a) > 6 or len(b) > 6:
        return 1.0
    (ia, fa), (ib, fb) = _split(a), _split(b)
    ci = 0.0 if ia == ib else 0.25 if frozenset((ia, ib)) in _NEAR else 0.5
    cf = 0.0 if fa == fb else 0.25 if frozenset((fa, fb)) in _NEAR else 0.5
    return min(1.0, ci + cf)


@dataclass(frozen=True, slots=True)
class Span:
    cost: float  # sound edits (substitution by sound_cost, insertion/deletion 1)
    start: int  # characters of the searched text: text[start:end]
    end: int

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def within(self, other: Span) -> bool:
        return other.start <= self.start and self.end <= other.end


def find_spans(phrase: str, text: str, max_cost: float, limit: int = 3) -> list[Span]:
    """Non-overlapping stretches of ``text`` that sound like ``phrase`` within ``max_cost``
    sound edits, cheapest first (approximate substring search, Sellers' algorithm)."""
    needle = sounds_of(phrase)
    hay = _read(text)
    m, n = len(needle), len(hay)
    if m == 0 or n == 0:
        return []
    prev = [0.0] * (n + 1)
    origin = list(range(n + 1))  # where the window ending at j begins
    for i in range(1, m + 1):
        cur = [float(i)] + [0.0] * n
        cur_origin = [0] * (n + 1)
        costs = [sound_cost(needle[i - 1], h.sound) for h in hay]
        for j in range(1, n + 1):
            sub = prev[j - 1] + costs[j - 1]
            skip_phrase = prev[j] + 1.0
            skip_text = cur[j - 1] + 1.0
            best = min(sub, skip_phrase, skip_text)
            cur[j] = best
            cur_origin[j] = origin[j - 1] if best == sub else origin[j] if best == skip_phrase else cur_origin[j - 1]
        prev, origin = cur, cur_origin
    ends = sorted((j for j in range(1, n + 1) if origin[j] < j and prev[j] <= max_cost),
                  key=lambda j: (prev[j], j - origin[j]))  # fmt: skip
    found: list[Span] = []
    for j in ends:
        span = Span(prev[j], hay[origin[j]].start, hay[j - 1].end)
        if all(span.end <= f.start or span.start >= f.end for f in found):
            found.append(span)
            if len(found) >= limit:
                break
    return found


# The longest filling, in syllables, a garbled gap is read as (two gap words: 还真, 实在是).
GAP_SYLLABLES = 4
# The words before a gap are short (我, 这, 我们), and a gap holds an adverb or two: each is heard at most a
# near sound off per syllable (还真 for 爱真), or any 我 and any two syllables would do (我怕您不清楚 read as
# 我啊呢不清楚).
NEAR_MAX_COST = 0.25


@dataclass(frozen=True)
class Gapped:
    """A phrase with one gap (我…不清楚): the words before and after it, and what the gap may hold."""

    head: str
    tail: str
    fillings: tuple[str, ...]

    @cached_property
    def by_length(self) -> dict[int, list[tuple[str, list[str]]]]:
        """The fillings of 1 to GAP_SYLLABLES syllables, by their count, with their sounds."""
        out: dict[int, list[tuple[str, list[str]]]] = {}
        for filling in self.fillings:
            sounds = sounds_of(filling)
            if 0 < len(sounds) <= GAP_SYLLABLES:
                out.setdefault(len(sounds), []).append((filling, sounds))
        return out


def gap_garbles(gapped: Gapped, text: str, tail_max_cost: float) -> list[tuple[str, Span]]:
    """Stretches of ``text`` saying a wording of ``gapped`` with its gap garbled, each as the wording it
    sounds most like: the head, then syllables sounding like a filling (each within ``NEAR_MAX_COST`` a
    syllable), then the tail within ``tail_max_cost`` a syllable (the pre-filter's bound for a phrase as short
    as it: a two-syllable tail must sound like both, or a polite 如果还不行 written 如我爱不见 reads as 我还不能),
    each of its syllables something like the phrase's (不见, 您 is no 不清楚) and its negation kept. ``find_spans``
    of the bare phrase pays a whole edit for each syllable of the gap, so 这个我爱真不清楚 (for 我还真不清楚)
    would be read as 我不清楚 over 爱真不清楚, which the audio refuses. A stretch that says a wording as
    written is a text hit, not a garble."""
    heard = read_syllables(text)
    sounds = [s.sound for s in heard]
    head, tail = sounds_of(gapped.head), sounds_of(gapped.tail)
    found: list[tuple[float, str, Span]] = []
    for i in range(len(sounds) - len(head) - len(tail)):
        head_cost = _cost(sounds[i : i + len(head)], head)
        if head_cost > NEAR_MAX_COST * len(head):
            continue
        for size, options in gapped.by_length.items():
            at = i + len(head) + size  # where the tail starts
            if at + len(tail) > len(sounds):
                continue
            tail_costs = [sound_cost(a, b) for a, b in zip(sounds[at : at + len(tail)], tail, strict=True)]
            tail_cost = sum(tail_costs)
            said = text[heard[at].start : heard[at + len(tail) - 1].end]
            if tail_cost > tail_max_cost * len(tail) or max(tail_costs) >= 1.0 or not keeps_negation(gapped.tail, said):
                continue
            gap = sounds[i + len(head) : at]
            fill_cost, filling = min((_cost(gap, s), f) for f, s in options)
            if fill_cost > NEAR_MAX_COST * size:
                continue
            span = Span(head_cost + fill_cost + tail_cost, heard[i].start, heard[at + len(tail) - 1].end)
            wording = gapped.head + filling + gapped.tail
            if canonical(text[span.start : span.end]) != canonical(wording):
                found.append((span.cost, wording, span))
    kept: list[tuple[str, Span]] = []
    for _, wording, span in sorted(found, key=lambda f: (f[0], f[2].start)):
        if not any(span.overlaps(s) for _, s in kept):
            kept.append((wording, span))
    return kept


def _cost(heard: list[str], wanted: list[str]) -> float:
    """Sound edits between two runs of syllables of one length."""
    return sum(sound_cost(a, b) for a, b in zip(heard, wanted, strict=True))


# 不/没/别 carry the meaning of most forbidden phrases: 我能 (理解) is what QA recommends, 我不能
# what it forbids. A stretch that lost the negation is not a garble of the phrase, unless the phrase
# is long and the stretch as long as it: then the negation may have been written as another syllable
# (这里是我们的责任 for a said 这不是我们的责任) rather than left out (a polite 这是我们的责任).
_NEGATIONS = ("bu", "mei", "bie")
_NEGATION_WORDS = ("不", "没", "别")
MISHEARD_NEGATION_SYLLABLES = 6


def keeps_negation(phrase: str, heard: str) -> bool:
    """Whether ``heard`` has a syllable sounding like each negation the phrase has."""
    return _lost_negations(phrase, heard) == 0


def negation_misheard(phrase: str, heard: str) -> bool:
    """Whether ``heard`` may be a long phrase (``MISHEARD_NEGATION_SYLLABLES`` or more) whose one
    negation the ASR wrote as another syllable: as long as the phrase, all else heard. Not when
    it holds 得, the positive of a potential complement (做得了 for 做不了: a polite agent's words,
    which the audio read as 我想我做不了 at 0.92). The audio cannot be sure of such a garble: it
    turns on one syllable (这就是, 这正是我们的责任 read 0.38-0.49 as 这不是)."""
    return _misheard(phrase, heard, _lost_negations(phrase, heard))


def negation_kept_or_misheard(phrase: str, heard: str) -> bool:
    """What a garble of ``phrase`` must do with its negations: keep them, or be a long phrase whose
    one negation was misheard (``negation_misheard``)."""
    lost = _lost_negations(phrase, heard)
    return lost == 0 or _misheard(phrase, heard, lost)


def _misheard(phrase: str, heard: str, lost: int) -> bool:
    return (lost == 1 and "得" not in heard
            and len(read_syllables(heard)) >= len(read_syllables(phrase)) >= MISHEARD_NEGATION_SYLLABLES)


def _lost_negations(phrase: str, heard: str) -> int:
    # The phrase's own negation words, by character: 部 in 你找错部门了 sounds like 不 but negates nothing.
    wanted = [s.sound for s in read_syllables(phrase) if phrase[s.start : s.end] in _NEGATION_WORDS]
    sounds = sounds_of(heard)
    lost = 0
    for neg in wanted:
        match = next((i for i, x in enumerate(sounds) if sound_cost(neg, x) <= 0.5), None)
        if match is None:
            lost += 1
        else:
            del sounds[match]
    return lost


def name_distance(text: str, name: str) -> float:
    """Sound edits between ``name`` and the closest stretch of ``text`` (0 = said as is)."""
    spans = find_spans(name, text, max_cost=math.inf, limit=1)
    return spans[0].cost if spans else float(len(read_syllables(name)))


def contains_name(text: str, name: str, max_syllables: float = 1.0) -> bool:
    """Whether ``text`` holds the company name within ``max_syllables`` syllables of sound
    (海尔斯科技: 爱尔斯科技 and 海尔思科技 yes, 中浪公司 no)."""
    return name_distance(text, name) <= max_syllables


# -- the decoder's score of a text over a stretch of audio ---------------------------------


_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9'.\- ]*[A-Za-z0-9]|[A-Za-z]")


def latin_runs(text: str) -> list[Span]:
    """Each stretch of ``text`` written in Latin letters (words joined by spaces, hyphens or digits).
    Whisper writes a name it does not know that way ("IrSkirkey" for 海尔斯科技), and a word of
    four or more letters matches no sound, so ``find_spans`` may place a phrase elsewhere; these
    are places to try too. Cost: inf, as none is a sound match."""
    return [Span(math.inf, m.start(), m.end()) for m in _LATIN_RUN.finditer(text)]


def exact_spans(phrase: str, text: str) -> list[Span]:
    """Where ``text`` holds ``phrase`` in the matching form (Simplified, no punctuation)."""
    want = canonical(phrase)
    if not want:
        return []
    norm = normalize(text)
    out: list[Span] = []
    at = norm.text.find(want)
    while at >= 0:
        s, e = norm.span(at, at + len(want))
        out.append(Span(0.0, s, e))
        at = norm.text.find(want, at + len(want))
    return out
