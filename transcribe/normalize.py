"""Text normalisation for matching, with a map back to the original characters.

One form for the engine (hallucination and loop checks) and for QA (rule matching).

Whisper writes the same words many ways: Traditional or Simplified characters
(FINDINGS: Traditional in 18 of 20 sentences), full-width or half-width digits and
letters, with or without punctuation, sometimes with a space between every
character. Rules are matched on one canonical form:

- full-width -> half-width (NFKC, per character so a character that expands keeps
  pointing at its source),
- Traditional -> Simplified (OpenCC ``t2s``, then the few characters it leaves: 著 of
  等著 is 着, 妳 is 你, 祇 and 衹 are 只, an account's 帐 is 账),
- Latin letters lower-cased,
- everything that is not a letter or a digit dropped (punctuation, spaces,
  symbols, control characters).

``Normalized.offsets[i]`` is the index in the original text of normalised character
``i``, so a match ``[s, e)`` in the normalised text highlights
``original[offsets[s] : offsets[e - 1] + 1]``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc


@dataclass(frozen=True, slots=True)
class Normalized:
    original: str
    text: str
    offsets: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original-text span ``[s, e)`` of normalised ``[start, end)``."""
        if end <= start:
            at = self.offsets[start] if start < len(self.offsets) else len(self.original)
            return at, at
        return self.offsets[start], self.offsets[end - 1] + 1

    def source(self, start: int, end: int) -> str:
        s, e = self.span(start, end)
        return self.original[s:e]


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _kept(ch: str) -> bool:
    # Letters (L*) and numbers (N*) carry meaning; marks (M*) such as combining accents
    # are dropped with punctuation (P*), separators (Z*), symbols (S*) and controls (C*).
    return unicodedata.category(ch)[0] in "LN"


# OpenCC keeps these, as each is also written in Simplified text: 著 for 著名 and 显著, 妳 and 祇 in
# names and poetry. Whisper writes them for 着, 你 and 只 (您就等著吧, 妳不明白), where the rules would
# not see the words; in phone speech the other senses are rare.
_LEFT_BY_T2S = str.maketrans({"妳": "你", "祇": "只", "衹": "只"})
# 著 is zhù, and stays, in a word it forms (著名, 著作, 显著, 名著); anywhere else it is the particle 着.
_ZHU_WORD = re.compile(r"著(?=[名作称述者书录])|(?<=[显卓昭土原巨专论编遗合译拙撰名])著")


# OpenCC writes 帳戶 as 帐户, a form Simplified text keeps besides the standard 账户; an account's 帐 is 账
# (帐篷, 蚊帐 stay), so 帐户密码 is read as 账户密码 by every rule.
_ACCOUNT_ZHANG = re.compile(r"帐(?=[户号单款目])")


def to_simplified(text: str) -> str:
    simple = _ACCOUNT_ZHANG.sub("账", str(_t2s().convert(text)).translate(_LEFT_BY_T2S))
    if "著" not in simple:
        return simple
    kept = {m.start() for m in _ZHU_WORD.finditer(simple)}
    return "".join("着" if ch == "著" and i not in kept else ch for i, ch in enumerate(simple))


def _nfkc(text: str) -> tuple[str, list[int]]:
    whole = unicodedata.normalize("NFKC", text)
    if len(whole) == len(text):
        return whole, list(range(len(text)))
    # Some characters expand (e.g. '㈠' -> '(一)'): go per character to keep the map.
    out: list[str] = []
    idx: list[int] = []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch)
        out.append(n)
        idx.extend([i] * len(n))
    return "".join(out), idx


def _simplified(text: str, idx: list[int]) -> tuple[str, list[int]]:
    whole = to_simplified(text)
    if len(whole) == len(text):
        return whole, idx
    # OpenCC converts phrase by phrase; in the rare case the length changes, fall back
    # to character by character so every output character still has one source.
    out: list[str] = []
    new_idx: list[int] = []
    for ch, i in zip(text, idx, strict=True):
        s = to_simplified(ch)
        out.append(s)
        new_idx.extend([i] * len(s))
    return "".join(out), new_idx


def normalize(text: str) -> Normalized:
    """Canonical form of ``text`` for matching, and where each character came from."""
    half, idx = _nfkc(text)
    simp, idx = _simplified(half, idx)
    low = simp.lower()
    if len(low) != len(simp):  # a few letters lower-case to two characters (İ)
        low = "".join(c.lower()[:1] for c in simp)
    chars: list[str] = []
    offsets: list[int] = []
    for ch, i in zip(low, idx, strict=True):
        if _kept(ch):
            chars.append(ch)
            offsets.append(i)
    return Normalized(text, "".join(chars), tuple(offsets))


def punctuated(text: str) -> bool:
    """Whether ``text`` (as the ASR wrote it) holds a punctuation mark: where the rules read a clause break."""
    return any(unicodedata.category(ch).startswith("P") for ch in text)


def said_together(text: str) -> bool:
    """Whether ``text`` (as the ASR wrote it) holds no punctuation and no space: said in one breath (a space
    is where the ASR heard a pause)."""
    return not punctuated(text) and not any(ch.isspace() for ch in text)


def canonical(text: str) -> str:
    """Only the normalised text (for phrases in the config)."""
    return normalize(text).text


def says_more(longer: str, phrase: str) -> bool:
    """``longer`` says ``phrase`` and more, once both are canonical (我不能确定 and 我不能)."""
    inner, outer = canonical(phrase), canonical(longer)
    return len(inner) < len(outer) and inner in outer
