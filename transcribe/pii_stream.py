"""Several segment texts as one normalised character stream, with a map back to each.

PII detection reads consecutive segments as one text: a number can start in one
segment and end in the next (Whisper cuts where the speaker breathes), and the
words that say what a number is (身份证号码是…) often sit in the segment before.
The stream is every segment's normalised text (``transcribe.normalize``) back to
back; for each stream character it keeps the segment and the original offset.
Two readings make a number whole: a digit said in English (one three eight, double
eight) is one stream character standing for its word, and a hesitation between
digits (一八六呃一五二) is dropped.

Between two stream characters the *gap* says what separated them in the original:
nothing or spaces and dashes (digits keep running), punctuation that ends a clause
(digits stop), or a segment boundary, which digits may cross only when both
segments are the same speaker's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from transcribe.normalize import Normalized, normalize
from transcribe.pii_numbers import DIGIT_VALUE

# Punctuation that ends a number: "10:30", "2024/03/15" are two numbers. Spaces, dashes,
# dots and brackets do not: "138-1234-5678", "(010)62345678". A comma is in between: Whisper
# writes one where the speaker paused ("138，1234，5678"), so digits may run on over it
# when the longer number is the better reading (as across a segment boundary).
CLAUSE_BREAKS = set("。；！？;!?：:/…~～\n")
SOFT_BREAKS = set("，,、")
FILLERS = set("呃嗯")  # hesitations Whisper writes between the digits of a number read out
# A word a caller says inside a number read out (6225 8812 那个 3456): a hesitation of two characters, and 是, the
# recogniser's slip for 四 (150是612 8834); 是 only between groups of two digits or more (not 一是一，二是二)
INNER_FILLER = "那个"
INNER_SLIP = "是"
INNER_SLIP_GROUP = 2
DIGITS = set(DIGIT_VALUE)
# the digits of a number said in Chinese as the ASR writes them (幺 for 一, 两, 洞 for 零), in handles and runs alike
SAID_DIGITS = "零〇一二三四五六七八九幺两洞拐"  # (拐 for seven: 拐拐八幺)
DIGIT_WORDS = {w: str(d) for d, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                                 "nine"))}
# Two digits said as one word: ten to nineteen, and the tens with or without a unit (twenty-one, fifty)
TEENS = {w: f"1{d}" for d, w in enumerate(("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                                             "seventeen", "eighteen", "nineteen"))}
TENS = {w: str(d) for d, w in enumerate(("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"),
                                        start=2)}
# On the lower-cased original: a digit said in English, as a word of its own among Latin letters (not the one of
# phone or someone), maybe after double or triple; double and triple take a written digit too (double 8); or a
# number of two digits said as one or two words (fifteen, twenty-one)
SPOKEN_DIGITS = re.compile(rf"(?<![a-z])(?:(?:(?P<times>double|triple)\s*)?(?P<d>{'|'.join(DIGIT_WORDS)}|(?<=\s)[0-9])"
                           rf"|(?P<teen>{'|'.join(TEENS)})"
                           rf"|(?P<tens>{'|'.join(TENS)})(?:[-\s]?(?P<unit>{'|'.join(list(DIGIT_WORDS)[1:])}))?)"
                           r"(?![a-z])")

# Words that take back what was just said: the value after them is of the same kind (验证码是482917，不对，
# 新的是593016; 我叫黄晓丽，不对，…是黄小丽)
# (or what it is now, the one before said to be the old: 以前是xiaomei_520，现在是meimei_2021; or changed since:
# 密码123456，哎不是，那个改过了，是654321)
CORRECTION = re.compile(r"不对|说错了|说错|搞错了|记错了|看错了|念错了|读错了|应该是|改成|改为|更正|新的是|现在是"
                        r"|是反的|反了|颠倒了|哦等下|哦等一下|改过了|换过了"  # (最后两位是反的: two digits swapped)
                        r"|(?<=啊|哦|呃)不是"  # a slip taken back (微信是liuqiang99，啊不是，是liu_qiang99)
                        r"|(?<!是)不是(?=是)")  # or 不是 alone, then the right one (微信是wy8899，不是，是wy9988)
CORRECTION_REACH = 16  # characters from the end of the value taken back to the start of its correction

GAP_NONE = 0  # same segment, nothing or spaces/dashes between
GAP_PUNCT = 1  # same segment, clause punctuation between
GAP_JOIN = 2  # segment boundary, same speaker: digits may continue
GAP_SPLIT = 3  # segment boundary, different speakers
GAP_SOFT = 4  # same segment, a comma between: a clause ends, digits may continue


@dataclass(frozen=True, slots=True)
class Piece:
    """A match's part in one segment of several read as one."""

    segment: int
    start: int  # span in that segment's original text
    end: int
    norm_start: int  # span in that segment's normalised text
    norm_end: int


