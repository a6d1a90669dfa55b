"""The certificate PDF: one A4 page per certificate, Chinese text in an embedded CJK font, a vector QR code,
and the issued token embedded as ``certificate.sd-jwt`` so that uploading the PDF verifies it.

Rendering takes a plain view-model (``CertificatePdfView``), never an ORM row: whoever shows a certificate
builds the view from what it may disclose. Fixed labels are bilingual (Chinese, then English) whatever the
reader's locale, because a PDF outlives the session that printed it.

The font (``pdf_font.py``): a CJK font with TrueType outlines, parsed once per process; each PDF embeds a
small font built from the glyphs its text uses. A PDF takes about 50 ms of CPU, its QR code included
(docs/performance.md).

Pure: no database, no settings (the caller passes the configured font path).
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import TextMode, XPos, YPos
from fpdf.fonts import TTFFont
from pypdf import PdfReader

from zerotrip.certificates import pdf_font, qr
from zerotrip.common import clock

log = logging.getLogger(__name__)

EMBEDDED_NAME = "certificate.sd-jwt"
EMBEDDED_MIME = "application/dc+sd-jwt"
# A token longer than this is not a certificate (an issued SD-JWT is a few kilobytes).
MAX_TOKEN_BYTES = 64 * 1024


@dataclass(frozen=True)
class CertificatePdfView:
    """What a certificate PDF shows. ``fields`` are (label, value) pairs in display order, already
    filtered to what may be printed; ``qr_data`` is what the QR holds (``qr.qr_payload``)."""

    type_name: str
    type_name_en: str
    number: str
    issuer_name: str
    holder_name: str
    fields: Sequence[tuple[str, str]]
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    token: str
    qr_data: str

    @property
    def verify_url(self) -> str | None:
        """The public verify page, when the QR holds a ``…/verify#<token>`` URL."""
        page, hash_mark, _ = self.qr_data.partition("#")
        return page if hash_mark and page.startswith(("https://", "http://")) else None


# -- the page ---------------------------------------------------------------------------------------------

_RED = (150, 28, 28)
_INK = (20, 20, 20)
_GREY = (95, 95, 95)
_RULE = (165, 165, 165)
_LABEL_FILL = (248, 244, 236)

_PAGE_W, _PAGE_H = 210.0, 297.0
_LEFT, _RIGHT = 22.0, 188.0
_LABEL_W = 46.0
_PT = 25.4 / 72  # millimetres per point
_QR_SIZE = 56.0
_QR_X, _QR_Y = _RIGHT - _QR_SIZE + 2.5, 213.0
_TABLE_BOTTOM = 206.0  # the table ends above this; the issuer, the QR and how to verify sit below
_PAGE_BOTTOM = 276.0  # where a page without the bottom block ends its table

# Fixed text: bilingual whatever the reader's locale.
_BANNER = "电子证照"
_HOLDER = ("持证人", "Holder")
_NUMBER = ("证照编号", "Certificate number")
_ISSUER = ("发证机关", "Issuing authority")
_ISSUED = ("签发日期", "Date of issue")
_VALIDITY = ("有效期限", "Validity")
_CONTINUED = "（续）"
_UNTIL_REVOKED = "起长期有效"
_FROM_TO = "至"
_SCAN = ("扫码核验", "Scan to verify")
_VERIFY_ZH = "核验方法：用手机扫描右侧二维码，或在 {url} 上传本 PDF 文件，即可核验证照真伪及当前状态。"
_VERIFY_ZH_OFFLINE = "核验方法：用手机扫描右侧二维码，或将本 PDF 文件交验证方，即可核验证照真伪及当前状态。"
_VERIFY_EN = "To check this certificate and its current status, scan the QR code or upload this PDF at {url}."
_VERIFY_EN_OFFLINE = (
    "To check this certificate and its status, scan the QR code or hand this PDF to a verifier."
)
_EMBEDDED_ZH = "本文件内嵌发证机关签名的电子证照数据（{name}）。"
_EMBEDDED_EN = "The certificate as signed by the issuing authority is embedded in this file ({name})."
_DATE = "{y}年{m}月{d}日"
_FIXED_TEXT = "".join(
    (_BANNER, *_HOLDER, *_NUMBER, *_ISSUER, *_ISSUED, *_VALIDITY, _CONTINUED, _UNTIL_REVOKED, _FROM_TO)
) + "".join((*_SCAN, _VERIFY_ZH, _VERIFY_ZH_OFFLINE, _EMBEDDED_ZH, _DATE, "0123456789"))


