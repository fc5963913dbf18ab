"""Street addresses.

After 住址 / 地址 / 住在 / 家住 / 寄到 / 送到 (not 我们…地址 or 公司地址: the
company's own address is public), a clause that names a street (路, 街, 巷, 弄, 胡同, 大道,
村, 小区) is an address. The province, city and district before the street stay;
everything from the street to the last house, building or flat number goes.

Without such a word, an address is read from its shape (a district, then a street and its house
number; a county's township and village; a flat by building and number): PLACED, RURAL,
FLAT, HOME.
"""

from __future__ import annotations

import re
from dataclasses import replace

from transcribe.pii_numbers import DIGIT_VALUE
from transcribe.pii_stream import (
    FILLER_CLAUSE,
    GAP_JOIN,
    GAP_PUNCT,
    GAP_SOFT,
    Found,
    Stream,
    corrections,
    last_match,
    past_fillers,
)

# (a home's place said as where the caller moved to or comes from: 搬到…, 老家是…; 家就在 as 家在)
# (not 送到了 or 寄到了: the parcel arriving, 送到了先打电话, says when, not where)
ADDRESS_TRIGGERS = re.compile(r"收货地址|家庭住址|家庭地址|住址|地址|我住|住在|住喺|家住|家就?在|老家|搬到"
                              r"|(?:寄到|送到|送货到)(?!了)")
# (我们 is the firm's, not a village's or a county's: 我们是…村, 寄到我们县城; a 公司 is the firm's only as 你们公司 or
# 贵公司: the caller's own workplace, 公司地址是…, 我女婿公司在…, is where they are found)
# (我们 sending something to the caller is the caller's address: 我们给您寄到…, 我们这边帮您送到…)
# (a person of the caller's firm is sent to at their own address: 寄给我们公司的联系人，…)
# (a works is the caller's, a worker's, not the agent's firm: 我们厂在…)
# (nor is a household told to send something: 房东让我们把合同寄到…; nor the estate the caller lives in: 就在我们小区，
# 翠苑一区17幢…, pii/s44)
NOT_CALLERS = re.compile(r"(?<![让叫要])我们(?![是村屯组县镇乡]|小区)(?!(?:这边|会|再|先)?[给帮替][您你])(?!工?厂)"
                         r"(?!公司的(?:联系人|对接人|收件人|同事))"
                         r"|(?:你们|贵)公司|门店|网点|维修点|维修站|服务中心|营业厅|售后|总部|官网|邮箱|网址|ip"
                         r"|(?<!我的)(?<!我家)(?<!我)店(?![铺市])")  # (装到我店里: the caller's shop)
# The firm's own address, named by the agent with its name between (我们海尔斯科技的地址是…): public; not where the
# firm sends something (我们给您寄的地址是…: the caller's); nor where a return goes, told to the caller (退货请寄到…:
# the firm's; 退货寄回到… is sent back to the caller)
FIRMS_ADDRESS = re.compile(r"我们(?:(?![给帮替为您你])[\u4e00-\u9fff]){2,8}?的地址(?:是|在)?$|退货请?寄到$")
# (who lives there may open the clause before its verb: 我是三栋…的业主, 我们是…小区; and what to write, 地址就写…)
# (住 too, the verb of living, when the clause is read past a 在 that is no verb: 我现在住阳光100小区…; not the 住
# of a word, 住院部, 住户, 住宿楼)
ADDRESS_FILLER = re.compile(r"(?:(?:我们|我家|我)(?=就?[是在]))?"
                            r"(是不是|不是|是|就在|在|喺|改成|改为|改到|就是|写的是|填的是|就写|写|为|上门|应该是"
                            r"|住(?![院户宿]))*")
# A flat in a street's numbered building (幸福路18号4号楼2单元301) is someone's home, whatever comes before
# it: a shop or service centre is not given by building and unit.
_NUM = "".join(DIGIT_VALUE) + "十百"  # a digit as said or written, and the tens and hundreds of 二十七号
HOME = re.compile(f"(?:路|街|大道|巷|弄|胡同)[{_NUM}]+号院?[{_NUM}]+(?:号楼|栋|幢|单元)")
# A hutong's numbered house or courtyard (菊儿胡同8号院): a home, wherever it is; hidden from the hutong's name
# (two characters: what comes before it, 北京东城, is the city's, said without 市 or 区)
HUTONG = re.compile(f"[\u4e00-\u9fff]{{2}}胡同[{_NUM}]+号院?")
# Hong Kong's regions and eighteen districts, and Macau, are named without 区: kept like one
# (and the best-known neighbourhoods, said as a district is: 九龙旺角, 澳门氹仔)
AREAS = re.compile(r"香港岛|香港|港岛|九龙城|九龙|新界|中西区|湾仔|东区|南区|油尖旺|深水埗|黄大仙|观塘|荃湾|屯门"
                   r"|元朗|北区|大埔|西贡|沙田|葵青|离岛|澳门|旺角|尖沙咀|油麻地|佐敦|铜锣湾|中环|上环|北角|红磡"
                   r"|柴湾|将军澳|氹仔|路环|路氹")
# A district or city, then a street and its house number (洪山区珞喻路1037号, 武侯区人民南路四段二十七号):
# an address without a word before it (粤海街道科技南十二路二号: a subdistrict and a numbered road name; Hong Kong's
# 弥敦道188号, 皇后大道中99号; after a Hong Kong or Macau district: 澳门氹仔孙逸仙大马路一百号)
# (old towns' lanes: a 胡同, and a 里 off a street, 新华路华安里3号; not 这里, 城里, 公里)
LANE_LI = "(?<![这那哪城乡市县区家心公千万夜里])里"
_AFTER_DISTRICT = f"(?:[区县市旗]|{AREAS.pattern})[\u4e00-\u9fff]{{1,12}}?"  # a district, then a street's name
_SECTION = f"[东南西北中]?(?:[{_NUM}东南西北中]+段)?"  # the part of the street: 中, 南, 四段
# (or a Shanghai lane, its houses numbered in it: 四平路1288弄, its house maybe in the next clause)
PLACED = re.compile(f"{_AFTER_DISTRICT}路[{_NUM}]+弄"
                    f"|{_AFTER_DISTRICT}(?:路|街|大道|道|巷|弄|胡同|{LANE_LI}){_SECTION}"
                    f"(?:[{_NUM}]+[巷弄]){{0,2}}[{_NUM}]+号")  # Taipei's 216巷5弄3号
FARM = "(?:农场|林场|牧场)"
# A county's township and village (郸城县李楼村三组, 农安县合隆镇陈家屯, 昌吉市大西渠镇三队; in Inner Mongolia a
# banner's 苏木 and 嘎查: 科尔沁右翼前旗乌兰毛都苏木查干嘎查三组)
# (a state farm's team or company is its village: 红旗农场五队, 友谊农场三连; so is a township's old brigade and its
# team: 向阳乡东风大队三小队; a subdistrict's community and its group: 沙子口街道南姜社区三组)
RURAL = re.compile(f"[县区市旗][\u4e00-\u9fff]{{1,6}}?"
                   f"(?:(?:[镇乡]|苏木|街道)[\u4e00-\u9fff]{{0,5}}?(?:村|屯|嘎查|社区|大队|[{_NUM}]+小?[组队社])"
                   f"|{FARM}[{_NUM}]+[队连组]"
                   f"|[\u4e00-\u9fff]{{1,4}}?(?:村|嘎查)[{_NUM}]+[组队社屯])")
# A flat by building and number (万科城三期12栋2单元1503, 梅林一村23栋405): a home, wherever it is
# Hong Kong and Macau say a tower, its floor and the flat's letter (第3座15楼D), or an estate's named block and
# flat (沥源邨富裕楼1203室)
# (an entrance may stand for the unit: 七号楼三门五零幺)
# (an office's floor may come before its room: B栋12楼1205室)
# (Beijing numbers a building 楼, then its entrance and flat: 312楼1门602, pii/s44e)
FLAT = re.compile(f"[{_NUM}a-z]+(?:栋|幢|号楼|座)(?:[{_NUM}]+(?:单元|门|楼|层))?[{_NUM}]{{3,4}}"
                  f"|[{_NUM}]+楼[{_NUM}]+(?:单元|门)[{_NUM}]{{3,4}}"
                  f"|[{_NUM}a-z]+座[{_NUM}]{{1,2}}楼[a-z]"
                  f"|邨[\u4e00-\u9fff]{{1,3}}?[楼座][{_NUM}]{{3,4}}")
