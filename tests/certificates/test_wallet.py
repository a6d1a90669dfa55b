"""The wallet (卡包) and presentations (亮证): who sees which certificates, what an opened one shows, and
that a presentation discloses only what the holder chose, verifies, and expires."""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy.orm import Session

from zerotrip.audit.queries import list_events_for_subject
from zerotrip.certificates import actions, pdf, qr, queries, sdjwt, signing, verify, wallet
from zerotrip.certificates.errors import (
    CertificateExpired,
    CertificateNotFound,
    CertificateRevoked,
    CertificateSuspended,
)
from zerotrip.common.checks import make_resident_id
from zerotrip.config import Settings
from zerotrip.identity import actions as identity_actions
from zerotrip.identity.actor import ANONYMOUS
from zerotrip.identity.errors import NotYourRecord
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed

from .conftest import ROOT, CertWorld
from .holding import NOW, Held, held_family, trust_of, verify_presentation

LATER = NOW + timedelta(hours=1)


@pytest.fixture
def held(db: Session, world: CertWorld, keys: KeyStore, settings: Settings) -> Iterator[Held]:
    yield from held_family(db, world, keys, settings)


def numbers_of(page: object) -> list[str]:
    return [item.number for item in page.items]  # type: ignore[attr-defined]


# -- who sees what -----------------------------------------------------------------------------------------


def test_each_parent_sees_their_own_the_enterprise_they_represent_and_their_minor_child(
    db: Session, world: CertWorld, held: Held
) -> None:
    wife = wallet.list_wallet(db, actor=world.citizen(world.wife), now=LATER)
    assert numbers_of(wife) == [held.proof.number, held.birth.number, held.marriage.number]
    assert [i.relation for i in wife.items] == ["self", "guardian", "self"]
    husband = wallet.list_wallet(db, actor=world.citizen(world.husband), now=LATER)
    # Newest first; the wife's certificates are not his.
    assert numbers_of(husband) == [held.licence.number, held.birth.number]
    licence = husband.items[0]
    assert (licence.relation, licence.holder_kind, licence.type_name, licence.issuer_name) == (
        "enterprise",
        "enterprise",
        "营业执照",
        "浙江省市场监督管理局",
    )
    # The child has an account too and sees their own certificate; the unrelated owner sees nothing.
    child = wallet.list_wallet(db, actor=world.citizen(world.child), now=LATER)
    assert (numbers_of(child), child.items[0].relation) == ([held.birth.number], "self")
    assert wallet.list_wallet(db, actor=world.citizen(world.owner), now=LATER).total == 0


def test_a_child_who_comes_of_age_leaves_the_parents_wallet(
    db: Session, world: CertWorld, held: Held
) -> None:
    mother = world.citizen(world.wife)
    eve = NOW.replace(year=2044, month=8, day=19, hour=2)  # the eve of the 18th birthday, in China
    assert held.birth.number in numbers_of(wallet.list_wallet(db, actor=mother, now=eve, per_page=50))
    birthday = eve + timedelta(days=1)
    assert held.birth.number not in numbers_of(wallet.list_wallet(db, actor=mother, now=birthday))
    with pytest.raises(CertificateNotFound):
        wallet.open_certificate(db, actor=mother, number=held.birth.number, now=birthday)


def test_the_issuers_read_and_the_wallet_agree_on_who_holds_what(
    db: Session, world: CertWorld, held: Held
) -> None:
    """``queries.get_certificate`` (behind ``GET /api/certificates/{number}``) and the wallet answer the
    same for every member of the family and every certificate, before the child's 18th birthday and on it."""
    eve = NOW.replace(year=2044, month=8, day=19, hour=2)
    birthday = NOW.replace(year=2044, month=8, day=19, hour=16)  # midnight in China
    people = (world.wife, world.husband, world.child, world.owner)
    certificates = (held.marriage, held.birth, held.licence, held.proof)
    for at in (LATER, eve, birthday):
        for person in people:
            actor = world.citizen(person)
            for certificate in certificates:
                relation = queries.relation_to(db, actor, certificate, now=at)
                try:
                    wallet.get_held_certificate(db, actor=actor, number=certificate.number, now=at)
                    in_wallet = True
                except CertificateNotFound:
                    in_wallet = False
                try:
                    queries.get_certificate(db, actor=actor, number=certificate.number, now=at)
                    readable = True
                except CertificateNotFound:
                    readable = False
                assert in_wallet == readable == (relation is not None), (at, person.name, certificate.number)
    # The parents act for the minor child, and only until the 18th birthday.
    for parent in (world.wife, world.husband):
        actor = world.citizen(parent)
        assert queries.relation_to(db, actor, held.birth, now=eve) == "guardian"
        assert queries.can_read(db, actor, held.birth, now=eve)
        assert queries.relation_to(db, actor, held.birth, now=birthday) is None
        assert not queries.can_read(db, actor, held.birth, now=birthday)
    assert queries.relation_to(db, world.citizen(world.husband), held.licence, now=LATER) == "enterprise"
    assert queries.relation_to(db, world.citizen(world.child), held.birth, now=birthday) == "self"
    # Staff have no holder relation; the issuing department reads by its own rule.
    assert queries.relation_to(db, ROOT, held.birth, now=eve) is None


