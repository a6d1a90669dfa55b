"""Applications already in flight when the demo opens, so a reviewer who signs in finds work in their queue.

Each is made through the real actions, as its applicant and the office's demo reviewer would have made it:
the applicant (a resident of 西湖区 outside the demo family, given a citizen account whose password nobody
knows) starts the application, lets the platform read what it may, uploads the rest and submits; the
reviewer then moves it on. What they leave behind:

- a certificate of no criminal record (无犯罪记录证明) waiting for acceptance at 公安西湖分局;
- an unemployment benefit claim (失业保险金申领) accepted and reviewed, waiting for the decision at
  杭州市人力社保局;
- a retirement withdrawal (退休提取住房公积金) with a supplement request (补正) outstanding at
  杭州住房公积金管理中心;
- a second certificate of no criminal record submitted two weeks ago, accepted, overdue and escalated to
  杭州市公安局 (the applicant declined the read and uploaded the household register instead).

An application whose applicant the population lacks (a small demo) is left out.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.demo.datasets import Dataset
from zerotrip.demo.people import DEMO_COUNTY, REFERENCE_DATE, PopulationPlan, age_on
from zerotrip.demo.service_kit import FUND_ACCOUNTS, HOUSEHOLD, SOCIAL_INSURANCE
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.services import applying, reviewing, uploads, wallet_evidence
from zerotrip.services.models import Application
from zerotrip.services.workflow_schemas import SupplementItemSpec

NO_CRIMINAL_RECORD = f"{DEMO_COUNTY}-psb-0004"
UNEMPLOYMENT_BENEFIT = "330100-hrss-0003"
RETIREMENT_WITHDRAWAL = "330100-fund-0003"


def scan(title: str) -> bytes:
    """A one-page PDF standing for a scanned paper (ASCII text: the demo needs no fonts)."""
    text = title.encode("ascii", "replace")
    stream = b"BT /F1 14 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@dataclass(frozen=True)
class _Applicant:
    actor: Actor
    resident_id: str


class _Applicants:
    """Adults outside the demo family, each used once, found by where they live and what the departments
    hold about them; each gets a citizen account (a random password: nobody signs in as them)."""

    def __init__(self, db: Session, *, plan: PopulationPlan, person_id: Callable[[int], uuid.UUID]) -> None:
        self.db = db
        self.plan = plan
        self.person_id = person_id
        family = set(plan.households[0].members)
        self.free = [
            i
            for i, p in enumerate(plan.people)
            if i not in family and age_on(p.birth_date, REFERENCE_DATE) >= 18
        ]

    def take(self, required: Callable[[int], bool], *preferred: Callable[[int], bool]) -> _Applicant | None:
        """The first free person who is ``required`` and every one of ``preferred``, or else of fewer of
        ``preferred``, dropping the last first (a small demo population may have nobody who is all of it)."""
        index = None
        for n in range(len(preferred), -1, -1):
            wanted = (required, *preferred[:n])
            index = next((i for i in self.free if all(w(i) for w in wanted)), None)
            if index is not None:
                break
        if index is None:
            return None
        self.free.remove(index)
        person = self.plan.people[index]
        account = actions.create_citizen_account(
            self.db,
            actor=_SEED,
            person_id=self.person_id(index),
            login_name=person.phone or person.resident_id,
            password=secrets.token_urlsafe(24),
        )
        actor = Actor(kind="citizen", name=person.name, account_id=account.id, person_id=account.person_id)
        return _Applicant(actor, person.resident_id)


def seed_work_in_flight(
    db: Session,
    *,
    plan: PopulationPlan,
    person_id: Callable[[int], uuid.UUID],
    datasets: Sequence[Dataset],
    keys: KeyStore,
    settings: Settings,
) -> list[Application]:
    """Make the demo's in-flight applications (see the module's docstring). Needs the catalogue, the
    service platform's grants and the demo reviewer logins. Adds and flushes; the caller commits. Returns
    the applications made."""
    holders = {d.spec.code: {str(r.get(d.spec.subject_field or "")) for r in d.rows} for d in datasets}
    people = _Applicants(db, plan=plan, person_id=person_id)

    def holds(resource: str) -> Callable[[int], bool]:
        return lambda i: plan.people[i].resident_id in holders.get(resource, set())

    def lives_in(prefix: str) -> Callable[[int], bool]:
        return lambda i: plan.people[i].division_code.startswith(prefix)

    def older_than(years: int) -> Callable[[int], bool]:
        return lambda i: age_on(plan.people[i].birth_date, REFERENCE_DATE) > years

    # 西湖区's residents are few in a small demo: the city's items go to people elsewhere in 杭州 first.
    xihu, hangzhou = lives_in(DEMO_COUNTY), lives_in(DEMO_COUNTY[:4])
    elsewhere = lambda i: not xihu(i)  # noqa: E731

    work = _Work(db, keys=keys, settings=settings)
    made: list[Application] = []
    now = clock.now()

    # Waiting for acceptance at 公安西湖分局.
    if (who := people.take(lambda i: xihu(i) and holds(HOUSEHOLD)(i))) is not None:
        made.append(work.submit(who, NO_CRIMINAL_RECORD, uploads_={1: "Purpose: job application"}))

    # Accepted and reviewed at 杭州市人力社保局: the decision is next.
    if (who := people.take(holds(SOCIAL_INSURANCE), hangzhou, elsewhere)) is not None:
        application = work.submit(who, UNEMPLOYMENT_BENEFIT, uploads_={1: "Termination of employment"})
        reviewer = work.reviewer("hz-hrss-reviewer")
        reviewing.accept_application(
            db, actor=reviewer, number=application.number, note="材料齐全，予以受理。"
        )
        reviewing.complete_review(
            db,
            actor=reviewer,
            number=application.number,
            note="失业前累计缴纳失业保险费满一年，非本人意愿中断就业，已办理失业登记，拟同意。",
        )
        made.append(application)

    # A supplement request (补正) waiting for the applicant at 杭州住房公积金管理中心.
    if (who := people.take(holds(FUND_ACCOUNTS), hangzhou, elsewhere, older_than(50))) is not None:
        application = work.submit(who, RETIREMENT_WITHDRAWAL, uploads_={1: "Retirement certificate"})
        reviewer = work.reviewer("hz-fund-reviewer")
        reviewing.accept_application(db, actor=reviewer, number=application.number)
        reviewing.request_supplement(
            db,
            actor=reviewer,
            number=application.number,
            items=[
                SupplementItemSpec(
                    material=1, detail="上传的退休证缺少审批机关盖章页，请重新上传完整扫描件。"
                ),
                SupplementItemSpec(detail="请说明办理退休手续时所在的单位名称。"),
            ],
            note="请一次性补齐以上材料后重新提交。",
        )
        made.append(application)

    # Submitted two weeks ago (a one-day promise), accepted, overdue, escalated to the office above.
    if (who := people.take(lambda i: xihu(i) and holds(HOUSEHOLD)(i))) is not None:
        with clock.frozen(now - timedelta(days=14)) as frozen:
            application = work.submit(
                who,
                NO_CRIMINAL_RECORD,
                declined={0: "Household register (scan)"},
                uploads_={1: "Purpose: visa application"},
            )
            frozen.advance(timedelta(days=1, hours=2))
            reviewing.accept_application(
                db, actor=work.reviewer("hz-xh-psb-reviewer"), number=application.number
            )
        reviewing.flag_overdue_applications(db, now=now)
        made.append(application)
    db.flush()
    return made


class _Work:
    def __init__(self, db: Session, *, keys: KeyStore, settings: Settings) -> None:
        self.db, self.keys, self.settings = db, keys, settings
        self._reviewers: dict[str, Actor] = {}

    def reviewer(self, login_name: str) -> Actor:
        if login_name not in self._reviewers:
            actor = auth.find_staff_actor(self.db, login_name)
            assert actor is not None, f"the demo login {login_name} is seeded first"
            self._reviewers[login_name] = actor
        return self._reviewers[login_name]

    def submit(
        self,
        who: _Applicant,
        item_code: str,
        *,
        uploads_: dict[int, str],
        declined: dict[int, str] | None = None,
    ) -> Application:
        """Start, let the platform read every datahub material (or decline those in ``declined`` and
        upload a scan instead), upload the scans in ``uploads_`` and submit."""
        db, actor = self.db, who.actor
        draft = applying.start_application(db, actor=actor, item_code=item_code)
        for position in declined or {}:
            applying.decline_consent(db, actor=actor, number=draft.number, position=position)
        applying.consent_and_fetch(
            db,
            actor=actor,
            number=draft.number,
            settings=self.settings.services,
            wallet=wallet_evidence.WalletAccess(keys=self.keys, settings=self.settings),
        )
        for position, title in {**(declined or {}), **uploads_}.items():
            uploads.attach_upload(
                db,
                actor=actor,
                number=draft.number,
                position=position,
                filename=f"{title.split(':')[0].lower().replace(' ', '-')}.pdf",
                content=scan(title),
                settings=self.settings,
            )
        return applying.submit_application(
            db, actor=actor, number=draft.number, keys=self.keys, settings=self.settings, pledge=True
        )


_SEED = Actor(kind="system", name="seed")
