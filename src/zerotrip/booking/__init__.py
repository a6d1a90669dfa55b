"""booking: sites, slots and appointments (vaccination self-booking) that never overbook under a rush.

Owns vaccination sites (接种单位) and other appointment places, the services each offers (products of the
catalogue in ``products.py``: vaccines with their dose series, intervals and ages, and other appointment
kinds), slot templates and slots with capacity, closures, registration profiles (建档), appointments with
idempotency keys, waitlists, check-in at the site and the vaccinations given there, the record lookup
(随身查) and the COVID-19 vaccination certificate it asks the certificates context for.

Invariants: a slot never holds more active bookings than seats (one conditional UPDATE takes a seat, a
check constraint backs it); a person holds at most one active booking per series (a partial unique
index); a retried request with the same idempotency key returns the same booking; cancelling and
rescheduling give the seat back in the same transaction, to the waitlist first, and a reschedule never
leaves the person with zero or two bookings; closures and capacity cuts tell every affected person. Data
about people is read only through the datahub gateway, as the booking system (an API client with grants),
and recorded doses go back to the health department's records through datahub's aggregation. Pure
modules: ``eligibility.py``, ``products.py``, ``geo.py``, ``ical.py``, ``permissions.py``.

It may use datahub, certificates and messaging through their actions, queries, schemas and errors, and
identity and audit; it must not import services or web.
"""
