"""Datahub JSON API. This module holds the catalogue; each area has its own module, included here."""

from __future__ import annotations

from fastapi import Query

from zerotrip.datahub import catalogue, grades, queries
from zerotrip.datahub.api_aggregation import router as aggregation_router
from zerotrip.datahub.api_gateway import router as gateway_router
from zerotrip.datahub.api_objections import router as objections_router
from zerotrip.datahub.api_open import router as open_router
from zerotrip.datahub.api_sharing import router as sharing_router
from zerotrip.datahub.models import Resource
from zerotrip.datahub.permissions import can_browse_catalogue
from zerotrip.datahub.schemas import FieldRead, ResourcePage, ResourceRead, ResourceSpec, ResourceSummary
from zerotrip.db import transaction
from zerotrip.deps import DB, CurrentActor
from zerotrip.identity import queries as identity_queries
from zerotrip.problems import NotAllowed
from zerotrip.routing import PrefixRouter

router = PrefixRouter(prefix="/api/datahub", tags=["datahub"])
# The gateway first: routes are matched in order, and its calls are the most frequent by far.
router.include_router(gateway_router)
router.include_router(sharing_router)
router.include_router(objections_router)
router.include_router(open_router)
router.include_router(aggregation_router)


def resource_read(db: DB, resource: Resource) -> ResourceRead:
    owner = identity_queries.get_organisation(db, resource.owner_org_id)
    fields = [
        FieldRead.model_validate(
            {
                **{k: getattr(f, k) for k in FieldRead.model_fields if hasattr(f, k)},
                "share_type": grades.effective_share_type(resource.share_type, f.grade),
                "open_type": grades.effective_open_type(resource.open_type, f.grade),
            }
        )
        for f in queries.list_fields(db, resource.id)
    ]
    return ResourceRead(
        code=resource.code,
        owner_org_id=resource.owner_org_id,
        owner_name=owner.name,
        title=resource.title,
        title_en=resource.title_en,
        description=resource.description,
        subject_kind=resource.subject_kind,
        subject_field=resource.subject_field,
        key_fields=list(resource.key_fields),
        region_field=resource.region_field,
        share_type=resource.share_type,
        open_type=resource.open_type,
        grade=resource.grade,
        update_frequency=resource.update_frequency,
        legal_basis=resource.legal_basis,
        contact=resource.contact,
        keywords=list(resource.keywords),
        version=resource.version,
        updated_at=resource.updated_at,
        data_updated_at=resource.data_updated_at,
        fields=fields,
    )


@router.post("/resources", response_model=ResourceRead, status_code=201, summary="Catalogue a resource")
def create_resource(spec: ResourceSpec, db: DB, actor: CurrentActor) -> ResourceRead:
    with transaction(db):
        resource = catalogue.catalogue_resource(db, actor=actor, spec=spec)
        return resource_read(db, resource)


@router.put("/resources/{code}", response_model=ResourceRead, summary="Revise a resource (new version)")
def revise_resource(code: str, spec: ResourceSpec, db: DB, actor: CurrentActor) -> ResourceRead:
    with transaction(db):
        resource = catalogue.revise_resource(db, actor=actor, code=code, spec=spec)
        return resource_read(db, resource)


@router.get("/resources", response_model=ResourcePage, summary="Search the catalogue")
def search_resources(
    db: DB,
    actor: CurrentActor,
    q: str | None = Query(None, max_length=100),
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=100),
) -> ResourcePage:
    if not can_browse_catalogue(actor):
        raise NotAllowed("the full catalogue is for staff and department systems; see the open data portal")
    rows, total = queries.list_resources(db, search=q, page=page, per_page=per_page)
    owners = {o: identity_queries.get_organisation(db, o).name for o in {r.owner_org_id for r in rows}}
    items = [
        ResourceSummary(
            code=r.code,
            title=r.title,
            owner_name=owners[r.owner_org_id],
            grade=r.grade,
            share_type=r.share_type,
            open_type=r.open_type,
            version=r.version,
            updated_at=r.updated_at,
        )
        for r in rows
    ]
    return ResourcePage(items=items, total=total, page=page, per_page=per_page)


@router.get("/resources/{code}", response_model=ResourceRead, summary="One resource's description")
def read_resource(code: str, db: DB, actor: CurrentActor) -> ResourceRead:
    if not can_browse_catalogue(actor):
        raise NotAllowed("the full catalogue is for staff and department systems; see the open data portal")
    return resource_read(db, queries.get_resource(db, code))