@dataclass(frozen=True)
class _Row:
    label: str
    label_en: str
    value: str
    style: str = ""  # "holder": larger and bold; "number": one line, shrunk to fit


@dataclass(frozen=True)
class _Content:
    """Every string the page shows, worked out before drawing: the embedded font is built from them."""

    title: str
    title_en: str
    rows: tuple[_Row, ...]
    issuer: str
    issued: str
    notes: tuple[str, ...]  # how to verify: Chinese, English, then what the file carries

    @classmethod
    def of(cls, view: CertificatePdfView) -> _Content:
        url = view.verify_url
        if view.valid_until is None:
            validity = f"{_date(view.valid_from)}{_UNTIL_REVOKED}"
        else:
            validity = f"{_date(view.valid_from)} {_FROM_TO} {_date(view.valid_until)}"
        return cls(
            title=view.type_name,
            title_en=view.type_name_en,
            rows=(
                _Row(*_HOLDER, view.holder_name, "holder"),
                *(_Row(label, "", value) for label, value in view.fields),
                _Row(*_NUMBER, view.number, "number"),
                _Row(*_ISSUER, view.issuer_name),
                _Row(*_ISSUED, _date(view.issued_at)),
                _Row(*_VALIDITY, validity),
            ),
            issuer=view.issuer_name,
            issued=_date(view.issued_at),
            notes=(
                _VERIFY_ZH.format(url=url) if url else _VERIFY_ZH_OFFLINE,
                _VERIFY_EN.format(url=url) if url else _VERIFY_EN_OFFLINE,
                _EMBEDDED_ZH.format(name=EMBEDDED_NAME),
                _EMBEDDED_EN.format(name=EMBEDDED_NAME),
            ),
        )

    def text(self) -> str:
        rows = "".join(row.label + row.label_en + row.value for row in self.rows)
        return (
            _FIXED_TEXT + self.title + self.title_en + rows + self.issuer + self.issued + "".join(self.notes)
        )


def _date(at: datetime) -> str:
    local = at.astimezone(clock.CHINA)
    return _DATE.format(y=local.year, m=local.month, d=local.day)


def _is_latin(text: str) -> bool:
    """Text the PDF's built-in Times can set: proportional Latin reads better than the CJK face's."""
    return all(" " <= c <= "~" or "\xa0" <= c <= "\xff" for c in text)