# A shop in a mall or a market, by its floor and number (服装市场二楼B区218档, 商业中心负一楼A17号, 商贸城二区三号门
# 四楼28街12345号商位, 三楼312铺): where a stallholder works and takes parcels, hidden as a flat is; a floor and
# room with neither a market before it nor a stall word after it (三楼312那个会议室) is no shop, nor a market said
# with no number (商场二楼那个专卖店)
_STALL = "(?:号?(?:铺|档口|档|商位|摊位|商铺))"  # what a market calls its units
_ZONE = f"(?:[a-z{_NUM}东南西北]+[区期]|[{_NUM}]+号门)"  # a market's zone, phase or gate: A区, 二区, 三期
_MARKET = "(?:市场|商场|商城|中心|广场|城)"
SHOP = re.compile(f"{_MARKET}{_ZONE}*负?[{_NUM}]+[楼层]{_ZONE}?(?:[{_NUM}]+[排街])?[a-z]?[{_NUM}]+号?{_STALL}?"
                  f"|负?[{_NUM}]+[楼层](?:[a-z]区)?[a-z]?[{_NUM}]+{_STALL}"
                  f"|{_ZONE}(?:[{_NUM}]+排)?[{_NUM}]+{_STALL}")
STALL = re.compile(_STALL)
# A building's street-level shop (23号楼底商, 12栋一楼门面): the shopkeeper's address, ending at it
SHOPFRONT = re.compile(f"(?:[{_NUM}]+[楼层])?(?:底商|门面|大堂)")  # (or its lobby, where a parcel is left)
MARKET_END = re.compile(f"{_MARKET}$")
# A works or its dormitory in an industrial zone, after a township, a subdistrict or a road (高桥镇工业园…纺织厂宿舍楼,
# 纬五路工业区…三号宿舍楼): where a worker lives or takes parcels, hidden as a home is; the zone named alone, or a
# firm's factory said with its city (东莞工厂), is not
_WORKS_END = "(?:厂房|厂|宿舍楼|宿舍)"
# (or a building of the zone and its floor, 凤凰第一工业区A栋3楼: a works' floor, as a flat is a home's)
_WORKS_BLOCK = f"[a-z{_NUM}]+(?:栋|幢|号楼|座)(?:[{_NUM}]+[楼层])?"
WORKS = re.compile(f"(?:[镇乡]|街道|路)[\u4e00-\u9fff]{{0,4}}?工业[园区]"
                   f"(?:[\u4e00-\u9fffa-z{_NUM}]{{1,12}}?{_WORKS_END}|{_WORKS_BLOCK})")
# ... and said on after a village or street's address in the same clause (…长布村工业区华星电子厂): hidden with it
WORKS_TAIL = re.compile(f"工业[园区]区?[\u4e00-\u9fffa-z{_NUM}]{{1,12}}?{_WORKS_END}")
# A parcel locker or pickup point a parcel is to be left at, placed by the estate's gate or a landmark beside it
# (放到锦绣华庭南门丰巢快递柜, 送到县一中旁边的中通快递点, 送到阳光城3号楼丰巢柜): it says where the caller lives, so it
# is hidden as their address is; a locker or a 驿站 named with no place (菜鸟驿站那边说没收到, 放快递柜) is not
_POINT = "(?:快递柜|丰巢柜|柜|驿站|代收点|自提点|快递点|超市)"
POINT = re.compile(_POINT)
PICKUP = re.compile(f"(?:放到|放在|放|送到|寄到|送去)(?P<at>[\u4e00-\u9fffa-z{_NUM}]{{2,16}}?"
                    f"(?:[东南西北后]门|旁边的?|对面的?|[{_NUM}]+号楼)[\u4e00-\u9fff]{{0,6}}?{_POINT})")
# A Xinjiang Production and Construction Corps regiment and company (143团5连, 十团八连): a village, in effect
BINGTUAN = re.compile(f"[{_NUM}]+团[{_NUM}]+连")
# A crossing of two roads, then the building there (金水区花园路与农业路交叉口西北角…3号楼): an address with no
# house number on its street; the crossing alone, with no building, is a public place
CROSSING = re.compile(f"{_AFTER_DISTRICT}(?:路|街|大道)[与和跟][\u4e00-\u9fff]{{1,8}}?(?:路|街|大道)"
                      f"(?:交叉口|交汇处|路口)[\u4e00-\u9fff{_NUM}a-z]{{0,20}}?[{_NUM}]+(?:号楼|栋|幢|号|单元)")
# A landmark run on after the house in the same clause, ending at a side of it or at the estate (…189号安农大东门对面;
# …123号好吃街进去第三个巷子; …688号地铁站c口出来往右走两百米的美联城小区): the way to the caller's door, hidden with it
# (not …385号，太古汇对面那个楼: a landmark in a clause of its own, or one the clause goes on past, is public)
# (…旁边那家: the house beside the landmark, said with it)
_THAT_HOUSE = "那[个排]?(?:户|家|院子|房子)"  # the house pointed at: 那户, 那个院子, 那排房子
RUN_ON_LANDMARK = re.compile(r"[\u4e00-\u9fffa-z0-9]{0,20}?(?:斜对面|对面|旁边|隔壁|附近|后面|小区|巷子)"
                             f"(?:的?{_THAT_HOUSE})?")
# A door number said after an address (…海苑小区5栋，门牌号是1702): the flat of that home
DOOR_WORD = re.compile(r"门牌号码?|房间号|房号")
DOOR_NUMBER = re.compile(f"(?:{DOOR_WORD.pattern})(?:是|为)?(?P<said>[{_NUM}]+[号室]?)")
# One street's house number taken back and said again (不是幸福路12号，是幸福路21号; 是建设街8号，不是建设街6号):
# both are the caller's, though no district is said before them
_STREET_HOUSE = "[\u4e00-\u9fff]{2,6}?(?:路|街|大道|巷)"
RENUMBERED = re.compile(f"(?:不是(?P<s>{_STREET_HOUSE})[{_NUM}]+号是|是(?P<t>{_STREET_HOUSE})[{_NUM}]+号不是)"
                        f"(?:(?P=s)|(?P=t))[{_NUM}]+号")
# A dormitory room (西园三舍B区五楼五二幺, 学生公寓7号宿舍楼512): a home, as a flat is
DORM = re.compile(f"[{_NUM}a-z]+(?:舍|号?宿舍楼)(?:[a-z]区)?(?:[{_NUM}]+楼)?[{_NUM}]{{3,4}}")
# A building of a named estate (新华里小区3幢, 曲江华府6号楼, 锦华苑2栋): a home, though no room is given; so is
# one of a works' or a unit's housing (纺织厂家属院8栋, 油田生活区12栋, 员工宿舍3栋), and an estate's numbered
# cluster (碧水湾B2组团)
# (a works' housing is also a 家属楼, or numbered 街坊 blocks: 拖拉机厂十一街坊34栋)
# (the building may be said 号 when its flat follows: 莘城苑十七号五零一)
ESTATE = re.compile(f"(?:小区|花园|家园|苑|华府|公寓|家属院|家属区|家属楼|生活区|宿舍|大院|街坊)[{_NUM}]+"
                    f"(?:栋|幢|号楼|号(?=[{_NUM}]{{3,4}}))"
                    f"|[{_NUM}a-z]+组团"
                    f"|[东南西北中a-z{_NUM}]区[{_NUM}]+(?:栋|幢|号楼)"  # an estate's zone, then its building: 南区8栋
                    f"|[{_NUM}]+期[{_NUM}a-z]+(?:栋|幢|号楼)")  # an estate's phase, then its building: 世纪城二期12栋
