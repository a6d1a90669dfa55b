"""QR codes for certificates: the payload a certificate's QR carries, and the code as SVG or PNG.

The payload is ``{public_url}/verify#{token}`` (docs/certificates.md): a phone's camera opens the public
verify page, the token stays in the fragment so it never reaches a server log, and every verifier accepts
this URL or the bare token.

An issued SD-JWT is long (about 2,000 characters with every disclosure), so the error-correction level is
chosen by length: the most robust level at which the payload fits in a version-25 symbol (117 modules, easy
to read from a phone screen or a printed page), and above that level L, the smallest symbol, whose modules
come out largest at a given printed size. A realistic certificate payload is a version 31–34 symbol at L.
Pure: no database, no settings.
"""

from __future__ import annotations

import io

import segno

# (level, most bytes that fit in a version-25 symbol at that level in byte mode), most robust first.
_LEVELS_BY_LENGTH = (("H", 535), ("Q", 715), ("M", 997))
# Bytes that fit in the largest symbol (version 40) at level L in byte mode.
MAX_PAYLOAD_BYTES = 2953


class QrPayloadTooLong(ValueError):
    """The payload does not fit in one QR code at any version or level."""


def qr_payload(public_url: str, token: str) -> str:
    """What a certificate's QR holds: the public verify page with the token in the fragment."""
    return f"{public_url.rstrip('/')}/verify#{token}"


def error_level(data: str) -> str:
    """The error-correction level for ``data``, by its length (the module docstring says why)."""
    size = len(data.encode("utf-8"))
    return next((level for level, most in _LEVELS_BY_LENGTH if size <= most), "L")


def make(data: str) -> segno.QRCode:
    """The QR code for ``data`` at the level its length allows. Raises QrPayloadTooLong."""
    try:
        return segno.make_qr(data, error=error_level(data), boost_error=False)
    except segno.DataOverflowError:
        raise QrPayloadTooLong(
            f"the QR payload has {len(data.encode('utf-8'))} bytes; one QR code holds at most"
            f" {MAX_PAYLOAD_BYTES} (version 40, level L)"
        ) from None


def svg(data: str) -> str:
    """An inline ``<svg>`` element for a web page: no XML declaration, no fixed size (it fills its
    container), black on white with the standard four-module quiet zone."""
    return str(
        make(data).svg_inline(
            scale=1, border=4, omitsize=True, dark="#000", light="#fff", svgclass="qr", lineclass=None
        )
    )


def png(data: str, *, scale: int) -> bytes:
    """A black-on-white PNG with ``scale`` pixels per module and the standard four-module quiet zone."""
    if scale < 1:
        raise ValueError("a QR PNG has at least one pixel per module")
    buffer = io.BytesIO()
    make(data).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
