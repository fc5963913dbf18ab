"""The words around a number that say what it is (身份证号码是…, …是我的手机, 订单号…).

The nearest context word before a run wins (longest first where several end at the
same place, so 订单号码 beats 号码 and 客服电话 beats 电话); the generic 号码 defers
to a specific word just before it (身份证上的号码, 座机号码). Failing that, a word
right after the run counts when only a copula or a possessive lies between
("13812345678是我的手机"). A *negative* word (order, tracking and model numbers,
hotlines) says the number is not personal data. A *quantity* word (amounts, dates, tail
digits) says so only of numbers of its own shape: a card, ID or phone number whose
structure proves it (Luhn, check digit) is masked even after 退款 or 余额.
Context may come from the segment before (the agent's question 您的身份证号码是多少
and the caller's answer), since the stream runs across segments.
"""

from __future__ import annotations

import re

from transcribe.pii_stream import CORRECTION, CORRECTION_REACH, SAID_DIGITS, Stream, last_match

NEGATIVE = "-"
PASSPORT = "passport"  # an identity document whose number may be short (9 digits): masked as an id_card
QUANTITY = "#"  # an amount, a date or tail digits: no 11-19 digit number, so a proven one is still data
GENERIC = "?"

_WORDS: dict[str, tuple[str, ...]] = {
    # 身分證字號: Taiwan's (a letter and nine digits); a passport or a Hong Kong and Macau travel permit too
    "id_card": ("身份证", "身份证号", "身份证号码", "证件号", "证件号码", "证件", "身份号", "身份号码", "身分证",
                "身分证号", "身分证字号", "身份证字号", "通行证", "通行证号",
                "通行证号码", "回乡证", "回乡证号", "回乡证号码",
                # said in English (code-switched speech; the stream has no spaces)
                "idnumber", "idcard", "hkid", "identitycard"),
    PASSPORT: ("护照", "护照号", "护照号码", "passport", "passportnumber", "passportno"),
    "bank_card": ("退到", "退回到", "转到", "汇到",  # money sent back somewhere: to an account
                  "卡号", "卡号码", "银行卡", "银行卡号", "账号", "帐号", "账户", "帐户", "储蓄卡",
                  "信用卡", "借记卡", "存折", "银行账", "卡的号", "的卡",
                  "扣款卡", "还款卡",  # a card named by what it is for: money drawn from or paid to it
                  "的银行卡", "的信用卡", "的储蓄卡",  # …这张6222…的银行卡
                  "张卡", "张银行卡", "张信用卡", "张储蓄卡",  # 退到您这张卡 + the number, or the number + 这张银行卡
                  "行卡",  # a bank by its short name: 工行卡, 农行卡
                  "卡上", "卡里",  # money sent to the card itself (退款打到我卡上，6222…)
                  "cardnumber", "card", "creditcard", "debitcard", "accountnumber", "account", "bankaccount"),
    "phone": ("手机", "手机号", "手机号码", "电话", "电话号码", "联系方式", "座机", "固话", "联系电话",
              "打我", "联系我", "拨打我", "微信号", "qq", "qq号", "qq号码",  # a QQ number reaches the caller too
              "联系",  # whom to call, said right before the number (到了联系139…): nearer than a 物流 before it
              "直线", "办公室电话",  # an office's direct line reaches the person
              "短信发到", "短信发给",  # where a text message goes (发票开好了短信发到189…): nearer than the invoice
              "phone", "phonenumber", "mobile", "mobilenumber", "cellphone", "callme", "callmeat", "whatsapp",
              "telephone", "contactnumber", "landline"),
    "code": ("验证码", "动态码", "校验码", "短信码", "确认码", "随机码", "动态密码", "短信验证码",
             # what the text message reads (短信里是…, 短信上写的是…): the code it carried
             "短信说是", "短信里", "短信上",
             "安全码", "cvv", "背面后三位", "背面的三位", "那个码", "这个码",
             "收货码", "签收码", "激活码",  # a parcel handed over, an account opened
             "刚收到的",  # what just came to the phone, read out (刚收到的，058813，是不是这个？)
             "门禁码", "开门码",  # a gate's code opens it for whoever hears it
             # a locker's or a station's pickup code, as a gate's (pii/s29b; pii/s25b's two pickup codes, first
             # labelled no data, were relabelled in session 29)
             "取件码", "取货码", "提货码", "自提码", "开柜码", "驿站的码", "柜的码", "柜子的码",
             "code", "otp", "verificationcode", "securitycode", "smscode"),
    "password": ("密码", "口令", "支付密码", "取款密码", "查询密码", "服务密码",
                 "password", "pin", "pincode", "passcode"),
    GENERIC: ("号码", "number"),
    NEGATIVE: (
        "订单", "订单号", "订单号码", "单号", "单号码", "工单", "快递", "运单", "物流", "编号", "型号",
        "序列号", "串号", "imei", "sn", "条码", "发票", "热线", "热线电话", "客服电话", "服务电话",
        "投诉电话", "售后电话", "官方电话", "工号", "房间", "门牌", "分机", "邮编", "版本",
        "会员号", "会员卡号", "会员卡", "车牌", "批次", "合同号", "保单号", "流水号", "交易号",
        "延保卡号", "延保卡",  # a product's extended warranty card (延保卡号是6228…): no bank's
        "ordernumber", "order", "tracking", "trackingnumber", "model", "serialnumber", "invoice", "hotline",
        "promocode", "couponcode", "discountcode", "qrcode", "barcode", "zipcode", "postcode", "postalcode",
        "errorcode", "productcode", "simcard", "giftcard", "membershipcard", "membercard", "flight", "room",
        "默认密码", "出厂密码", "defaultpassword",  # a device's, the same for every buyer
        "店电话", "店的电话", "店里电话", "店里的电话", "店的号码",  # a shop's (门店, 分店): public
        "错误代码", "错误码", "故障码", "报错代码",  # what a screen shows for a fault (错误代码E1023): the app's
        "防伪码",  # printed on a product's warranty card to check it is genuine (pii/s44b): the maker's
        "wifi名", "wifi名字", "wifi名称", "网络名", "网络名称",  # a Wi-Fi's name (ChinaNet-5G2B): not its password
    ),
    QUANTITY: (
        "金额", "余额", "价格", "费用", "话费", "电话费", "手机费", "欠费", "合计", "总共", "一共", "共计",
        "退款", "尾号", "后四位", "后几位", "末四位", "后四", "后六位", "后两位", "最后两位", "后三位", "开头",
        "日期", "生日", "出生", "时间", "积分", "有效期",
    ),
}
CONTEXT: dict[str, str] = {w: kind for kind, words in _WORDS.items() for w in words}
LONGEST = max(len(w) for w in CONTEXT)
WINDOW = 10  # a context word must end at most this many characters before the run
GENERIC_REACH = 4  # how far before 号码 a specific word may end and still name it
# A negative word that names a person here, not a number (快递员说…，您留的是138…: the courier's, not a tracking number)
NOT_NEGATIVE_BEFORE = ("员", "小哥", "师傅")
# A quantity's word said to be less than what follows (不光是尾号，我报全的吧，6230…): the whole number, not a tail
NOT_ONLY = ("不光是", "不只是", "不止是", "不光", "不只", "不止")
# A door's keypad: a gate, then the keys pressed (楼下门禁要按1379, 单元门那个要输8520): a code
GATE_KEYS = re.compile(r"(?:门禁|单元门|楼门|大门|院门|小区门)[\u4e00-\u9fff]{0,4}?(?:按|摁|输入|输)$")
# Any other 码 said right before the digits (核销码是…, 访客码…): a code issued for one use, as 验证码 is; not a
# machine's, a product's or a promotion's (故障码, 错误码, 代码, 条码, 二维码, 编码, 尺码, 页码, 优惠券码, 活动码;
# a part's: 配件码, 零件码, the same on every unit of a model; a product's 防伪码); nor an order's (订单码: its
# number, as 订单号 is), nor a password's 密码 (出厂默认密码是123456: a device's)
# (the agent may say they read it out first: 授权码我念一下，AB3F-77KD; or look it up: 登录码我看一下，0 0 3 1 7 5)
# (a 兑换码 is a promotion's, the same for all who read it, unless it is said to be someone's: OWN_REDEMPTION)
# (码 opening the call's text, its word cut off before it: 码是3347)
ISSUED_CODE = re.compile(r"(?:^|[\u4e00-\u9fff])(?<![代障误条形维编尺页惠券件换号单动密伪])码(?:是|为|就是)?"
                         r"(?:(?:我|我再|我给您|给您|我跟您)?(?:念|报|读|说|看)(?:一下|一遍)?)?$")
