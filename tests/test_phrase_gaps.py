"""Phrases with a gap (settings/gaps.py) and conditions (a rule's ``not_after``) in the text rules.

The sentences are held-out wordings of breaches and polite lines that the literal phrase lists missed
or flagged (session 19's blind set): agents put adverbs inside a phrase, and a condition is not a
refusal.
"""

from __future__ import annotations

import pytest
from qa_calls import config

from qa.matcher import Matcher
from qa.rules import CallContext, Utterance, closing_finding, opening_finding
from qa.scan import matcher_for, scan_text
from settings import PhraseRule, bare, gap_problem, spelled_out
from transcribe.lines import opening_parts
from transcribe.spotting import agent_phrases, said_wordings

CFG = config()


def rules(text: str) -> list[str]:
    return [h.rule for h in scan_text(CFG, text, "agent")]


def opening_flagged(said: str) -> bool:
    """Whether ``said`` as the agent's first line, at the answer, draws the opening's flag."""
    context = CallContext(agent_answer_s=0.0, reached_agent=True)
    utterances = [Utterance(0, "agent", 0.0, 3.0, said)]
    return opening_finding(CFG, utterances, 0.0, context, (), matcher_for(CFG)) is not None


def closing_flagged(said: str) -> bool:
    """Whether ``said`` as the agent's last line draws the closing's flag."""
    return closing_finding(CFG, [Utterance(0, "agent", 0.0, 3.0, said)], matcher_for(CFG)) is not None


def test_a_gap_is_empty_or_holds_one_or_two_gap_words() -> None:
    words = ("真的", "也")
    assert spelled_out("我…不能", words) == (
        "我不能",
        "我真的不能",
        "我也不能",
        "我真的真的不能",
        "我真的也不能",
        "我也真的不能",
        "我也也不能",
    )
    assert spelled_out("我们……很忙", words)[0] == "我们很忙"  # the Chinese ellipsis (two …) is one gap
    assert spelled_out("不过", words) == ("不过",)
    assert bare("这…不是我们的责任") == "这不是我们的责任"


@pytest.mark.parametrize("phrase", ["…不能", "我不能…", "我…不…能…了"])
def test_a_gap_at_either_end_or_too_many_gaps_is_a_config_error(phrase: str) -> None:
    assert gap_problem(phrase)
    with pytest.raises(ValueError, match="gap"):
        PhraseRule(id="r", category="forbidden", severity="low", phrases=[phrase], source="t")


def test_only_a_variant_or_an_allowed_wording_may_be_anchored_to_its_clause() -> None:
    PhraseRule(id="r", category="forbidden", severity="low", phrases=["不过"], variants=["。不成。"],
               allow=["不过期。"], source="t")
    for fields in ({"phrases": ["不过。"]}, {"phrases": ["不过"], "allow": ["不过。期"]},
                   {"phrases": ["不过"], "variants": ["不。成"]}):
        with pytest.raises(ValueError, match="。 may only start or end a variant or an allowed wording"):
            PhraseRule(id="r", category="forbidden", severity="low", source="t", **fields)


def test_a_wording_anchored_to_its_clause_holds_only_there() -> None:
    rule = PhraseRule(id="r", category="forbidden", severity="low", phrases=["我不能"], variants=["不成。", "。等着"],
                      allow=["成不成。"], source="t")
    matcher = Matcher([rule])
    for flagged in ("这样可不成，您换一个吧。", "修不成", "不成！", "等着，我给您查。", "好，等着吧"):
        assert matcher.find(flagged), flagged
    for clean in ("这个不成问题。", "安装不成功的话再打来。", "您这样成不成？", "您就等着收货吧。", "我等着您的消息。"):
        assert not matcher.find(clean), clean


