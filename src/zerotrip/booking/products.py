"""The catalogue of bookable kinds: vaccine products and other appointment kinds. Pure data.

A **vaccine product** belongs to a vaccine kind (``vaccine_kind``, the exact string that the health
department's vaccination records in datahub carry, such as ``新冠病毒疫苗``), so doses already given with
any product of that kind count towards the person's series. Each product has:

- a **platform** (inactivated, recombinant protein, mRNA, adenovirus vector, live attenuated): a primary
  series is completed with products of one platform;
- a **primary series**: its doses in order, each with the minimum interval in days since the previous dose
  of the same kind and, where it differs from the product's, a minimum age;
- an optional **booster**: one more dose, a minimum interval after the last primary dose, its own minimum
  age, and the primary platforms it may follow (a heterologous booster follows another platform). A
  booster-only product has an empty primary series;
- an **age range** in completed months on the day of the appointment: at least ``min_age_months``, and
  younger than ``max_age_months`` when that is set.

An **appointment kind** (nucleic-acid testing, hospital registration, marriage registration) has no doses;
a person holds at most one active booking of it, and some kinds have a minimum age, possibly by sex (the
legal age of marriage is 22 for men and 20 for women).

Product codes are stable: bookings, slots and site offers refer to them. Names and manufacturers are
realistic but synthetic; the manufacturer codes are this catalogue's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from zerotrip.common.checks import Sex

Category = Literal["vaccine", "testing", "hospital", "civil"]
Platform = Literal["inactivated", "recombinant", "mrna", "adenovirus", "live_attenuated"]

COVID = "新冠病毒疫苗"
HEPATITIS_B = "乙肝疫苗"
MMR = "麻腮风疫苗"

YEAR = 12  # months


@dataclass(frozen=True, slots=True)
class Dose:
    """One dose of a primary series: its number (1-based) and what it needs beyond the product's rules."""

    number: int
    min_interval_days: int
    """Days since the previous dose of the same vaccine kind (0 for the first dose)."""
    min_age_months: int | None = None
    """Overrides the product's minimum age for this dose (MMR's second dose at 18 months)."""


@dataclass(frozen=True, slots=True)
class Booster:
    """One dose after a completed primary series."""

    min_interval_days: int
    after_platforms: frozenset[Platform]
    """The primary-series platforms this booster may follow."""
    min_age_months: int | None = None


@dataclass(frozen=True, slots=True)
class Manufacturer:
    code: str
    name: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Product:
    """A bookable kind. ``vaccine_kind`` is None for appointment kinds, which have no doses."""

    code: str
    category: Category
    name: str
    name_en: str
    slot_minutes: int
    """How long one appointment takes, a default for slot templates."""
    min_age_months: int = 0
    max_age_months: int | None = None
    """Exclusive: the person must be younger than this on the appointment day."""
    min_age_months_by_sex: tuple[tuple[Sex, int], ...] = ()
    """A higher minimum age for one sex (the legal age of marriage)."""
    vaccine_kind: str | None = None
    platform: Platform | None = None
    manufacturer: Manufacturer | None = None
    primary: tuple[Dose, ...] = ()
    booster: Booster | None = None

    @property
    def is_vaccine(self) -> bool:
        return self.vaccine_kind is not None

    @property
    def max_dose(self) -> int:
        """The highest dose number this product can be given as (0 for appointment kinds).

        A booster's number follows the primary series it boosts, which may be another product's: the
        longest primary among the platforms it may follow."""
        if self.booster is None:
            return len(self.primary)
        boosts = max(primary_length(self.vaccine_kind or "", p) for p in self.booster.after_platforms) + 1
        return max(len(self.primary), boosts)

    def min_age_for(self, sex: Sex) -> int:
        """The minimum age in months for a person of ``sex``, before per-dose rules."""
        return max([self.min_age_months] + [m for s, m in self.min_age_months_by_sex if s == sex])


