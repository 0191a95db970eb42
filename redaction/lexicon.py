"""Word lists the recognizers share, in Simplified script (text is normalised before matching)."""

from __future__ import annotations

# Common single-character surnames (百家姓, the most frequent ~150) and compound surnames.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂"
    "章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解"
    "牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎"
    "甄丛仲虞敖巩明佘池查麻苑迟邝")
COMPOUND_SURNAMES = frozenset({"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒",
                               "夏侯", "长孙", "宇文", "端木", "南宫"})

# Titles and roles that mark a person when written right after (or before) a name.
TITLES_AFTER = ("总经理", "副总经理", "经理", "总监", "副总裁", "总裁", "董事长", "主管", "负责人", "联系人", "店长", "专员",
                "主任", "部长", "院长", "博士", "教授", "老师", "先生", "女士", "小姐", "工程师", "设计师", "组长", "顾问",
                "总", "处长", "科长", "局长", "厂长", "校长", "会长", "秘书长", "创始人", "合伙人", "策划", "同学", "阿姨",
                "助理", "主播", "达人", "博主", "客服", "店员", "督导", "区域经理", "副总")
# Strong: a name follows these directly. Weak: a name may follow, but jieba must confirm it is a word of its own.
TITLES_BEFORE = ("总经理", "经理", "总监", "主管", "负责人", "联系人", "联络人", "店长", "专员", "主任", "部长", "创始人", "CEO",
                 "CMO", "COO", "CFO", "CTO", "VP", "董事长", "总裁", "顾问", "主播", "博主", "达人", "受访者", "采访对象",
                 "对接人", "执行人", "审核人", "提交人", "开户人", "户名", "持卡人", "收款人", "付款人", "垫付人", "申请人",
                 "加盟商", "供应商", "员工", "财务", "成员", "寄给", "发给", "交给", "转给", "请联系", "讲师", "老师", "设计师",
                 "工程师", "助理", "同事", "店员", "督导", "投诉人", "报名人", "联系")
WEAK_TITLES_BEFORE = ("由", "客户", "用户", "会员", "作者", "联系")
# "…的手机" and the like: a name right before a possessive personal datum.
PERSONAL_AFTER = ("的手机", "的电话", "的邮箱", "的身份证", "的证件", "的银行卡", "的工号", "的保证金", "的坑位费", "的出场费",
                  "的地址", "的微信", "的账户", "的护照")
SENTENCE_END = ("。", "；", "！", "？", ";", "!", "?")
SPEECH_AFTER = ("表示", "指出", "认为", "介绍", "提到", "坦言", "透露", "回忆", "建议", "强调", "负责")
# A name ends before these: function words, verbs and punctuation that cannot be part of a given name.
NAME_BREAK = frozenset("表说在的是和与及、,，。;；:：（(“\"'对认指介称也都就将已曾向为从跟同把被让等所带做提回分负")

# Brands and organisations whose names start with a surname character (not people).
NOT_PEOPLE = frozenset({"华为", "李宁", "王老吉", "周大福", "周黑鸭", "钟薛高", "海底捞", "元气森林", "蔚来", "小米", "万达",
                        "苏宁", "国美", "金龙鱼", "康师傅", "娃哈哈", "白象", "安踏", "马应龙", "方太", "老板", "高德", "贝壳",
                        "喜茶", "奈雪", "蜜雪冰城", "瑞幸", "星巴克", "麦当劳", "肯德基", "宜家", "汤臣倍健", "林清轩", "花西子",
                        "完美日记", "三只松鼠", "沙龙", "连麦", "百草味", "良品铺子", "卫龙", "龙湖", "万科", "金蝶", "用友", "字节", "小红书"})

