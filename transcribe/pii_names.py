"""Names, found only where the speaker says one follows.

After 我叫 / 名字叫 / 名字是 / 姓名是 / 收货人 / 联系人 (or 叫 opening a clause, as in
我姓王，叫王小明; a kin word may come between: 收件人是我爸李国强) comes a surname from the
common-surname list and a given name of one or two characters; after 姓X名 / 姓X叫 the given name
alone. A full name before 女士 / 先生 / 小姐 (张丽华女士), and one before a clause-ending 收 after an
address (…88号，刘振宇收), is a name too. Only the given name is
hidden: the surname stays, as in the 王先生 every agent says. 我姓王 alone
hides nothing. The surname list keeps 我叫了外卖 / 我叫他 from being read as
names; a few surnames that are everyday words (车, 和, 时, 全) are left out for that reason.
A name is the speaker's own (``Found.own``) when 我 introduces it: an agent's own name is public,
the caller's name an agent reads back (您的名字是张伟对吗) is not.
"""

from __future__ import annotations

import re

from transcribe.pii_addresses import ADDRESS_TRIGGERS
from transcribe.pii_handles import security_answers
from transcribe.pii_stream import (
    CORRECTION_REACH,
    FILLERS,
    GAP_SOFT,
    Found,
    Stream,
    corrections,
    last_match,
    past_fillers,
)

SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫"
    "孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳柴蒙鲍华喻祁蒲房滕屈饶牟艾尤阳穆农司卓古吉缪简项连芦麦褚娄窦戚岑"
    "景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩佘池匡朴"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "慕容", "夏侯", "皇甫", "尉迟", "公孙", "令狐",
                     "长孙", "宇文", "司徒", "端木", "南宫", "独孤", "轩辕",
                     # rarer ones of the old surname books (万俟雪: 雪 alone is the given name)
                     "万俟", "澹台", "第五", "闻人", "呼延", "赫连", "申屠", "左丘", "钟离", "宗政", "濮阳", "太史",
                     "公冶", "拓跋")
# 第五 is an ordinal first: before a measure word (第五个, 第五名, 第五天) it names no one
ORDINAL_NEXT = set("个名位次天年月号层期届批条章节排轮种项道件台")
# Characters and words that end a given name ("我叫张伟想问一下", "我叫李明明天再打").
NAME_STOP = set("想问要是的了啊呀吧呢嘛吗哦在从住我你您他她就和跟给打来这那有没不也都还请先女今昨刚现电手身嗯呃哈对帮")
# (家 is a given name's character as often as not: 陈家豪; 家里 and 家住 still end one)
# (a character that stops a name only as the first of the next word, 刚才, 现在, 电话, belongs to it when it ends
# the clause: 我叫陈志刚)
WORD_STARTS = set("刚现今昨电手身先请女从住来打帮")
NAME_STOP_WORDS = ("明天", "今天", "昨天", "后天", "现在", "刚才", "这边", "那边", "一下", "目前",
                   "家里", "家住", "家在", "谢谢")
# A title after the surname: 我叫王师傅上门 calls someone, it gives no name.
TITLES = ("师傅", "先生", "女士", "小姐", "老师", "经理", "总", "工", "主任", "阿姨", "叔叔", "大爷", "大姐",
          "哥", "姐", "医生", "护士", "大夫", "老板")  # (周老板: the boss by surname)
# Family, as a caller names them (the longer word first: 外孙女 before 外孙)
KIN = ("爱人|老伴|老公|老婆|妈妈|妈|爸爸|爸|女儿|儿子|闺女|女婿|儿媳妇|儿媳|媳妇|公公|婆婆|太太|先生|丈夫|妻子"
       "|母亲|父亲|哥哥|姐姐|弟弟|妹妹|外甥女|外甥|侄女|侄子|外孙女|外孙|孙女|孙子|爷爷|奶奶|姥姥|姥爷|外公|外婆|舅舅|姑姑|岳父|岳母")
NAME_TRIGGERS = re.compile(r"我叫|我名叫|名字叫|名字是|姓名是|姓名叫|全名是|全名叫|全名|叫做|姓名"
                           # (said as the real one: 我真名就叫钱多多, 我也叫李白)
                           r"|我(?:也|就|真名就?|本名就?)叫"
                           # the Chinese name of someone who has another (a foreigner's: 我中文名叫白瑞德)
                           r"|中文名叫|中文名是"
                           r"|收货人是|收件人是|联系人是|收货人|收件人|联系人|持卡人是|持卡人|户主是|户主|机主是|机主"
                           r"|联络人是|联络人|申请人是|申请人|持有人是|持有人|开户名|户名是|户名|办卡的是|开户人是|开户人|预约人是|预约人"
                           # the one a repair or warranty is filed under (报修人是张伟, 保修人写的是…)
                           r"|报修人是|报修人|保修人是|保修人"
                           # the two ends of a transfer, as a form or a bank names them (收款人写…, 汇款人是…)
                           r"|收款人是|收款人|付款人是|付款人|汇款人是|汇款人"
                           # a form's name field, as it is written or changed (名字写的是…, 户主名字改成陈思远)
                           r"|名字就?(?=写|填|改成|改为|换成)"
                           # the one a booking is registered under, and the name to write on it (写我名字吴佳慧)
                           r"|登记人是|登记人|写我的?名字"
                           r"|寄件人是|寄件人|发件人是|发件人|签收人是|签收人|退货人是|退货人|下单人是|下单人|填的是"
                           # the name an account is registered under, as a system shows it (实名信息显示的是…)
                           r"|实名信息|实名"
                           # someone named by their job or as "one called" (快递员叫刘强, 有个叫林小凤的人)
                           r"|(?:快递员|销售|师傅|员工|业务员|司机|个|房东|邻居|朋友|同事|室友|老板|好像|那位|俺"
                           r"|租客|房客|病人|患者|护工|保姆|外教|同学|学生|负责人|工程师|电工|安全员|宿舍长|老人家|班长"
                           r"|主管|组长|队长)叫|家长是|负责人是|宿舍长是|的名字"
                           # whose name it is, then 叫: 我妈叫黄桂兰, 他叫冯国栋
                           rf"|(?:{KIN}|他|她)叫"
                           # a child or an ex, and the name on papers beside a nickname (大名叫林语桐, 身份证上是…)
                           r"|(?:孩子|小孩|宝宝|老大|老二|老三|老幺|前妻|前夫|大名)叫|大名是|大名"
                           r"|身份证上(?:写的)?是|(?:报名|登记|注册)用的(?:名字)?是")
# Words between a trigger and the name: how it is written or shown (收件人写张丽华, 户主叫郑国强, 实名显示的是…),
# whose it is (收件人是我爸李国强).
# (实名认证的是…: the account's verified name)
AFTER_TRIGGER = re.compile(r"(?:认证的是|认证是|写的是|写的|写|填的是|填的|填|改成|改为|换成|叫|是|显示的是|登记的是)?"
                           r"(?:我|我的|您|您的)?"
                           rf"(?:{KIN}|家人|朋友|同事|同学|室友|邻居)?")
PLACE_AFTER = set("省市县区镇乡村路街道巷")  # after a would-be full name: it was a place
# A full name before one of these is a name (张丽华女士); the surname alone (王先生) is what agents say.
FULL_NAME_TITLES = ("女士", "先生", "小姐", "阿姨", "叔叔")
# A student or teacher addressed by name (好的杨帆同学, 您好李明老师): a name only when greeted, opening the clause
# and ending it, or after 好的 / 您好 (not 我是华科同学, 高数老师讲的: a school or a subject)
ADDRESSED_TITLES = ("同学", "老师")
GREETED = re.compile(r"(?:好的|您好|你好|喂)$")
# a word before a full name that starts it as a new phrase (好的司马俊先生; a greeting: 您好黄志强先生)
FULL_NAME_AFTER = set("是给找和跟请叫的好")
# Words that start with a surname character and can stand where a full name would (马上收, 方便收).
NOT_NAMES = ("马上", "白天", "周末", "方便", "何时", "安全", "万一", "常常", "高兴", "毕竟", "成功", "于是",
             "邮政", "韩国", "钱包", "金额", "司机", "包裹", "单位", "江边", "黎明", "张口", "莫得",
             "周一", "周二", "周三", "周四", "周五", "周六", "周日", "周天", "王老吉",
             "高考", "高中",  # (您女儿高考的成绩: a school's, after a kin word)
             "谢谢")  # (名字对上了，谢谢: thanks, not 谢 and a given name)
