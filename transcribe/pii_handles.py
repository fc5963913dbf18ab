"""E-mail addresses: letters or digits, then @ (or 艾特 / at / 小老鼠, as the ASR writes a spoken one), then a
domain with a dot (点 / dot), unless the company's (客服邮箱是…). The name before the @ is hidden, the
domain (163.com, qq.com) stays. WeChat IDs in letters after 微信 / 微信号 (or V信) are hidden whole.
"""

from __future__ import annotations

import re

from transcribe.pii_numbers import DIGIT_VALUE
from transcribe.pii_stream import GAP_JOIN, HESITATIONS, SAID_DIGITS, Found, Stream, corrections, last_match

# The company's own mailbox or account (我们的客服邮箱是service@…, 官方公众号) is public.
# 你们的邮箱 is the caller asking for the company's. 我们老板, 我们家: a person's, named by the caller's side.
NOT_CALLERS_ID = re.compile(r"我们(?!老板|领导|老总|家|师傅|同事)|你们的|公司|客服|官方|售后|总部|公众号")
# or named so right after it (发到service@…这个官方邮箱): the firm's too
FIRMS_AFTER = re.compile(r"\s*(?:这个|那个)?(?:是)?(?:我们|你们)?的?(?:官方|客服|售后)的?(?:邮箱|微信|账号|公众号)")
# the caller's own workplace, as the agent says it (您公司邮箱是…): the mailbox is the caller's, not the firm's
CALLERS_FIRM = re.compile(r"(?<![们])[您你我]的?公司$")  # (and the caller's own: 发我公司邮箱吧)
# @ said in words: 艾特, 圈a, and 小老鼠 (a little mouse, the sign's shape: xiaomei 520 小老鼠 139 点 com)
AT_WORDS = r"艾特|圈a|小老鼠"
# On the original text: the normalised one has no @ or dots. The part hidden is group 1.
# The name may be spelled a character at a time (w a n g x i a o m i n g@qq.com).
# (a star against its start: the name was masked on the screen it is read from, z***8@163.com, and what is left is
# public, as a masked number's tail is)
# (the name's symbol may be said in words between its parts, liu下划线yang@163.com, chen 下划线 hao at gmail 点 com:
# hidden with the parts)
# (a QQ mailbox's name is its QQ number, which may be said in characters: 幺三九八八七六五四三@qq.com)
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+*＊-])((?:[A-Za-z0-9] )*[A-Za-z0-9][A-Za-z0-9._%+-]*"
                   r"(?:\s*(?:下划线|横杠|中划线)\s*[A-Za-z0-9][A-Za-z0-9._%+-]*)*"
                   rf"|[{SAID_DIGITS}]{{5,11}})"
                   rf"\s*(?:@|＠|\bat\b|{AT_WORDS})\s*"
                   r"[A-Za-z0-9-]+(?:\s*(?:\.|点|\bdot\b)\s*[A-Za-z0-9-]+)+", re.IGNORECASE)
# The name written as words with the ASR's spaces between them (邮箱是wang xiao ming 2000@gmail.com): after a
# Chinese character (not my email is john@…, whose English words are no part of it), every word up to the @
SPACED_EMAIL = re.compile(r"(?<=[\u4e00-\u9fff：:])((?:[A-Za-z0-9]+ ){1,4}[A-Za-z0-9][A-Za-z0-9._%+-]*)\s*(?:@|＠)\s*"
                          r"[A-Za-z0-9-]+(?:\s*\.\s*[A-Za-z0-9-]+)+")
# An address spelled out as the ASR writes it: the name's letters and digits one or a few at a time, with spaces,
# commas, 点 or the case told between them (大写J，小写a c k，9 9; h u a n g 点 m i n), then at / 艾特 / 圈a, then a
# domain maybe spelled too (g m a i l 点 c o m). Group 1, the name, ends on a letter or a digit.
_CASE = r"(?:全?(?:大写|小写)的?\s*)"
# The address may be told in parts: 然后是 goes on with the name, 后面是 gives the part from the @ (开头是L I N，然后是
# 8 8 6，艾特…; 前面是sunny 0 9 2 3，后面是@yeah.net).
# (letters told one by one may be joined by dashes: s-u-n)
# (or nothing, letters then digits said in characters: bing七七)
# (or a filler the caller says while spelling: w a n g 呃 f e i, pii/s44e)
_SPELLED_SEP = (rf"(?:\s*点\s*|[\s，,]*{_CASE}|[\s，,]*然后是?[\s，,]*|[\s，,]*[呃嗯][\s，,]*|[\s，,]+|-"
                rf"|(?<=[A-Za-z])(?=[{SAID_DIGITS}]))")