# A house, floor or flat said again right after an address, mended or made precise (…七零一，不对，七零二;
# …八百号，嗯，八百零八号; …三八五号，呃，三楼): a bare number only after a word that mends it
# (a hesitation may come before the mending word, 哦说错了; the building said again may bring its flat, 14号楼503;
# a village's group mended: …三组，哦不对，是四组; 哎 or 啊 before the mending word: …220号，哎不对，是222号)
MENDED = re.compile(f"(?:[嗯呃哦哎啊]?(?P<fix>不对|不是|说错了)|嗯|呃|哦)(?:应该是|是)?"
                    f"(?P<said>[{_NUM}]+(?P<unit>号楼|号|楼|室|栋|幢|单元|层|组)?(?:[{_NUM}]+(?:号楼|号|楼|室|栋|幢|单元|层|门)?)*)")
# A flat, room or tower said in English after an address (…告士打道88号 flat 1605, room three zero one, tower one)
# The way to the door in the clause after an address (…兴隆屯，进屯往东第三家; …琳琅村4组，村委会旁边那户; …15幢，
# 进门往左第二栋; …33号，邮局后面那个楼3单元): it says which house is the caller's, so it is hidden with the address
# when it ends its clause at a house, a door or a flat (not …天河路385号，太古汇对面那个楼: a landmark, public)
# (the house may be pointed at by its look or a landmark, …，红砖墙那个院子, …，老磨坊后面那排房子; the way may turn
# at a lane, 第二个巷子进去; a hand's side is a side, 左手第三个门)
DIRECTIONS = re.compile(f"[\u4e00-\u9fff]{{0,14}}?(?:(?:往?[东南西北左右][边面头手]?(?:那排|数|走)?第?|第)[{_NUM}]+个?"
                        f"(?:家|户|排|间|栋|幢|门|院|巷口|(?:巷子|路口)(?:进去|拐)?)|{_THAT_HOUSE}"
                        f"|[{_NUM}]+单元(?:[{_NUM}]+[楼层室]?)?)"
                        f"(?:就是(?:我家)?)?")
# A township said alone, then the way to the house in its clause (临泉县老集镇中心小学对面第二户): the address, with no
# street to name
TOWN = re.compile(r"(?<=[县区市旗])[\u4e00-\u9fff]{2,4}?[镇乡]")
# a township said with no county or district suffix before it (上海闵行莘庄镇), and the length of its name, as most
# have (莘庄镇, 汲冢镇)
TOWN_SAID = re.compile("[镇乡]")
TOWN_NAME = 2
# a village's numbered group: a household's, no firm's (我们在…王庄村三组)
VILLAGE_GROUP = re.compile(f"村[{_NUM}]+[组队社]")
# after a number: an entrance (2门, not 301门口: the door of the flat), a desk (第二排工位)
SUB_UNIT = re.compile(r"门(?!口)|[排列]?(?:工位|座位)")
# A hospital bed (市第一人民医院住院部六楼心内科十八床): where a patient is, as a home address says where one lives
BED = re.compile(f"[{_NUM}]+号?床")
HOSPITAL = re.compile(r"医院|住院部|住院楼|病区|病房")
UNITS_IN_ENGLISH = re.compile(r"(?:(?:flat|room|rm|unit|tower|block|blk|building|apartment|apt|floor)[0-9]+[a-z]?)+")
# A clause opening with a house number, building, floor or flat (256号, 5号楼, 13楼): the rest of an address
# (a Shanghai lane's number too, 六六八弄: the houses are numbered within it)
HOUSE_NUMBER = re.compile(f"[{_NUM}]+[a-z]?(?:号楼|号|楼|层|室|栋|幢|座|单元|弄)")
HOUSE_NUMBERS = re.compile(f"(?:{HOUSE_NUMBER.pattern})+")  # the house, then its flat (…1288弄，22号301室)
# A district and a street that ends its clause, its number said after a filler (天山区解放南路，嗯，256号)
# (a numbered 道 too, 高新南七道，十八号: the stream leaves the comma out, so the number is right after it)
# (or a courtyard on the lane pointed at, its number after: 南门里德福巷口子上那个大杂院，12号)
PAUSED = re.compile(f"{_AFTER_DISTRICT}(?:路|街|大道|巷|弄|道(?=[{_NUM}])){_SECTION}"
                    f"(?:[\u4e00-\u9fff]{{0,3}}?那个(?:大杂院|大院|院子))?")
# An address written in English (Room 1203, 88 Century Avenue; 350 West 57th Street, Apt 12B; Flat 5B, 22 Nathan
# Road), on a segment's original text: a flat maybe, a house number, the street's name in capitals and its kind, a flat
# maybe. They are hidden; the district, city and state after them stay, as a Chinese address's before it do.
_EN_FLAT = r"(?i:room|rm|flat|apt|apartment|unit|suite)\.?\s*#?\s*[0-9]+[A-Za-z]?"
_EN_STREET_KIND = (r"(?i:street|st|road|rd|avenue|ave|lane|drive|dr|boulevard|blvd|way|place|court|terrace"
                   r"|highway|hwy|parkway|square|crescent|close)")
ENGLISH_STREET = re.compile(rf"(?:{_EN_FLAT}\s*,?\s*)?(?<![A-Za-z0-9])[0-9]{{1,5}}[A-Za-z]?\s+"
                            rf"(?:[A-Z0-9][A-Za-z0-9'-]*\s+){{1,4}}{_EN_STREET_KIND}\b\.?(?:\s*,?\s*{_EN_FLAT})?")
# An address said in pieces, a clause each (翠湖花园，嗯，7栋，2单元，1502; 以勒镇，大火地村，八组; 长江路中段，…小区，
# 17栋): each clause names one part of a home (PIECE), only the first may open with other words (小区是…, 我们村叫…,
# or the province, city and county kept before it). A run of them is an address when it comes down to a door (a
# building, a unit, a flat, a village's group) or names a township and its village; each piece is hidden, the
# words between them stay. A lone street or estate, a door alone (我家是18栋), or numbers alone (a phone's groups,
# 138，1234，5678) are not.
_NAMED = "(?:(?![是叫在到的我你他她们这那个就写住送寄放省市区县旗])[\u4e00-\u9fff])"  # a character of a place's name
_TOWNSHIP = f"{_NAMED}{{2,4}}?(?:[镇乡]|街道)"
_VILLAGE = f"{_NAMED}{{1,4}}?村|(?<=村){_NAMED}{{1,3}}?庄"  # a village, or a hamlet said after it (张营村，后张庄)
_DOOR = (f"[{_NUM}a-z]+(?:栋|幢|号楼)(?:[{_NUM}]+单元)?(?:[{_NUM}]{{3,4}})?|[{_NUM}]+单元|[{_NUM}]{{3,4}}室?"
         f"|[{_NUM}]+楼[东西南北中]?户|[{_NUM}]+[组队社](?:[{_NUM}]+号)?")
# (an estate's numbered zone is a place too: 望京西园三区, 天通苑二区)
_STREET_NAME = f"{_NAMED}{{1,6}}?(?:路|街|大道)(?:[东南西北中]段)?"  # a street's name alone: 天河南二路, 人民南路四段
_PLACE = (f"{_STREET_NAME}|{_NAMED}{{2,6}}?(?:小区|花园|家园|华庭|名都|苑|新村)"
          f"|{_NAMED}{{2,6}}?[{_NUM}]+区")