RECIPIENT_REACH = 40  # 张明收 is a recipient when an address trigger is at most this far before it
# The characters that spell the sounds of Uyghur, Kazakh, Tibetan, Mongolian and Western names in Chinese:
# after any trigger, a name with no common surname is taken whole when it is made of them (_unlisted)
UNLISTED_MAX = 10  # characters of such a name (古丽娜尔·吐尔逊 is seven, 阿不都热合曼·买买提 nine)
# Sounds spelled with characters that are words elsewhere (Abdu-: 阿不都热合曼)
TRANSLITERATION_WORDS = ("阿不都", "阿布都", "阿卜杜")
TRANSLITERATION = set(
    "阿依古丽娜尔吐逊买提艾力努兰别克热合曼罕沙吾帕孜木汗哈萨穆默德伊斯玛迪亚尼加布都拉米吉凯赛达麦海则塔西江夏巴图森托"
    "扎顿珠次仁卓格桑平措多旦增曲央金姆瓦索朗强白庆群培贡嘎益边特其乌日苏雅敖登琴宝音朝鲁孟呼毕那花额敦楞"
    "约翰史密迈詹乔治安卫彼得保罗汤杰文莉莎琳露维威廉查理埃里奥伯大"
)
OWN_WINDOW = 4  # characters before a trigger that say whose name follows (我的名字是 / 您的名字是)
SURNAME_TRIGGER = re.compile(r"我姓|免贵姓|姓")
# A surname spelled by its parts (木子李, 耳东陈): the full name is said beside it
SPELLED = re.compile(r"木子李|耳东陈|口天吴|弓长张|立早章|双木林|双口吕|草头黄|三横一竖王|三横王|古月胡|言午许|走肖赵"
                     r"|关耳郑|禾木程|禾呈程|人可何|言身寸谢|文刀刘|木易杨|双人徐|双人旁的徐"
                     # by a famous name, ending its clause (_announced): 李宁的那个李
                     r"|的那个[" + "".join(sorted(SURNAMES)) + "]")
SURNAME_REACH = 14  # characters after 姓李 or 木子李 where the full name may follow (a clause or two)
# (or the name a parcel is addressed to: 收件人写Sarah Johnson)
LATIN_NAME = re.compile(r"(?:英文名字?(?:叫|是)|叫我|我叫|名字是|名字叫|姓名是"
                        r"|(?:收件人|收货人|联系人)(?:写的是|写|是))(?P<name>[a-z]{3,12})(?![a-z0-9])")
# A name in Latin letters, as Whisper writes a romanised one (我叫Wang Xiaoming, my name is Michael Wang, 我是陈Lily):
# after these words, the surname stays and the given name is hidden, whichever end the surname stands at
ROMAN_TRIGGERS = re.compile(r"我叫|我是|叫我|名字是|姓名是|名字叫|账户名是|户名是|持卡人姓名是|持卡人是|收件人是"
                            # a name's spelling, not a single word's (万俟的拼音是mo qi)
                            r"|(?:名字的|(?<!的))拼音是"
                            r"|收件人写的是|收件人写|联系人是|请问是|mynameis|myname|iam|thisis|callme|ms|mr|mrs|miss")
ROMAN_WORDS = re.compile(r"[A-Za-z]+(?:[ ·-][A-Za-z]+){0,3}")
# Surnames as Mandarin pinyin and Cantonese (Hong Kong) spell them
ROMAN_SURNAMES = {"wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma",
                  "zhu", "hu", "guo", "he", "lin", "gao", "luo", "zheng", "liang", "xie", "song", "tang", "han",
                  "feng", "deng", "cao", "peng", "zeng", "xiao", "tian", "dong", "pan", "yuan", "cai", "jiang", "yu",
                  "du", "ye", "cheng", "wei", "su", "lu", "ding", "ren", "shen", "yao", "cui", "zhong", "tan", "fan",
                  "jin", "shi", "liao", "jia", "xia", "fu", "fang", "zou", "xiong", "bai", "meng", "qin", "qiu",
                  "hou", "yin", "xue", "yan", "duan", "lei", "long", "tao", "mao", "hao", "gu", "gong", "shao",
                  "wan", "qian", "dai", "mo", "kong", "xiang", "chang", "wen", "niu", "ouyang", "sima", "shangguan",
                  "zhuge", "murong", "situ", "chan", "wong", "lee", "cheung", "lau", "ng", "ho", "yeung", "leung",
                  "tsang", "chow", "lam", "kwok", "mak", "yip", "chu", "fung", "lo", "kwan", "tse", "au", "siu",
                  "chiu", "hui", "poon", "tsui", "yuen", "chung", "choi", "lai", "tong", "ko", "kwong"}
NOT_LATIN_NAMES = {"app", "vip", "wifi", "sir", "miss", "boss"}
SPELLED_GIVEN = re.compile(r"[a-z]{2,12}(?![a-z0-9])")  # a given name spelled after its surname spelled and written
# A character of a given name explained by a word holding it: 晓是破晓的晓, 伟大的伟 (_spelled_out)
# (or after a bare 是, said of the name before, which is no part of it: 不是平凡的凡，是帆船的帆)
EXPLAINED = re.compile(r"(?:(?P<x>[\u4e00-\u9fff])是|(?P<lead>是))?"
                       r"(?P<word>[\u4e00-\u9fff]{1,4}?)的(?P<ch>[\u4e00-\u9fff])")
# a character described by its parts (三个石头的磊, 两个木的林): the word counts what it is made of
PARTS = re.compile(r"[一两二三四]个")
# a given name's character pointed at at the end of a clause (鸟叫的那个鸣, 三个金那个鑫): the character alone
POINTED = re.compile(r"那个(?P<ch>[\u4e00-\u9fff])")
# or by its radical and the rest, in a clause of its own (梓是木字旁一个辛苦的辛, 琳是王字旁加个林): the whole clause
RADICAL = re.compile(r"(?P<ch>[\u4e00-\u9fff])是[\u4e00-\u9fff]{1,3}?(?:旁|头|底)")
RADICAL_CLAUSE = 14  # characters of such a clause at most
# but a character pointed at after its radical (木字旁那个梓, 山字头那个巍) stays shown, as a surname's gloss does
# (耳朵旁那个耿); the 头 of 三个石头, which counts the character's parts, is no radical
RADICAL_NAMED = ("旁", "字头", "字底")
# the full name said again with its length (就黄鹤两个字), unlike a word holding it (黄鹤楼)
NAME_LENGTH = re.compile(r"[一两二三四]个字")
EXPLAIN_REACH = 30  # characters after a given name where its explanations or its repetition are read
# the given name alone, the surname said before (名字就一个浩字: the character between)
GIVEN_ALONE = re.compile(r"名字叫|名叫|单名一个|名字就一个字|名字就一个(?=[\u4e00-\u9fff]字)")


def _given(stream: Stream, q: int) -> int:
    """How many characters of given name start at ``q`` (0, 1 or 2)."""
    text = stream.text
    if any(text.startswith(t, q) for t in TITLES):
        return 0
    n = 0
    while n < 2 and q + n < len(text):
        ch = text[q + n]
        if not ("\u4e00" <= ch <= "\u9fff") or (ch in NAME_STOP and not _last_of_clause(stream, q + n, ch)):
            break
        if text[q + n:q + n + 2] in NAME_STOP_WORDS:
            break
        n += 1
        if not stream.joined(q + n - 1) or (stream.spaced(q + n - 1) and SPELLED.match(text, q + n)):
            break  # (a space, then the surname spelled: the recogniser's pause after the name, 胡斌 古月胡)
    return n


def _last_of_clause(stream: Stream, k: int, ch: str) -> bool:
    """Whether ``ch`` at ``k`` is a word's first character (WORD_STARTS) that ends its clause, so no word follows
    it: the last of a given name (陈志刚,), not the start of 刚才."""
    return ch in WORD_STARTS and k > 0 and stream.joined(k - 1) and _ends_clause(stream, k + 1)


def _surname(text: str, p: int) -> int:
    if text[p:p + 2] in COMPOUND_SURNAMES and not (text.startswith("第五", p) and text[p + 2:p + 3] in ORDINAL_NEXT):
        return 2
    return 1 if p < len(text) and text[p] in SURNAMES else 0


