"""Certificate QR codes: the agreed payload, a level chosen by length, and codes that scan back exactly."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.certificates.credentials import HOLDER, PUBLIC_URL, issue, make_deployment
from zerotrip.certificates import qr, verify

BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# A proof of holding no real estate (无房证明): the holder, their ID and the type's three fields.
NO_REAL_ESTATE = {
    "holder_name": "王小明",
    "holder_id": HOLDER,
    "result": "无不动产登记记录",
    "scope": "浙江省全省不动产登记信息",
    "checked_on": "2026-11-28",
}


def decode(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png))
    return [result.text for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real issued SD-JWT with every disclosure, as the PDF's QR carries it."""
    return issue(make_deployment(tmp_path_factory.mktemp("keys"), "ES256"), fields=NO_REAL_ESTATE)


def test_the_payload_is_the_public_verify_page_with_the_token_in_the_fragment(token: str) -> None:
    payload = qr.qr_payload(PUBLIC_URL + "/", token)
    assert payload == f"{PUBLIC_URL}/verify#{token}"
    # Every verifier takes the URL as well as the bare token.
    assert verify.extract_token(payload) == token


def test_a_real_certificate_payload_scans_back_exactly(token: str) -> None:
    payload = qr.qr_payload(PUBLIC_URL, token)
    assert 1800 < len(payload) < 2100
    code = qr.make(payload)
    assert code.error == "L"
    assert code.version <= 40
    assert decode(qr.png(payload, scale=3)) == [payload]


@pytest.mark.parametrize(
    ("size", "level"), [(20, "H"), (535, "H"), (536, "Q"), (715, "Q"), (716, "M"), (997, "M"), (998, "L")]
)
def test_the_level_is_the_most_robust_that_fits_version_25(size: int, level: str) -> None:
    code = qr.make("a" * size)
    assert code.error == level
    assert code.version <= 25 or level == "L"


def fits_version_25(data: str, level: str) -> bool:
    """Asked of the encoder directly: a version-25 symbol at ``level`` holding ``data``."""
    try:
        zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level=level, version=25)
    except ValueError:
        return False
    return True


@settings(max_examples=25, deadline=None)
@given(data=st.text(alphabet=BASE64URL + "~.", min_size=1, max_size=qr.MAX_PAYLOAD_BYTES))
def test_no_more_robust_level_would_fit_version_25(data: str) -> None:
    code = qr.make(data)
    assert code.version <= 25 or code.error == "L"
    more_robust = "HQML"[: "HQML".index(code.error)]
    for level in more_robust:
        assert not fits_version_25(data, level)
    assert decode(qr.png(data, scale=2)) == [data]


def test_digits_and_capitals_take_less_room_so_a_longer_payload_keeps_a_robust_level() -> None:
    # 1,200 digits are more bytes than version 25 holds at H in byte mode (535), but the encoder packs
    # three digits into ten bits, so they fit there at H.
    digits = "".join(str(i % 10) for i in range(1200))
    code = qr.make(digits)
    assert (code.error, code.version <= 25) == ("H", True)
    assert decode(qr.png(digits, scale=2)) == [digits]


def test_the_largest_payload_still_fits_and_scans() -> None:
    # Lower-case letters only go in byte mode (runs of capitals and digits take less room): the largest
    # symbol, full.
    payload = "".join(BASE64URL[26 + i % 26] for i in range(qr.MAX_PAYLOAD_BYTES))
    assert qr.make(payload).version == 40
    assert decode(qr.png(payload, scale=3)) == [payload]


def test_an_overlong_payload_is_a_clear_error_not_a_broken_code() -> None:
    with pytest.raises(qr.QrPayloadTooLong, match=r"2954 bytes; one QR code holds at most 2953"):
        qr.make("a" * (qr.MAX_PAYLOAD_BYTES + 1))
    with pytest.raises(qr.QrPayloadTooLong):
        qr.png("验" * 1000, scale=2)  # 3,000 bytes in UTF-8
    with pytest.raises(qr.QrPayloadTooLong):
        qr.svg("a" * 5000)


def test_svg_is_inline_and_scalable(token: str) -> None:
    payload = qr.qr_payload(PUBLIC_URL, token)
    svg = qr.svg(payload)
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert "<?xml" not in svg
    opening = svg[: svg.index(">")]
    assert "width=" not in opening and "height=" not in opening
    width = qr.make(payload).symbol_size(border=4)
    assert re.search(rf'viewBox="0 0 {width} {width}"', opening)
    assert 'fill="#fff"' in svg  # a white ground: the code also scans on a dark page


def test_png_scale_sets_pixels_per_module() -> None:
    payload = "https://zerotrip.example.gov.cn/verify#abc"
    modules = qr.make(payload).symbol_size(border=4)
    for scale in (1, 4):
        with Image.open(io.BytesIO(qr.png(payload, scale=scale))) as image:
            assert image.size == (modules * scale, modules * scale)
    with pytest.raises(ValueError, match="at least one pixel"):
        qr.png(payload, scale=0)


def test_the_svg_draws_the_symbol_that_scans(token: str) -> None:
    """The SVG's strokes, painted back module by module, make a code that decodes to the payload."""
    payload = qr.qr_payload(PUBLIC_URL, token)
    svg = qr.svg(payload)
    size = qr.make(payload).symbol_size()
    stroked = re.search(r'<path stroke="#000" d="([^"]*)"', svg)
    assert stroked is not None
    image = Image.new("L", (size, size), 255)
    runs = re.findall(r"M(\d+) (\d+)\.5h(\d+)", stroked.group(1))
    assert "".join(f"M{x} {y}.5h{n}" for x, y, n in runs) == stroked.group(1)  # nothing else is drawn
    for x, y, n in runs:
        for dx in range(int(n)):
            image.putpixel((int(x) + dx, int(y)), 0)
    buffer = io.BytesIO()
    image.resize((size * 3, size * 3), Image.Resampling.NEAREST).save(buffer, format="PNG")
    assert decode(buffer.getvalue()) == [payload]
