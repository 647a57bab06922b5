"""Defensive element lookup: names match case-insensitively, without namespaces or
prefixes, and ignoring '-', '_' and spaces ('TotalTax-includedAmount' ==
'TotalTaxIncludedAmount' == 'totaltax_includedamount')."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator


def norm(tag: object) -> str:
    """Normalized local name of a tag (comments and PIs give '')."""
    if not isinstance(tag, str):
        return ""
    local = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
    return local.lower().replace("-", "").replace("_", "").replace(" ", "")


def names(*variants: str) -> frozenset[str]:
    return frozenset(norm(v) for v in variants)


def walk(scope: ET.Element, skip: Iterable[str] = ()) -> Iterator[ET.Element]:
    """Elements under ``scope`` (itself included), not descending into ``skip``."""
    skipped = frozenset(skip)
    stack = [scope]
    while stack:
        el = stack.pop()
        yield el
        children = [c for c in el if norm(c.tag) not in skipped]
        stack.extend(reversed(children))


def find(
    scope: ET.Element | None, wanted: frozenset[str], skip: Iterable[str] = ()
) -> ET.Element | None:
    if scope is None:
        return None
    for el in walk(scope, skip):
        if norm(el.tag) in wanted:
            return el
    return None


def find_all(scope: ET.Element, wanted: frozenset[str]) -> list[ET.Element]:
    return [el for el in scope.iter() if norm(el.tag) in wanted]


def text_of(el: ET.Element | None) -> str:
    """Trimmed text (no NFKC: names keep their full-width brackets)."""
    return "".join(el.itertext()).strip() if el is not None else ""


def find_text(
    scope: ET.Element | None, wanted: frozenset[str], skip: Iterable[str] = ()
) -> str:
    """Text of the first matching element that has text ('' when none)."""
    if scope is None:
        return ""
    for el in walk(scope, skip):
        if norm(el.tag) in wanted:
            text = text_of(el)
            if text:
                return text
    return ""


def either(el: ET.Element | None, fallback: ET.Element) -> ET.Element:
    """``el`` unless it is None (an Element's truth value counts its children)."""
    return fallback if el is None else el


# --- repairing lower-trust parts ---------------------------------------------------

_EMPTY_PREFIX_DECL = re.compile(rb"\s+xmlns:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*')")
_EMPTY_PREFIX_TAG = re.compile(rb"<(/?):(?=[A-Za-z_])")
_ELEMENT_PREFIX = re.compile(rb"</?([A-Za-z_][\w.-]*):[A-Za-z_]")
_ATTRIBUTE_PREFIX = re.compile(rb"\s([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*\s*=\s*[\"']")
_DECLARED_PREFIX = re.compile(rb"xmlns:([A-Za-z_][\w.-]*)\s*=")
_ROOT_START = re.compile(rb"<[A-Za-z_][\w.:-]*")
KNOWN_PREFIXES = {
    b"ofd": b"http://www.ofdspec.org/2016",
    b"fp": b"http://www.edrm.org.cn/schema/e-invoice/2019",
}
MAX_REPAIRED_PREFIXES = 16


def repair_xml(data: bytes) -> bytes | None:
    """Fix the namespace damage real invoice producers leave in lower-trust parts, or
    None when there is nothing we know how to fix.

    Two repairs, both seen in real legacy e-invoice OFDs (``Doc_0/Tags/CustomTag.xml``):
    an empty prefix (``<:eInvoice xmlns:="">`` becomes ``<eInvoice>``) and prefixes used
    without a declaration (``ofd:`` gets declared on the root element). Only namespace
    syntax changes: the result must still go through ``safety.safe_parse_xml``, which
    refuses DTDs, entities and external references exactly as for any other XML.
    """
    fixed = _EMPTY_PREFIX_DECL.sub(b"", data)
    fixed = _EMPTY_PREFIX_TAG.sub(rb"<\1", fixed)
    used = set(_ELEMENT_PREFIX.findall(fixed)) | set(_ATTRIBUTE_PREFIX.findall(fixed))
    declared = set(_DECLARED_PREFIX.findall(fixed))
    missing = sorted(p for p in used - declared if p.lower() not in (b"xml", b"xmlns"))
    if len(missing) > MAX_REPAIRED_PREFIXES:
        return None
    if missing:
        root = _ROOT_START.search(fixed)
        if root is None:
            return None
        decls = b"".join(
            b' xmlns:%s="%s"' % (p, KNOWN_PREFIXES.get(p, b"urn:undeclared:" + p))
            for p in missing
        )
        fixed = fixed[: root.end()] + decls + fixed[root.end() :]
    return None if fixed == data else fixed
