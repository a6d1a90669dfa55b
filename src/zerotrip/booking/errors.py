"""Booking problems (RFC 9457), each with a stable slug documented in docs/problems.md.

A refusal always says why: ``booking/not-eligible`` lists reason codes (``reasons``), a full slot says
whether a waitlist is open (``waitlist``), an existing booking names its number (``number``).
"""

from __future__ import annotations

from zerotrip.problems import Conflict, NotAllowed, NotFound, Problem, RateLimited, ValidationFailed


class SiteNotFound(NotFound):
    slug = "booking/site-not-found"
    title = "No such site"


class ServiceNotFound(NotFound):
    slug = "booking/service-not-found"
    title = "The site offers no such service"


class SlotNotFound(NotFound):
    slug = "booking/slot-not-found"
    title = "No such slot"


class AppointmentNotFound(NotFound):
    """No appointment has this number (or QR token), or it is not the caller's to see: the answer is the
    same, so a number tells a stranger nothing."""

    slug = "booking/appointment-not-found"
    title = "No such booking"


class SiteCodeTaken(Conflict):
    slug = "booking/site-code-taken"
    title = "A site with this code already exists"


class BookingNotAllowed(NotAllowed):
    """Bookings are made by signed-in citizens, for themselves or for a family member the household data
    lets them book for."""

    slug = "booking/booking-not-allowed"
    title = "You cannot book for this person"


class NotSiteOperator(NotAllowed):
    slug = "booking/not-site-operator"
    title = "This takes the site operator role over the site's department"


class ProfileRequired(Conflict):
    """The person has no registration profile yet (建档): build it, with consent, before the first booking."""

    slug = "booking/profile-required"
    title = "Build the profile before booking"


class HouseholdRecordMissing(Conflict):
    """Household registration holds no record for the person, so no profile can be prefilled; the
    household registration office corrects the register."""

    slug = "booking/household-record-missing"
    title = "Household registration holds no record for this person"


class SlotNotBookable(Conflict):
    """The slot is closed, has started, or lies beyond the days that may be booked ahead."""

    slug = "booking/slot-not-bookable"
    title = "This slot cannot be booked"


class SlotFull(Conflict):
    """No seat is left. ``waitlist`` says whether the person may join the slot's waitlist."""

    slug = "booking/slot-full"
    title = "No seats are left in this slot"


class AlreadyBooked(Conflict):
    """The person already holds an active booking in this series (a vaccine kind, or the same service);
    ``number`` names it. Reschedule or cancel it instead."""

    slug = "booking/already-booked"
    title = "You already have a booking for this"


class NotEligible(Problem):
    """The eligibility rules refuse the booking; ``reasons`` lists each with a code (``too_young``,
    ``too_old``, ``interval_too_short``, ``series_complete``, ``dose_out_of_order``, …) and a detail."""

    slug = "booking/not-eligible"
    title = "The person cannot be booked for this vaccination now"
    status = 422


class IdempotencyKeyReused(Conflict):
    slug = "booking/idempotency-key-reused"
    title = "This idempotency key was used for a different booking"
    status = 422


class BookingRateLimited(RateLimited):
    slug = "booking/rate-limited"
    title = "Too many booking attempts; wait and try again"


class AppointmentClosed(Conflict):
    """The booking is past the point this needs: a cancelled, completed or missed booking cannot be
    cancelled or moved, and nothing is changed after the slot has started."""

    slug = "booking/appointment-closed"
    title = "This booking can no longer be changed"


class CheckInRefused(Conflict):
    """The booking is not for today, not at a site the operator serves, or not waiting for check-in."""

    slug = "booking/check-in-refused"
    title = "This booking cannot be checked in"


class CapacityBelowBookings(Conflict):
    """Cutting a slot below the seats already taken would cancel bookings; ``bookings`` says how many. Send
    ``cancel_excess: true`` to cancel them (the people are told)."""

    slug = "booking/capacity-below-bookings"
    title = "More people are booked than the new capacity"


class WaitlistNotOffered(Conflict):
    """The slot still has seats (book it), or its service keeps no waitlist, or the person already waits."""

    slug = "booking/waitlist-not-offered"
    title = "You cannot join the waitlist for this slot"


class InvalidSchedule(ValidationFailed):
    """A template, closure or capacity change does not fit: a bad time or period, a service of another
    site; ``errors`` points at the field."""

    slug = "booking/invalid-schedule"
    title = "The schedule change is not valid"


class NoDosesRecorded(Conflict):
    """The vaccination records hold no COVID-19 dose for the person, so there is nothing to certify."""

    slug = "booking/no-doses-recorded"
    title = "No COVID-19 vaccination is recorded for this person"


class BookingSystemMissing(Problem):
    """The booking system is not registered as a datahub API client, or holds no grant it needs, so
    profiles, eligibility and records cannot be read; an operator sets it up (the demo seed does)."""

    slug = "booking/system-missing"
    title = "The booking system may not read or write health data yet"
    status = 503


class RecordRefused(Problem):
    """The health department's vaccination records refused the dose as recorded (datahub's quality rules);
    ``errors`` says which field."""

    slug = "booking/record-refused"
    title = "The vaccination record was refused"
    status = 422
