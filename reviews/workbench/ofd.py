"""OFD pages drawn as SVG from their text, path and image objects, at their positions.

No browser shows OFD (GB/T 33190), so the reviewer sees the page as we draw it. The
package is opened and every part parsed by the extraction package's ``OfdPackage``
(the reader's: sizes, bombs, DTDs and entities refused; a damaged lower-trust part
repaired or skipped); nothing here parses XML otherwise. Text is escaped into the SVG,
embedded images are decoded with Pillow under a pixel bound and re-encoded as PNG
data URIs, so the SVG carries no script, link or external reference.

Units are the package's millimetres; ``y`` grows downwards, as on the page.
"""

from __future__ import annotations

import base64
import io
import posixpath
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from invoiceportal.invoices.extraction.layout import TextBox
from invoiceportal.invoices.extraction.ofd_reader import OfdPackage, document_root
from invoiceportal.invoices.extraction.safety import Limits
from invoiceportal.invoices.extraction.xmltools import find, find_all, names, text_of

DEFAULT_BOX = (210.0, 140.0)  # a 数电 invoice page, when the package names none
MAX_IMAGE_PIXELS = 4_000_000
MAX_OBJECTS = 20_000  # per page: a bound on the SVG we write
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass
class OfdText:
    x: float
    y: float  # baseline
    size: float
    text: str
    xs: list[float]  # one x per character
    color: str = "#000"

    def box(self) -> TextBox:
        """The text's extent on the page: from its first glyph to its last."""
        if not self.text:
            return TextBox("", self.x, self.y - self.size, self.x, self.y)
        last = self.xs[-1] if self.xs else self.x
        width = _glyph_width(self.text[-1]) * self.size
        return TextBox(
            self.text,
            min(self.xs or [self.x]),
            self.y - self.size * 0.9,
            last + width,
            self.y + self.size * 0.2,
        )


@dataclass
class OfdPath:
    d: str
    transform: str
    stroke: str | None
    fill: str | None
    width: float


@dataclass
class OfdImage:
    x: float
    y: float
    w: float
    h: float
    href: str  # a PNG data URI


@dataclass
class OfdPage:
    width: float
    height: float
    objects: list[OfdText | OfdPath | OfdImage] = field(default_factory=list)

    def text_boxes(self) -> list[TextBox]:
        return [o.box() for o in self.objects if isinstance(o, OfdText) and o.text]


def _glyph_width(ch: str) -> float:
    return 1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55


def _numbers(text: str | None) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text or "")]


def _box(text: str | None) -> tuple[float, float, float, float] | None:
    values = _numbers(text)
    if len(values) < 4:
        return None
    return values[0], values[1], values[2], values[3]


def _color(el: ET.Element | None, default: str | None) -> str | None:
    if el is None:
        return default
    values = [int(v) for v in _numbers(el.get("Value"))[:3] if 0 <= v <= 255]
    if len(values) != 3:
        return default
    return "#{:02x}{:02x}{:02x}".format(*values)


def _delta_x(text: str | None) -> list[float]:
    """``DeltaX`` with its ``g count value`` repeats expanded."""
    tokens = (text or "").split()
    out: list[float] = []
    i = 0
    while i < len(tokens) and len(out) < 10_000:
        if tokens[i] == "g" and i + 2 < len(tokens):
            try:
                count, value = int(float(tokens[i + 1])), float(tokens[i + 2])
            except ValueError:
                break
            out.extend([value] * max(0, min(count, 10_000)))
            i += 3
            continue
        try:
            out.append(float(tokens[i]))
        except ValueError:
            break
        i += 1
    return out


_PATH_COMMANDS = {"S": ("M", 2), "M": ("M", 2), "L": ("L", 2), "Q": ("Q", 4)}