def names(stream: Stream) -> list[Found]:
    text = stream.text
    out: list[Found] = []
    said = _said_surnames(stream)
    for m in NAME_TRIGGERS.finditer(text):
        between = AFTER_TRIGGER.match(text, m.end())
        # (a trigger ending its clause: the name may come after a filler or two, 我叫，就是，那个，刘德明)
        # (or one ending the trigger's segment: 我叫呃|那个|杜若溪)
        p = past_fillers(stream, between.end() if between and stream.joined(m.end() - 1) else m.end())
        # (the 叫 said again, with a filler, before the name: 我妈叫，叫那个，何素珍)
        if m.group().endswith("叫") and text.startswith("叫", p) and p != m.end() - 1 and p + 1 < len(text):
            again = past_fillers(stream, p + 1)
            p = again if again > p + 1 or not stream.joined(p) else p
        p = _restarted(stream, p)
        given = _name_after(stream, p, named=True, then=WRITE_THEN)  # 收件人写热依拉就行
        given = given or _said_surname_name(stream, p, said)
        if given:
            out.append(Found("name", *given, _first_person(text, m.start(), m.end())))
    # 叫 opening a clause: 我姓王，叫王小明 / 嗯叫王小明
    # or 叫 after whoever it names, said in any words (前台的小姑娘叫周婷婷，村支书叫何永福，): a full name that ends
    # its clause, after a word for a person (not 这个档位叫高速档, 那个牌子叫金龙鱼; not 叫王师傅: a title)
    for m in re.finditer("叫", text):
        if _paused_before(stream, m.start()):  # (or after a space, a recogniser's pause: 我姓马 叫马晓东)
            given = _full_name(stream, m.end(), named=True) or _said_surname_name(stream, m.end(), said)
        else:
            given = _name_after(stream, m.end())  # (a name with no surname too: 我舍友叫扎西次仁，)
            if not (given and m.start() > 0 and text[m.start() - 1] in PERSON_END and _ends_clause(stream, given[1])):
                given = None
        if given:
            out.append(Found("name", *given, _first_person(text, m.start(), m.end())))
    # 姓王名小明 / 姓王叫小明: the given name follows the surname
    for m in SURNAME_TRIGGER.finditer(text):
        p = m.end()
        s = _surname(text, p) or (1 if p < len(text) and "\u4e00" <= text[p] <= "\u9fff" else 0)
        q = p + s
        if s and q < len(text) and text[q] in "名叫" and stream.joined(q - 1) and stream.joined(q):
            # 姓王叫王小明, 姓刘，名字叫永刚, 姓王名叫小明: the other loops have it (名字 and 名叫 are words, not 名)
            if _surname(text, q + 1) or text.startswith(("名字", "名叫"), q):
                continue
            g = _given(stream, q + 1)
            if g:
                out.append(Found("name", q + 1, q + 1 + g, _first_person(text, m.start(), m.end())))
    for m in ROLE_IS.finditer(text):
        if given := _clause_end(stream, _name_after(stream, m.end())):
            out.append(Found("name", *given))
    out += [*_titled_names(stream), *_recipients(stream), *_introduced(stream), *_announced(stream, said),
            *_corrected(stream), *_renamed(stream), *_two_spellings(stream), *_owned(stream), *_this_name(stream),
            *_explained(stream), *_compound_alone(stream), *_kept_by(stream), *_answered(stream),
            *_repeated(stream), *_begun_again(stream), *_nicknames(stream)]
    out += _named_before(stream, out)
    romanised = _romanised(stream)
    out += romanised
    # an English name (我英文名叫Jessica, 您叫我Kevin就行): all but its first letter, as a spelled name
    for m in LATIN_NAME.finditer(text):
        own = _first_person(text, m.start(), m.end())
        # (or a surname spelled, then written, then the given name spelled: Z H O U 周，J I A N | G U O)
        spelled = m["name"] in ROMAN_SURNAMES and text[m.end():m.end() + 1] in SURNAMES
        given = SPELLED_GIVEN.match(text, m.end() + 1) if spelled else None
        if given:
            out.append(Found("name", *given.span(), own))
        elif not spelled and m["name"] not in NOT_LATIN_NAMES and not any(
                m.start("name") < r.end and r.start < m.end("name") for r in romanised):
            out.append(Found("name", m.start("name") + 1, m.end("name"), own))
    out += _retold(stream, out)
    out += _alternatives(stream, out)
    # (a name found twice, corrected and explained, has its explanation found once: 赵丽虹，彩虹的虹)
    return _not_staff(stream, out + _spelled_out(stream, list(dict.fromkeys(out))))


# A surname the caller explains (我姓仉，…; 这个么念yāo; 尉迟读yù chí; 澹台是复姓; 晁盖的晁): read as a surname in
# this call, though no list holds it
SURNAME_SAID = re.compile(r"(?:我姓|免贵姓|复姓|姓)(?P<s>[\u4e00-\u9fff]{1,2})")
SURNAME_READ = re.compile(r"(?:这个)?(?P<s>[\u4e00-\u9fff]{1,2}?)(?:读|念|是复姓|是姓)")
NOT_SURNAME = set("名氏什啥字")  # 姓名, 姓氏, 姓什么, 这个字念…: no surname said


def _restarted(stream: Stream, p: int) -> int:
    """Where the name said from ``p`` starts again when its surname is said alone first (我叫孙……孙浩然, 收件人是王，
    王德福, 名字是赵……|赵雨桐): at the surname said again after the pause; ``p`` itself otherwise."""
    s = _surname(stream.text, p)
    if not s or p + s >= len(stream.text) or not stream.opens_clause(p + s):
        return p
    again = past_fillers(stream, p + s)
    return again if stream.text.startswith(stream.text[p:p + s], again) else p


def _begun_again(stream: Stream) -> list[Found]:
    """A surname said alone, then the full name in the next clause (诸葛……诸葛明亮，对，姓诸葛): a caller who began,
    paused and said it whole, with no word before it."""
    out: list[Found] = []
    for p in stream.clause_starts():
        q = _restarted(stream, p)
        if q != p and (given := _clause_end(stream, _full_name(stream, q))):
            out.append(Found("name", *given))
    return out


def _said_surnames(stream: Stream) -> dict[str, tuple[int, int]]:
    """Surnames the caller says as surnames, each with where it is said: after 姓 ending the clause (我姓第五，),
    opening a clause before 读 / 念 / 是复姓, or explained by a word starting with it (晁盖的晁, 冼星海的冼)."""
    text = stream.text
    out: dict[str, tuple[int, int]] = {}
    for m in SURNAME_SAID.finditer(text):
        for k in (2, 1):
            if m.end("s") - m.start("s") >= k and _ends_clause(stream, m.start("s") + k):
                out.setdefault(text[m.start("s"):m.start("s") + k], (m.start("s"), m.start("s") + k))
    for p in stream.clause_starts():
        m = SURNAME_READ.match(text, p)
        if m and stream.in_one_clause(p, m.end()):
            out.setdefault(m["s"], (m.start("s"), m.end("s")))
        m = EXPLAINED.match(text, p)
        if m and m["x"] in (None, m["ch"]) and m["word"][0] == m["ch"] and _ends_clause(stream, m.end()):
            out.setdefault(m["ch"], (m.start("ch"), m.end("ch")))
    return {k: v for k, v in out.items() if k[0] not in NOT_SURNAME}


def _said_surname_name(stream: Stream, p: int, said: dict[str, tuple[int, int]]) -> tuple[int, int] | None:
    """The given name after a surname said in the call (_said_surnames), starting at ``p``: one or two characters
    that end their clause (我叫么军，这个么念yāo; 叫仉建平), not the clause that explains the surname."""
    for surname, (a, b) in sorted(said.items(), key=lambda kv: -len(kv[0])):
        if not _text_at(stream, p, surname) or a <= p < b or stream.clause_start(a) == stream.clause_start(p):
            continue
        q = p + max(len(surname), _surname(stream.text, p))
        g = _given(stream, q) if stream.joined(q - 1) else 0
        if g and _ends_clause(stream, q + g):
            return q, q + g
    return None


def _said_length(stream: Stream, p: int, said: dict[str, tuple[int, int]]) -> int:
    """The length of the surname said at ``p`` (我姓区: 区), 0 when none is."""
    return max((len(s) for s, (a, _) in said.items() if a == p), default=0)


def _text_at(stream: Stream, p: int, word: str) -> bool:
    """Whether ``word`` is said at ``p``, within one clause."""
    return stream.text.startswith(word, p) and stream.in_one_clause(p, p + len(word))


# a clause about a name, the name itself in the clause after it (账号是用我爸的名字注册的，王德福; 发票抬头写个人，
# 陈建国: a personal invoice's title is the person's name; a firm's is not, 抬头写单位，华为)
NAME_WORD = re.compile(r"名字|姓名|全名|抬头[\u4e00-\u9fff]{0,3}?个人|个人的?抬头")
WRITE_LEAD = re.compile(r"(?:就|直接)?(?:写|填)?")  # what to write, before the name (抬头开个人的，写司马婷婷)


def _named_before(stream: Stream, found: list[Found]) -> list[Found]:
    """A full name making a clause of its own right after a clause that speaks of a name (NAME_WORD) and gives none
    of those ``found`` (not 名字是巴特尔，蒙古族: the clause after says more of the person)."""
    text = stream.text
    out: list[Found] = []
    for p in stream.clause_starts():
        lead = WRITE_LEAD.match(text, p)
        given = _clause_end(stream, _full_name(stream, lead.end())) if p > 0 else None
        if given is None:
            continue
        word = last_match(NAME_WORD, text, stream.clause_start(p - 1), p)
        if word is not None and not any(word.end() <= f.start < p for f in found):
            out.append(Found("name", *given, _first_person(text, word.start(), word.end())))
    return out


