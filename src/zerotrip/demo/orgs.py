"""The demo organisation tree: 浙江省, its cities and county-level divisions, and twelve departments in each.

Codes are stable: a region's code is its GB/T 2260 division code ("330106"), a department's is the division
code, a hyphen and the department key ("330106-health"). Every unit goes through
``identity.actions.create_organisation``, which enforces the province → city → county nesting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from zerotrip.common.divisions import ZHEJIANG, Division, get_division
from zerotrip.identity import actions
from zerotrip.identity.actor import Actor

Progress = Callable[[str, int, int], None]

# Romanised names by division code, syllables separated by spaces (so abbreviations can be derived).
_PINYIN: dict[str, str] = {
    "330000": "zhe jiang",
    "330100": "hang zhou", "330102": "shang cheng", "330105": "gong shu", "330106": "xi hu",
    "330108": "bin jiang", "330109": "xiao shan", "330110": "yu hang", "330111": "fu yang",
    "330112": "lin an", "330113": "lin ping", "330114": "qian tang", "330122": "tong lu",
    "330127": "chun an", "330182": "jian de",
    "330200": "ning bo", "330203": "hai shu", "330205": "jiang bei", "330206": "bei lun",
    "330211": "zhen hai", "330212": "yin zhou", "330213": "feng hua", "330225": "xiang shan",
    "330226": "ning hai", "330281": "yu yao", "330282": "ci xi",
    "330300": "wen zhou", "330302": "lu cheng", "330303": "long wan", "330304": "ou hai",
    "330305": "dong tou", "330324": "yong jia", "330326": "ping yang", "330327": "cang nan",
    "330328": "wen cheng", "330329": "tai shun", "330381": "rui an", "330382": "yue qing",
    "330383": "long gang",
    "330400": "jia xing", "330402": "nan hu", "330411": "xiu zhou", "330421": "jia shan",
    "330424": "hai yan", "330481": "hai ning", "330482": "ping hu", "330483": "tong xiang",
    "330500": "hu zhou", "330502": "wu xing", "330503": "nan xun", "330521": "de qing",
    "330522": "chang xing", "330523": "an ji",
    "330600": "shao xing", "330602": "yue cheng", "330603": "ke qiao", "330604": "shang yu",
    "330624": "xin chang", "330681": "zhu ji", "330683": "sheng zhou",
    "330700": "jin hua", "330702": "wu cheng", "330703": "jin dong", "330723": "wu yi",
    "330726": "pu jiang", "330727": "pan an", "330781": "lan xi", "330782": "yi wu",
    "330783": "dong yang", "330784": "yong kang",
    "330800": "qu zhou", "330802": "ke cheng", "330803": "qu jiang", "330822": "chang shan",
    "330824": "kai hua", "330825": "long you", "330881": "jiang shan",
    "330900": "zhou shan", "330902": "ding hai", "330903": "pu tuo", "330921": "dai shan",
    "330922": "sheng si",
    "331000": "tai zhou", "331002": "jiao jiang", "331003": "huang yan", "331004": "lu qiao",
    "331022": "san men", "331023": "tian tai", "331024": "xian ju", "331081": "wen ling",
    "331082": "lin hai", "331083": "yu huan",
    "331100": "li shui", "331102": "lian du", "331121": "qing tian", "331122": "jin yun",
    "331123": "sui chang", "331124": "song yang", "331125": "yun he", "331126": "qing yuan",
    "331127": "jing ning", "331181": "long quan",
}  # fmt: skip

DEPARTMENT_KEYS = (
    "psb",
    "civil",
    "land",
    "fund",
    "hrss",
    "medical",
    "health",
    "market",
    "tax",
    "education",
    "emergency",
    "data",
)

# key → (province, city, county) templates as (Chinese, English). Placeholders: {c}/{cs} the city's full and
# short Chinese name, {k}/{ks} the county's, {C}/{K} their English names.
_DEPARTMENTS: dict[str, tuple[tuple[str, str], tuple[str, str], tuple[str, str]]] = {
    "psb": (
        ("浙江省公安厅", "Zhejiang Provincial Public Security Department"),
        ("{c}公安局", "{C} Public Security Bureau"),
        ("{k}公安局", "{K} Public Security Bureau"),
    ),
    "civil": (
        ("浙江省民政厅", "Zhejiang Provincial Department of Civil Affairs"),
        ("{c}民政局", "{C} Civil Affairs Bureau"),
        ("{k}民政局", "{K} Civil Affairs Bureau"),
    ),
    "land": (
        ("浙江省自然资源厅", "Zhejiang Provincial Department of Natural Resources"),
        ("{c}自然资源和规划局", "{C} Natural Resources and Planning Bureau"),
        ("{k}自然资源和规划局", "{K} Natural Resources and Planning Bureau"),
    ),
    "fund": (
        ("浙江省住房和城乡建设厅", "Zhejiang Provincial Department of Housing and Urban-Rural Development"),
        ("{cs}住房公积金管理中心", "{C} Housing Provident Fund Management Centre"),
        ("{cs}住房公积金管理中心{ks}分中心", "{C} Housing Provident Fund Management Centre, {K} Branch"),
    ),
    "hrss": (
        (
            "浙江省人力资源和社会保障厅",
            "Zhejiang Provincial Department of Human Resources and Social Security",
        ),
        ("{c}人力资源和社会保障局", "{C} Human Resources and Social Security Bureau"),
        ("{k}人力资源和社会保障局", "{K} Human Resources and Social Security Bureau"),
    ),
    "medical": (
        ("浙江省医疗保障局", "Zhejiang Provincial Healthcare Security Administration"),
        ("{c}医疗保障局", "{C} Healthcare Security Administration"),
        ("{k}医疗保障局", "{K} Healthcare Security Administration"),
    ),
    "health": (
        ("浙江省卫生健康委员会", "Health Commission of Zhejiang Province"),
        ("{c}卫生健康委员会", "{C} Health Commission"),
        ("{k}卫生健康局", "{K} Health Bureau"),
    ),
    "market": (
        ("浙江省市场监督管理局", "Zhejiang Provincial Administration for Market Regulation"),
        ("{c}市场监督管理局", "{C} Administration for Market Regulation"),
        ("{k}市场监督管理局", "{K} Administration for Market Regulation"),
    ),
    "tax": (
        ("国家税务总局浙江省税务局", "Zhejiang Provincial Tax Service, State Taxation Administration"),
        ("国家税务总局{c}税务局", "{C} Tax Service, State Taxation Administration"),
        ("国家税务总局{k}税务局", "{K} Tax Service, State Taxation Administration"),
    ),
    "education": (
        ("浙江省教育厅", "Zhejiang Provincial Department of Education"),
        ("{c}教育局", "{C} Education Bureau"),
        ("{k}教育局", "{K} Education Bureau"),
    ),
    "emergency": (
        ("浙江省应急管理厅", "Zhejiang Provincial Department of Emergency Management"),
        ("{c}应急管理局", "{C} Emergency Management Bureau"),
        ("{k}应急管理局", "{K} Emergency Management Bureau"),
    ),
    "data": (
        ("浙江省数据局", "Zhejiang Provincial Data Bureau"),
        ("{c}数据局", "{C} Data Bureau"),
        ("{k}大数据发展管理局", "{K} Big Data Development Bureau"),
    ),
}
# A city district's police and tax offices are branches of the city's, and named so.
_DISTRICT_OVERRIDES: dict[str, tuple[str, str]] = {
    "psb": ("{c}公安局{k}分局", "{C} Public Security Bureau, {K} Branch"),
    "tax": ("国家税务总局{c}{k}税务局", "{C} {K} Tax Service, State Taxation Administration"),
}


@dataclass(frozen=True)
class RegionName:
    """How a division is called: full and short Chinese names, English name, ASCII abbreviation."""

    code: str
    name: str
    short_name: str
    name_en: str
    abbreviation: str


def _syllables(code: str) -> list[str]:
    return _PINYIN.get(code, "").split()


def _romanise(syllables: list[str]) -> str:
    # Pinyin marks a syllable boundary before a, o or e with an apostrophe: Lin'an, Chun'an.
    text = "".join(("'" + s if i and s[0] in "aoe" else s) for i, s in enumerate(syllables))
    return text.capitalize()


def region_names() -> dict[str, RegionName]:
    """Names for every division in ``ZHEJIANG``; abbreviations are unique among siblings."""
    result: dict[str, RegionName] = {}
    taken: dict[str | None, set[str]] = {}
    for division in ZHEJIANG:
        syllables = _syllables(division.code)
        if syllables:
            initials = "".join(s[0] for s in syllables)
            candidates = [initials, syllables[0] + initials[1:], "".join(syllables)]
        else:
            candidates = []
        siblings = taken.setdefault(division.parent_code, set())
        abbreviation = next((c for c in candidates if c not in siblings), f"d{division.code}")
        siblings.add(abbreviation)
        result[division.code] = RegionName(
            code=division.code,
            name=division.name,
            short_name=_short_name(division),
            name_en=_english_name(division, syllables),
            abbreviation="zj" if division.level == "province" else abbreviation,
        )
    return result


def _short_name(division: Division) -> str:
    name = division.name
    if name.endswith("自治县"):
        return name.removesuffix("自治县").removesuffix("畲族")
    for suffix in ("省", "市", "区", "县"):
        if name.endswith(suffix) and len(name) > 2:
            return name.removesuffix(suffix)
    return name


def _english_name(division: Division, syllables: list[str]) -> str:
    base = _romanise(syllables) if syllables else division.code
    if division.level == "province":
        return f"{base} Province"
    if division.level == "city":
        return base
    if division.name.endswith("畲族自治县"):
        return f"{base} She Autonomous County"
    if division.name.endswith("自治县"):
        return f"{base} Autonomous County"
    suffix = {"区": "District", "县": "County", "市": "City"}.get(division.name[-1], "")
    return f"{base} {suffix}".strip()


@dataclass(frozen=True)
class OrgNode:
    """One unit of the tree as created (a snapshot, not a live row)."""

    id: int
    code: str
    kind: str
    name: str
    name_en: str
    division_code: str
    path: str
    parent_code: str | None
    department_key: str | None
    login_prefix: str  # ASCII, e.g. "zj", "hz", "hz-xh": staff login names start with it


@dataclass
class OrgTree:
    province: OrgNode
    nodes: dict[str, OrgNode]
    # The ORM rows, held so they stay in the session's identity map and later actions that load an
    # organisation by id (adding staff) find it without a SELECT.
    rows: list[object] = field(default_factory=list, repr=False)

    def get(self, code: str) -> OrgNode:
        return self.nodes[code]

    def region(self, division_code: str) -> OrgNode:
        return self.nodes[division_code]

    def department(self, division_code: str, key: str) -> OrgNode:
        """The department of kind ``key`` ("health", "fund" …) in a division."""
        return self.nodes[f"{division_code}-{key}"]

    @property
    def cities(self) -> list[OrgNode]:
        return [n for n in self.nodes.values() if n.kind == "city"]

    @property
    def counties(self) -> list[OrgNode]:
        return [n for n in self.nodes.values() if n.kind == "county"]

    @property
    def regions(self) -> list[OrgNode]:
        return [n for n in self.nodes.values() if n.kind != "department"]

    def departments(self, key: str | None = None) -> list[OrgNode]:
        """Every department, or every department of kind ``key`` across all levels."""
        return [
            n
            for n in self.nodes.values()
            if n.kind == "department" and (key is None or n.department_key == key)
        ]

    def departments_in(self, division_code: str) -> list[OrgNode]:
        return [n for n in self.nodes.values() if n.kind == "department" and n.division_code == division_code]


def department_name(key: str, division_code: str, names: dict[str, RegionName]) -> tuple[str, str]:
    """The Chinese and English names of the department ``key`` in a division."""
    division = get_division(division_code)
    level = ("province", "city", "county").index(division.level)
    template = _DEPARTMENTS[key][level]
    city = county = names[division_code]
    if division.level == "county":
        assert division.parent_code is not None
        city = names[division.parent_code]
        if division.name.endswith("区") and key in _DISTRICT_OVERRIDES:
            template = _DISTRICT_OVERRIDES[key]
    values = {
        "c": city.name,
        "cs": city.short_name,
        "C": city.name_en,
        "k": county.name,
        "ks": county.short_name,
        "K": county.name_en,
    }
    return template[0].format(**values), template[1].format(**values)


def build_org_tree(db: Session, *, actor: Actor, progress: Progress | None = None) -> OrgTree:
    """Create the province, every city and county of ``common.divisions.ZHEJIANG`` and the twelve
    departments in each, through ``create_organisation`` (which checks the nesting and the actor)."""
    names = region_names()
    regions = [d for d in ZHEJIANG if d.level in ("province", "city", "county")]
    total = len(regions) * (1 + len(DEPARTMENT_KEYS))
    nodes: dict[str, OrgNode] = {}
    rows: list[object] = []

    def add(
        kind: str,
        code: str,
        name: str,
        name_en: str,
        parent_code: str | None,
        key: str | None,
        login_prefix: str,
        division_code: str,
    ) -> None:
        parent = nodes[parent_code] if parent_code else None
        org = actions.create_organisation(
            db,
            actor=actor,
            kind=kind,
            code=code,
            name=name,
            name_en=name_en,
            division_code=division_code,
            parent_id=parent.id if parent else None,
        )
        rows.append(org)
        nodes[code] = OrgNode(
            id=org.id,
            code=code,
            kind=kind,
            name=name,
            name_en=name_en,
            division_code=division_code,
            path=org.path,
            parent_code=parent_code,
            department_key=key,
            login_prefix=login_prefix,
        )
        if progress is not None:
            progress("organisations", len(nodes), total)

    # Parents come before children: the province first, then each city followed by its counties.
    ordered = sorted(regions, key=lambda d: (d.level != "province", d.code[:4], d.level == "county", d.code))
    for division in ordered:
        region = names[division.code]
        if division.level == "county":
            assert division.parent_code is not None
            prefix = f"{names[division.parent_code].abbreviation}-{region.abbreviation}"
        else:
            prefix = region.abbreviation
        parent_code = division.parent_code if division.level != "province" else None
        add(
            division.level,
            division.code,
            division.name,
            region.name_en,
            parent_code,
            None,
            prefix,
            division.code,
        )
        for key in DEPARTMENT_KEYS:
            zh, en = department_name(key, division.code, names)
            add("department", f"{division.code}-{key}", zh, en, division.code, key, prefix, division.code)
    return OrgTree(province=nodes[ordered[0].code], nodes=nodes, rows=rows)
