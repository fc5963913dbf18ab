"""Personal data in speech, found through ASR damage and masked on the original text.

Kinds: ``id_card``, ``bank_card`` (card and account numbers), ``phone`` (mobile and
landline), ``code`` (verification codes), ``password``, ``name`` (a caller's given
name after 我叫 / 姓), ``address`` (a street address after 住址 / 地址 / 住在), ``email``
(an e-mail address, written or spoken: zhangwei@163.com, zhangwei艾特163点com), ``wechat`` (a
WeChat ID in letters after 微信号).

- ``find_pii(text, kinds)`` / ``mask(text, kinds)``: one utterance.
- ``find_pii_segments(texts, kinds, speakers)`` / ``mask_segments(...)``: consecutive
  segments read as one text, so a number split across two segments of one speaker
  is found whole, and a question in one segment (您的身份证号码是多少) names the
  number in the next; each match says which segments and spans it covers.
- ``secret_requests(text)``: where an agent asks for a password or a whole
  verification code (``pii_secrets``); ``requests_over(texts)``: the same over consecutive
  segments of one speaker, a request spread over pauses included.

How numbers are found is in ``pii_numbers`` and ``pii_context``; names in ``pii_names``,
addresses in ``pii_addresses``, e-mail addresses and WeChat IDs in ``pii_handles``. A checksum
raises a match's ``confidence``; it never decides whether the number is masked.

Masking works on the original text through the normaliser's offset map: numbers
keep their last four digit characters, in whatever form they were written
("幺三八 1234 五六七八" -> "*** **** 五六七八"); codes and passwords are hidden whole
(their last four digits would be the whole code); names keep the surname;
addresses keep the province, city and district; e-mail addresses keep the domain; WeChat IDs are
hidden whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from transcribe.normalize import Normalized
from transcribe.pii_addresses import addresses
from transcribe.pii_context import NEGATIVE, PASSPORT, QUANTITY, TAIL_DIGITS, context_kind, tail_kind
from transcribe.pii_handles import dictated_passwords, emails, wechat_ids
from transcribe.pii_names import names
from transcribe.pii_numbers import (
    CONFIDENCE_CONTEXT,
    CONFIDENCE_PROVEN,
    CONFIDENCE_SHAPE,
    COUNTED,
    DIGIT_VALUE,
    LENGTHS,
    REPEAT,
    TWIN,
    UNITS,
    X_AFTER,
    X_CHARS,
    classify,
    id_card_shape,
    id_card_valid,
    luhn_valid,
    numbers_in,
    phone_valid,
)
from transcribe.pii_secrets import SecretRequest, SpreadRequest, requests_over, secret_requests
from transcribe.pii_stream import (
    CORRECTION,
    CORRECTION_REACH,
    FILLERS,
    GAP_JOIN,
    GAP_NONE,
    GAP_PUNCT,
    GAP_SOFT,
    HESITATIONS,
    Piece,
    Stream,
    build,
)

__all__ = [
    "KINDS",
    "NUMBER_KINDS",
    "Piece",
    "PiiMatch",
    "SecretRequest",
    "SegmentMatch",
    "SpreadRequest",
    "classify",
    "find_pii",
    "find_pii_segments",
    "id_card_valid",
    "luhn_valid",
    "mask",
    "mask_segments",
    "phone_valid",
    "requests_over",
    "secret_requests",
]

KINDS = ("id_card", "bank_card", "phone", "code", "password", "name", "address", "email", "wechat")
NUMBER_KINDS = ("id_card", "bank_card", "phone")  # keep their last digits when masked
WHOLE_KINDS = ("code", "password")  # hidden from their first character to their last
ENGLISH_AROUND_NUMBERS = {"is", "at", "was", "are", "am", "to", "number", "no", "code", "pin", "otp", "ok", "okay",
                          "please", "thanks", "and", "then", "me", "my", "id"}
FALSE_START_DIGITS = 6  # a shorter number taken back (138，不对，139…) says too little to hide
RESTART_DIGITS = 2  # a digit said again after a hesitation may be doubled in the number (五|嗯，五二幺: 552…)
GROUP_DIGITS = 6  # the longest group of a number read out in parts: an ID's region code (四五零一零三)
WORD_CONFIDENCE = 0.8  # names and addresses: the context said so; nothing to check them against
KEEP = 4
ID_NAMED = re.compile(r"身份证|证件号")
ID_NAMED_REACH = 24  # characters from 身份证 to the ID it names, across a clause or two
TAKEN_BACK_AFTER = re.compile(r"不是")  # 是6225…7902，不是6225…7920: the number said wrong, after the right one
PREFIX_SAID = "开头"  # said right after a number's first digits
# The WeChat ID said to be the phone number (微信号就是我手机号，138…; 微信号就是139…，手机号): the ID, hidden whole as
# one is (微信就是手机号，186… says the caller is found by the number: a phone's, its tail kept, as pii/s25c has it;
# so is 微信号是138… with no word saying it is the phone's)
WECHAT_IS_NUMBER = re.compile(r"微信号(?:就|也)?是(?:我的?)?(?P<phone>(?:手机|电话)号码?)?$")
PHONE_WORDS = ("手机号", "电话号")
WECHAT_IS_REACH = 12  # characters of those words
HOTLINE_DIGITS = 10  # a 400 or 800 line: 400-820-5588
AGENT = "agent"  # the speaker whose 我叫… is their own (public) name
PASSWORD_CHARS = 16  # longest letters-and-digits password taken after 密码
# An identity document with letters, after words naming one (normalised lowercase): Taiwan's ID (a letter, the
# sex digit, eight digits), a Hong Kong ID before its check digit (A123456(3)), a passport (E12345678)
LETTERED_ID = re.compile(r"[a-z][12][0-9]{8}|[a-z]{1,2}[0-9]{6}[0-9a]?|[a-z][0-9]{8}")
PASSPORT_DIGITS = (7, 10)  # a passport of digits alone (US, UK: nine), shorter than any ID card
MASK_STARS = set("*＊")  # what a number masked on a screen shows for its hidden digits
TAIL_ID = re.compile(f"[{''.join(DIGIT_VALUE)}]{{4,8}}x")  # an ID's tail, its check character last
MACAU_ID_DIGITS = 8  # seven digits and a check digit in brackets: 5215299(8)
# A Hong Kong, Macau or Taiwan number after +: the country code, then the subscriber's eight (nine in Taiwan)
ABROAD = re.compile(r"85[23][0-9]{8}|886[0-9]{9}")


@dataclass(frozen=True, slots=True)
class SegmentMatch:
    kind: str
    value: str  # numbers as ASCII digits (x for an ID's check character); names, addresses as said
    confidence: float
    pieces: tuple[Piece, ...]  # one per segment the match touches, in order
    hidden: tuple[tuple[int, int], ...]  # (segment, original offset) of every character masking hides


@dataclass(frozen=True, slots=True)
class PiiMatch:
    kind: str
    digits: str  # the value (see SegmentMatch.value); named for the numbers it first held
    norm_start: int
    norm_end: int
    start: int  # span in the original text
    end: int
    confidence: float = 1.0
    hidden: tuple[int, ...] = ()  # original offsets masking hides


@dataclass(frozen=True, slots=True)
class _Raw:
    kind: str
    value: str
    confidence: float
    span: tuple[int, ...]  # stream indices the match covers
    hidden: tuple[int, ...]  # stream indices masking hides
    own: bool = False  # a name the speaker gives as their own


RANGE = set("到至")  # between two counts (三到五个工作日)
GLOSS = re.compile(r"(?:就|也就|意思)?是")  # a digit's word, then the plain digit it means (洞就是零)
# A letter said to be upper or lower case after a password (Zhang|wei|1990|Z是大写的, pii/s44b): a note on the
# password's letter, not one more character of it
CASE_TOLD = re.compile(r"[a-z](?:是|为)(?:大写|小写)")


def _is_latin(ch: str) -> bool:
    return "a" <= ch <= "z"


def _repeat_at(stream: Stream, k: int) -> bool:
    """Whether stream character ``k`` repeats the digit after it: 三个八 (a count of two to nine,
    then 个) or the Cantonese 孖八 (two eights), inside one clause."""
    text = stream.text
    if k + 1 >= len(text) or text[k + 1] not in DIGIT_VALUE or not stream.joined(k):
        return False
    if text[k] == TWIN:
        return True
    return text[k] == REPEAT and k > 0 and stream.joined(k - 1) and DIGIT_VALUE.get(text[k - 1], "0") >= "2"


def _counting(stream: Stream, k: int) -> bool:
    """Whether stream character ``k`` is a numeral said as a word that counts (两个号码, 一共, 二十四小时), not a
    digit: a digit in characters, then in the same words one of COUNTED (个 not repeating a digit: 三个八)."""
    text = stream.text
    if k + 1 >= len(text) or text[k].isascii() or stream.gaps[k] != GAP_NONE:
        return False
    if text[k + 1] in RANGE:  # 三到五个工作日: a range of counts counts too
        return k + 2 < len(text) and text[k + 2] in DIGIT_VALUE and _counting(stream, k + 2)
    return text[k + 1] in COUNTED and not (text[k + 1] == REPEAT and _repeat_at(stream, k + 1))


def _glossed(stream: Stream, k: int) -> bool:
    """Whether stream character ``k`` is a digit's word explained by the plain one (洞就是零, 幺是一): a word about
    the number read out, no digit of it (not 0614是四位的: a count)."""
    text = stream.text
    m = GLOSS.match(text, k + 1)
    return (text[k] in DIGIT_VALUE and not text[k].isascii() and m is not None and m.end() < len(text)
            and DIGIT_VALUE.get(text[m.end()]) == DIGIT_VALUE[text[k]] and not _counting(stream, m.end()))


CONFIRMED = "对对|对的|对|没错"  # a group said, confirmed, said again (幺三五，对，幺三五)
NARRATED = "(?:中间|后面|后边|最后|然后|接着)(?:的|四位|几位)?(?:是)?"  # where the next group goes (中间是0077)
# Between two groups of a number read out: a hesitation (嗯，那个，) or a group taken back (不对，/ 不是，); the
# number goes on after it. A pause (comma, segment break, an ellipsis) stands on both sides: 三个，嗯，还有 is none.
# A group confirmed (幺三五，对，幺三五) is a hesitation too: the caller says it again; and a caller may narrate
# where the groups go (159，中间是0077，最后是3321): the number goes on after those words.
BRIDGE = re.compile(rf"(?:{HESITATIONS}|{CONFIRMED})*(?P<fix>不对|不是|说错了)?(?:{HESITATIONS})*"
                    rf"(?P<told>{NARRATED})?")
PAUSE_MARKS = set("，,、…. ")
CAPITAL = "大"  # said before a check character X (大X), no digit of the number


def _paused(stream: Stream, i: int) -> bool:
    """Whether a pause, not a sentence's end, stands between stream characters i and i + 1: a comma, a boundary
    between one speaker's segments, or an ellipsis (那个……), maybe with a hesitation the stream left out in it
    (八三五三……呃，二九一八)."""
    if stream.gaps[i] in (GAP_SOFT, GAP_JOIN):
        return True
    said = stream.between(i, i + 1) if stream.gaps[i] == GAP_PUNCT and i + 1 < len(stream.text) else None
    return said is not None and all(ch in PAUSE_MARKS or ch in FILLERS for ch in said)


def _hesitated(stream: Stream, j: int) -> bool:
    """Whether a hesitation the stream left out (幺九八，嗯，幺九八: 嗯 between digits) stands after digit ``j``."""
    said = stream.between(j, j + 1)
    return said is not None and any(ch in FILLERS for ch in said)


def _pause_in_number(stream: Stream, j: int) -> bool:
    """Whether digit ``j`` and the digit after it are parted by a pause alone (一五八……零零零二): a caller reading a
    number slowly, not a sentence ending; the groups on both sides are one number's, as across a comma."""
    return _pause_goes_on(stream, j) and stream.text[j + 1] in DIGIT_VALUE