def test_only_a_parent_of_a_minor_counts_not_any_relative(db: Session, world: CertWorld, held: Held) -> None:
    """A spouse or a grown child is a relative too, but acts for no one."""
    identity_actions.link_relatives(
        db, actor=ROOT, person_id=world.husband.id, relative_id=world.wife.id, kind="spouse"
    )
    grown = identity_actions.register_person(
        db,
        actor=ROOT,
        resident_id=make_resident_id(
            division_code="330106", birth_date=date(2000, 1, 1), sequence=21, sex="male"
        ),
        name="陈长子",
        division_code="330106",
    )
    db.flush()
    identity_actions.link_relatives(
        db, actor=ROOT, person_id=world.wife.id, relative_id=grown.id, kind="child"
    )
    # The child's parents are not the child's to act for (a "parent" relation, not "child").
    child = wallet.list_wallet(db, actor=world.citizen(world.child), now=LATER)
    assert numbers_of(child) == [held.birth.number]
    husband = wallet.list_wallet(db, actor=world.citizen(world.husband), now=LATER)
    assert held.marriage.number not in numbers_of(husband)
    relations = {h.relation for h in queries.holdings(db, world.citizen(world.wife), now=LATER)}
    keys = {h.holder_key for h in queries.holdings(db, world.citizen(world.wife), now=LATER)}
    assert grown.resident_id not in keys and relations == {"self", "guardian"}


def test_expired_suspended_and_revoked_show_as_such_and_paging_holds(
    db: Session, world: CertWorld, held: Held
) -> None:
    wife = world.citizen(world.wife)
    actions.suspend_certificate(db, actor=world.civil_issuer, number=held.marriage.number, reason="核查中")
    after_proof = NOW + timedelta(days=31)
    page = wallet.list_wallet(db, actor=wife, now=after_proof)
    assert {i.number: i.status for i in page.items} == {
        held.proof.number: "expired",
        held.birth.number: "valid",
        held.marriage.number: "suspended",
    }
    expiry = held.proof.valid_until
    assert expiry is not None and page.items[0].valid_until == expiry
    assert wallet.list_wallet(db, actor=wife, now=expiry - timedelta(seconds=1)).items[0].status == "valid"
    actions.revoke_certificate(db, actor=world.civil_issuer, number=held.marriage.number, reason="登记错误")
    first = wallet.list_wallet(db, actor=wife, now=LATER, page=1, per_page=2)
    second = wallet.list_wallet(db, actor=wife, now=LATER, page=2, per_page=2)
    assert (first.total, second.total) == (3, 3)
    assert numbers_of(first) == [held.proof.number, held.birth.number]
    assert [(i.number, i.status) for i in second.items] == [(held.marriage.number, "revoked")]


