"""The certificate PDF: Chinese text that extracts, an embedded subset font, the token embedded and read back,
and a printed QR that scans to a certificate that verifies."""

from __future__ import annotations

import dataclasses
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from fpdf import FPDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from tests.certificates.credentials import HOLDER, NOW, PUBLIC_URL, Deployment, issue, make_deployment
from zerotrip.certificates import pdf, pdf_font, qr, verify
from zerotrip.certificates.pdf import CertificatePdfView, extract_token, render_certificate_pdf

NUMBER = "1.2.156.3005.2.11330000002500031X001.11330100MB1A2B3C4D.482915038271.001.K"
ISSUER = "杭州市规划和自然资源局"
FIELDS = [
    ("公民身份号码", HOLDER),
    ("查询结果", "无不动产登记记录"),
    ("查询范围", "浙江省全省不动产登记信息（含杭州市、宁波市、温州市等 11 个设区市）"),
    ("查询日期", "2026-11-28"),
]
CLAIMS = {
    "holder_name": "王小明",
    "holder_id": HOLDER,
    "result": "无不动产登记记录",
    "scope": "浙江省全省不动产登记信息（含杭州市、宁波市、温州市等 11 个设区市）",
    "checked_on": "2026-11-28",
}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    return make_deployment(tmp_path_factory.mktemp("keys"), "ES256")


@pytest.fixture(scope="module")
def view(deployment: Deployment) -> CertificatePdfView:
    token = issue(deployment, fields=CLAIMS, number=NUMBER, exp=NOW + timedelta(days=30))
    return CertificatePdfView(
        type_name="无房证明",
        type_name_en="Proof of holding no real estate",
        number=NUMBER,
        issuer_name=ISSUER,
        holder_name="王小明",
        fields=FIELDS,
        issued_at=NOW,
        valid_from=NOW,
        valid_until=NOW + timedelta(days=30),
        token=token,
        qr_data=qr.qr_payload(PUBLIC_URL, token),
    )


@pytest.fixture(scope="module")
def rendered(view: CertificatePdfView) -> bytes:
    return render_certificate_pdf(view)


def page_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def embedded_fonts(data: bytes) -> list[tuple[str, TTFont]]:
    """(BaseFont, the embedded font program) of every embedded TrueType font on the first page."""
    found = []
    fonts = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        for descendant in font.get("/DescendantFonts", []):
            descriptor = descendant.get_object()["/FontDescriptor"].get_object()
            if "/FontFile2" in descriptor:
                program = descriptor["/FontFile2"].get_object().get_data()
                found.append((str(font["/BaseFont"]), TTFont(io.BytesIO(program))))
    return found


def test_the_text_extracts_in_chinese(rendered: bytes) -> None:
    [text] = page_text(rendered)
    for expected in (
        "无房证明",
        "Proof of holding no real estate",
        "王小明",
        ISSUER,
        NUMBER,
        *(label for label, _ in FIELDS),
        "无不动产登记记录",
        HOLDER,
        "持证人",
        "Holder",
        "发证机关",
        "Issuing authority",
        "证照编号",
        "有效期限",
        "2026年11月29日 至 2026年12月29日",
        f"{PUBLIC_URL}/verify",
    ):
        assert expected in text, expected


def test_the_cjk_font_is_embedded_as_a_small_subset_with_every_character(rendered: bytes) -> None:
    [text] = page_text(rendered)
    [(name, font)] = embedded_fonts(rendered)
    assert name.startswith("/MPDFAA+")
    assert font["maxp"].numGlyphs < 400  # the face has about 27,000
    cmap = font.getBestCmap()
    chinese = {c for c in text if "\u4e00" <= c <= "\u9fff"}
    assert len(chinese) > 40
    assert chinese <= {chr(cp) for cp in cmap}


def test_the_token_is_embedded_and_reads_back(view: CertificatePdfView, rendered: bytes) -> None:
    assert extract_token(rendered) == view.token
    [attachment] = PdfReader(io.BytesIO(rendered)).attachments[pdf.EMBEDDED_NAME]
    assert attachment.decode("ascii") == view.token


def test_the_printed_qr_scans_to_a_certificate_that_verifies(
    view: CertificatePdfView, rendered: bytes, deployment: Deployment
) -> None:
    document = pypdfium2.PdfDocument(rendered)
    try:
        image = document[0].render(scale=150 / 72).to_pil()  # a 150 dpi scan of the printed page
    finally:
        document.close()
    [result] = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert result.text == view.qr_data
    # Bottom right of the page, as a reader expects it.
    assert result.position.top_left.x > image.width / 2
    assert result.position.top_left.y > image.height * 2 / 3
    verdict = verify.verify_token(
        verify.extract_token(result.text),
        trust=deployment.trust,
        status=None,
        now=NOW,
        presentation_ttl_seconds=300,
    )
    assert verdict.code == "valid"
    assert verdict.claims["holder_name"] == "王小明"


