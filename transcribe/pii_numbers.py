"""Numbers in speech: digit runs in any written form, and what kind of number each is.

Callers and agents say numbers in every form the ASR can write: 13812345678,
138-1234-5678, "1 3 8 ...", full-width digits, or spoken digits in characters
(一三八, 幺 for one, 两 for two, 〇/零/洞 for zero, 拐 for seven, 勾 for nine, and the
capital forms 壹贰叁 of banking speech). A *run* is a maximal stretch of such
characters in the stream (``pii_stream``): spaces and dashes inside it are fine,
clause punctuation ends it, and it crosses a segment boundary only between two
segments of the same speaker.

What a run is comes first from the words around it (``pii_context``): after
身份证号码 an 18-character run is an ID card even when the check digit is wrong
(an ASR slip, or the caller's), after 账号 a 19-digit run is an account even when
it fails Luhn. The checksums only raise the confidence. Without such words a run
is taken only when its structure proves it: a valid ID check character with a
plausible birth date, a Luhn-valid 16-19 digit card (or a UnionPay card's 62 prefix and length), a mobile number 1[3-9]
followed by nine digits; numbers back to back are split (``_tile``). An ID whose
check character is wrong (one digit misheard) is still taken when a province's
code and a past birth date say what it is (``id_card_unmistakable``). Order,
tracking and model numbers, amounts, dates, hotline numbers and tail digits
(尾号8003) are look-alikes the context words and ``is_service_number`` turn away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DIGIT_VALUE: dict[str, str] = {str(d): str(d) for d in range(10)}
for _chars, _value in (
    ("零〇○洞", "0"), ("一幺壹", "1"), ("二两贰", "2"), ("三叁参", "3"), ("四肆", "4"),
    ("五伍", "5"), ("六陆", "6"), ("七拐柒", "7"), ("八捌", "8"), ("九勾玖", "9"),
):
    for _c in _chars:
        DIGIT_VALUE[_c] = _value
REPEAT = "个"  # 三个八: a count, 个, then the digit said that many times
TWIN = "孖"  # Cantonese 孖八: the digit twice
X_CHARS = {"x": "x", "叉": "x"}  # the ID card's check character, said 叉 or written X
X_AFTER = range(14, 18)  # digits before an x that can be an ID card's check character

# A numeral said as a word right before one of these counts or multiplies (两个号码, 一共八位, 二十四小时, 三次,
# 五分钟内有效) or begins a word (一直, 一下, 二代证): a word of the sentence, not a digit of the number it touches
COUNTED = set("个共十百千万位次遍天种条张份项句组直代下定般样分")  # (四组数字: the groups a number was read in)

# Characters that, right after a run, make it a quantity, a date or a time, not an identifier.
UNITS = set("元块年月日号点分秒岁个次天位万千百亿米斤台件楼层室栋期周倍")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10x98765432"
# The first two digits of a resident ID: a province, a municipality, Taiwan, Hong Kong, Macau.
_PROVINCES = frozenset(str(code) for code in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47),
                                               *range(50, 55), *range(61, 66), 71, 81, 82, 83))
MAX_EDGE_JUNK = 2  # characters of neighbouring words allowed at either end of a tiled run

# Lengths a run may have (inclusive) when the context names its kind: one digit missing or
# one too many is an ASR slip, not a reason to show the number.
LENGTHS: dict[str, tuple[int, int]] = {
    "id_card": (14, 19),
    "bank_card": (10, 23),
    "phone": (7, 13),
    "code": (3, 8),  # a card's 3-digit security code too
    "password": (4, 8),
}
CONFIDENCE_PROVEN = 0.99  # context and a valid structure
CONFIDENCE_STRUCTURE = 0.9  # a valid structure alone
CONFIDENCE_SHAPE = 0.8  # context and the right shape (an ID's birth date), checksum wrong
CONFIDENCE_CONTEXT = 0.7  # context and a plausible length only


@dataclass(frozen=True, slots=True)
class Number:
    kind: str
    start: int  # [start, end) within the run
    end: int
    confidence: float


def id_card_valid(d: str) -> bool:
    if len(d) == 18:
        if not d[:17].isdigit() or not (d[17].isdigit() or d[17] == "x"):
            return False
        total = sum(int(c) * w for c, w in zip(d[:17], _ID_WEIGHTS, strict=True))
        return _ID_CHECK[total % 11] == d[17] and id_card_shape(d)
    if len(d) == 15 and d.isdigit():
        return _date_ok("19" + d[6:8], d[8:10], d[10:12])
    return False


def id_card_shape(d: str) -> bool:
    """An 18-character ID's region and birth date look right (check character not tested)."""
    return len(d) == 18 and d[:17].isdigit() and d[0] in "123456789" and _date_ok(d[6:10], d[10:12], d[12:14])


