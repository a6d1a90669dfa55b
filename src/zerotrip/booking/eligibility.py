"""Eligibility: may this person book this product's dose on this day? Pure, and on a clock passed in.

Inputs are plain values: the person (birth date and sex, from the resident ID), the product (``products``),
the dose number asked for, the appointment day, today's date (the caller's fixed clock), the person's
vaccination records (read through the datahub gateway, one per dose given) and the person's active bookings
(when rescheduling, the caller leaves out the booking being moved). The answer is an ``Eligibility``: allowed,
or refused with one stable reason code, an English message id with ``%(name)s`` placeholders and their
values, and where there is one, the earliest day the refusal no longer applies.

The rules, checked in this order (the first that fails is the reason):

1. ``date_in_past``: the appointment day is before today.
2. ``unknown_dose``: the dose number is below 1, or not 1 for an appointment kind. (A vaccine dose beyond
   the series is refused by the series rules below, which say why.)
3. ``too_young`` / ``too_old``: the product's age range on the appointment day, in completed months
   (a person born on the 31st completes a month on the 31st, or not at all in a shorter month); a minimum
   age by sex where the product has one.
4. Appointment kinds: ``already_booked`` when the person holds an active booking of the same product.
5. Vaccines, against the records of the product's vaccine kind (any product of that kind counts):
   ``dose_already_given`` when that dose number is recorded; ``dose_already_booked`` when an active
   booking of the same kind is for that dose (one active booking per person per dose);
   ``previous_dose_pending`` when an active booking for an earlier, not yet given dose exists;
   ``wrong_dose_order`` unless the dose is the next after the highest recorded one.
6. The series, whose platform is that of the recorded first dose (the product's own when nothing is
   recorded or the recorded product is unknown to the catalogue): a dose within the primary series must be
   of that platform (``mixed_primary_series``); the dose after the primary series is the booster, which the
   product must offer (``series_complete`` when it offers none, ``booster_not_allowed`` when it may not
   follow this primary platform); a booster-only product needs a completed primary series
   (``primary_series_required``); a dose after the booster is ``series_complete``.
7. ``too_young`` for a dose's own minimum age (a booster for adults only, MMR's second dose at 18 months).
8. ``interval_too_short``: fewer days since the previous dose than the dose's minimum interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from zerotrip.booking.products import Product, find_product, platform_of, primary_length
from zerotrip.common.checks import Sex

Reason = Literal[
    "date_in_past",
    "unknown_dose",
    "too_young",
    "too_old",
    "already_booked",
    "dose_already_given",
    "dose_already_booked",
    "previous_dose_pending",
    "wrong_dose_order",
    "mixed_primary_series",
    "primary_series_required",
    "booster_not_allowed",
    "series_complete",
    "interval_too_short",
]

# English message ids; the pages translate them and fill in ``params``.
MESSAGES: dict[Reason, str] = {
    "date_in_past": "The appointment day %(on)s has already passed.",
    "unknown_dose": "This product has no dose %(dose)s.",
    "too_young": "You can book this from %(earliest)s, when you reach the minimum age of %(min_age)s.",
    "too_old": "This is only for people younger than %(max_age)s.",
    "already_booked": "You already have an active booking for this.",
    "dose_already_given": "Your dose %(dose)s of this vaccine is already recorded.",
    "dose_already_booked": "You already have an active booking for dose %(dose)s of this vaccine.",
    "previous_dose_pending": "Your booking for dose %(pending)s must be kept or cancelled first.",
    "wrong_dose_order": "Your next dose of this vaccine is dose %(next)s, not dose %(dose)s.",
    "mixed_primary_series": (
        "Your first dose was a different type of vaccine; the first doses must all be of the same type."
    ),
    "primary_series_required": "This vaccine is a booster: complete the first doses with another vaccine.",
    "booster_not_allowed": "This vaccine cannot be the booster after the type of vaccine you had.",
    "series_complete": "You have had every dose of this vaccine that can be booked.",
    "interval_too_short": (
        "Dose %(dose)s needs at least %(days)s days after your previous dose: book from %(earliest)s."
    ),
}


@dataclass(frozen=True, slots=True)
class Person:
    birth_date: date
    sex: Sex


@dataclass(frozen=True, slots=True)
class DoseRecord:
    """A dose given, as the vaccination records hold it."""

    vaccine_kind: str
    dose: int
    given_on: date
    product: str | None = None
    """The product's code or its name (datahub records carry the name); None if unknown."""


@dataclass(frozen=True, slots=True)
class ActiveBooking:
    """A booking that holds a seat and is not yet attended (booked, or checked in but not recorded)."""

    product_code: str
    dose: int
    """1 for appointment kinds."""


@dataclass(frozen=True, slots=True)
class Eligibility:
    dose: int
    reason: Reason | None = None
    params: Mapping[str, str | int] = field(default_factory=dict)
    earliest_on: date | None = None
    """When refused: the first day on which this reason no longer applies, where there is one."""

    @property
    def allowed(self) -> bool:
        return self.reason is None

    @property
    def message(self) -> str:
        """The English message id ("" when allowed); format it with ``params`` after translating."""
        return MESSAGES[self.reason] if self.reason is not None else ""


def age_in_months(born: date, on: date) -> int:
    """Completed months of age on ``on`` (negative before birth)."""
    return (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)


