"""Evidence through the datahub gateway: the one-stop service platform as a consumer, the grants an item's
materials need, what an application will read (the preview), and reading it.

The platform reads departments' data like any department system: as an API client, the one-stop service
platform (一站式服务平台) registered at the province's data administration (``services.consumer_org_code``),
under grants the owning departments' stewards approve. Each item has its own purpose (``purpose_of``), so a
grant covers exactly the fields that item's materials name and nothing else; every read names the
application it is for (``on_behalf_of``), and the gateway writes it to the citizen's data-use log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from zerotrip.config import DatahubSettings, ServicesSettings
from zerotrip.datahub import gateway, sharing
from zerotrip.datahub import queries as datahub_queries
from zerotrip.datahub.cache import CatalogueCache
from zerotrip.datahub.errors import NoGrant, ResourceNotFound
from zerotrip.datahub.sharing_queries import live_grants
from zerotrip.identity import auth as identity_auth
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import ValidationFailed
from zerotrip.services import rules
from zerotrip.services.errors import ServiceConsumerMissing
from zerotrip.services.models import Item, Material

CONSUMER_NAME = "一站式服务平台"
# Why the platform may read: the public data regulation lets departments share data to handle a citizen's
# matter, so they need not collect it again (一数一源), and the "run at most once" rules require it.
LEGAL_BASIS = "《浙江省公共数据条例》第二十九条；《浙江省保障“最多跑一次”改革规定》第十一条"
SUBJECT_KINDS = {"resident_id": "person", "uscc": "enterprise"}


class Wanted(Protocol):
    """What reading a material needs to know: an application's evidence, or a bundle's source (which
    reads one resource once for several parts)."""

    @property
    def source_ref(self) -> str | None: ...
    @property
    def source_fields(self) -> list[str]: ...
    @property
    def is_exists_fact(self) -> bool: ...


class Held(Wanted, Protocol):
    """A material with what was read for it."""

    @property
    def state(self) -> str: ...
    @property
    def values(self) -> dict[str, Any] | None: ...


def purpose_of(item: Item) -> str:
    """The purpose every read for applications of ``item`` names, and its grants are for."""
    return f"办理政务服务事项：{item.name}（{item.code}）"[:200]


# -- the consumer and its grants -------------------------------------------------------------------------


def service_consumer(db: Session, settings: ServicesSettings) -> Actor:
    """The one-stop service platform as the gateway's consumer. Raises ServiceConsumerMissing."""
    client = identity_queries.find_api_client_by_org_code(
        db, org_code=settings.consumer_org_code, name=CONSUMER_NAME
    )
    if client is None:
        raise ServiceConsumerMissing(f"{CONSUMER_NAME} is not registered at {settings.consumer_org_code}")
    return Actor(
        kind="client",
        name=client.name,
        client_id=client.client_id,
        client_org_id=client.org_id,
        scopes=frozenset(client.scopes),
    )


def register_service_consumer(db: Session, *, actor: Actor, settings: ServicesSettings) -> Actor:
    """Register the one-stop service platform as an API client of the data administration (once; later
    calls return the existing one). ``actor`` is a platform administrator over it. Raises
    ServiceConsumerMissing (no such organisation), NotAllowed."""
    org = identity_queries.find_organisation_by_code(db, settings.consumer_org_code)
    if org is None:
        raise ServiceConsumerMissing(f"there is no organisation {settings.consumer_org_code}")
    if identity_queries.find_api_client(db, org_id=org.id, name=CONSUMER_NAME) is None:
        identity_auth.register_api_client(db, actor=actor, org_id=org.id, name=CONSUMER_NAME, scopes=[])
        db.flush()  # the consumer is looked up by name next
    return service_consumer(db, settings)


@dataclass(frozen=True)
class GrantNeed:
    """The fields of one resource that an item's materials read."""

    resource_code: str
    fields: tuple[str, ...]


def grant_needs(db: Session, materials: Sequence[Material]) -> list[GrantNeed]:
    """What the datahub materials (of an item, or of a bundle's parts) read, one entry per resource (an
    exists? fact reads only the subject field). Raises ResourceNotFound."""
    wanted: dict[str, list[str]] = {}
    for m in materials:
        if m.source_kind != "datahub" or m.source_ref is None:
            continue
        names = wanted.setdefault(m.source_ref, [])
        if m.is_exists_fact:
            resource = datahub_queries.get_resource(db, m.source_ref)
            if resource.subject_field:
                names.append(resource.subject_field)
        else:
            names.extend(m.source_fields)
    return [GrantNeed(code, tuple(dict.fromkeys(names))) for code, names in wanted.items() if names]


@dataclass(frozen=True)
class FiledRequest:
    number: str
    resource_code: str
    status: str  # pending: waiting for the owning steward; approved: granted at once


def request_item_grants(
    db: Session, *, consumer: Actor, item: Item, materials: Sequence[Material], settings: DatahubSettings
) -> list[FiledRequest]:
    """File the consumer's share requests for what ``item``'s materials read, for the item's purpose, with
    clear values (the values prefill the applicant's own form, and the applicant consents to each read).
    The owning stewards decide them as any share request. Raises ResourceNotFound, ShareNotAllowed."""
    return request_grants(
        db, consumer=consumer, purpose=purpose_of(item), materials=materials, settings=settings
    )


