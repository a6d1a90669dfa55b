"""Hangzhou's housing provident fund (杭州住房公积金管理中心): personal accounts and monthly contributions.

The fund reads the same employer and wage as social and medical insurance. The demo parents have accounts
in good standing with two years of contributions, which the zero-trip withdrawal reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from zerotrip.demo.datasets.base import (
    HANGZHOU,
    MONTH_PATTERN,
    PUBLIC_DATA_REGULATION,
    Dataset,
    Facts,
    Row,
    add_years,
    between,
    field,
    money,
    month_of,
    resource,
    rng_for,
)
from zerotrip.demo.people import REFERENCE_DATE

ACCOUNT_STATUSES = ["正常", "封存", "销户"]
RATES = [5, 8, 10, 12]  # per cent, the same for the employee and the employer
# Hangzhou's lower limit is the local minimum wage; the upper limit three times the average wage.
BASE_LIMITS = (2_490, 39_000)
MONTHS_KEPT = 12  # contributions kept in the demo per account
DEMO_MONTHS = 24  # … and for the demo parents
ACCOUNTS = "330100-fund.accounts"
LEGAL_BASIS = f"《住房公积金管理条例》；{PUBLIC_DATA_REGULATION}"


@dataclass(frozen=True)
class _Account:
    person: int
    number: str
    employer: int
    base: int
    rate: int
    opened_on: date
    paid_through: tuple[int, int]
    is_sealed: bool

    @property
    def share(self) -> int:
        """What the employee pays each month, and the employer again: a percentage rounded to the yuan."""
        return round(self.base * self.rate / 100)


def housing_fund(facts: Facts) -> tuple[Dataset, Dataset]:
    accounts = _accounts(facts)
    return _account_dataset(facts, accounts), _contribution_dataset(facts, accounts)


def _accounts(facts: Facts) -> list[_Account]:
    rng = rng_for(facts.plan, "housing-fund")
    last_month = month_of(REFERENCE_DATE, -1)
    result: list[_Account] = []
    for index in sorted(facts.employer_of):
        employer = facts.employer_of[index]
        person = facts.person(index)
        is_demo = index in facts.parents
        if not is_demo and (not person.division_code.startswith(HANGZHOU[:4]) or rng.random() > 0.85):
            continue
        enterprise = facts.plan.enterprises[employer]
        since = max(enterprise.established_on, add_years(person.birth_date, 20))
        latest = REFERENCE_DATE - timedelta(days=2 * 365 + 60 if is_demo else 45)
        opened = between(rng, since, latest)
        is_sealed = not is_demo and rng.random() < 0.08
        paid_through = (
            month_of(between(rng, opened, REFERENCE_DATE - timedelta(days=60))) if is_sealed else last_month
        )
        result.append(
            _Account(
                person=index,
                number=f"{HANGZHOU[:4]}{len(result) + 1:08d}",
                employer=employer,
                base=min(BASE_LIMITS[1], max(BASE_LIMITS[0], facts.wage_of[index])),
                rate=12 if is_demo else rng.choices(RATES, [15, 20, 25, 40])[0],
                opened_on=opened,
                paid_through=paid_through,
                is_sealed=is_sealed,
            )
        )
    return result


def _months(account: _Account, kept: int) -> list[tuple[int, int]]:
    """The contribution months kept for an account, oldest first: at most ``kept``, none before opening."""
    opened = month_of(account.opened_on)
    months: list[tuple[int, int]] = []
    year, month = account.paid_through
    while len(months) < kept and (year, month) >= opened:
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _account_dataset(facts: Facts, accounts: list[_Account]) -> Dataset:
    spec = resource(
        ACCOUNTS,
        "住房公积金个人账户信息",
        "Housing provident fund accounts",
        description="杭州住房公积金管理中心的职工个人账户：缴存单位、基数、比例、余额与状态，一人一户。",
        subject_kind="resident_id",
        subject_field="resident_id",
        share_type="conditional",
        update_frequency="daily",
        legal_basis=LEGAL_BASIS,
        keywords=["住房公积金", "公积金账户", "housing fund"],
        fields=[
            field("account_no", "个人公积金账号", 2, is_required=True, is_unique=True, pattern=r"^\d{12}$"),
            field(
                "resident_id",
                "公民身份号码",
                2,
                is_required=True,
                is_unique=True,
                check_kind="resident_id",
                reference="330000-psb.household.resident_id",
            ),
            field("name", "姓名", 2, is_required=True),
            field(
                "employer_uscc",
                "缴存单位统一社会信用代码",
                1,
                is_required=True,
                check_kind="uscc",
                reference="330000-market.enterprises.uscc",
            ),
            field("employer_name", "缴存单位名称", 1, is_required=True),
            field("opened_on", "开户日期", 1, type="date", is_required=True),
            field("status", "账户状态", 1, is_required=True, enumeration=ACCOUNT_STATUSES),
            field("monthly_base", "缴存基数（元）", 3, type="decimal", is_required=True),
            field("contribution_rate", "缴存比例（%）", 1, type="integer", is_required=True),
            field("monthly_amount", "月缴存额（元，个人与单位合计）", 3, type="decimal", is_required=True),
            field("balance", "账户余额（元）", 3, type="decimal", is_required=True),
            field("paid_through", "缴至年月", 1, is_required=True, pattern=MONTH_PATTERN),
        ],
    )
    rng = rng_for(facts.plan, "housing-fund-balances")
    rows: list[Row] = []
    for account in accounts:
        person = facts.person(account.person)
        opened = month_of(account.opened_on)
        months_paid = (account.paid_through[0] - opened[0]) * 12 + account.paid_through[1] - opened[1] + 1
        # Others have withdrawn part of theirs (to buy, to pay rent); the demo parents never have.
        kept = 1.0 if account.person in facts.parents else rng.uniform(0.3, 1.0)
        rows.append(
            {
                "account_no": account.number,
                "resident_id": person.resident_id,
                "name": person.name,
                "employer_uscc": facts.plan.enterprises[account.employer].uscc,
                "employer_name": facts.plan.enterprises[account.employer].name,
                "opened_on": account.opened_on.isoformat(),
                "status": "封存" if account.is_sealed else "正常",
                "monthly_base": money(account.base),
                "contribution_rate": str(account.rate),
                "monthly_amount": money(2 * account.share),
                "balance": money(2 * account.share * months_paid * kept),
                "paid_through": "{}-{:02d}".format(*account.paid_through),
            }
        )
    return Dataset("330100-fund", spec, tuple(rows))


def _contribution_dataset(facts: Facts, accounts: list[_Account]) -> Dataset:
    spec = resource(
        "330100-fund.contributions",
        "住房公积金缴存明细",
        "Housing provident fund contributions",
        description="按月汇缴的住房公积金缴存记录，一户一月一条（个人与单位部分分列）。",
        subject_kind="resident_id",
        subject_field="resident_id",
        key_fields=["account_no", "month"],
        share_type="conditional",
        update_frequency="monthly",
        legal_basis=LEGAL_BASIS,
        keywords=["住房公积金", "缴存", "缴存明细", "housing fund"],
        fields=[
            field("account_no", "个人公积金账号", 2, is_required=True, reference=f"{ACCOUNTS}.account_no"),
            field("resident_id", "公民身份号码", 2, is_required=True, check_kind="resident_id"),
            field("month", "缴存年月", 1, is_required=True, pattern=MONTH_PATTERN),
            field(
                "employer_uscc",
                "缴存单位统一社会信用代码",
                1,
                is_required=True,
                check_kind="uscc",
                reference="330000-market.enterprises.uscc",
            ),
            field("base", "缴存基数（元）", 3, type="decimal", is_required=True),
            field("personal_amount", "个人缴存额（元）", 3, type="decimal", is_required=True),
            field("employer_amount", "单位缴存额（元）", 3, type="decimal", is_required=True),
            field("paid_on", "入账日期", 1, type="date", is_required=True),
        ],
    )
    rng = rng_for(facts.plan, "housing-fund-contributions")
    rows: list[Row] = []
    for account in accounts:
        kept = DEMO_MONTHS if account.person in facts.parents else MONTHS_KEPT
        for year, month in _months(account, kept):
            rows.append(
                {
                    "account_no": account.number,
                    "resident_id": facts.person(account.person).resident_id,
                    "month": f"{year}-{month:02d}",
                    "employer_uscc": facts.plan.enterprises[account.employer].uscc,
                    "base": money(account.base),
                    "personal_amount": money(account.share),
                    "employer_amount": money(account.share),
                    "paid_on": date(year, month, rng.randint(5, 20)).isoformat(),
                }
            )
    return Dataset("330100-fund", spec, tuple(rows))