@pytest.mark.parametrize(
    "text,rule",
    [
        ("可以给您换，不过来回运费得您自己承担。", "forbidden.but"),  # 不过 + 来回, not 忙不过来
        ("不过去年买的也在保修期内。", "forbidden.but"),
        ("我真的不能帮您加急，系统不支持。", "forbidden.negative-language"),
        ("我恐怕不能答应您。", "forbidden.negative-language"),
        ("延保这块我们确实没办法给您办。", "forbidden.negative-language"),
        ("我们这里办不了这个。", "forbidden.negative-language"),
        ("咱们这儿是给不了您免费安装的。", "forbidden.negative-language"),
        ("我们这两天实在是太忙了，顾不上您这单。", "forbidden.bad-answers"),
        ("这个你去问一下别的部门吧。", "forbidden.bad-answers"),
        ("说实话不是我们这边的责任。", "forbidden.shifting-blame"),
        ("这个归安装公司管，跟我们没关系。", "forbidden.shifting-blame"),
        ("我看您还是不明白我的意思。", "forbidden.doubting-caller"),
        ("这个我也不太能确定。", "forbidden.uncertain"),
        ("你们别再打过来了。", "forbidden.rude"),
        ("退款估计三五天，说不好。", "vague.ambiguous"),
        ("嗯我们这边呢不可以帮您改地址。", "forbidden.negative-language"),  # a filler in the gap
        ("我们这边是真的处理不了。", "forbidden.negative-language"),
        ("先生，您不能这样对我大喊大叫。", "forbidden.shifting-blame"),
        ("这个系统我不会，您去问问售后那边吧。", "forbidden.bad-answers"),
        ("这不是我们的问题，您找厂家吧。", "forbidden.shifting-blame"),
        ("不过期限是七天，您抓紧办。", "forbidden.but"),  # 不过期。 holds only at a clause's end
        ("我看您还是没理解，那我再给您说一遍。", "forbidden.doubting-caller"),
        ("配件到货时间，说实话我现在也不敢打包票。", "forbidden.uncertain"),
        ("这事儿咱这边实在是做不了，系统锁死了。", "forbidden.negative-language"),
        ("我们这边今晚非常忙，您明天再打吧。", "forbidden.bad-answers"),
        ("不清楚，你去问下其他部门吧。", "forbidden.bad-answers"),
        # blind sets s21_1-3 (session 21), measured before these wordings were added
        ("除非您能拿出购机发票，否则没办法给您安排上门。", "forbidden.negative-language"),
        ("师傅的私人手机号不能给您。", "forbidden.negative-language"),
        ("这个后台我不会操作，您稍等。", "forbidden.negative-language"),
        ("师傅放您鸽子是他个人的事，跟我们客服没关系。", "forbidden.shifting-blame"),
        ("发票开错了是财务那边弄的，我们客服不背这个锅。", "forbidden.shifting-blame"),
        ("您真的是机主本人吗？听着不太像啊。", "forbidden.doubting-caller"),
        ("您说师傅没来，可系统显示已经签到了，您是不是记错了？", "forbidden.doubting-caller"),
        ("你先等着，别挂，别老催。", "forbidden.rude"),
        ("这我不清楚 你找别的部门问问去吧", "forbidden.bad-answers"),
        ("您好，请问有什么可以帮您？我们今儿非常忙，您捡要紧的说。", "forbidden.bad-answers"),
        # blind sets s21_4-6: formal register, ASR-style turns, technical support
        ("鉴于现行政策，此项额外补偿我这边无法予以办理，敬请谅解。", "forbidden.negative-language"),
        ("恕我无法确定审批何时能够完成。", "forbidden.uncertain"),
        ("鉴于该故障系第三方安装所致，此事不属于我司责任范畴。", "forbidden.shifting-blame"),
        ("您反映的延误应由物流公司负责，与我方无关。", "forbidden.shifting-blame"),
        ("如果您不接受这个方案，以后也别再来电了。", "forbidden.rude"),  # the condition is its own clause
        ("恐怕您没有理解我刚才所说的政策。", "forbidden.doubting-caller"),
        ("嗯今天话务量特别大我们都忙死了，您长话短说", "forbidden.bad-answers"),
        ("您确定您真按了五秒？我看您根本就没按。", "forbidden.doubting-caller"),
        ("我说了这么多 你是不是还没听懂", "forbidden.doubting-caller"),
        # blind sets s21_7-9: trainees, regional Mandarin, safety calls
        ("现在电话量太大了我们忙不过来", "forbidden.bad-answers"),
        ("這不是我應該處理的範圍啦。", "forbidden.negative-language"),
        ("这个你要自己打电话给原厂喔。", "forbidden.shifting-blame"),
        ("我最不喜欢你这种客人了，每次都在吵。", "forbidden.rude"),
        ("这个你去问卖给你的那家店啦。", "forbidden.bad-answers"),
        ("机器是好的啦，是你不会用。", "forbidden.shifting-blame"),
        ("你听明白没有？拔电源！", "forbidden.doubting-caller"),
        ("这是你们自己把密码改错了，别怪我们。", "forbidden.shifting-blame"),
        ("孩子锁在里面这种事我们不会处理，你找开锁公司吧。", "forbidden.negative-language"),
        ("您这个问题大概率是电源板，师傅到了再确认。", "vague.ambiguous"),  # a guess, not a statistic
        # blind sets s21_10-12: delivery through third parties, callers who struggle, upselling
        ("问题是那个安装师傅是外包的，我们也管不了他。", "forbidden.negative-language"),
        ("这个是快递公司的责任 你去找他们", "forbidden.shifting-blame"),
        ("我们这两天单子太多，忙不过来，您过几天再打。", "forbidden.bad-answers"),
        ("您确定送来的时候就是坏的？不会是您自己搬的时候碰的吧？", "forbidden.shifting-blame"),
        ("行了，您就等着物流给您打电话吧。", "forbidden.rude"),
        ("我不会教你用电脑的，这不归我管。", "forbidden.negative-language"),
        ("是你自己按错了，跟我们系统没关系。", "forbidden.shifting-blame"),
        ("你怎么还听不懂啊？", "forbidden.doubting-caller"),
        ("您不升级的话，这个服务我们是不会做的。", "forbidden.negative-language"),
        ("最烦你这种问半天又不买的。", "forbidden.rude"),
        ("催什么催你等着吧", "forbidden.rude"),  # 催 before it: no condition, unlike 催师傅快点
        # blind sets s22_1-6: follow-up calls, warranty disputes, a night shift, app slang, angry callers,
        # promotions (session 22), measured before these wordings were added
        ("这个我们弄不了 你那个型号太老了", "forbidden.negative-language"),
        ("换机这个我不会给您申请的。", "forbidden.negative-language"),
        ("经理我是不会给您转的，有什么事跟我说。", "forbidden.negative-language"),
        ("目前还不能肯定是不是雷击损坏的，我们先安排检测。", "forbidden.uncertain"),
        ("嗯 我也不敢确定 您明天再看看", "forbidden.uncertain"),
        ("亲你找错部门啦，我们是app这边的", "forbidden.shifting-blame"),
        ("是你自己把设备删了的，不关我们事", "forbidden.shifting-blame"),
        ("肯定是您自己拆过机器，封条都破了。", "forbidden.shifting-blame"),
        ("问题是你们小区那个服务站 配件早卖完了", "forbidden.shifting-blame"),
        ("这个您得去找卖给您的经销商。", "forbidden.shifting-blame"),
        ("这是您自己安装不当造成的，我们不负责。", "forbidden.shifting-blame"),
        ("行了，以后这种小事别再打电话来了", "forbidden.rude"),
        ("这点积分您下次别再为它打过来了。", "forbidden.rude"),
        ("您要是不满意，以后别再买我们的东西了。", "forbidden.rude"),
        ("像你这种用户真的很难搞", "forbidden.rude"),
        ("您不知道我们的流程，就别乱说。", "forbidden.rude"),
        ("我们今天超忙的，长话短说哈", "forbidden.bad-answers"),
        ("您是不是没明白我的意思？", "forbidden.doubting-caller"),
        ("您是不是不信我啊", "forbidden.doubting-caller"),
        # blind sets s22_7-16: corporate clients, holds, regional Mandarin, rescheduling, payments, EV chargers,
        # trainees, ASR-style turns, kitchen appliances
        ("我认为贵司应该先自查一下配电线路再来报修。", "forbidden.shifting-blame"),
        ("这个事儿我这边整不了", "forbidden.negative-language"),
        ("这个不得行哈", "forbidden.refusal"),
        ("我们这贼忙，没空一个个给您查", "forbidden.bad-answers"),
        ("上次改期是因为您家里没人开门，这得怪您自己。", "forbidden.shifting-blame"),
        ("这个我们做不了，退款是银行的事。", "forbidden.shifting-blame"),
        ("你不能对我这样大喊大叫的", "forbidden.shifting-blame"),
        ("像你这种天天打来投诉的人，我们真不喜欢。", "forbidden.rude"),
        ("这事得你自己跑供电局，我们管不着。", "forbidden.negative-language"),
        ("估摸着下礼拜能到", "vague.ambiguous"),
        # blind sets s22_17-18, measured untouched at cafadaf
        ("师傅明天会去，不过几点我这边定不了。", "forbidden.but"),  # 不过几 is "no more than a few" only before a unit
        ("您肯定是记错了，我们从来没这么说过。", "forbidden.doubting-caller"),
        ("我说的够慢了，您怎么还跟不上。", "forbidden.doubting-caller"),
        ("我这边太忙了，您让您女儿直接发短信吧。", "forbidden.bad-answers"),
        # blind sets s23_1-4, measured untouched at 2714458
        ("这个问题您去问问别的部门吧。", "forbidden.bad-answers"),  # 题您去问 sounds like the allowed 替您去问
        ("我们理解您的心情，不过七天无理由退货只适用于签收后七天内。", "forbidden.but"),
        ("您一定是不信我，才又打过来问一遍", "forbidden.doubting-caller"),
        ("屏幕哪会自己裂啊，您是不是摔过又不好意思说？", "forbidden.doubting-caller"),
        ("我说得很清楚了，你怎么还是不明白呢", "forbidden.doubting-caller"),
        ("像您这种天天打来闹退款的，我们见多了。", "forbidden.rude"),
        # s23_5-7: Cantonese and northern speech read through qa.regional_words, and plain wordings
        ("呢个唔係我嘅错，你闹我都冇用", "forbidden.rude"),
        ("以后这种事儿甭往我们这儿打了。", "forbidden.rude"),
        ("我哋而家好忙㗎", "forbidden.bad-answers"),
        ("问题是您自己装的时候没按说明书来。", "forbidden.shifting-blame"),
        ("修一次就够了，别再打电话过来了。", "forbidden.rude"),
        # s24_1-3: Taiwan Mandarin in Traditional characters, southwestern speech, long plain turns
        ("這個我們沒有辦法耶，您要自己打給物流", "forbidden.negative-language"),
        ("您說的那個型號我不知道耶。", "forbidden.refusal"),  # the caller's words said back end at 我
        ("是您自己安裝錯誤的，這個要您自己負責。", "forbidden.shifting-blame"),
        ("今天客服很忙齁，妳的問題改天再說。", "forbidden.bad-answers"),
        ("你就等到起嘛，催也莫得用。", "forbidden.rude"),
        ("帐单退费这个事情，我怕是整不了哦。", "forbidden.negative-language"),
        ("以后莫再打过来了哈。", "forbidden.rude"),
        ("问题是代理点给您办错了套餐，跟我们总部没有关系。", "forbidden.shifting-blame"),
        ("你连自己办的什么套餐都搞不清楚，我跟你说再多也没用。", "forbidden.rude"),
        ("卡片背面末三碼也要跟我講一下喔。", "pii.asks-secret"),
        # s24_6-7: English words in Mandarin, sarcasm in complaints
        ("你把短信里那个code念一下 我这边verify", "pii.asks-secret"),
        ("我说了这么多遍 你到底听懂了没有", "forbidden.doubting-caller"),
        ("您爱投诉就投诉吧，我这边该说的都说了", "forbidden.rude"),
        ("行行行，您高兴就好", "forbidden.rude"),
        ("我们已经仁至义尽了，您还想怎么样", "forbidden.rude"),
        ("这种事我不会去帮您催的", "forbidden.negative-language"),
        ("我也不知道您的钱去哪里了。", "forbidden.refusal"),  # a statement, not the polite 不知道您的…？ (s24_5)
        # s25_1-4: formal refusals; Shaanxi and Gansu speech (额 for 我); rhetorical questions; peak season
        ("此类改装机器，我司一概不予维修。", "forbidden.negative-language"),
        ("关于内部处理细节，恕无可奉告。", "forbidden.refusal"),
        ("经核查，此问题系服务网点操作失误所致，与本公司无关。", "forbidden.shifting-blame"),
        ("鉴于此故障系您使用不当所致，恕不予保修。", "forbidden.shifting-blame"),
        ("此事并非本人过错，请您知悉。", "forbidden.rude"),
        ("请勿再拨打本热线。", "forbidden.rude"),  # 请勿 is 请不要, where the Wu 勿 alone is 不
        ("本中心事务繁忙，无暇逐一解答。", "forbidden.bad-answers"),
        ("恐怕您并未理解我刚才的说明。", "forbidden.doubting-caller"),
        ("能否补偿，需视具体情况而定。", "vague.ambiguous"),
        ("请告知您收到的六位短信验证码。", "pii.asks-secret"),
        ("额想额是搞不了咯", "forbidden.negative-language"),
        ("额们这两天非常忙 你过几天再打", "forbidden.bad-answers"),
        ("你问别个部门去", "forbidden.bad-answers"),
        ("额就不喜欢你这号人", "forbidden.rude"),
        ("谁让您当时不买延保呢，现在过保了只能自费", "forbidden.shifting-blame"),
        ("难道您连说明书都没看过吗？", "forbidden.doubting-caller"),
        ("麻烦您长话短说，现在排队的客户很多", "forbidden.rude"),
        ("嫌慢就别在我们家买了", "forbidden.rude"),
        # s25_6-8: finance-speak, Jiangxi and Guangxi speech, internet slang
        ("把押金退到别人的卡上，这个我不会给您办的。", "forbidden.negative-language"),
        ("是你自己用错咯，跟我们产品冇得关系", "forbidden.shifting-blame"),
        ("跟你讲了三遍咯你啷个还不懂", "forbidden.doubting-caller"),  # 啷个 is 怎么, 咯 is 了
        ("我真的服了，同一个问题你问三遍了", "forbidden.rude"),
        ("宝你找错地方啦，订单的事别找我们售后", "forbidden.shifting-blame"),
        # s25_10-11: brush-offs dressed as courtesy, talking down to the elderly and children
        ("行行行，给您登记了，这下满意了吧。", "forbidden.rude"),
        ("老人家您听好了，这个按钮是开机键，别再按错了", "forbidden.rude"),
        ("跟您说了您也记不住，您拿笔写下来吧", "forbidden.doubting-caller"),
        ("您该不会是记错了吧，您父亲根本没在我们这买过", "forbidden.doubting-caller"),
        ("这个责任不在我们，是快递公司运输途中摔坏的。", "forbidden.shifting-blame"),  # call set21, as the ASR wrote it
        # s26_1-6: northern and northwestern speech, reported speech, abusive callers, openings and closings
        ("这个问题俺也知不到", "forbidden.refusal"),  # 知不道 / 知不到 are 不知道
        ("快些说 你到底要弄啥", "forbidden.rude"),  # 快些 is 快点
        ("不沾 这个活动你赶不上了", "forbidden.refusal"),  # Shandong 不沾 is 不行
        ("短信码子给我说一哈撒", "pii.asks-secret"),  # 码子 is 码, 一哈 is 一下
        ("卡背后那三位数字说一下", "pii.asks-secret"),
        ("师傅说这种老机器他不会修，您还是换台新的吧。", "forbidden.negative-language"),
        ("您不知道吧，我同事早就给您发过短信了。", "forbidden.rude"),
        ("你再骂一句试试，我马上挂", "forbidden.rude"),
        ("问题是安装师傅没按说明书装", "forbidden.shifting-blame"),
        ("这种改装件的损失我不会给您报的。", "forbidden.negative-language"),
        ("你是不是压根没弄明白 俺再说最后一遍", "forbidden.doubting-caller"),
        ("您把手机上收到的那个码报给我一下", "pii.asks-secret"),  # a code named by where it came alone
        # s27_1-6: northern and Wu speech, vague estimates, policy-framed refusals, cold politeness
        ("俺们这嘎达做不了上门安装", "forbidden.negative-language"),  # 这嘎达 is 这边
        ("阿拉搿面没办法拨侬换新机。", "forbidden.negative-language"),  # 搿面 这边, 拨侬 给你
        ("搿个是快递公司弄坏额，勿是阿拉额责任。", "forbidden.shifting-blame"),  # 阿拉额 is 我们的
        ("葛个勿来事，退勿脱哉。", "forbidden.refusal"),
        ("麻烦侬拿手机上收到额验证码读拨我听一下。", "pii.asks-secret"),
        ("我寻思你应该先瞅瞅说明书再打过来", "forbidden.shifting-blame"),  # 我寻思 is 我认为
        ("就这样吧，其他的你找服务站去。", "forbidden.bad-answers"),
        ("这是服务站的问题，你应该去找他们投诉，不是找我们。", "forbidden.shifting-blame"),
        ("换个主板差不多四五百块钱。", "vague.ambiguous"),
        ("审核时间不一定，快的话一天，慢的话一周。", "vague.ambiguous"),
        ("我都说得这么清楚了，您怎么还是没明白呢？", "forbidden.doubting-caller"),
        ("这个问题我刚才已经跟您说过两遍了，您再仔细听一下。", "forbidden.rude"),
        ("您别老是打断我行吗，我话还没说完呢。", "forbidden.rude"),
        ("我们的工程师都很专业，不可能装错的，肯定是您用的方法不对。", "forbidden.shifting-blame"),
        ("您要是早点打过来，也不至于这样。", "forbidden.shifting-blame"),
        ("感谢您的来电，不过滤芯是要另外收费的，再见。", "forbidden.but"),  # 不过 + 滤芯, not 不过滤
        # s27_7-9 and call set24: identity checks, openings and closings, the ASR's near-homophones
        ("您确定真照做了？我看您是没弄明白我刚才说的。", "forbidden.doubting-caller"),
        ("你冲我吼没用，你不能对我这样叫喊。", "forbidden.shifting-blame"),
        ("是上一个接线员没给您登记，所以才拖到现在。", "forbidden.shifting-blame"),
        ("你要挂就挂，挂了也别再打回来。", "forbidden.rude"),
        ("这个嗯这个我们不嫩给您退 退货的", "forbidden.negative-language"),  # 嫩 nen for 能 neng
        ("你明唔明我讲乜嘢啊？", "forbidden.doubting-caller"),  # s27_12-13: trade partners, southern speech
        ("退款要不得，规定冇得退。", "forbidden.refusal"),
        # s28_1-6: money, escalation, troubleshooting, appointments, long turns; s27_11's regional words
        ("配件什么时候到货我也不清楚。", "forbidden.uncertain"),
        ("说实话这个App怎么配网我也搞不懂。", "forbidden.uncertain"),
        ("该试的都试了，我也没别的办法了。", "forbidden.negative-language"),
        ("发票已经开了就改不了，您别再问了。", "forbidden.rude"),
        ("您急也没用，谁的单子不是排着的。", "forbidden.rude"),
        ("你是不是自己记错扣款金额了？", "forbidden.doubting-caller"),
        ("肯定是您操作不当才把电机烧坏的。", "forbidden.shifting-blame"),
        ("莫得法给您改地址了，单子都派出去了。", "forbidden.negative-language"),
        ("阿拉勿好帮侬改价钿个。", "forbidden.negative-language"),
        ("您找错地儿了，送货的事儿不归我们这儿管。", "forbidden.shifting-blame"),  # s28_7-8, s28_10
        ("您是不是压根儿没看说明书啊？", "forbidden.doubting-caller"),
        ("我们这儿忙着呢，您这单回头再说。", "forbidden.bad-answers"),
        ("机器漏水是因为您没按说明书安装，这个不能算质量问题。", "forbidden.shifting-blame"),
        ("这种小事您也专门打电话来投诉啊？", "forbidden.rude"),
        ("谢谢您的来电，反正这事真不是我的错，再见。", "forbidden.rude"),
        ("这种简单的事小孩都会，您怎么就学不会呢？", "forbidden.rude"),  # s28_11 and s28_13
        ("系统里根本没有这个号码，你是不是在瞎编？", "forbidden.doubting-caller"),
        ("说明书上写得清清楚楚，您自己不看能怪谁？", "forbidden.shifting-blame"),
        ("超保了，不修。", "forbidden.refusal"),  # s28_16-17: a tired agent's clipped replies, accounts
        ("会员降级这事没得商量，我们不给恢复。", "forbidden.refusal"),
        ("您确定是在我们这买的？", "forbidden.doubting-caller"),
        # s44_1-8: tired agents, kitchens, the app, regional speech
        ("延保过期了就是过期了，补不了。", "forbidden.refusal"),
        ("亲，这边是真的不清楚哦，要不您再等等看？", "forbidden.uncertain"),
        ("师傅明明说他去过了，您是不是故意说他没来？", "forbidden.doubting-caller"),
        ("那你就慢慢等着，啥时候排到啥时候算。", "forbidden.rude"),
        ("真嘅咩？我唔信一开机就会跳闸喔。", "forbidden.doubting-caller"),  # 唔信 is 不相信
        ("手机上收到个六位数验证码，你全念给我听一下嘛。", "pii.asks-secret"),
        ("改地址？改不了，下了单就这样了。", "forbidden.refusal"),  # a flat refusal opening its clause
        ("我这边只负责登记，后续怎么处理不是我能决定的。", "forbidden.shifting-blame"),
        ("如果您非要投诉的话，那您请便。", "forbidden.rude"),
        ("这种问题您还是问问别的部门吧。", "forbidden.bad-answers"),  # s44_13-16
        ("不至于吧，我们师傅不会那样跟客户说话的。", "forbidden.doubting-caller"),
    ],
)
def test_breaches_with_words_inside_the_phrase_are_flagged(text: str, rule: str) -> None:
    assert rule in rules(text), text


