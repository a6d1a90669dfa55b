"""Instant approval (秒批): the decision made from the fetched evidence alone, and the versioned rule sets
it is made under.

On submission of an instantly approvable item, the item's current rule set is judged on the fetched
evidence: every rule passes → approved at once and the decision letter (办件结果通知书) is issued into the
applicant's wallet; a rule fails, a material the platform reads was not fetched (consent declined), the
item has no rules, or the applicant asked for a person (PIPL art. 24) → ``in_review`` with the reason and
every rule's outcome recorded. Actions add and flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import FieldError
from zerotrip.services import applications, results, rules
from zerotrip.services import evidence as evidence_source
from zerotrip.services.applications import FETCHED_KINDS, SERVICES
from zerotrip.services.errors import InvalidRules, NotItemManager
from zerotrip.services.models import Application, Evidence, Item, RuleSet
from zerotrip.services.permissions import can_define_items
from zerotrip.services.queries import get_item, list_materials
from zerotrip.services.results import APPROVED_DECISION

ASKED_FOR_PERSON = "the applicant asked for a person to decide"
RULES_DEFINED = "services.rules.defined"


def decide_instantly(
    db: Session,
    application: Application,
    item: Item,
    evidence: Sequence[Evidence],
    *,
    keys: KeyStore,
    settings: Settings,
    human_review: bool,
) -> None:
    """Decide a just-submitted application of an instantly approvable item, or send it to a person with
    the reasons (see the module's docstring)."""
    rule_set = latest_rule_set(db, item.id)
    reasons: list[str] = []
    if human_review:
        reasons.append(ASKED_FOR_PERSON)
    if rule_set is None:
        reasons.append("the item has no instant-approval rules")
    not_fetched = [
        ev.material_name for ev in evidence if ev.source_kind in FETCHED_KINDS and ev.state != "fetched"
    ]
    if not_fetched:
        reasons.append(f"not fetched by the platform (check the uploads): {'、'.join(not_fetched)}")
    if rule_set is not None:
        parsed = rules.RuleSetSpec.model_validate({"rules": rule_set.rules})
        facts = rules.facts_from(f for f in (evidence_source.fetched(ev) for ev in evidence) if f is not None)
        outcomes = rules.evaluate(parsed.rules, facts)
        application.rule_set_id = rule_set.id
        application.rule_results = [o.as_dict() for o in outcomes]
        failed = [o for o in outcomes if not o.passed]
        if failed:
            reasons.append("rules not met: " + "; ".join(_describe(o) for o in failed))
    if reasons:
        application.review_reason = "; ".join(reasons)
        applications.move(db, application, "refer", actor=SERVICES, reason=application.review_reason)
        return
    now = clock.now()
    application.decision_text = f"经按规则自动审核（秒批），准予办理“{item.name}”。"
    application.decided_at = now
    application.decided_by = SERVICES.principal
    applications.move(
        db, application, "approve_instantly", actor=SERVICES, reason="instant approval: every rule passed"
    )
    results.issue_decision_letter(
        db, application, item, decision=APPROVED_DECISION, decided_at=now, keys=keys, settings=settings
    )


def _describe(outcome: rules.Outcome) -> str:
    rule = outcome.rule
    label = rule.get("label") or rule.get("fact") or rule.get("field")
    return f"{label} ({outcome.reason})"


def latest_rule_set(db: Session, item_id: int) -> RuleSet | None:
    return db.scalar(
        select(RuleSet).where(RuleSet.item_id == item_id).order_by(RuleSet.version.desc()).limit(1)
    )


def define_rules(db: Session, *, actor: Actor, item_code: str, spec: rules.RuleSetSpec) -> RuleSet:
    """Save a new version of an instantly approvable item's rules. Each rule must name a fact the item's
    datahub materials can give (``rules.fact_names``). Raises ItemNotFound, NotItemManager, InvalidRules."""
    item = get_item(db, item_code)
    department = identity_queries.get_organisation(db, item.department_org_id)
    if not can_define_items(actor, department.path):
        raise NotItemManager()
    if not item.is_instant:
        raise InvalidRules("only an instantly approvable item has instant-approval rules")
    available: set[str] = set()
    for m in list_materials(db, [item.id])[item.id]:
        if m.source_kind == "datahub" and m.source_ref:
            available.update(
                rules.fact_names(
                    rules.alias_of(m.source_ref), is_exists=m.is_exists_fact, fields=m.source_fields
                )
            )
    errors: list[FieldError] = []
    for index, rule in enumerate(spec.rules):
        name = rules.rule_name(rule)
        if name not in available:
            errors.append(
                {"detail": f"the item's materials give no fact {name}", "pointer": f"#/rules/{index}"}
            )
        elif isinstance(rule, rules.FactRule) and not name.endswith(".exists"):
            errors.append({"detail": f"{name} is not a yes/no fact", "pointer": f"#/rules/{index}"})
    if errors:
        raise InvalidRules("some rules do not fit the item", errors=errors)
    latest = latest_rule_set(db, item.id)
    rule_set = RuleSet(
        item_id=item.id,
        version=(latest.version + 1) if latest else 1,
        rules=[r.model_dump(mode="json") for r in spec.rules],
        defined_by=actor.principal,
        defined_at=clock.now(),
    )
    db.add(rule_set)
    record_event(
        db,
        actor=actor.principal,
        action=RULES_DEFINED,
        subject_type="service_item",
        subject_id=item.code,
        data={"version": rule_set.version, "rules": rule_set.rules},
    )
    return rule_set