# Each piece is letters alone or digits alone, written or said (零八): a word of both (zhaodefu1949) is a name written
# whole, and what stands before it after a comma (是126，zhaodefu1949@126.com) is no part of it.
_RUN = rf"[A-Za-z]+|[0-9]+|[{SAID_DIGITS}]+"  # (unbracketed: a dictated piece's case word binds to its letters)
_SPELLED_PIECE = rf"(?:{_RUN})"
# A mail provider's name said before a pause names the service, not a piece (发到我foxmail，huangyq@foxmail.com)
_PROVIDER = r"(?:foxmail|gmail|hotmail|outlook|yahoo|icloud|sina|sohu|aliyun|qq|163|126|139|yeah)[\s，,]"
# (the domain's digits said too, and a pause around its dot: …at，一六三，点，com)
SPOKEN_EMAIL = re.compile(rf"(?<![A-Za-z0-9._%+*＊-])(?!{_PROVIDER})"
                          rf"({_CASE}?{_SPELLED_PIECE}(?:{_SPELLED_SEP}{_SPELLED_PIECE})+)"
                          # (at may follow a said digit with no space: the pieces of segments are joined, 一九九九 | at)
                          rf"[\s，,]*(?:后面是)?(?:@|＠|(?<![A-Za-z0-9])at\b|{AT_WORDS})[\s，,]*"
                          rf"[A-Za-z0-9{SAID_DIGITS}](?:\s?[A-Za-z0-9{SAID_DIGITS}-])*"
                          r"(?:[\s，,]*(?:\.|点|\bdot\b)[\s，,]*[A-Za-z](?:\s?[A-Za-z])*)+",
                          re.IGNORECASE)
# The name told alone, the part before the @ said to be it (@前面是xiaoqiang_bj，后面是163点com)
BEFORE_AT = re.compile(rf"(?:@|＠|{AT_WORDS})前面的?(?:就是|是)[\s：:]*([A-Za-z0-9][A-Za-z0-9._%+-]*)")
# A machine's sender (noreply@…, postmaster@…) or a firm's desk (service@…, kefu@…, its invoices' fapiao@…): no one's
# personal address
MACHINE_SENDER = re.compile(r"no-?reply|do-?not-?reply|mailer-?daemon|postmaster|service|support|kefu|helpdesk"
                            r"|fapiao|invoice|billing", re.IGNORECASE)
# the firm's staff asked to add the caller (你们售后加我老公微信，…): the ID after it is the caller's family's
# (or the firm adding the caller by theirs: 我们用企业微信加您hf_wang2021)
ADD_ME = re.compile(r"加(?:我|他|她|您|你)")
# a character of a WeChat ID (and a dot inside one, as the ASR may write it: tianxin.2020)
_ID_CHAR = r"(?:[A-Za-z0-9_-]|\.(?=[A-Za-z0-9]))"
# A WeChat ID in letters (one of digits alone is read as a number after 微信号): it starts with a
# letter and runs 6-20 letters, digits, _ or -.
ID_LEAD = 8  # characters of the segment before searched for the words that name an ID
# (the @ too: lijianguo66@ | foxmail.com; and spaces between a name's words: hu yan | bing | 七七@foxmail.com)
# (or digits said in characters: QQ号，八七六五四 | 三二一 at qq 点 com)
# (a segment may open with the recogniser's space: 邮箱是 | liu | mei 一九九九 | at 163 点 com)
# (and a filler said while spelling: w a n g 呃 f e i | @163.com, pii/s44e)
_ID_TAIL = re.compile(rf"\s*(?:(?:[A-Za-z0-9{SAID_DIGITS}._%+@＠-]+|[呃嗯]) )*[A-Za-z0-9{SAID_DIGITS}._%+@＠-]*$")
_RETOLD_ID = re.compile(r"[a-z][a-z0-9]{5,19}(?![a-z0-9])")  # on the normalised text: lower case, no _ or -
# the ID taken back just before one found (qd_mama2015，呃不对，是qdmama2015): a slip, as much the caller's
_TAKEN_BACK = re.compile(rf"(?<![a-z0-9])((?=[a-z]+[0-9])[a-z][a-z0-9]{{5,19}})"
                         rf"(?:{HESITATIONS})?(?:不对|不是|说错了)是?$")