def id_card_unmistakable(d: str) -> bool:
    """An ID said with no word naming it whose check character fails (a digit misheard, as an ASR
    does): a province's code and a birth date in the past. About one random 18-digit order number
    in 10,000 passes the date alone; the province's code leaves a third of those."""
    return id_card_shape(d) and d[:2] in _PROVINCES and int(d[6:10]) <= date.today().year


def _date_ok(y: str, m: str, d: str) -> bool:
    if not (y + m + d).isdigit():
        return False
    year, month, day = int(y), int(m), int(d)
    return 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


def luhn_valid(d: str) -> bool:
    if not d.isdigit():
        return False
    total = 0
    for i, c in enumerate(reversed(d)):
        n = int(c)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def unionpay_shape(d: str) -> bool:
    """A UnionPay card's shape: 62, the issuer prefix of China's debit and credit cards, and 16 to 19 digits in all.
    A card misread by one digit (or a made-up one) fails Luhn, but no order, tax or transaction number is written
    so; a card is what a caller reading 6222 0212 … gives."""
    return d.isdigit() and 16 <= len(d) <= 19 and d.startswith("62")


def phone_valid(d: str) -> bool:
    return len(d) == 11 and d.isdigit() and d[0] == "1" and d[1] in "3456789"


def is_service_number(d: str) -> bool:
    """Hotline and short service numbers (400/800 lines, 95xxx, 10086): public, never masked."""
    if len(d) == 10 and d[:3] in ("400", "800"):
        return True
    if d.startswith("106") and 8 <= len(d) <= 20:  # SMS gateway senders (106980095588)
        return True
    return len(d) <= 6 and d[:2] in ("95", "96", "10", "11", "12")


def classify(d: str) -> str | None:
    """The kind a whole digit string proves by its structure alone, or None."""
    if id_card_valid(d):
        return "id_card"
    if 16 <= len(d) <= 19 and luhn_valid(d):
        return "bank_card"
    if phone_valid(d):
        return "phone"
    if len(d) == 13 and d.startswith("86") and phone_valid(d[2:]):
        return "phone"
    if _taiwan_mobile(d):
        return "phone"
    return None


def _taiwan_mobile(d: str) -> bool:
    """09 and eight digits, or 886 9 and eight (a caller from Taiwan reads out 零九一二 三四五 六七八)."""
    return d.isdigit() and ((len(d) == 10 and d.startswith("09")) or (len(d) == 12 and d.startswith("8869")))


def _tile(d: str) -> list[Number] | None:
    """Split a run into numbers back to back (phones and ID cards), or None."""
    for lead in range(MAX_EDGE_JUNK + 1):
        out: list[Number] = []
        i = lead
        while i < len(d):
            card = d[i:i + 18]  # 18 characters, or an old 15-digit ID ending the run
            valid = id_card_valid(card)
            if valid or id_card_unmistakable(card):
                out.append(Number("id_card", i, i + len(card), CONFIDENCE_STRUCTURE if valid else CONFIDENCE_SHAPE))
                i += len(card)
            elif phone_valid(d[i:i + 11]):
                out.append(Number("phone", i, i + 11, CONFIDENCE_STRUCTURE))
                i += 11
            else:
                break
        if out and len(d) - i <= MAX_EDGE_JUNK:
            return out
    return None


def numbers_in(d: str, context: str | None, shape: bool = True) -> list[Number]:
    """The numbers in run ``d`` (ASCII digits, x), given the kind its context names (or None); ``shape``: whether a
    card's shape alone may say what it is (not near an amount's words, 退款打到6222…: there only Luhn proves a card)."""
    proven = classify(d)
    if context in ("code", "password"):
        lo, hi = LENGTHS[context]
        if lo <= len(d) <= hi:
            return [Number(context, 0, len(d), CONFIDENCE_PROVEN)]
    elif context is not None:
        lo, hi = LENGTHS[context]
        if lo <= len(d) <= hi and not is_service_number(d):
            if proven:
                return [Number(proven, 0, len(d), CONFIDENCE_PROVEN)]
            if context == "id_card" and id_card_shape(d):
                return [Number(context, 0, len(d), CONFIDENCE_SHAPE)]
            return [Number(context, 0, len(d), CONFIDENCE_CONTEXT)]
    if proven:
        return [Number(proven, 0, len(d), CONFIDENCE_STRUCTURE)]
    if id_card_unmistakable(d):
        return [Number("id_card", 0, len(d), CONFIDENCE_SHAPE)]
    if shape and unionpay_shape(d):
        return [Number("bank_card", 0, len(d), CONFIDENCE_SHAPE)]
    if len(d) >= 11:
        return _tile(d) or []
    return []