# where a thing is, not who (左上角！左上角！: a corner shouted twice)
POSITION = set("上下左右前后里外角边头底")


def _repeated(stream: Stream) -> list[Found]:
    """A full name said twice to check it (黄晓东，黄晓东): a surname and two characters of given name making a
    clause, and the next clause the same after a comma; a word said twice (江苏，江苏) has no given name of two."""
    text = stream.text
    out: list[Found] = []
    for p in stream.clause_starts():
        given = _full_name(stream, p)
        if (not given or given[1] - given[0] != 2 or not _ends_clause(stream, given[1]) or given[1] == len(text)
                or stream.gaps[given[1] - 1] != GAP_SOFT or POSITION & set(text[given[0]:given[1]])):
            continue
        q = past_fillers(stream, given[1])
        if _text_at(stream, q, text[p:given[1]]) and _ends_clause(stream, q + given[1] - p):
            out += [Found("name", *given), Found("name", q + given[0] - p, q + given[1] - p)]
    return out


# a nickname said as what people call someone (小名叫糖糖, 大家都叫我阿强): a name of its own, hidden whole
NICKNAME_TRIGGERS = re.compile(r"(?:小名|乳名|昵称)(?:叫|是)?|都(?:叫|喊|管)(?:我|他|她)(?:叫)?")
NICKNAME = re.compile(r"阿(?P<a>[\u4e00-\u9fff])|(?P<b>[\u4e00-\u9fff])(?P=b)")
NOT_NICKNAME = set("姨婆公伯叔哥姐妈爸嫂弟妹爷奶舅")  # 阿姨, 阿婆: what anyone is called, not a name


def _nickname(stream: Stream, p: int, then: re.Pattern[str] | None = None) -> tuple[int, int] | None:
    """A nickname from ``p``: 阿 and a character (阿强), or one character twice (糖糖), ending its clause or
    followed by ``then`` (找阿珍就行). 老李 and 小王 keep only a surname and hide nothing."""
    m = NICKNAME.match(stream.text, p)
    if not m or not stream.joined(p) or (m["a"] or m["b"]) in NOT_NICKNAME | NAME_STOP:
        return None
    ends = _ends_clause(stream, m.end()) or (then is not None and bool(then.match(stream.text, m.end())))
    return (p, m.end()) if ends else None


def _nicknames(stream: Stream) -> list[Found]:
    """Nicknames after the words that say one follows (NICKNAME_TRIGGERS), or someone to ask for (找阿珍就行)."""
    out: list[Found] = []
    for m in NICKNAME_TRIGGERS.finditer(stream.text):
        nick = _nickname(stream, m.end())
        out += [Found("name", *nick, "我" in m.group())] if nick else []
    for m in re.finditer("找", stream.text):
        nick = _nickname(stream, m.end(), WRITE_THEN) if stream.text.startswith("阿", m.end()) else None
        out += [Found("name", *nick)] if nick else []
    return out


def _not_staff(stream: Stream, found: list[Found]) -> list[Found]:
    """Without the one found that gives a name with a job number in the clause after it (我叫陈静，工号30215): staff
    introducing themselves, whose name is public (POLICY §1), whoever the speaker is marked as; or introduced by
    a colleague the same way (今天上门的是我们的王师傅，王建军，工号A1023)."""
    staff = [f for f in found if f.end < len(stream.text) and not stream.joined(f.end - 1)
             and STAFF_NUMBER.match(stream.text, past_fillers(stream, f.end))]
    return [f for f in found if not any(s.start < f.end and f.start < s.end for s in staff)]


def _two_spellings(stream: Stream) -> list[Found]:
    """One name asked in two spellings (林浩然还是林浩燃, 李明辉还是李明慧): a full name, 还是 / 或者, then a full
    name of the same surname whose two-character given name keeps one character of the first; two people are rarely
    offered so, one name read back is. (A given name of one character could be any pair of words: 冷藏还是冷冻.)"""
    text = stream.text
    out: list[Found] = []
    for m in ALTERNATIVE.finditer(text):
        a = m.start() - 3
        if a < 0 or not _surname(text, a) or not text.startswith(text[a], m.end()):
            continue
        first, second = _full_name(stream, a), _full_name(stream, m.end())
        if (first == (a + 1, m.start()) and second and second[1] - second[0] == 2 and _ends_clause(stream, second[1])
                and sum(x == y for x, y in zip(text[a + 1:m.start()], text[second[0]:second[1]], strict=True)) == 1):
            out += [Found("name", *first), Found("name", *second)]
    return out


def _alternatives(stream: Stream, found: list[Found]) -> list[Found]:
    """A second name offered in the same breath (写邓子轩或者刘一鸣都行, 找王海涛还是李娜都可以): a full name right
    after 或者 / 或是 / 还是 that follows a name found."""
    text = stream.text
    out: list[Found] = []
    for f in found:
        m = ALTERNATIVE.match(text, f.end)
        given = _full_name(stream, m.end()) if m and stream.joined(f.end - 1) else None
        out += [Found("name", *given)] if given else []
    return out


# The last character of a word for a person by their job or place (质检员, 组长, 文书, 宿管, 护士, 小姑娘, 阿姨, 行政)
# (and 手 of one who does a job with their hands: 骑手, 助手, 帮手)
# (户 of one served or housed: 用户, 客户, 住户)
PERSON_END = set("员长人书记师生工友管士夫娘姐哥弟妹叔婶嫂姨伯舅爷奶政手户")
ALTERNATIVE = re.compile(r"或者|或是|还是")
STAFF_NUMBER = re.compile(r"(?:我的)?工号")  # what staff say after their name to introduce themselves
# whom a role on a form names, then 是 and their full name ending its clause (担保人是郑海涛，…; 转账对象是黄丽娟，…):
# a word of two characters before 人 (not 这个人是, 本人是, 那位病人是高血压: no role on a form), or a transfer's
# 对象 (not 我对象是程序员: a partner), or whom an account is registered under (登记的是郑美玲，是我妈); not a
# brand's or a body's spokesperson, a public figure (我们的代言人是刘德华, 发言人是…)
ROLE_IS = re.compile(r"(?:(?![的这那个我你您他她们])[\u4e00-\u9fff]){2}(?<![病男女老家本别某个好坏穷富言])人是"
                     r"|(?<![我你您他她的])对象是|(?:登记|注册)的是")
# where someone is, as the place a thing is left or found (钥匙在楼下的林志伟那儿, 放到隔壁的王海涛那里): a full
# name with a given name of two characters (not 对面的万达那儿: a shop) between 的 and 那儿
WHERE_SOMEONE = re.compile(r"的(?=[\u4e00-\u9fff]{3,4}(?:那儿|那里|那边))")


def _romanised(stream: Stream) -> list[Found]:
    """Given names in Latin letters after a word naming a name (ROMAN_TRIGGERS): of Wang Xiaoming and Chan Tai Man
    the words after the surname, of Michael Wang those before it, of 陈Lily and 欧阳Feng the Latin words after
    the Chinese surname. A name with no surname it knows is left to LATIN_NAME (J*******)."""
    text = stream.text
    out: list[Found] = []
    for m in ROMAN_TRIGGERS.finditer(text):
        p = m.end()
        if m.group().isascii() and m.start() > 0 and text[m.start() - 1].isascii() and text[m.start() - 1].isalpha():
            continue  # inside a longer Latin word
        s = _surname(text, p)
        if s and p + s < len(text) and text[p + s].isascii() and text[p + s].isalpha():
            at = p + s  # 陈Lily: a Chinese surname, then the given name in letters
        elif p < len(text) and text[p].isascii() and text[p].isalpha():
            at = p
        else:
            continue
        seg, original = stream.seg[at], stream.norms[stream.seg[at]].original
        run = ROMAN_WORDS.match(original, stream.pos[at])
        if run is None:
            continue
        words = list(re.finditer(r"[A-Za-z]+", run.group()))
        if at > p:
            hide = (words[0].start(), run.end() - run.start())
        elif len(words) > 1 and words[0].group().lower() in ROMAN_SURNAMES:
            hide = (words[1].start(), run.end() - run.start())
        elif len(words) > 1 and words[-1].group().lower() in ROMAN_SURNAMES:
            hide = (0, words[-2].end())
        else:
            continue
        ks = stream.within(seg, run.start() + hide[0], run.start() + hide[1])
        if ks:
            out.append(Found("name", ks[0], ks[-1] + 1, _first_person(text, m.start(), m.end())))
            # then written in characters in a clause of its own (拼音是 Sima Yiran，司马怡然)
            again = ks[-1] + 1
            chinese = _clause_end(stream, _full_name(stream, again, named=True)) if stream.opens_clause(again) else None
            out += [Found("name", *chinese)] if chinese else []
    return out