def test_opening_shows_labelled_fields_issuer_validity_and_status(
    db: Session, world: CertWorld, held: Held
) -> None:
    wife = world.citizen(world.wife)
    opened = wallet.open_certificate(db, actor=wife, number=held.marriage.number.lower(), now=LATER)
    assert (opened.number, opened.type_name, opened.issuer_name, opened.status) == (
        held.marriage.number,
        "结婚证",
        "浙江省民政厅",
        "valid",
    )
    assert opened.valid_until is None and opened.valid_from == held.marriage.valid_from
    labels = [(f.name, f.label, f.value) for f in opened.fields]
    assert labels[:3] == [
        ("holder_name", "持证人", "林晓雯"),
        ("holder_id", "公民身份号码", world.wife.resident_id),
        ("certificate_no", "结婚证字号", "J330106-2019-000123"),
    ]
    assert ("spouse_id", "配偶公民身份号码", world.husband.resident_id) in labels
    proof = wallet.open_certificate(db, actor=wife, number=held.proof.number, now=LATER)
    scope = next(f for f in proof.fields if f.name == "scope")
    assert (scope.label, scope.disclosable) == ("查询范围", False)
    licence = wallet.open_certificate(
        db, actor=world.citizen(world.husband), number=held.licence.number, now=LATER
    )
    assert [(f.label, f.value) for f in licence.fields[:2]] == [
        ("持证单位", "杭州零跑科技有限公司"),
        ("统一社会信用代码", world.enterprise_uscc),
    ]
    actions.suspend_certificate(db, actor=world.civil_issuer, number=held.marriage.number, reason="核查中")
    opened = wallet.open_certificate(db, actor=wife, number=held.marriage.number, now=LATER)
    assert (opened.status, opened.status_reason) == ("suspended", "核查中")


def test_someone_elses_certificate_does_not_exist_and_staff_have_no_wallet(
    db: Session, world: CertWorld, held: Held
) -> None:
    owner = world.citizen(world.owner)
    for number in (held.marriage.number, held.licence.number, held.birth.number, "1.2.156.3005.2.nothing"):
        with pytest.raises(CertificateNotFound):
            wallet.open_certificate(db, actor=owner, number=number, now=LATER)
    # The wife does not represent the enterprise; the child does not act for the parents.
    with pytest.raises(CertificateNotFound):
        wallet.open_certificate(db, actor=world.citizen(world.wife), number=held.licence.number, now=LATER)
    with pytest.raises(CertificateNotFound):
        wallet.open_certificate(db, actor=world.citizen(world.child), number=held.marriage.number, now=LATER)
    for actor in (world.civil_issuer, world.admin, ANONYMOUS):
        with pytest.raises(NotYourRecord):
            wallet.list_wallet(db, actor=actor, now=LATER)
        with pytest.raises(NotYourRecord):
            wallet.open_certificate(db, actor=actor, number=held.marriage.number, now=LATER)


# -- presenting ------------------------------------------------------------------------------------------


