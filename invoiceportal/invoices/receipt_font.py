"""An embeddable CJK font for the receipt PDF.

reportlab embeds TrueType outlines only, and the CJK fonts that ship in Python
packages are OpenType with CFF outlines (Noto Sans CJK SC, SIL Open Font Licence 1.1,
shipped in the ``mplfonts`` package). At first use for a set of characters (GB 2312
for nearly every receipt) this module subsets the font with fontTools, converts the
CFF outlines to TrueType quadratics (cu2qu) and caches the result under
``settings.RECEIPT_FONT_CACHE``; each PDF then embeds the glyphs it uses
(``FontFile2``). Without a source font (``settings.RECEIPT_FONT_SOURCE`` empty or
missing) it answers None and the receipt falls back to reportlab's non-embedded CID
font.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

# Always in the subset: digits, Latin letters and the punctuation of the receipt.
BASE_CHARACTERS = "".join(chr(c) for c in range(0x20, 0x7F)) + "—·、，。：（）％"


def _gb2312() -> str:
    """The 7,445 characters of GB 2312 (every hanzi of level 1 and 2, and its
    punctuation and symbols): nearly every name and address on an invoice."""
    found = []
    for first in range(0xA1, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                found.append(bytes([first, second]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(found)


# The common font: converted once (about 6 s, 2 MB) and shared by every receipt;
# reportlab embeds only the glyphs a PDF uses. A text with rarer characters gets
# its own small subset (about 0.4 s).
COMMON_CHARACTERS = frozenset(_gb2312() + BASE_CHARACTERS)

# fontTools.subset reports every table at INFO: not the portal's business.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)


def default_source() -> str:
    """Noto Sans CJK SC as shipped by ``mplfonts`` (found without importing it)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return ""
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts"
    font = path / "NotoSansCJKsc-Regular.otf"
    return str(font) if font.exists() else ""


def _convert(source: str, text: str, target: Path) -> None:
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(source)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    glyph_set = font.getGlyphSet()
    order = font.getGlyphOrder()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    font["head"].indexToLocFormat = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    font.sfntVersion = "\x00\x01\x00\x00"
    # Each subset gets its own internal names: reportlab keeps faces by the
    # PostScript name, so two subsets of one font would otherwise share a face.
    names = font["name"]
    for name_id in (1, 3, 4, 6):
        names.removeNames(nameID=name_id)
        names.setName(target.stem, name_id, 3, 1, 0x409)
        names.setName(target.stem, name_id, 1, 0, 0)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    try:
        font.save(tmp)
        os.replace(tmp, target)  # atomic: a concurrent reader sees all or nothing
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def receipt_font(text: str) -> str | None:
    """The name of a registered, embeddable TrueType font covering ``text``
    (the common GB 2312 font when it covers it, else a subset of its own),
    registered with reportlab on first use; None without a source font."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    source = settings.RECEIPT_FONT_SOURCE or default_source()
    if not source or not os.path.exists(source):
        logger.warning("No CJK font source for receipts; the PDF font is not embedded.")
        return None
    wanted = set(text) - {"\n", "\r", "\t"}
    if wanted <= COMMON_CHARACTERS:
        characters = "".join(sorted(COMMON_CHARACTERS))
    else:
        characters = "".join(sorted(wanted | set(BASE_CHARACTERS)))
    key = hashlib.sha256(f"v2\n{source}\n{characters}".encode()).hexdigest()[:20]
    name = f"ReceiptCJK-{key}"
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    target = Path(settings.RECEIPT_FONT_CACHE) / f"{name}.ttf"
    if not target.exists():
        _convert(source, characters, target)
    pdfmetrics.registerFont(TTFont(name, str(target)))
    return name