def _pause_goes_on(stream: Stream, j: int) -> bool:
    """Whether a pause alone (an ellipsis) follows character ``j``: a number read out may go on after it, straight
    away or past a bridged clause (一三七……那个……二六五八)."""
    return stream.gaps[j] == GAP_PUNCT and _paused(stream, j)


def _bridge(stream: Stream, j: int) -> tuple[int, bool] | None:
    """Where a number read out goes on after digit ``j`` past hesitation clauses and a correction (一三九|嗯，那个，
    零幺二四; 幺二，不是，幺三): the next digit's index and whether a correction took a group back; None when no
    such clause between two pauses leads to a digit."""
    text = stream.text
    i, fix = j + 1, False
    if not _paused(stream, j):
        return None
    while i < len(text) and text[i] not in DIGIT_VALUE:
        m = BRIDGE.match(text, i)
        if m is None or m.end() == i or m.end() >= len(text) or not (_paused(stream, m.end() - 1) or m["told"]):
            return None
        fix = fix or m["fix"] is not None
        i = m.end()
    return (i, fix) if i < len(text) and not _counting(stream, i) else None  # 对，一共六位: a word, no digit


def _restart(stream: Stream, pieces: list[list[int]], bridges: dict[int, bool]) -> int:
    """How many pieces a run begins with that are a number begun and said again whole after a correction (138，不对，
    13912345678), or after a hesitation from its first digit on (六二，呃，六二一四…): the piece after it longer than
    all before; those are a run of their own (``_false_starts``)."""
    begun = 0
    for p, fix in sorted(bridges.items()):
        before = _joined(pieces[begun:p])
        again = len(before) >= RESTART_DIGITS and _said(stream, pieces[p]).startswith(_said(stream, before))
        if len(pieces[p]) > len(before) and (fix or again):
            begun = p
    return begun


