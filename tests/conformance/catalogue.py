"""The conformance set of issue 9: every real-file variant we know, as a generator with
ground truth, and where the default rules must send a clean copy of it.

A variant is ``(name, format, generator, expected status)``; a generator takes a seed
and returns ``(document bytes, truth ExtractedInvoice)``. The structured variants
(XML, OFD, XBRL) come from ``tests/docgen/variants_structured.py``, the PDF ones from
``tests/docgen/variants_pdf.py``; what each imitates and which facts are assumed is in
their docstrings and in ``docs/domain-notes.md``. ``bench/bench_real_variants.py``
measures the same catalogue at scale.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from invoiceportal.invoices.extraction.types import (
    ExtractedInvoice,
    ExtractedLine,
    InvoiceKind,
)
from tests.docgen import variants_pdf, variants_structured
from tests.docgen.compare import field_diffs
from tests.docgen.pdf_doc import field_diff as pdf_field_diff
from tests.docgen.truth import CATEGORIES, SMALL_SCALE_RATES

Generated = tuple[bytes, ExtractedInvoice]

APPROVED = "approved"
IN_REVIEW = "in_review"
FILENAMES = {"xml": "invoice.xml", "ofd": "invoice.ofd", "pdf": "invoice.pdf"}


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    format: str  # "xml", "ofd" or "pdf"
    generate: Callable[[int], Generated]
    # fields the format does not carry (the wave-1 baselines), see tests/docgen/compare
    skip: frozenset[str] = frozenset({"readings"})
    line_skip: frozenset[str] = frozenset()

    @property
    def filename(self) -> str:
        return FILENAMES[self.format]

    def diffs(self, truth: ExtractedInvoice, got: ExtractedInvoice) -> dict:
        """Every field read differently from the truth (none is the goal)."""
        if self.format == "pdf":
            return pdf_field_diff(truth, got)
        return field_diffs(truth, got, skip=self.skip, line_skip=self.line_skip)


def _variants() -> list[Variant]:
    out = []
    for name, (fmt, fn) in variants_structured.VARIANTS.items():
        out.append(Variant(name, "xml" if fmt == "xml" else "ofd", fn))
    for name, fn in variants_pdf.PDF_VARIANTS.items():
        out.append(Variant(f"pdf_{name}", "pdf", fn))
    return out


VARIANTS: list[Variant] = _variants()


REVIEW_THRESHOLD = Decimal("100000.00")  # amount.threshold's default


def is_clean(truth: ExtractedInvoice) -> bool:
    """Nothing wrong with it: a blue invoice to a company (not a natural person) whose
    lines carry their category's usual rate (red-letter, personal and odd-rate
    invoices have their own tests). A large one is clean too; the rules still send
    it to a reviewer (``expected_failures``)."""
    return (
        not truth.is_red
        and bool(truth.buyer_tax_id)
        and all(_usual_rate(line) for line in truth.lines)
    )


def expected_failures(variant: Variant, truth: ExtractedInvoice) -> list[str]:
    """The rules the default configuration fails on a clean copy of ``truth``."""
    fails = []
    if truth.kind is InvoiceKind.GENERAL_MACHINE:
        fails.append("kind.general_machine")
    total = truth.total_amount if truth.total_amount is not None else Decimal(0)
    if abs(total) > REVIEW_THRESHOLD:
        fails.append("amount.threshold")
    return sorted(fails)


def expected_route(variant: Variant, truth: ExtractedInvoice) -> str:
    return IN_REVIEW if expected_failures(variant, truth) else APPROVED


_CATEGORY_RATE = {c.name: c.rate for c in CATEGORIES}


def _usual_rate(line: ExtractedLine) -> bool:
    """The generators give 15 % of lines a rate unusual for their category on purpose
    (a review flag): those are not clean."""
    category = line.name[1:].split("*", 1)[0] if line.name.startswith("*") else ""
    usual = _CATEGORY_RATE.get(category)
    return (
        usual is None
        or line.tax_rate is None
        or line.tax_rate in (usual, *SMALL_SCALE_RATES)
    )


def clean_samples(variant: Variant, count: int, start: int = 1) -> list[int]:
    """The first ``count`` seeds from ``start`` whose document is clean."""
    seeds = []
    for seed in range(start, start + 200):
        if is_clean(variant.generate(seed)[1]):
            seeds.append(seed)
            if len(seeds) == count:
                return seeds
    raise AssertionError(f"{variant.name}: fewer than {count} clean documents")


def issued_on(truth: ExtractedInvoice) -> dt.date:
    return truth.issue_date or dt.date(2026, 3, 2)