class _CertificatePage(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(_LEFT, 20, _PAGE_W - _RIGHT)
        self.c_margin = 0

    def frame(self) -> None:
        """A new page inside the certificate's double rule."""
        self.add_page()
        self.set_draw_color(*_RED)
        self.set_line_width(0.7)
        self.rect(10, 10, _PAGE_W - 20, _PAGE_H - 20)
        self.set_line_width(0.2)
        self.rect(12.2, 12.2, _PAGE_W - 24.4, _PAGE_H - 24.4)

    def use(self, text: str, size: float, *, bold: bool = False) -> None:
        """Times for Latin-only text, the embedded CJK face for anything else."""
        if _is_latin(text):
            self.set_font("Times", style="B" if bold else "", size=size)
        else:
            self.set_font("cjk", size=size)

    def bold(self, text: str, on: bool) -> Any:
        """The CJK face has one weight: bold is faked by stroking the glyphs as well as filling them."""
        if not on or _is_latin(text):
            return self.local_context()
        return self.local_context(text_mode=TextMode.FILL_STROKE, line_width=0.16, draw_color=self.text_color)

    def width(self, text: str, size: float, spacing: float = 0.0) -> float:
        self.use(text, size)
        return self.get_string_width(text) + spacing * _PT * max(len(text) - 1, 0)

    def fit(self, text: str, size: float, width: float, minimum: float) -> float:
        """The largest size up to ``size`` at which ``text`` fits in one line of ``width``."""
        while size > minimum and self.width(text, size) > width:
            size -= 0.25
        return size

    def centred(self, text: str, *, y: float, size: float, spacing: float = 0.0, bold: bool = False) -> None:
        """One line centred on the page with ``spacing`` points between characters, shrunk to fit."""
        while size > 6 and self.width(text, size, spacing) > _RIGHT - _LEFT:
            size, spacing = size - 0.5, spacing * 0.8
        width = self.width(text, size, spacing)
        self.use(text, size, bold=bold)
        # fpdf2 adds the spacing after every character, the last one too: centre on the visible width.
        self.set_char_spacing(spacing)
        with self.bold(text, bold):
            self.text((_PAGE_W - width) / 2, y, text)
        self.set_char_spacing(0)

    def lines(self, text: str, width: float, size: float) -> list[str]:
        self.use(text, size)
        lines = self.multi_cell(width, text=text, dry_run=True, output="LINES")
        assert isinstance(lines, list)
        return [str(line) for line in lines]


def _draw_header(page: _CertificatePage, content: _Content, *, continued: bool) -> float:
    """The banner, the title, its English name and a double red rule; returns where the table starts."""
    page.set_text_color(*_GREY)
    page.centred(_BANNER, y=24, size=9, spacing=6)
    title = content.title + (_CONTINUED if continued else "")
    spacing = 12.0 if len(title) <= 4 else 6.0 if len(title) <= 7 else 1.0
    page.set_text_color(*_INK)
    page.centred(title, y=38.5, size=26, spacing=spacing, bold=True)
    page.set_text_color(*_GREY)
    page.centred(content.title_en, y=47, size=11.5, spacing=0.6)
    page.set_draw_color(*_RED)
    page.set_line_width(0.5)
    page.line(_LEFT, 52.0, _RIGHT, 52.0)
    page.set_line_width(0.15)
    page.line(_LEFT, 53.1, _RIGHT, 53.1)
    return 60.0


@dataclass(frozen=True)
class _Density:
    """Type sizes (points) and cell padding (mm) of the table; denser settings fit more fields on a page."""

    value: float
    label: float
    label_en: float
    holder: float
    pad: float


_DENSITIES = (
    _Density(value=11.5, label=11.0, label_en=7.5, holder=14.0, pad=2.5),
    _Density(value=10.5, label=10.0, label_en=7.0, holder=13.0, pad=1.7),
    _Density(value=9.5, label=9.0, label_en=6.5, holder=12.0, pad=1.1),
)


@dataclass(frozen=True)
class _Cell:
    """One row laid out: its label lines (the English may share the Chinese line), value lines, height."""

    row: _Row
    label_lines: list[str]
    english_inline: bool
    value_size: float
    value_lines: list[str]
    line_height: float
    height: float


def _lay_out(page: _CertificatePage, rows: Sequence[_Row], density: _Density) -> list[_Cell]:
    value_w = _RIGHT - _LEFT - _LABEL_W - 2 * density.pad
    label_w = _LABEL_W - 2 * density.pad
    cells = []
    for row in rows:
        if row.style == "number":  # one line: a number broken across lines does not copy back whole
            size = page.fit(row.value, density.value, value_w, 6.0)
            value_lines = [row.value]
        else:
            size = density.holder if row.style == "holder" else density.value
            value_lines = page.lines(row.value, value_w, size) or [""]
        label_lines = page.lines(row.label, label_w, density.label)
        english_inline = (
            bool(row.label_en)
            and len(label_lines) == 1
            and (
                page.width(row.label, density.label) + 2.0 + page.width(row.label_en, density.label_en)
                <= label_w
            )
        )
        label_h = (
            (len(label_lines) + (1 if row.label_en and not english_inline else 0))
            * density.label
            * _PT
            * 1.45
        )
        line_h = size * _PT * 1.45
        height = max(len(value_lines) * line_h, label_h) + 2 * density.pad + 0.8
        cells.append(_Cell(row, label_lines, english_inline, size, value_lines, line_h, height))
    return cells


def _draw_table(page: _CertificatePage, content: _Content) -> None:
    """One row per field, the label on a tinted ground. The first density at which the table fits above the
    bottom block is used; when none does, full pages of rows come first and the last page ends with at
    least one row above the bottom block."""
    top = _draw_header(page, content, continued=False)
    for density in _DENSITIES:
        cells = _lay_out(page, content.rows, density)
        if top + sum(cell.height for cell in cells) <= _TABLE_BOTTOM:
            break
    y = top
    for i, cell in enumerate(cells):
        rest = sum(c.height for c in cells[i:])
        if y + rest > _TABLE_BOTTOM and (y + cell.height > _PAGE_BOTTOM or i == len(cells) - 1):
            page.frame()
            y = _draw_header(page, content, continued=True)
        _draw_cell(page, cell, density, y)
        y += cell.height


def _draw_cell(page: _CertificatePage, cell: _Cell, density: _Density, y: float) -> None:
    value_x = _LEFT + _LABEL_W
    page.set_draw_color(*_RULE)
    page.set_line_width(0.2)
    page.set_fill_color(*_LABEL_FILL)
    page.rect(_LEFT, y, _LABEL_W, cell.height, style="DF")
    page.rect(value_x, y, _RIGHT - value_x, cell.height)

    row = cell.row
    label_h = density.label * _PT * 1.45
    lines = len(cell.label_lines) + (1 if row.label_en and not cell.english_inline else 0)
    baseline = y + (cell.height - lines * label_h) / 2 + label_h * 0.72
    page.set_text_color(*_INK)
    for line in cell.label_lines:
        page.use(line, density.label)
        page.text(_LEFT + density.pad, baseline, line)
        baseline += label_h
    if row.label_en:
        page.set_text_color(*_GREY)
        if cell.english_inline:
            x = _LEFT + density.pad + page.width(cell.label_lines[0], density.label) + 2.0
            page.use(row.label_en, density.label_en)
            page.text(x, baseline - label_h, row.label_en)
        else:
            page.use(row.label_en, density.label_en)
            page.text(_LEFT + density.pad, baseline - label_h * 0.25, row.label_en)

    page.set_text_color(*_INK)
    bold = row.style == "holder"
    baseline = y + (cell.height - len(cell.value_lines) * cell.line_height) / 2 + cell.line_height * 0.72
    with page.bold(row.value, bold):
        for line in cell.value_lines:
            page.use(line, cell.value_size, bold=bold)
            page.text(value_x + density.pad, baseline, line)
            baseline += cell.line_height


def _draw_bottom(page: _CertificatePage, content: _Content, code: qr.QrCode) -> None:
    """The QR at the bottom right, the issuer and date beside it, and how to verify below them."""
    # One pixel per module (quiet zone included): PDF viewers scale images without smoothing unless
    # asked to, so the modules stay sharp at any zoom and printer resolution.
    page.image(code.image(scale=1), x=_QR_X, y=_QR_Y, w=_QR_SIZE, h=_QR_SIZE)
    page.set_text_color(*_GREY)
    for text, size, y in ((_SCAN[0], 8.0, _QR_Y + _QR_SIZE + 3.2), (_SCAN[1], 7.5, _QR_Y + _QR_SIZE + 6.6)):
        page.text(_QR_X + (_QR_SIZE - page.width(text, size)) / 2, y, text)

    right = _QR_X - 8.0
    page.set_text_color(*_INK)
    size = page.fit(content.issuer, 14.0, right - _LEFT, 8.0)
    page.text(right - page.width(content.issuer, size), 229.0, content.issuer)
    page.text(right - page.width(content.issued, 12.0), 238.0, content.issued)

    page.set_draw_color(*_RULE)
    page.set_line_width(0.15)
    page.line(_LEFT, 246.0, right, 246.0)
    page.set_text_color(*_GREY)
    y = 249.0
    for text in content.notes:
        size = 7.5 if _is_latin(text) else 8.0
        page.use(text, size)
        page.set_xy(_LEFT, y)
        page.multi_cell(
            right - _LEFT, size * _PT * 1.45, text=text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        y = page.get_y() + 1.0


def render_certificate_pdf(view: CertificatePdfView, *, font_path: Path | None = None) -> bytes:
    """The certificate as a PDF, the token embedded as ``certificate.sd-jwt``.

    ``font_path`` is ``certificates.pdf_font`` (None: Debian's fonts). Raises pdf_font.CertificateFontError
    when no usable font is installed and qr.QrPayloadTooLong when ``view.qr_data`` does not fit in a QR
    code.
    """
    face = pdf_font.face(pdf_font.resolve_font(font_path))
    code = qr.make(view.qr_data)  # first: a payload too long for a QR code fails before any other work
    content = _Content.of(view)
    text = content.text()
    missing = sorted({c for c in text if not face.covers(c) and not c.isspace()})
    if missing:
        # The QR and the embedded token carry the exact text; the page leaves these characters out.
        log.warning("the certificate font %s has no glyph for %s", face.path, "".join(missing))
    page = _CertificatePage()
    page.set_title(f"{view.type_name} {view.number}")
    page.set_subject(view.type_name_en)
    page.set_author(view.issuer_name)
    page.set_creator("zerotrip")
    page.set_lang("zh-CN")
    page.set_creation_date(view.issued_at)  # the same certificate renders to the same bytes
    with tempfile.TemporaryDirectory(prefix="zerotrip-pdf-") as directory:
        font_file = Path(directory) / "cjk.ttf"
        font_file.write_bytes(face.subset(text))
        page.add_font("cjk", fname=font_file)
        # The subset's outlines and boxes are the face's own, already compiled: saving them as they are
        # instead of decompiling and recompiling every glyph halves the time to write the PDF.
        font = page.fonts["cjk"]
        assert isinstance(font, TTFFont)
        font.ttfont.recalcBBoxes = False
        page.frame()
        _draw_table(page, content)
        _draw_bottom(page, content, code)
        page.embed_file(
            bytes=view.token.encode("utf-8"),
            basename=EMBEDDED_NAME,
            desc="SD-JWT VC as issued (docs/certificates.md)",
            mime_type=EMBEDDED_MIME,
            creation_date=view.issued_at,
            modification_date=view.issued_at,
        )
        return bytes(page.output())


# -- reading the token back -------------------------------------------------------------------------------


def extract_token(data: bytes) -> str | None:
    """The token a certificate PDF carries (the ``certificate.sd-jwt`` attachment), or None when ``data``
    is not a readable PDF or holds no such attachment. Parses untrusted input: callers bound its size."""
    try:
        contents = PdfReader(io.BytesIO(data)).attachments.get(EMBEDDED_NAME)
    except Exception:  # whatever breaks the parser: an upload that is no readable PDF carries no token
        return None
    if not contents:
        return None
    raw = contents[0]
    if len(raw) > MAX_TOKEN_BYTES:
        return None
    try:
        token = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    return token or None