# Digits the speaker reads out, no word naming them (我念一下，2，0，3，9，8，5; 收到了，我念一下，7 3 5 1 9 0): six are
# a verification code's length; a card, an ID or a phone read so is longer and keeps its kind
# (a particle may end the words: 我念一下啊，零六|九三|五一; or the agent reads them back: 您说的是904317，对吧？)
READ_OUT = re.compile(r"(?:我(?:再|给您|跟您)?(?:念|读)一下(?:啊|哈|吧)?|您说的是)$")
CODE_READ_OUT = 6
# The one said after the last expired (刚才那个过期了，新的是502813): a one-time code runs out within a call and is sent
# again; a card or a document that expired is named before it (卡, 身份证) and keeps its kind
# (or after another message came: 又来了一条，最新的是092648)
RENEWED = re.compile(r"(?:(?:过期|失效)了?|又(?:来|发|收到)了?一条(?:短信)?)(?:最?新的|新发的|新收到的|刚收到的)"
                     r"(?:是|为|就是)?$")
# ... or said before the words that the one before it expired (是704381，刚才那条已经过期了): the new code, sent again
# (a message's 条 or a code's 个, not a card's 张); or said to have expired itself (刚才那个2046已经过期了): a code too
EXPIRED_AFTER = re.compile(r"(?:(?:刚才|之前|上一|前面|原来)的?[那这]?[条个](?:短信|码|验证码)?)?(?:已经|早就)?"
                           r"(?:过期|失效)")