def test_a_presentation_discloses_only_the_chosen_fields_and_verifies_with_key_binding(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    wife = world.citizen(world.wife)
    shown = wallet.present_certificate(
        db,
        actor=wife,
        keys=keys,
        settings=settings,
        number=held.proof.number,
        fields=["holder_name", "result"],
        audience=None,
        now=LATER,
    )
    assert (shown.audience, shown.fields) == ("zerotrip-verify", ["holder_name", "result"])
    assert shown.expires_at - shown.presented_at == timedelta(seconds=300)
    verdict = verify_presentation(db, keys, settings, shown.token, now=LATER, audience="zerotrip-verify")
    assert (verdict.ok, verdict.code, verdict.key_bound) == (True, "valid", True)
    assert dict(verdict.claims) == {"holder_name": "林晓雯", "result": "无不动产登记记录"}
    assert verdict.number == held.proof.number
    # Nothing undisclosed is anywhere in the presentation or the QR text, decoded or not.
    for text in (shown.token, shown.qr_payload):
        decoded = decode_everything(text)
        assert world.wife.resident_id not in text and world.wife.resident_id not in decoded
        assert "林晓雯" in decoded
    # Bound to the wife's key, with a fresh nonce each time.
    again = wallet.present_certificate(
        db,
        actor=wife,
        keys=keys,
        settings=settings,
        number=held.proof.number,
        fields=["holder_name", "result"],
        audience="某某银行",
        now=LATER,
    )
    assert again.nonce != shown.nonce and again.audience == "某某银行"
    bad = verify_presentation(db, keys, settings, again.token, now=LATER, audience="zerotrip-verify")
    assert bad.code == "bad_key_binding"


def test_a_presentation_expires_after_the_presentation_lifetime(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    shown = wallet.present_certificate(
        db,
        actor=world.citizen(world.wife),
        keys=keys,
        settings=settings,
        number=held.marriage.number,
        fields=["holder_name", "registered_on"],
        audience=None,
        now=LATER,
    )
    ttl = settings.certificates.presentation_ttl_seconds
    assert shown.expires_at == shown.presented_at + timedelta(seconds=ttl)
    at_edge = verify_presentation(db, keys, settings, shown.token, now=shown.expires_at)
    assert at_edge.code == "valid"
    late = verify_presentation(db, keys, settings, shown.token, now=shown.expires_at + timedelta(seconds=1))
    assert (late.ok, late.code) == (False, "presentation_expired")


def test_a_guardian_shows_the_childs_certificate_bound_to_the_childs_key(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    shown = wallet.present_certificate(
        db,
        actor=world.citizen(world.husband),
        keys=keys,
        settings=settings,
        number=held.birth.number,
        fields=["holder_name", "birth_date", "mother_name"],
        audience="西湖区某幼儿园",
        now=LATER,
    )
    verdict = verify_presentation(db, keys, settings, shown.token, now=LATER)
    assert verdict.code == "valid" and set(verdict.claims) == {"holder_name", "birth_date", "mother_name"}
    parsed = sdjwt.parse(shown.token)
    child_key = signing.public_jwk(signing.holder_private_key(keys, world.child.resident_id))
    assert parsed.payload["cnf"]["jwk"] == child_key
    assert world.child.resident_id not in decode_everything(shown.token)
    assert world.wife.resident_id not in decode_everything(shown.token)


def test_presenting_is_audited_with_field_names_never_values(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    wife = world.citizen(world.wife)
    wallet.present_certificate(
        db,
        actor=wife,
        keys=keys,
        settings=settings,
        number=held.marriage.number,
        fields=["holder_name", "spouse_name"],
        audience=None,
        now=LATER,
    )
    events = [
        e
        for e in list_events_for_subject(db, subject_type="person", subject_id=world.wife.resident_id)
        if e.action == "certificates.certificate.presented"
    ]
    assert len(events) == 1
    event = events[0]
    assert event.actor == wife.principal
    assert event.data["number"] == held.marriage.number
    assert event.data["fields"] == ["holder_name", "spouse_name"]
    assert event.data["relation"] == "self"
    text = json.dumps(event.data, ensure_ascii=False)
    assert "林晓雯" not in text and "陈建国" not in text


def test_presenting_is_refused_for_unusable_certificates_bad_fields_and_strangers(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    wife = world.citizen(world.wife)

    def present(number: str, fields: list[str], *, actor: object = wife, now: object = LATER) -> object:
        return wallet.present_certificate(
            db,
            actor=actor,  # type: ignore[arg-type]
            keys=keys,
            settings=settings,
            number=number,
            fields=fields,
            audience=None,
            now=now,  # type: ignore[arg-type]
        )

    with pytest.raises(ValidationFailed) as failed:
        present(held.proof.number, ["holder_name", "scope"])  # always shown, not the holder's to choose
    assert failed.value.errors[0]["pointer"] == "#/fields"
    with pytest.raises(ValidationFailed):
        present(held.proof.number, ["iss"])
    with pytest.raises(CertificateExpired):
        present(held.proof.number, ["result"], now=NOW + timedelta(days=31))
    with pytest.raises(CertificateNotFound):
        present(held.marriage.number, ["holder_name"], actor=world.citizen(world.owner))
    with pytest.raises(NotYourRecord):
        present(held.marriage.number, ["holder_name"], actor=world.civil_issuer)
    actions.suspend_certificate(db, actor=world.civil_issuer, number=held.marriage.number, reason="核查中")
    with pytest.raises(CertificateSuspended):
        present(held.marriage.number, ["holder_name"])
    actions.revoke_certificate(db, actor=world.civil_issuer, number=held.marriage.number, reason="登记错误")
    with pytest.raises(CertificateRevoked):
        present(held.marriage.number, ["holder_name"])


# -- helpers -----------------------------------------------------------------------------------------------


def decode_everything(text: str) -> str:
    """The text with every base64url run of it decoded too (where it decodes to UTF-8), so a value hidden
    in an encoded segment would show."""
    found = [text]
    for run in re.findall(r"[A-Za-z0-9_-]{8,}", text):
        try:
            found.append(base64.urlsafe_b64decode(run + "=" * (-len(run) % 4)).decode("utf-8"))
        except (ValueError, binascii.Error):
            continue
    return "\n".join(found)


# -- the PDF and the QR ------------------------------------------------------------------------------------


def decode_qr(png: bytes) -> str:
    """The text of the QR code in a PNG, read by zxing-cpp (a decoder the project did not write)."""
    found = zxingcpp.read_barcode(Image.open(io.BytesIO(png)))
    assert found is not None and found.valid, "no QR code could be read"
    return str(found.text)


def test_the_pdf_carries_the_holders_name_the_issuer_the_number_and_the_full_token(
    db: Session, world: CertWorld, settings: Settings, held: Held
) -> None:
    made = wallet.certificate_pdf(
        db, actor=world.citizen(world.wife), settings=settings, number=held.marriage.number, now=LATER
    )
    assert made.filename == f"结婚证-{held.marriage.number}.pdf"
    assert made.ascii_filename == f"certificate-{held.marriage.number}.pdf"
    assert made.content.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(made.content)).pages)
    for expected in ("林晓雯", "结婚证", "浙江省民政厅", "J330106-2019-000123", "陈建国"):
        assert expected in text, expected
    assert held.marriage.number in text.replace("\n", "").replace(" ", "")
    assert pdf.extract_token(made.content) == held.marriage.token
    # A guardian downloads the child's; a stranger is told it does not exist.
    child = wallet.certificate_pdf(
        db, actor=world.citizen(world.husband), settings=settings, number=held.birth.number, now=LATER
    )
    assert "陈一诺" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(child.content)).pages)
    with pytest.raises(CertificateNotFound):
        wallet.certificate_pdf(
            db, actor=world.citizen(world.owner), settings=settings, number=held.marriage.number, now=LATER
        )


def test_the_certificate_qr_holds_the_full_token_as_the_pdf_does(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    husband = world.citizen(world.husband)
    text = wallet.certificate_qr(db, actor=husband, settings=settings, number=held.licence.number, now=LATER)
    assert text == f"{settings.web.public_url}/verify#{held.licence.token}"
    assert decode_qr(qr.png(text, scale=3)) == text
    assert verify.extract_token(text) == held.licence.token
    with pytest.raises(CertificateNotFound):
        wallet.certificate_qr(db, actor=husband, settings=settings, number=held.marriage.number, now=LATER)


def test_a_certificate_too_long_for_one_qr_code_keeps_what_fits_and_leaves_id_numbers_out_first(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    """The birth medical certificate with all its fields is longer than a QR code holds."""
    full = f"{settings.web.public_url}/verify#{held.birth.token}"
    assert len(full.encode()) > qr.MAX_PAYLOAD_BYTES
    text = wallet.certificate_qr(
        db, actor=world.citizen(world.wife), settings=settings, number=held.birth.number, now=LATER
    )
    assert len(text.encode()) <= qr.MAX_PAYLOAD_BYTES
    assert decode_qr(qr.png(text, scale=2)) == text
    token = verify.extract_token(text)
    assert held.birth.token.startswith(token.split("~")[0] + "~")  # the issuer's own signed part
    kept = set(sdjwt.disclosures(token))
    assert {"holder_name", "certificate_no", "birth_date", "sex"} <= kept
    assert not kept & {"holder_id", "mother_id", "father_id"}
    verdict = verify.verify_token(
        token,
        trust=trust_of(db, keys, settings),
        status=None,
        now=LATER,
        presentation_ttl_seconds=settings.certificates.presentation_ttl_seconds,
    )
    assert verdict.code == "valid" and set(verdict.claims) == kept
    # The PDF prints every field and embeds the whole token.
    made = wallet.certificate_pdf(
        db, actor=world.citizen(world.wife), settings=settings, number=held.birth.number, now=LATER
    )
    assert pdf.extract_token(made.content) == held.birth.token


def test_a_presentation_qr_decodes_to_a_valid_presentation_without_the_undisclosed_values(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    shown = wallet.present_certificate(
        db,
        actor=world.citizen(world.wife),
        keys=keys,
        settings=settings,
        number=held.proof.number,
        fields=["holder_name", "result"],
        audience=None,
        now=LATER,
    )
    read = decode_qr(qr.png(shown.qr_payload, scale=3))
    assert read == shown.qr_payload and read.startswith(f"{settings.web.public_url}/verify#")
    decoded = decode_everything(read)
    assert world.wife.resident_id not in decoded and "林晓雯" in decoded
    verdict = verify_presentation(db, keys, settings, verify.extract_token(read), now=LATER)
    assert verdict.code == "valid" and set(verdict.claims) == {"holder_name", "result"}
