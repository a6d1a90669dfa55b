"""Datahub reads: ``get_*`` raises NotFound, ``find_*`` returns None, ``list_*`` pages."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from zerotrip.datahub.errors import ResourceNotFound
from zerotrip.datahub.models import Field, Resource, ResourceVersion


def find_resource(db: Session, code: str) -> Resource | None:
    return db.scalar(select(Resource).where(Resource.code == code))


def get_resource(db: Session, code: str) -> Resource:
    resource = find_resource(db, code)
    if resource is None:
        raise ResourceNotFound(f"no resource has the code {code!r}")
    return resource


def list_fields(db: Session, resource_id: int) -> list[Field]:
    return list(db.scalars(select(Field).where(Field.resource_id == resource_id).order_by(Field.position)))


def list_resources(
    db: Session,
    *,
    search: str | None = None,
    owner_org_ids: list[int] | None = None,
    open_types: list[str] | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[Resource], int]:
    """Resources matching a free-text search over code, titles, description and keywords."""
    query = select(Resource)
    if search:
        like = f"%{search.strip()}%"
        query = query.where(
            or_(
                Resource.code.ilike(like),
                Resource.title.ilike(like),
                Resource.title_en.ilike(like),
                Resource.description.ilike(like),
            )
        )
    if owner_org_ids is not None:
        query = query.where(Resource.owner_org_id.in_(owner_org_ids))
    if open_types is not None:
        query = query.where(Resource.open_type.in_(open_types))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(Resource.code).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def list_resource_versions(db: Session, resource_id: int) -> list[ResourceVersion]:
    """Every saved description of a resource, newest first."""
    return list(
        db.scalars(
            select(ResourceVersion)
            .where(ResourceVersion.resource_id == resource_id)
            .order_by(ResourceVersion.version.desc())
        )
    )
