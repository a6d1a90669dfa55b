"""The compose page of a staff notice: the form's values, the units a publisher may reach (their own
subtree, in tree order, filtered in the browser), and turning the form into ``NoticeCreate``."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy.orm import Session

from zerotrip.identity import org_tree_queries
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.messaging.errors_notices import InvalidNotice, NotNoticePublisher
from zerotrip.messaging.notices_permissions import publisher_grants
from zerotrip.messaging.schemas_notices import FormFieldSpec, LinkSpec, NoticeCreate, TargetSpec
from zerotrip.problems import FieldError
from zerotrip.web.i18n import N_
from zerotrip.web.messaging_views import PRIORITY_LABELS
from zerotrip.web.views import ROLE_LABELS

FIELD_LABELS = {
    "title": N_("Notice title"),
    "body": N_("Notice text"),
    "priority": N_("Priority"),
    "targets": N_("Recipients"),
    "links": N_("Links"),
    "form": N_("Report-back form"),
    "remind_after_minutes": N_("Remind after (minutes)"),
    "division_code": N_("Region (division code)"),
}
NO_TARGET = N_("Choose at least one unit or a region.")
BAD_LINK = N_("Each link is a title, a bar and an address starting with http:// or https://.")
BAD_NUMBER = N_("Enter a whole number.")


@dataclass
class ComposeForm:
    """What the publisher typed, kept to fill the form in again after a problem."""

    title: str = ""
    body: str = ""
    priority: str = "normal"
    requires_ack: bool = False
    unit_ids: list[int] = field(default_factory=list)
    division_code: str = ""
    roles: list[str] = field(default_factory=list)
    links: str = ""
    form: str = ""
    remind_after: str = ""
    publisher_org_id: int | None = None


@dataclass(frozen=True)
class UnitOption:
    id: int
    name: str
    level: int  # depth below the publishing unit, for indentation
    is_checked: bool


@dataclass(frozen=True)
class Choice:
    value: str
    label: str  # an English msgid
    is_selected: bool


@dataclass(frozen=True)
class ComposeView:
    form: ComposeForm
    publisher_units: tuple[Choice, ...]  # more than one: the publisher chooses
    publisher_unit_name: str
    units: tuple[UnitOption, ...]
    roles: tuple[Choice, ...]
    priorities: tuple[Choice, ...]


def compose(db: Session, actor: Actor, form: ComposeForm | None = None) -> ComposeView:
    """The compose form for a notice publisher. Raises NotNoticePublisher."""
    grants = publisher_grants(actor)
    if not grants:
        raise NotNoticePublisher()
    form = form or ComposeForm()
    orgs = {g.org_id: identity_queries.get_organisation(db, g.org_id) for g in grants}
    chosen = orgs.get(form.publisher_org_id or 0) or orgs[grants[0].org_id]
    entries = org_tree_queries.list_subtree(db, chosen.path)
    top = entries[0].depth if entries else 0
    return ComposeView(
        form=form,
        publisher_units=tuple(Choice(str(o.id), o.name, o.id == chosen.id) for o in orgs.values())
        if len(orgs) > 1
        else (),
        publisher_unit_name=chosen.name,
        units=tuple(UnitOption(e.id, e.name, min(e.depth - top, 6), e.id in form.unit_ids) for e in entries),
        roles=tuple(Choice(role, label, role in form.roles) for role, label in ROLE_LABELS.items()),
        priorities=tuple(
            Choice(value, label, value == form.priority) for value, label in PRIORITY_LABELS.items()
        ),
    )


def spec_of(form: ComposeForm, *, publish: bool) -> NoticeCreate:
    """The notice the form describes. Raises InvalidNotice naming each field that is wrong."""
    errors: list[FieldError] = []
    targets: list[dict[str, object]] = [{"org_id": unit, "roles": form.roles} for unit in form.unit_ids]
    if form.division_code.strip():
        targets.append({"division_code": form.division_code.strip(), "roles": form.roles})
    if not targets:
        errors.append({"detail": NO_TARGET, "pointer": "#/targets"})
    links: list[dict[str, str]] = []
    for line in form.links.splitlines():
        if not line.strip():
            continue
        title, bar, url = line.rpartition("|")
        if not bar:
            title, url = line, line
        if not url.strip().startswith(("http://", "https://")):
            errors.append({"detail": BAD_LINK, "pointer": "#/links"})
            break
        links.append({"title": title.strip()[:100] or url.strip()[:100], "url": url.strip()})
    fields: list[dict[str, object]] = []
    for i, line in enumerate(line for line in form.form.splitlines() if line.strip()):
        label, _, unit = line.partition("|")
        fields.append({"key": f"q{i + 1}", "label": label.strip()[:60], "unit": unit.strip()[:10] or None})
    remind: int | None = None
    if form.remind_after.strip():
        if not form.remind_after.strip().isdigit():
            errors.append({"detail": BAD_NUMBER, "pointer": "#/remind_after_minutes"})
        else:
            remind = int(form.remind_after.strip())
    if errors:
        raise InvalidNotice(errors[0]["detail"], errors=errors)
    try:
        return NoticeCreate(
            title=form.title,
            body=form.body,
            priority=form.priority,
            requires_ack=form.requires_ack,
            targets=[TargetSpec.model_validate(t) for t in targets],
            links=[LinkSpec.model_validate(link) for link in links],
            form=[FormFieldSpec.model_validate(f) for f in fields] or None,
            remind_after_minutes=remind,
            publisher_org_id=form.publisher_org_id,
            publish=publish,
        )
    except ValidationError as exc:
        found: list[FieldError] = []
        for error in exc.errors():
            where = str(error["loc"][0]) if error["loc"] else ""
            found.append({"detail": str(error["msg"]), "pointer": f"#/{where}"})
        raise InvalidNotice(found[0]["detail"], errors=found) from exc


def field_label(pointer: str) -> str | None:
    """The form field a problem's pointer names (an English msgid), if any."""
    name = pointer.removeprefix("#/").split("/", 1)[0]
    return FIELD_LABELS.get(name)