def _spelled_out(stream: Stream, found: list[Found]) -> list[Found]:
    """A given name said again after it: each character explained in a clause of its own (陈晓雨，晓是破晓的晓，
    雨是下雨的雨; 张伟，伟大的伟), which says the character once more, or a two-character given name alone
    (马思远，大家都叫我思远). A surname explained (司马光的司马, 李宁的那个李) names no given name and stays."""
    text = stream.text
    out: list[Found] = []
    for f in found:
        given = text[f.start:f.end]
        reach = min(len(text), f.end + EXPLAIN_REACH)
        for p in range(f.end, reach):
            m = EXPLAINED.match(text, p)
            # (or asked about: 嘉奖的嘉对吗)
            ends = _ends_clause(stream, m.end()) or text.startswith(ASKED_AFTER, m.end()) if m else False
            if (m and stream.opens_clause(p) and ends and m["ch"] in given
                    and (m["ch"] in m["word"] or PARTS.match(m["word"])) and m["x"] in (None, m["ch"])):
                out.append(Found("name", m.end("lead") if m["lead"] else p, m.end()))
            radical = RADICAL.match(text, p)
            end = stream.clause_end(p, p + RADICAL_CLAUSE) if radical and radical["ch"] in given else p
            if end > p and stream.opens_clause(p) and _ends_clause(stream, end):
                out.append(Found("name", p, end))
            pointed = POINTED.match(text, p)
            if (pointed and pointed["ch"] in given and _ends_clause(stream, pointed.end())
                    and not text.endswith(RADICAL_NAMED, 0, p)):
                out.append(Found("name", pointed.start("ch"), pointed.end()))
        full = text[f.start - 1:f.end] if f.start > 0 else ""
        for m in re.finditer(re.escape(full), text[:reach]) if full else ():
            if m.start() >= f.end and NAME_LENGTH.match(text, m.end()):
                out.append(Found("name", m.start() + 1, m.end()))
        if len(given) == 2:
            again = re.compile(re.escape(given)).finditer(text, f.end, reach)
            # (not across a space, the pause between two words: 思考的思 远方的远 says no 思远)
            out += [Found("name", m.start(), m.end()) for m in again if not stream.spaced(m.start())]
    return out


def _retold(stream: Stream, found: list[Found]) -> list[Found]:
    """A name taken back and said again (我叫黄晓丽，不对，身份证上写的是黄小丽): a full name of the same
    surname within a clause or two after the correction word."""
    text = stream.text
    out: list[Found] = []
    for at in corrections(stream, found):
        for f in found:
            surname = text[f.start - 1] if f.start > 0 else ""
            if not surname or not 0 <= at - f.end <= CORRECTION_REACH + 4:
                continue
            for p in range(at, min(len(text), at + SURNAME_REACH)):
                given = _full_name(stream, p, named=True) if text.startswith(surname, p) else None
                if given:
                    out.append(Found("name", *given))
                    break
    # or said again at once, in the next clause, whole or longer (我叫陈思，陈思远; not 方明，方便的方), maybe after a
    # filler (刘德，嗯，刘德明)
    for f in found:
        surname = text[f.start - 1] if f.start > 0 else ""
        again = past_fillers(stream, f.end) if f.end < len(text) and not stream.joined(f.end - 1) else -1
        if surname and again >= 0 and text.startswith(surname + text[f.start], again):
            given = _full_name(stream, again, named=True)
            out += [Found("name", *given)] if given else []
    return out


DESCRIBED = re.compile(r"(?:的)?那[个位]|的人")  # 高个子那个, 胖胖的那位: a person described, not named


def _announced(stream: Stream, surnames: dict[str, tuple[int, int]]) -> list[Found]:
    """A surname said first (我姓郑, 木子李), then the full name in a clause of its own (郑海涛; 林雅婷，双木林
    before it), or the given name alone (复姓欧阳，名字叫晓峰; 单名一个天字). A surname read or explained
    (尉迟读yù chí, 宇宙的宇: _said_surnames) names the full name in a clause of its own before it too."""
    text = stream.text
    out: list[Found] = []
    said = [(m.end(), m.end() + (_surname(text, m.end()) or _said_length(stream, m.end(), surnames)))
            for m in SURNAME_TRIGGER.finditer(text)]
    by_parts = list(SPELLED.finditer(text))
    spelled = [(m.end(), m.end()) for m in by_parts if not m.group().startswith("的那个")]
    said += [(m.end(), m.end()) for m in by_parts
             if not m.group().startswith("的那个") or _ends_clause(stream, m.end())]
    explained = [(a, b) for a, b in surnames.values() if not SURNAME_TRIGGER.search(text, max(0, a - 3), a)]
    for lo, hi in said + explained:
        surname = text[lo:hi] or text[lo - 1]  # 木子李: the last character is the surname
        # (复姓欧阳 after the name explains it, as 双木林 does: 欧阳娜娜，复姓欧阳)
        before = hi == lo or (lo, hi) in explained or text[lo - 2:lo] == "复姓"
        start = max(0, lo - SURNAME_REACH) if before else hi
        for p in range(start, min(len(text), hi + SURNAME_REACH)):
            # (or read back after what was said, ending its clause: 您说的是张子涵，弓长张; not 说的是黄色的那款)
            read_back = p >= 2 and text.startswith("的是", p - 2) and stream.in_one_clause(p - 2, p)
            if (text.startswith(surname, p) and (_opens_name(stream, p) or read_back) and p != lo - len(surname)
                    and not ((lo, hi) in explained and p == stream.clause_start(lo))):
                given = _full_name(stream, p) or _said_surname_name(stream, p, {surname: (lo, hi)})
                given = given if given and (_opens_name(stream, p) or _ends_clause(stream, given[1])) else None
                # 司马光的司马, 李宁的那个李: spelled by a famous name; 高个子那个: the clause goes on past
                # the would-be name into a description of the person, so it was no name
                if (given and not re.match("的(?:那个)?" + surname, text[given[1]:])
                        and not DESCRIBED.match(text, given[1])):
                    out.append(Found("name", *given))
        if (lo, hi) in spelled and (given := _given_after_spelled(stream, lo)):
            out += [Found("name", *given), *_spelled_on(stream, given)]
        for m in GIVEN_ALONE.finditer(text, hi, min(len(text), hi + SURNAME_REACH)):
            if text.startswith("单名", m.end()) or text.startswith(surname, m.end()):
                continue  # 名字就一个字，单名: not said yet; 名字叫陈志强: the whole name, read above
            g = min(_given(stream, m.end()), 1 if m.group().startswith(("单名一个", "名字就一个")) else 2)
            if g:
                out.append(Found("name", m.end(), m.end() + g))
    return out


def _given_after_spelled(stream: Stream, q: int) -> tuple[int, int] | None:
    """The given name said alone right after a surname spelled by its parts (弓长张，伟; 耳东陈 思远 思考的思, as a
    recogniser writes it, a space for the pause): one or two characters between two pauses, which a space marks
    where no punctuation was written."""
    # (not the full name said after it, 弓长张，张伟: the rules for a full name read that)
    if q >= len(stream.text) or not _paused_before(stream, q) or stream.text.startswith(("的", stream.text[q - 1]), q):
        return None
    g = _given(stream, q)
    while g and not (_paused_before(stream, q + g) and not any(stream.spaced(k) for k in range(q, q + g - 1))):
        g -= 1
    return (q, q + g) if g else None


def _spelled_on(stream: Stream, given: tuple[int, int]) -> list[Found]:
    """The given name's next character, spelled as its first was (思，思考的思，远，远近的远): after the first's
    explanation, a character alone, then its own explanation."""
    text = stream.text
    out: list[Found] = []
    q, e = given
    while e - q == 1 and (m := EXPLAINED.match(text, e)) and m["ch"] == text[q] and _ends_clause(stream, m.end()):
        nxt = m.end()
        if not (nxt + 1 < len(text) and _ends_clause(stream, nxt + 1) and "\u4e00" <= text[nxt] <= "\u9fff"):
            break
        again = EXPLAINED.match(text, nxt + 1)
        if not (again and again["ch"] == text[nxt] and _ends_clause(stream, again.end())):
            break
        out.append(Found("name", nxt, nxt + 1))
        q, e = nxt, nxt + 1
    return out


def _paused_before(stream: Stream, i: int) -> bool:
    """Whether a pause stands before character ``i``: a clause or segment starts there, the text ends, or a space
    parts it from the character before (ASR text with no punctuation)."""
    return _ends_clause(stream, i) or (i > 0 and stream.spaced(i - 1))


def _opens_name(stream: Stream, p: int) -> bool:
    """Whether a name said from ``p`` opens its clause, maybe after 是 (是张伟，不是立早章，是弓长张): the caller
    answering with the name alone."""
    return stream.opens_clause(p) or (p > 0 and stream.text[p - 1] == "是" and stream.opens_clause(p - 1))