_HK = Manufacturer("HKSW", "华康生物制品有限公司", "Huakang Biological Products Co., Ltd.")
_ZY = Manufacturer("ZYSW", "中元生物技术股份有限公司", "Zhongyuan Biotechnology Co., Ltd.")
_LT = Manufacturer("LTYY", "龙腾生物制药有限公司", "Longteng Biopharmaceutical Co., Ltd.")
_HJ = Manufacturer("HJSK", "沪江生物科技有限公司", "Hujiang Biotech Co., Ltd.")
_KN = Manufacturer("KNSW", "康诺生物股份有限公司", "Kangnuo Biologics Inc.")
_AH = Manufacturer("AHSW", "安和生物制品有限公司", "Anhe Biological Products Co., Ltd.")
_BF = Manufacturer("BFSW", "北方生物制品研究所有限责任公司", "Northern Institute of Biological Products")

_ADULT = 18 * YEAR
_COVID_BOOSTER_DAYS = 180  # six months after completing the primary series

PRODUCTS: tuple[Product, ...] = (
    Product(
        code="covid-inactivated-hk",
        category="vaccine",
        name="新冠病毒灭活疫苗（Vero细胞）",
        name_en="COVID-19 vaccine, inactivated (Vero cell)",
        slot_minutes=5,
        min_age_months=3 * YEAR,
        vaccine_kind=COVID,
        platform="inactivated",
        manufacturer=_HK,
        primary=(Dose(1, 0), Dose(2, 21)),
        booster=Booster(_COVID_BOOSTER_DAYS, frozenset({"inactivated"}), min_age_months=_ADULT),
    ),
    Product(
        code="covid-inactivated-zy",
        category="vaccine",
        name="新冠病毒灭活疫苗（Vero细胞）",
        name_en="COVID-19 vaccine, inactivated (Vero cell)",
        slot_minutes=5,
        min_age_months=3 * YEAR,
        vaccine_kind=COVID,
        platform="inactivated",
        manufacturer=_ZY,
        primary=(Dose(1, 0), Dose(2, 21)),
        booster=Booster(_COVID_BOOSTER_DAYS, frozenset({"inactivated"}), min_age_months=_ADULT),
    ),
    Product(
        code="covid-recombinant",
        category="vaccine",
        name="重组新冠病毒蛋白疫苗（CHO细胞）",
        name_en="COVID-19 vaccine, recombinant protein (CHO cell)",
        slot_minutes=5,
        min_age_months=_ADULT,
        vaccine_kind=COVID,
        platform="recombinant",
        manufacturer=_LT,
        primary=(Dose(1, 0), Dose(2, 28), Dose(3, 28)),
        # Approved as a heterologous booster after an inactivated primary series.
        booster=Booster(_COVID_BOOSTER_DAYS, frozenset({"inactivated"}), min_age_months=_ADULT),
    ),
    Product(
        code="covid-mrna",
        category="vaccine",
        name="新冠病毒mRNA疫苗",
        name_en="COVID-19 vaccine, mRNA",
        slot_minutes=5,
        min_age_months=_ADULT,
        vaccine_kind=COVID,
        platform="mrna",
        manufacturer=_HJ,
        primary=(Dose(1, 0), Dose(2, 21)),
        booster=Booster(_COVID_BOOSTER_DAYS, frozenset({"inactivated", "mrna"}), min_age_months=_ADULT),
    ),
    Product(
        code="covid-adenovirus-inhaled",
        category="vaccine",
        name="吸入用重组新冠病毒疫苗（5型腺病毒载体）",
        name_en="COVID-19 vaccine, adenovirus type 5 vector, inhaled",
        slot_minutes=5,
        min_age_months=_ADULT,
        vaccine_kind=COVID,
        platform="adenovirus",
        manufacturer=_KN,
        # Booster only: approved for people who completed an inactivated primary series.
        booster=Booster(_COVID_BOOSTER_DAYS, frozenset({"inactivated"}), min_age_months=_ADULT),
    ),
    Product(
        code="hepb-adult",
        category="vaccine",
        name="重组乙型肝炎疫苗（汉逊酵母）20μg",
        name_en="Hepatitis B vaccine, recombinant (Hansenula polymorpha), 20 μg",
        slot_minutes=5,
        min_age_months=16 * YEAR,
        vaccine_kind=HEPATITIS_B,
        platform="recombinant",
        manufacturer=_AH,
        # The 0-1-6 month schedule's minimum intervals.
        primary=(Dose(1, 0), Dose(2, 28), Dose(3, 60)),
    ),
    Product(
        code="mmr",
        category="vaccine",
        name="麻疹腮腺炎风疹联合减毒活疫苗",
        name_en="Measles, mumps and rubella vaccine, live attenuated",
        slot_minutes=5,
        min_age_months=8,
        max_age_months=18 * YEAR,
        vaccine_kind=MMR,
        platform="live_attenuated",
        manufacturer=_BF,
        primary=(Dose(1, 0), Dose(2, 28, min_age_months=18)),
    ),
    Product(
        code="nat",
        category="testing",
        name="核酸检测",
        name_en="Nucleic-acid test",
        slot_minutes=2,
    ),
    Product(
        code="hospital-registration",
        category="hospital",
        name="门诊预约挂号",
        name_en="Outpatient registration",
        slot_minutes=15,
    ),
    Product(
        code="marriage-registration",
        category="civil",
        name="结婚登记",
        name_en="Marriage registration",
        slot_minutes=30,
        # 《民法典》第一千零四十七条: men at 22, women at 20.
        min_age_months_by_sex=(("male", 22 * YEAR), ("female", 20 * YEAR)),
    ),
)