@pytest.mark.parametrize(
    "text",
    [
        "我看看能不能帮您加急。",  # 看看能 is not a gap word: a question, not 我…不能
        "我们能不能先给您换一台？",
        "我们不能让您白跑一趟，我给您安排上门。",  # a promise
        "如果重启之后还是不行，您随时打回来。",  # a condition, not a refusal
        "如果我们没办法按时送到，全额退款。",
        "要是您还是不明白，我再讲一遍。",
        "我会让师傅快点过去，今天下午之前一定到。",  # hurrying the technician for the caller
        "只要不过保修期，上门维修都是免费的。",
        "您这个要求一点都不过分。",
        "这款冰箱放在您家厨房再合适不过了。",
        "您放心，这不过是个小故障。",
        "周末订单多，如果安装师傅排不过来，我会跟您协调别的时间。",
        "可能是我刚才没说清楚，我再给您解释一遍。",  # the apology forbidden.doubting-caller suggests
        "不知道您现在方便吗？",
        "您能不能够提供一下订单号？",
        "这个操作不过两三分钟，我一步一步教您。",  # 不过 before a number: "no more than"
        "您上次认证通不过是因为照片太模糊。",
        "我帮您去问问售后，稍后给您回电。",  # asking for the caller, not sending them
        "不知道我刚才有没有解释清楚，要不我再给您说一遍？",
        "您好，您的通话可能会被录音。",
        "如果不是我们的问题，费用我们也先帮您垫上。",  # a condition
        "是不是我们的问题，我先帮您查一下。",  # asks whether it is
        "您这张延保卡长期有效，不过期，随时都能预约。",
        "您刚才说上午不行，那我给您改到下午三点，可以吗？",  # the caller's words said back
        "您看，情况是这样的，配件明天到。",
        "如果有可能的话，麻烦您拍一下铭牌的照片。",
        "请问您还记得大概是几号下的单吗？",  # asks the caller to estimate
        "您上次反映的问题，不知道现在解决了没有？",
        "积分到账以后，系统会很快点亮您的金卡标识。",
        "滤网是抗菌材料，一般人接触都不过敏。",
        "电源这方面的可能性已经排除了，问题出在主板上。",
        "我们已经排除了人为损坏的可能性，给您换新。",
        "师傅会看看外墙能不能打支架，实在不行也可以装在设备平台上。",  # a fallback, not a refusal
        "您这台热水器的加热管不行了，得换一根。",  # broken, not a refusal
        "费用方面您放心，超不过一百块。",
        "请您尽可能详细地描述一下故障现象。",  # asks the caller
        "您说师傅跟您讲可能是主板坏了，是吧？我给您记上。",  # the caller's words said back
        "我这就催师傅快点出发，十五分钟内给您回电。",  # hurrying someone else for the caller
        "您着急报销的话，我给您加个急，让发票快点儿出。",
        "这次一定修彻底，让这个毛病别再回来找您。",
        "不知道您这边周末有没有人在家 可以的话我给您约周六",  # a polite question, even unpunctuated
        "如果审核不过，系统会发短信告诉您具体原因。",  # fails the review
        "能不能给您加急，我马上帮您申请一下。",
        "如您选择不行使退货权利，我们将为您提供两年延保。",
        "若工程师不能够按约定时间上门，我们将按每天五十元予以补偿。",  # a formal condition
        "我们不会再让类似情况发生，请您监督。",  # 似情况 sounds like 视情况
        "我先看看情况，五分钟后给您回电。",
        "很多用户不知道这个开关藏在二级菜单里，我带您一步步找。",
        "可能的原因有三个：第一是路由器只开了5G频段，第二是设备离路由器太远。",  # a diagnosis
        "错误码E4表示电机温度过高，只要温度不过高，这个码就不会再出现。",
        "远程诊断结果出来了，压缩机不行了需要上门更换，在保修期内费用全免。",
        "那个我们这边的工单都是当天处理不过夜的，您放心",
        "有没有可能麻烦您把发票拍个照发到我们的公众号上",
        "从去年的维修数据看，电源板故障是大概率事件，占七成。",
        "我先跟您讲一下大概的流程：寄回、检测、寄出",
        "想快点修好的心情我特别理解，我给您加急",
        "关好阀门以后请您快点离开厨房，到室外通风的地方再给我们回电。",  # for the caller's safety
        "您描述的这个味道说明可能存在燃气泄漏的风险，请先关阀开窗。",  # a hazard explained
        "地上的水不过脚踝的话，先拔电源再用拖把吸干就可以。",
        "冒烟的话不行就先出门，再拨打119，人身安全最重要。",
        "我帮您去问问售后，您稍等。",
        "这个步骤再简单不过了，我陪您一起做。",
        "您把大概什么时候买的告诉我就行，不用很准确。",
        "为了尽可能说清楚，我一步一步地讲。",
        "这个促销活动不过这周末，周一就恢复原价了。",  # "lasts no longer than"
        "师傅说单元门偏窄，冰箱不能够竖着进，需要侧着搬，您放心不会磕到。",
        "您放心，就算今天师傅忙不过来，我们也会调别的师傅先上门。",  # reassurance, not an excuse
        "非常抱歉让您久等，我马上为您处理。",  # 您久等 sounds like 您就等着
        # held-out calls set16 (session 21), its scripts read as text
        "让您久等了，我马上联系师傅，请他快点上门为您处理。",
        "根据报错代码，是主刷电机不行了，我们会免费为您更换。",
        # blind sets s22_1-6
        "我们会尽可能为您减少费用，能走保修的配件全部走保修。",  # an effort promised, not a hedged time
        "可能的话 您先拍个照片发给我们",
        "大概位置您说一下 哪个小区",
        "我先把这次活动的大概内容跟您说一下，然后再逐条核对您的订单是否符合条件。",
        "漏电的可能已经排除了 您放心",
        "停电来电时的电压波动可能损坏主板，所以我们建议您加装一个稳压器。",
        "我这边快点给您派单 您先别动水",
        "您可以连续快点两下电源键，进入配网模式",
        "摄像头信号要是穿不过承重墙，就会弱一点",
        "不能够让您一直冻着 我马上安排",
        "很多用户都不知道滤网需要定期清洗，我给您简单讲一下",
        "出了这种事您不信任我们也很正常，我们用行动来证明。",
        "不知道贵司方便哪天安排我们的工程师进场？",
        "请问您明天上午九点到十一点方便吗？不知道这个时间合不合适？",
        "刚才线路有点问题，电话一时转不过去，现在已经接通了，让您久等了。",
        "这款手机壳不过5块钱 我直接给您补寄一个",
        "您可能不知道 我们现在有免费清洗的活动",
        "雷雨天气在户外插拔充电枪可能有触电风险，建议等雨停后再操作。",
        "您快点把燃气总阀关掉，开窗通风，然后到室外去。",
        "师傅会带齐所有配件，避免再出现缺件改期的可能。",
        "我会尽可能放慢语速，您哪里没听清随时打断我。",
        "这款座机不能够直接连接助听器，需要加一个转接器，我们免费送您一个。",
        "清洗服务时长不过几分钟，不会耽误您。",
        # blind call set set17's scripts
        "可以的，这款车载冰箱在汽车不行驶时，也能靠内置电池继续制冷。",
        "您放心，会员积分是长期有效的，不过期也不清零，随时能兑换。",
        "我现在就能帮您约，还有个更快点的办法是用小程序一键预约。",
        "周六安装再好不过了，我给您约上午九点到十一点，您看行吗？",
        "延保一天算下来不过几毛钱，您可以考虑一下。",
        "这个我替您去问问，问到了给您回电话。",
        "换个密封圈不过是几分钟的事，您放心。",
        "您是不知道遥控器怎么配对是吗？我一步一步教您。",
        "您知唔知道部机嘅型号？喺机身后面张贴纸度",
        "佢只不过係保险丝烧咗，师傅换咗就得",
        "我们会尽可能在本周内把退款打回去。",  # effort promised: 19 of 29 blind labels of such lines
        "您的信用卡刚刚刷不过去，我这边帮您换另一种付款方式好吗？",
        "這台不過才三公斤，一個人就可以搬。",
        "您每个月的流量如果用不过来，剩余的部分可以自动结转到下个月。",
        "为了防止可能出现的盗刷，建议您开通消费短信提醒。",
        "哪个说不行嘛？这个完全可以退，我马上给您办。",
        "您刚才说上午不行，那我给您约下午。",
        "签收后七天内，只要包装不过度损坏，都可以申请refund。",
        "这个活动最多不过减五十块，我帮您算一下实际价格。",
        "您想怎么样处理都可以，换货或者退款我都能帮您办。",
        "扫一下这个QR code就行，这个pin码千万别告诉别人。",
        "不是您自己操作错了，是系统的问题。",
        "我不知道您的意思是不是要换货？",
        # s25_1-4
        "您晓不得型号也冇得关系 额帮您查",  # 晓不得 is 不知道, said of the caller, and 额 is the agent's 我
        "这笔订单的金额不对，额度也没用完，我帮您重新提交。",  # 金额 and 额度 are no 我
        "我不能不提醒您一句，清洗前一定要先断电",
        "这种故障不可能是您使用不当造成的，是这个批次的问题，我们负责召回。",
        "不知道还有什么可以帮您的吗？没有的话感谢您的来电，祝您春节愉快",
        "新空调第一次开机可能有轻微异味，运行半小时就会消失",
        "系统会通过短信告知您验证码，您在页面上输入就行。",  # tells the caller the code, asks for nothing
        # s25_6-9
        "您晓不晓得机器背后的型号？不晓得也冇关系，我帮您查",  # 晓不晓得 asks, as 知不知道 does
        "这款吹风机好用到不行，yyds",
        "分期利率是合同里固定的，不会看情况调整。",
        "这个步骤不过一分钟 您照着做就行",
        # s25_10-11: warm lines in the brush-offs' words
        "不客气，您开心就好！祝您和家人节日快乐，再见！",
        "您就等着收好消息吧，补偿已经批下来了。",
        "没有不行的，您的要求我都帮您想办法。",
        "请您把可能用到的发票和保修卡先找出来放在手边",
        "责任不在您，是我们发错了货，马上给您补发。",
        # s26: the same words in innocent senses
        "这个锅是不沾的 不用放太多油",  # 不沾 as non-stick
        "这个锅不沾 很好用",
        "收到的那个码您在页面上输入就行",
        "师傅们这几天跑得脚不沾地，就为了让您早点用上热水。",  # 脚不沾地 is no Shandong 不行
        "您刚才说希望快点上门，我已经把您排在明天第一单了。",
        "修车的钱一次垫付不过来的话，我们可以帮您申请保险公司直赔。",
        "定损报告里说明了，这款车的自适应巡航在雨雾天不能够识别前车，会自动退出。",
        "我先把大概情况记录下来，再跟您确认细节",
        "对不起，我可能没说清楚，我换个说法再讲一遍",
        # s27: the same words in innocent senses
        "这点小毛病不过是保险丝烧了，换一个就好使",
        "不知道您今儿个下午方便不，师傅想过去一趟",  # asked by its last word, as 没有 asks
        "不知道您那边收到短信没有",
        "这两款差不多一样大，您看哪个颜色喜欢",
        "您没明白的地方随时问我，我一点也不嫌麻烦。",
        "您说的这个情况很重要，这事关老人安全，我不能不管，马上给您加急。",
        "您问能不能分期付，是可以的，分三期不收利息。",  # 不收利 is no 不受理 by sound
        "好，多谢你打电话来，祝你身体健康，拜拜。",
        "没关系，不知道型号也能报修，我用您的手机号查购买记录。",  # not knowing is no bar: a concession
        "有人可能会冒充客服打电话要验证码，您一定要提高警惕。",
        "要是短信发不过来，我们也可以改成语音验证码。",
        "您哪里不明白的随时问我，我再给您讲一遍。",  # 里 li is no 你 ni by sound
        "您不用在电话里等着，查到了我给您回电。",
        "宽带没法直接装在那儿，我给您申请一个无线中继。",  # 直 zhi is no 子 zi
        "这个价格再实惠不过了，您放心买。",  # 不过 ending its clause is no "but"
        "您先试下重启，实在不行我们就上门。",
        "排水管要是折了水就流不过去，您看下后面那根管子。",  # s28: 流不过去 flows, 不过0.3度 is a number
        "这台扫地机器人待机一个月的耗电量不过0.3度。",
        "如果您那边听不清楚，麻烦告诉我一声。",  # 不清楚 of the line, not of what the agent knows
        "这个怪不得您，是我们说明写得不清楚。",
        "不是您操作不当，是这批电机的问题。",
        "您反映的问题是师傅上门没穿鞋套，还把地板划了，对吗？",  # the caller's words said back
        "为了让您对费用有个大概了解，我先报一下。",  # 大概 as a noun
        "我帮您快点安排师傅上门，今天就给您派单。",
        "这个问题不修的话会越来越严重，我们尽快安排。",  # 不修 inside a clause, not a clipped refusal
        "这种情况用湿手去拔插头可不行，请先把家里总闸拉下来。",  # a safety warning (session 27's gap)
        "想快一点拿到发票的话，选电子发票最方便，一分钟就能下载。",  # s44: the caller's wish, not a hurry
        "排水管弯折的可能也要考虑进去，师傅上门会一起检查。",  # 可能 as a noun
        "您看大概几点方便，我按您的时间来约。",  # the caller asked to estimate
        "我不愿意看到您再为这事操心，所以直接升级给主管了。",
        "我们的工作人员不会在电话里要您转账或者报密码，请您放心。",  # a warning a clause long
        "我可不可以先跟您确认一下详细地址？",  # asks leave: 可 is no gap word here
        "这个问题不能够拖，我现在就给您加急处理。",
        "修不了的话我们给您换新机。",  # a condition, not a clipped refusal
        "冰箱门关不严的话制冷就会不行，您看看密封条是不是翘起来了。",  # the machine's 不行
        "我这边不确定的地方，会先跟技术部核实清楚，一小时内给您回电。",
    ],
)
def test_polite_lines_near_a_phrase_are_not_flagged(text: str) -> None:
    assert rules(text) == [], text