@dataclass(frozen=True, slots=True)
class Stream:
    norms: tuple[Normalized, ...]
    text: str  # every segment's normalised text, back to back
    seg: tuple[int, ...]  # segment of each stream character
    pos: tuple[int, ...]  # its offset in that segment's original text
    gaps: tuple[int, ...]  # gaps[i]: what lies between stream characters i and i + 1
    starts: tuple[int, ...]  # stream index of each segment's first character (-1: empty segment)
    # where each stream character stands in its segment's normalised text, and how many normalised
    # characters it stands for (a digit said in English, "three", is one stream character for five)
    idx: tuple[int, ...]
    width: tuple[int, ...]

    def said_at(self, k: int) -> list[int]:
        """The offsets in its segment's original text of everything stream character ``k`` stands for."""
        offsets = self.norms[self.seg[k]].offsets
        return [offsets[i] for i in range(self.idx[k], self.idx[k] + self.width[k])] or [self.pos[k]]

    def end_at(self, k: int) -> int:
        """The offset in its segment's original text just after what stream character ``k`` stands for."""
        return self.said_at(k)[-1] + 1

    def between(self, i: int, j: int) -> str | None:
        """What the original text holds between stream characters i and j of one segment (punctuation, spaces,
        the fillers normalising left out); None when they stand in two segments."""
        if self.seg[i] != self.seg[j]:
            return None
        return self.norms[self.seg[j]].original[self.end_at(i):self.pos[j]]

    def spaced(self, i: int) -> bool:
        """Whether a space stands between stream characters i and i + 1 of one segment."""
        said = self.between(i, i + 1) if i + 1 < len(self.seg) else None
        return said is not None and any(ch.isspace() for ch in said)

    def of_segment(self, seg: int) -> range:
        """The stream indices of segment ``seg``'s characters."""
        first = self.starts[seg]
        if first < 0:
            return range(0)
        last = first
        while last < len(self.seg) and self.seg[last] == seg:
            last += 1
        return range(first, last)

    def within(self, seg: int, a: int, b: int) -> list[int]:
        """The stream indices of segment ``seg``'s characters at original offsets ``a`` to ``b``."""
        return [k for k in self.of_segment(seg) if a <= self.pos[k] < b]

    def joined(self, i: int) -> bool:
        """Whether characters i and i + 1 belong to one clause."""
        return self.gaps[i] in (GAP_NONE, GAP_JOIN)

    def opens_clause(self, i: int) -> bool:
        """Whether character i starts a clause or a segment."""
        return i == 0 or not self.joined(i - 1) or self.seg[i] != self.seg[i - 1]

    def clause_starts(self) -> list[int]:
        """Where each clause or segment starts."""
        return [i for i in range(len(self.text)) if self.opens_clause(i)]

    def in_one_clause(self, a: int, b: int) -> bool:
        """Whether characters a to b - 1 are said in one clause."""
        return all(self.joined(k) for k in range(a, b - 1))

    def clause_start(self, i: int) -> int:
        """Where the clause holding character i starts: after the last punctuation break before it."""
        while i > 0 and self.joined(i - 1):
            i -= 1
        return i

    def clause_end(self, i: int, limit: int) -> int:
        """Where the clause starting at i ends: after a punctuation break, or at ``limit``."""
        j = i
        while j < min(len(self.text), limit):
            if not self.joined(j):
                return j + 1
            j += 1
        return min(len(self.text), limit)

    def digits_may_join(self, i: int) -> bool:
        """Whether a digit run may go on from character i to i + 1, if the longer number reads better."""
        return self.gaps[i] in (GAP_JOIN, GAP_SOFT)


@dataclass(frozen=True, slots=True)
class Found:
    """Personal data found in a stream: the characters to hide."""

    kind: str
    start: int  # stream [start, end): the characters hidden
    end: int
    own: bool = False  # a name the speaker gives as their own (我叫…, 我的名字是…)


