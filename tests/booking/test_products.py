"""The catalogue: codes are stable, vaccine kinds are the ones the vaccination records carry, and the
COVID-19 products' names match what datahub holds, so doses already given count."""

from __future__ import annotations

from zerotrip.booking.products import (
    APPOINTMENT_CODES,
    COVID,
    PRODUCTS,
    VACCINE_CODES,
    find_product,
    get_product,
    platform_of,
)
from zerotrip.demo.datasets.health_data import COVID_PRODUCT, SCHEDULE, VACCINE_KINDS


def test_codes_are_stable() -> None:
    # Bookings, slots and site offers store these codes: renaming one strands them.
    assert VACCINE_CODES == (
        "covid-inactivated-hk",
        "covid-inactivated-zy",
        "covid-recombinant",
        "covid-mrna",
        "covid-adenovirus-inhaled",
        "hepb-adult",
        "mmr",
    )
    assert APPOINTMENT_CODES == ("nat", "hospital-registration", "marriage-registration")
    assert find_product("nope") is None
    assert get_product("mmr").name == "麻疹腮腺炎风疹联合减毒活疫苗"


def test_vaccine_kinds_are_those_of_the_vaccination_records() -> None:
    """Recording a dose writes the product's kind into datahub's 预防接种记录 (an enumerated field)."""
    assert VACCINE_KINDS[0] == COVID
    for product in PRODUCTS:
        assert product.vaccine_kind is None or product.vaccine_kind in VACCINE_KINDS, product.code
    # The COVID-19 doses in the demo's records are of an inactivated vaccine the catalogue knows by name.
    assert platform_of(COVID, COVID_PRODUCT) == "inactivated"
    assert platform_of(COVID, "covid-mrna") == "mrna"
    assert platform_of(COVID, "hepb-adult") is None  # a code of another kind
    assert platform_of(COVID, None) is None
    # Childhood records of the routine kinds use other products; the kinds themselves match.
    assert {kind for kind, *_ in SCHEDULE} >= {
        get_product("hepb-adult").vaccine_kind,
        get_product("mmr").vaccine_kind,
    }


def test_every_product_is_complete() -> None:
    for product in PRODUCTS:
        assert product.name and product.name_en and product.slot_minutes > 0
        if product.is_vaccine:
            assert product.manufacturer is not None and product.manufacturer.code.isupper()
            assert product.max_dose >= 1