PIECE = re.compile(f"(?P<town>{_TOWNSHIP})|(?P<village>{_VILLAGE})|(?P<door>{_DOOR})|(?P<place>{_PLACE})")
# A street named again as it is said: an address stops at its street with no number, maybe a hesitation after it
# (体育西路那个), and the next clause is another street's name alone (天河南二路, pii/s44d): the caller took the
# street back, and the hesitation and the street named are the home's too
STREET_NAMED = re.compile(_STREET_NAME)
# A village's group and house number (郭庄村五组18号): a home, wherever it is, as a flat is
# (a Guangdong village numbers its quarters 坊: 南山村二坊十八号, pii/s44e)
VILLAGE_HOME = re.compile(f"{_NAMED}{{1,4}}?村[{_NUM}]+[组队社坊][{_NUM}]+号")
# A street's house number said, then taken back a few words on and said again with another number (写的是幸福路12号，
# 刚才说错了，应该是幸福路21号): the wrong reading is the caller's street too, so both are hidden
_RESTATE_REACH = 16  # characters between the two readings
RESTATED = re.compile(f"(?P<first>(?P<s>{_NAMED}{{2,6}}?(?:路|街|大道|巷))[{_NUM}]+号)"
                      f"[^。？！]{{0,{_RESTATE_REACH}}}?(?:说错|不对|不是|错了)[^。？！]{{0,8}}?(?P<second>(?P=s)[{_NUM}]+号)")
# A street begun, then said again with its house number after a pause (湛山二路……湛山二路15号): both are the home's
STREET_AGAIN = re.compile(f"(?P<s>{_NAMED}{{2,6}}?(?:路|街|大道|巷))(?P=s)[{_NUM}]+号")
PIECE_LEAD = set("是叫在到写省市区县旗")  # the last character of the words a first piece may follow in its clause
PIECE_LEAD_REACH = 13  # characters of those words
# A village or hamlet said alone, then the way to the house in its clause (杨庄村小学往北第二户, 石门屯西头第三家):
# the address, as a township's is
VILLAGE = re.compile(f"{_NAMED}{{1,4}}?(?:村|屯|大队)")
# A township's street and house number (城关镇解放街12号院): a home's, as a district's is (PLACED)
TOWN_STREET = re.compile(f"{_NAMED}{{2,4}}?[镇乡]{_NAMED}{{1,8}}?(?:路|街|大道|巷){_SECTION}[{_NUM}]+号院?")
# The floor, then the flat, each said in a clause of its own after the building (…九栋，电梯到十六楼，左手一六零二):
# the home's, though neither names a place; a floor alone at a clause's end, a room only after it
FLOOR_SAID = re.compile(f"(?:在|住|住在|到|上|上到|坐电梯到|电梯到|爬到)?(?P<at>[{_NUM}]+[楼层])(?:就是)?")
ROOM_SAID = re.compile(f"(?:(?![{_NUM}])[\u4e00-\u9fff]){{0,6}}(?P<at>[{_NUM}]{{3,4}}[室号]?)(?:就是)?")
# A floor said as the caller's own door (放六楼我家门口): where they live, though no building is named
FLOOR_HOME = re.compile(f"[{_NUM}]+楼(?=我家)")
FLOOR_ROOM = re.compile(f"[{_NUM}]+[楼层][{_NUM}]{{3,4}}")  # a floor, then the room on it: 五楼508
FLAT_AFTER_REACH = 16  # characters from an address to a flat in a clause of its own (…1500号，…小区，12号楼幺洞两室)
NEXT_CLAUSE_REACH = 12  # characters a trigger's clause may run (地址写错了) before the address in the next
# a street, a village, a Hong Kong estate (邨) or road given with its number (弥敦道688号; not 知道)
# (屯 before 区 names a district, 西屯区; 道 may take a direction before its number, 太子道西326号)
# (屯门 and 路环 are districts; a regiment's company, 十团八连, is its street: the 团 is hidden with it)
# (a village is also its old brigade and team: 东风大队, 第二生产队)
# (a 路, 街 or 村 right before 镇 or 乡 is the township's name, 白路镇, 大街乡, 苏村镇: not a street or a village)
STREET = re.compile(f"大道|胡同|小区|路(?![环镇乡])|街(?![镇乡])|巷|弄|村(?![镇乡])|邨|嘎查|屯(?![区县市门])"
                    f"|(?<=团)[{_NUM}]+连|大队|生产队"
                    f"|(?:[镇乡]|苏木)(?=[\u4e00-\u9fff]{{1,5}}?(?:[村屯队组]|社区))"
                    f"|[镇乡](?=[\u4e00-\u9fff]{{0,4}}?工业[园区])"  # a township's industrial zone: WORKS
                    f"|{FARM}(?=[{_NUM}]+[队连组])"
                    f"|道(?=[东南西北]?[{_NUM}])")
ADMIN = set("省市区县州旗盟")  # kept when masked; a township (镇, 乡, 苏木) and what follows it are not
# (家属区 and 生活区: a works' housing, not a district)
CAMPUS = set("园校营厂矿属活")  # 园区, 校区, 营区, 厂区, 矿区 and A区 are parts of a site, not districts
# (a campus dormitory is numbered with its 舍: 西十二舍, 5舍; the 舍 is the last of the house, as 栋 is)
HOUSE = set("号室楼栋幢座层户院组队社屯元房舍弄")  # (弄: a Shanghai lane's number, 1288弄)
# A building named after the house number (天府三街199号太平洋保险金融大厦) is part of the address
BUILDING = re.compile(r"大厦|广场|中心|花园|公寓|大楼|商厦|家园|公馆|写字楼|仓库|库房")  # (…108号院内二号仓库)
BREAKS = (GAP_PUNCT, GAP_SOFT)  # a clause ends between two stream characters
MAX_ADDRESS = 40  # characters an address clause may run
QUESTION = re.compile(r"哪|什么|多少|几")
# Words that point at a street or an estate without naming it (的那个小区, 这个村): only the house after it says where
POINTER = re.compile(r"(?:的|那个|这个|那|这)*")
# (or 就 right after the flat's number, a recogniser's run-on into what the place is near: …401 就市中心那个; or a
# parcel's number run on after it: …高新南七道12号快递单号是SF…)
ADDRESS_STOPS = re.compile(f"手机|电话|身份证|卡号|账号|单号|验证码|密码|(?<=[{_NUM}])就")
# A named estate's building after a trigger, the estate said without 小区 (我住滨江国际九栋): the home, as ESTATE's
BLOCK = re.compile(f"[{_NUM}]+(?:栋|幢|号楼)")
BUILT = set("栋幢楼元")  # a building or its entrance ends here: a flat's number may follow alone
ROOM_NUMBER = re.compile(f"[{_NUM}]{{3,4}}室?")


