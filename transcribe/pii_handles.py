"""E-mail addresses: letters or digits, then @ (or 艾特 / at, as the ASR writes a spoken one), then a
domain with a dot (点 / dot), unless the company's (客服邮箱是…). The name before the @ is hidden, the
domain (163.com, qq.com) stays. WeChat IDs in letters after 微信 / 微信号 (or V信) are hidden whole.
"""

from __future__ import annotations

import re

from transcribe.pii_stream import GAP_JOIN, Found, Stream, corrections

# The company's own mailbox or account (我们的客服邮箱是service@…, 官方公众号) is public.
NOT_CALLERS_ID = re.compile(r"我们|公司|客服|官方|售后|总部|公众号")
# On the original text: the normalised one has no @ or dots. The part hidden is group 1.
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9][A-Za-z0-9._%+-]*)\s*(?:@|＠|艾特|\bat\b)\s*"
                   r"[A-Za-z0-9-]+(?:\s*(?:\.|点|\bdot\b)\s*[A-Za-z0-9-]+)+", re.IGNORECASE)
# A WeChat ID in letters (one of digits alone is read as a number after 微信号): it starts with a
# letter and runs 6-20 letters, digits, _ or -.
ID_LEAD = 8  # characters of the segment before searched for the words that name an ID
_ID_TAIL = re.compile(r"[A-Za-z0-9._%+-]*$")
_RETOLD_ID = re.compile(r"[a-z][a-z0-9]{5,19}(?![a-z0-9])")  # on the normalised text: lower case, no _ or -
WECHAT = re.compile(r"(?<![A-Za-z0-9_-])(?:[微威v]信[号號]?|wechat|vx[号號]|wx[号號])\s*"
                    r"(?:是|係|系|為|为|吧|搜|搜索|[:：])?[\s？?，,]*"
                    r"([A-Za-z][A-Za-z0-9_-]{5,19})(?![A-Za-z0-9_-])", re.IGNORECASE)


def emails(stream: Stream) -> list[Found]:
    """The mailbox name of each e-mail address, in stream indices."""
    return _ids(stream, EMAIL, "email")


def wechat_ids(stream: Stream) -> list[Found]:
    """Each WeChat ID written in letters, whole, in stream indices; and one said again after a
    correction (微信号是hz13579，不对，是hz13597)."""
    found = _ids(stream, WECHAT, "wechat")
    retold = (_RETOLD_ID.match(stream.text, at) for at in corrections(stream, found))
    return found + [Found("wechat", m.start(), m.end()) for m in retold if m]


def _ids(stream: Stream, pattern: re.Pattern[str], kind: str) -> list[Found]:
    """Group 1 of each match of ``pattern`` on a segment's original text, unless the company's. The
    words before it may end the segment before, either speaker's (您的微信号是？ | wxid_abc123), and
    so may the ID's first characters, the same speaker's (邮箱liu | yang2008@sina.com)."""
    out: list[Found] = []
    for seg, norm in enumerate(stream.norms):
        first = stream.starts[seg]
        if first < 0:
            continue
        count = len(norm.text)  # the segment's characters in the stream, from ``first`` on
        prev = stream.norms[seg - 1].original if seg > 0 else ""
        run = len(prev) - _ID_TAIL.search(prev).start()  # the ID's characters ending the segment before
        before = prev[len(prev) - run - ID_LEAD:] if len(prev) > run + ID_LEAD else prev
        text = before + norm.original
        for m in pattern.finditer(text):
            a, b = m.start(1) - len(before), m.end(1) - len(before)
            if NOT_CALLERS_ID.search(text, max(0, m.start() - 10), m.start()):
                continue
            if a < 0 and not (first > 0 and stream.gaps[first - 1] == GAP_JOIN and -a <= run):
                continue  # an ID of the segment before, or another speaker's words
            hidden = [k for k in range(first, first + count) if a <= stream.pos[k] < b]
            if a < 0:  # its start, in the segment before
                hidden = [k for k in range(first) if stream.seg[k] == stream.seg[first - 1]
                          and stream.pos[k] >= len(prev) + a] + hidden
            if hidden:
                out.append(Found(kind, hidden[0], hidden[-1] + 1))
    return out
