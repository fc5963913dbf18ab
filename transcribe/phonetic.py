"""Sound-alike helpers: toneless pinyin per character, and approximate substring search.

Whisper's mistakes on Mandarin are mostly homophones: the right sound, the wrong
character (海尔思 for 海尔斯, 门 for 们). Comparing toneless pinyin forgives those.
Each character gets its most common reading (a fixed per-character table, not
pypinyin's phrase-aware conversion), so a phrase and the text it is searched in are
converted the same way, and the conversion is a dict lookup.
"""

from __future__ import annotations

from collections.abc import Sequence

from pypinyin import Style, pinyin

_cache: dict[str, str] = {}


def syllable(ch: str) -> str:
    """The toneless pinyin of one CJK character; any other character stands for itself."""
    got = _cache.get(ch)
    if got is None:
        if "\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0002ffff":
            got = pinyin(ch, style=Style.NORMAL, errors="default")[0][0] or ch
        else:
            got = ch
        _cache[ch] = got
    return got


def syllables(text: str) -> list[str]:
    return [syllable(ch) for ch in text]


def loose(syl: str) -> str:
    """``syl`` with the finals many southern speakers and the ASR do not tell apart made one: eng and ing as en
    and in (不能 written 不嫩). Not n and l (你 would be 里: 哪里不明白, 电话里等着), nor zh and z (没法直接 would
    be 没法子)."""
    return syl[:-1] if syl.endswith(("eng", "ing")) else syl


def best_window(needle: Sequence[str], hay: Sequence[str]) -> tuple[int, int, int]:
    """Approximate substring match (Sellers): the fewest edits turning ``needle`` into
    some window of ``hay``, and that window ``(edits, start, end)``.

    Works on characters or on syllable lists alike; needles here are a few words long,
    so the O(len(needle) * len(hay)) table is small.
    """
    m = len(needle)
    if m == 0:
        return 0, 0, 0
    # prev[j]: edits for needle[:i] ending at hay[:j]; start[j]: where that window began.
    prev = [0] * (len(hay) + 1)
    start = list(range(len(hay) + 1))
    for i in range(1, m + 1):
        cur = [i] + [0] * len(hay)
        cur_start = [0] * (len(hay) + 1)
        for j in range(1, len(hay) + 1):
            sub = prev[j - 1] + (needle[i - 1] != hay[j - 1])
            dele = prev[j] + 1
            ins = cur[j - 1] + 1
            best = min(sub, dele, ins)
            cur[j] = best
            if best == sub:
                cur_start[j] = start[j - 1]
            elif best == dele:
                cur_start[j] = start[j]
            else:
                cur_start[j] = cur_start[j - 1]
        prev, start = cur, cur_start
    end = min(range(len(hay) + 1), key=lambda j: (prev[j], -j))
    return prev[end], start[end], end


def fuzzy_contains(needle: str, hay: str, max_edit_ratio: float = 0.25) -> bool:
    """True when ``hay`` holds ``needle`` exactly, by sound, or with few character errors.

    ``max_edit_ratio`` of the needle's characters may be wrong (rounded down), so a
    four-character company name forgives one error and a two-character word none.
    """
    if not needle:
        return True
    if needle in hay:
        return True
    allowed = int(len(needle) * max_edit_ratio)
    ns, hs = syllables(needle), syllables(hay)
    if _contains_seq(ns, hs):
        return True
    if allowed == 0:
        return False
    return best_window(ns, hs)[0] <= allowed


def coverage(line: str, text: str) -> float:
    """Share of ``line``'s syllables found, in order, in ``text`` (1.0 = all of it).

    Extra words in the text (the agent's name, 让您久等了) cost nothing; missing or
    misheard words lower it. Syllables, not characters, so homophones count as found.
    """
    a, b = syllables(line), syllables(text)
    if not a:
        return 1.0
    return _lcs(a, b) / len(a)


def _contains_seq(needle: Sequence[str], hay: Sequence[str]) -> bool:
    n = len(needle)
    return any(list(hay[i : i + n]) == list(needle) for i in range(len(hay) - n + 1))


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]