TAKEN_BACK_REACH = 30  # characters before a found ID searched for the one it corrects
# The words that name a WeChat account, for IDs written whole and dictated alike. A bare vx or wx is
# no such word where letters follow it: it starts an ID then (wxid_abc123); unless the letters' case changes
# after it (vxTom_Qingdao, VXtom88): the word written against the ID, as a camel-cased ID's parts are
# (or 微信 in pinyin before its 号: weixin号yy_beauty666, pii/s44)
# (or a bare vx before an ID with a symbol in it that the clause after says to add: vxmomo_1122，加的时候备注一下,
# pii/s44e; said alone, vxtom_qd88, vx may be the ID's own start)
_WECHAT_WORD = (r"[微威v]信(?:[号號]码?)?|wechat|weixin[号號]|[vw]x(?:[号號]|(?![A-Za-z0-9]))"
                r"|(?-i:[vw]x(?=[A-Z])|[VW]X(?=[a-z]))|vx(?=[a-z][a-z0-9]*[_-][a-z0-9_-]*[\s，,]*加)")
# An ID WeChat gave the account itself (wxid_k8m2q7x9p3), after a WeChat word in its sentence, whatever clause stands
# between (微信号是那个系统给的，wxid_…); said alone, with no such word, it is a reply's, left as said
WXID = re.compile(rf"(?:{_WECHAT_WORD})[^。？！?!]*?(?<![A-Za-z0-9_])(wxid_[A-Za-z0-9]{{6,20}})(?![A-Za-z0-9_])",
                  re.IGNORECASE)
# An ID said first, then named the speaker's WeChat (z h o u 幺九八七，这是我微信号): letters first, spelled or not
WECHAT_THEN_WORD = re.compile(rf"(?<![A-Za-z0-9_])([A-Za-z](?:\s?(?:{_ID_CHAR}|[{SAID_DIGITS}])){{5,19}})"
                              rf"[\s，,]*(?:这个?|那个?)?就?是我的?(?:{_WECHAT_WORD})", re.IGNORECASE)
# An ID no word names, told by its symbols said right after it, a note ending its clause (xiaoyu-0612，中间是横杠;
# qdmama2015，没有下划线; not h-u-a-n-g 下划线 m-i-n, a symbol dictated in it): no word or number is spelled so; or
# searched for to add its owner, an _ or - in it, as no product's name has (搜xiaopang_1314，头像是只猫)
_SYMBOL_TOLD = "(?:中间|后面|前面)?(?:是|有个?|一个|没有)?"  # where a symbol is in an ID, or that it has none
SPELT_ID = re.compile(rf"(?<!{_ID_CHAR})((?=[A-Za-z]*[0-9_-])[A-Za-z]{_ID_CHAR}{{5,19}})(?!{_ID_CHAR})"
                      rf"(?=[\s，,]*{_SYMBOL_TOLD}(?:下划线|横杠|中划线)(?:[，,。！!？?]|$))")