# Words that make a bare 万/亿 amount a sum of money.
MONEY_CONTEXT = ("预算", "费用", "年费", "报价", "课酬", "报酬", "合同额", "合作", "成本", "投入", "花费", "支出", "营收", "收入", "销售额", "营业额", "GMV", "gmv", "利润", "毛利",
                 "金额", "价格", "售价", "客单价", "客单", "市场规模", "规模", "融资", "估值", "投资", "报价", "采购额", "返利",
                 "补贴", "奖金", "佣金", "薪资", "工资", "资金", "回款", "流水", "成交额", "交易额", "销售", "业绩", "产值",
                 "budget", "revenue", "cost", "spend", "sales", "price", "profit", "funding")
# Units that make a number a count, not money.
COUNT_UNITS = ("次", "条", "张", "人", "个", "家", "件", "份", "笔", "位", "名", "户", "篇", "粉", "用户", "曝光", "播放",
               "阅读", "浏览", "下载", "访问", "单", "台", "辆", "瓶", "杯", "盒", "套", "支", "款", "场", "小时", "分钟",
               "天", "周", "月", "年", "平方", "公里", "米", "吨", "斤", "箱", "包", "点击", "互动", "转发", "评论", "点赞",
               "关注", "观看", "会员", "门店", "店", "例", "项", "期", "届", "轮", "帖", "字", "页", "集", "册", "号")

# English first names (common) for English person detection without a title.
EN_FIRST_NAMES = frozenset("""
James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew Anthony Mark Donald
Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric
Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry
Tyler Aaron Jose Adam Nathan Henry Douglas Zachary Peter Kyle Ethan Walter Noah Jeremy Christian Keith Roger Terry Gerald
Harold Sean Austin Carl Arthur Lawrence Dylan Jesse Jordan Bryan Billy Joe Bruce Gabriel Logan Albert Willie Alan Juan
Wayne Elijah Randy Roy Vincent Ralph Eugene Russell Bobby Mason Philip Louis Mary Patricia Jennifer Linda Elizabeth
Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda
Dorothy Melissa Deborah Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole
Helen Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather Diane Ruth Julie Olivia Joyce
Virginia Victoria Kelly Lauren Christina Joan Evelyn Judith Megan Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa
Ann Sara Madison Frances Kathryn Janice Jean Abigail Alice Judy Sophia Grace Denise Amber Doris Marilyn Danielle Beverly
Isabella Theresa Diana Natalie Brittany Charlotte Marie Kayla Alexis Lori Tom Tim Jim Mike Ben Sam Max Leo Lucy Kate Amy
Tony Vivian Cindy Wendy Jenny Jackie Eason Allen Ivy Iris Irene Grace Coco Kevin Leon Vincent Jerry Alex Chris Nina Rita
Sophie Zoe Chloe Ella Lily Mia Ava Ryan Owen Luke Liam Oliver Lucas Evan Ian Neil Derek Simon Oscar Felix Victor Hugo
""".split())
EN_FIRST_NAMES = EN_FIRST_NAMES | frozenset("""Jane Grace Olivia Sophia Chloe Lucy Alice Helen Kelly Tony Vivian Cindy
Tiffany Jenny Ivy Coco Eva Fiona Iris Joyce Judy Kate Leo Max Nina Rose Sally Tina Vicky Wendy Zoe Hannah Julia Claire""".split())
EN_FIRST_NAMES = EN_FIRST_NAMES | frozenset("""Mei Wei Jing Ling Ming Hui Yan Jun Hao Xin Fang Min Tao Qiang Lei Yue Xiao
Hong Hua Jie Bo Yi Na Qing Rui Shan Ting Xue Ying Zhen Chun Dan Feng Gang Jian Kai Lan Long Ping Wen Yong Zhi""".split())
EN_TITLES = ("Mr", "Mrs", "Ms", "Miss", "Dr", "Prof")
EN_ROLES = ("manager", "director", "head", "lead", "CEO", "CMO", "COO", "CFO", "CTO", "VP", "founder", "owner", "analyst",
            "specialist", "officer", "president", "coordinator", "consultant", "contact", "planner", "designer",
            "engineer", "executive", "chairman", "partner", "buyer", "supervisor")
EN_SPEECH = ("said", "says", "told", "explained", "noted", "added", "recalled", "argued", "believes", "led", "leads")