def corrections(stream: Stream, found: Sequence[Found]) -> list[int]:
    """Where a correction of something in ``found`` starts: after a CORRECTION word at most
    CORRECTION_REACH characters after it, and the words that only lead up to the value (是, 新的是)."""
    out: list[int] = []
    for m in CORRECTION.finditer(stream.text):
        if any(0 <= m.start() - f.end <= CORRECTION_REACH for f in found):
            lead = _CORRECTION_LEAD.match(stream.text, m.end())
            out.append(lead.end() if lead else m.end())
    return out


_CORRECTION_LEAD = re.compile(r"(?:了|啊|哦)?(?:应该是|新的是|是)?")

# A clause said only to hold the floor (，嗯，/，那个，/，就是，): what goes on after it is what was being said
HESITATIONS = "嗯|呃|啊|哦|那个|这个|就是"
FILLER_CLAUSE = re.compile(f"(?:{HESITATIONS})+")


def last_match(pattern: re.Pattern[str], text: str, lo: int, hi: int) -> re.Match[str] | None:
    """The last match of ``pattern`` in ``text[lo:hi]`` (the nearest before ``hi``), or None."""
    matches = list(pattern.finditer(text, lo, hi))
    return matches[-1] if matches else None


def past_fillers(stream: Stream, i: int) -> int:
    """Where what is said from ``i`` goes on after the filler clauses there (我叫，就是，那个，刘德明: at 刘); ``i``
    itself when none starts there. A filler ending the text is no clause before anything; one ending its segment
    ends its clause too (我叫呃|那个|杜若溪)."""
    while (m := FILLER_CLAUSE.match(stream.text, i)) and m.end() < len(stream.text) and stream.opens_clause(m.end()):
        i = m.end()
    return i


def gap(original: str, a: int, b: int) -> int:
    """What stands between offsets ``a`` and ``b`` of ``original`` (neither included): GAP_PUNCT, GAP_SOFT or
    GAP_NONE."""
    between = original[a + 1:b]
    if any(ch in CLAUSE_BREAKS for ch in between):
        return GAP_PUNCT
    return GAP_SOFT if any(ch in SOFT_BREAKS for ch in between) else GAP_NONE


def build(texts: Sequence[str | Normalized], speakers: Sequence[str] | None = None) -> Stream:
    if speakers is not None and len(speakers) != len(texts):
        raise ValueError(f"{len(texts)} segment texts but {len(speakers)} speakers")
    norms = tuple(t if isinstance(t, Normalized) else normalize(t) for t in texts)
    chars: list[str] = []
    seg: list[int] = []
    pos: list[int] = []
    gaps: list[int] = []
    starts: list[int] = []
    idx: list[int] = []
    width: list[int] = []
    for k, n in enumerate(norms):
        starts.append(len(chars) if n.text else -1)
        if not n.text:
            continue
        if chars:
            # a boundary: the previous non-empty segment's speaker against this one's
            prev = seg[-1]
            same = speakers is None or speakers[prev] == speakers[k]
            gaps.append(GAP_JOIN if same else GAP_SPLIT)
        units = _units(n)
        inside = _inside_number(n, units)
        alone = _fillers_alone(n, units)
        for u, (ch, i, w) in enumerate(units):
            if u in inside:
                continue  # 一八六呃一五二: a filler inside a number said aloud is no part of the stream
            if seg and seg[-1] == k:
                between = gap(n.original, pos[-1], n.offsets[i])
                paused = between == GAP_NONE and (u in alone or u - 1 in alone)
                gaps.append(GAP_SOFT if paused else between)
            chars.append(ch)
            seg.append(k)
            pos.append(n.offsets[i])
            idx.append(i)
            width.append(w)
    gaps.append(GAP_PUNCT)  # after the last character
    return Stream(norms, "".join(chars), tuple(seg), tuple(pos), tuple(gaps), tuple(starts), tuple(idx), tuple(width))


def _fillers_alone(n: Normalized, units: Sequence[tuple[str, int, int]]) -> set[int]:
    """The units that are a hesitation said alone before a number, spaces (or the segment's edge) on both sides
    (玉林北路 嗯 二十三号): a recogniser writes the pause around it as a space, where a transcript has commas
    (玉林北路，嗯，二十三号). Before words it may be a place's own hesitation (科技园 呃 科苑路), so only a number."""
    out: set[int] = set()
    for u, (ch, i, _) in enumerate(units):
        at = n.offsets[i]
        before, after = n.original[at - 1:at] if at else " ", n.original[at + 1:at + 2] or " "
        if ch in FILLERS and before.isspace() and after.isspace() and units[u + 1:u + 2] and units[u + 1][0] in DIGITS:
            out.add(u)
    return out