def addresses(stream: Stream) -> list[Found]:
    text = stream.text
    out: list[Found] = []
    for m in ADDRESS_TRIGGERS.finditer(text):
        if NOT_CALLERS.search(text, max(0, m.start() - 8), m.start()) or FIRMS_ADDRESS.search(text, 0, m.end()):
            continue
        found = _address_from(stream, m.end())
        nxt = stream.clause_end(m.end(), m.end() + NEXT_CLAUSE_REACH)
        if (found is None and nxt < len(text) and not stream.joined(nxt - 1)
                and not NOT_CALLERS.search(text, m.end(), nxt) and not ADDRESS_TRIGGERS.search(text, nxt, nxt + 8)):
            found = _address_from(stream, nxt)  # 地址写错了，应该是…: the address is in the next clause
            # (after a pickup point the clause named, a street with no house number says where the point is, a public
            # landmark: 送到楼下的菜鸟驿站，就是人民路上全家便利店旁边那个)
            if found and POINT.search(text, m.end(), nxt) and not HOUSE_NUMBER.search(text, found.start, found.end):
                found = None
        if found:
            out.append(found)
    # (a street ending its clause is an address when its house comes after a filler: PAUSED)
    paused = [m for m in PAUSED.finditer(text) if m.end() < len(text) and _street_paused(stream, m.end())]
    out += [Found("address", m.start(), m.end()) for m in HUTONG.finditer(text)]
    # (a township's name starts its clause or follows the county, and so may a village's: read clause by clause,
    # not across a comma)
    by_clause = [m for k in stream.clause_starts() for pattern in (TOWN_STREET, VILLAGE_HOME)
                 if (m := pattern.search(text, k, stream.clause_end(k, len(text))))]
    for m in (*HOME.finditer(text), *PLACED.finditer(text), *RURAL.finditer(text), *FLAT.finditer(text),
              *ESTATE.finditer(text), *DORM.finditer(text), *BINGTUAN.finditer(text), *CROSSING.finditer(text),
              *SHOP.finditer(text), *WORKS.finditer(text), *by_clause, *paused):
        if any(stream.gaps[k] in BREAKS and not _trails_off(stream, k + 1) for k in range(m.start(), m.end() - 1)):
            continue  # a shape read across a comma (…那个小区，12号楼) is two clauses, not one address
        start = stream.clause_start(m.start())
        start = max([start, *_trigger_ends(text, start, m.start())])
        # who or what is there, said before 在 (物业在阳光花园一期4栋) or 是 (新房是…小区8栋): the place is what
        # comes after it (a door number's word before 是, 房号是…, is still hidden with it, as tests/test_pii.py has it)
        # (and what to write, 宿舍就写7栋602: the address is what follows 就写; where to leave a parcel, 就放…)
        start = max([start, *(k + 1 for k in range(start + 1, m.start())
                              if text[k] == "在" or (text[k] == "是" and not DOOR_WORD.search(text, start, k))
                              or text.startswith(("就写", "就放"), k - 1))])
        firm = NOT_CALLERS.search(text, max(0, start - 8), m.start())
        if (firm and firm.group() != "我们") or FIRMS_ADDRESS.search(text, 0, start):
            continue
        found = _address_from(stream, start)
        # (我们 down to a village's group is a household: a firm has no premises there, 我们在…汲冢镇王庄村三组)
        if found and (firm is None or VILLAGE_GROUP.search(text, found.start, found.end)):
            out.append(found)
    out += _in_english(stream) + _dashed_flats(stream)
    out += [f for f in map(lambda at: _address_from(stream, at), corrections(stream, out)) if f]
    out += [Found("address", m.start("said"), m.end())
            for m in (MENDED.match(text, f.end) for f in out)
            if m and (m["fix"] or m["unit"]) and not _negated(stream, m)]
    out += [Found("address", m.start(), m.end()) for m in (UNITS_IN_ENGLISH.match(text, f.end) for f in out) if m]
    out += [again for f in out if (again := _street_named_again(stream, f))]
    out += [Found("address", f.end, m.end()) for f in out if f.end < len(text) and stream.opens_clause(f.end)
            and (m := DIRECTIONS.fullmatch(text, f.end, stream.clause_end(f.end, len(text))))]
    out += [Found("address", m.start(), way.end()) for m in TOWN.finditer(text)
            if (way := DIRECTIONS.fullmatch(text, m.end(), stream.clause_end(m.end(), len(text))))]
    villages = [Found("address", m.start(), way.end()) for m in VILLAGE.finditer(text)
                if (way := DIRECTIONS.fullmatch(text, m.end(), stream.clause_end(m.end(), len(text))))]
    out += villages + [Found("address", f.end, m.end()) for f in villages if f.end < len(text)
                       and stream.opens_clause(f.end)
                       and (m := DIRECTIONS.fullmatch(text, f.end, stream.clause_end(f.end, len(text))))]
    out += [f for f in map(lambda m: _ward(stream, m), BED.finditer(text)) if f]
    out += _flats_after(stream, out)
    out += _floor_then_room(stream, out)
    out += [Found("address", m.start(), m.end()) for m in FLOOR_HOME.finditer(text)]
    out += [f for m in RENUMBERED.finditer(text) for f in _renumbered(m)]
    out += [Found("address", m.start(g), m.end(g)) for m in RESTATED.finditer(text) for g in ("first", "second")
            if not NOT_CALLERS.search(text, max(0, m.start() - 8), m.start())]
    out += _in_pieces(stream)
    out += [Found("address", m.start(), m.end("s")) for m in STREET_AGAIN.finditer(text)
            if any(f.start <= m.end("s") < f.end for f in out)]
    out += _rooms_after_home(stream)
    out += [f for f in _landmark_homes(stream) if not NOT_CALLERS.search(text, max(0, f.start - 8), f.start)]
    out += [Found("address", m.start("at"), m.end()) for m in PICKUP.finditer(text)
            if stream.in_one_clause(m.start(), m.end())
            and not NOT_CALLERS.search(text, max(0, m.start() - 8), m.start())]
    out += [Found("address", m.start("said"), m.end()) for m in DOOR_NUMBER.finditer(text)
            if any(0 <= m.start() - f.end <= FLAT_AFTER_REACH for f in out)]
    out += _tails_said(stream)
    out += _numbers_again(stream, out) + _numbers_insisted(stream, out)
    out += [Found("address", m.start("at"), m.end()) for f in out if f.start > 0 and stream.opens_clause(f.start)
            and (m := LANDMARK_ESTATE.fullmatch(text, stream.clause_start(f.start - 1), f.start))]
    # a room said 房间 (716房间, as a hotel's, a care home's or a ward's is): the 间 belongs to the 房 it ends on
    out = [replace(f, end=f.end + 1) if text[f.end - 1:f.end + 1] == "房间" else f for f in out]
    out = [_past_home(stream, f) for f in out]
    # a shop's, named as where something was bought or found (建国路93号万达广场那个店买的), or the firm's service
    # point (SHOP_NAMED): public
    out = [f for f in out if not (f.end < len(text) and stream.joined(f.end - 1) and SHOP_NAMED.match(text, f.end))]
    # a trigger and a structure can find one address twice, or one inside the other
    return [f for f in dict.fromkeys(out) if not any(g != f and g.start <= f.start and f.end <= g.end for g in out)]


# A flat by building, unit and room joined by dashes after its estate or the estate's zone (龙湖新壹城B区7-2-3,
# 锦绣山庄C区14-3): read on the original text, as the normalised one has no dashes
DASHED_FLAT = re.compile(r"(?:小区|花园|家园|苑|城|山庄|公寓|新村|[A-Za-z东南西北中]区)"
                         r"\s*\d{1,3}(?:-\d{1,4}){1,2}(?![\d-])")
# (or the firm's service point the agent sends the caller to: …香港中路12号的服务网点, …的营业厅)
SHOP_NAMED = re.compile(r"(?:那个|那家|这个|这家)(?:门店|店|专卖店|商场)"
                        r"|的(?:服务|维修|售后)?(?:网点|维修点|维修站|服务中心|服务站|营业厅)")
# A home with no street or number, given by the way from a landmark to it (在人民医院对面那个铁皮房,
# 找镇政府对面银行楼上三楼, 说加油站往北第二个路口右拐的红房子): an address when the clause beside it says it is
# the caller's home (就是我家, 我家就那一栋) or that it has no door number (没门牌); the words before 在, 找 or 说
# are who goes there
LANDMARK_WAY = re.compile(f"[在找说](?P<at>[\u4e00-\u9fff{_NUM}a-z]{{2,20}}?"
                          f"(?:对面|旁边|后面|隔壁|楼上|往[东南西北]|[左右]拐)"
                          f"[\u4e00-\u9fff{_NUM}a-z]{{0,14}}?(?:房子|房|屋|[{_NUM}]+[楼层]|那栋|那户))")
HOME_SAID = re.compile(r"就是我家|是我家|我家就|没门牌")
# An estate placed by a landmark in the clause just before its address (在沃尔玛后面那个老小区，红旗小区8栋): the
# way to it, hidden with the address it leads to; said without 在 between two parts of an address (…1500号，
# 第一八佰伴后面那个小区，12号楼) it is a landmark beside it, public
# (or said right after the district, the way there the street's place: 城阳区火车站西边那个回迁楼，和悦苑八栋…)
LANDMARK_ESTATE = re.compile("(?:就?在|[\u4e00-\u9fff]{1,6}?[区县])(?P<at>[\u4e00-\u9fffa-z]{2,12}?"
                             "(?:对面|旁边|后面|隔壁|附近|[东南西北]边)"
                             "(?:那个|的)[\u4e00-\u9fff]{0,3}?(?:小区|回迁楼|家属院))")


