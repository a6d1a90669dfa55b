"""Datahub problems (RFC 9457), each with a stable slug documented in docs/problems.md."""

from __future__ import annotations

from zerotrip.problems import Conflict, NotAllowed, NotFound, RateLimited, ValidationFailed


class ResourceNotFound(NotFound):
    slug = "datahub/resource-not-found"
    title = "No such data resource"


class ResourceCodeTaken(Conflict):
    slug = "datahub/resource-code-taken"
    title = "A data resource with this code already exists"


class InvalidResource(ValidationFailed):
    slug = "datahub/invalid-resource"
    title = "The resource description is not consistent"


class NotSteward(NotAllowed):
    slug = "datahub/not-steward"
    title = "This needs the data steward role over the owning department"


class BatchNotFound(NotFound):
    slug = "datahub/batch-not-found"
    title = "No such load"


class UnreadableFile(ValidationFailed):
    slug = "datahub/unreadable-file"
    title = "The file could not be read as CSV, JSON or XLSX"


class ShareRequestNotFound(NotFound):
    slug = "datahub/share-request-not-found"
    title = "No such share request"


class ShareNotAllowed(NotAllowed):
    slug = "datahub/share-not-allowed"
    title = "These fields may not be shared"


class ShareRequestClosed(Conflict):
    slug = "datahub/share-request-closed"
    title = "This share request has already been decided"


class NoGrant(NotAllowed):
    """The consumer holds no live grant covering the resource, fields and purpose it asked for."""

    slug = "datahub/no-grant"
    title = "No grant covers this read"


class GrantNotFound(NotFound):
    slug = "datahub/grant-not-found"
    title = "No such grant"


class GatewayRateLimited(RateLimited):
    slug = "datahub/gateway-rate-limited"
    title = "This consumer is sending too many gateway requests; slow down"


class ObjectionNotFound(NotFound):
    slug = "datahub/objection-not-found"
    title = "No such objection"


class ObjectionClosed(Conflict):
    slug = "datahub/objection-closed"
    title = "This objection has already been answered"


class ObjectionNotAllowed(NotAllowed):
    """Citizens object only to records about themselves, consumers only to fields a live grant covers."""

    slug = "datahub/objection-not-allowed"
    title = "You may not object to this record"


class RecordNotFound(NotFound):
    slug = "datahub/record-not-found"
    title = "No such record"


class NotOpen(NotAllowed):
    slug = "datahub/not-open"
    title = "This resource is not open data, or needs an approved application"


class OpenApplicationNotFound(NotFound):
    slug = "datahub/open-application-not-found"
    title = "No such open data application"


class OpenApplicationClosed(Conflict):
    slug = "datahub/open-application-closed"
    title = "This open data application has already been decided"


class RegionNotCovered(NotAllowed):
    """A return feed was asked for a region outside the division of the caller's organisation."""

    slug = "datahub/region-not-covered"
    title = "This region is outside your organisation's division"