def _explained(stream: Stream) -> list[Found]:
    """A full name said alone in its clause, then a character of its given name explained in the next (周晓燕，
    破晓的晓): only a name is spelled so, whatever words came before; the explanations are _spelled_out's."""
    text = stream.text
    out: list[Found] = []
    for p in range(len(text)):
        given = _full_name(stream, p) if _opens_name(stream, p) else None
        if given is None or given[1] >= len(text) or not _ends_clause(stream, given[1]):
            continue
        m = EXPLAINED.match(text, given[1])
        if (m and _ends_clause(stream, m.end()) and m["ch"] in text[given[0]:given[1]]
                and m["ch"] in m["word"] and m["x"] in (None, m["ch"])) or _surname_glossed(stream, p, given):
            out.append(Found("name", *given))
    return out


def _compound_alone(stream: Stream) -> list[Found]:
    """A full name with a compound surname said alone in its clause, maybe after 是 (是司马远。): the caller answering
    with the name; a compound surname is no everyday word, so it needs no trigger nor explanation."""
    return [Found("name", *given) for p in range(len(stream.text) - 2)
            if _surname(stream.text, p) == 2 and _opens_name(stream, p)
            and (given := _clause_end(stream, _full_name(stream, p)))]


GLOSS_WORD = 5  # characters of a word glossing a surname (欧阳修, 周末)


def _surname_glossed(stream: Stream, p: int, given: tuple[int, int]) -> bool:
    """Whether the clause after the full name said from ``p`` glosses its surname by a word holding it, the clause
    ending with the surname (欧阳建华，欧阳修的欧阳; a compound surname is one unit, not two characters)."""
    text, surname = stream.text, stream.text[p:given[0]]
    end = stream.clause_end(given[1], given[1] + GLOSS_WORD + 1 + len(surname))
    gloss = text[given[1]:end]
    return (_ends_clause(stream, end) and gloss.endswith("的" + surname)
            and surname in gloss[:-len(surname) - 1])


# the word saying one of two names is wrong, or which is right (写的是张伟，应该是张玮: a form's name corrected)
TAKEN_BACK = re.compile(r"(?:不|应该)是$")
TAKEN_BACK_AFTER = re.compile(r"[哎啊哦呃]?不(?:是|对)?(?![\u4e00-\u9fff]{0,2}?[吗吧呢])")  # (not 不是吗: a question)
# a name written or said wrong (你们写成周洁了, 刚才说成张伟了): one of the two, ending its clause or before 了
MISTAKEN = re.compile(r"(?:写|说|念|打|记|填)成")


def _corrected(stream: Stream) -> list[Found]:
    """不是王明辉，是王明慧 / 是罗婷，不是罗庭 / 写的是张伟，应该是张玮: two full names of one surname (or one
    given name), one after 不是 or 应该是, each ending its clause: the name and its correction."""
    text = stream.text
    said: dict[str, list[tuple[int, int, bool]]] = {}
    for m in re.finditer("是", text):
        given = _full_name(stream, m.end())
        # (or the other said right after it, in the same breath: 应该是吴静怡不是吴静宜)
        if given and (_ends_clause(stream, given[1]) or text.startswith("不是", given[1])):
            said.setdefault(text[m.end():given[0]], []).append((*given, bool(TAKEN_BACK.search(text, 0, m.end()))))
    for m in MISTAKEN.finditer(text):
        given = _full_name(stream, m.end())
        if given and (_ends_clause(stream, given[1]) or text.startswith("了", given[1])):
            said.setdefault(text[m.end():given[0]], []).append((*given, True))
    # (or each said alone, the first taken back in the clause after it: 李淑贞，哎不是，写错了，李淑珍)
    for p in stream.clause_starts():
        if given := _clause_end(stream, _full_name(stream, p)):
            said.setdefault(text[p:given[0]], []).append((*given, bool(TAKEN_BACK_AFTER.match(text, given[1]))))
    # (or the surname corrected, the given name the same: 不是张磊，是章磊)
    # (or any two, once the name is said to be wrong: 名字写错了，不是王丽，是汪莉; a sound-alike for each character)
    wrong_name = bool(NAME_WRONG.search(text))
    for names in list(said.values()):
        for a, b, wrong in names:
            said.setdefault("=" + text[a:b], []).append((a, b, wrong))
            if wrong_name:
                said.setdefault("名字", []).append((a, b, wrong))
    return [Found("name", a, b) for names in said.values() if len(names) > 1 and any(n[2] for n in names)
            for a, b, _ in names]


NAME_WRONG = re.compile(r"(?:名字|姓名)[^，。？！]{0,8}?(?:写错|打错|弄错|错)")  # 名字第二个字写错了
RENAMED = re.compile(r"应该是|改成|改为")
RENAMED_REACH = 16  # characters from the name said wrong to its correction


def _renamed(stream: Stream) -> list[Found]:
    """The name put right after the caller says the name is wrong (名字第二个字写错了，应该是何思远): a full name
    after 应该是 / 改成 ending its clause, the wrong name itself not said again."""
    text = stream.text
    out: list[Found] = []
    for m in RENAMED.finditer(text):
        given = _clause_end(stream, _full_name(stream, m.end(), named=True))
        if given and NAME_WRONG.search(text, max(0, m.start() - RENAMED_REACH), m.start()):
            out.append(Found("name", *given))
    return out


THIS_NAME = re.compile(r"这个名字|这个姓名|这个人名")


def _this_name(stream: Stream) -> list[Found]:
    """A full name said between pauses, then called a name (查一下郑家豪这个名字; 您查一下 郑家豪 这个名字)."""
    text = stream.text
    out: list[Found] = []
    for m in THIS_NAME.finditer(text):
        for p in range(max(0, m.start() - 4), m.start() - 1):
            given = _full_name(stream, p, named=True)
            if given and given[1] == m.start() and (_paused_before(stream, p) or text[p - 1] in "查搜找"
                                                         or text.startswith("一下", p - 2)):
                out.append(Found("name", *given))
                break
    return out


# (or whose family the caller is, calling for them: 司马国强，我是他儿子)
OWNED = re.compile(rf"(?:(?:就|对)?是我(?:本人)?|我是[他她]的?(?:{KIN}))(?:[。！，？]|$)")


def _owned(stream: Stream) -> list[Found]:
    """A full name in a clause of its own that the next clause owns (黄婷婷，就是我; 是刘洋，是我本人): the caller
    confirming their name."""
    text = stream.text
    out: list[Found] = []
    for p in stream.clause_starts():
        given = _full_name(stream, p)
        if given and given[1] < len(text) and _ends_clause(stream, given[1]) and stream.gaps[given[1] - 1] == GAP_SOFT:
            m = OWNED.match(text, given[1])
            if m and (m.end() == len(text) or _ends_clause(stream, m.end())):
                out.append(Found("name", *given, True))
    return out


ASKED_AFTER = ("吗", "吧", "对吗", "对吧", "是吗")  # 请问您是吴海燕吗: an agent asks whether the caller is someone
ASKED_WHO = ("您是", "请问是")  # (请问是郭振华本人吗: the agent's question with no 您)
# a name then 本人 (是不是赵一鸣本人, 您是李娜本人吗), or what to write (写阿依古丽就行)
# (or with a title: 赵永庆老先生本人; not 王老先生本人, whose 老 is no given name)
HIMSELF = re.compile(r"(?:老先生|老太太|(?<!老)先生|女士)?本人")
WRITE_THEN = re.compile(r"就行|就可以|就好")
# who a caller is at the address (我是业主林婉清): a role between 我是 and the name
HOME_ROLE = re.compile(r"业主|户主|房主|租户|房东")
# the caller's firm or shop before their name (我是宏达五金的…); not a unit of the firm's staff (我是售后的刘建华)
WHERE_FROM = re.compile(r"(?![\u4e00-\u9fff]{0,8}?(?:售后|客服|服务|维修|安装|热线|公司|部|中心|组|站)的)"
                        r"[\u4e00-\u9fff]{2,8}?的")
KIN_AFTER = re.compile(r"的(?:妈妈|爸爸|家长|爱人|老公|老婆|儿子|女儿|家属)")  # 我是唐子涵的妈妈
# a name, then whose it is, ending the clause (次仁卓玛是我妈妈, 蒋国平是我爸; not 王老吉是我爸最爱喝的)
NAME_IS_KIN = re.compile(rf"是我的?(?:{KIN}|同事|朋友|邻居|室友|同学)")
# (where they live may come between: 我楼上邻居马建军)
# (an agent names the caller's family the same way: 您母亲黄桂兰的账户, 您爱人赵丽华)
# (or a third person's, as family calling for them say it: 我是她女儿田丽)
KIN_THEN_NAME = re.compile(rf"[我您你她他](?:楼上|楼下|隔壁|对门|对面)?的?(?:{KIN}|同事|朋友|邻居|室友|同学"
                           r"|嫂子|姐夫|妹夫|表哥|表姐|表弟|表妹|舅妈"
                           # (a parent's siblings and their spouses: 我叔叔…, 我婶子…, 我大伯…, 我姨妈…)
                           r"|叔叔|婶子|婶婶|伯伯|大伯|伯母|姑父|姑妈|姨夫|姨妈"
                           # (a sibling said with one character: 我哥马俊峰, 我姐林芳)
                           r"|哥|姐|弟|妹)")
