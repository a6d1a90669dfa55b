"""Words the datahub pages show: labels for catalogue codes, and datahub messages made translatable.

The datahub speaks plain English in its problems and in the reasons a load gives for refusing a row (the
pages translate them). Its fixed phrases are marked here for the catalogue; phrases with values in them
(``must be one of: 住宅, 商业``) are matched by pattern and turned into a message with placeholders. A phrase
this module does not know is shown as it is, so a new rule is never hidden, only untranslated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from zerotrip.problems import Problem
from zerotrip.web.i18n import N_


@dataclass(frozen=True)
class Text:
    """A message translated where it is shown: an English msgid and the values for its placeholders."""

    msgid: str
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Detail:
    """One thing wrong, with the field it is about (its title when known)."""

    label: str | None  # a field's title (or an English msgid), translated by the template
    text: Text


@dataclass(frozen=True)
class ProblemView:
    """A problem shown on the page that caused it, above the form, instead of an error page."""

    title: str  # the problem's English title, translated by the template
    details: tuple[Detail, ...]


GRADE_LABELS = {1: N_("L1 general"), 2: N_("L2 sensitive"), 3: N_("L3 important"), 4: N_("L4 core")}
SHARE_LABELS = {
    "unconditional": N_("Shared unconditionally"),
    "conditional": N_("Shared on approval"),
    "none": N_("Not shared"),
}
OPEN_LABELS = {"open": N_("Open"), "restricted": N_("Restricted"), "closed": N_("Not opened")}
FREQUENCY_LABELS = {
    "realtime": N_("Real time"),
    "daily": N_("Daily"),
    "weekly": N_("Weekly"),
    "monthly": N_("Monthly"),
    "quarterly": N_("Quarterly"),
    "yearly": N_("Yearly"),
    "irregular": N_("Irregularly"),
}
TYPE_LABELS = {
    "string": N_("Text"),
    "integer": N_("Whole number"),
    "decimal": N_("Number"),
    "date": N_("Date"),
    "datetime": N_("Date and time"),
    "boolean": N_("Yes or no"),
}
RULE_LABELS = {
    "required": N_("Required"),
    "type": N_("Type"),
    "pattern": N_("Format"),
    "enumeration": N_("Allowed values"),
    "check_char": N_("Check character"),
    "freshness": N_("Freshness"),
    "unknown_field": N_("Unknown field"),
    "reference": N_("Reference"),
    "unique": N_("Uniqueness"),
    "duplicate_key": N_("Duplicate key"),
}
REQUEST_STATUS_LABELS = {
    "pending": N_("Waiting for a decision"),
    "approved": N_("Approved"),
    "refused": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
}
OBJECTION_STATUS_LABELS = {
    "open": N_("Being verified"),
    "corrected": N_("Corrected"),
    "rejected": N_("Not corrected"),
}
SOURCE_LABELS = {"upload": N_("File upload"), "push": N_("API push"), "cli": N_("Command line")}

# Titles of the datahub's problems, which the error page and the forms translate.
PROBLEM_TITLES = (
    N_("No such data resource"),
    N_("A data resource with this code already exists"),
    N_("The resource description is not consistent"),
    N_("This needs the data steward role over the owning department"),
    N_("No such load"),
    N_("The file could not be read as CSV, JSON or XLSX"),
    N_("No such share request"),
    N_("These fields may not be shared"),
    N_("This share request has already been decided"),
    N_("No grant covers this read"),
    N_("No such grant"),
    N_("This consumer is sending too many gateway requests; slow down"),
    N_("No such objection"),
    N_("This objection has already been answered"),
    N_("You may not object to this record"),
    N_("No such record"),
    N_("This resource is not open data, or needs an approved application"),
    N_("No such open data application"),
    N_("This open data application has already been decided"),
    N_("This region is outside your organisation's division"),
)

# Phrases the datahub uses as they are: row rejections, problem details and field errors.
_FIXED = frozenset(
    {
        # validation of one row
        N_("is required"),
        N_("is not a field of this resource"),
        N_("is in the future"),
        N_("is out of range"),
        N_("is too large"),
        N_("is not a real date"),
        N_("must be text"),
        N_("must be a number"),
        N_("must be a whole number"),
        N_("must be true or false"),
        N_("must be a date written YYYY-MM-DD"),
        N_("must be a date written YYYY-MM-DD, without a time"),
        N_("must be a date and time written YYYY-MM-DDTHH:MM:SS"),
        N_("must be a single value, not a list or an object"),
        N_("is already held by another stored record"),
        N_("not a valid division code: must be 6 digits of a real region"),
        N_("not a valid resident ID number: must be 18 characters"),
        N_("not a valid resident ID number: must be 17 digits before the check character"),
        N_("not a valid resident ID number: must be 17 digits followed by a digit or X"),
        N_("not a valid resident ID number: birth date is not a real date"),
        N_("not a valid resident ID number: birth date is before 1900"),
        N_("not a valid resident ID number: birth date is in the future"),
        N_("not a valid resident ID number: check character is wrong"),
        N_("not a valid unified social credit code: must be 18 characters"),
        N_("not a valid unified social credit code: check character is wrong"),
        N_("not a valid unified social credit code: characters 3 to 8 must be a division code"),
        N_("not a valid unified social credit code: organisation code check character is wrong"),
        # reading a file
        N_("the file is empty"),
        N_("the file is empty: it needs a header row naming the fields"),
        N_("the first sheet is empty: its first row must name the fields"),
        N_("JSON must be an array of objects, or one object per line"),
        N_("name the format: the file name does not end in .csv, .json, .jsonl or .xlsx"),
        # sharing and objections
        N_("a refusal states its reason"),
        N_("this request is approved"),
        N_("this request is refused"),
        N_("this request is withdrawn"),
        N_("deciding share requests takes the steward of the owning department"),
        N_("objections are answered by the steward of the owning department"),
        N_("answer the objection"),
        N_("give the right value"),
        N_("this is the value already stored"),
        N_("a key or subject field is corrected by reloading the record"),
        N_("say what is wrong"),
        N_("you may object only to records about yourself"),
        N_("objections are raised by the data subject or by a consumer of the data"),
        # open data filters
        N_("not a field you can filter on"),
        N_("not a valid integer"),
        N_("not a valid decimal"),
        N_("not a valid boolean"),
    }
)

# Phrases with values in them: a pattern with named groups, and the message those groups fill.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), msgid)
    for pattern, msgid in (
        (r"is older than (?P<days>\d+) days", N_("is older than %(days)s days")),
        (r"does not match the pattern (?P<pattern>.+)", N_("does not match the pattern %(pattern)s")),
        (r"must be one of: (?P<choices>.*)", N_("must be one of: %(choices)s")),
        (
            r"(?P<value>.+) is not a (?P<field>\S+) of (?P<resource>\S+)",
            N_("%(value)s is not a %(field)s of %(resource)s"),
        ),
        (r"the same key is already on row (?P<row>\d+)", N_("the same key is already on row %(row)s")),
        (r"is already on row (?P<row>\d+)", N_("is already on row %(row)s")),
        (r"unknown columns: (?P<names>.+)", N_("unknown columns: %(names)s")),
        (r"columns given twice: (?P<names>.+)", N_("columns given twice: %(names)s")),
        (r"missing columns: (?P<names>.+)", N_("missing columns: %(names)s")),
        (r"the CSV header cannot be read: (?P<error>.+)", N_("the CSV header cannot be read: %(error)s")),
        (
            r"the CSV cannot be read after row (?P<row>\d+): (?P<error>.+)",
            N_("the CSV cannot be read after row %(row)s: %(error)s"),
        ),
        (
            r"the JSON is malformed after item (?P<item>\d+): (?P<error>.+)",
            N_("the JSON is malformed after item %(item)s: %(error)s"),
        ),
        (
            r"line (?P<line>\d+) is not a JSON object: (?P<error>.+)",
            N_("line %(line)s is not a JSON object: %(error)s"),
        ),
        (r"not a readable XLSX workbook: (?P<error>.+)", N_("not a readable XLSX workbook: %(error)s")),
        (
            r"unknown format (?P<format>.+); use one of (?P<formats>.+)",
            N_("unknown format %(format)s; use one of %(formats)s"),
        ),
        (r"these fields may not be shared: (?P<fields>.+)", N_("these fields may not be shared: %(fields)s")),
        (r"not a field of (?P<resource>\S+)", N_("not a field of %(resource)s")),
        (r"give the record's key fields: (?P<fields>.+)", N_("give the record's key fields: %(fields)s")),
        (r"'(?P<field>.+)' is not a field you can sort on", N_("%(field)s is not a field you can sort on")),
    )
)


def phrase(text: str) -> Text:
    """A datahub phrase as a translatable message (itself, untranslated, when it is not known)."""
    if text in _FIXED:
        return Text(text)
    for pattern, msgid in _PATTERNS:
        match = pattern.fullmatch(text)
        if match is not None:
            return Text(msgid, match.groupdict())
    return Text(text)


def problem_view(problem: Problem, *, labels: Mapping[str, str] | None = None) -> ProblemView:
    """The problem's title and each of its details; ``labels`` names fields by their titles."""
    named = labels or {}
    details: list[Detail] = []
    for error in problem.errors:
        # Only fields the page names are labelled: the others are the form's own, shown right beside it.
        where = error.get("pointer", "").removeprefix("#/") or error.get("parameter") or ""
        details.append(Detail(named.get(where), phrase(error.get("detail", ""))))
    if not details and problem.detail and problem.detail != problem.title:
        details.append(Detail(None, phrase(problem.detail)))
    return ProblemView(title=problem.title, details=tuple(details))


def message_view(msgid: str) -> ProblemView:
    """A problem the page finds on its own (no file chosen, say), before asking the datahub."""
    return ProblemView(title=N_("Your request is not valid"), details=(Detail(None, Text(msgid)),))
