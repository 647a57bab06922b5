"""Field-by-field comparison of an extraction with its ground truth."""

from __future__ import annotations

import dataclasses

from invoiceportal.invoices.extraction.types import ExtractedInvoice

# what each structured format does not carry, by design
NOT_IN_XML = frozenset({"code", "check_code", "qr_payload", "readings"})
NOT_IN_DIGITAL_OFD = frozenset({"code", "check_code", "qr_payload", "readings"})
NOT_IN_LEGACY_OFD = frozenset({"readings"})
COMPARED = tuple(f.name for f in dataclasses.fields(ExtractedInvoice))


def field_diffs(
    truth: ExtractedInvoice,
    got: ExtractedInvoice,
    *,
    skip: frozenset[str] = frozenset({"readings"}),
    line_skip: frozenset[str] = frozenset(),
) -> dict[str, tuple[object, object]]:
    """``{field: (expected, got)}`` for every field that differs."""
    diffs: dict[str, tuple[object, object]] = {}
    for name in COMPARED:
        if name in skip:
            continue
        want, have = getattr(truth, name), getattr(got, name)
        if name == "lines" and line_skip:
            blank = dict.fromkeys(line_skip, "")
            want = [dataclasses.replace(ln, **blank) for ln in want]
            have = [dataclasses.replace(ln, **blank) for ln in have]
        if want != have:
            diffs[name] = (want, have)
    return diffs


def assert_same_invoice(truth: ExtractedInvoice, got: ExtractedInvoice, **kw) -> None:
    diffs = field_diffs(truth, got, **kw)
    assert not diffs, diffs