def _taken_back(stream: Stream, pieces: list[list[int]], bridges: dict[int, bool]) -> list[int]:
    """The groups of a run said and then taken back, by position in ``pieces``: before a correction, the groups the
    one after it says again (幺二，不是，幺三); after a hesitation, a group said twice (幺九八，嗯，幺九八) is said
    once. Corrections go first: 幺洞洞八|那个……幺洞洞八|不是，幺洞洞九 is one group begun twice, then put right."""
    dropped: set[int] = set()
    for p, fix in bridges.items():
        if not fix:
            continue
        said, q = 0, p - 1
        if _said(stream, pieces[p]) == _said(stream, pieces[0]):  # begun again from its first group: all goes
            said = -sum(len(piece) for piece in pieces[:p])
        while q >= 0 and said < len(pieces[p]):
            if q not in dropped:
                dropped.add(q)
                said += len(pieces[q])
            q -= 1
    last = len(pieces) - 1
    before = "".join(_said(stream, pieces[k]) for k in range(last) if k not in dropped)
    if (bridges.get(last) is False and last not in dropped and len(pieces[last]) <= GROUP_DIGITS
            and before.endswith(_said(stream, pieces[last]))):
        dropped.add(last)  # 8846，对，8846 / 268，最后是二六八: the end read back once the number is said
    for p, fix in bridges.items():
        q = max((k for k in range(p) if k not in dropped), default=-1)
        if (not fix and q >= 0 and p not in dropped and len(pieces[p]) <= GROUP_DIGITS
                and _said(stream, pieces[q]) == _said(stream, pieces[p])):
            dropped.add(q)
    return sorted(dropped)


def _said(stream: Stream, idx: Sequence[int]) -> str:
    return "".join(DIGIT_VALUE.get(stream.text[k], stream.text[k]) for k in idx)


def _runs(stream: Stream) -> list[list[list[int]]]:
    """Each digit run as its pieces (stream indices), split at segment boundaries and commas."""
    return [pieces for pieces, _ in _runs_read(stream)]