# The second half of a number read in halves of three (验证码前三位是538，后三位是216; 刚才说了前三位，后三位是815): a
# six-digit code, as a text message sends it; a card, an ID or a phone is not read in threes (its tail is four)
CODE_HALVES = re.compile(r"前三位.*后三位(?:是|为|就是)?$")
HALVES_REACH = 20  # characters from 前三位 to the digits of the second half
# A word of letters and digits the caller set (我设的是lucky888, 设成了abc123) or changed it to (改成xiaomao0612): a
# password, named by the setting alone
SET_WORD = re.compile(r"(?:设置?|改)(?:的|成了?|为)(?:是|的是)?[a-z]+$")
LETTERS = re.compile("[a-z]*")
# What the caller says they received, with no word for it (收到了，是七三五零二八; 又收到一个，是六六一二零四): the
# code the agent sent, read out (or the digits received: 收到的数字是五 | 二 | 九…)
RECEIVED = re.compile(r"收到(?:了?(?:一个|一条)?|的数字)(?:就|也)?是?$")
# A code told by its length alone (六位数的，九九八二七一): a one-time code's six or four digits; not a tail (后六位)
CODE_LENGTH = re.compile(r"(?<![后末尾前最])[四六]位数?的?(?:是|就是)?$")
# What the caller tried, the words after naming what failed (我试了123456也试了888888，都提示密码错误): a password or
# a code, as named
# (a word of letters and digits tried is a password, named or not, as a code is digits: 我试了woaini1314和woaini520)
TRIED = re.compile(r"(?:试了|试过|输了|输入了)(?:一个|一下)?(?P<letters>[a-z]*)$")
TRIED_NAMED = re.compile(r"(?P<password>密码)|(?P<code>验证码)")
TRIED_REACH = 16  # characters from the digits to the word naming them
# ... or what the system did with the digits said (您说的是407 215对吧，系统显示验证成功了): a code it checked
VERIFIED = re.compile(r"验证(?:成功|通过|失败|不通过)")
# A redemption code said as the caller's own (您的兑换码是VIP8QX7R3): issued to them, so a code
OWN_REDEMPTION = re.compile(r"(?:您|你|我)的兑换码(?:是|为|就是)?$")
# 默认 or 出厂 right before a password word (默认PIN码是0000, 出厂密码): a device's, the same for every buyer
# (which of its passwords may come between: 出厂的初始管理员密码是123456, pii/s44b)
DEFAULT_BEFORE = re.compile(r"(?:默认|出厂)的?(?:初始|原始|管理员)*$")
DEFAULT_WORDS = ("默认密码", "出厂密码")
# ... unless the agent set it for this caller's account (重置为默认密码Qw135790, 给您改成默认密码): theirs now
RESET_TO = re.compile(r"(?:重置|重设|改|设置?)(?:为|成)$")
# A phone number of a service centre, a branch or a shop (售后服务中心的座机是…, 营业厅电话): the firm's, public
# (or a firm's branch, as a shop's: 我们青岛分公司的电话; a caller's 公司座机 is their own line)
FIRM_BEFORE = re.compile(r"(?:中心|营业厅|网点|总部|门店|分店|分公司|服务站|维修站|维修点|售后|客服)的?$")
# (the longer of two words first: 我的 before 我, or 是我的查询密码 stops at 我)
# (the code pointed at: 四七二九一八，这是那个完工验证码; or the line: 0532-88765432，那是我家座机, pii/s44b)
# (or its length told first: 是5839，四位的那个验证码, pii/s44e)
_AFTER = re.compile(r"(这个|这|那(?!个)|就)?(是)?([四六]位数?的)?(那个)?"
                    r"(我的|我家的|我家|我们的|我|本人的|本人|您的|您|你的|你)?"
                    r"(登记的|留的|预留的|注册的|绑定的|刚发的|刚收到的|发来的|收到的)?")  # 这是您登记的手机号