def reaches_age(born: date, months: int) -> date:
    """The first day on which someone born on ``born`` has completed ``months`` months."""
    total = born.month - 1 + months
    year, month = born.year + total // 12, total % 12 + 1
    try:
        return date(year, month, born.day)
    except ValueError:  # no such day in that month (born on the 31st, or 29 February): the next month's 1st
        return date(year + month // 12, month % 12 + 1, 1)


def format_age(months: int) -> str:
    """An age for the messages: "18 years" or "8 months". English: the pages show their own wording from
    the ``min_age_months``/``max_age_months`` parameters."""
    return f"{months // 12} years" if months % 12 == 0 else f"{months} months"


def _too_young(dose: int, min_age: int, earliest: date) -> Eligibility:
    return _refuse(
        "too_young",
        dose,
        earliest,
        min_age=format_age(min_age),
        min_age_months=min_age,
        earliest=earliest.isoformat(),
    )


def _refuse(
    reason: Reason, number: int, earliest_on: date | None = None, /, **params: str | int
) -> Eligibility:
    return Eligibility(dose=number, reason=reason, params=params, earliest_on=earliest_on)


def check_eligibility(
    *,
    person: Person,
    product: Product,
    dose: int,
    on: date,
    today: date,
    records: Sequence[DoseRecord] = (),
    active: Sequence[ActiveBooking] = (),
) -> Eligibility:
    """Whether ``person`` may book ``dose`` of ``product`` for the day ``on``; the rules are in the module
    docstring. Never raises for a product of the catalogue; active bookings of unknown product codes are
    ignored."""
    if on < today:
        return _refuse("date_in_past", dose, on=on.isoformat())
    if dose < 1 or (product.vaccine_kind is None and dose != 1):
        return _refuse("unknown_dose", dose, dose=dose)
    age = age_in_months(person.birth_date, on)
    min_age = product.min_age_for(person.sex)
    if age < min_age:
        earliest = reaches_age(person.birth_date, min_age)
        return _too_young(dose, min_age, earliest)
    if product.max_age_months is not None and age >= product.max_age_months:
        limit = product.max_age_months
        return _refuse("too_old", dose, max_age=format_age(limit), max_age_months=limit)
    if product.vaccine_kind is None:
        if any(b.product_code == product.code for b in active):
            return _refuse("already_booked", dose)
        return Eligibility(dose=dose)
    return _check_dose(product=product, kind=product.vaccine_kind, person=person, dose=dose, on=on,
                       records=records, active=active)  # fmt: skip


def _check_dose(
    *,
    product: Product,
    kind: str,
    person: Person,
    dose: int,
    on: date,
    records: Sequence[DoseRecord],
    active: Sequence[ActiveBooking],
) -> Eligibility:
    given = {r.dose: r for r in sorted(records, key=lambda r: r.given_on) if r.vaccine_kind == kind}
    if dose in given:
        return _refuse("dose_already_given", dose, dose=dose)
    booked = sorted(b.dose for b in active if _kind_of(b) == kind)
    if dose in booked:
        return _refuse("dose_already_booked", dose, dose=dose)
    last = max(given, default=0)
    pending = [d for d in booked if last < d < dose]
    if pending:
        return _refuse("previous_dose_pending", dose, pending=pending[0])
    if dose != last + 1:
        return _refuse("wrong_dose_order", dose, dose=dose, next=last + 1)

    first = given.get(1)
    series = (platform_of(kind, first.product) if first is not None else None) or product.platform
    assert series is not None  # a vaccine product has a platform (checked by the catalogue)
    primary = primary_length(kind, series)
    if primary == 0 and last > 0:
        # A booster-only product after a primary series of a product the catalogue does not know: which
        # platform it may follow cannot be told.
        return _refuse("booster_not_allowed", dose)
    min_age: int | None
    if dose <= primary:
        if product.platform != series:
            return _refuse("mixed_primary_series", dose)
        rule = product.primary[dose - 1]
        interval, min_age = rule.min_interval_days, rule.min_age_months
    elif dose == primary + 1:
        if last == 0:
            return _refuse("primary_series_required", dose)
        if product.booster is None:
            return _refuse("series_complete", dose)
        if series not in product.booster.after_platforms:
            return _refuse("booster_not_allowed", dose)
        interval, min_age = product.booster.min_interval_days, product.booster.min_age_months
    else:
        return _refuse("series_complete", dose)

    if min_age is not None and age_in_months(person.birth_date, on) < min_age:
        earliest = reaches_age(person.birth_date, min_age)
        return _too_young(dose, min_age, earliest)
    previous = given.get(dose - 1)
    if previous is not None and (on - previous.given_on).days < interval:
        earliest = previous.given_on + timedelta(days=interval)
        return _refuse(
            "interval_too_short", dose, earliest, dose=dose, days=interval, earliest=earliest.isoformat()
        )
    return Eligibility(dose=dose)


def _kind_of(booking: ActiveBooking) -> str | None:
    product = find_product(booking.product_code)
    return product.vaccine_kind if product is not None else None


def next_dose(product: Product, records: Sequence[DoseRecord]) -> int:
    """The dose number a person with ``records`` would book next with ``product``: one after the highest
    recorded dose of its kind (1 for appointment kinds). Whether they may is ``check_eligibility``'s
    answer."""
    if product.vaccine_kind is None:
        return 1
    return max((r.dose for r in records if r.vaccine_kind == product.vaccine_kind), default=0) + 1