def _runs_read(stream: Stream) -> list[tuple[list[list[int]], list[int]]]:
    """Each digit run as its pieces (stream indices), split at segment boundaries, commas and the clauses bridged
    (``_bridge``), with the stream indices of the groups taken back, which are no part of the pieces."""
    text = stream.text
    runs: list[tuple[list[list[int]], list[int]]] = []
    i = 0
    while i < len(text):
        if ((text[i] not in DIGIT_VALUE and not (text[i] == TWIN and _repeat_at(stream, i))) or _counting(stream, i)
                or _glossed(stream, i)):
            i += 1
            continue
        pieces: list[list[int]] = [[i]]
        bridges: dict[int, bool] = {}  # piece after a bridged clause -> whether a correction
        count = 1
        j = i
        while j + 1 < len(text) and (stream.joined(j) or stream.digits_may_join(j) or _pause_goes_on(stream, j)):
            ch = text[j + 1]
            x = j + 2 if ch == CAPITAL and stream.joined(j + 1) else j + 1  # 四四幺大X: the check character's case
            if x < len(text) and text[x] in X_CHARS and count in X_AFTER:
                if stream.digits_may_join(j):
                    pieces.append([x])
                else:
                    pieces[-1].append(x)
                j = x
                break  # the check character ends an ID
            # a correction puts right a group said (幺二，不是，幺三), not a number said whole (4403041992，不对，…:
            # ``_false_starts``)
            bridge = _bridge(stream, j) if ch not in DIGIT_VALUE and not _repeat_at(stream, j + 1) else None
            if bridge and (not bridge[1] or len(pieces[-1]) < FALSE_START_DIGITS):
                j, bridges[len(pieces)] = bridge[0], bridge[1]
                count += 1 - (len(pieces[-1]) if bridge[1] else 0)  # the group taken back counts no more
                pieces.append([j])
                continue
            if (ch not in DIGIT_VALUE and not _repeat_at(stream, j + 1)) or _counting(stream, j + 1) or _glossed(
                    stream, j + 1):
                break
            paused = _pause_in_number(stream, j)
            if stream.digits_may_join(j) or paused:
                if _hesitated(stream, j) or paused:
                    bridges[len(pieces)] = False
                pieces.append([j + 1])
            else:
                pieces[-1].append(j + 1)
            count += 1
            j += 1
        begun = _restart(stream, pieces, bridges)
        if begun:
            runs.append((pieces[:begun], []))
            pieces = pieces[begun:]
            bridges = {p - begun: fix for p, fix in bridges.items() if p > begun}
        gone = _taken_back(stream, pieces, bridges)
        runs.append(([p for q, p in enumerate(pieces) if q not in gone], [k for q in gone for k in pieces[q]]))
        i = j + 1
    return runs


def _expand(stream: Stream, idx: Sequence[int]) -> tuple[str, list[tuple[int, int]]]:
    """The digits a run says (三个八 is 888, 孖六 66, 叉 the check character x), and for each digit
    the first and last position in ``idx`` of the characters that say it."""
    text = stream.text
    digits: list[str] = []
    where: list[tuple[int, int]] = []
    p = 0
    while p < len(idx):
        ch = text[idx[p]]
        if ch in (REPEAT, TWIN) and p + 1 < len(idx):
            times, first = 2, p
            if ch == REPEAT and digits:  # the count was read as a digit: it says how many instead
                times, first = int(digits.pop()), where.pop()[0]
            digits += [DIGIT_VALUE[text[idx[p + 1]]]] * times
            where += [(first, p + 1)] * times
            p += 2
            continue
        digits.append(DIGIT_VALUE.get(ch, "x"))
        where.append((p, p))
        p += 1
    return "".join(digits), where


def _english_apart(stream: Stream, i: int, j: int) -> bool:
    """Whether a space parts stream characters ``i`` and ``j`` (= i + 1) and the Latin one is a word of
    English said around a number (my number is, call me at, … OK), not letters of an ID or a password
    spelled out (l i n 六六八八, wo ai ni 1314, B 198 765 436)."""
    if not stream.spaced(i):
        return False
    k = i if _is_latin(stream.text[i]) else j
    original = stream.norms[stream.seg[k]].original
    if k == i:  # the word ending before the digits
        word = re.search(r"[A-Za-z]*$", original[:stream.end_at(k)]).group()
    else:  # the word starting after them
        word = re.match(r"[A-Za-z]*", original[stream.pos[k]:]).group()
    return word.lower() in ENGLISH_AROUND_NUMBERS


def _password_token(stream: Stream, idx: list[int]) -> list[int] | None:
    """A run inside a letters-and-digits word after 密码 (abc12345): the whole word's indices."""
    text = stream.text
    a, b = idx[0], idx[-1]
    while a > 0 and stream.joined(a - 1) and (_is_latin(text[a - 1]) or text[a - 1] in DIGIT_VALUE):
        a -= 1
    while b + 1 < len(text) and stream.joined(b) and (
            (_is_latin(text[b + 1]) and not CASE_TOLD.match(text, b + 1))
            or (text[b + 1] in DIGIT_VALUE and not _counting(stream, b + 1))):  # HY9K2M7P，|一共八位: not its 一
        b += 1
    token = list(range(a, b + 1))
    return token if 4 <= len(token) <= PASSWORD_CHARS else None


