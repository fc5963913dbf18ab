"""Phrases with a gap: ``我…不能`` is 我不能 and the same words with an adverb or two between.

Agents rarely say a rule's phrase bare: 我真的不能, 我们这边现在很忙. A phrase rule may mark where
such words can stand with ``…`` (the Chinese ellipsis, one or two of them); each ``…`` takes no
word, one or two of the rule's ``gap_words`` (adverbs of degree, time and place), never anything
else, so 我看看能不能 is not 我…不能. The rules are matched on the phrases spelled out (every
wording), so the text matcher, the audio check and the review screens need no pattern language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import product

GAP = "…"
CLAUSE_END = "。"  # at the end (start) of a variant or an allowed wording: only where its clause ends (starts) there
MAX_GAPS = 2  # gaps in one phrase; each multiplies its wordings by about 800
MAX_GAP_WORDS = 2  # words one gap may hold
# Words an agent puts inside a phrase without changing what it says (the rule's own list replaces them).
DEFAULT_GAP_WORDS = (
    "真的", "真", "是真的", "真的是", "实在", "实在是", "确实", "确实是", "的确",  # degree and stance
    "根本", "压根", "完全", "肯定", "恐怕",
    "现在", "目前", "暂时", "今天", "今晚", "最近", "这两天", "这几天",  # time
    "这边", "这里", "这儿",  # place
    "也", "都", "就", "还", "又", "可", "是",
    "呢", "啊",  # fillers (我们这边呢不可以)
)  # fmt: skip

_GAPS = re.compile(f"{GAP}+")


def gap_problem(phrase: str) -> str | None:
    """Why ``phrase`` cannot be spelled out, or None."""
    parts = gap_parts(phrase)
    if len(parts) == 1:
        return None
    if not parts[0].strip() or not parts[-1].strip():
        return f"'{phrase}': a gap ({GAP}) stands between words, not at the start or end"
    if len(parts) - 1 > MAX_GAPS:
        return f"'{phrase}': at most {MAX_GAPS} gaps ({GAP}) in one phrase"
    return None


def longest_first(words: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for ``words`` that reads the longest first where several start at one place (俺们 before 俺);
    None for no words."""
    ordered = sorted(words, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


def bare(phrase: str) -> str:
    """The phrase with its gaps empty (我…不能 -> 我不能)."""
    return _GAPS.sub("", phrase)


def gap_parts(phrase: str) -> list[str]:
    """The words between the gaps of ``phrase`` (我…不能 -> [我, 不能]; no gap: [phrase])."""
    return _GAPS.split(phrase)


@lru_cache(maxsize=256)
def fillings(words: tuple[str, ...]) -> tuple[str, ...]:
    """What one gap may hold: nothing, or one or two of ``words``."""
    return ("", *dict.fromkeys("".join(p) for n in range(1, MAX_GAP_WORDS + 1) for p in product(words, repeat=n)))


def spelled_out(phrase: str, gap_words: tuple[str, ...]) -> tuple[str, ...]:
    """Every wording of ``phrase``: the bare phrase first, then each filling of its gaps."""
    parts = gap_parts(phrase)
    if len(parts) == 1:
        return (phrase,)
    fills = fillings(gap_words)
    out = []
    for chosen in product(fills, repeat=len(parts) - 1):
        out.append(parts[0] + "".join(f + p for f, p in zip(chosen, parts[1:], strict=True)))
    return tuple(dict.fromkeys(out))