# whom an invoice is made out to (发票开的是扎西次仁, 抬头开给王建国)
INVOICE_TO = re.compile(r"(?:发票|抬头)(?:开的是|开给)")
INVOICE_TITLE = "抬头"
STOP_NEXT = re.compile(f"[{''.join(sorted(NAME_STOP))}]")  # a spelled name runs up to a word no name has (阿依古丽在家)
# someone by their job, then their full name (安装师傅周永刚把墙打了个洞, 物业的张红梅说, 你们经理黄志强答应过)
# (a building's staff too: 门卫孙大伟帮我代收的)
# (a village's cadres too: 村长, 组长, 队长, 支书)
ROLE_THEN_NAME = re.compile(r"(?:安装|维修|售后|送货)?师傅|门卫|保安|保洁|快递员|快递小哥|经理|主管|销售|业务员|客服"
                            r"|村长|组长|队长|支书"
                            r"|老板"  # the caller's employer (我们老板，黄德林; 我老板高峰说的)
                            r"|物业的|办公室的"
                            r"|前台的|店长|工程师|司机|网格员|邻居|隔壁的")
# a clause saying whose name the clause before was (马德顺，这是老爷子的名字; 就是我母亲的全名)
NAME_THEN_SAID = re.compile(r"[这那]?就?是[\u4e00-\u9fff]{0,6}?的?(?:名字|全名|姓名)")
# ... or how long the name is (司马南，对，名字就一个字; 王丽，两个字)
LENGTH_THEN_SAID = re.compile(r"(?:对|是的|没错)?(?:名字|全名|姓名)?(?:就|是|只有|一共)*[一两二三四]个字")
# a relation before a full name and its title (邻居周秀珍阿姨, 同事李国强先生)
RELATION_BEFORE = re.compile(rf"(?:{KIN}|邻居|同事|朋友|同学|室友)$")
# what such a person does next: a name runs up to one of these, the rest of a would-be name is not its
PERSON_NEXT = set("说把答应跟和给让也就都还签来去打讲告叫帮办")
# what family named for an errand do next (我妹妹王芳会去取, 我婶子刘梅代收): after a relation only, since after a job
# they read as a verb's (师傅安装完会…); or what was done in their name (我儿子刘子轩注册的, 我爱人王芳登记的)
KIN_NEXT = PERSON_NEXT | set("会代注登")
KIN_ASIDE = set("吧啊呀")  # a particle closing the relation's clause, the name in the next (写我儿子吧，马俊杰，)


def _introduced(stream: Stream) -> list[Found]:
    """我是吴晓燕，… (or 我是马|俊峰): a full name right after 我是 that ends its clause; 我是江苏的 and
    我是马上要出门 go on past the would-be name, 我是王先生 gives a title, not a name. Someone to ask for the same
    way: 到了找王建国，他是电工 (找周围的人 goes on, 找李经理 gives a title); and someone an agent asks the caller
    to be (请问您是吴海燕吗, 请问是郭振华本人吗; not 您是江苏的吗)."""
    out: list[Found] = []
    for m in re.finditer("我是|我系|找|您是|请问是", stream.text):
        role = HOME_ROLE.match(stream.text, m.end()) if m.group() == "我是" else None
        given = _name_after(stream, role.end() if role else m.end(), then=KIN_AFTER)
        firm = WHERE_FROM.match(stream.text, m.end()) if m.group() == "我是" and not given else None
        if firm and (named := _clause_end(stream, _full_name(stream, firm.end()))):
            out.append(Found("name", *named, True))  # 我是宏达五金的周建平: where the caller is from, then the name
        # (and the caller's own name in the clause after whose child they are: 我是孙小梅的女儿，孙悦)
        kin = KIN_AFTER.match(stream.text, given[1]) if given else None
        own = _clause_end(stream, _full_name(stream, kin.end())) if kin and _ends_clause(stream, kin.end()) else None
        if own:
            out.append(Found("name", *own, True))
        if given and (_ends_clause(stream, given[1]) or KIN_AFTER.match(stream.text, given[1])
                      or (role is not None and stream.text[given[1]] in NAME_STOP)
                      # (or whom to ask for, then that it will do: 师傅上门找马丽就行，是我妈)
                      or (m.group() == "找" and (stream.text.startswith(TITLES, given[1])
                                                 or WRITE_THEN.match(stream.text, given[1])))
                      or (m.group() in ASKED_WHO and stream.text.startswith(ASKED_AFTER, given[1]))):
            out.append(Found("name", *given, m.group().startswith("我")))
    for m in re.finditer("是不是|您是|请问是|写", stream.text):
        # (or on an invoice, its title: 抬头写欧阳明轩就行, a person's name, as a firm's runs on to 公司)
        if m.group() == "写" and not (stream.opens_clause(m.start()) or stream.text[m.start() - 1] in "就只"
                                      or stream.text.endswith(INVOICE_TITLE, 0, m.start())):
            continue  # 验证消息写海尔斯就行: what to write in a message, not a name to write on a parcel
        then = WRITE_THEN if m.group() == "写" else HIMSELF
        given = _name_after(stream, m.end(), named=True, then=then)
        if given and then.match(stream.text, given[1]):
            out.append(Found("name", *given))
    # (a person's, when the name ends its clause: not 发票开的是华为公司, a firm's)
    for m in INVOICE_TO.finditer(stream.text):
        if given := _clause_end(stream, _name_after(stream, m.end(), named=True)):
            out.append(Found("name", *given))
    starts = stream.clause_starts()
    for p in starts:
        given = _name_after(stream, p, then=NAME_IS_KIN)
        kin = NAME_IS_KIN.match(stream.text, given[1]) if given else None
        if given and kin and _ends_clause(stream, kin.end()):
            out.append(Found("name", *given))
    for p in starts:
        given = _clause_end(stream, _full_name(stream, p))
        said = (NAME_THEN_SAID.match(stream.text, given[1]) or LENGTH_THEN_SAID.match(stream.text, given[1])
                if given else None)
        if given and said and _ends_clause(stream, said.end()):
            out.append(Found("name", *given))
    # family or a colleague, then the name (我儿子黄子轩，今年上初三; 我同事欧阳靖也碰到过), ending its clause or
    # before a word that cannot be a name's (也, 就, 在)
    for m in KIN_THEN_NAME.finditer(stream.text):
        if _sibling_alone(stream, m):
            continue
        aside = m.end() < len(stream.text) and stream.text[m.end()] in KIN_ASIDE and _ends_clause(stream, m.end() + 1)
        given = _name_after(stream, m.end() + aside, then=STOP_NEXT)
        # (or runs into what is done for them: 给您母亲刘桂兰办理挂失; not after the aside, a clause of its own)
        if given and (_ends_clause(stream, given[1]) or (not aside and stream.text[given[1]] in NAME_STOP | KIN_NEXT)):
            out.append(Found("name", *given))
    for m in ROLE_THEN_NAME.finditer(stream.text):
        clause = m.start()
        while clause > 0 and not stream.opens_clause(clause):
            clause -= 1
        # (to the role's end: 我老板 is no staff; nor is 我是海鲜排档的老板刘德明, a caller owning a business)
        if m.group() != "老板" and re.search("我(?!们|的?老板)", stream.text[clause:m.end()]):
            continue  # 我是客服刘雨欣, 我是投诉处理组主管张敏: staff giving their own, public name
        given = _role_named(stream, m.end())
        out += [Found("name", *given)] if given else []
    return out


def _sibling_alone(stream: Stream, m: re.Match[str]) -> bool:
    """Whether a sibling said with one character (我哥) ends its clause: 我哥马俊峰 names him; after 我哥， the
    next clause may say anything (unlike 我哥哥，… or 我表哥，…, which name someone to come)."""
    word = m.group()
    return len(word) >= 2 and word[-1] in "哥姐弟妹" and word[-2] in "我您你她他的" and not stream.joined(m.end() - 1)


def _answered(stream: Stream) -> list[Found]:
    """A security question's answer when the question asks for a name (母亲的名字，答案是赵桂兰): a full name."""
    out: list[Found] = []
    for a, b, name in security_answers(stream):
        given = _full_name(stream, a, named=True) if name else None
        if given and given[1] <= b:
            out.append(Found("name", *given))
    return out