def _street_named_again(stream: Stream, f: Found) -> Found | None:
    """The hesitation and the street's name after address ``f`` (STREET_NAMED), from ``f``'s end to the name's."""
    text = stream.text
    if f.end == len(text) or text[f.end - 1] not in "路街道":
        return None
    on = past_fillers(stream, f.end)
    if on == len(text) or not stream.opens_clause(on):
        return None
    street = STREET_NAMED.fullmatch(text, on, stream.clause_end(on, len(text)))
    return Found("address", f.end, street.end()) if street else None


def _negated(stream: Stream, m: re.Match[str]) -> bool:
    """Whether a MENDED number is the one the caller says it is not (…23栋，不是32栋啊): 不是 run straight into it, with
    no pause or 是 between (unlike …七零一，不是，七零二), names the wrong reading, no part of the home."""
    return m["fix"] == "不是" and m.start("said") == m.end("fix") and stream.joined(m.end("fix") - 1)


def _landmark_homes(stream: Stream) -> list[Found]:
    """Each LANDMARK_WAY that is its clause's end, with HOME_SAID in the clause before or after it."""
    text, out = stream.text, []
    for start in stream.clause_starts():
        end = stream.clause_end(start, len(text))
        way = last_match(LANDMARK_WAY, text, start, end)
        if way is None or way.end() != end or QUESTION.search(text, start, end):
            continue
        before = stream.clause_start(start - 1) if start > 0 else start
        after = stream.clause_end(end, len(text))
        if HOME_SAID.search(text, before, start) or HOME_SAID.match(text, end, after):
            out.append(Found("address", way.start("at"), way.end()))
    return out


# A care home, as public as a hospital: where one lives in it is its building and room (仁爱养老院3号楼205房间)
CARE_HOME = re.compile(f"(?:养老院|敬老院|护理院|福利院|养老中心|护理中心)(?=[{_NUM}]+[号楼栋座层室])")

# ... its floor, wing and room said in the clause after its name (康乐护理院，三楼西区306房): where the resident lives
INSTITUTION_END = re.compile(r"(?:养老院|敬老院|护理院|福利院|养老中心|护理中心|医院|住院部)$")
ROOM_CLAUSE = re.compile(f"[{_NUM}]+[楼层](?:[东南西北中a-z]区)?[{_NUM}]{{2,4}}(?:房间|房|室|床)?")


def _rooms_after_home(stream: Stream) -> list[Found]:
    """Each clause that is only a ROOM_CLAUSE, right after a clause ending with a care home's or hospital's name."""
    text = stream.text
    return [Found("address", k, m.end()) for k in stream.clause_starts()
            if k > 0 and INSTITUTION_END.search(text, stream.clause_start(k - 1), k)
            and (m := ROOM_CLAUSE.fullmatch(text, k, stream.clause_end(k, len(text))))]


def _past_home(stream: Stream, f: Found) -> Found:
    """An address that opens with a care home's name before its building: the home stays, as a hospital does. One
    read from its clause's start whose ward comes after 到 or 在 (护工说老人家转到住院部B栋…): the words before it are
    who went there, not where."""
    home = CARE_HOME.search(stream.text, f.start, f.end)
    if home:
        return replace(f, start=home.end())
    ward = HOSPITAL.search(stream.text, f.start + 1, f.end)
    if ward and stream.text[ward.start() - 1] in "到在" and stream.opens_clause(f.start):
        return replace(f, start=ward.start())
    return f


def _in_pieces(stream: Stream) -> list[Found]:
    """The addresses said in pieces, a clause each (PIECE): every run of two pieces or more that has a door or
    a township and its village."""
    text, out = stream.text, []
    run: list[re.Match[str]] = []
    for start in stream.clause_starts():
        end = stream.clause_end(start, len(text))
        piece = _piece(text, start, end, first=not run)
        if piece is None and run and FILLER_CLAUSE.fullmatch(text, start, end):
            continue  # 翠湖花园，嗯，7栋: a hesitation between two pieces
        if piece is None and run:
            out += _run_found(run)
            piece = _piece(text, start, end, first=True)  # this clause may open the next run
            run = []
        run += [piece] if piece else []
    return out + _run_found(run)


def _run_found(run: list[re.Match[str]]) -> list[Found]:
    """The pieces of a run, when they make an address: two or more, naming a place (numbers alone, 138，1234，5678,
    are a phone's groups) and coming down to its door, or a township and its village."""
    kinds = {k for m in run for k, v in m.groupdict().items() if v}
    named = kinds & {"town", "village", "place"}
    if len(run) < 2 or not named or not ("door" in kinds or {"town", "village"} <= kinds):
        return []
    return [Found("address", m.start(), m.end()) for m in run]


def _piece(text: str, start: int, end: int, first: bool) -> re.Match[str] | None:
    """The PIECE the clause ``text[start:end]`` is; the first of a run may follow a few words in its clause,
    ending with one of PIECE_LEAD (小区是翠湖花园, 临泉县杨桥镇)."""
    piece = PIECE.fullmatch(text, start, end)
    for k in range(start + 1, min(end, start + PIECE_LEAD_REACH) if first and piece is None else start):
        if text[k - 1] in PIECE_LEAD and (piece := PIECE.fullmatch(text, k, end)):
            break
    return piece


def _renumbered(m: re.Match[str]) -> list[Found]:
    """The two street addresses of a RENUMBERED match: from each street's name to its 号."""
    street = m["s"] or m["t"]
    lead = 2 if m["s"] else 1  # 不是 or 是
    first = m.start() + lead
    second = m.end() - len(m.group().rsplit(street, 1)[1]) - len(street)
    return [Found("address", first, m.group().index("号", lead) + m.start() + 1), Found("address", second, m.end())]


def _in_english(stream: Stream) -> list[Found]:
    """Each address written in English (ENGLISH_STREET) in a segment, unless the firm's (NOT_CALLERS before it)."""
    out: list[Found] = []
    for seg, norm in enumerate(stream.norms):
        for m in ENGLISH_STREET.finditer(norm.original):
            hidden = stream.within(seg, m.start(), m.end())
            if hidden and not NOT_CALLERS.search(stream.text, max(0, hidden[0] - 8), hidden[0]):
                out.append(Found("address", hidden[0], hidden[-1] + 1))
    return out


def _trigger_ends(text: str, start: int, stop: int) -> list[int]:
    """Where each address trigger (寄到, 住在) between ``start`` and ``stop`` ends: an address may start there."""
    return [t.end() for t in ADDRESS_TRIGGERS.finditer(text, start, stop)]


def _dashed_flats(stream: Stream) -> list[Found]:
    """Each flat given by building, unit and room joined by dashes after its estate (DASHED_FLAT), from below the
    district before it, unless the firm's."""
    out: list[Found] = []
    for seg, norm in enumerate(stream.norms):
        for m in DASHED_FLAT.finditer(norm.original):
            hidden = stream.within(seg, m.start(), m.end())
            if not hidden:
                continue
            start = stream.clause_start(hidden[0])
            start = max([start, *_trigger_ends(stream.text, start, hidden[0])])
            if not NOT_CALLERS.search(stream.text, max(0, start - 8), hidden[0]):
                out.append(Found("address", _admin_end(stream.text, start, hidden[0]), hidden[-1] + 1))
    return out


def _flats_after(stream: Stream, found: list[Found]) -> list[Found]:
    """A flat said in a clause of its own soon after an address (…麓山南路两百三十二号，幺栋两单元三洞两): the
    same home, though a flat alone opens no address (_address_from wants a street before it)."""
    text, out = stream.text, []
    for m in FLAT.finditer(text):
        if stream.opens_clause(m.start()) and any(0 <= m.start() - f.end <= FLAT_AFTER_REACH for f in found):
            end = m.end()
            while end < len(text) and stream.joined(end - 1) and (text[end] in HOUSE or text[end] in DIGIT_VALUE):
                end += 1
            out.append(Found("address", m.start(), end))
    # a floor and its room said alone in the clause after an address (…三号宿舍楼，五楼508): the flat there
    out += [Found("address", m.start(), m.end()) for m in FLOOR_ROOM.finditer(text)
            if stream.opens_clause(m.start()) and stream.clause_end(m.start(), len(text)) == m.end()
            and any(0 <= m.start() - f.end <= FLAT_AFTER_REACH for f in found)]
    return out


