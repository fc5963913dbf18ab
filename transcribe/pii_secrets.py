"""An agent asking the caller to say a password or a whole verification code.

A password or a one-time code said aloud is in the recording, the transcript and
every reviewer's screen; the code is what lets a stranger into the account. The
seed rulebooks say only 保护客户隐私信息 / 不得将客户信息泄露给他人 (POLICY.md §5):
none names passwords, so this is the hotline's reading of that rule, and the QA
rule that uses it should say so in its ``source``.

A request is a telling verb and the secret in either order: 告诉我您的密码,
报一下银行卡密码, 把验证码念给我, 六位验证码读一下, 验证码您直接告诉我, 您的密码是多少; the card's
three-digit security code (安全码, CVV) and the answer to a security question (密保答案) are secrets too. It is not a
request when a negation comes just before (请不要把密码告诉任何人, 我们不会向您索要…),
when the caller is sent to the keypad or an app (输入, 重置, 修改: those words carry
no telling verb), when only part of a code is asked (验证码的后两位是多少), or when
the question is about the secret, not for it (密码是多少位的, 您说密码忘记了).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise

from transcribe.normalize import Normalized, normalize
from transcribe.pii_stream import GAP_NONE, Piece, gap

_SECRET = (r"(?:(?:会员|网银|app|wifi|企业|公司)?(?:银行卡|账户|账号)?的?)?"
           r"(?:原|旧)?(?:银行卡|取款|支付|交易|查询|服务|登录|登入|网银|管理员|卡|账户|账号|开锁|开门|门锁){0,2}"
           r"(?P<what>动态密码|动态口令|密码|口令|(?:密保|安全)问题的?答案|密保答案|短信验证码|验证码|动态码|校验码|短信码|安全码|cvv2|cvv"
           # a parcel's code opens the locker or signs for it, for whoever hears it (您把签收码先告诉我)
           r"|签收码|取件码|收货码|提货码"
           # a code by its length alone (刚才发到您手机上的六位数字码)
           r"|[四六]位数字码"
           r"|(?<![a-z])(?:login|verification|security)?(?:pin|code|password|passcode|otp)(?![a-z])码?"
           # the card's security code by where it is: 卡背面那三位, 卡背后那三位 (末三码: Taiwan's word for it)
           r"|(?<=背面|背后)(?:的)?(?:那|这)?(?:个)?三(?:位|个)(?:数字|数儿?|码)?|末三码"
           # (or beside something there: 卡背面签名栏旁边那三个数)
           r"|(?<=背面|背后)[\u4e00-\u9fff]{1,6}?(?:那|这)个?三(?:位|个)(?:数字|数儿?|码)"
           # a code by where it came and its length: 短信里那个六位数字, 刚收到的那六位数字, 短信里那串数字
           r"|(?:短信(?:里面?|中)|里面|收到)的?(?:那个|那)?[四六]位(?:数字|数的码|数|码)"
           # (or the string of digits the phone got: 您手机上收到的那串数字念一下)
           r"|(?:短信(?:里面?|中)|里面)的?(?:那串|那个|那)?(?:数字|码)|(?<=收到的)(?:那串|这串)数字"
           # 手机上收到的那个码: a code by where it came alone
           r"|(?<=收到的)(?:那个|这个)码)")
_VERB = r"(?:告诉|告知|报|说|念|读|提供|发(?!到[您你])|讲|透露|转告|转给|给(?![您你]的))"
_WHOSE = (r"(?:您|你|贵司|贵公司)?(?:的)?(?:手机)?(?:上)?(?:刚才|刚刚|刚)?(?:收到的)?"
          r"(?:(?:(?:这|那)?张)?(?:(?:银行|信用)?卡)?背[面后](?=的|那|这|三)(?:的)?)?"
          r"(?:那个|这个|那|这)?(?:最?后(?:面)?的?(?:那个|那)?)?(?:[三四六八](?:位|个)(?:数)?(?:的)?)?")
# How the whole secret is to be said: 完整报给我, 从头到尾念一遍, 一个数一个数地说, 一个一个念出来
_WHOLE = r"完整[地的]?|全部|从头到尾|(?:一个数字一个数字|一个数一个数|一位一位|一个一个)地?"
# Between a secret and the telling verb (验证码您直接告诉我, 旧密码跟新密码都跟我说一遍): who, and to whom.
# 验证码收到了吧，六位数，您报一下; 收到验证码了吧 念一下; 验证码发过去了，您让老人读一下; 密码吗？说一下;
# 密码您知道吗？告诉我; 密码还记得吗？说一下
# 发了个验证码，收到后您报给我
_TO_ME = (r"(?:(?:已经|刚刚?|刚才)?发(?:给?(?:您|你)|过去|过来|到?(?:您|你)的?手机上?)了(?:吧|吗)?"
          r"|收到了(?:吧|吗)?|(?:收到|看到)?[以之]后|(?:收到|看到)后|了(?:吧|吗)"
          r"|(?:您|你)?(?:知道|还?记得)吗|吗)?"
          # CVV 三位数报给我, 验证码…六位数, 验证码是六位数，您…念给我, 验证码的六位数字都说一下
          r"(?:(?:[是的]|那|这)?[三四六八]位(?:数字|数)?的?[，,\s]*)?"
          r"(?:麻烦)?(?:您|你)?(?:让(?:老人家?|家人|孩子|他|她))?"
          rf"(?:就|直接|都|全|先|再|现在|赶紧|也|一起|一并|要|麻烦|慢慢|{_WHOLE})*(?:能|可以|方便)?(?:给|跟|和|对)?(?:我|我们)?"
          rf"(?:就|直接|都|先|再|慢慢|{_WHOLE})*"
          r"(?:能|可以|能不能|方便)?")
# Another item asked for before the secret in one breath (报身份证号和手机验证码).
_AND = r"(?:[^和跟]{1,8}?(?:和|跟|以及|还有))?"
# verb first: 告诉我您的密码, 报一下您的银行卡密码, 提供一下验证码; not 我给您发验证码 (the agent
# sends it), nor a verb with 的 (系统发的验证码 is
# "the code the system sent", 刚发给您的验证码 "the code just sent to you": said when the agent tells
# the caller where to type it)
_VERB_FIRST = re.compile(r"(?<!给您)(?<!给你)(?<!为您)" + _VERB
                         # 告诉您验证码 tells the caller the code (系统会短信告诉您验证码); 告诉我您的… asks for it
                         + r"(?![您你](?:短信)?(?:验证码|密码|动态码|动态密码))"
                         + r"(?!的|给(?:您|你)的)(?:一下|下)?(?:给)?(?:我|我们)?(?:一下)?" + _AND + _WHOSE
                         # whose it is, in a few words: 报一下这张卡的取款密码, 提供对公账户的网银登录密码
                         # (an app's name may hold Latin letters: 海尔斯智家APP的登录密码)
                         + r"(?:[\u4e00-\u9fffa-z0-9]{1,10}?的)?(?:[三四六八](?:位|个)数?的?)?" + _SECRET)
# secret first: 密码告诉我, 验证码念给我, 六位验证码读一下, 您的密码是多少, 卡号和密码发到我们的公众号
_SECRET_FIRST = re.compile(
    r"(?:您|你)?(?:的)?" + _WHOSE + _SECRET
    # (the caller asked to look first: 那个动态码您看一下是多少)
    + r"(?:(?:(?:您|你)?看一?下)?(?:是|系)?(?:多少|什么|几|咩|啥子|啥)(?![位个次天])|"
    # 验证码报过来 (not 发过来了: it was sent); 密码发到我们的公众号
    + _TO_ME + _VERB + r"(?:一下|下|一遍|一次|给我|给我们|我|我们|出来|过来(?!了)|到(?:我们|我)))"
)
# a question left for the caller to finish, the secret named as theirs: 请问您的账户密码是？
_LEFT_OPEN = re.compile(r"(?:您|你)的?" + _WHOSE + _SECRET + r"是$")
# a request cut off by a pause, the secret named last and the telling verb in the next utterance
# (那个，验证码 | 念给我听, 您把支付密码 | 报一下): the utterance holds nothing else, so not 请您输入那个验证码
_CUT_OFF = re.compile(r"^(?:嗯|呃|啊|好的|好|那个|那|请|麻烦)*(?:您|你)?把?" + _WHOSE + _SECRET + r"(?:您|你)?$")
NEGATIONS = re.compile(r"不要|别|勿|不会|不需要|无需|不用|不得|绝不|千万|不能|禁止|不可以|谨防|防止|不必|索要")
PARTIAL = re.compile(r"后两位|后几位|前两位|前几位|后四位|后三位|最后|末尾|末位")
# said of the secret, not asking for it: 您说密码忘记了是吧 (the caller lost it; a reset link follows)
ABOUT = re.compile(r"忘记|忘了|不记得|错了|不对|过期|失效|锁")
NEGATION_REACH = 14  # characters before the request, within its clause, where a negation cancels it
PARTIAL_REACH = 5  # characters after the secret where 后两位 makes it a partial code


@dataclass(frozen=True, slots=True)
class SecretRequest:
    kind: str  # password | code
    start: int  # span in the original text
    end: int
    norm_start: int
    norm_end: int
    cut_off: bool = False  # the secret alone, its telling verb expected in the next utterance


def secret_requests(text: str | Normalized) -> list[SecretRequest]:
    """Every place ``text`` asks for a password or a whole verification code."""
    norm = text if isinstance(text, Normalized) else normalize(text)
    t = norm.text
    spans: list[tuple[int, int, str, bool]] = []
    for pattern in (_VERB_FIRST, _SECRET_FIRST, _LEFT_OPEN, _CUT_OFF):
        for m in pattern.finditer(t):
            if NEGATIONS.search(t, _clause_start(norm, m.start()), m.start()):
                continue
            # a code's last digits check who got it; a password's are a part of the secret (支付密码的后四位)
            is_password = m.group("what") in ("密码", "口令") or m.group("what").endswith("答案")
            if not is_password and PARTIAL.search(t, m.start("what"), m.end("what") + PARTIAL_REACH):
                continue
            if ABOUT.match(t, m.end("what")):
                continue
            kind = "password" if is_password else "code"
            spans.append((m.start(), m.end(), kind, pattern is _CUT_OFF))
    out: list[SecretRequest] = []
    for s, e, kind, cut_off in sorted(spans):
        if out and s < out[-1].norm_end:  # the two patterns can find one request twice
            continue
        os_, oe = norm.span(s, e)
        out.append(SecretRequest(kind, os_, oe, s, e, cut_off))
    return out


@dataclass(frozen=True, slots=True)
class SpreadRequest:
    """A request in consecutive segments of one speaker: its part in each segment it touches."""

    kind: str
    pieces: tuple[Piece, ...]


JOIN_AT_MOST = 3  # segments one request may be spread over
# a segment ending a sentence is finished: the next one neither continues its request nor is cancelled by
# its negation (系统给您发了验证码。| 您告诉我一下地址 asks for an address)
_FINISHED = re.compile(r"[。？！?!]\s*$")


def requests_over(texts: Sequence[str | Normalized]) -> list[SpreadRequest]:
    """Every request in consecutive segments of one speaker, read over the pauses between them.

    A segment's own request stands unless a negation ending the segment before cancels it (请不要在通话中 |
    说出您的密码) or, for a secret named alone, the next segment asks something else (您那个验证码 | 收到没有啊).
    A request spread over two or three segments (麻烦把 | 支付宝登录密码 | 发我一下) is found on each."""
    norms = [t if isinstance(t, Normalized) else normalize(t) for t in texts]
    out: list[SpreadRequest] = []
    taken: set[tuple[int, int]] = set()
    for k, n in enumerate(norms):
        for q in secret_requests(n):
            if k and not _FINISHED.search(norms[k - 1].original):
                joined = _joined(norms[k - 1:k + 1])
                at = len(norms[k - 1].text) + q.norm_start
                if NEGATIONS.search(joined.text, _clause_start(joined, at), at):
                    continue
            if q.cut_off and k + 1 < len(norms) and not _asked_on(norms[k:k + 2]):
                continue  # 您那个验证码 | 收到没有啊: what followed asked something else
            out.append(SpreadRequest(q.kind, (Piece(k, q.start, q.end, q.norm_start, q.norm_end),)))
            taken |= {(k, i) for i in range(q.norm_start, q.norm_end)}
    for first in range(len(norms)):
        last = first
        while last + 1 < min(len(norms), first + JOIN_AT_MOST) and not _FINISHED.search(norms[last].original):
            last += 1
            starts = list(accumulate((len(n.text) for n in norms[first:last + 1]), initial=0))
            for q in secret_requests(_joined(norms[first:last + 1])):
                pieces = tuple(_piece(norms[first + j], first + j, max(q.norm_start, a) - a, min(q.norm_end, b) - a)
                               for j, (a, b) in enumerate(pairwise(starts)) if q.norm_start < b and a < q.norm_end)
                chars = {(p.segment, i) for p in pieces for i in range(p.norm_start, p.norm_end)}
                if len(pieces) > 1 and not chars & taken:
                    out.append(SpreadRequest(q.kind, pieces))
                    taken |= chars
    return sorted(out, key=lambda r: (r.pieces[0].segment, r.pieces[0].norm_start))


def _asked_on(norms: Sequence[Normalized]) -> bool:
    """Whether the first segment's secret is asked for when the next one is read with it."""
    return any(q.norm_start < len(norms[0].text) for q in secret_requests(_joined(norms)))


def _joined(norms: Sequence[Normalized]) -> Normalized:
    """Segments read as one utterance, with nothing between them (a pause is no clause break)."""
    offsets: list[int] = []
    base = 0
    for n in norms:
        offsets += [o + base for o in n.offsets]
        base += len(n.original)
    return Normalized("".join(n.original for n in norms), "".join(n.text for n in norms), tuple(offsets))


def _piece(norm: Normalized, segment: int, s: int, e: int) -> Piece:
    os_, oe = norm.span(s, e)
    return Piece(segment, os_, oe, s, e)


def _clause_start(norm: Normalized, i: int) -> int:
    """Where a negation before normalised index ``i`` may stand: at most NEGATION_REACH characters
    back, and not across a clause break of the original text (您先别急着投诉，把验证码报给我 asks for
    the code; the normalised text has no punctuation)."""
    lo = max(0, i - NEGATION_REACH)
    while lo < i and gap(norm.original, norm.offsets[lo], norm.offsets[i]) != GAP_NONE:
        lo += 1
    return lo