# (a code read out before its word: 902556，这个是刚发的验证码)


# Tail digits given as asked (卡号后六位是358127, 身份证后六位…31421X): a tail longer than the four digits masking keeps
# still says most of the number (pii/s28b, s31b), so it is hidden as the kind named before the tail word
# (or the rest of a number given in two parts, its count said: 前面六位刚才说了，后面十二位是…, an ID's last twelve)
TAIL_WORD = re.compile(r"尾号|尾数|(?:最后|后|末)(?:面的?|边的?)?"
                       r"(?:[五六七八九5-9几]|四五|五六|十[一二三四五六七]?|1[0-7])位")
TAIL_DIGITS = (5, 17)  # a tail longer than what masking keeps, shorter than an ID (a number proven whole is no tail)
TAIL_NAMED_REACH = 4  # characters between the word naming the number and its tail word (身份证号的后六位)
# the agent reading a tail back to check it (您身份证后六位是124517，对吗): a partial number, left as the sentence
# sets label it (sentences/s20_4)
TAIL_READ_BACK = re.compile(r"您的?$")
# a password said to be a number's tail, in the tail word's clause (密码就是我手机后六位，345678): the password
PASSWORD_OF_TAIL = re.compile(r"密码|口令")


def tail_kind(stream: Stream, a: int) -> str | None:
    """The kind of the number whose tail the digits from ``a`` are (an ID's when no word names it, as
    身份证后六位 is the usual check; a password made of it, whole), or None when no tail word is said just
    before them or it names a number that is no one's (订单尾号…)."""
    text = stream.text
    lo = max(0, a - WINDOW)
    tail = last_match(TAIL_WORD, text, lo, a)
    if tail is None or any(ch in _DIGITISH for ch in text[tail.end():a]):
        return None
    if PASSWORD_OF_TAIL.search(text, stream.clause_start(tail.start()), tail.start()):
        return "password"
    for e in range(tail.start(), max(0, tail.start() - TAIL_NAMED_REACH) - 1, -1):
        hit = _word_ending_at(text, e, max(0, e - LONGEST))
        if hit is not None and hit[1] != QUANTITY:
            if TAIL_READ_BACK.search(text, max(0, hit[0] - 2), hit[0]):
                return None
            kind = hit[1]
            return kind if kind in ("id_card", "bank_card", "phone") else "id_card" if kind == PASSPORT else None
    return "id_card"