def _inside_number(n: Normalized, units: Sequence[tuple[str, int, int]]) -> set[int]:
    """The units that are a filler or a slip said inside a number (``FILLERS``, ``INNER_FILLER``, ``INNER_SLIP``):
    digits on both sides; no part of the stream. A word of its own between pauses (一三七……那个……二六五八, 不是139，
    是137…) is a clause the number's bridges read, not a slip inside it."""
    chars = "".join(u[0] for u in units)
    out: set[int] = set()
    for u, ch in enumerate(chars):
        filler = ch in FILLERS and _digits_around(chars, u, u + 1, 1)
        slip = ch == INNER_SLIP and _digits_around(chars, u, u + 1, INNER_SLIP_GROUP) and _unpaused(n, units, u, u + 1)
        if filler or slip:
            out.add(u)
        elif (chars.startswith(INNER_FILLER, u) and _digits_around(chars, u, u + len(INNER_FILLER), 1)
              and _unpaused(n, units, u, u + len(INNER_FILLER))):
            out.update(range(u, u + len(INNER_FILLER)))
    return out


def _unpaused(n: Normalized, units: Sequence[tuple[str, int, int]], a: int, b: int) -> bool:
    """Whether units ``a - 1`` to ``b`` stand with nothing but spaces between them in the original text."""
    at = [n.offsets[units[k][1]] for k in range(a - 1, b + 1)]
    return all(not n.original[x + 1:y].strip() for x, y in pairwise(at))


def _digits_around(chars: str, a: int, b: int, group: int) -> bool:
    """Whether ``group`` digits or more stand right before ``chars[a:b]`` and right after it."""
    return (a >= group and set(chars[a - group:a]) <= DIGITS and b + group <= len(chars)
            and set(chars[b:b + group]) <= DIGITS)


def _units(n: Normalized) -> list[tuple[str, int, int]]:
    """The stream characters of one segment: (character, its index in ``n.text``, how many characters of
    ``n.text`` it stands for). Each character stands for itself, but a digit said in English (one three
    eight, as Whisper writes code-switched speech) is that digit, and double or triple says it again."""
    spoken = list(SPOKEN_DIGITS.finditer(n.original.lower()))
    if not spoken:  # most segments: each character for itself
        return [(ch, i, 1) for i, ch in enumerate(n.text)]
    at = {o: i for i, o in enumerate(n.offsets)}
    words: dict[int, list[tuple[str, int, int]]] = {}  # index of a word's first letter -> what it says
    for m in spoken:
        if not m["d"]:
            words.update(_two_digits(m, at))
            continue
        digit = DIGIT_WORDS.get(m["d"], m["d"])
        said = _said(m, "d", at)
        if not said:
            continue
        said_unit = (digit, said[0], len(said))
        if m["times"]:
            lead = _said(m, "times", at)
            words[lead[0]] = [(digit, lead[0], len(lead)), said_unit] + [(digit, said[0], 0)] * (m["times"] == "triple")
        else:
            words[said[0]] = [said_unit]
    out: list[tuple[str, int, int]] = []
    i = 0
    while i < len(n.text):
        if i in words:
            out += words[i]
            i = max(u[1] + u[2] for u in words[i])
        else:
            out.append((n.text[i], i, 1))
            i += 1
    return out


def _two_digits(m: re.Match[str], at: dict[int, int]) -> dict[int, list[tuple[str, int, int]]]:
    """``_units``' words for a number of two digits said in English: fifteen is 1 then 5, both standing on the
    word (the second for no characters of its own, as triple's third); twenty-one is 2 on twenty and 1 on one."""
    if m["teen"]:
        word = _said(m, "teen", at)
        return {word[0]: [("1", word[0], len(word)), (TEENS[m["teen"]][1], word[0], 0)]} if word else {}
    tens = _said(m, "tens", at)
    if not tens:
        return {}
    unit = _said(m, "unit", at) if m["unit"] else []
    second = (DIGIT_WORDS[m["unit"]], unit[0], len(unit)) if unit else ("0", tens[0], 0)
    return {tens[0]: [(TENS[m["tens"]], tens[0], len(tens)), second]}


def _said(m: re.Match[str], group: str, at: dict[int, int]) -> list[int]:
    """The indices in the normalised text of what ``group`` of ``m`` (a match on the original text) says;
    ``at`` maps original offsets to them."""
    return [i for o in range(m.start(group), m.end(group)) if (i := at.get(o)) is not None]
