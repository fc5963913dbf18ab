"""Personal numbers in speech: ID cards, bank cards, mobile phones; found and masked.

Callers and agents say numbers in every form the ASR can write: 13812345678,
138-1234-5678, "1 3 8 ...", full-width digits, or spoken digits in characters
(一三八, 幺 for one, 两 for two, 〇/零/洞 for zero, 拐 for seven, 勾 for nine).
Detection runs on the normalised text (spaces and dashes gone, full-width folded),
with each spoken digit read as its value; runs of digits are then classified:

- ID card: 18 characters, 17 digits and a digit or X, with a valid ISO 7064 check
  character and a plausible birth date; or the legacy 15-digit form with a valid date.
- bank card: 16-19 digits passing the Luhn check.
- mobile: 11 digits 1[3-9]xxxxxxxxx, optionally after 86.

A run longer than one number is accepted only when it is a few such numbers back
to back (two numbers read in one breath, or a neighbouring word's 一); long order
or tracking numbers are left alone rather than guessed at.

Masking keeps the last four digits of each number and replaces every other digit,
in whatever form it was written, by ``*``: "幺三八 1234 五六七八" -> "*** **** 五六七八".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from transcribe.normalize import Normalized, normalize

KINDS = ("id_card", "bank_card", "phone")

DIGIT_VALUE: dict[str, str] = {str(d): str(d) for d in range(10)}
for _chars, _value in (
    ("零〇○洞", "0"), ("一幺壹", "1"), ("二两贰", "2"), ("三叁", "3"), ("四肆", "4"),
    ("五伍", "5"), ("六陆", "6"), ("七拐柒", "7"), ("八捌", "8"), ("九勾玖", "9"),
):
    for _c in _chars:
        DIGIT_VALUE[_c] = _value
X_CHARS = {"x": "x", "叉": "x"}  # the ID card's check character, said 叉 or written X

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10x98765432"
MAX_EDGE_JUNK = 2  # characters of neighbouring words allowed at either end of a run


@dataclass(frozen=True, slots=True)
class PiiMatch:
    kind: str
    digits: str  # the number as ASCII digits (x for the ID check character)
    norm_start: int
    norm_end: int
    start: int  # span in the original text
    end: int


def id_card_valid(d: str) -> bool:
    if len(d) == 18:
        if not d[:17].isdigit() or not (d[17].isdigit() or d[17] == "x"):
            return False
        total = sum(int(c) * w for c, w in zip(d[:17], _ID_WEIGHTS, strict=True))
        return _ID_CHECK[total % 11] == d[17] and _date_ok(d[6:10], d[10:12], d[12:14])
    if len(d) == 15 and d.isdigit():
        return _date_ok("19" + d[6:8], d[8:10], d[10:12])
    return False


def _date_ok(y: str, m: str, d: str) -> bool:
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


def phone_valid(d: str) -> bool:
    return len(d) == 11 and d.isdigit() and d[0] == "1" and d[1] in "3456789"


def classify(d: str) -> str | None:
    """The kind of a whole digit string, or None."""
    if id_card_valid(d):
        return "id_card"
    if 16 <= len(d) <= 19 and luhn_valid(d):
        return "bank_card"
    if phone_valid(d):
        return "phone"
    if len(d) == 13 and d.startswith("86") and phone_valid(d[2:]):
        return "phone"
    return None


def _tile(d: str) -> list[tuple[int, int, str]] | None:
    """Split a run into numbers back to back (phones and ID cards), or None."""
    for lead in range(MAX_EDGE_JUNK + 1):
        out: list[tuple[int, int, str]] = []
        i = lead
        while i < len(d):
            if id_card_valid(d[i:i + 18]):
                out.append((i, i + 18, "id_card"))
                i += 18
            elif phone_valid(d[i:i + 11]):
                out.append((i, i + 11, "phone"))
                i += 11
            else:
                break
        if out and len(d) - i <= MAX_EDGE_JUNK:
            return out
    return None


def _runs(norm: Normalized) -> Iterable[tuple[int, str]]:
    """(start, digits) of each maximal run of digit-like characters in the normalised text."""
    text = norm.text
    i = 0
    while i < len(text):
        if text[i] in DIGIT_VALUE:
            j = i
            digits: list[str] = []
            while j < len(text):
                ch = text[j]
                if ch in DIGIT_VALUE:
                    digits.append(DIGIT_VALUE[ch])
                elif ch in X_CHARS and len(digits) == 17:
                    digits.append("x")
                else:
                    break
                j += 1
            yield i, "".join(digits)
            i = j
        else:
            i += 1


def find_pii(text: str | Normalized, kinds: Iterable[str] = KINDS) -> list[PiiMatch]:
    norm = text if isinstance(text, Normalized) else normalize(text)
    wanted = set(kinds)
    out: list[PiiMatch] = []
    for start, digits in _runs(norm):
        if len(digits) < 11:
            continue
        kind = classify(digits)
        parts = [(0, len(digits), kind)] if kind else (_tile(digits) or [])
        for s, e, k in parts:
            if k in wanted:
                os_, oe = norm.span(start + s, start + e)
                out.append(PiiMatch(k, digits[s:e], start + s, start + e, os_, oe))
    return out


def mask(text: str, kinds: Iterable[str] = KINDS, keep: int = 4) -> str:
    """``text`` with every found number's digits but the last ``keep`` replaced by ``*``."""
    norm = normalize(text)
    matches = find_pii(norm, kinds)
    if not matches:
        return text
    chars = list(text)
    for m in matches:
        # offsets of the number's own characters (spaces and dashes between them stay)
        own = [norm.offsets[k] for k in range(m.norm_start, m.norm_end)]
        for k in own[: max(0, len(own) - keep)]:
            chars[k] = "*"
    return "".join(chars)
