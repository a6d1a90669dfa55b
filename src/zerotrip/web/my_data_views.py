"""View-models of the citizen's data pages: who used my data, my objections, and objecting to a value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from zerotrip.config import DatahubSettings
from zerotrip.datahub import objections, queries, uselog
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import check_citizen, china_time
from zerotrip.web.sharing_views import ObjectionCard, objection_card

KIND_LABELS = {"read": N_("Read your data"), "checked": N_("Checked whether a record about you exists")}
KEY_PREFIX = "key_"


@dataclass(frozen=True)
class DataUseRow:
    at: str
    kind_label: str
    consumer_name: str
    consumer_org_name: str
    resource_title: str
    fields: tuple[str, ...]  # the fields' titles
    purpose: str
    on_behalf_of: str | None
    objection_url: str


@dataclass(frozen=True)
class DataUsesView:
    rows: tuple[DataUseRow, ...]
    limit: int


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    is_selected: bool


@dataclass(frozen=True)
class KeyInput:
    name: str  # the form field's name
    title: str
    value: str


@dataclass(frozen=True)
class ObjectionForm:
    resource_code: str
    resource_title: str
    fields: tuple[Choice, ...]
    keys: tuple[KeyInput, ...]  # key fields other than the citizen's own resident ID number
    is_found_by_resident_id: bool
    claim: str
    proposed_value: str
    evidence: str


LIMIT = 200


def data_uses(db: Session, actor: Actor) -> DataUsesView:
    """Every read and check of the citizen's data through the gateway, newest first. Raises NotAllowed."""
    check_citizen(actor)
    rows = tuple(
        DataUseRow(
            at=china_time(use.at),
            kind_label=KIND_LABELS[use.kind],
            consumer_name=use.consumer_name,
            consumer_org_name=use.consumer_org_name,
            resource_title=use.resource_title,
            fields=tuple(f.title for f in use.fields),
            purpose=use.purpose,
            on_behalf_of=use.on_behalf_of,
            objection_url="/me/objections/new?" + urlencode({"resource": use.resource_code}),
        )
        for use in uselog.list_data_uses(db, actor=actor, limit=LIMIT)
    )
    return DataUsesView(rows=rows, limit=LIMIT)


def my_objections(db: Session, actor: Actor) -> tuple[ObjectionCard, ...]:
    """The citizen's own objections, newest first. Raises NotAllowed."""
    check_citizen(actor)
    return tuple(
        objection_card(db, objections.objection_read(db, o), evidence=o.evidence)
        for o in objections.list_own_objections(db, actor=actor)
    )


def objection_form(
    db: Session, actor: Actor, *, code: str, values: Mapping[str, str] | None = None
) -> ObjectionForm:
    """The form to object to one value of a record about the citizen, filled with ``values`` when it
    comes back with a problem. Raises NotAllowed, ResourceNotFound."""
    check_citizen(actor)
    given = values or {}
    resource = queries.get_resource(db, code)
    fields = queries.list_fields(db, resource.id)
    titles = {f.name: f.title for f in fields}
    chosen = given.get("field", "")
    return ObjectionForm(
        resource_code=resource.code,
        resource_title=resource.title,
        fields=tuple(Choice(f.name, f.title, f.name == chosen) for f in fields),
        keys=tuple(
            KeyInput(KEY_PREFIX + name, titles.get(name, name), given.get(KEY_PREFIX + name, ""))
            for name in resource.key_fields
            if name != _own_key(resource.subject_kind, resource.subject_field)
        ),
        is_found_by_resident_id=_own_key(resource.subject_kind, resource.subject_field) is not None,
        claim=given.get("claim", ""),
        proposed_value=given.get("proposed_value", ""),
        evidence=given.get("evidence", ""),
    )


def _own_key(subject_kind: str, subject_field: str | None) -> str | None:
    """The field the citizen's own resident ID number fills in: the subject field of a personal resource."""
    return subject_field if subject_kind == "resident_id" else None


def raise_objection(
    db: Session, actor: Actor, *, code: str, values: Mapping[str, str], settings: DatahubSettings
) -> str:
    """Object to one field of a record about the citizen; the record is named by its key fields, the
    citizen's own resident ID number standing in for the subject. Returns the objection's number.
    Raises NotAllowed, ResourceNotFound, ValidationFailed, ObjectionNotAllowed."""
    check_citizen(actor)
    resource = queries.get_resource(db, code)
    own = identity_queries.get_own_person(db, actor).resident_id
    given = {name: values.get(KEY_PREFIX + name, "").strip() for name in resource.key_fields}
    mine = _own_key(resource.subject_kind, resource.subject_field)
    key = {name: own if name == mine else given[name] for name in resource.key_fields}
    key = {name: value for name, value in key.items() if value}  # a missing one is named by the action
    objection = objections.raise_objection(
        db,
        actor=actor,
        resource_code=resource.code,
        key=key,
        field=values.get("field", ""),
        claim=values.get("claim", ""),
        proposed_value=values.get("proposed_value", "").strip() or None,
        evidence=values.get("evidence", "").strip() or None,
        settings=settings,
    )
    return objection.number
