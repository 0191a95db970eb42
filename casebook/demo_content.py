"""Demo case texts for ``casebook up --demo``: marketing cases written for Casebook from templates and
combinatorial parts (brands, cities, campaigns, figures, people), in Traditional Chinese, Simplified Chinese
and English. Nothing here comes from any corpus document; every brand, person and figure is invented.

Simplified Chinese is the Traditional text converted with OpenCC (``t2s``), so both scripts say the same.
Shell layer: imported by ``casebook.demo`` only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from casebook.core.locales import LOCALES

SECTIONS = ("background", "goal", "strategy", "execution", "data", "reflection")

# -- parts --------------------------------------------------------------------------------------------------------
# (industry tag, zh-Hant brand, zh-Hant product, en brand, en product)
BRANDS = [
    ("catering", "山嵐茶舍", "桂花烏龍冷萃", "Mountain Mist Tea", "osmanthus oolong cold brew"),
    ("catering", "南風咖啡", "燕麥拿鐵", "South Breeze Coffee", "oat latte"),
    ("fmcg", "青禾乳業", "低糖優酪乳", "Green Sprout Dairy", "low-sugar yoghurt"),
    ("fmcg", "禾木烘焙", "全麥吐司", "Oakgrain Bakery", "wholemeal loaf"),
    ("technology", "微光數碼", "降噪耳機", "Glimmer Devices", "noise-cancelling earbuds"),
    ("technology", "雲梯軟件", "團隊協作應用", "Cloudladder Software", "team collaboration app"),
    ("retail", "拾光家居", "可折疊收納箱", "Keepsake Home", "folding storage box"),
    ("retail", "初一美妝", "修護面霜", "First Light Beauty", "repair cream"),
    ("automotive", "樂途出行", "城市電動車", "GoEasy Motors", "compact electric car"),
    ("automotive", "遠山汽車", "家用七座車", "Far Hills Auto", "seven-seat family car"),
    ("education", "晴川書院", "少兒編程課", "Clear River Academy", "coding course for children"),
    ("education", "知行學堂", "職場寫作課", "Know-and-Do School", "business writing course"),
]
CITIES = [("上海", "Shanghai"), ("杭州", "Hangzhou"), ("成都", "Chengdu"), ("深圳", "Shenzhen"), ("武漢", "Wuhan"),
          ("西安", "Xi'an"), ("南京", "Nanjing"), ("廣州", "Guangzhou"), ("長沙", "Changsha"), ("廈門", "Xiamen")]
# (audience tag, zh-Hant, en)
AUDIENCES = [("gen_z", "十八至二十四歲的大學生", "university students aged 18 to 24"),
             ("white_collar", "二十五至三十五歲的上班族", "office workers aged 25 to 35"),
             ("parents", "有三至十歲孩子的家長", "parents of children aged 3 to 10"),
             ("seniors", "六十歲以上的社區居民", "neighbourhood residents over 60"),
             ("b2b", "中小企業的採購負責人", "purchasing managers at small and mid-sized firms")]
# (channel code, zh-Hant, en)
CHANNELS = [("xiaohongshu", "小紅書", "Xiaohongshu"), ("douyin", "抖音", "Douyin"), ("wechat", "微信社群", "WeChat groups"),
            ("weibo", "微博", "Weibo"), ("offline_store", "門店", "stores"), ("livestream", "直播間", "livestreams"),
            ("email", "電郵", "e-mail")]
PEOPLE = [("林佳怡", "Grace Lin"), ("王建國", "David Wang"), ("張曉雯", "Vivian Zhang"), ("劉子軒", "Kevin Liu"),
          ("黃美玲", "Mei Huang"), ("周文博", "Brian Zhou"), ("吳欣妍", "Cindy Wu"), ("鄭浩然", "Howard Zheng")]
# Per scenario: the campaign's name (zh-Hant, en) and what it set out to move (zh-Hant, en).
CAMPAIGNS = {
    "new_product_launch": (("新品首發", "launch"), ("首發期試用人數", "trial users in the launch window")),
    "brand_communication": (("品牌煥新傳播", "brand refresh"), ("品牌搜索量", "brand searches")),
    "channel_expansion": (("渠道下沉試點", "new-channel pilot"), ("新開網點銷量", "sales at new outlets")),
    "user_operation": (("會員召回計劃", "member win-back"), ("沉睡會員回購人數", "lapsed members who bought again")),
    "promotion": (("節日促銷", "holiday promotion"), ("活動期銷量", "units sold in the promotion")),
    "private_domain": (("私域社群運營", "private community programme"), ("社群活躍人數", "active community members")),
    "crisis_response": (("輿情應對", "reputation response"), ("負面聲量下降", "drop in negative mentions")),
    "event_marketing": (("線下快閃活動", "pop-up event"), ("到場人數", "visitors on site")),
}
MARKETING_GOAL = {"new_product_launch": "awareness", "brand_communication": "awareness",
                  "channel_expansion": "acquisition", "user_operation": "retention", "promotion": "conversion",
                  "private_domain": "retention", "crisis_response": "reputation", "event_marketing": "acquisition"}
#: Undisclosed names from the policy's strategy lexicon: a few confidential cases mention one (redaction shows it).
INTERNAL = [("青鸞計劃", "Project Bluebird"), ("智能補貨引擎", "AutoRestock")]

# -- templates (zh-Hant; zh-Hans is converted) ------------------------------------------------------------------
ZH = {
    "title": ["{city}{brand}{campaign}", "{brand}{product}{campaign}({city})", "{city}{audience_short}{campaign}:{brand}",
              "{brand}{season}{campaign}"],
    "background": [
        "{brand}在{city}的{product}上市已有一段時間,但{audience}對它的認知仍然有限,門店反饋試用意願不高。",
        "去年{season},{brand}在{city}的同類產品銷量連續{weeks}週下滑,競品以低價搶走了不少{audience}。",
        "{brand}希望在{city}試行一種新做法:先用{channel_a}聚攏{audience},再引導到{channel_b}完成購買。",
        "團隊在{city}的調研發現,{audience}更相信身邊人的推薦,而不是廣告,這是{brand}過去投放效果平平的原因之一。",
    ],
    "goal": [
        "在{weeks}週內讓{target_metric}達到{goal_n}人,同時把獲客成本控制在每人{cac}元以內。",
        "活動期內{target_metric}比上一季提升{goal_pct}%,並沉澱一套可複用的執行清單。",
        "以{budget_wan}萬元預算,在{city}驗證{channel_a}加{channel_b}的組合是否值得推廣到其他城市。",
    ],
    "strategy": [
        "以{channel_a}的真實體驗內容打頭陣,配合{channel_b}的限時權益,把興趣轉化為第一次購買。",
        "邀請{audience}中的意見領袖先行試用,再由他們在{channel_a}分享,團隊只負責提供素材和答疑。",
        "把活動拆成預熱、引爆、延續三個階段,每個階段只設一個核心動作,避免資源分散。",
        "與{city}本地社區合作,在{channel_b}設置體驗點,用小份裝降低第一次嘗試的門檻。",
    ],
    "execution": [
        "項目由{person}統籌(聯繫電話{phone}),共{teams}個小組輪班,每週覆盤一次。",
        "預熱期發佈{posts}篇內容,引爆期連續{days}天在{channel_b}安排體驗,延續期由客服跟進回訪。",
        "{person}帶隊與{teams}家合作方對接,統一話術和物料,所有優惠碼按渠道區分以便追蹤。",
    ],
    "data": [
        "{target_metric}{actual_n}人,目標完成率{achieve_pct}%;投入預算{budget_wan}萬元,每人獲客成本約{cac_actual}元。",
        "活動期內共觸達{reach}人次,{target_metric}{actual_n}人,復購率{repeat_pct}%,費用合計{budget_wan}萬元。",
        "{channel_a}帶來的訪客佔{share_pct}%,{target_metric}{actual_n}人,整體投入{budget_wan}萬元。",
    ],
    "reflection": {
        "success": ["真實用戶的口碑比廣告更有說服力;下次可以更早鎖定體驗點位,減少臨時調整。",
                    "分階段只做一件事讓團隊執行更聚焦;需要注意的是,後期回訪人手偏緊。",
                    "小份裝降低了嘗試門檻,但也拉低了客單價,推廣到其他城市前要重新測算毛利。"],
        "failure": ["目標設定過於樂觀,預熱期聲量不足,引爆期沒有形成話題;應先做小範圍測試再放大投入。",
                    "渠道之間的權益不一致,用戶在比價後放棄購買;下次必須統一規則。",
                    "天氣和競品活動撞期讓到場人數遠低於預期,缺少備選方案是主要教訓。"],
        "to_be_optimised": ["整體方向正確,但轉化環節流失較多,建議簡化領券步驟後再試一輪。",
                            "內容質量不穩定,部分合作方的素材與品牌調性不符,需要更清晰的創作指引。",
                            "數據回收慢了兩週,影響了中途調整;下次應在開始前就定好看板。"],
    },
    "target_users": "{city}{audience}",
    "return": {
        "data": ["請補充{target_metric}的統計口徑和數據來源。", "數據部分的費用與預算不一致,請核對。"],
        "strategy": ["策略寫得太籠統,請說明為何選擇{channel_a}而不是其他渠道。"],
        "reflection": ["反思部分只有結論,請寫出具體做錯了什麼、下次怎麼改。"],
        "execution": ["請寫明各階段的時間安排和負責人。"],
    },
    "revision": {
        "data": "補充:{target_metric}以{source}導出數據為準,按自然人去重,由財務抽樣核對。",
        "strategy": "補充:選擇{channel_a}是因為{audience}在該平台的日均使用時長最高,前期測試的點擊率也最好。",
        "reflection": "補充:排期過密導致後期人手不足,下次每個階段之間預留三天緩衝。",
        "execution": "補充:預熱兩週、引爆一週、延續四週,各階段負責人見項目排期表。",
        "update": "更新({year}年):活動結束後{months}個月回看,{target_metric}仍保持在活動期的{keep_pct}%左右。",
    },
    "correction": ["數據部分的{target_metric}與附件報表不一致,請核對。", "執行部分提到的合作方名稱有誤,請更正。",
                   "背景中的時間寫成了前年,應為去年。"],
    "access": ["我們{dept}正在策劃類似的{campaign},想參考這個案例的執行細節。", "季度覆盤需要對比同類活動的數據,申請查閱。"],
    "comment": {5: ["非常實用,已經照著做了一版。", "數據完整,反思很坦誠。"], 4: ["思路清晰,可以借鑑。", "執行部分寫得很細。"],
                3: ["有參考價值,但數據口徑不夠清楚。"], 2: ["內容偏空泛,看完不知道怎麼落地。"], 1: ["數據前後矛盾。"]},
    "answer": ["已核對並在新版本中更正,謝謝指出。", "已與數據組確認,原數字無誤,口徑已在文中補充說明。"],
    "seasons": ["春季", "夏季", "秋季", "冬季", "開學季", "年貨節"],
    "audience_short": {"gen_z": "校園", "white_collar": "白領", "parents": "親子", "seniors": "銀髮", "b2b": "企業客戶"},
    "sources": [("會員系統", "system"), ("門店POS", "system"), ("電商後台", "system"), ("問卷調研", "survey")],
    "validation": ["與財務日報核對", "抽樣回訪", "與平台後台數據交叉比對"],
}

EN = {
    "title": ["{brand} {campaign} in {city}", "{city}: {product} {campaign}", "{brand} {season} {campaign}",
              "{campaign_cap} for {audience_short} in {city}"],
    "background": [
        "{brand} has sold its {product} in {city} for a while, yet {audience} hardly know it and stores report little interest in trying it.",
        "Last {season}, {brand}'s sales in {city} fell for {weeks} weeks in a row as a rival's discounts won over {audience}.",
        "{brand} wanted to test a new path in {city}: gather {audience} on {channel_a} first, then lead them to buy through {channel_b}.",
        "Research in {city} showed that {audience} trust recommendations from people they know far more than ads, one reason {brand}'s past spend did little.",
    ],
    "goal": [
        "Reach {goal_n} {target_metric} within {weeks} weeks, keeping acquisition cost under CNY {cac} per person.",
        "Lift {target_metric} by {goal_pct}% on the previous quarter and leave behind a checklist others can reuse.",
        "With a budget of CNY {budget_k},000, find out whether {channel_a} plus {channel_b} is worth rolling out to other cities.",
    ],
    "strategy": [
        "Lead with honest first-hand content on {channel_a}, then convert interest into a first purchase with time-limited offers on {channel_b}.",
        "Let opinion leaders among {audience} try it first and share on {channel_a}; the team only supplies material and answers questions.",
        "Split the campaign into warm-up, peak and follow-through, with a single core action per phase so resources are not spread thin.",
        "Partner with local communities in {city} and set up tasting points in {channel_b}, using small packs to lower the bar for a first try.",
    ],
    "execution": [
        "{person} ran the project (phone {phone}); {teams} teams worked in shifts and reviewed progress every week.",
        "The warm-up published {posts} pieces of content, the peak ran {days} days of hands-on sessions in {channel_b}, and customer service followed up afterwards.",
        "{person} led the work with {teams} partners, aligning scripts and materials; every discount code was tied to one channel so results could be traced.",
    ],
    "data": [
        "{actual_n} {target_metric}, {achieve_pct}% of target; budget spent CNY {budget_k},000, about CNY {cac_actual} per person acquired.",
        "The campaign reached {reach} people; {actual_n} {target_metric} and a repeat-purchase rate of {repeat_pct}%, at a total cost of CNY {budget_k},000.",
        "{channel_a} brought {share_pct}% of visitors; {actual_n} {target_metric} for a total spend of CNY {budget_k},000.",
    ],
    "reflection": {
        "success": ["Word of mouth from real users persuaded better than ads; next time, book the venues earlier to avoid last-minute changes.",
                    "One action per phase kept the team focused; follow-up calls were short-staffed towards the end.",
                    "Small packs made trying easy but lowered the average basket; recheck margins before taking it to other cities."],
        "failure": ["The target was too optimistic and the warm-up too quiet, so the peak never became a talking point; test small before scaling.",
                    "Offers differed between channels and shoppers gave up after comparing prices; the rules must be the same everywhere.",
                    "Bad weather and a rival's event on the same days kept visitors far below plan; having no fallback was the main lesson."],
        "to_be_optimised": ["The direction was right but many people dropped out at checkout; simplify coupon redemption and run it again.",
                            "Content quality was uneven and some partners' material did not fit the brand; write clearer creative guidelines.",
                            "Data arrived two weeks late, which slowed mid-course corrections; agree on the dashboard before launch."],
    },
    "target_users": "{audience} in {city}",
    "return": {
        "data": ["Please state how {target_metric} were counted and where the data comes from.",
                 "The cost in the data section does not match the budget; please check."],
        "strategy": ["The strategy is too general: explain why {channel_a} and not another channel."],
        "reflection": ["The reflection only gives conclusions; say what went wrong and what you would change."],
        "execution": ["Please give the timeline of each phase and who was responsible."],
    },
    "revision": {
        "data": "Added: {target_metric} are taken from the {source} export, de-duplicated by person and spot-checked by finance.",
        "strategy": "Added: {channel_a} was chosen because {audience} spend the most time there and it had the best click-through in our tests.",
        "reflection": "Added: the schedule was too tight and we ran short of people late on; next time leave three days between phases.",
        "execution": "Added: two weeks of warm-up, one week of peak and four weeks of follow-through; owners per phase are in the project plan.",
        "update": "Update ({year}): {months} months after the campaign, {target_metric} are still at about {keep_pct}% of the campaign level.",
    },
    "correction": ["The {target_metric} figure in the data section differs from the attached report; please check.",
                   "The partner named in the execution section is wrong; please correct it.",
                   "The background gives the year before last; it should be last year."],
    "access": ["Our {dept} team is planning a similar {campaign} and would like to learn from how this one was run.",
               "Our quarterly review compares similar campaigns; requesting access to the figures."],
    "comment": {5: ["Very practical; we already ran a version of it.", "Complete data and an honest reflection."],
                4: ["Clear thinking, worth borrowing.", "The execution part is detailed."],
                3: ["Useful, but how the data was counted is unclear."], 2: ["Too vague to act on."],
                1: ["The figures contradict each other."]},
    "answer": ["Checked and corrected in a new version, thank you.", "Confirmed with the data team: the figure is right; "
               "how it is counted is now explained in the text."],
    "seasons": ["spring", "summer", "autumn", "winter", "back-to-school", "Spring Festival"],
    "audience_short": {"gen_z": "students", "white_collar": "office workers", "parents": "families",
                       "seniors": "seniors", "b2b": "business buyers"},
    "sources": [("member system", "system"), ("store POS", "system"), ("online shop back end", "system"),
                ("survey", "survey")],
    "validation": ["checked against the finance daily report", "spot-check call-backs",
                   "cross-checked with the platform's own data"],
}
DEPARTMENT_NAMES = {"marketing": ("市場部", "marketing"), "sales": ("銷售部", "sales"), "brand": ("品牌部", "brand")}


@lru_cache(maxsize=1)
def _t2s() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


def _convert(value: Any) -> Any:
    """A zh-Hant structure in zh-Hans (codes such as library or tag values are ASCII and stay as they are)."""
    if isinstance(value, str):
        return value if value.isascii() else _t2s().convert(value)
    if isinstance(value, list):
        return [_convert(v) for v in value]
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    return value


def _budget_scale(amount: int) -> str:
    return "under_100k" if amount < 100_000 else "100k_to_1m" if amount < 1_000_000 else "1m_to_10m"


@dataclass(frozen=True)
class Story:
    """The facts of one invented campaign; ``document`` writes them in a locale, ``revision`` adds to them."""

    locale: str
    n: int
    brand: int
    city: int
    audience: int
    channel_a: int
    channel_b: int
    person: int
    season: int
    scenario: str
    outcome: str
    budget: int
    goal_n: int
    actual_n: int
    weeks: int
    variants: tuple[int, ...]
    phone: str
    internal: int | None

    @property
    def zh(self) -> bool:
        return self.locale != "en"

    def slots(self) -> dict[str, Any]:
        zh = self.zh
        industry, brand_zh, product_zh, brand_en, product_en = BRANDS[self.brand]
        city = CITIES[self.city][0 if zh else 1]
        aud = AUDIENCES[self.audience]
        campaign = CAMPAIGNS[self.scenario][0][0 if zh else 1]
        table = ZH if zh else EN
        cac = max(5, round(self.budget / max(self.goal_n, 1)))
        return {
            "brand": brand_zh if zh else brand_en, "product": product_zh if zh else product_en, "city": city,
            "audience": aud[1] if zh else aud[2], "audience_short": table["audience_short"][aud[0]],
            "channel_a": CHANNELS[self.channel_a][1 if zh else 2], "channel_b": CHANNELS[self.channel_b][1 if zh else 2],
            "campaign": campaign, "campaign_cap": campaign[:1].upper() + campaign[1:],
            "target_metric": CAMPAIGNS[self.scenario][1][0 if zh else 1],
            "season": table["seasons"][self.season], "weeks": self.weeks, "goal_n": f"{self.goal_n:,}",
            "actual_n": f"{self.actual_n:,}", "goal_pct": 10 + self.n % 4 * 5,
            "achieve_pct": round(100 * self.actual_n / self.goal_n), "budget_wan": f"{self.budget / 10000:g}",
            "budget_k": f"{self.budget // 1000:,}", "cac": cac, "cac_actual": max(1, round(self.budget / max(self.actual_n, 1))),
            "person": PEOPLE[self.person][0 if zh else 1], "phone": self.phone, "teams": 2 + self.n % 4,
            "posts": 12 + self.n % 9 * 3, "days": 3 + self.n % 5, "reach": f"{self.actual_n * (8 + self.n % 5):,}",
            "repeat_pct": 18 + self.n % 7 * 3, "share_pct": 35 + self.n % 6 * 5,
            "source": table["sources"][self.n % 4][0],
        }

    def document(self, *, library: str, classification: str, department: str, owner: str, project_end: date,
                 micro: bool = False) -> dict[str, Any]:
        """The case document as captured (every intake item filled, figures traced to their sources)."""
        table = ZH if self.zh else EN
        s = self.slots()
        v = self.variants

        def pick(section: str, i: int) -> str:
            options = table[section]
            return options[v[i] % len(options)].format(**s)

        body = {name: pick(name, i) for i, name in enumerate(("background", "goal", "strategy", "execution", "data"))}
        reflections = table["reflection"][self.outcome]
        body["reflection"] = reflections[v[5] % len(reflections)]
        if self.internal is not None:
            term = INTERNAL[self.internal][0 if self.zh else 1]
            body["strategy"] += (f"本次試點同時驗證了{term}的效果。" if self.zh
                                 else f" The pilot also tested {term}.")
        source_name, source_kind = table["sources"][self.n % 4]
        finance = "財務報表" if self.zh else "finance report"
        metric_name = s["target_metric"]
        doc: dict[str, Any] = {
            "title": table["title"][v[6] % len(table["title"])].format(**s), "library": library,
            "scenario": self.scenario, "outcome": self.outcome, "classification": classification,
            "department": department, "owner": owner, "micro": micro,
            "project_start": (project_end - timedelta(weeks=self.weeks)).isoformat(),
            "project_end": project_end.isoformat(), "target_users": table["target_users"].format(**s),
            "budget": {"amount": self.budget, "currency": "CNY"},
            "channels": [CHANNELS[self.channel_a][0], CHANNELS[self.channel_b][0]],
            "tags": {"industry": [BRANDS[self.brand][0]], "target_audience": [AUDIENCES[self.audience][0]],
                     "marketing_goal": [MARKETING_GOAL[self.scenario]], "channel": [CHANNELS[self.channel_a][0]],
                     "budget_scale": [_budget_scale(self.budget)]},
            "body": body,
            "metrics": [{"name": metric_name, "value": self.actual_n, "unit": "人" if self.zh else "people",
                         "source": source_name},
                        {"name": "預算" if self.zh else "budget", "value": self.budget, "unit": "CNY", "kind": "budget",
                         "source": finance}],
            "data_sources": [{"name": source_name, "kind": source_kind,
                              "validation_method": table["validation"][self.n % 3],
                              "interviewees": [PEOPLE[(self.person + 1) % len(PEOPLE)][0 if self.zh else 1]]},
                             {"name": finance, "kind": "finance", "validation_method": table["validation"][0]}],
        }
        return _convert(doc) if self.locale == "zh-Hans" else doc

    def _text(self, value: str) -> str:
        return _convert(value) if self.locale == "zh-Hans" else value

    def return_reasons(self, k: int) -> list[dict[str, str]]:
        """What a reviewer asks for when returning the case (anchored to a body section)."""
        table = ZH if self.zh else EN
        section = ("data", "strategy", "reflection", "execution")[(self.n + k) % 4]
        options = table["return"][section]
        return [{"section": section, "text": self._text(options[k % len(options)].format(**self.slots()))}]

    def revision(self, document: dict[str, Any], section: str, *, year: int = 0, months: int = 0) -> dict[str, Any]:
        """The author's change for a return (``section``) or a periodic update (``"update"``): one body section
        gets an added paragraph; an update also refreshes the key figure."""
        table = ZH if self.zh else EN
        text = self._text(table["revision"][section].format(**self.slots(), year=year, months=months,
                                                            keep_pct=70 + self.n % 4 * 5))
        target = "data" if section == "update" else section
        changes: dict[str, Any] = {"body": {target: document["body"][target] + ("" if self.zh else " ") + text}}
        if section == "update":
            metrics = [dict(m) for m in document["metrics"]]
            metrics[0]["value"] = round(metrics[0]["value"] * (1.05 + self.n % 3 * 0.05))
            changes["metrics"] = metrics
        return changes

    def correction(self, k: int) -> str:
        table = ZH if self.zh else EN
        return self._text(table["correction"][k % len(table["correction"])].format(**self.slots()))

    def answer(self, k: int) -> str:
        table = ZH if self.zh else EN
        return self._text(table["answer"][k % len(table["answer"])])

    def access_reason(self, department: str, k: int) -> str:
        table = ZH if self.zh else EN
        dept = DEPARTMENT_NAMES.get(department, (department, department))[0 if self.zh else 1]
        return self._text(table["access"][k % len(table["access"])].format(**self.slots(), dept=dept))

    def comment(self, stars: int, k: int) -> str:
        options = (ZH if self.zh else EN)["comment"][stars]
        return self._text(options[k % len(options)])


def story(rng: random.Random, n: int, locale: str, scenario: str, outcome: str) -> Story:
    """A new invented campaign (deterministic for a seeded ``rng``)."""
    assert locale in LOCALES
    goal = rng.randrange(20, 200) * 50
    ratio = {"success": rng.uniform(1.02, 1.4), "failure": rng.uniform(0.35, 0.7),
             "to_be_optimised": rng.uniform(0.75, 0.98)}[outcome]
    a = rng.randrange(len(CHANNELS))
    return Story(locale=locale, n=n, brand=rng.randrange(len(BRANDS)), city=rng.randrange(len(CITIES)),
                 audience=rng.randrange(len(AUDIENCES)), channel_a=a,
                 channel_b=(a + rng.randrange(1, len(CHANNELS))) % len(CHANNELS), person=rng.randrange(len(PEOPLE)),
                 season=rng.randrange(6), scenario=scenario, outcome=outcome,
                 budget=rng.choice([6, 8, 12, 18, 25, 32, 48, 60, 85, 120, 150, 260]) * 10000, goal_n=goal,
                 actual_n=max(10, round(goal * ratio)), weeks=rng.randrange(3, 13),
                 variants=tuple(rng.randrange(12) for _ in range(7)),
                 phone=f"13{rng.randrange(0, 10)}{rng.randrange(10**7, 10**8)}", internal=None)