def _svg_path(data: str) -> str:
    """OFD ``AbbreviatedData`` (S/M/L/Q/B/A/C) as an SVG path."""
    tokens = data.split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        op = tokens[i]
        i += 1
        if op in _PATH_COMMANDS:
            svg, count = _PATH_COMMANDS[op]
        elif op == "B":
            svg, count = "C", 6
        elif op == "A":
            svg, count = "A", 7
        elif op == "C":
            out.append("Z")
            continue
        else:
            continue
        args = tokens[i : i + count]
        i += count
        try:
            nums = [float(a) for a in args]
        except ValueError:
            break
        if len(nums) != count:
            break
        out.append(svg + " " + " ".join(f"{n:g}" for n in nums))
    return " ".join(out)


def _media(pkg: OfdPackage, document: ET.Element, base: str) -> dict[str, str]:
    """Resource id -> path of its media file (PublicRes and DocumentRes)."""
    found: dict[str, str] = {}
    for res_loc in [
        *(text_of(el) for el in find_all(document, names("PublicRes"))),
        *(text_of(el) for el in find_all(document, names("DocumentRes"))),
    ]:
        if not res_loc:
            continue
        res_path = pkg.resolve(base, res_loc)
        res = pkg.xml(res_path)
        if res is None:
            continue
        res_base = posixpath.dirname(res_path)
        if res.get("BaseLoc"):
            res_base = pkg.resolve(res_base, res.get("BaseLoc") or "")
        for media in find_all(res, names("MultiMedia")):
            file_el = find(media, names("MediaFile"))
            if media.get("ID") and file_el is not None and text_of(file_el):
                found[media.get("ID") or ""] = pkg.resolve(res_base, text_of(file_el))
    return found


def _image_uri(data: bytes) -> str | None:
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_IMAGE_PIXELS:
            return None
        img.load()
        if img.mode not in ("RGB", "RGBA", "L", "LA"):
            img = img.convert("RGBA")
        out = io.BytesIO()
        img.save(out, "PNG", optimize=False)
    except Exception:  # Pillow raises many types on a damaged image
        return None
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _objects(
    content: ET.Element, pkg: OfdPackage, media: dict[str, str], images: dict[str, str]
) -> list[OfdText | OfdPath | OfdImage]:
    objects: list[OfdText | OfdPath | OfdImage] = []
    wanted = names("TextObject", "PathObject", "ImageObject")
    for obj in content.iter():
        if len(objects) >= MAX_OBJECTS:
            break
        kind = obj.tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()
        if kind not in wanted:
            continue
        boundary = _box(obj.get("Boundary"))
        if boundary is None:
            continue
        bx, by, bw, bh = boundary
        if kind == "textobject":
            size = (_numbers(obj.get("Size")) or [3.5])[0]
            color = _color(find(obj, names("FillColor")), "#000")
            x = y = 0.0
            for code in find_all(obj, names("TextCode")):
                text = "".join(code.itertext())
                if code.get("X") is not None:
                    x = (_numbers(code.get("X")) or [0.0])[0]
                if code.get("Y") is not None:
                    y = (_numbers(code.get("Y")) or [0.0])[0]
                deltas = _delta_x(code.get("DeltaX"))
                xs = [bx + x]
                for i in range(1, len(text)):
                    step = deltas[i - 1] if i - 1 < len(deltas) else None
                    if step is None:
                        step = _glyph_width(text[i - 1]) * size
                    xs.append(xs[-1] + step)
                objects.append(OfdText(bx + x, by + y, size, text, xs, color or "#000"))
                if xs:
                    x = xs[-1] - bx + _glyph_width(text[-1]) * size if text else x
        elif kind == "pathobject":
            data = text_of(find(obj, names("AbbreviatedData")))
            d = _svg_path(data)
            if not d:
                continue
            ctm = _numbers(obj.get("CTM"))
            transform = f"translate({bx:g} {by:g})"
            if len(ctm) == 6:
                transform += " matrix(" + " ".join(f"{v:g}" for v in ctm) + ")"
            stroke_on = (obj.get("Stroke") or "true").lower() != "false"
            fill_on = (obj.get("Fill") or "false").lower() == "true"
            objects.append(
                OfdPath(
                    d,
                    transform,
                    _color(find(obj, names("StrokeColor")), "#000")
                    if stroke_on
                    else None,
                    _color(find(obj, names("FillColor")), "#000") if fill_on else None,
                    (_numbers(obj.get("LineWidth")) or [0.25])[0],
                )
            )
        else:
            ref = obj.get("ResourceID") or ""
            if ref not in images:
                path = media.get(ref)
                raw = pkg.raw(path) if path else None
                images[ref] = (_image_uri(raw) if raw else None) or ""
            if images[ref]:
                objects.append(OfdImage(bx, by, bw, bh, images[ref]))
    return objects