def test_an_allowed_wording_is_matched_by_sound_only_where_its_phrase_is() -> None:
    # 信不过 (do not trust) allows 不过; by sound it is also 中心，不过, which is the conjunction
    assert rules("包裹在转运中心，不过由于天气原因会晚到。") == ["forbidden.but"]
    assert rules("如果您信不过快递，也可以到门店自提。") == []


def test_regional_words_are_read_as_standard_mandarin_and_the_flag_shows_what_was_said() -> None:
    # config.yaml qa.regional_words: 阿拉 is 我们, 勿 is 不, 俺 is 我, 侬 is 你, 恁 is 您
    hits = scan_text(CFG, "退款这块阿拉做勿来的。", "agent")
    assert [(h.rule, h.match) for h in hits] == [("forbidden.negative-language", "阿拉做勿来")]
    assert "forbidden.bad-answers" in rules("这个侬去问销售部好了")
    assert "forbidden.rude" in rules("跟恁说了恁也不懂。")
    assert rules("俺这边做不了") == ["forbidden.negative-language"]
    assert rules("侬放心，阿拉师傅明天上午就到。") == []
    # 啥 is 什么 and 咋 is 怎么, as northern agents say them
    assert rules("行吧，您说啥就是啥，就这样。") == ["forbidden.rude"]
    assert rules("咋还没整明白呢") == ["forbidden.doubting-caller"]
    assert rules("您看啥时候方便，我让师傅过去。") == []