def _floor_then_room(stream: Stream, found: list[Found]) -> list[Found]:
    """A floor said in a clause of its own right after an address (FLOOR_SAID), then maybe a room in the clause
    after the floor (ROOM_SAID)."""
    text, out = stream.text, []
    for f in found:
        if f.end >= len(text) or not stream.opens_clause(f.end):
            continue
        floor = FLOOR_SAID.fullmatch(text, f.end, stream.clause_end(f.end, len(text)))
        if floor is None:
            continue
        out.append(Found("address", floor.start("at"), floor.end("at")))
        on = floor.end()
        room = ROOM_SAID.fullmatch(text, on, stream.clause_end(on, len(text))) if on < len(text) else None
        out += [Found("address", room.start("at"), room.end("at"))] if room else []
    return out


def _site_part(text: str, k: int) -> bool:
    """Whether the 区 at ``k`` names a part of a site (江安校区, 龙华园区, C区), not a district (苏州工业园区
    is one)."""
    return (text[k] == "区" and k > 0 and (text[k - 1] in CAMPUS or text[k - 1].isascii() or _market_zone(text, k))
            and not text.endswith("工业园", 0, k))


def _market_zone(text: str, k: int) -> bool:
    """Whether the 区 at ``k`` is a numbered zone of a market or mall (商贸城二区, 批发市场3区), not a district."""
    j = k - 1
    while j > 0 and text[j] in _NUM:
        j -= 1
    return j < k - 1 and MARKET_END.search(text, 0, j + 1) is not None


def _admin_end(text: str, start: int, stop: int, lone: bool = True) -> int:
    """Where the province, city and district said from ``start`` end: after the last admin character before
    ``stop`` (or a Hong Kong district), as long as it still names a region (``lone``: a 市 or 县 at ``start``
    itself names one; a hospital's 市第一人民医院 does not). Below a district or county a 市 is a word (万科城市之光,
    农贸市场) and a numbered or a side's 区 a part of a site (科学城一区, 望京西园三区, 科技园南区), not a city or a
    district (二七区 is one); below a township (a 镇 or 乡 with a name of two characters or more: 塘下镇, not 镇江市
    or 新乡市) no admin character is kept (塘下镇鲍田工业区, 漕河镇县人民医院: the zone and the hospital are the
    town's)."""
    keep = start
    for k in range(start if lone else start + 1, stop):
        if text[k] in "镇乡" and k - keep >= 2:
            break
        if text[k] == "市" and k - keep == 1 and text[k + 1 : k + 2] in ("镇", "乡"):
            continue  # a town named with 市 (昆山市周市镇): the township's name, not a city
        below = keep > start and text[keep - 1] in "区县旗" and not text.endswith("地区", 0, keep)
        # (so is a side's 区 there, 南山区科技园南区: a site's part, not Hong Kong's 南区)
        if below and (text[k] == "市" or (text[k] == "区" and text[k - 1] in _NUM + "东南西北")):
            continue
        if text[k] in ADMIN and not _site_part(text, k):
            keep = k + 1
        area = AREAS.match(text, k, stop)  # 沙田区沙田正街: the second 沙田 is the street's
        if area and k >= keep and not (below and area.group().endswith("区")):
            keep = area.end()
    return keep


def _address_end(stream: Stream, start: int) -> int:
    """Where an address clause from ``start`` ends: at its clause's end, or past a filler clause or two when the
    clause after them goes on with the house (解放南路，嗯，那个，256号; …18号，那个，生态园9栋B座1203)."""
    end = stream.clause_end(start, start + MAX_ADDRESS)
    while end < len(stream.text) and not stream.joined(end - 1) and _goes_on(stream, end):
        on = past_fillers(stream, end)
        end = stream.clause_end(on, on + MAX_ADDRESS)
    return end


def _goes_on(stream: Stream, end: int) -> bool:
    """Whether an address whose clause ends at ``end`` goes on with its house after a filler clause or two: the
    clause after them holds a flat (…18号，那个，生态园9栋B座1203), or opens with a number or floor where the
    address stopped short of one (解放南路，嗯，256号; …1818中心，嗯，13楼; not …八百号，嗯，八百零八号: a house
    number said again, MENDED's)."""
    on = past_fillers(stream, end)
    text, stop = stream.text, stream.clause_end(on, on + MAX_ADDRESS)
    if _trails_off(stream, end):
        return True
    if on == end and not _segment_opened_by_filler(stream, end):
        # a caller reading slowly gives the house, building or floor a clause of its own, with no filler before it
        # (小寨东路，一二六号; …一七七号，二十三楼): the clause is that number alone; after a building, its flat's
        # number needs no word (…九栋，一零零二)
        return bool(HOUSE_NUMBERS.fullmatch(text, on, stop)
                    or (text[end - 1] in BUILT and ROOM_NUMBER.fullmatch(text, on, stop)))
    short = text[end - 1] not in HOUSE and text[end - 1] not in DIGIT_VALUE
    # (an estate's building after a filler, …九三二号，那个，学生公寓七栋, is the home's too, and so is a building
    # after its house number, …一八八号，呃，九栋)
    return bool(FLAT.search(text, on, stop) or ESTATE.search(text, on, stop)
                or (short and HOUSE_NUMBER.match(text, on)) or BLOCK.fullmatch(text, on, stop))


def _ward(stream: Stream, bed: re.Match[str]) -> Found | None:
    """A hospital bed's address, when its clause names a hospital or ward before it: from the clause's start,
    or past a trigger (寄到) or the 在/到/送 that goes to the hospital (人在湘雅二医院, 直接到住院部), to the 床;
    the province, city and district before it stay, as a street address's do."""
    text, start = stream.text, stream.clause_start(bed.start())
    hospital = HOSPITAL.search(text, start, bed.start())
    if hospital is None:
        return None  # 医院有三百张床
    starts = [start, *_trigger_ends(text, start, hospital.start())]
    starts += [k + 1 for k in range(start, bed.start())
               if text[k] in "在到送" and HOSPITAL.search(text, k + 1, bed.start())]
    # the ward named, then the place (病房是心内科3病区17床): the words naming it are no part of it
    starts += [h.end() + 1 for h in HOSPITAL.finditer(text, start, bed.start()) if text[h.end()] == "是"]
    start = max(starts)
    first = HOSPITAL.search(text, start, bed.start())
    keep = _admin_end(text, start, first.start() if first else start, lone=False)
    return Found("address", keep, bed.end())


TRAILING_FILLER = re.compile(f"{FILLER_CLAUSE.pattern}$")
MAX_FILLER = 4  # characters of the filler clause opening a segment (呃, 那个, 嗯那个)


# The last piece of an address said alone, named as such (地址最后是601室; 门牌号是32号): the house or flat, hidden
# as it is inside a whole address
ADDRESS_TAIL = re.compile(f"(?:地址(?:最后|后面)(?:是|为)?|(?:{DOOR_WORD.pattern})(?:是|为)?)"
                          f"(?P<said>[{_NUM}]+[a-z]?(?:号楼|号|室|栋|幢|单元))")
# A house number said again in the next clause: read back in words (601室，六零一) or asked the other way (32号吗？
# 还是23号？)
AGAIN = re.compile(f"(?:还是|或者)?(?P<said>[{_NUM}]+(?:号楼|号|室|栋|幢|单元)?)(?:吗|吧|呢)?")
AGAIN_REACH = 3  # characters of words (吗，) between the number and the clause saying it again


def _tails_said(stream: Stream) -> list[Found]:
    """The house or flat said alone after the words that name it a piece of an address (ADDRESS_TAIL)."""
    return [Found("address", m.start("said"), m.end()) for m in ADDRESS_TAIL.finditer(stream.text)
            if stream.in_one_clause(m.start(), m.end())]  # (not 核对一下门牌号，是8号楼…吗: a question on its own)


