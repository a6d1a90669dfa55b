"""The departments' demo datasets: what later flows read through the datahub gateway.

Each dataset is a catalogue entry (owner department, fields with grades and quality rules) and rows derived
deterministically from the population plan (one seeded generator per dataset, no wall clock), so that a
demo citizen's household, real estate, housing fund, insurance, births, marriage, enterprise and
vaccination records agree with one another. The seed catalogues them and loads the rows through
aggregation, exactly as a department would.

The demo family (the plan's first household: a couple in 杭州市西湖区 with a newborn) holds no real estate
in the province, has Hangzhou housing fund accounts with two years of contributions, a marriage
registration, a birth record for the newborn (who is not yet in medical insurance: the birth bundle
enrols them), and COVID-19 vaccination records for both parents.
"""

from __future__ import annotations

from zerotrip.demo.datasets.base import Dataset, Facts, Row, derive_facts
from zerotrip.demo.datasets.fund_data import housing_fund
from zerotrip.demo.datasets.health_data import vaccinations
from zerotrip.demo.datasets.insurance_data import medical_insurance, social_insurance
from zerotrip.demo.datasets.open_data import county_population
from zerotrip.demo.datasets.people_data import (
    birth_certificates,
    household_registration,
    marriage_registration,
)
from zerotrip.demo.datasets.property_data import enterprise_registration, real_estate
from zerotrip.demo.people import PopulationPlan

__all__ = ["Dataset", "Facts", "Row", "demo_datasets", "derive_facts"]


def demo_datasets(plan: PopulationPlan) -> tuple[Dataset, ...]:
    """Every demo dataset for a plan, each after the datasets its references point into."""
    facts = derive_facts(plan)
    accounts, contributions = housing_fund(facts)
    return (
        household_registration(facts),
        enterprise_registration(facts),
        real_estate(facts),
        marriage_registration(facts),
        birth_certificates(facts),
        accounts,
        contributions,
        social_insurance(facts),
        medical_insurance(facts),
        vaccinations(facts),
        county_population(facts),
    )