def test_a_rule_wording_holding_a_regional_word_is_a_config_error_naming_it() -> None:
    from pydantic import ValidationError

    from settings import QaSettings

    rule = {"id": "r", "category": "forbidden", "severity": "low", "phrases": ["俺…做不了"], "source": "test"}
    with pytest.raises(ValidationError, match=r"俺…做不了.*holds '俺'.*'我'"):
        QaSettings(phrases=[rule], regional_words={"俺": "我"})
    with pytest.raises(ValidationError, match="regional_words"):
        QaSettings(regional_words={"啥": " "})
    # a wording the longest-first reading leaves as written is fine: 不沾边 is listed as itself
    rule = {**rule, "phrases": ["跟我们不沾边"]}
    assert QaSettings(phrases=[rule], regional_words={"不沾": "不行", "不沾边": "不沾边"}).phrases


def test_a_regional_word_is_not_read_across_punctuation() -> None:
    # 唔 alone is a hum in Mandarin: only 唔 words are read, and not across a comma (唔，可以 is no 不可以)
    assert rules("唔，可以的，我帮您登记。") == []
    assert rules("呢个我哋做唔到") == ["forbidden.negative-language"]
    assert rules("不知道您方不方便下午接收") == []  # a wish asked both ways is a question, ? or not
    assert "forbidden.refusal" in rules("我不知道您这个是不是漏气，您去问问燃气公司吧。")