def _word_ending_at(text: str, e: int, lo: int = 0) -> tuple[int, str] | None:
    """The longest context word ending at ``e`` (and starting at or after ``lo``): (start, kind)."""
    for n in range(min(LONGEST, e - lo), 0, -1):
        kind = CONTEXT.get(text[e - n:e])
        if kind is not None:
            return e - n, kind
    return None


def _before(text: str, a: int, lo: int) -> str | None:
    for e in range(a, max(lo, a - WINDOW) - 1, -1):
        hit = _word_ending_at(text, e, lo)
        if hit is None or (hit[1] == NEGATIVE and text.startswith(NOT_NEGATIVE_BEFORE, e)) or (
                hit[1] == QUANTITY and text.endswith(NOT_ONLY, lo, hit[0])):
            continue
        start, kind = hit
        kind = _whose(text, lo, start, e, kind)
        if kind != GENERIC:
            return kind
        for e2 in range(start, max(lo, start - GENERIC_REACH) - 1, -1):
            earlier = _word_ending_at(text, e2, lo)
            if earlier is not None and earlier[1] != GENERIC:
                return earlier[1]
        return "phone"  # 号码 alone: a phone number is what people mean
    return None


def _whose(text: str, lo: int, start: int, e: int, kind: str) -> str:
    """The kind of context word ``text[start:e]`` once who it belongs to is read before it: a device's default
    password and a firm's phone are no one's data (NEGATIVE); a default the agent reset the account to is."""
    if kind == "phone" and FIRM_BEFORE.search(text, lo, start):
        return NEGATIVE
    default = DEFAULT_BEFORE.search(text, lo, start) if kind == "password" else None
    if default is None and text[start:e] not in DEFAULT_WORDS:
        return kind
    return "password" if RESET_TO.search(text, lo, default.start() if default else start) else NEGATIVE


# A code named after the digits by what it is for (完工验证码, 登录验证码): a code's word with a word of its own before
QUALIFIED_CODE = re.compile(r"[\u4e00-\u9fff]{1,2}(?:验证码|动态码|校验码)")


def _after(text: str, b: int) -> str | None:
    filler = _AFTER.match(text, b)
    s = filler.end() if filler else b
    if QUALIFIED_CODE.match(text, s):
        return "code"
    for n in range(min(LONGEST, len(text) - s), 0, -1):
        kind = CONTEXT.get(text[s:s + n])
        if kind is not None:
            return "phone" if kind == GENERIC else kind
    return None


def context_kind(stream: Stream, a: int, b: int, inherit: bool = True) -> str | None:
    """What the words around run ``[a, b)`` call it: a kind, NEGATIVE, QUANTITY or None."""
    text = stream.text
    # the look-back stops at the previous digit run's end: its context is not ours ...
    lo = a
    while lo > 0 and not _numeral(text, lo - 1) and a - lo < WINDOW + LONGEST:
        lo -= 1
    found = _before(text, a, lo)
    before = text[lo:a]
    if found in (None, QUANTITY) and _names_a_code(text, lo, a, amount=found == QUANTITY):
        found = "code"
    elif found in ("phone", NEGATIVE) and ISSUED_CODE.search(text, lo, a):
        # 手机收到的码是258163, 工单核销码是198327, 发票提取码是K7Q2M9: the code's 码 is nearer than the phone it came
        # to or the ticket or invoice it is for
        found = "code"
    if found is None and EXPIRED_AFTER.match(text, b):
        found = "code"
    if (found is None and SET_WORD.search(text, lo, LETTERS.match(text, a).end())  # its letters, if it starts so
            and not _mailed(stream, a, b)):
        found = "password"
    tried = TRIED.search(before) if found is None else None
    if tried and (named := TRIED_NAMED.search(text, b, b + TRIED_REACH)):
        found = named.lastgroup
    elif tried and (tried.group("letters") or (text[a].isascii() and text[a].isalpha())):
        found = "password"
    if found is None and VERIFIED.search(text, b, b + TRIED_REACH):
        found = "code"
    if found is None and READ_OUT.search(before) and _run_end(text, a) - a == CODE_READ_OUT:
        found = "code"
    if found is None:
        found = _after(text, b)
    elif found == QUANTITY:  # 退款退到您这张6222…的卡上: a card named after beats an amount before
        after = _after(text, b)  # (not a code: 尾号5678，验证码已发 keeps its tail digits)
        found = after if after in ("bank_card", "id_card", "phone") else found
        # 密码就是我生日19860714, 生日加名字缩写，这个是19900315lw: the date is the password
        if PASSWORD_IS_DATE.search(text, lo, a) or PASSWORD_RECIPE.search(text, lo, a):
            found = "password"
    near = a - lo <= CORRECTION_GAP or (a - lo <= CORRECTION_REACH and CORRECTION.search(text, lo, a))
    if found is None and inherit and lo > 0 and _numeral(text, lo - 1) and near:
        # ... unless only a few words separate them, or a correction does: a correction or a second
        # number of the same kind ("身份证号码是…不对是…", "手机…，备用的…", "…哦不对那是上一条，新的是…")
        # takes the first one's context
        prev = lo
        while prev > 0 and (_numeral(text, prev - 1) or "a" <= text[prev - 1] <= "z"):
            prev -= 1  # the whole word of letters and digits (密码好像是qq123456，哦改过了，现在是qq654321: not its qq)
        found = context_kind(stream, prev, lo, inherit=False)
    return found