SEARCHED_ID = re.compile(rf"搜索?[\s：:]*((?=[A-Za-z0-9]*[_-])[A-Za-z]{_ID_CHAR}{{5,19}})(?!{_ID_CHAR})")
# Whose ID is said (我的是, 他的微信是): one of two may follow the other (我老伴儿微信号zclin1946，我的是liuguilan47)
_WHOSE = r"(?:我|他|她|您|你)的(?:微信号?)?(?:就|也)?是"
# (or the one it is not, after it: 微信号是qq_52013，不是qq_52031; or, after the old, the one it is: 不是ly_fresh，是…)
_ANOTHERS = re.compile(rf"{_WHOSE}|不?是")
# A hesitation the caller may make before the ID (我的微信，嗯，就是…; 微信号，那个，…)
_HESITATION = rf"(?:[\s，,]*(?:{HESITATIONS})[\s，,]*)*"
WECHAT = re.compile(rf"(?<!{_ID_CHAR})(?:{_WECHAT_WORD})(?:\s*id)?\s*{_HESITATION}"
                    # (or its account, WeChat Pay's: 微信支付的账号就是yf-2019)
                    r"(?:(?:支付)?的?[账帐]号)?"
                    # (what it is not, first: 微信号不是手机号，是lan-ge_520)
                    # (or which it is not: 微信号不是那个，是zhao_tt)
                    r"(?:不是(?:手机|电话)号?码?[\s，,]*|不是[那这]个[\s，,]*)?"
                    # (or the agent saying it reads it back: 微信号我念一下，z-w-…)
                    r"(?:我(?:再)?(?:念|读|重复|复述|确认|核对)一下[\s，,]*)?"
                    # (or the caller saying they give it: 微信我发给你啊，叫Sunny-qd; 微信我告诉您，…)
                    r"(?:我(?:发给|告诉|说给)[你您][啊吧哈]?[\s，,]*)?"
                    # (or what it is made of, a clause before it: 微信号是大写开头的，HeYuTong_88; 字母加数字，wjh 2000)
                    r"(?:是?[^，,。？?]{0,8}(?:大写|小写|字母|数字|拼音|开头|结尾)[^，,。？?]{0,4}[，,][\s]*)?"
                    # (or whose it is: 加微信，我的是gh2019wyn)
                    rf"(?:[\s，,]*{_WHOSE})?"
                    # (or that it changed, the old one told first: 微信号改了，以前是xiaomei_520; the new one is a
                    # correction's)
                    # (or the new one after the old said not to be it: 微信改了，不是ly_fresh，是ly_fresh2024)
                    r"(?:改了[\s，,]*(?:以前|原来|之前|不是))?"
                    # (or what it is called: 我微信叫chenjianguo1975; or whom the firm adds: 企业微信加您hf_wang2021)
                    r"(?:就|直接)?(?:是|係|系|為|为|吧|搜|搜索|叫|加[您你]|[:：])?[\s？?，,]*"
                    # (its parts may come after the ASR's spaces for a pause, up to the clause's end: zhao_tt 0808,
                    # sun lihua 77, sunny 0 6 1 5; 6-20 characters in all)
                    rf"((?:(?=[A-Za-z](?:\s?{_ID_CHAR}){{5,19}}(?!\s?{_ID_CHAR}))[A-Za-z]{_ID_CHAR}*(?:\s{_ID_CHAR}+)*"
                    rf"(?=[\s，。,？?！!、]|$)|[A-Za-z]{_ID_CHAR}{{5,19}})"
                    # (its last digits may be said, the ASR writing them as heard: wangshuzhen八八, after a pause too:
                    # chen|jie 九九)
                    rf"(?:\s?[{SAID_DIGITS}]{{2,}}(?=[\s，。,？?！!、]|$))?)(?!{_ID_CHAR})",
                    re.IGNORECASE)


# A handle dictated character by character, as Whisper writes it: 大写的A小写b下划线c d 2019, chen点jing横杠hz,
# 二八七六五四三幺零. Each piece is a letter run (told upper or lower case), digits written or said, or a
# symbol said by name; 艾特 and 圈a say @ (in a password, a character of it).
# (a password's too: 井号; a dash said alone, he 杠 jing 杠 九九)
_SYMBOL_WORD = r"下划线|横杠|中划线|杠|underscore|dash|hyphen|井号|星号|感叹号|问号"
_SAID_SYMBOL = rf"大写|小写|{_SYMBOL_WORD}"  # a dictated run names one of these (or it is an ordinary ID)
_SAID_CHAR = rf"(?:(?:大写|小写)的?\s*[A-Za-z]|[A-Za-z0-9{SAID_DIGITS}])"  # what a piece starts with
# (a symbol said with pauses around it, going on after it: wxid，下划线，8ka2p5m3x7)
_PIECE = (rf"(?:(?:大写|小写)的?\s*)?{_RUN}|{_SAID_SYMBOL}|[_.\-]|\s+"
          rf"|[，,]\s*(?=(?:{_SYMBOL_WORD})[，,]?\s*{_SAID_CHAR})|(?<=[线杠号])[，,]\s*(?={_SAID_CHAR})")
# A password told in parts, each after a pause, maybe with a word going on with it, which may name a last symbol
# (大写的L，小写的i，然后是520，再加个感叹号)
_GOES_ON = rf"[，,]\s*(?:(?:然后是?|再加个?|加上?)(?={_SYMBOL_WORD}|{_SAID_CHAR})|(?={_SAID_CHAR}))"
_SAID_AT = rf"{AT_WORDS}|at"
_AT = rf"(?:{_SAID_AT}|@)"
_CASE_NOTE = re.compile(r"(?:大写|小写)的?\s*[A-Za-z]\s*$")
# or spelled one character at a time (微信号z h y 6 6 8 8): so many single characters, each before a space
_SPELLED = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9](?=\s)")
SPELLED_MIN = 3
# or letters and digits said in characters, the ASR writing each as heard (微信号lily 幺九九二, kevin 两零零八 wx): a
# word of letters and three digits said or more, which no sentence of words makes (the ASR may space them in pairs:
# jiang 拐拐 零八)
_MIXED = re.compile(rf"[A-Za-z]{{2,}}.*?[{SAID_DIGITS}](?:\s?[{SAID_DIGITS}]){{2,}}")
DICTATED_EMAIL = re.compile(rf"(?:邮箱|邮件地址|email)[是：:，,\s]*(?P<id>(?:{_PIECE}|点)+?)\s*{_AT}\s*"
                            r"[A-Za-z0-9]+(?:\s*(?:点|\.|dot)\s*[A-Za-z]+)+", re.IGNORECASE)