def test_a_secret_asked_for_in_regional_words_is_found_where_it_was_said() -> None:
    text = "你登录嘅密码讲俾我听下 我帮你睇下个账号"
    [hit] = [h for h in scan_text(CFG, text, "agent") if h.rule == "pii.asks-secret"]
    assert hit.match == "嘅密码讲俾我"  # 嘅密码讲俾我 is 的密码说给我: the span is the words said
    assert "forbidden.shifting-blame" in rules("呢个唔係我哋嘅责任，係快递整烂嘅")


def test_a_polite_question_is_no_refusal_but_a_refusal_before_a_question_is() -> None:
    assert rules("不知道您明天上午九点到十一点方便在家吗？") == []
    assert rules("不知道您什么时候方便呢") == []
    assert rules("不知道，你问别人吧？") == ["forbidden.refusal"]  # 不知道 is a clause of its own
    assert rules("我不知道，你也可以问问别人") == ["forbidden.refusal"]  # the concession is another clause's
    assert rules("这个我真的不知道您文便人怕。") == ["forbidden.refusal"]  # the ASR's 您 for 你: no question


def test_words_inside_quotation_marks_are_quoted_not_said() -> None:
    assert rules("您说快递员跟您讲“等着吧”，这个态度确实不对，我马上记投诉。") == []
    assert rules("您说的「你们这个不行」我都记下来了。") == []
    assert rules("等着吧，“师傅”会来的。") == ["forbidden.rude"]  # the words stand outside the quote


def test_a_condition_holds_only_within_its_clause() -> None:
    assert rules("如果您需要，可以换货。不行的话再退款。") == []  # 不行的话 is allowed as before
    assert rules("如果您着急，不行，今天送不到。") == ["forbidden.refusal"]  # 不行 is a clause of its own


def test_the_audio_is_searched_by_sound_for_the_bare_phrase_and_by_text_for_the_other_wordings() -> None:
    searched, worded = agent_phrases(CFG)
    assert "我不能" in searched and "我真的不能" not in searched
    assert "我真的不能" in worded and "我不能" not in worded
    assert "说不准" in worded and "说不准" not in searched  # a variant: text only, no search by sound
    assert not any("…" in p for p in searched + worded)
    said = said_wordings(CFG, ["您好。", "我们这边现在不能退款，", "我真的不能。"])
    assert said == ["我们这边现在不能", "我真的不能"]


def test_overlapping_hits_of_one_rule_are_one_flag() -> None:
    hits = scan_text(CFG, "你等着吧，我先查一下。", "agent")  # 你等着 and 等着吧 overlap: one breach
    assert [(h.rule, h.match) for h in hits] == [("forbidden.rude", "你等着吧")]
    assert rules("我不能，我真的不能。") == ["forbidden.negative-language"] * 2  # two apart stay two


def test_the_opening_and_the_closing_are_read_with_the_regional_words() -> None:
    # 恁 is 您 to the phrase rules; a Henan agent's closing and opening are courteous in it too
    assert not closing_flagged("谢谢恁打电话来 祝恁周末愉快")
    assert closing_flagged("就这样 挂了")
    for said in ("好额，谢谢侬，再会哦。", "好，多谢你打电话来，祝你身体健康，拜拜。"):  # 侬 and 你 thank as 您 does
        assert not closing_flagged(said), said
    for said in ("恁好，这里是海尔斯科技，有啥能帮恁", "您好，这里是海尔斯科技，我是小刘，请问有么子要帮忙嘅？"):
        assert not opening_flagged(said), said


def test_a_bare_goodbye_is_curt_and_a_courteous_end_is_not() -> None:
    # blind labellers (s19-s28) called 嗯，再见 and 好，就这样，再见 curt: the source asks for thanks or a positive end
    for said in ("嗯，再见。", "好，就这样，再见。", "等通知吧，再见。", "我们非常忙，其他问题下次再说吧，再见。"):
        assert closing_flagged(said), said
    for said in ("好的，那就不打扰您了，再见。", "不客气，这是我们应该做的，再见。", "有问题随时联系我们，再见。",
                 "不用谢，天气热注意防暑，再见。", "好的谢谢，再见。"):
        assert not closing_flagged(said), said


def test_an_offer_of_help_the_transcript_holds_opens_politely_though_only_the_scored_ones_are_heard() -> None:
    # qa.opening.written: offers read in the text only (有什么需要 was scored once: the audio heard a curt
    # 有什么事 as it); a bare 您请讲 offers nothing (s20_11), nor 有事说事
    for said in ("你好，海尔斯科技，请问您有什么需要？", "您好，海尔斯科技售后，您请说，我来帮您处理。",
                 "您好，这里是海尔斯科技物业合作专线，请问贵司有什么需要我们协助的？",
                 "海爾斯科技您好，請問有什麼我可以幫忙的嗎？"):
        assert not opening_flagged(said), said
    for said in ("您好，这里是海尔斯科技售后，您请讲。", "喂？海尔斯科技。有事说事。", "您好，海尔斯科技，有什么事？"):
        assert opening_flagged(said), said
    assert "有什么需要" in CFG.qa.opening.written and "有什么需要" not in opening_parts(CFG)["offer"]


def test_cantonese_and_formal_wordings_of_the_forbidden_phrases() -> None:
    # blind sets s29_2 (formal register with firms) and s29_3 (Cantonese words in Mandarin)
    assert rules("抱歉，此类信息恕不奉告。") == ["forbidden.refusal"]
    assert rules("工程师几点能到，我这边无从知晓。") == ["forbidden.uncertain"]
    assert rules("我都唔清楚点解佢会咁。") == ["forbidden.uncertain"]
    assert rules("唔关我事㗎，系快递公司搞错咗。") == ["forbidden.shifting-blame"]
    assert rules("你唔好对住我大嗌！") == ["forbidden.rude"]
    assert rules("您肯定系记错咗，系统冇呢条记录。") == ["forbidden.doubting-caller"]
    assert rules("请问您听日下昼得唔得闲？") == []  # 得唔得闲 asks whether the caller is free: no 不行
    assert rules("唔该您睇下机身背面嘅型号。") == []


def test_a_question_opening_with_not_knowing_asks_but_a_refusal_said_so_does_not() -> None:
    # 。不知道您: 不知道 opening its clause, said in one breath with 您, asks (held-out sets 23-28); the ASR
    # garbles the question's end (不知到您翻眼, 留个电话嘛), so no question mark is needed
    assert rules("不知到您翻眼, 留个电话嘛, 我们二十个月内给您推电。") == []
    assert rules("不知道您下午几点方便，我让师傅跟您约个时间？") == []
    for said in ("我不知道您的钱去哪里了。", "不知道，你问快递去。", "知不道 恁上别的窗口问问去",
                 "我也不知道您到底想要什么。"):
        assert "forbidden.refusal" in rules(said), said


