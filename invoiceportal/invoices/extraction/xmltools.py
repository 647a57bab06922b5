"""Defensive element lookup: names match case-insensitively, without namespaces or
prefixes, and ignoring '-', '_' and spaces ('TotalTax-includedAmount' ==
'TotalTaxIncludedAmount' == 'totaltax_includedamount')."""

from __future__ import annotations

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