# (就是 before it: 微信号就是 L X Y 八 六 零 三 二 五; or 叫: 微信号叫hh幺九九三, pii/s44d)
DICTATED_WECHAT = re.compile(rf"(?:{_WECHAT_WORD})(?:搜索?|就|叫)?[是：:，,\s]*(?P<id>(?:{_PIECE})+)", re.IGNORECASE)
# (密碼 in Traditional script too: 密碼是大写的Q小写的w 1 2 3 4)
DICTATED_PASSWORD = re.compile(rf"密[码碼](?:设的是|设置的是|是)?[：:，,\s]*(?P<id>(?:{_PIECE}|点|{_AT}|{_GOES_ON})+)",
                               re.IGNORECASE)


def emails(stream: Stream) -> list[Found]:
    """The mailbox name of each e-mail address, in stream indices, written or dictated."""
    written = [f for pattern in (EMAIL, SPACED_EMAIL, SPOKEN_EMAIL, BEFORE_AT) for f in _ids(stream, pattern, "email")]
    written = [w for w in written if not MACHINE_SENDER.fullmatch(stream.text, w.start, w.end)]
    # dictated: @ or a symbol or digit said by name (my email is john.smith@… is written, its "is" no part of it)
    dictated = [d for d in _dictated(stream, DICTATED_EMAIL, "email", symbol_needed=False)
                if re.search(f"{_SAID_SYMBOL}|点|[{SAID_DIGITS}]", stream.text[d.start:d.end])
                or re.match(_SAID_AT, stream.text[d.end:])]
    found = dictated + [w for w in written if not any(d.start <= w.start and w.end <= d.end for d in dictated)]
    return found + [again for f in found if (again := _spelled_again(stream, f))]


_SAID_MARKS = re.compile(r"点|下划线|横杠|中划线")  # a name's dot or dash said in words


def _spelled_again(stream: Stream, f: Found) -> Found | None:
    """The clause after the one of a mailbox name ``f`` when it only says the name again, spelled out
    (tom.zhao@sina.com，t o m 点 zhao, pii/s44): the name as much as the first time."""
    text = stream.text
    start = stream.clause_end(f.end, len(text))
    end = stream.clause_end(start, len(text))
    name = _SAID_MARKS.sub("", text[f.start:f.end])
    return Found("email", start, end) if start < end and _SAID_MARKS.sub("", text[start:end]) == name else None


# A password written with symbols (旧密码是qwe!@#123, 又试了一个P@ssw0rd): the normaliser drops the symbols, so it is
# read on the original text; a word of trying one says it is a password as 密码 does, once a symbol is in it
_SYMBOLS = r"!@#$%^&*~?+=._\-"
# One character of a password: a letter, a digit or a symbol
_PW = rf"[A-Za-z0-9{_SYMBOLS}]"
SYMBOL_PASSWORD = re.compile(r"(?:(?:密码|口令)(?:设的是|设置的是|改成了?|就是|是|为)?|试了一?个|试过一?个|输了一?个)"
                             rf"[：:\s]*((?![A-Za-z0-9._-]*@[A-Za-z0-9-]+\.[A-Za-z])"  # not an e-mail address
                             rf"(?={_PW}*[!@#$%^&*~?+=])(?={_PW}*[A-Za-z0-9])"
                             rf"{_PW}{{6,20}})(?!{_PW})")
# A word of letters, digits and a symbol (Zw@20180816): the shape sites demand of a password and nothing else said on a
# call has, so it is one with no word naming it (密码 said a clause before, or not again in a correction); not an
# e-mail address, masked or not (z***8@163.com)
SHAPED_PASSWORD = re.compile(rf"(?<!{_PW})((?!{_PW}*@[A-Za-z0-9-]+\s*(?:\.|点|dot))"
                             rf"(?={_PW}*[A-Za-z])(?={_PW}*[0-9])"
                             rf"(?={_PW}*[!@#$%^&*~]){_PW}{{6,20}})(?!{_PW})")
