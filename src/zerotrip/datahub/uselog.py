"""The citizen's data-use log (数据使用记录): every gateway read and check of their data, from the audit log.

Who read (the consumer system and its department), when, which fields (with their Chinese titles), for
what purpose, and on whose behalf. The audit log is the only source, so the log cannot disagree with what
was recorded at the time of the read.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from zerotrip.audit.queries import list_events_for_subject
from zerotrip.datahub.gateway import CHECKED, READ
from zerotrip.datahub.models import Resource
from zerotrip.datahub.queries import find_resource, list_fields
from zerotrip.datahub.schemas_sharing import DataUse, FieldTitle
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import OrganisationNotFound

# The audit index serves "events about this subject, newest first"; other datahub events about a person
# are rare, so reading a little more than asked and filtering keeps this one indexed query.
_OVERFETCH = 2


def list_data_uses(db: Session, *, actor: Actor, limit: int = 200) -> list[DataUse]:
    """The signed-in citizen's own data uses, newest first. Raises NotYourRecord for anyone else."""
    person = identity_queries.get_own_person(db, actor)
    events = list_events_for_subject(
        db, subject_type="person", subject_id=person.resident_id, limit=limit * _OVERFETCH
    )
    resources: dict[str, tuple[Resource | None, dict[str, str]]] = {}
    org_names: dict[int, str] = {}
    uses: list[DataUse] = []
    for event in events:
        if event.action not in (READ, CHECKED):
            continue
        data = event.data
        code = str(data.get("resource", ""))
        if code not in resources:
            resource = find_resource(db, code)
            titles = {f.name: f.title for f in list_fields(db, resource.id)} if resource else {}
            resources[code] = (resource, titles)
        resource, titles = resources[code]
        uses.append(
            DataUse(
                at=event.occurred_at,
                kind="read" if event.action == READ else "checked",
                consumer_name=str(data.get("consumer_name") or data.get("consumer") or event.actor),
                consumer_org_name=_org_name(db, data.get("consumer_org_id"), org_names),
                resource_code=code,
                resource_title=resource.title if resource else code,
                fields=[FieldTitle(name=n, title=titles.get(n, n)) for n in data.get("fields", [])],
                purpose=str(data.get("purpose", "")),
                on_behalf_of=data.get("on_behalf_of"),
            )
        )
        if len(uses) >= limit:
            break
    return uses


def _org_name(db: Session, org_id: object, cache: dict[int, str]) -> str:
    if not isinstance(org_id, int):
        return ""
    if org_id not in cache:
        try:
            cache[org_id] = identity_queries.get_organisation(db, org_id).name
        except OrganisationNotFound:
            cache[org_id] = ""
    return cache[org_id]