def read_ofd_pages(data: bytes, *, limits: Limits | None = None) -> list[OfdPage]:
    """Every page of the package's first document, templates drawn first.

    Raises ``ExtractionError`` for a damaged or hostile package."""
    pkg = OfdPackage.open(data, limits)
    entry = pkg.xml("OFD.xml")
    if entry is None:
        return []
    doc_path = document_root(entry)
    document = pkg.xml(doc_path)
    if document is None:
        return []
    base = posixpath.dirname(doc_path)
    common = find(document, names("CommonData"))
    default_box = _box(text_of(find(common, names("PhysicalBox")))) if common else None
    width, height = (default_box[2], default_box[3]) if default_box else DEFAULT_BOX
    templates = {
        el.get("ID", ""): pkg.resolve(base, el.get("BaseLoc") or "")
        for el in find_all(document, names("TemplatePage"))
        if el.get("BaseLoc")
    }
    media = _media(pkg, document, base)
    images: dict[str, str] = {}
    pages: list[OfdPage] = []
    page_els = find_all(document, names("Page"))[: pkg.limits.max_pdf_pages]
    for page_el in page_els:
        loc = page_el.get("BaseLoc") or ""
        if not loc:
            continue
        path = pkg.resolve(base, loc)
        content = pkg.xml(path)
        if content is None:
            pages.append(OfdPage(width, height))
            continue
        own_box = _box(text_of(find(content, names("PhysicalBox"))))
        page = OfdPage(*(own_box[2:] if own_box else (width, height)))
        for tpl in find_all(content, names("Template")):
            tpl_path = templates.get(tpl.get("TemplateID", ""))
            tpl_root = pkg.xml(tpl_path) if tpl_path else None
            if tpl_root is not None:
                page.objects.extend(_objects(tpl_root, pkg, media, images))
        page.objects.extend(_objects(content, pkg, media, images))
        pages.append(page)
    return pages


def page_svg(page: OfdPage, *, scale: float) -> str:
    """The page as a standalone SVG document, ``scale`` pixels per point."""
    px_per_mm = scale * 72 / 25.4
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{page.width * px_per_mm:.0f}" height="{page.height * px_per_mm:.0f}" '
        f'viewBox="0 0 {page.width:g} {page.height:g}">',
        f'<rect x="0" y="0" width="{page.width:g}" height="{page.height:g}" '
        'fill="#fff"/>',
    ]
    for obj in page.objects:
        if isinstance(obj, OfdPath):
            parts.append(
                f'<path d="{obj.d}" transform="{obj.transform}" '
                f'fill="{obj.fill or "none"}" stroke="{obj.stroke or "none"}" '
                f'stroke-width="{obj.width:g}"/>'
            )
        elif isinstance(obj, OfdImage):
            parts.append(
                f'<image x="{obj.x:g}" y="{obj.y:g}" width="{obj.w:g}" '
                f'height="{obj.h:g}" preserveAspectRatio="none" '
                f"href={quoteattr(obj.href)}/>"
            )
        elif obj.text:
            xs = " ".join(f"{x:.3f}" for x in obj.xs)
            parts.append(
                f'<text x="{xs}" y="{obj.y:.3f}" font-size="{obj.size:g}" '
                f'fill="{obj.color}" font-family="SimSun, Songti SC, Noto Serif CJK SC,'
                f' serif">{escape(obj.text)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