# A security question's answer (密保问题答案是…, 答案我写的是…): a secret that opens the account, as a password
# does; the question may be said first (密保问题是母亲的名字，答案是…): an answer that is a name is a name (pii_names)
SECURITY_WORD = re.compile(r"密保|安全问题|保密问题")
ANSWER = re.compile(r"答案(?:我|您)?(?:写的|设的|填的|设置的|留的)?(?:就是|是|为)")
ANSWER_REACH = 16  # characters from the security word to 答案 (the question said in between)
ANSWER_MAX = 8  # characters of an answer: a word or a short phrase
NAME_ASKED = re.compile(r"名字|姓名|叫什么")
NOT_ANSWER = re.compile(r"什么|多少|哪|几|我|您|你|忘")  # an answer asked for or forgotten, or a clause about it


def security_answers(stream: Stream) -> list[tuple[int, int, bool]]:
    """Each security answer: its stream span and whether its question asks for a name."""
    text = stream.text
    out: list[tuple[int, int, bool]] = []
    for m in ANSWER.finditer(text):
        word = last_match(SECURITY_WORD, text, max(0, m.start() - ANSWER_REACH), m.start())
        end = m.end()
        while end < len(text) and end - m.end() < ANSWER_MAX + 1 and stream.joined(end - 1) and text[end].isalnum():
            end += 1
        if word is None or end == m.end() or end - m.end() > ANSWER_MAX or NOT_ANSWER.match(text, m.end()):
            continue
        out.append((m.end(), end, bool(NAME_ASKED.search(text, word.start(), m.start()))))
    return out


def dictated_passwords(stream: Stream) -> list[Found]:
    """A password dictated with its letters' case or symbols named (大写的W小写的x下划线2024), or written with
    symbols, whole; a security answer that is no name, whole."""
    answers = [Found("password", a, b) for a, b, name in security_answers(stream) if not name]
    return (_dictated(stream, DICTATED_PASSWORD, "password") + _ids(stream, SYMBOL_PASSWORD, "password")
            + _ids(stream, SHAPED_PASSWORD, "password") + answers)


def wechat_ids(stream: Stream) -> list[Found]:
    """Each WeChat ID written in letters, whole, in stream indices (or dictated: 大写L小写i横杠9527); one said
    again after a correction (微信号是hz13579，不对，是hz13597); and another's after it (…，我的是liuguilan47)."""
    patterns = (WECHAT, WXID, WECHAT_THEN_WORD, SPELT_ID, SEARCHED_ID)
    found = [f for pattern in patterns for f in _ids(stream, pattern, "wechat")]
    found += _dictated(stream, DICTATED_WECHAT, "wechat") + _over_segments(stream)
    after = [w.end for w in found if w.end < len(stream.text) and not stream.joined(w.end - 1)]  # after a pause
    whose = [m.end() for m in (_ANOTHERS.match(stream.text, at) for at in after) if m]
    retold = (_RETOLD_ID.match(stream.text, _past_symbol(stream, at)) for at in corrections(stream, found) + whose)
    in_words = [Found("wechat", *again) for w in found if (again := _said_again(stream, w))]
    slips = (_TAKEN_BACK.search(stream.text, max(0, w.start - TAKEN_BACK_REACH), w.start) for w in found)
    slipped = [Found("wechat", m.start(1), m.end(1)) for m in slips if m]
    return found + [Found("wechat", m.start(), m.end()) for m in retold if m] + in_words + slipped


# the symbol a correction puts right, said before the ID again (hai_yang88，噢不对是中划线，hai-yang88), or taken out
# (zhm_1988，哦不是，下划线去掉，zhm1988), or a character it misses or has too many of
# (jj1987，啊不对，少了个j，是jjj1987, pii/s44e)
_SYMBOL_FIXED = re.compile(rf"{_SYMBOL_TOLD}(?:{_SYMBOL_WORD})(?:去掉|不要)?|(?:少|多|漏)了?一?个[a-z0-9]是?")


def _past_symbol(stream: Stream, at: int) -> int:
    """Where the ID said again from ``at`` starts, past a symbol or a character fixed said first."""
    m = _SYMBOL_FIXED.match(stream.text, at)
    return m.end() if m else at


_ID_DIGITS = re.compile(r"[0-9]+$")
_WORDS_THEN_DIGITS = re.compile(rf"[\u4e00-\u9fff]+?([{SAID_DIGITS}]+)$")
# (or spelled out after 就是, its symbols named: hxf-2019，就是h x f 杠 二零一九; on the normalised text)
_SPELT_AGAIN = re.compile(rf"(?:也|就)?是(?P<id>[a-z0-9{SAID_DIGITS}]+(?:(?:{_SYMBOL_WORD})[a-z0-9{SAID_DIGITS}]+)*)")
SAID_AGAIN_REACH = 20  # characters of the clause after an ID where it may be said again in words


