"""The locked form fields that a material's read fills: one field per value the read established (an
exists? answer, a single record's fields, or for several records their count and each field's run of
consecutive months or latest value), with the department or certificate as source and date. Used by single
applications (``applying``) and bundles (``bundle_evidence``, ``bundle_queries``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from zerotrip.services import evidence as evidence_source
from zerotrip.services import rules, wallet_evidence
from zerotrip.services.models import Application, Evidence, FormField


def prefill(
    db: Session, application: Application, ev: Evidence, *, titles: dict[str, str], source: str = "datahub"
) -> None:
    """Form fields from what one material's read established, locked, with their source and date (for a
    certificate: its type and issuer, and its issue date). A material is read once (declining drops its
    fields, and a declined material is not read again), so there are no earlier fields of it to replace."""
    fetched = evidence_source.fetched(ev)
    if fetched is None:
        return
    source_label = ev.source_org_name
    if source == "certificate":
        titles, source_label = wallet_evidence.field_titles(ev), wallet_evidence.form_label(ev)
    for offset, (name, label, value) in enumerate(form_values(fetched, ev.material_name, titles)):
        db.add(
            FormField(
                application_id=application.id,
                position=100 * (ev.position + 1) + offset,
                name=f"{ev.position}.{name}",
                label=label,
                value=value,
                source=source,
                source_label=source_label,
                source_date=ev.source_updated_at,
                is_locked=True,
                material_position=ev.position,
            )
        )


def form_values(
    fetched: rules.Fetched, material_name: str, titles: dict[str, str]
) -> list[tuple[str, str, object]]:
    """(name, label, value) of the form fields one read fills: the answer of an exists? question; each
    field of a single record; for several records, how many, and per field its run of consecutive months
    or its latest value. Masked values are left out."""
    facts = rules.facts_from([fetched])
    a = fetched.alias
    if fetched.is_exists:
        return [(f"{a}.exists", material_name, facts.get(f"{a}.exists"))]
    found: list[tuple[str, str, object]] = []
    if facts.get(f"{a}.records") == 1:
        names = [f"{a}.{f}" for f in fetched.fields]
    else:
        found.append((f"{a}.records", material_name, facts.get(f"{a}.records")))
        names = [
            f"{a}.{f}.consecutive_months" if f"{a}.{f}.consecutive_months" in facts else f"{a}.{f}.latest"
            for f in fetched.fields
        ]
    for name in names:
        value = facts.get(name)
        if name in facts and value is not rules.MASKED:
            field_name = name.split(".")[1]
            found.append((name, titles.get(field_name, field_name), value))
    return found