def test_southwestern_and_formal_refusals_and_offers() -> None:
    # blind sets s30_1 (Sichuan and Chongqing words) and s30_4 (firms, formal register)
    assert rules("鬼晓得这个零件好久到货。") == ["forbidden.uncertain"]
    assert rules("等到起嘛，急啥子急。") == ["forbidden.rude"]
    assert rules("这个单子我不得给你处理，你自己跑一趟门店嘛。") == ["forbidden.refusal"]
    assert rules("鉴于贵司已超出保修期，我方不予处理，敬请谅解。") == ["forbidden.refusal"]
    assert rules("开锁这个我们不管，您自己找外面的开锁公司吧。") == ["forbidden.refusal"]
    assert rules("我司将择机派员上门，届时另行通知。") == ["vague.ambiguous"]
    assert rules("您大概是啥子时候买的嘛？") == []  # asks the caller to estimate
    assert rules("我们不管您在哪里买的，都可以保修。") == []  # 我们不管 that goes on is "whatever"
    assert rules("我们不得不先停水，再拆阀门。") == []
    assert not opening_flagged("您好，海尔斯科技商用设备服务部，请问有什么可以为贵单位效劳的？")
    assert not closing_flagged("非常感谢贵司对海尔斯科技的信任与支持，期待再次为您服务。")


def test_brush_offs_of_children_and_of_repeat_callers() -> None:
    # blind sets s30_9 (children and students calling) and s30_12 (ends of long calls)
    assert rules("哎呀你能不能别哭了，烦不烦。") == ["forbidden.rude"]
    assert rules("喂，怎么又打来了？") == ["forbidden.rude"]
    assert rules("该说的我都说了，剩下的您自己看说明书。") == ["forbidden.rude"]
    assert rules("系统显示您那台机子早就过保了，您记错了吧。") == ["forbidden.doubting-caller"]
    assert rules("肯定是你弟弟乱按弄坏的，跟我们机器没关系。") == ["forbidden.shifting-blame"]
    assert rules("说明书第五页有图，您可以对照着看一下。") == []
    # a curt closing that sends the caller to the manual is a curt closing, as earlier labellers said
    assert "forbidden.rude" not in rules("您自己再看看说明书吧，拜拜。")
    assert not opening_flagged("您好，这里是海尔斯科技客服中心，您刚才的电话断线了，请问有什么可以继续帮您的？")


def test_mocking_a_callers_accent_or_line_and_english_words_in_a_breach() -> None:
    # blind sets s30_11 (accents, bad lines, noise) and s30_10 (English words in Mandarin), measured first untouched
    assert set(rules("你这口音也太重了，谁听得懂啊？")) == {"forbidden.rude"}  # two wordings, one rule
    assert rules("学好普通话再打过来吧。") == ["forbidden.rude"]
    assert rules("听不清就没法受理，你还是找个会说普通话的家人来打吧。") == ["forbidden.refusal"]
    assert rules("什么时候能到货我也 not sure。") == ["forbidden.uncertain"]
    assert rules("Hurry up 啊，型号报一下。") == ["forbidden.rude"]
    assert rules("不好意思，信号不太好，麻烦您再说一遍好吗？") == []
    assert rules("您慢慢说，我听着呢，不着急。") == []
    # a code asked to be read slowly, or by its English name, is still asked for
    assert "pii.asks-secret" in rules("您把手机上收到的验证码慢慢念给我听。")
    assert "pii.asks-secret" in rules("麻烦把刚收到的 verification code 念给我一下。")
    assert "pii.asks-secret" not in rules("验证码您慢慢输，不着急。")


def test_speeding_up_a_delivery_is_no_hurrying_of_the_caller() -> None:
    # set36: a polite 配件能快点送到您手上 was a sure rude flag; 您能快点说吗 hurries the caller
    assert rules("我已经帮您申请加急，配件能快点送到您手上。") == []
    assert set(rules("您能快点说吗，后面还有人排队。")) == {"forbidden.rude"}


def test_night_shift_and_northeastern_brush_offs() -> None:
    # blind sets s30_13 (after hours) and s30_15 (northeastern words)
    assert set(rules("系统晚上关了，查不了，您明天上班时间再打吧。")) == {"forbidden.refusal"}
    assert set(rules("这是白班同事没给您登记，不是我的问题。")) == {"forbidden.shifting-blame"}
    assert set(rules("这可不赖我，是系统自己出的错。")) == {"forbidden.shifting-blame"}
    assert set(rules("爱修不修，不修拉倒。")) == {"forbidden.refusal"}
    assert set(rules("这事儿我们这儿不管，你找电商平台去吧。")) == {"forbidden.refusal"}
    assert set(rules("不过夜里工程师都下班了，只能等明早。")) == {"forbidden.but"}
    assert rules("我们保证报修问题不过夜，今天之内给您回复。") == []  # 不过夜: not overnight
    assert rules("我们这边不管您在哪里买的，都能保修。") == []  # 不管 that goes on is "whatever"
    assert rules("这不是您自己弄坏的，是配件的问题，我们免费换。") == []


def test_a_card_security_code_asked_for_by_its_length_after_its_name() -> None:
    # s30_10: the code's name, then how many digits it has, then the telling verb
    assert "pii.asks-secret" in rules("信用卡背面那个 CVV 三位数报给我一下。")
    assert "pii.asks-secret" not in rules("卡背面那三位数是安全码，千万别告诉别人。")


def test_passing_the_caller_to_a_platform_or_a_builder() -> None:
    # blind sets s30_17 (orders from e-commerce platforms) and s30_18 (installations needing approval)
    assert set(rules("价保是平台的事，跟我们品牌没关系。")) == {"forbidden.shifting-blame"}
    assert set(rules("那是京东仓库的问题，不是我们的错。")) == {"forbidden.shifting-blame"}
    assert set(rules("你是不是自己用坏了才想退的？")) == {"forbidden.doubting-caller"}
    assert set(rules("这种老小区的中央空调我们一律不接，您别报了。")) == {"forbidden.refusal"}
    assert rules("这不是您的错，是我们发货时漏了，马上给您补发。") == []


def test_a_but_closing_its_clause_after_other_words_is_a_verbs_not_the_yes_but() -> None:
    # held-out set67: 再简单不过 written 难不过, (a polite agent flagged sure); no allowed wording reads it
    assert rules("难不过,我已不不叫宁。") == []
    assert rules("人脸比对不过，页面会提示您。") == []
    # the yes-but opens its clause, or goes on in it; a segment ending on it may be cut mid-sentence
    assert rules("我知道您着急，不过，这个费用得您自己出。") == ["forbidden.but"]
    assert rules("我知道您着急不过这个费用得您自己出。") == ["forbidden.but"]
    assert rules("我知道您着急不过") == ["forbidden.but"]


def test_not_doing_something_for_the_caller_refuses_and_not_doing_it_to_them_reassures() -> None:
    # held-out sentences missed: 不会给您 before a verb of doing says what the agent will not do
    for said in ("周末安装我不会给您安排的，您只能约工作日。", "发票已经开出去了，我们是不会给您重开的。",
                 "我不会给你加急的，大家都在排队。", "我不会为您重新提交申请的，结果也不会变。"):
        assert rules(said) == ["forbidden.negative-language"], said
    for said in ("您放心，我们不会给您多收一分钱。", "除非您主动要求，我们不会给您推荐任何付费的延保。",
                 "这个不会给您造成任何损失。"):
        assert rules(said) == [], said


def test_doubting_what_the_caller_says_they_did_to_the_device() -> None:
    # held-out set71: 您真的重启过吗 was no wording of the rule (its list had 按, 试过, 打过, 等了)
    for said in ("您真的重启过吗？照我们说的做是不会再断的。", "你真的插好了吗？", "您真的升级过固件吗？"):
        assert rules(said) == ["forbidden.doubting-caller"], said
    for said in ("您真的做了很多尝试，辛苦您了。", "您真的是帮了我们大忙。", "您真的确定要删除这段录像吗？"):
        assert rules(said) == [], said


def test_conditions_and_words_that_hold_a_trigger_without_saying_it() -> None:
    # held-out calls' true texts (session 39): polite lines the text rules flagged
    for said in ("请您先换两节新电池试试，换了还不行，我马上派师傅上门。",  # 还不行我 once sounded like 还不信我
                 "您知道机顶盒的序列号吗？不知道的话我用手机号帮您查。",
                 "扫地机不行走的话，请先清理一下滚刷和轮子。",
                 "这是我们通知不到位，向您道歉。",  # 知不到 is a regional 不知道, not inside 通知不到
                 "固件升级不过是三四分钟的事，升级期间请不要断电。",
                 "这款充电器有过充保护，充满自动断电，绝不过充。"):
        assert rules(said) == [], said
    assert rules("如果还是不行，我们这边也处理不了。") == ["forbidden.negative-language"]


