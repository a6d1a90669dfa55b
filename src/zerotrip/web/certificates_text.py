"""Words the certificates pages show: verdicts said plainly, status names, and the certificates context's
problems and field messages made translatable.

A verdict's code (``verify.CODES``) picks a headline and an explanation; a revoked certificate is said to
be revoked (已撤销), never merely "invalid". The certificates context speaks plain English in its problems
and field messages (``must be a date as YYYY-MM-DD``); known phrases are translated here, the identifier
reasons through the datahub pages' table, and anything unknown is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from zerotrip.problems import Problem
from zerotrip.web.datahub_text import Detail, ProblemView, Text
from zerotrip.web.datahub_text import phrase as datahub_phrase
from zerotrip.web.i18n import N_

Tone = Literal["ok", "warn", "danger"]


@dataclass(frozen=True)
class VerdictWords:
    headline: str  # an English msgid: the verdict in two to four words
    explanation: str  # an English msgid: what it means and what to do
    tone: Tone


VERDICTS: dict[str, VerdictWords] = {
    "valid": VerdictWords(
        N_("Valid"),
        N_("The certificate is authentic: it was signed by the issuing department and has not been changed."),
        "ok",
    ),
    "revoked": VerdictWords(
        N_("Revoked"),
        N_("The issuing department has revoked this certificate. It is no longer in force."),
        "danger",
    ),
    "suspended": VerdictWords(
        N_("Suspended"),
        N_(
            "The issuing department has suspended this certificate. It is not in force until the"
            " department reinstates it."
        ),
        "warn",
    ),
    "expired": VerdictWords(
        N_("Expired"),
        N_("The certificate's period of validity has ended. Ask the holder for a current one."),
        "danger",
    ),
    "not_yet_valid": VerdictWords(
        N_("Not yet valid"),
        N_("The certificate's period of validity has not begun yet."),
        "warn",
    ),
    "unknown_issuer": VerdictWords(
        N_("Unknown issuer"),
        N_(
            "The certificate is signed by an issuer this platform does not trust. It was not issued by a"
            " department of this platform."
        ),
        "danger",
    ),
    "bad_signature": VerdictWords(
        N_("Signature does not verify"),
        N_(
            "The issuing department's signature does not match: the certificate was changed"
            " after it was issued."
        ),
        "danger",
    ),
    "tampered_disclosure": VerdictWords(
        N_("Changed information"),
        N_(
            "A field shown with the certificate was not signed by the issuing department: it was changed or"
            " added."
        ),
        "danger",
    ),
    "bad_key_binding": VerdictWords(
        N_("Not shown by the holder"),
        N_(
            "The presentation is not bound to the holder's wallet: it was copied or altered. Ask the holder"
            " to show the certificate again."
        ),
        "danger",
    ),
    "presentation_expired": VerdictWords(
        N_("Code expired"),
        N_(
            "This code was shown too long ago; codes shown from the wallet are short-lived. Ask the holder"
            " to refresh it."
        ),
        "warn",
    ),
    "malformed": VerdictWords(
        N_("Not a certificate"),
        N_("This is not an e-certificate or a certificate code that can be read. Check what was pasted."),
        "danger",
    ),
    "status_unavailable": VerdictWords(
        N_("Status unknown"),
        N_(
            "The certificate is authentic, but whether it has been revoked or suspended could not be"
            " checked. Try again later."
        ),
        "warn",
    ),
}
STATUS_LABELS = {"valid": N_("In force"), "suspended": N_("Suspended"), "revoked": N_("Revoked")}
STATUS_TONES: dict[str, Tone] = {"valid": "ok", "suspended": "warn", "revoked": "danger"}

# Titles of the certificates problems, which the error page and the forms translate.
PROBLEM_TITLES = (
    N_("No such certificate"),
    N_("No such certificate type"),
    N_("A certificate type with this code already exists"),
    N_("The certificate type description is not consistent"),
    N_("You may not issue or change certificates for this department"),
    N_("This certificate has been revoked"),
    N_("The certificate is not in a status that allows this"),
    N_("The real-estate register holds a record for this person; no proof of holding none can be issued"),
    N_("No such status list"),
    N_("No issuer has this credit code"),
    N_("The certificates system may not read the data this certificate is derived from"),
    N_("This certificate is suspended"),
    N_("This certificate has expired"),
    N_("No such use grant"),
    N_("This use grant has expired"),
    N_("The holder has withdrawn this use grant"),
    N_("Too many attempts to use certificates from this address; wait and try again"),
)

_FIXED = frozenset(
    {
        N_("not a field of this certificate type"),
        N_("must be a date as YYYY-MM-DD"),
        N_("must be a decimal number such as 89.50"),
        N_("must be a decimal number"),
        N_("not a GB/T 2260 administrative division code"),
        N_("no registered person has this resident ID number"),
        N_("no registered enterprise has this credit code"),
        N_("a status change states its reason"),
        N_("name the issuing department"),
        N_("certificates are issued by departments"),
        N_("name the person the proof is for"),
        N_("revocation is final"),
        N_("not a resident ID number or a unified social credit code"),
        N_("a citizen asks for their own proof"),
        N_("the certificate is valid"),
        N_("the certificate is suspended"),
        N_("choose at least one field to grant"),
        N_("the certificate is past its validity"),
        N_("the issuer has suspended this certificate"),
        N_("a revoked certificate can no longer be shown or used"),
        N_("the grant was already withdrawn"),
    }
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), msgid)
    for pattern, msgid in (
        (r".+（.+）is required", N_("is required")),
        (r"must be one of (?P<choices>.+)", N_("must be one of: %(choices)s")),
        (r"at most (?P<count>\d+) characters", N_("at most %(count)s characters")),
        (r"1 to (?P<count>\d+) characters", N_("1 to %(count)s characters")),
        (r"a use grant lasts from 1 to (?P<days>\d+) days", N_("a use grant lasts from 1 to %(days)s days")),
        (r"one of department, business, person", N_("choose who will use it")),
        (r"no organisation has the code (?P<code>.+)", N_("no organisation has the code %(code)s")),
        (
            r"this needs the certificate issuer role at (?P<org>.+)",
            N_("this needs the certificate issuer role at %(org)s"),
        ),
        (r"you do not issue certificates for (?P<org>.+)", N_("you do not issue certificates for %(org)s")),
        (r"(?P<type>.+) is issued by (?P<org>.+) only", N_("%(type)s is issued by %(org)s only")),
    )
)


def phrase(text: str) -> Text:
    """A certificates phrase as a translatable message; the identifier reasons (and anything else the
    datahub pages know) go through their table; an unknown phrase stays itself."""
    if text in _FIXED:
        return Text(text)
    for pattern, msgid in _PATTERNS:
        match = pattern.fullmatch(text)
        if match is not None:
            return Text(msgid, match.groupdict())
    return datahub_phrase(text)


def problem_view(problem: Problem, *, labels: Mapping[str, str] | None = None) -> ProblemView:
    """The problem's title and each of its details, a detail about a form field named by its label
    (``labels`` maps a pointer such as ``claims/sex`` or ``reason`` to the label)."""
    named = labels or {}
    details = [
        Detail(named.get(error.get("pointer", "").removeprefix("#/")), phrase(error.get("detail", "")))
        for error in problem.errors
    ]
    if not details and problem.detail and problem.detail != problem.title:
        details.append(Detail(None, phrase(problem.detail)))
    return ProblemView(title=problem.title, details=tuple(details))
