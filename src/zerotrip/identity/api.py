"""Identity JSON API: OAuth2 token endpoint, the caller's own record, people, enterprises, organisations."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from sqlalchemy.orm import Session

from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import get_db, get_settings, resolve_caller
from zerotrip.identity import actions, auth, queries
from zerotrip.identity.errors import InvalidClient, NotYourRecord, PersonNotFound, ScopeNotGranted
from zerotrip.identity.schemas import (
    EnterpriseCreate,
    EnterpriseRead,
    MembershipCreate,
    MembershipRead,
    MeRead,
    OrganisationRead,
    PersonCreate,
    PersonRead,
    TokenResponse,
)
from zerotrip.problems import BadRequest, NotAuthenticated
from zerotrip.routing import PrefixRouter

router = PrefixRouter(prefix="/api/identity", tags=["identity"])
_basic = HTTPBasic(auto_error=False)
DB = Annotated[Session, Depends(get_db)]


@router.post("/token", response_model=TokenResponse, summary="OAuth2 client-credentials token")
def token(
    db: DB,
    settings: Annotated[Settings, Depends(get_settings)],
    grant_type: Annotated[str, Form()],
    scope: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)] = None,
) -> TokenResponse:
    if grant_type != "client_credentials":
        raise BadRequest("only the client_credentials grant is supported", error="unsupported_grant_type")
    cid, secret = (basic.username, basic.password) if basic else (client_id, client_secret)
    if not cid or not secret:
        raise InvalidClient("send client_id and client_secret (HTTP Basic or form)", error="invalid_client")
    with transaction(db):
        value, row = auth.issue_client_token(
            db, client_id=cid, client_secret=secret, scope=scope, settings=settings.identity
        )
    return TokenResponse(
        access_token=value, expires_in=settings.identity.token_minutes * 60, scope=" ".join(row.scopes)
    )


@router.get("/me", response_model=MeRead)
def me(request: Request, db: DB) -> MeRead:
    actor = resolve_caller(request, db).actor
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return MeRead(
        kind=actor.kind,
        name=actor.name,
        person_id=actor.person_id,
        client_id=actor.client_id,
        scopes=sorted(actor.scopes),
        roles=[{"org_id": g.org_id, "role": g.role} for g in actor.grants],
    )


@router.get("/persons/{resident_id}", response_model=PersonRead)
def read_person(resident_id: str, request: Request, db: DB) -> PersonRead:
    actor = resolve_caller(request, db).actor
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return PersonRead.model_validate(queries.get_person_for(db, actor, resident_id=resident_id))


@router.post("/persons", response_model=PersonRead, status_code=201)
def register_person(body: PersonCreate, request: Request, db: DB) -> PersonRead:
    actor = resolve_caller(request, db).actor
    if not actor.is_authenticated:
        raise NotAuthenticated()
    with transaction(db):
        person = actions.register_person(db, actor=actor, **body.model_dump())
    return PersonRead.model_validate(person)


@router.post("/enterprises", response_model=EnterpriseRead, status_code=201)
def register_enterprise(body: EnterpriseCreate, request: Request, db: DB) -> EnterpriseRead:
    actor = resolve_caller(request, db).actor
    if not actor.is_authenticated:
        raise NotAuthenticated()
    with transaction(db):
        rep = queries.find_person_by_resident_id(db, body.legal_representative_resident_id)
        if rep is None:
            raise PersonNotFound("the legal representative is not a registered person")
        enterprise = actions.register_enterprise(
            db,
            actor=actor,
            uscc=body.uscc,
            name=body.name,
            legal_representative_id=rep.id,
            division_code=body.division_code,
            address=body.address,
            established_on=body.established_on,
        )
    return EnterpriseRead.model_validate(enterprise)


@router.get("/enterprises/{uscc}", response_model=EnterpriseRead)
def read_enterprise(uscc: str, request: Request, db: DB) -> EnterpriseRead:
    actor = resolve_caller(request, db).actor
    if not actor.is_authenticated:
        raise NotAuthenticated()
    if actor.kind == "client" and "identity.enterprises.read" not in actor.scopes:
        raise ScopeNotGranted("this needs the identity.enterprises.read scope")
    enterprise = queries.get_enterprise(db, uscc)
    if actor.kind == "citizen" and enterprise.legal_representative_id != actor.person_id:
        raise NotYourRecord("only the legal representative may read this enterprise's record")
    return EnterpriseRead.model_validate(enterprise)


@router.get("/orgs/{org_id}", response_model=OrganisationRead)
def read_org(org_id: int, request: Request, db: DB) -> OrganisationRead:
    actor = resolve_caller(request, db).actor
    if actor.kind == "client" and "identity.orgs.read" not in actor.scopes:
        raise ScopeNotGranted("this needs the identity.orgs.read scope")
    # The organisation tree is public information (the service guide names departments).
    return OrganisationRead.model_validate(queries.get_organisation(db, org_id))


@router.get("/orgs/{org_id}/children", response_model=list[OrganisationRead])
def read_children(org_id: int, request: Request, db: DB) -> list[OrganisationRead]:
    actor = resolve_caller(request, db).actor
    if actor.kind == "client" and "identity.orgs.read" not in actor.scopes:
        raise ScopeNotGranted("this needs the identity.orgs.read scope")
    queries.get_organisation(db, org_id)
    return [OrganisationRead.model_validate(o) for o in queries.list_children(db, org_id)]


@router.post("/orgs/{org_id}/members", response_model=MembershipRead, status_code=201)
def add_member(org_id: int, body: MembershipCreate, request: Request, db: DB) -> MembershipRead:
    actor = resolve_caller(request, db).actor
    if not actor.is_authenticated:
        raise NotAuthenticated()
    with transaction(db):
        membership = actions.add_staff_member(db, actor=actor, org_id=org_id, **body.model_dump())
    return MembershipRead.model_validate(membership)