def _numbers(stream: Stream, idx: list[int], keep: int) -> list[_Raw]:
    text = stream.text
    a, b = idx[0], idx[-1] + 1
    if _already_masked(stream, idx):
        return []  # 138****8000: a read-back masked before it was said, kept as said
    context = context_kind(stream, a, b)
    token = _password_token(stream, idx)  # the letters-and-digits word around the run, if any
    if context == NEGATIVE:
        if token is not None and token[0] < a and context_kind(stream, token[0], token[-1] + 1) == "password":
            context = "password"  # 密码就是hotline2023: the word is the password's, not a hotline's number
        elif not _named_id(stream, idx):
            return []
        else:
            context = "id_card"  # 要登记身份证才能开发票，3201…: the ID the clause named, not the invoice's number
    tail = tail_kind(stream, a)
    quantity = context == QUANTITY
    if quantity:
        context = None  # only a number whose structure proves it is taken (numbers_in)
    passport = context == PASSPORT
    if passport:
        context = "id_card"
    # a Latin letter against the digits, unless an English word stands apart from them (my number is 139…)
    before = a > 0 and stream.joined(a - 1) and _is_latin(text[a - 1]) and not _english_apart(stream, a - 1, a)
    after = b < len(text) and stream.joined(b - 1) and _is_latin(text[b]) and not _english_apart(stream, b - 1, b)
    if before or after:  # part of a model or tracking number (KFR35GW, SF1234...), or a password
        if token is not None and token[0] < a:  # named before its letters: 密码是liuguifang66
            named = context_kind(stream, token[0], token[-1] + 1)
            if context is None or named in ("password", "code"):  # 密码是qq123456: its qq names no QQ number
                context = named
        if token is not None and tail == "id_card" and TAIL_ID.fullmatch(text, token[0], token[-1] + 1):
            return [_Raw("id_card", "".join(text[k] for k in token), CONFIDENCE_CONTEXT, tuple(token),
                         _all_but_last(token, keep))]  # 身份证后六位…31421X: the check character ends the tail
        if token is None or context not in ("password", "code", "id_card"):
            return []
        value = "".join(text[k] for k in token)
        if context == "id_card":  # A123456789, E12345678, E七三八两九幺洞四: keeps its last digits, as numbers do
            if not LETTERED_ID.fullmatch("".join(DIGIT_VALUE.get(ch, ch) for ch in value)):
                return []
            return [_Raw("id_card", value, CONFIDENCE_PROVEN, tuple(token), _all_but_last(token, keep))]
        return [_Raw(str(context), value, CONFIDENCE_PROVEN, tuple(token), tuple(token))]
    if b < len(text) and stream.joined(b - 1) and text[b] in UNITS:
        return []  # 13812元, 2024年, 3点, 8003号: a quantity, date or time
    if text.startswith(PREFIX_SAID, b):
        return []  # 106开头的号码, 6222开头的卡: the first digits all numbers of a sender or a bank share
    digits, where = _expand(stream, idx)
    if context == "id_card" and digits.isdigit() and (
            (passport and PASSPORT_DIGITS[0] <= len(digits) <= PASSPORT_DIGITS[1])
            or (len(digits) == MACAU_ID_DIGITS and _check_in_brackets(stream, idx))):
        return [_Raw("id_card", digits, CONFIDENCE_PROVEN, tuple(idx), _kept_tail(text, idx, keep))]
    if tail is not None and TAIL_DIGITS[0] <= len(digits) <= TAIL_DIGITS[1] and not classify(digits):
        hidden = tuple(idx) if tail not in NUMBER_KINDS else _kept_tail(text, idx, keep)
        return [_Raw(tail, digits, CONFIDENCE_CONTEXT, tuple(idx), hidden)]
    if context is None and ABROAD.fullmatch(digits) and _after_plus(stream, a):
        context = "phone"  # +852 9123 4567: the plus says a phone number follows (the code is hidden with it)
    out: list[_Raw] = []
    for n in numbers_in(digits, context, shape=not quantity):
        span = idx[where[n.start][0]:where[n.end - 1][1] + 1]
        hidden = tuple(span) if n.kind not in NUMBER_KINDS else _kept_tail(text, span, keep)
        out.append(_Raw(n.kind, digits[n.start:n.end], n.confidence, tuple(span), hidden))
    wechat = WECHAT_IS_NUMBER.search(text, max(0, a - WECHAT_IS_REACH), a) if context == "phone" else None
    if wechat and (wechat["phone"] or text.startswith(PHONE_WORDS, b)):
        return [replace(r, kind="wechat", hidden=r.span) for r in out]
    return out


def _kept_tail(text: str, idx: Sequence[int], keep: int) -> tuple[int, ...]:
    """The positions of ``idx`` to hide: all but the last ``keep`` digit characters as written (the 个 of 三个八 and the
    孖 of 孖八 say no digit of their own and are not hidden)."""
    return _all_but_last([k for k in idx if text[k] not in (REPEAT, TWIN)], keep)


def _named_id(stream: Stream, idx: Sequence[int]) -> bool:
    """Whether the digits at ``idx`` are an ID card its check digit proves, with 身份证 said shortly before: an ID
    whatever word (发票, 订单) happens to stand between."""
    a = idx[0]
    digits = _expand(stream, idx)[0]
    return id_card_valid(digits) and bool(ID_NAMED.search(stream.text, max(0, a - ID_NAMED_REACH), a))


_DIGIT = f"[{''.join(DIGIT_VALUE)}]"  # a character that says a digit
# An ID read with its birth date said as a date (510107，1983年11月30号，2644): the region's six digits, the year, month
# and day with their words, then the last four
DATED_ID = re.compile(rf"(?<!{_DIGIT})({_DIGIT}{{6}})({_DIGIT}{{4}})年({_DIGIT}{{1,2}})月({_DIGIT}{{1,2}})[日号]"
                      rf"({_DIGIT}{{3}}(?:{_DIGIT}|x))(?!{_DIGIT})")