def _plain(said: str) -> str:
    """An ID's letters and digits as said (h x f 杠 二零一九: hxf2019), its symbols' words left out."""
    return re.sub(_SYMBOL_WORD, "", "".join(DIGIT_VALUE.get(c, c) for c in said))


def _said_again(stream: Stream, w: Found) -> tuple[int, int] | None:
    """The ID ``w`` said again in the clause after it: in characters, its digits in words (mumu_520，木木五二零), the
    whole clause; or spelled out (hxf-2019，就是h x f 杠 二零一九), from its first character; None otherwise."""
    text = stream.text
    if w.end >= len(text) or stream.joined(w.end - 1):
        return None
    end = stream.clause_end(w.end, w.end + SAID_AGAIN_REACH)
    if end < len(text) and not stream.opens_clause(end):
        return None
    digits = _ID_DIGITS.search(text, w.start, w.end)
    said = _WORDS_THEN_DIGITS.fullmatch(text, w.end, end)
    if digits and said and _plain(said[1]) == digits.group():
        return w.end, end
    spelt = _SPELT_AGAIN.fullmatch(text, w.end, end)
    return (spelt.start("id"), end) if spelt and _plain(spelt["id"]) == text[w.start : w.end] else None


# A WeChat ID begun at the end of a segment after its word (微信号Q D | laoli | 6 6 8; 微信号，呃，chensiyuan | 2021),
# or starting in the next segment (微信号是 | L Y | 一九九二 | Q D, pii/s44b)
WECHAT_BEGUN = re.compile(rf"(?:{_WECHAT_WORD})[是：:\s]*{_HESITATION}((?:{_ID_CHAR}\s?)*)[，,。.\s]*$", re.IGNORECASE)
# a segment holding a part of one alone, its digits maybe said (一九九二), or a symbol said by name (w x i d | 下划线 |
# 8 k 2 m 9 p)
ID_PART = re.compile(rf"\s*((?:(?:{_ID_CHAR}|[{SAID_DIGITS}])\s?)+|{_SYMBOL_WORD})[，,。.\s]*")


def _over_segments(stream: Stream) -> list[Found]:
    """A WeChat ID begun after its word at a segment's end, or in the next segment, and going on in the speaker's next
    segments, each holding a part of it alone (the recogniser cut where the caller paused): hidden whole, 6-20
    characters in all, a letter first (as WeChat has it: digits alone are a number's groups)."""
    out: list[Found] = []
    for seg, norm in enumerate(stream.norms):
        begun = WECHAT_BEGUN.search(norm.original) if stream.starts[seg] >= 0 else None
        if begun is None:
            continue
        more, said = _parts_after(stream, seg, ID_PART)
        hidden = stream.within(seg, begun.start(1), begun.end(1)) + more
        if said and 6 <= len(hidden) <= 20 and "a" <= stream.text[hidden[0]] <= "z":
            out.append(Found("wechat", hidden[0], hidden[-1] + 1))
    return out


def _parts_after(stream: Stream, seg: int, part: re.Pattern[str]) -> tuple[list[int], str]:
    """The stream indices and the text of the ``part`` (its group 1) each of the speaker's segments after ``seg``
    holds alone (the recogniser cut where the caller paused): up to the first that holds more, or that another
    speaker's words divide from the one before."""
    more: list[int] = []
    said = ""
    last, k = stream.of_segment(seg)[-1], seg + 1
    while k < len(stream.norms) and stream.starts[k] == last + 1 and stream.gaps[last] == GAP_JOIN and (
            m := part.fullmatch(stream.norms[k].original)):
        more += stream.within(k, m.start(1), m.end(1))
        said += m[1]
        last, k = stream.of_segment(k)[-1], k + 1
    return more, said


def _ids(stream: Stream, pattern: re.Pattern[str], kind: str) -> list[Found]:
    """Group 1 of each match of ``pattern`` on a segment's original text, unless the company's. The
    words before it may end the segment before, either speaker's (您的微信号是？ | wxid_abc123), and
    so may the ID's first characters, the same speaker's (邮箱liu | yang2008@sina.com)."""
    out: list[Found] = []
    for seg, norm in enumerate(stream.norms):
        if stream.starts[seg] < 0:
            continue
        parts, run = _lead(stream, seg)
        before = "".join(stream.norms[k].original[at:] for k, at in parts)
        text = before + norm.original
        for m in pattern.finditer(text):
            a, b = m.start(1) - len(before), m.end(1) - len(before)
            if _firms(text, m.start(), m.end()):
                continue
            if -a > run:
                continue  # an ID of the segment before, or another speaker's words
            hidden: list[int] = []
            offset = len(before) + a  # its start in the segments before, when it starts there
            for k, at in parts:
                part = len(stream.norms[k].original) - at
                if offset < part:
                    hidden += stream.within(k, at + max(0, offset), at + part)
                offset -= part
            hidden += stream.within(seg, a, b)
            if hidden:
                out.append(Found(kind, hidden[0], hidden[-1] + 1))
    return out