_BY_CODE = {p.code: p for p in PRODUCTS}
COVID_CODES = tuple(p.code for p in PRODUCTS if p.vaccine_kind == COVID)
VACCINE_CODES = tuple(p.code for p in PRODUCTS if p.is_vaccine)
APPOINTMENT_CODES = tuple(p.code for p in PRODUCTS if not p.is_vaccine)


def get_product(code: str) -> Product:
    """The product with ``code``; raises KeyError for unknown codes."""
    return _BY_CODE[code]


def find_product(code: str) -> Product | None:
    return _BY_CODE.get(code)


def products_of_kind(vaccine_kind: str) -> tuple[Product, ...]:
    return tuple(p for p in PRODUCTS if p.vaccine_kind == vaccine_kind)


def platform_of(vaccine_kind: str, product: str | None) -> Platform | None:
    """The platform of a dose record's product, given as a product code or as the product's name (records
    in datahub carry the name); None when the catalogue does not know it."""
    if product is None:
        return None
    known = _BY_CODE.get(product)
    if known is not None and known.vaccine_kind == vaccine_kind:
        return known.platform
    platforms = {p.platform for p in products_of_kind(vaccine_kind) if p.name == product}
    return platforms.pop() if len(platforms) == 1 else None


def primary_length(vaccine_kind: str, platform: Platform) -> int:
    """How many doses a primary series of ``platform`` has for this kind (0 if none does: booster only)."""
    return max((len(p.primary) for p in products_of_kind(vaccine_kind) if p.platform == platform), default=0)


def _check(products: Iterable[Product]) -> None:
    """Catalogue invariants, checked at import so a bad edit fails at once."""
    seen: set[str] = set()
    for p in products:
        assert p.code not in seen, p.code
        seen.add(p.code)
        assert (p.vaccine_kind is None) == (p.platform is None) == (p.manufacturer is None), p.code
        if p.vaccine_kind is None:
            assert not p.primary and p.booster is None, p.code
        else:
            assert p.primary or p.booster is not None, p.code
        assert [d.number for d in p.primary] == list(range(1, len(p.primary) + 1)), p.code
        assert not p.primary or p.primary[0].min_interval_days == 0, p.code
        assert p.max_age_months is None or p.max_age_months > p.min_age_months, p.code
    # Products of one kind and platform agree on the length of the primary series.
    lengths: dict[tuple[str, str], set[int]] = {}
    for p in products:
        if p.vaccine_kind is not None and p.platform is not None and p.primary:
            lengths.setdefault((p.vaccine_kind, p.platform), set()).add(len(p.primary))
    assert all(len(v) == 1 for v in lengths.values()), lengths


_check(PRODUCTS)
