"""The certificate PDF's font: a CJK face with TrueType outlines, parsed once per process, and the small
font each PDF embeds, subset to the glyphs its text uses (so the file stays small and text extraction returns
the Chinese characters).

By default Debian's ``fonts-arphic-uming`` (AR PL UMing, a Ming face like the 宋体 of official documents);
``certificates.pdf_font`` names another. CFF-outline fonts (Noto CJK) are refused: fpdf2 embeds them, but
subsetting their 65,000 CFF glyphs costs over a second per PDF and pypdf reads their text back with NULs.

Pure: no database, no settings (the caller passes the configured font path).
"""

from __future__ import annotations

import copy
import functools
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped]
from fontTools.misc import sstruct  # type: ignore[import-untyped]
from fontTools.ttLib import TTCollection, TTFont, newTable  # type: ignore[import-untyped]
from fontTools.ttLib.tables._g_l_y_f import Glyph  # type: ignore[import-untyped]
from fontTools.ttLib.tables._p_o_s_t import postFormat, postFormatSize  # type: ignore[import-untyped]

# Debian's package for the default font, and the TrueType CJK fonts looked for when none is configured.
FONT_PACKAGE = "fonts-arphic-uming"
DEBIAN_FONTS = (
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),  # fonts-arphic-uming: AR PL UMing (明体)
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei: WenQuanYi Zen Hei (黑体)
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei
    Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),  # fonts-arphic-ukai: AR PL UKai (楷体)
)


class CertificateFontError(RuntimeError):
    """No usable CJK font: the message names the setting or the Debian package that fixes it."""


def resolve_font(configured: Path | None = None) -> Path:
    """The font file to embed: the configured one, or the first Debian CJK TrueType font installed.
    Raises CertificateFontError naming what to install or set."""
    if configured is not None:
        if not configured.is_file():
            raise CertificateFontError(
                f"ZEROTRIP_CERTIFICATES__PDF_FONT names {configured}, which is not a file"
            )
        return configured
    for path in DEBIAN_FONTS:
        if path.is_file():
            return path
    raise CertificateFontError(
        "certificate PDFs need a CJK TrueType font and none is installed: install Debian's"
        f" {FONT_PACKAGE} (apt-get install {FONT_PACKAGE}) or set ZEROTRIP_CERTIFICATES__PDF_FONT"
        " to a .ttf/.ttc font with TrueType outlines"
    )