def _lead(stream: Stream, seg: int) -> tuple[list[tuple[int, int]], int]:
    """What of the segments before ``seg`` a handle in it may take in, first to last as (segment, offset the part
    taken starts at), and how many characters at its end are the handle's first ones, said by the same speaker.
    It goes back over whole segments of a handle's characters, one speaker's, read out a part at a time (邮箱，嗯，
    zhang | jianguo | 1947@126.com), to the words naming it, either speaker's (您的微信号是？ | wxid_abc123)."""
    parts: list[tuple[int, int]] = []
    run, first = 0, stream.starts[seg]
    while first > 0:
        k = stream.seg[first - 1]
        prev = stream.norms[k].original
        tail = len(prev) - _ID_TAIL.search(prev).start()
        joined = stream.gaps[first - 1] == GAP_JOIN
        run += tail if joined else 0
        if tail < len(prev) or not joined:
            parts.insert(0, (k, max(0, len(prev) - tail - ID_LEAD)))
            break
        parts.insert(0, (k, 0))
        first = stream.starts[k]
    return parts, run


def _firms(text: str, start: int, end: int) -> bool:
    """Whether the handle said from ``start`` to ``end`` is the company's: a word for it just before (客服邮箱), unless
    it is asked to add the caller after it (你们售后加我微信; 我们用企业微信加您hf_wang2021), or right after it
    (…这个官方邮箱)."""
    if FIRMS_AFTER.match(text, end):
        return True
    firm = last_match(NOT_CALLERS_ID, text, max(0, start - 10), start)
    if firm is not None and CALLERS_FIRM.search(text, 0, firm.end()):
        return False
    return firm is not None and not ADD_ME.search(text, firm.end(), end)


def _dictated(stream: Stream, pattern: re.Pattern[str], kind: str, symbol_needed: bool = True) -> list[Found]:
    """The ``id`` group of each match of ``pattern`` in a segment's original text, in stream indices: a
    handle dictated piece by piece (going on in the speaker's next segments: ``_dictated_on``). Unless
    ``symbol_needed`` is off, the run must name a case or a symbol (大写, 下划线): a plain ID is the written
    patterns' to find, and words are no handle."""
    out: list[Found] = []
    for seg, norm in enumerate(stream.norms):
        first = stream.starts[seg]
        if first < 0:
            continue
        text = norm.original
        for m in pattern.finditer(text):
            more, said = _dictated_on(stream, seg, m.end("id"))
            handle = (m["id"] + said).strip()
            if not re.search(f"[A-Za-z0-9{SAID_DIGITS}]", handle) or len(handle) < 4:
                continue
            # a case told of one letter after the ID (Lily-520大写的L) says nothing of its own: a written ID
            told = (re.search(_SAID_SYMBOL, _CASE_NOTE.sub("", handle)) or len(_SPELLED.findall(handle)) >= SPELLED_MIN
                    or _MIXED.search(handle))
            if (symbol_needed and not told) or NOT_CALLERS_ID.search(text, max(0, m.start() - 10), m.start()):
                continue
            a, b = m.start("id"), m.end("id")
            case = re.match(r"\s*(?:大写|小写)的?\s*", m["id"])
            if case and len(re.findall(_SAID_SYMBOL, handle)) == 1:
                a += case.end()  # 密码是小写的lhb520: the case told once is no part of it
            hidden = stream.within(seg, a, b) + more
            if hidden:
                out.append(Found(kind, hidden[0], hidden[-1] + 1))
    return out


# the rest of a handle dictated in the speaker's next segments, each holding pieces of it alone
# (密码是大写的L | 小写ixin | 零八一五, pii/s44e)
DICTATED_PART = re.compile(rf"\s*((?:{_PIECE}|{_GOES_ON})+?)[，,。.\s]*")


def _dictated_on(stream: Stream, seg: int, end: int) -> tuple[list[int], str]:
    """The stream indices and the text of a handle's pieces said in the segments after ``seg``, when its part in
    ``seg`` ends at original offset ``end`` with the segment (the recogniser cut where the caller paused); none
    otherwise."""
    if stream.norms[seg].original[end:].strip("，,。. "):
        return [], ""
    return _parts_after(stream, seg, DICTATED_PART)
