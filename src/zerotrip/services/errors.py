"""Services problems (RFC 9457), each with a stable slug documented in docs/problems.md."""

from __future__ import annotations

from zerotrip.problems import Conflict, NotAllowed, NotFound, ValidationFailed


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