def _dated_ids(stream: Stream, keep: int) -> list[_Raw]:
    """IDs read with the birth date as a date (DATED_ID), no sentence ending inside, after 身份证 (ID_NAMED): the
    date's words stay, its digits are hidden with the ID's others."""
    text = stream.text
    out: list[_Raw] = []
    for m in DATED_ID.finditer(text):
        region, year, month, day, tail = (_said(stream, range(*m.span(g))) for g in range(1, 6))
        value = region + year + month.zfill(2) + day.zfill(2) + tail
        a, b = m.span()
        if not (id_card_shape(value) and ID_NAMED.search(text, max(0, a - ID_NAMED_REACH), a)
                and all(stream.joined(k) or stream.digits_may_join(k) for k in range(a, b - 1))):
            continue
        digits = [k for k in range(a, b) if text[k] in DIGIT_VALUE or text[k] in X_CHARS]
        confidence = CONFIDENCE_PROVEN if id_card_valid(value) else CONFIDENCE_SHAPE
        out.append(_Raw("id_card", value, confidence, tuple(range(a, b)), _all_but_last(digits, keep)))
    return out


def _already_masked(stream: Stream, idx: Sequence[int]) -> bool:
    """Whether a star is written inside the run or against either end of it (138****8000, ****1234): the number
    was masked where it was read from, and what is left of it is as public as a tail read back."""
    for seg in {stream.seg[k] for k in idx}:
        ks = [k for k in idx if stream.seg[k] == seg]
        original = stream.norms[seg].original
        around = original[max(0, stream.pos[ks[0]] - 1):stream.end_at(ks[-1]) + 1]
        if any(ch in MASK_STARS for ch in around):
            return True
    return False


def _check_in_brackets(stream: Stream, idx: Sequence[int]) -> bool:
    """Whether the run's last digit stands in brackets after the others, as a Macau ID's check digit does."""
    said = stream.between(idx[-2], idx[-1])
    return said is not None and any(ch in "(（" for ch in said)


def _after_plus(stream: Stream, a: int) -> bool:
    """Whether a + is written just before stream character ``a`` (the normaliser drops it)."""
    return stream.norms[stream.seg[a]].original[:stream.pos[a]].rstrip().endswith(("+", "＋"))


def _all_but_last(chars: Sequence[int], keep: int) -> tuple[int, ...]:
    """What masking hides of a number: all but its last ``keep`` characters."""
    return tuple(chars[: max(0, len(chars) - keep)])


def _best(found: list[_Raw]) -> float:
    return max((r.confidence for r in found), default=0.0)


def _all_numbers(stream: Stream, keep: int) -> list[_Raw]:
    out: list[_Raw] = []
    for pieces, gone in _runs_read(stream):
        found = _run_numbers(stream, pieces, keep)
        out.extend(_with_taken_back(stream, r, gone) for r in found)
        out.extend(again for r in found if (again := _read_back(r, gone)))
    return out


def _read_back(r: _Raw, gone: list[int]) -> _Raw | None:
    """The groups of a code or password read back right after it in the same run (是330 917，嗯，三三零九一七):
    dropped from its digits, hidden as it is, apart from the words between; None when none are."""
    again = tuple(k for k in gone if 0 < k - r.span[-1] <= CORRECTION_REACH)
    return replace(r, span=again, hidden=again) if again and r.kind in WHOLE_KINDS else None


SWAPPED_FIX = re.compile(r"不对|不是|说错|念错|看错|反了")  # the words between a code misread and the code


def _with_taken_back(stream: Stream, r: _Raw, gone: list[int]) -> _Raw:
    """A number read with groups taken back inside it (幺二，不是，幺三): those groups are hidden with it, said as its
    digits were; a code or a password, said whole, is hidden from its first character to its last (the words
    mending a group too: 六六，哦不对，六九，幺二三四, as pii/s32c has it), but for the words between two whole
    readings, the second as long as the first (3 5 8 1，啊不对，3 8 5 1: 啊不对 is no part of either)."""
    inside = [k for k in gone if r.span[0] < k < r.span[-1] or (k < r.span[0] and k + 1 + CORRECTION_REACH > r.span[0])]
    span = sorted({*r.span, *inside})
    if r.kind in NUMBER_KINDS:
        return replace(r, span=tuple(span), hidden=tuple(sorted({*r.hidden, *inside})))
    if span[-1] - span[0] + 1 == len(span):
        return r
    hidden = set(span)
    for n, (k, nxt) in enumerate(pairwise(span), 1):
        read_again = 2 * n == len(span) and SWAPPED_FIX.search(stream.text, k + 1, nxt)  # n characters said before
        if not read_again:
            hidden.update(range(k + 1, nxt))  # the hesitations inside too: 幺|嗯，两拐|洞八四
    return replace(r, span=tuple(range(span[0], span[-1] + 1)), hidden=tuple(sorted(hidden)))


# A digit told by its place in the number (最后一位是6, 第三位是2): a word about the number, no group of it; or the
# last few (最后是四三，15066781243: the last two put right, then the number said again)
PLACE_TOLD = re.compile(r"(?:(?:最后|末|第[一二三四五六七八九十0-9]{1,2})一?位(?:数字)?|最后(?:[两三]位)?)"
                        r"(?:是|为|应该是)?$")
PLACE_TOLD_DIGITS = 3  # digits told so at most
CARD_GROUP, CARD_GROUPS = 4, 4  # a bank card's printed groups, and how many of them before a shorter last one