def _numbers_again(stream: Stream, found: list[Found]) -> list[Found]:
    """A house number said again, in a clause of its own right after an address ending at a number (AGAIN): in
    other digits (601室，六零一) or the other way round (32号吗？还是23号？), as many digits either way."""
    text, out = stream.text, []
    for f in found:
        digits = _digits(text[f.start:f.end])
        k = next((k for k in range(f.end, min(len(text), f.end + AGAIN_REACH + 1)) if stream.opens_clause(k)), None)
        if not digits or k is None or (text[f.end - 1] not in "号室栋幢元楼" and text[f.end - 1] not in DIGIT_VALUE):
            continue
        m = AGAIN.fullmatch(text, k, stream.clause_end(k, len(text)))
        said = _digits(m["said"]) if m else []
        if m and sorted(said) == sorted(digits[-len(said):]) and len(said) == len(digits):
            out.append(Found("address", m.start("said"), m.end("said")))
    return out


# A house or flat number insisted on against a wrong reading in the clauses right after it (…文三路478号，不是487，
# 是478号, pii/s44d): nothing is taken back, so the wrong reading, the words and the number said again are the home's
INSISTED = re.compile(f"不是(?P<wrong>[{_NUM}]+)[号室]?是(?P<said>[{_NUM}]+)[号室]?")
NUMBER_ENDING = re.compile(f"(?P<said>[{_NUM}]+)[号室]?$")


def _numbers_insisted(stream: Stream, found: list[Found]) -> list[Found]:
    """The INSISTED clauses after an address ending at a number, when the number said again is that one and the
    wrong reading has as many digits."""
    text, out = stream.text, []
    for f in found:
        ending = NUMBER_ENDING.search(text, f.start, f.end)
        if ending is None or f.end == len(text) or not stream.opens_clause(f.end):
            continue
        m = INSISTED.match(text, f.end)
        said = _digits(m["said"]) if m else []
        if m and said and said == _digits(ending["said"]) and len(_digits(m["wrong"])) == len(said):
            out.append(Found("address", f.end, m.end()))
    return out


def _digits(said: str) -> list[str]:
    """The digits of what is said, in characters or written (四百七十八号, 478号: 4, 7, 8)."""
    return [DIGIT_VALUE[ch] for ch in said if ch in DIGIT_VALUE]


def _segment_opened_by_filler(stream: Stream, end: int) -> bool:
    """Whether the clause ending at ``end`` ends with a filler that opened the caller's next segment (湖滨南路|呃
    三三四号): the clause ran on across the boundary only to the filler, and the address goes on after it."""
    return any(stream.gaps[k - 1] == GAP_JOIN and FILLER_CLAUSE.fullmatch(stream.text, k, end)
               for k in range(max(1, end - MAX_FILLER), end))


def _trails_off(stream: Stream, end: int) -> bool:
    """Whether the clause ending at ``end`` trails off with a hesitation before any street is named (市南区呃，
    香港中路), or ends on its district (大连市中山区，人民路118号): the address goes on in the next clause, the
    hesitation hidden with it."""
    start = stream.clause_start(end - 1)
    ends = bool(TRAILING_FILLER.search(stream.text, start, end)) or stream.text[end - 1] in "区县旗"
    return ends and not STREET.search(stream.text, start, end)


def _street_paused(stream: Stream, end: int) -> bool:
    """Whether a street ending at ``end`` ends its clause and its house comes after a filler (PAUSED): a comma, or the
    end of the caller's segment, the next opening with a filler said alone (湖滨南路|呃 三三四号)."""
    if stream.gaps[end - 1] == GAP_JOIN:
        return past_fillers(stream, end) > end and _goes_on(stream, end)
    return not stream.joined(end - 1) and _goes_on(stream, end)


def _address_from(stream: Stream, at: int) -> Found | None:
    """The address in the clause from ``at`` (after its trigger or at its start): the street, house,
    building and flat, not the province, city and district before them; None if it names no street."""
    text = stream.text
    a = ADDRESS_FILLER.match(text, at)
    start = a.end() if a else at
    end = _address_end(stream, start)
    stop = ADDRESS_STOPS.search(text, start, end)
    if stop:
        end = stop.start()
    street = (STREET.search(text, start, end) or FLAT.search(text, start, end) or ESTATE.search(text, start, end)
              or DORM.search(text, start, end) or SHOP.search(text, start, end) or BLOCK.search(text, start, end))
    # (a flat down to its room names a home with no estate before it: 我是五栋一单元六零二的业主)
    pointed = (street is not None and street.re is not FLAT
               and POINTER.fullmatch(text, start, street.start()) is not None)
    nameless = pointed and street.start() == start
    if street is None or nameless or QUESTION.search(text, start, street.end()):
        return None  # no street, a street with no name (送到村里), or a question (请问您住在哪个小区)
    # keep the province/city/district: everything up to the last admin character before the street,
    # one that leaves a street name of two characters or more (not the 市 of 环市东路)
    keep = _admin_end(text, start, street.start() - 2)
    # a township said after a city and district with no 市 or 区 (上海闵行莘庄镇…): they end where its name starts
    town = TOWN_SAID.search(text, keep + TOWN_NAME, street.start()) if keep == start else None
    if town:
        keep = town.start() - TOWN_NAME
    # a regiment: what comes before its number is the place (新疆石河子; not the 团 of an estate's 组团)
    if text[street.start() - 1] == "团" and text[street.end() - 1] == "连":
        regiment = street.start() - 1
        while regiment > start and text[regiment - 1] in _NUM:
            regiment -= 1
        keep = max(keep, regiment)
    # hide up to the last house number, building or flat (or the street, if none is said)
    last = max(m.end() for m in (street, *STREET.finditer(text, street.end(), end)))  # 岸堤镇朱家林村
    # (not a village's name: the 楼 of 丁楼村 is no house, the 村 after it ends the address; nor the 楼 of a 楼盘, an
    # estate's kind said after its building: …俊发城二期十九栋那个新楼盘)
    for k in range(street.end(), end):
        if (text[k] in HOUSE or text[k] in DIGIT_VALUE) and not (k + 1 < end and text[k + 1] in "村盘"):
            last = k + 1
    # an entrance after its number (5栋2门) or a desk by its row (9楼第二排工位): the last of a flat or a workplace
    tail = SUB_UNIT.match(text, last, end)
    if text[last - 1] in _NUM and tail:
        last = tail.end()
    # a market's stall after its number (312铺, 218档, 12345号商位): the last of a shop's address
    stall = STALL.match(text, last, end)
    if text[last - 1] in _NUM + "号" and stall:
        last = stall.end()
    front = SHOPFRONT.match(text, last, end)
    if text[last - 1] in "楼栋幢" and front:
        last = front.end()
    # a building named right after the number, not one further on (…18号旁边的购物中心)
    building = BUILDING.search(text, last, end)
    if building and "的" not in text[last : building.start()]:
        last = building.end()
    # a flat's letter after its floor (15楼D) or its number (3栋15A), alone, not the start of a word
    lone_letter = last < end and _is_latin(text[last]) and not (last + 1 < end and _is_latin(text[last + 1]))
    if lone_letter and (text[last - 1] in "楼层" or text[last - 1] in _NUM):
        last += 1
    works = WORKS_TAIL.fullmatch(text, last, stream.clause_end(last, end)) if last < end else None
    last = works.end() if works and stream.joined(last - 1) else last
    if last < end and stream.joined(last - 1):
        landmark = RUN_ON_LANDMARK.fullmatch(text, last, stream.clause_end(last, end))
        last = landmark.end() if landmark else last
    if pointed and last == street.end():
        return None  # pointed at, not named, and no house after it: 我住的那个小区挺老的
    if keep > 0 and stream.opens_clause(keep):  # 中山区，那个，人民路…: the district's pause and fillers stay shown
        keep = past_fillers(stream, keep)
    return Found("address", keep, last) if keep < last else None


def _is_latin(ch: str) -> bool:
    return "a" <= ch <= "z"