class Face:
    """One parsed CJK face, shared by every PDF this process renders; ``subset`` builds the small font one
    PDF embeds. Nothing here changes after construction, so threads may share a face.

    Parsing reads only what subsets need: the character map, the advance widths, the header tables and
    the outlines as one block of compiled bytes with their offsets. The glyphs are named by their index
    (``g1234``) instead of by the face's own names, so its 27,000 PostScript names are never decoded, and
    no outline is parsed until a PDF shows it: about 0.1 s and 28 MB for AR PL UMing instead of 0.25 s
    and 63 MB with every glyph and name decoded (docs/performance.md)."""

    def __init__(self, path: Path) -> None:
        index = _chinese_face_index(path)
        font = TTFont(path, fontNumber=index, recalcTimestamp=False, lazy=True)
        try:
            if "glyf" not in font:
                raise CertificateFontError(
                    f"{path} has CFF outlines; certificate PDFs need a font with TrueType outlines,"
                    f" such as Debian's {FONT_PACKAGE}"
                )
            if font["OS/2"].fsType & 0x0002:
                raise CertificateFontError(f"{path} does not permit embedding (OS/2 fsType)")
            self.path = path
            # Names by index, set before any table that names glyphs is read (the character map, the
            # metrics), so the face's own names are never decoded.
            self._order = [".notdef", *(f"g{i}" for i in range(1, font["maxp"].numGlyphs))]
            font.setGlyphOrder(self._order)
            self.cmap: dict[int, str] = font.getBestCmap()
            self._advances: dict[str, tuple[int, int]] = font["hmtx"].metrics
            self._outlines: bytes = font.reader["glyf"]
            self._offsets: Sequence[int] = font["loca"].locations
            # Reads a composite glyph's component indices as names in this order.
            self._glyf: Any = newTable("glyf")
            self._glyf.glyphOrder = self._order
            # The face's own header tables, copied into every subset. Their maxima and boxes cover every
            # glyph of the face, so they hold for any subset too, and nothing needs recomputing.
            self._tables = {tag: font[tag] for tag in ("head", "hhea", "maxp", "OS/2")}
            post = newTable("post")
            sstruct.unpack(postFormat, font.reader["post"][:postFormatSize], post)  # the header alone
            post.formatType = 2.0  # keep glyph names: fpdf2 subsets by name
            post.minMemType42 = post.maxMemType42 = post.minMemType1 = post.maxMemType1 = 0
            post.extraNames, post.mapping = [], {}
            self._tables["post"] = post
            source_names = font["name"]
            names = newTable("name")
            names.names = []
            for name_id, fallback in ((1, path.stem), (2, "Regular"), (4, path.stem), (6, path.stem)):
                value = str(source_names.getDebugName(name_id) or fallback)
                names.setName(value.replace(" ", "") if name_id == 6 else value, name_id, 3, 1, 0x409)
            self._tables["name"] = names
        finally:
            font.close()

    def covers(self, char: str) -> bool:
        return ord(char) in self.cmap

    def _glyph_id(self, name: str) -> int:
        return 0 if name == ".notdef" else int(name[1:])

    def subset(self, chars: Iterable[str]) -> bytes:
        """A TrueType font with the glyphs for ``chars`` (those the face has), .notdef and space, named
        by their index in the face. Outlines are copied as compiled bytes; only composite glyphs are
        parsed, for the components they need."""
        codepoints = {ord(c) for c in chars} | {0x20}
        cmapping = {cp: self.cmap[cp] for cp in sorted(codepoints) if cp in self.cmap}
        glyphs: dict[str, Any] = {}
        todo = [".notdef", *cmapping.values()]
        while todo:
            name = todo.pop()
            if name in glyphs:
                continue
            gid = self._glyph_id(name)
            glyph = Glyph(self._outlines[self._offsets[gid] : self._offsets[gid + 1]])
            glyphs[name] = glyph
            if glyph.isComposite():
                glyph.expand(self._glyf)
                todo.extend(component.glyphName for component in glyph.components)
        order = [".notdef", *sorted(glyphs.keys() - {".notdef"}, key=self._glyph_id)]
        font = TTFont(recalcBBoxes=False, recalcTimestamp=False)
        font.setGlyphOrder(order)
        for tag, table in self._tables.items():
            font[tag] = copy.deepcopy(table)
        font["maxp"].numGlyphs = len(order)
        font["loca"] = newTable("loca")
        glyf = font["glyf"] = newTable("glyf")
        glyf.glyphs = glyphs
        glyf.glyphOrder = order
        builder = FontBuilder(font=font)
        builder.setupCharacterMap(cmapping)
        builder.setupHorizontalMetrics({name: self._advances[name] for name in order})
        buffer = io.BytesIO()
        font.save(buffer)
        return buffer.getvalue()


def _chinese_face_index(path: Path) -> int:
    """In a font collection, the Simplified Chinese face (a name with CN, SC or GB), else the first."""
    with path.open("rb") as handle:
        if handle.read(4) != b"ttcf":
            return 0
    collection = TTCollection(path, lazy=True)
    try:
        for index, face in enumerate(collection.fonts):
            name = str(face["name"].getDebugName(4) or "")
            if any(f" {mark}" in f"{name} " for mark in ("CN", "SC", "GB")):
                return index
        return 0
    finally:
        collection.close()


@functools.lru_cache(maxsize=4)
def face(path: Path) -> Face:
    """The parsed face of ``path``, once per process. Raises CertificateFontError."""
    return Face(path)
