"""PERSON (English): titled names, known first names, pinyin names, and names next to a role or speech verb."""

from __future__ import annotations

import re
from collections.abc import Iterable

from redaction.lexicon import EN_FIRST_NAMES, EN_ROLES, EN_SPEECH, EN_TITLES
from redaction.recognizers.base import CasebookRecognizer

CAP = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
NAME = rf"{CAP}(?:\s{CAP}){{1,2}}"
TITLED = re.compile(rf"\b(?:{'|'.join(EN_TITLES)})\.?\s({CAP}(?:\s{CAP})?)")
PAIR = re.compile(rf"\b({NAME})\b")
ROLE_AFTER = re.compile(rf",?\s(?:the\s|our\s|a\s|their\s)?(?:[a-z]+\s){{0,3}}(?:{'|'.join(EN_ROLES)})\b")
ROLE_BEFORE = re.compile(rf"\b(?:{'|'.join(EN_ROLES)}|contact|reach|ask|call|email|e-mail|thanks to|interviewed)"
                         rf"(?:\s(?:at|of)\s[A-Z]\w+)?[,:]?\s$", re.I)
#: Every name this recognizer reports holds a capitalised word; text without one (most Chinese text) is skipped.
CAPITALISED = re.compile(r"[A-Z][a-z]")
SPEECH = re.compile(rf"\s(?:{'|'.join(EN_SPEECH)})\b")
PINYIN_SURNAMES = frozenset("""Li Wang Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Zheng
Liang Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Du Ye Cheng Wei Su Lu Ding Ren Shen
Yao Cui Zhong Tan Fan Qian Jin Shi Liao Jia Xia Fang Bai Zou Meng Xiong Qin Qiu Yin Xue Yan Duan Lei Hou Long Tao Li
Gu Mao Hao Gong Shao Wan Qian Kong Kang Lau Chan Wong Cheung Leung Ng Chow Ho Lam Tsang""".split())
NOT_NAMES = frozenset("""China Group Inc Ltd Company Co Team Media Labs Coffee Bank Holdings Mall Store Stores Brand Day
Festival Week Weekend Campaign Marketing Research Report Plan Center Centre Street Road Plaza University College Market
Markets Airlines Motors Beauty Tea Foods Retail Digital Studio Agency Partners Capital Tech Technologies Cloud Mobile
Shanghai Beijing Shenzhen Guangzhou Hangzhou Chengdu Hong Kong Singapore Tokyo London Paris New York Monday Tuesday
Wednesday Thursday Friday Saturday Sunday January February March April May June July August September October November
December Spring Summer Autumn Fall Winter Double Eleven Singles Black Friday Starbucks Nike Apple Huawei Xiaomi Tmall
Taobao Douyin Weibo WeChat Alibaba Tencent Meituan JD Pinduoduo Red Note Xiaohongshu Luckin Heytea Uniqlo Adidas The
This That Our Their Its Customer Customers Brand Net Promoter Score Gross Merchandise Value Key Opinion Leader Leaders
Return Investment Click Through Rate Live Streaming Private Domain Mid Autumn Lunar New Year Q1 Q2 Q3 Q4 Contact Please
Email Call Ask Thanks Dear Hi Hello Meet With From To For By And But When After Before Our Your Send Reach Cc Copy""".split())


class EnglishPersonRecognizer(CasebookRecognizer):
    ENTITY = "PERSON"

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        if not CAPITALISED.search(text):
            return
        taken: list[tuple[int, int]] = []

        def emit(start: int, end: int, score: float) -> Iterable[tuple[int, int, float]]:
            if not any(s < end and start < e for s, e in taken):
                taken.append((start, end))
                yield start, end, score

        for m in TITLED.finditer(text):
            yield from emit(m.start(1), m.end(1), 0.85)
        for m in PAIR.finditer(text):
            tokens = m.group(1).split()
            # Drop leading capitalised words that are not names ("Contact Jason Li", "Starbucks Lin Mei").
            first = next((k for k, t in enumerate(tokens[:-1]) if t in EN_FIRST_NAMES or t in PINYIN_SURNAMES), None)
            if first is not None:
                tokens = tokens[first:]
            while tokens and tokens[0] in NOT_NAMES:
                tokens = tokens[1:]
            if len(tokens) < 2 or any(t in NOT_NAMES for t in tokens):
                continue
            start = m.start(1) + m.group(1).index(tokens[0])
            end = start + len(" ".join(tokens))
            context = bool(ROLE_AFTER.match(text, end) or SPEECH.match(text, end)
                           or ROLE_BEFORE.search(text[max(0, start - 40):start]))
            if tokens[0] in EN_FIRST_NAMES:
                yield from emit(start, end, 0.8 if context else 0.7)
            elif (tokens[0] in PINYIN_SURNAMES or tokens[-1] in PINYIN_SURNAMES) and context:
                yield from emit(start, end, 0.7)
            elif context and len(tokens) <= 3 and ROLE_AFTER.match(text, end):
                yield from emit(start, end, 0.6)
