"""Words the booking pages show: status and category names, the eligibility reasons with their values, and
the booking context's problems made translatable.

An eligibility refusal carries a stable reason code and its values (``booking.eligibility``); the page says
it with this module's message for the code, an age in the reader's language, and the earliest day it can
be booked where there is one. The booking context's other problems speak plain English in their details;
the phrases it uses are matched here, and an unknown phrase is shown as it is (never hidden).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from zerotrip.problems import Problem
from zerotrip.web.datahub_text import Detail, ProblemView, Text
from zerotrip.web.datahub_text import phrase as datahub_phrase
from zerotrip.web.i18n import N_

STATUS_LABELS = {
    "booked": N_("Booked"),
    "checked_in": N_("Checked in"),
    "completed": N_("Done"),
    "cancelled": N_("Cancelled"),
    "no_show": N_("Missed"),
}
STATUS_TONES = {
    "booked": "ok",
    "checked_in": "ok",
    "completed": "ok",
    "cancelled": "muted",
    "no_show": "warn",
}
WAITLIST_LABELS = {
    "waiting": N_("Waiting"),
    "promoted": N_("Booked from the waitlist"),
    "withdrawn": N_("Left the waitlist"),
    "expired": N_("No longer waiting"),
}
CATEGORY_LABELS = {
    "vaccine": N_("Vaccination"),
    "testing": N_("Nucleic-acid testing"),
    "hospital": N_("Hospital registration"),
    "civil": N_("Marriage registration"),
}
RELATION_LABELS = {"self": N_("Yourself"), "child": N_("Your child"), "parent": N_("Your parent")}
CANCELLED_BY_LABELS = {
    "person": N_("Cancelled by you"),
    "site": N_("Cancelled by the site"),
    "system": N_("Cancelled by the platform"),
}
WEEKDAY_LABELS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
DOSE = N_("Dose %(dose)s")
YEARS = N_("%(years)s years")
MONTHS = N_("%(months)s months")

# The eligibility reasons (``booking.eligibility.MESSAGES``, whose English they repeat; a test checks it).
REASONS: dict[str, str] = {
    "date_in_past": N_("The appointment day %(on)s has already passed."),
    "unknown_dose": N_("This product has no dose %(dose)s."),
    "too_young": N_("You can book this from %(earliest)s, when you reach the minimum age of %(min_age)s."),
    "too_old": N_("This is only for people younger than %(max_age)s."),
    "already_booked": N_("You already have an active booking for this."),
    "dose_already_given": N_("Your dose %(dose)s of this vaccine is already recorded."),
    "dose_already_booked": N_("You already have an active booking for dose %(dose)s of this vaccine."),
    "previous_dose_pending": N_("Your booking for dose %(pending)s must be kept or cancelled first."),
    "wrong_dose_order": N_("Your next dose of this vaccine is dose %(next)s, not dose %(dose)s."),
    "mixed_primary_series": N_(
        "Your first dose was a different type of vaccine; the first doses must all be of the same type."
    ),
    "primary_series_required": N_(
        "This vaccine is a booster: complete the first doses with another vaccine."
    ),
    "booster_not_allowed": N_("This vaccine cannot be the booster after the type of vaccine you had."),
    "series_complete": N_("You have had every dose of this vaccine that can be booked."),
    "interval_too_short": N_(
        "Dose %(dose)s needs at least %(days)s days after your previous dose: book from %(earliest)s."
    ),
}

PROBLEM_TITLES = (
    N_("No such site"),
    N_("The site offers no such service"),
    N_("No such slot"),
    N_("No such booking"),
    N_("A site with this code already exists"),
    N_("You cannot book for this person"),
    N_("This takes the site operator role over the site's department"),
    N_("Build the profile before booking"),
    N_("Household registration holds no record for this person"),
    N_("This slot cannot be booked"),
    N_("No seats are left in this slot"),
    N_("You already have a booking for this"),
    N_("The person cannot be booked for this vaccination now"),
    N_("This idempotency key was used for a different booking"),
    N_("Too many booking attempts; wait and try again"),
    N_("This booking can no longer be changed"),
    N_("This booking cannot be checked in"),
    N_("More people are booked than the new capacity"),
    N_("You cannot join the waitlist for this slot"),
    N_("The schedule change is not valid"),
    N_("No COVID-19 vaccination is recorded for this person"),
    N_("The booking system may not read or write health data yet"),
    N_("The vaccination record was refused"),
)

# The booking context's phrases in problem details and field errors.
_FIXED = frozenset(
    {
        N_("every seat of this slot is taken"),
        N_("every seat of the new slot is taken"),
        N_("the last seat of the new slot was just taken"),
        N_("the slot has started"),
        N_("the slot has started; the site marks a missed booking"),
        N_("the booking is already in this slot"),
        N_("move a booking to a slot of the same vaccine or service"),
        N_("the profile is prefilled from household registration only with consent"),
        N_("a mainland mobile number of 11 digits"),
        N_("not a product of the catalogue"),
        N_("this service keeps no waitlist"),
        N_("the slot has seats left: book one"),
        N_("already waiting for this slot"),
        N_("bookings are made by signed-in citizens"),
        N_("you may book for yourself, a minor child, or a parent aged 60 or more"),
        N_("build the profile (建档) before the first booking"),
        N_("no booking has this QR code"),
        N_("this booking is not for a vaccination"),
        N_("scan the booking QR code or type what it holds"),
        N_("choose one of the reactions listed"),
        N_("the lot number is 8 to 12 capital letters and digits"),
        N_("you may act only for yourself and the family members household data names"),
    }
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), msgid)
    for pattern, msgid in (
        (r"the booking is (?P<status>[a-z_ ]+)", N_("the booking is %(status)s")),
        (
            r"check the person in first \(the booking is (?P<status>[a-z_ ]+)\)",
            N_("check the person in first (the booking is %(status)s)"),
        ),
        (
            r"the booking is for (?P<day>\d{4}-\d{2}-\d{2}), not today",
            N_("the booking is for %(day)s, not today"),
        ),
        (
            r"this booking is at (?P<site>.+), a site you do not operate",
            N_("this booking is at %(site)s, a site you do not operate"),
        ),
        (
            r"this needs the site operator role at (?P<org>.+)",
            N_("this needs the site operator role at %(org)s"),
        ),
    )
)


def age(months: int) -> Text:
    """An age in the reader's language: whole years, or months below them."""
    return Text(YEARS, {"years": months // 12}) if months % 12 == 0 else Text(MONTHS, {"months": months})


def reason_text(reason: str, params: Mapping[str, object]) -> Text:
    """An eligibility refusal in words, its ages said in the reader's language."""
    values: dict[str, object] = dict(params)
    for key in ("min_age", "max_age"):
        months = params.get(f"{key}_months")
        if isinstance(months, int):
            values[key] = age(months)
    if "status" in values and isinstance(values["status"], str):
        values["status"] = Text(STATUS_LABELS.get(values["status"], values["status"]))
    return Text(REASONS.get(reason, reason), values)


def phrase(text: str) -> Text:
    if text in _FIXED:
        return Text(text)
    for pattern, msgid in _PATTERNS:
        match = pattern.fullmatch(text)
        if match is not None:
            values: dict[str, object] = dict(match.groupdict())
            if "status" in values:
                status = str(values["status"]).replace(" ", "_")
                values["status"] = Text(STATUS_LABELS.get(status, status))
            return Text(msgid, values)
    return datahub_phrase(text)


def problem_view(problem: Problem) -> ProblemView:
    """The problem as the page shows it above the form: an eligibility refusal by its reason, field errors
    and details by their phrases."""
    reason = problem.extensions.get("reason")
    if isinstance(reason, str) and reason in REASONS:
        params = problem.extensions.get("params")
        text = reason_text(reason, params if isinstance(params, Mapping) else {})
        return ProblemView(title=problem.title, details=(Detail(None, text),))
    details = [Detail(None, phrase(error.get("detail", ""))) for error in problem.errors]
    if not details and problem.detail and problem.detail != problem.title:
        details.append(Detail(None, phrase(problem.detail)))
    return ProblemView(title=problem.title, details=tuple(details))