def _run_numbers(stream: Stream, pieces: list[list[int]], keep: int) -> list[_Raw]:
    """The numbers one run's pieces say: each piece joins the number before it when that reads better."""
    out: list[_Raw] = []
    current = [pieces[0]]
    for nxt in pieces[1:]:
        if _hotline(stream, _joined(current)):
            current = [nxt]  # 400-820-5588，一直占线: a hotline said whole; the 一 after it is a word
            continue
        if len(_joined(current)) <= PLACE_TOLD_DIGITS and PLACE_TOLD.search(stream.text, 0, current[0][0]):
            current = [nxt]  # 最后一位是6，370783…: a digit told by its place, then the number said again
            continue
        alone = _numbers(stream, _joined(current), keep)
        merged = _numbers(stream, _joined(current) + nxt, keep)
        # pieces that say nothing yet stay together: the words naming them may come after the
        # last (一三九，零零一二，三四五六，这是您登记的手机号)
        # 叉 after a pause: only an ID's check character is said so; it closes the ID even when its checksum fails
        closes_id = stream.text[nxt[0]] in X_CHARS and any(r.kind == "id_card" for r in merged)
        # a card read in groups of four ends in a shorter one (6228|4804|0212|3456|789: 19 digits, as printed), though
        # its first sixteen pass Luhn alone
        card_end = (len(current) == CARD_GROUPS and {len(p) for p in current} == {CARD_GROUP} and len(nxt) < CARD_GROUP
                    and any(r.kind == "bank_card" and len(r.span) == len(_joined(current)) + len(nxt) for r in merged))
        # (a number read out in pieces starts at one: a phone found from a piece's third digit is a worse reading
        # than the card the next piece completes, 6 2 1 4 | 8 3 | 0 1 2 3 | 4 5 6 7 | 8 9)
        starts = {piece[0] for piece in current}
        rivals = [r for r in alone if r.span[0] in starts]
        if (merged and _best(merged) >= _best(rivals)) or not (merged or alone) or closes_id or card_end:
            current.append(nxt)
        else:
            out.extend(alone)
            current = [nxt]
    out.extend(_said_last(stream, current, keep))
    return out


def _hotline(stream: Stream, idx: list[int]) -> bool:
    """Whether the digits at ``idx`` say a whole 400 or 800 hotline (a firm's, ten digits): nothing after a
    pause goes on from it."""
    digits = _expand(stream, idx)[0]
    return len(digits) == HOTLINE_DIGITS and digits[:3] in ("400", "800")


def _joined(pieces: Sequence[list[int]]) -> list[int]:
    return [k for piece in pieces for k in piece]


def _said_last(stream: Stream, pieces: list[list[int]], keep: int) -> list[_Raw]:
    """The numbers the last pieces of a run say; when all of them together say nothing, those said by the
    longest tail of them that says one (最后四位是1372，6225 8800 8622 1372: a tail read out alone, then the card)."""
    for first in range(len(pieces)):
        found = _numbers(stream, _joined(pieces[first:]), keep)
        if found:
            return found
    return []


def _false_starts(stream: Stream, found: list[_Raw], keep: int) -> list[_Raw]:
    """A number begun and taken back just before the one found (4403041992，不对，440304199207189299;
    6226…9865，哦看错了，6226…9865): of FALSE_START_DIGITS or more, it is hidden as that number's kind."""
    out: list[_Raw] = []
    if not any(r.kind in NUMBER_KINDS for r in found):
        return out
    taken = {k for r in found for k in r.span}
    runs = [[k for piece in pieces for k in piece] for pieces in _runs(stream)]
    for r in found:
        if r.kind not in NUMBER_KINDS:
            continue
        for run in runs:
            gap = r.span[0] - run[-1] - 1
            after = run[0] - r.span[-1] - 1
            before = 0 <= gap <= CORRECTION_REACH and CORRECTION.search(stream.text, run[-1] + 1, r.span[0])
            wrong = 0 <= after <= CORRECTION_REACH and TAKEN_BACK_AFTER.search(stream.text, r.span[-1] + 1, run[0])
            if (len(run) >= FALSE_START_DIGITS and not taken & set(run) and (before or wrong)
                    and context_kind(stream, run[0], run[-1] + 1) in (None, r.kind)):  # not 订单号是…，不对
                digits = "".join(stream.text[k] for k in run)
                out.append(_Raw(r.kind, digits, r.confidence, tuple(run), _all_but_last(run, keep)))
    return out


def _read_again(stream: Stream, found: list[_Raw], keep: int) -> list[_Raw]:
    """A number said again soon after it was found (五五八零三二，我念对了吧，五五八零三二): the same digits in a
    run of their own within CORRECTION_REACH characters, hidden as the first was; the words between, a check
    (对吧, 我再说一遍), name nothing themselves."""
    out: list[_Raw] = []
    taken = {k for r in found for k in r.span}
    for run in map(_joined, _runs(stream)):
        if taken & set(run):
            continue
        digits = _expand(stream, run)[0]
        for r in found:
            if r.value == digits and 0 <= run[0] - r.span[-1] - 1 <= CORRECTION_REACH:
                hidden = _kept_tail(stream.text, run, keep) if r.kind in NUMBER_KINDS else tuple(run)
                out.append(_Raw(r.kind, digits, r.confidence, tuple(run), hidden))
                break
    return out


