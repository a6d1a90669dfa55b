"""Services problems (RFC 9457), each with a stable slug documented in docs/problems.md."""

from __future__ import annotations

from zerotrip.problems import Conflict, NotAllowed, NotFound, Problem, ValidationFailed


class ItemNotFound(NotFound):
    slug = "services/item-not-found"
    title = "No such service item"


class ItemCodeTaken(Conflict):
    slug = "services/item-code-taken"
    title = "A service item with this code already exists"


class InvalidItem(ValidationFailed):
    """The item names something that does not exist or does not fit: a department, a data resource or
    its fields, an earlier item."""

    slug = "services/invalid-item"
    title = "The service item does not agree with the catalogues it refers to"


class NotItemManager(NotAllowed):
    slug = "services/not-item-manager"
    title = "Defining a service item takes the reviewer or platform administrator role over its department"


class InvalidCatalogueFile(ValidationFailed):
    """A CSV catalogue could not be read; ``errors`` point at rows and columns (``#/rows/12/materials``)."""

    slug = "services/invalid-catalogue-file"
    title = "The catalogue file cannot be read"


# -- applications -------------------------------------------------------------------------------------


class ApplicationNotFound(NotFound):
    """No application has this number, or it is not the caller's to see (the answer is the same, so a
    number tells a stranger nothing)."""

    slug = "services/application-not-found"
    title = "No such application"


class ApplyingNotAllowed(NotAllowed):
    """Only a signed-in citizen applies, for themself or an enterprise they represent, for an item that
    is applied for online."""

    slug = "services/applying-not-allowed"
    title = "You cannot apply for this service online"


class ApplicationClosed(Conflict):
    """The application is past the step this needs (a submitted one cannot be changed, a decided one
    cannot be withdrawn)."""

    slug = "services/application-closed"
    title = "The application can no longer be changed this way"


class EvidenceIncomplete(ValidationFailed):
    """A required material has nothing for it yet; ``errors`` points at each (``#/materials/2``)."""

    slug = "services/evidence-incomplete"
    title = "Some materials are still missing"


class InvalidUpload(ValidationFailed):
    slug = "services/invalid-upload"
    title = "The file cannot be accepted"


class InvalidRules(ValidationFailed):
    """An instant-approval rule names a fact the item's materials cannot give, or the item is not
    instantly approvable."""

    slug = "services/invalid-rules"
    title = "The instant-approval rules do not fit the service item"


class ServiceConsumerMissing(Problem):
    """The one-stop service platform is not registered as a datahub gateway consumer; an operator sets it
    up (the demo seed does). Nothing the applicant can change."""

    slug = "services/consumer-missing"
    title = "The service platform may not read departments' data yet"
    status = 503


# -- the workflow, supplements and ratings ------------------------------------------------------------


class WrongStep(Conflict):
    """The application is not at the step this action belongs to (it is accepted before it is reviewed,
    and reviewed before it is decided)."""

    slug = "services/wrong-step"
    title = "The application is not at the step this action belongs to"


class ReviewNotAllowed(NotAllowed):
    """Acting on an application takes the reviewer role over the office it is with; others who may read
    it (the platform administrator, the office above it) may not act on it."""

    slug = "services/review-not-allowed"
    title = "Handling this application takes the reviewer role over its office"


class InvalidSupplementRequest(ValidationFailed):
    """A supplement request lists nothing, names a material the application does not have, or names one
    twice; ``errors`` point at the items (``#/items/1/material``)."""

    slug = "services/invalid-supplement-request"
    title = "The supplement request cannot be sent as it is"


class SupplementIncomplete(ValidationFailed):
    """Resubmitting needs an answer to every item of the supplement request; ``errors`` point at each
    unanswered one (``#/items/2``)."""

    slug = "services/supplement-incomplete"
    title = "Some items of the supplement request are not answered yet"


class RatingNotAllowed(Conflict):
    """Only a completed (approved or refused) application is rated, once, by its applicant; only a bad
    rating (2 or less) takes the department's rectification answer, once."""

    slug = "services/rating-not-allowed"
    title = "This application cannot be rated, or the rating answered, now"


# -- bundles (一件事) ------------------------------------------------------------------------------------


class BundleNotFound(NotFound):
    slug = "services/bundle-not-found"
    title = "No such bundle"


class BundleCodeTaken(Conflict):
    slug = "services/bundle-code-taken"
    title = "A bundle with this code already exists"


class InvalidBundle(ValidationFailed):
    """A part is not a catalogued item applied for online, or the parts need each other's results in a
    circle."""

    slug = "services/invalid-bundle"
    title = "The bundle's parts do not fit together"


class NotBundleManager(NotAllowed):
    slug = "services/not-bundle-manager"
    title = "Defining a bundle takes the platform administrator role over every part's department"


class BundleApplicationNotFound(NotFound):
    """No bundle application has this number, or it is not the caller's (the same answer either way)."""

    slug = "services/bundle-application-not-found"
    title = "No such bundle application"
