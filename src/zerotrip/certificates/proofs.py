"""The no-real-estate proof (无房证明): a signed negative proof from the real-estate register, asked through
the datahub gateway as the natural resources department's certificates system. Never commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from zerotrip.certificates.errors import GatewayConsumerMissing, RealEstateOnRecord
from zerotrip.certificates.issuing import SOURCES, check_may_issue, find_holder, issue_one, type_fields
from zerotrip.certificates.models import Certificate
from zerotrip.certificates.permissions import ISSUE_SCOPE
from zerotrip.certificates.types import NO_REAL_ESTATE, check_claims, get_certificate_type
from zerotrip.common import clock
from zerotrip.config import DatahubSettings, Settings
from zerotrip.datahub import gateway, sharing
from zerotrip.datahub.errors import NoGrant
from zerotrip.identity import auth as identity_auth
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import NotYourRecord
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed

# The proof asks the real-estate register, through the gateway, as the natural resources department's
# certificates system holding a grant on the register's subject field.
REAL_ESTATE_RESOURCE = "330000-land.real-estate"
REAL_ESTATE_OWNER = "330000-land"
GATEWAY_CLIENT_NAME = "电子证照系统"
REAL_ESTATE_PURPOSE = "出具无房证明（电子证照）"
REAL_ESTATE_LEGAL_BASIS = "《不动产登记暂行条例》第二十七条；《浙江省公共数据条例》"
REAL_ESTATE_SCOPE = "浙江省不动产登记信息"
REAL_ESTATE_RESULT = "无不动产登记记录"


@dataclass(frozen=True)
class ProofOutcome:
    """What asking for a no-real-estate proof came to. The register was asked either way and that read is
    audited, so the edge commits before ``raise_for_refusal`` shows a refusal."""

    certificate: Certificate | None

    def raise_for_refusal(self) -> Certificate:
        """The certificate, or RealEstateOnRecord when the register holds a record for the person."""
        if self.certificate is None:
            raise RealEstateOnRecord()
        return self.certificate


def issue_no_real_estate_proof(
    db: Session,
    *,
    actor: Actor,
    keys: KeyStore,
    settings: Settings,
    resident_id: str | None = None,
    source_ref: str | None = None,
) -> ProofOutcome:
    """A signed negative proof that the province's real-estate register holds nothing for the person,
    valid for the type's 30 days. A citizen asks for their own (``resident_id`` may be left out); an
    issuer of the natural resources department asks for anyone.

    The register is asked once, through the datahub gateway's exists? query, as the department's
    certificates system under its grant (so the person's data-use log shows the check). When it holds a
    record, no certificate is issued and the outcome says so.

    Raises NotYourRecord (a citizen asking for someone else), ScopeNotGranted, IssuingNotAllowed,
    ValidationFailed (no or a bad resident ID, a person not registered), GatewayConsumerMissing (the
    certificates system holds no live grant), CertificateTypeNotFound. ``source_ref`` is what caused an
    issue by anyone but the citizen (required of the platform acting for another context).
    """
    ctype = get_certificate_type(db, NO_REAL_ESTATE)
    assert ctype.issuer_org_id is not None  # the demo catalogue defines it with its department
    org = identity_queries.get_organisation(db, ctype.issuer_org_id)
    if actor.kind == "citizen":
        person = identity_queries.get_own_person(db, actor)
        if resident_id is not None and resident_id.strip().upper() != person.resident_id:
            raise NotYourRecord("a citizen asks for their own proof")
        resident_id = person.resident_id
        source, source_ref = "context", "citizen self-service"
    else:
        check_may_issue(actor, org)
        if not resident_id:
            raise ValidationFailed.field("resident_id", "name the person the proof is for")
        if actor.kind == "system" and not (source_ref or "").strip():
            raise ValidationFailed.field("source_ref", "say what caused this certificate")
        source, source_ref = SOURCES.get(actor.kind, "staff"), (source_ref or "").strip() or None
    key, holder_name = find_holder(db, holder_kind="person", holder_key=resident_id)
    consumer = gateway_consumer(db)
    try:
        holds_any = gateway.exists(
            db,
            actor=consumer,
            resource_code=REAL_ESTATE_RESOURCE,
            subject_key=key,
            purpose=REAL_ESTATE_PURPOSE,
            on_behalf_of=actor.principal,
        )
    except NoGrant as exc:
        raise GatewayConsumerMissing(
            f"the certificates system holds no live grant on {REAL_ESTATE_RESOURCE} for this purpose"
        ) from exc
    if holds_any:
        return ProofOutcome(certificate=None)
    today = clock.now_in_china().date()
    values = check_claims(
        type_fields(ctype),
        {"result": REAL_ESTATE_RESULT, "scope": REAL_ESTATE_SCOPE, "checked_on": today.isoformat()},
    )
    certificate = issue_one(
        db,
        actor=actor,
        ctype=ctype,
        org=org,
        holder_key=key,
        holder_name=holder_name,
        values=values,
        keys=keys,
        settings=settings,
        source=source,
        source_ref=source_ref,
    )
    return ProofOutcome(certificate=certificate)


def gateway_consumer(db: Session) -> Actor:
    """The natural resources department's certificates system, as the gateway's consumer. Raises
    GatewayConsumerMissing when it is not registered."""
    owner = identity_queries.find_organisation_by_code(db, REAL_ESTATE_OWNER)
    client = (
        identity_queries.find_api_client(db, org_id=owner.id, name=GATEWAY_CLIENT_NAME)
        if owner is not None
        else None
    )
    if client is None:
        raise GatewayConsumerMissing(f"{GATEWAY_CLIENT_NAME} is not registered at {REAL_ESTATE_OWNER}")
    return Actor(
        kind="client",
        name=client.name,
        client_id=client.client_id,
        client_org_id=client.org_id,
        scopes=frozenset(client.scopes),
    )


def set_up_gateway_consumer(db: Session, *, actor: Actor, settings: DatahubSettings) -> Actor:
    """Register the certificates system at the natural resources department and have its steward grant
    it the real-estate register's subject field for the no-real-estate proof. ``actor`` must be a
    platform administrator over the department (who may also decide the department's share requests).
    Returns the consumer. Raises OrganisationNotFound, NotAllowed, NotSteward, ResourceNotFound."""
    owner = identity_queries.find_organisation_by_code(db, REAL_ESTATE_OWNER)
    if owner is None:
        raise GatewayConsumerMissing(f"there is no department {REAL_ESTATE_OWNER}")
    existing = identity_queries.find_api_client(db, org_id=owner.id, name=GATEWAY_CLIENT_NAME)
    if existing is None:
        identity_auth.register_api_client(
            db, actor=actor, org_id=owner.id, name=GATEWAY_CLIENT_NAME, scopes=[ISSUE_SCOPE]
        )
        db.flush()
    consumer = gateway_consumer(db)
    request = sharing.request_share(
        db,
        actor=consumer,
        resource_code=REAL_ESTATE_RESOURCE,
        fields=["holder_id"],
        purpose=REAL_ESTATE_PURPOSE,
        legal_basis=REAL_ESTATE_LEGAL_BASIS,
        settings=settings,
    )
    if request.status == "pending":
        sharing.approve_share_request(db, actor=actor, number=request.number, settings=settings)
    return consumer