def test_doubting_the_caller_in_words_the_lists_lacked() -> None:
    # held-out calls' and sentences' breaches that no wording matched (session 39)
    for said in ("您肯定是没看明白说明书，照着做是不会报错的。", "您是没有明白上次说的步骤。",
                 "您确定什么都没做？", "您真的是按说明书操作的吗？", "这种裂痕一看就是摔出来的。",
                 "系统显示师傅已经上门签到了，您确定他真的没来吗？", "您说买了不到一个月？这我可不太信。"):
        assert "forbidden.doubting-caller" in rules(said), said
    for said in ("您还有哪里没看明白的吗？我再讲一遍。", "没看懂的话，我给您发个视频教程。"):
        assert rules(said) == [], said


def test_an_allowed_wording_does_not_reach_back_over_a_clause_break() -> None:
    # 我快点 (I will hurry) and 优惠不过 (no better deal) are said in one breath; across a comma they are
    # the end of one clause and a hurry-up or a yes-but opening the next (blind set s39_4, labelled sentences)
    assert "forbidden.rude" in rules("验证码报给我，快点，我这边等着呢。")
    assert rules("续费有优惠，不过只有这个月有。") == ["forbidden.but"]
    assert rules("我快点给您处理。") == []
    # an allowed wording may still run on past a break after the hit (a condition's next clause)
    assert rules("换了还不行，我马上派师傅上门。") == []


def test_a_possibility_inside_a_purpose_clause_is_no_vague_answer() -> None:
    # held-out set72 and set74: 为了排除漏气的可能 written 为了太主楼期 可能 and 为了太祝可能的愿因
    # drew sure vague flags
    for said in ("为了太主楼期 可能, 千年先唤宁。", "为了太祝可能的愿因,", "为了防止可能出现的漏电，请您先拔掉电源。"):
        assert rules(said) == [], said
    # the purpose holds within its clause only
    assert rules("为了安全，可能要等两天才能上门。") == ["vague.ambiguous"]


def test_the_callers_words_in_plain_single_quotes_are_quoted_not_said() -> None:
    # blind set s39_10: the caller's 我不知道… said back inside ASCII single quotes
    assert rules("您刚才说'我不知道保修卡放哪了'，没关系，电子保修凭证系统里都有。") == []
    assert rules("我不知道，'保修卡'您自己找吧。") == ["forbidden.refusal"]


def test_escalated_complaints_brushed_off_and_a_measure_kept_modest() -> None:
    # blind set s39_12: a caller's threat waved through, a claim dismissed, doubt; 不过多 is "not too much"
    assert "forbidden.rude" in rules("你要发网上就发吧，我这边结束了。")
    assert "forbidden.doubting-caller" in rules("您说机器是自己坏的，这话谁信啊。")
    assert rules("为了不过多占用您的时间，我把方案简单说一下。") == []


def test_information_withheld_doubt_and_blame_in_new_words_and_a_machine_hurried() -> None:
    # blind sets s40_1-s40_4: refusals, doubt and blame in words the lists lacked; 快点 said of the fridge
    # cooling and 不知道…的话 offering where to look are no breach
    assert rules("抱歉，维修记录这些信息不方便提供给您。") == ["forbidden.refusal"]
    assert rules("这个补贴没法补发了，系统已经关了。") == ["forbidden.refusal"]
    assert rules("您肯定是自己记错了，系统里只有一笔扣款。") == ["forbidden.doubting-caller"]
    assert rules("您真按说明书装的吗？我可不太相信。") == ["forbidden.doubting-caller"]
    assert rules("这是厂家的问题，跟我们客服一点关系都没有。") == ["forbidden.shifting-blame"]
    assert rules("想让冷藏室快点降温的话，先别往里放热的饭菜。") == []
    assert rules("请您把机器型号告诉我，不知道在哪儿看的话，就在机身侧面的铭牌上。") == []
    assert rules("我不知道在哪儿看，您自己找吧。") == ["forbidden.refusal"]


def test_sarcasm_and_numbers_withheld_and_a_device_sped_up() -> None:
    # blind sets s40_5-s40_8: sarcasm, a technician's number withheld, a caller sent to the shop; 不用快点 and a
    # TV that starts faster are no hurry, 再…不过的了 no yes-but; 您能快点说 still hurries the caller
    assert set(rules("哟，您可真是专家，那您自己修不就完了。")) == {"forbidden.rude"}
    assert set(rules("像您这种天天打电话来的，我们也是服了。")) == {"forbidden.rude"}
    assert rules("师傅的私人号码不方便给你，这是规定。") == ["forbidden.refusal"]
    assert rules("电视是在哪儿买的，您就去问那家商场吧。") == ["forbidden.shifting-blame"]
    assert rules("您不用快点儿操作，慢慢来，我一直在线上。") == []
    assert rules("打开快速开机以后，电视开机能快点。") == []
    assert rules("路由器放在房子正中间，信号覆盖是再均匀不过的了。") == []
    assert rules("您能快点说重点吗，后面还有客户呢。") == ["forbidden.rude"]


def test_distrust_of_someone_else_and_a_callers_question_said_back_are_no_breach() -> None:
    # blind sets s40_9-s40_12: 信不过 a technician, then 我 in the next clause, is the caller's distrust of him, not
    # of the agent; 不过差 says "only short by"; 问能不能快点 repeats the caller's question
    assert rules("您说对这位师傅信不过，我完全理解，这次给您换一位高级技师。") == []
    assert rules("您是不是信不过我啊？我说能修就能修。") == ["forbidden.doubting-caller"]
    assert rules("您这单离满三百不过差二十块，凑一下就能用满减券。") == []
    assert rules("您刚才问能不能快点，可以的，我已经帮您升级为加急单。") == []
    assert rules("像您这种天天打来的，我们真是受不了。") == ["forbidden.rude"] * 2
    assert rules("机器真是自己坏的？我看更像是您摔过。") == ["forbidden.doubting-caller"]
    assert rules("修好了就别再打回来了。") == ["forbidden.rude"]


def test_refusals_and_doubt_of_round_four_and_a_curt_opening_is_no_shouting() -> None:
    # blind sets s40_13-s40_16: 售后，什么 read by sound is no 吼什么; 为了快点找到 hurries for the caller; 最稳妥不过
    # says "nothing safer"; a return refused, a caller's memory doubted, a busy brush-off
    assert rules("嗯，售后，什么型号坏了？") == []
    assert rules("为了快点找到您的订单，麻烦您报一下订单号后四位。") == []
    assert rules("当面验货是最稳妥不过的做法，有问题当场就能换。") == []
    assert rules("退货是不可能的，已经超过七天了。") == ["forbidden.refusal"]
    assert rules("您肯定是把领券时间记错了。") == ["forbidden.doubting-caller"]
    assert "forbidden.bad-answers" in rules("现在太忙了，价保的事你自己上APP看吧。")
    assert rules("那是音箱厂家的问题，跟我们电视没关系，您找他们去。") == ["forbidden.shifting-blame"]


def test_threats_waved_off_and_compensation_refused_and_a_pipe_not_through_the_wall() -> None:
    # blind sets s40_17-s40_20: an agent daring the caller to go to the press, refusing compensation, doubting why
    # they complain; 不过墙 (a pipe not through the wall) is no yes-but, 快点发出来 hurries the warehouse
    assert rules("你要去曝光就去吧，没别的事我挂了。") == ["forbidden.rude"]
    assert rules("赔偿的事您就别提了，这个我们一分钱都不会赔。") == ["forbidden.refusal"]
    assert rules("说要找记者，其实就是想多要点赔偿吧？") == ["forbidden.doubting-caller"]
    assert rules("我们这边正忙着呢，投诉您就先留个言吧。") == ["forbidden.bad-answers"]
    assert rules("水管走向不过墙的话，就不需要打孔，也就没有打孔费。") == []
    assert rules("我这边去催一下仓库，让新机快点发出来。") == []


def test_glad_to_have_served_the_caller_closes_politely() -> None:
    # blind set s40_20: 很高兴为您服务 is the positive ending the source asks for (every labelled closing holding it is
    # polite); a bare 再见 still is not
    for said in ("不客气，很高兴为您服务，再见。", "很高兴能帮到您，再见。"):
        assert not closing_flagged(said), said
    assert closing_flagged("好，就这样，再见。")