def request_grants(
    db: Session, *, consumer: Actor, purpose: str, materials: Sequence[Material], settings: DatahubSettings
) -> list[FiledRequest]:
    """File the consumer's share requests for what ``materials`` read, for ``purpose`` (an item's, or a
    bundle's, whose reads serve all its parts at once)."""
    filed = []
    for need in grant_needs(db, materials):
        request = sharing.request_share(
            db,
            actor=consumer,
            resource_code=need.resource_code,
            fields=list(need.fields),
            purpose=purpose,
            legal_basis=LEGAL_BASIS,
            is_clear_requested=True,
            settings=settings,
        )
        filed.append(FiledRequest(request.number, need.resource_code, request.status))
    return filed


# -- what will be read ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldTitle:
    name: str
    title: str


@dataclass(frozen=True)
class Source:
    """A datahub resource as the applicant is shown it before consenting."""

    resource_code: str
    resource_title: str
    owner_name: str
    subject_kind: str
    field_titles: dict[str, str]


def describe_source(
    db: Session, resource_code: str, *, catalogue: CatalogueCache | None = None
) -> Source | None:
    """The resource as the applicant is shown it, as the gateway describes it (one statement when
    ``catalogue``, the worker's gateway catalogue, holds its current version)."""
    resource = gateway.describe(db, resource_code, catalogue=catalogue)
    if resource is None:
        return None
    return Source(
        resource_code=resource.code,
        resource_title=resource.title,
        owner_name=resource.owner_name,
        subject_kind=resource.subject_kind,
        field_titles={f.name: f.title for f in resource.fields.values()},
    )


def is_granted(db: Session, *, consumer: Actor, evidence: Wanted, purpose: str) -> bool:
    """Whether the consumer holds live grants for ``purpose`` covering what the material reads (checked
    without reading anything)."""
    assert consumer.client_id is not None
    resource = datahub_queries.find_resource(db, evidence.source_ref or "")
    if resource is None:
        return False
    covered = {
        name
        for grant in live_grants(db, client_id=consumer.client_id, resource_id=resource.id, purpose=purpose)
        for name in grant.fields
    }
    wanted = [resource.subject_field] if evidence.is_exists_fact else list(evidence.source_fields)
    return bool(covered) and all(name in covered for name in wanted if name)


# -- reading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """What one read returned: ``values`` to store on the evidence, with provenance; or why nothing
    could be read (``unavailable``)."""

    values: dict[str, Any] | None
    source_org_name: str | None
    source_updated_at: datetime | None
    unavailable: str | None = None


def read(
    db: Session,
    *,
    consumer: Actor,
    evidence: Wanted,
    source: Source,
    subject_key: str,
    purpose: str,
    on_behalf_of: str,
    catalogue: CatalogueCache | None = None,
) -> Read:
    """Read one datahub material (``source``, as ``describe_source`` found it) about the applicant through
    the gateway, which audits it under the subject. A refusal (no grant for this purpose, a resource gone,
    a subject of another kind) is not an error: the material is then uploaded instead."""
    try:
        if evidence.is_exists_fact:
            answer = gateway.exists(
                db,
                actor=consumer,
                resource_code=source.resource_code,
                subject_key=subject_key,
                purpose=purpose,
                on_behalf_of=on_behalf_of,
                catalogue=catalogue,
            )
            return Read({"exists": answer}, source.owner_name, None)
        (result,) = gateway.lookup(
            db,
            actor=consumer,
            resource_code=source.resource_code,
            subject_keys=[subject_key],
            fields=list(evidence.source_fields),
            purpose=purpose,
            on_behalf_of=on_behalf_of,
            catalogue=catalogue,
        )
    except NoGrant:
        return Read(None, None, None, unavailable="the platform holds no grant to read this data")
    except ResourceNotFound:
        return Read(None, None, None, unavailable="the data resource is no longer catalogued")
    except ValidationFailed:
        return Read(None, None, None, unavailable="the data resource does not hold data about the applicant")
    records = [
        {
            "fields": {name: {"value": v.value, "masked": v.masked} for name, v in r.fields.items()},
            "updated_at": r.updated_at.isoformat(),
            "version": r.version,
        }
        for r in result.records
    ]
    latest = max((r.updated_at for r in result.records), default=None)
    owner = result.records[0].source if result.records else source.owner_name
    return Read({"records": records}, owner, latest)


def fetched(evidence: Held) -> rules.Fetched | None:
    """The evidence as the rules read it; None when nothing was fetched for it."""
    if evidence.state != "fetched" or evidence.values is None or evidence.source_ref is None:
        return None
    alias = rules.alias_of(evidence.source_ref)
    if evidence.is_exists_fact:
        return rules.Fetched(alias=alias, is_exists=True, exists=bool(evidence.values.get("exists")))
    records = [
        {
            name: rules.MASKED if cell.get("masked") else cell.get("value")
            for name, cell in record.get("fields", {}).items()
        }
        for record in evidence.values.get("records", [])
    ]
    return rules.Fetched(alias=alias, is_exists=False, records=records, fields=tuple(evidence.source_fields))
