"""The booking pages' words: every eligibility reason has its message (the same English as the rule's),
every booking problem title is marked for translation, and refusals are said with ages in the reader's
language."""

from __future__ import annotations

from zerotrip.booking import errors
from zerotrip.booking.eligibility import MESSAGES
from zerotrip.booking.errors import AppointmentClosed, CheckInRefused, NotEligible, SlotFull
from zerotrip.problems import Problem
from zerotrip.web import booking_text
from zerotrip.web.datahub_text import Text
from zerotrip.web.i18n import Catalogs


def test_every_reason_is_said_with_the_rules_english() -> None:
    assert dict(MESSAGES) == booking_text.REASONS


def test_every_booking_problem_title_is_marked() -> None:
    titles = {cls.title for cls in Problem.registry.values() if cls.__module__ == errors.__name__}
    assert titles <= set(booking_text.PROBLEM_TITLES)


def say(text: Text, locale: str = "zh_Hans") -> str:
    translator = Catalogs("zh_Hans").for_locale(locale)
    values = {k: say(v, locale) if isinstance(v, Text) else v for k, v in text.values.items()}
    return translator.gettext(text.msgid, **values)


def test_a_refusal_is_said_by_its_reason_with_the_age_in_words() -> None:
    problem = NotEligible(
        "You can book this from 2027-06-01, when you reach the minimum age of 3 years.",
        reason="too_young",
        params={"min_age": "3 years", "min_age_months": 36, "earliest": "2027-06-01"},
    )
    view = booking_text.problem_view(problem)
    [detail] = view.details
    assert say(detail.text) == "满3周岁后方可预约，即 2027-06-01 起。"
    assert (
        say(detail.text, "en")
        == "You can book this from 2027-06-01, when you reach the minimum age of 3 years."
    )
    months = booking_text.reason_text("too_young", {"min_age_months": 8, "earliest": "2026-03-01"})
    assert say(months) == "满8个月后方可预约，即 2026-03-01 起。"


def test_details_are_matched_by_phrase_and_unknown_ones_kept() -> None:
    assert say(booking_text.problem_view(SlotFull("every seat of this slot is taken")).details[0].text) == (
        "该时段已约满"
    )
    closed = booking_text.problem_view(AppointmentClosed("the booking is checked in")).details[0].text
    assert say(closed) == "该预约的状态为：已签到"
    day = (
        booking_text.problem_view(CheckInRefused("the booking is for 2026-12-02, not today")).details[0].text
    )
    assert say(day) == "该预约的日期是 2026-12-02，不是今天"
    unknown = booking_text.problem_view(CheckInRefused("a phrase nobody wrote down")).details[0].text
    assert say(unknown) == "a phrase nobody wrote down"
