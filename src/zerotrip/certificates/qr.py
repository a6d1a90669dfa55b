"""QR codes for certificates: the payload a certificate's QR carries, and the code as SVG or PNG.

The payload is ``{public_url}/verify#{token}`` (docs/certificates.md): a phone's camera opens the public
verify page, the token stays in the fragment so it never reaches a server log, and every verifier accepts
this URL or the bare token.

An issued SD-JWT is long (about 2,000 characters with every disclosure), so the error-correction level is
chosen by length: the most robust level at which the payload fits in a version-25 symbol (117 modules, easy
to read from a phone screen or a printed page), and above that level L, the smallest symbol, whose modules
come out largest at a given printed size. A realistic certificate payload is a version 31–34 symbol at L.

The encoder is zxing-cpp's (Zint inside): compiled, it picks the segment modes that make the shortest bit
stream and scores all eight mask patterns as ISO/IEC 18004 requires, in about 5 ms for a certificate's
version-32 symbol, where a pure-Python encoder took over 100 ms. This module draws the symbol's modules
itself, as an SVG path and as a Pillow image (one pixel per module, for the PDF, or scaled for a PNG).
Pure: no database, no settings.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import zxingcpp
from PIL import Image

# (level, most bytes that fit in a version-25 symbol at that level in byte mode), most robust first. The
# encoder may mix in numeric and alphanumeric segments, which take less room: a longer payload of digits or
# capitals is tried at version 25 before a less robust level is taken.
_LEVELS_BY_LENGTH = (("H", 535), ("Q", 715), ("M", 997))
LARGEST_ROBUST_VERSION = 25
# Bytes that fit in the largest symbol (version 40) at level L in byte mode.
MAX_PAYLOAD_BYTES = 2953
QUIET_ZONE = 4  # modules of light margin on every side, as ISO/IEC 18004 asks
_DARK, _LIGHT = 0, 255  # an 8-bit grey image: black modules on white
_DARK_RUNS = re.compile(b"\x00+")


class QrPayloadTooLong(ValueError):
    """The payload does not fit in one QR code at any version or level."""


@dataclass(frozen=True)
class QrCode:
    """One QR symbol: its version (1–40), error-correction level and modules, row by row, one byte each
    (0 dark, 255 light), without the quiet zone."""

    version: int
    error: str
    modules: bytes

    @property
    def width(self) -> int:
        """Modules on a side, without the quiet zone."""
        return 17 + 4 * self.version

    def symbol_size(self, *, border: int = QUIET_ZONE) -> int:
        """Modules on a side with a ``border``-module quiet zone."""
        return self.width + 2 * border

    def rows(self) -> list[bytes]:
        width = self.width
        return [self.modules[y * width : (y + 1) * width] for y in range(width)]

    def image(self, *, scale: int = 1) -> Image.Image:
        """A black-on-white 1-bit image with ``scale`` pixels per module and the standard quiet zone."""
        if scale < 1:
            raise ValueError("a QR PNG has at least one pixel per module")
        size = self.symbol_size()
        grey = Image.new("L", (size, size), _LIGHT)
        grey.paste(Image.frombytes("L", (self.width, self.width), self.modules), (QUIET_ZONE, QUIET_ZONE))
        if scale > 1:
            grey = grey.resize((size * scale, size * scale), Image.Resampling.NEAREST)
        return grey.convert("1", dither=Image.Dither.NONE)

    def png(self, *, scale: int) -> bytes:
        buffer = io.BytesIO()
        self.image(scale=scale).save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()

    def svg(self) -> str:
        """An inline ``<svg>`` element: one module per user unit with the standard quiet zone, a white
        ground, and each row's runs of dark modules drawn as one-unit-wide strokes."""
        size = self.symbol_size()
        runs = [
            f"M{QUIET_ZONE + run.start()} {QUIET_ZONE + y}.5h{run.end() - run.start()}"
            for y, row in enumerate(self.rows())
            for run in _DARK_RUNS.finditer(row)
        ]
        return (
            f'<svg viewBox="0 0 {size} {size}" class="qr">'
            f'<path fill="#fff" d="M0 0h{size}v{size}h-{size}z"/>'
            f'<path stroke="#000" d="{"".join(runs)}"/></svg>'
        )


def qr_payload(public_url: str, token: str) -> str:
    """What a certificate's QR holds: the public verify page with the token in the fragment."""
    return f"{public_url.rstrip('/')}/verify#{token}"


def make(data: str) -> QrCode:
    """The QR code for ``data``: the smallest symbol at the most robust level whose symbol is version 25
    or less, else at level L. Raises QrPayloadTooLong."""
    size = len(data.encode("utf-8"))
    for level, most in _LEVELS_BY_LENGTH:
        if size <= most or _fits(data, level, version=LARGEST_ROBUST_VERSION):
            code = _encode(data, level)
            if code.version <= LARGEST_ROBUST_VERSION:
                return code
    try:
        return _encode(data, "L")
    except ValueError as error:
        if "too long" not in str(error).lower():
            raise
        raise QrPayloadTooLong(
            f"the QR payload has {size} bytes; one QR code holds at most {MAX_PAYLOAD_BYTES}"
            " (version 40, level L)"
        ) from None


def _fits(data: str, level: str, *, version: int) -> bool:
    """Whether ``data`` fits in a symbol of ``version`` at ``level`` (a payload that does not fails
    before any mask is scored, in a fraction of a millisecond)."""
    try:
        zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level=level, version=version)
    except ValueError:
        return False
    return True


def _encode(data: str, level: str) -> QrCode:
    """The smallest symbol for ``data`` at ``level``. Raises ValueError (from the encoder) when none is
    large enough."""
    barcode = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level=level)
    # The encoder ignores options it does not know: check it did as asked rather than trust a name.
    if barcode.ec_level != level:
        raise RuntimeError(f"zxing-cpp made a level-{barcode.ec_level} QR code where {level} was asked for")
    # An 8-bit grey image that exposes the buffer protocol (its type stubs do not say so).
    modules = memoryview(barcode.to_image(scale=1, add_quiet_zones=False))  # type: ignore[arg-type]
    width = modules.shape[0] if modules.shape else 0
    if modules.shape != (width, width) or (width - 17) % 4 or not 21 <= width <= 177:
        raise RuntimeError(f"zxing-cpp made a QR image of shape {modules.shape}")
    return QrCode(version=(width - 17) // 4, error=level, modules=modules.tobytes())


def svg(data: str) -> str:
    """An inline ``<svg>`` element for a web page: no XML declaration, no fixed size (it fills its
    container), black on white with the standard four-module quiet zone."""
    return make(data).svg()


def png(data: str, *, scale: int) -> bytes:
    """A black-on-white PNG with ``scale`` pixels per module and the standard four-module quiet zone."""
    if scale < 1:
        raise ValueError("a QR PNG has at least one pixel per module")
    return make(data).png(scale=scale)