def test_the_same_certificate_renders_to_the_same_bytes(view: CertificatePdfView, rendered: bytes) -> None:
    assert render_certificate_pdf(view) == rendered
    info = PdfReader(io.BytesIO(rendered)).metadata
    assert info is not None
    assert info.title == f"无房证明 {NUMBER}"
    assert info.author == ISSUER


def test_extract_token_is_none_without_a_certificate() -> None:
    plain = FPDF()
    plain.add_page()
    assert extract_token(bytes(plain.output())) is None
    assert extract_token(b"%PDF-1.7 this is not a PDF") is None
    assert extract_token(b"") is None
    other = FPDF()
    other.add_page()
    other.embed_file(bytes="é".encode("latin-1") * 10, basename=pdf.EMBEDDED_NAME)
    assert extract_token(bytes(other.output())) is None


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(position=st.floats(0, 1), junk=st.binary(min_size=1, max_size=16))
def test_extract_token_never_fails_on_a_damaged_pdf(rendered: bytes, position: float, junk: bytes) -> None:
    # A damaged token is the verifier's to reject (bad signature, malformed); reading never raises.
    at = int(position * (len(rendered) - 1))
    for data in (rendered[:at] + junk + rendered[at + len(junk) :], rendered[:at]):
        found = extract_token(data)
        assert found is None or (found.isascii() and found.strip() == found and len(found) > 0)


def test_a_certificate_without_expiry_says_it_is_valid_until_revoked(view: CertificatePdfView) -> None:
    [text] = page_text(render_certificate_pdf(dataclasses.replace(view, valid_until=None)))
    assert "2026年11月29日起长期有效" in text


def test_a_long_certificate_continues_on_a_second_page(view: CertificatePdfView) -> None:
    fields = [
        (f"经营范围第{i}项", "技术开发、技术咨询、技术服务；软件开发；信息系统集成服务。" * 3)
        for i in range(12)
    ]
    data = render_certificate_pdf(dataclasses.replace(view, fields=fields))
    pages = page_text(data)
    assert len(pages) >= 2
    assert "无房证明（续）" in pages[1]
    text = "".join(pages)
    for label, _ in fields:
        assert label in text
    assert NUMBER in text
    assert extract_token(data) == view.token


def test_a_token_too_long_for_a_qr_code_is_refused(view: CertificatePdfView, deployment: Deployment) -> None:
    # Ten disclosures, some of them long: about 3,000 characters, more than one QR code holds.
    token = issue(deployment)
    with pytest.raises(qr.QrPayloadTooLong, match="at most 2953"):
        render_certificate_pdf(
            dataclasses.replace(view, token=token, qr_data=qr.qr_payload(PUBLIC_URL, token))
        )


def test_a_character_the_font_lacks_is_logged(
    view: CertificatePdfView, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="zerotrip.certificates.pdf"):
        data = render_certificate_pdf(dataclasses.replace(view, holder_name="王小明\U0001f600"))
    assert "\U0001f600" in caplog.text
    assert "王小明" in page_text(data)[0]


def test_pdfs_render_side_by_side_in_threads(view: CertificatePdfView) -> None:
    names = ["林晓彤", "欧阳振华", "司马相如", "诸葛明远", "上官婉儿", "赵钱孙李"]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(
            pool.map(lambda n: render_certificate_pdf(dataclasses.replace(view, holder_name=n)), names)
        )
    for name, data in zip(names, results, strict=True):
        assert name in page_text(data)[0]


def test_the_font_is_the_configured_one_or_a_debian_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    default = pdf_font.resolve_font()
    assert default in pdf_font.DEBIAN_FONTS
    assert pdf_font.resolve_font(default) == default
    with pytest.raises(pdf_font.CertificateFontError, match="ZEROTRIP_CERTIFICATES__PDF_FONT"):
        pdf_font.resolve_font(tmp_path / "missing.ttf")
    monkeypatch.setattr(pdf_font, "DEBIAN_FONTS", (tmp_path / "none.ttc",))
    with pytest.raises(pdf_font.CertificateFontError, match=r"apt-get install fonts-arphic-uming"):
        pdf_font.resolve_font()


def test_a_cff_font_is_refused_with_the_reason(view: CertificatePdfView) -> None:
    # scripts/ensure-chromium installs fonts-noto-cjk for the browser tests, so it is always here in CI.
    noto = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
    assert noto.is_file(), "fonts-noto-cjk is missing: run scripts/ensure-chromium"
    with pytest.raises(pdf_font.CertificateFontError, match="CFF outlines"):
        render_certificate_pdf(view, font_path=noto)


def test_the_verify_line_without_a_url_says_to_hand_the_file_over(view: CertificatePdfView) -> None:
    [text] = page_text(render_certificate_pdf(dataclasses.replace(view, qr_data=view.token)))
    assert "交验证方" in text
    assert "/verify" not in text