def _kept_by(stream: Stream) -> list[Found]:
    """Someone named as the place a thing is (…在楼下的林志伟那儿, WHERE_SOMEONE): a surname and two characters of
    given name, ending right before 那儿 / 那里 / 那边."""
    text = stream.text
    out: list[Found] = []
    for m in WHERE_SOMEONE.finditer(text):
        given = _full_name(stream, m.end())
        if given and given[1] - given[0] == 2 and text.startswith(("那儿", "那里", "那边"), given[1]):
            out.append(Found("name", *given))
    return out


THERE = ("那儿", "那里", "那边")  # a thing kept with someone: 钥匙在门卫李强那儿


def _role_named(stream: Stream, p: int) -> tuple[int, int] | None:
    """The given name of a full name from ``p`` after a job (快递员马俊说…: 俊, not 俊说) that ends its clause
    or runs into what the person did (PERSON_NEXT); 师傅马上到 and 师傅安排好了 name no one."""
    given = _full_name(stream, p)
    if given is None or stream.text.startswith(TITLES, given[0]):
        return None
    for end in range(given[1], given[0], -1):
        if (end == given[1] and _ends_clause(stream, end)) or stream.text[end] in PERSON_NEXT or (
                end == given[1] and stream.text.startswith(THERE, end)):
            return given[0], end
    return None


def _unlisted(stream: Stream, p: int, then: re.Pattern[str] | None = None) -> tuple[int, int] | None:
    """A name with no common surname said whole (阿依古丽, 扎西顿珠, 买买提·艾力): three to ten
    characters from ``p`` that all spell sounds (TRANSLITERATION), ending their clause (or followed by
    ``then``: 次仁卓玛是我妈妈), hidden whole: with no surname to keep, each character is the person's own.
    The spelling characters keep 我叫车过去修
    and 我是客服专员 from being read as names."""
    text = stream.text
    end = p
    while end < len(text) and end - p < UNLISTED_MAX:
        word = next((w for w in TRANSLITERATION_WORDS if text.startswith(w, end)), text[end])
        if not all(ch in TRANSLITERATION for ch in word) and word not in TRANSLITERATION_WORDS:
            break
        if not stream.in_one_clause(end, end + len(word)):
            break
        end += len(word)
        if not stream.joined(end - 1) or stream.spaced(end - 1):
            break  # (a space: the pause a recogniser writes after the name, 我叫阿依古丽 阿姨的阿)
    if end - p < 3 or not (_paused_before(stream, end) or (then is not None and then.match(text, end))):
        return None
    return p, end


def _name_after(stream: Stream, p: int, named: bool = False,
                then: re.Pattern[str] | None = None) -> tuple[int, int] | None:
    """The given name's span of a name said from ``p``: a common surname's or a spelled one, the longer."""
    return _longer(_full_name(stream, p, named), _unlisted(stream, p, then))


def _longer(name: tuple[int, int] | None, unlisted: tuple[int, int] | None) -> tuple[int, int] | None:
    """Of a common surname's name and a spelled one from the same place (古 of 古丽娜尔·吐尔逊 is a
    surname too), the one running longer."""
    if name is None or (unlisted is not None and unlisted[1] > name[1]):
        return unlisted
    return name


def _full_name_at(stream: Stream, p: int, named: bool = False) -> int:
    """Characters of given name after a surname starting at ``p`` (0 when none, or a word; ``named``:
    the speaker said a name follows, so 名字是高兴 is one)."""
    s = _surname(stream.text, p)
    if not s or not stream.joined(p + s - 1) or (not named and stream.text.startswith(NOT_NAMES, p)):
        return 0
    return _given(stream, p + s)


def _full_name(stream: Stream, p: int, named: bool = False) -> tuple[int, int] | None:
    """The given name's span (start, end) of a full name whose surname starts at ``p``, if any; once words said a
    name follows (``named``), past a hesitation after the surname (_past_hesitation)."""
    g = _full_name_at(stream, p, named)
    start = p + _surname(stream.text, p)
    if not g and named and start > p and (resumed := _past_hesitation(stream, start)) > start:
        start, g = resumed, _given(stream, resumed)
    if not g:
        return None
    end = start + g
    if end < len(stream.text) and stream.joined(end - 1) and stream.text[end] in PLACE_AFTER:
        return None  # a place named like a person: 填的是张家口市, 马鞍山路
    return start, end


def _past_hesitation(stream: Stream, q: int) -> int:
    """Where a given name goes on after a hesitation said at a pause right after its surname (联系人是吴|呃嘉怡: at
    嘉), the caller stopping inside a name a word said follows; ``q`` itself when none stands there."""
    r = q
    while r < len(stream.text) and stream.text[r] in FILLERS:
        r += 1
    return r if q < r < len(stream.text) and stream.opens_clause(q) else q


def _ends_clause(stream: Stream, i: int) -> bool:
    """Whether a name ending before character ``i`` ends its clause (or the segment, or the text)."""
    return i == len(stream.text) or stream.opens_clause(i)


def _clause_end(stream: Stream, given: tuple[int, int] | None) -> tuple[int, int] | None:
    """``given`` (a given name's span) when the name ends its clause, else None."""
    return given if given and _ends_clause(stream, given[1]) else None


def _name_ending_at(stream: Stream, e: int, after: set[str], related: bool = False) -> tuple[int, int] | None:
    """The full name (surname, given name of 1-2) ending at ``e`` that starts a clause or follows
    one of ``after`` (or, ``related``, a word for a relation: 邻居周秀珍阿姨): (surname start, given-name start),
    longest first."""
    text = stream.text
    for g in (2, 1):
        for s in (2, 1):
            p = e - g - s
            if p < 0 or _surname(text, p) != s or _full_name_at(stream, p) < g:
                continue
            if (p == 0 or not stream.joined(p - 1) or text[p - 1] in after
                    or (related and RELATION_BEFORE.search(text, 0, p))):
                return p, p + s
    return None


def _titled_names(stream: Stream) -> list[Found]:
    """张丽华女士, 给李国强先生: a surname, a given name and a title (not 王先生, which hides nothing)."""
    out: list[Found] = []
    for title in FULL_NAME_TITLES:
        for m in re.finditer(title, stream.text):
            name = _name_ending_at(stream, m.start(), FULL_NAME_AFTER, related=True)
            if name:
                out.append(Found("name", name[1], m.start()))
            # the full name, then its surname and the title (是林佳怡林女士吧)
            for k in (1, 2):
                p = m.start() - k
                name = _name_ending_at(stream, p, FULL_NAME_AFTER) if p > 0 and _surname(stream.text, p) == k else None
                if name and stream.text[name[0] : name[1]] == stream.text[p : m.start()]:
                    out.append(Found("name", name[1], p))
            out += _unlisted_titled(stream, m)
    for m in re.finditer("|".join(ADDRESSED_TITLES), stream.text):
        name = _name_ending_at(stream, m.start(), set("的好"))
        opens = name is not None and (name[0] == 0 or not stream.joined(name[0] - 1))
        if name and (GREETED.search(stream.text, 0, name[0]) or (opens and _ends_clause(stream, m.end()))):
            out.append(Found("name", name[1], m.start()))
    return out


def _unlisted_titled(stream: Stream, title: re.Match[str]) -> list[Found]:
    """A name with no common surname right before a title (买买提·艾力先生您好), opening its clause or after a word
    that starts a new phrase (FULL_NAME_AFTER): hidden whole, as _unlisted takes it."""
    text = stream.text
    start = stream.clause_start(title.start())
    starts = [start, *(k + 1 for k in range(start, title.start()) if text[k] in FULL_NAME_AFTER)]
    then = re.compile(re.escape(title.group()))
    for p in starts:
        name = _unlisted(stream, p, then)
        if name and name[1] == title.start():
            return [Found("name", *name)]
    return []


def _recipients(stream: Stream) -> list[Found]:
    """…体育西路88号，刘振宇收: a full name before a clause-ending 收, after an address."""
    text = stream.text
    out: list[Found] = []
    for m in re.finditer("收", text):
        e = m.start()
        if m.end() < len(text) and stream.joined(e):
            continue  # 收 must end its clause (收到, 收费 are verbs)
        if not ADDRESS_TRIGGERS.search(text, max(0, e - RECIPIENT_REACH), e):
            continue
        name = _name_ending_at(stream, e, set())
        if name:
            out.append(Found("name", name[1], e))
    return out


def _first_person(text: str, start: int, end: int) -> bool:
    """Whether the trigger at ``text[start:end]`` introduces the speaker's own name: 我 in it (我叫),
    or 我 the last person named just before it (我的名字是; not 您的名字是张伟对吗, an agent reading
    back the caller's name)."""
    if "我" in text[start:end]:
        return True
    before = [ch for ch in text[max(0, start - OWN_WINDOW):start] if ch in "我您你"]
    return bool(before) and before[-1] == "我"
