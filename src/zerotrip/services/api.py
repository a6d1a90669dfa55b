"""Services JSON API: the public service guide, the staff catalogue, and the trip analysis."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from zerotrip.db import transaction
from zerotrip.deps import DB, AnyActor, CurrentActor
from zerotrip.problems import NotAllowed
from zerotrip.routing import PrefixRouter
from zerotrip.services import catalogue, catalogue_csv, queries
from zerotrip.services.permissions import can_analyse_trips
from zerotrip.services.schemas import ItemPage, ItemRead, ItemSpec, Level, LifeEvent, TripAnalysisRead

router = PrefixRouter(prefix="/api/services", tags=["services"])
STAFF_ONLY = "the trip analysis and the catalogue export are for staff"


@router.get("/items", response_model=ItemPage, summary="Search the service guide")
def search_items(
    db: DB,
    actor: AnyActor,
    q: Annotated[str | None, Query(max_length=100, description="Words in the item's code or name.")] = None,
    department: Annotated[int | None, Query(description="The implementing department's id.")] = None,
    event: Annotated[LifeEvent | None, Query(description="A life event the item serves.")] = None,
    level: Level | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ItemPage:
    # The guide is public (办事指南公开): anyone may search it, signed in or not.
    with transaction(db):
        rows, total = queries.list_items(
            db,
            search=q,
            department_org_id=department,
            life_event=event,
            level=level,
            page=page,
            per_page=per_page,
        )
        return ItemPage(items=queries.item_summaries(db, rows), total=total, page=page, per_page=per_page)


@router.get("/items/{code}", response_model=ItemRead, summary="One item's guide, with its trip count")
def read_item(code: str, db: DB, actor: AnyActor) -> ItemRead:
    with transaction(db):
        return queries.item_read(db, queries.get_item(db, code))


@router.post("/items", response_model=ItemRead, status_code=201, summary="Define a service item")
def define_item(spec: ItemSpec, db: DB, actor: CurrentActor) -> ItemRead:
    with transaction(db):
        item = catalogue.define_item(db, actor=actor, spec=spec)
        return queries.item_read(db, item)


@router.put("/items/{code}", response_model=ItemRead, summary="Revise a service item (new version)")
def revise_item(code: str, spec: ItemSpec, db: DB, actor: CurrentActor) -> ItemRead:
    with transaction(db):
        item = catalogue.revise_item(db, actor=actor, code=code, spec=spec)
        return queries.item_read(db, item)


@router.get("/trips", response_model=TripAnalysisRead, summary="Trip analysis of the whole catalogue")
def trip_analysis(db: DB, actor: CurrentActor) -> TripAnalysisRead:
    """The same figures as `zerotrip services trips` gives for the catalogue exported as CSV."""
    if not can_analyse_trips(actor):
        raise NotAllowed(STAFF_ONLY)
    with transaction(db):
        return TripAnalysisRead.model_validate(queries.trip_analysis(db).as_dict())


@router.get(
    "/catalogue.csv",
    summary="The catalogue as CSV, for `zerotrip services trips`",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_catalogue(db: DB, actor: CurrentActor) -> Response:
    if not can_analyse_trips(actor):
        raise NotAllowed(STAFF_ONLY)
    out = io.StringIO()
    with transaction(db):
        catalogue_csv.write_catalogue(out, catalogue_csv.catalogue_rows(db))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="service-catalogue.csv"'},
    )