def _swapped(stream: Stream, found: list[_Raw]) -> list[_Raw]:
    """Digits said, taken back and said again in another order (629415，啊不对，是629451; 是629047，不是，629074),
    with no word naming them: a code misread off a screen, of a code's length (not an e-mail's or an ID's digits
    among letters: sunli0510@126.com); both readings are hidden."""
    out: list[_Raw] = []
    taken = {k for r in found for k in r.span}
    lo, hi = LENGTHS["code"]
    for first, second in pairwise(map(_joined, _runs(stream))):
        said = [_expand(stream, run)[0] for run in (first, second)]
        if (taken & {*first, *second} or said[0] == said[1] or sorted(said[0]) != sorted(said[1])
                or not lo <= len(said[0]) <= hi or not 0 <= second[0] - first[-1] - 1 <= CORRECTION_REACH
                or not SWAPPED_FIX.search(stream.text, first[-1] + 1, second[0])
                or context_kind(stream, first[0], first[-1] + 1) is not None or _lettered(stream, first)):
            continue
        pairs = zip(said, (first, second), strict=True)
        out += [_Raw("code", d, CONFIDENCE_CONTEXT, tuple(run), tuple(run)) for d, run in pairs]
    return out


def _lettered(stream: Stream, run: Sequence[int]) -> bool:
    """Whether a Latin letter stands against either end of digit run ``run`` in its clause."""
    a, b = run[0], run[-1]
    return (a > 0 and stream.joined(a - 1) and _is_latin(stream.text[a - 1])) or (
        b + 1 < len(stream.text) and stream.joined(b) and _is_latin(stream.text[b + 1]))


def _find(stream: Stream, kinds: Iterable[str], keep: int) -> list[_Raw]:
    wanted = set(kinds)
    found = _all_numbers(stream, keep) + _dated_ids(stream, keep)
    found += _false_starts(stream, found, keep)
    found += _read_again(stream, found, keep)
    found += _swapped(stream, found)
    for w in names(stream) + addresses(stream) + emails(stream) + wechat_ids(stream) + dictated_passwords(stream):
        span = tuple(range(w.start, w.end))
        found.append(_Raw(w.kind, stream.text[w.start:w.end], WORD_CONFIDENCE, span, span, w.own))
    found = [r for r in found if r.kind in wanted]
    found.sort(key=lambda r: (r.span[0], -len(r.span)))
    return found


def _pieces(stream: Stream, span: Sequence[int]) -> tuple[Piece, ...]:
    out: list[Piece] = []
    for seg in sorted({stream.seg[k] for k in span}):
        ks = [k for k in span if stream.seg[k] == seg]
        norm_end = stream.idx[ks[-1]] + max(1, stream.width[ks[-1]])
        out.append(Piece(seg, stream.pos[ks[0]], stream.end_at(ks[-1]), stream.idx[ks[0]], norm_end))
    return tuple(out)


def _hesitations_inside(stream: Stream, hidden: Sequence[int]) -> list[tuple[int, int]]:
    """The hesitations the stream left out between two hidden characters of one segment (三五五，呃，零八九): a code
    or a password is hidden whole, the 呃 inside it too."""
    out: list[tuple[int, int]] = []
    for k, nxt in pairwise(hidden):
        said = stream.between(k, nxt) if nxt == k + 1 else None
        at = stream.end_at(k)
        out += [(stream.seg[k], at + i) for i, ch in enumerate(said or "") if ch in FILLERS]
    return out


def find_pii_segments(texts: Sequence[str | Normalized], kinds: Iterable[str] = KINDS,
                      speakers: Sequence[str] | None = None, keep: int = KEEP) -> list[SegmentMatch]:
    """PII in consecutive segments read as one text.

    With ``speakers`` (one per text), digits join across a boundary only between two
    segments of the same speaker, and a name an agent gives as their own (我叫李娜) is left alone.
    """
    stream = build(texts, speakers)
    out: list[SegmentMatch] = []
    for r in _find(stream, kinds, keep):
        if r.own and speakers is not None and speakers[stream.seg[r.span[0]]] == AGENT:
            continue  # "我叫李娜" from the agent is the introduction POLICY §1 asks for, not a caller's name
        hidden = [(stream.seg[k], at) for k in r.hidden for at in stream.said_at(k)]
        if r.kind in WHOLE_KINDS:
            hidden += _hesitations_inside(stream, r.hidden)
        out.append(SegmentMatch(r.kind, r.value, r.confidence, _pieces(stream, r.span), tuple(sorted(hidden))))
    return out


def find_pii(text: str | Normalized, kinds: Iterable[str] = KINDS, keep: int = KEEP) -> list[PiiMatch]:
    """PII in one utterance; spans in the original text and in its normalised form."""
    out: list[PiiMatch] = []
    for m in find_pii_segments([text], kinds, keep=keep):
        (p,) = m.pieces
        out.append(PiiMatch(m.kind, m.value, p.norm_start, p.norm_end, p.start, p.end, m.confidence,
                            tuple(offset for _, offset in m.hidden)))
    return out


def _apply(text: str, offsets: Iterable[int]) -> str:
    chars = list(text)
    for k in offsets:
        chars[k] = "*"
    return "".join(chars)


def mask_segments(texts: Sequence[str], kinds: Iterable[str] = KINDS, speakers: Sequence[str] | None = None,
                  keep: int = KEEP) -> list[str]:
    """Each segment with its PII hidden (a number split across two is masked as one)."""
    hide: dict[int, set[int]] = {}
    for m in find_pii_segments(texts, kinds, speakers, keep):
        for seg, offset in m.hidden:
            hide.setdefault(seg, set()).add(offset)
    return [_apply(t, hide.get(k, ())) for k, t in enumerate(texts)]


def mask(text: str, kinds: Iterable[str] = KINDS, keep: int = KEEP) -> str:
    """``text`` with its PII hidden by ``*`` (numbers keep their last ``keep`` digits)."""
    return mask_segments([text], kinds, keep=keep)[0]