def _mailed(stream: Stream, a: int, b: int) -> bool:
    """Whether an @ follows a character of run ``[a, b)``: the word set is an e-mail's (邮箱改成mxy0612@yeah.net),
    no password."""
    return any("@" in (stream.between(k, k + 1) or "") for k in range(a, min(b, len(stream.text) - 1)))


def _names_a_code(text: str, lo: int, a: int, amount: bool) -> bool:
    """Whether the words before run ``[lo, a)`` name a code: a code's word right before the digits is
    nearer than an amount's (退款提取码是A7K9Q2), and after an amount only that word, or a code's halves."""
    if ISSUED_CODE.search(text, lo, a):
        return True
    if amount:
        return bool(CODE_HALVES.search(text, max(0, a - HALVES_REACH), a))
    return any(p.search(text[lo:a]) for p in (GATE_KEYS, OWN_REDEMPTION, RENEWED, RECEIVED, CODE_LENGTH))


_DIGITISH = set("0123456789")
SAID_RUN = 3  # said digits in a row that make a number (幺九四四零两), not a word's 一 or 一两天


def _run_end(text: str, a: int) -> int:
    """Where the run of numerals starting at ``a`` ends."""
    return next((i for i in range(a, len(text)) if not _numeral(text, i)), len(text))


def _numeral(text: str, i: int) -> bool:
    """Whether ``text[i]`` is a digit of a number: written, or said in a run of SAID_RUN or more."""
    if text[i] in _DIGITISH:
        return True
    if text[i] not in SAID_DIGITS:
        return False
    lo = hi = i
    while lo > 0 and text[lo - 1] in SAID_DIGITS:
        lo -= 1
    while hi + 1 < len(text) and text[hi + 1] in SAID_DIGITS:
        hi += 1
    return hi - lo + 1 >= SAID_RUN

# (or a word and the date, told before the password itself: 密码是我名字拼音加生日，liming0703)
# (or whose birthday it is, and who set it: 密码我设的我老伴生日，19480617)
PASSWORD_IS_DATE = re.compile(r"(?:密码|口令)(?:[我他她](?:设的|设置的|用的))?(?:就|也)?是?"
                              r"(?:[\u4e00-\u9fff]{1,6}?(?:再?加上?|和|跟))?"
                              r"(?:我|他|她)?的?(?:老伴儿?|爱人|老公|老婆|儿子|女儿|孩子|爸爸?|妈妈?|父亲|母亲)?的?"
                              r"(?:生日|出生日期|出生年月)")
# ... or a date said to be one with a name's letters, the password's recipe (生日加名字缩写，这个是19900315lw)
PASSWORD_RECIPE = re.compile(r"(?:生日|出生日期)再?加上?(?:我的?)?(?:名字|姓名)?的?(?:缩写|拼音|首字母)")
CORRECTION_GAP = 6  # characters between two runs for the second to take the first's context
