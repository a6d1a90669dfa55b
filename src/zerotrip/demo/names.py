"""Synthetic, plausible Chinese names and mobile numbers, generated from character lists with a seeded RNG.

Nothing here comes from real people: a surname is drawn by rough frequency (Zhejiang leans towards 陈, 王,
张, 李, 吴, 徐, 林 …), the given name from one or two characters typical of the decade of birth.
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Literal

Sex = Literal["male", "female"]

# (surname, relative frequency in tenths of a per cent, roughly Zhejiang's order).
_SURNAMES: tuple[tuple[str, int], ...] = (
    ("陈", 62), ("王", 60), ("张", 50), ("李", 45), ("吴", 30), ("徐", 28), ("林", 26), ("周", 25),
    ("刘", 24), ("杨", 20), ("黄", 18), ("朱", 17), ("金", 16), ("胡", 16), ("沈", 15), ("郑", 15),
    ("叶", 14), ("赵", 13), ("何", 12), ("方", 12), ("孙", 11), ("潘", 11), ("蒋", 10), ("俞", 9),
    ("钱", 9), ("应", 8), ("许", 8), ("马", 8), ("郭", 8), ("高", 8), ("汪", 8), ("姚", 7), ("余", 7),
    ("陆", 7), ("邵", 7), ("丁", 6), ("楼", 6), ("蔡", 6), ("罗", 6), ("梁", 5), ("谢", 5), ("宋", 5),
    ("唐", 5), ("韩", 5), ("冯", 5), ("曹", 5), ("顾", 5), ("毛", 5), ("戴", 4), ("童", 4), ("严", 4),
    ("施", 4), ("袁", 4), ("董", 4), ("程", 4), ("魏", 4), ("任", 4), ("吕", 4), ("卢", 4), ("姜", 4),
    ("范", 4), ("邱", 3), ("夏", 3), ("傅", 3), ("鲍", 3), ("柴", 3), ("卓", 3), ("石", 3), ("杜", 3),
    ("彭", 3), ("曾", 3), ("邓", 3), ("田", 3), ("苏", 3), ("孔", 2), ("翁", 2), ("章", 2), ("虞", 2),
    ("诸葛", 1), ("欧阳", 1), ("司马", 1),
)  # fmt: skip
_SURNAME_LIST = tuple(s for s, _ in _SURNAMES)
_SURNAME_CUMULATIVE = tuple(itertools.accumulate(w for _, w in _SURNAMES))

# Given-name characters by sex and by the era a person was born in: names follow fashions.
_GIVEN: dict[tuple[Sex, str], str] = {
    ("male", "old"): "建国华明伟军平强勇志忠海林斌德刚荣生福新文良春金宝根水永祥宏",
    ("female", "old"): "秀英兰芳珍华玉红萍霞凤琴美丽娟桂云芬莲敏燕亚素月彩金菊梅",
    ("male", "mid"): "伟磊涛斌杰鹏超勇俊峰波辉刚健军明亮强洋飞晓志建文华栋剑锋浩东",
    ("female", "mid"): "丽静敏燕艳娟霞婷雪慧颖琳晶倩洁玲丹红芳萍佳晓莉蓉婧瑾璐",
    ("male", "new"): "浩宇轩博文杰俊凯晨睿泽昊然航阳明辰翔毅恒哲诚煜铭瑞锦彬嘉逸天一旭帆豪朗知景承子",
    ("female", "new"): "欣怡婷雪雨琪晶颖萱悦涵梦思佳诗琳妍婉静雅瑶馨然月可彤梓语安心若清一依",
}
# The lists are easier to edit as strings; a character listed twice would only skew the odds.
_GIVEN = {key: "".join(dict.fromkeys(chars)) for key, chars in _GIVEN.items()}

# Mobile number segments in use in mainland China (three-digit prefixes).
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182",
    "183", "184", "185", "186", "187", "188", "189", "191", "193", "195", "196", "197", "198", "199",
)  # fmt: skip
PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")

_ROADS = (
    "人民", "解放", "中山", "建设", "文化", "新华", "环城", "胜利", "和平", "延安", "学院", "江滨", "湖滨",
    "工业", "东方", "复兴", "兴业", "春晖", "青年", "振兴", "迎宾", "育才", "花园", "市心", "体育场", "文一",
    "文三", "天目山", "凤起", "庆春", "府前", "望江", "梅园", "桂花", "丰收", "朝阳", "长安", "永安",
)  # fmt: skip
# Characters for an enterprise's trade name (字号) and the industries it may name.
_TRADE_NAME_CHARS = "华信达鑫远恒泰创联博智云海兴德瑞安和嘉诚新明源宏伟星辰浩宇天正大盛通合力丰祥润永隆锦"
_INDUSTRIES = (
    "科技", "网络科技", "信息技术", "贸易", "建设工程", "电子商务", "食品", "服饰", "机械制造", "文化传媒",
    "餐饮管理", "物流", "医疗器械", "农业开发", "新材料", "智能装备", "环保科技", "教育咨询",
)  # fmt: skip


def _era(birth_year: int) -> str:
    if birth_year < 1972:
        return "old"
    if birth_year < 1995:
        return "mid"
    return "new"


class NameGenerator:
    """Names and phone numbers from one seeded RNG; the same sequence of calls gives the same output."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._phones: set[str] = set()

    def surname(self) -> str:
        return self._rng.choices(_SURNAME_LIST, cum_weights=_SURNAME_CUMULATIVE)[0]

    def given_name(self, *, sex: Sex, birth_year: int) -> str:
        chars = _GIVEN[(sex, _era(birth_year))]
        # Two-character given names dominate; single characters were commoner in the 1980s and 1990s.
        single = 0.35 if _era(birth_year) == "mid" else 0.2
        if self._rng.random() < single:
            return self._rng.choice(chars)
        first, second = self._rng.sample(chars, 2)
        return first + second

    def full_name(self, *, sex: Sex, birth_year: int, surname: str | None = None) -> str:
        return (surname or self.surname()) + self.given_name(sex=sex, birth_year=birth_year)

    def phone(self) -> str:
        """A mobile number in a real segment, never repeated by this generator."""
        while True:
            number = self._rng.choice(_MOBILE_PREFIXES) + f"{self._rng.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def address(self, *, city: str, county: str) -> str:
        """A street address in ``county``: a road, a number, often a flat in a residential block."""
        rng = self._rng
        road = f"{rng.choice(_ROADS)}{rng.choice('路路路街')}{rng.randint(1, 899)}号"
        if rng.random() < 0.7:
            building, unit, floor = rng.randint(1, 30), rng.randint(1, 4), rng.randint(1, 28)
            road += f"{building}幢{unit}单元{floor}0{rng.randint(1, 6)}室"
        return f"浙江省{city}{county}{road}"

    def enterprise_name(self, *, place: str) -> str:
        """Place, trade name, industry, legal form: 杭州西湖恒信科技有限公司."""
        trade_name = "".join(self._rng.sample(_TRADE_NAME_CHARS, 2))
        return f"{place}{trade_name}{self._rng.choice(_INDUSTRIES)}有限公司"
