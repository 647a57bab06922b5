"""How long hostile XML shapes take to refuse (issue 16, medium 8).

Before the pre-pass of ``safety.check_xml_shape`` a million flat elements took 58.8 s
to refuse and 400,000 nested levels 24 s. Prints the refusal time of each shape (median
of ``--runs``) and, for comparison, how long a real invoice of N lines takes to read.
Run from the repository root:

    python bench/bench_xml_limits.py [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from django.conf import settings

if not settings.configured:  # refusal messages are lazy translations
    settings.configure(USE_I18N=False)

from invoiceportal.invoices.extraction.dispatch import extract
from invoiceportal.invoices.extraction.errors import ExtractionError
from invoiceportal.invoices.extraction.types import InvoiceKind
from tests.docgen.truth import random_invoice
from tests.docgen.xml_doc import make_xml

HEAD = b'<?xml version="1.0" encoding="UTF-8"?><EInvoice><EIid>1</EIid>'
SHAPES = {
    "1,000,000 flat elements": HEAD + b"<a>1</a>" * 1_000_000 + b"</EInvoice>",
    "400,000 nested levels": HEAD
    + b"<a>" * 400_000
    + b"</a>" * 400_000
    + b"</EInvoice>",
    "400,000 attributes on one element": HEAD
    + b"<a "
    + b" ".join(b'n%d="1"' % i for i in range(400_000))
    + b"/></EInvoice>",
}


def timed(data: bytes, runs: int) -> tuple[float, str]:
    times, outcome = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        try:
            extract(data)
            outcome = "read"
        except ExtractionError as exc:
            outcome = exc.code
        times.append(time.perf_counter() - started)
    return statistics.median(times), outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    for name, data in SHAPES.items():
        seconds, outcome = timed(data, runs)
        print(f"{name:36} {len(data) / 1e6:5.1f} MB  {outcome:16} {seconds:.3f} s")
    for lines in (10, 500, 2000):
        inv = random_invoice(random.Random(1), kind=InvoiceKind.DIGITAL_SPECIAL)
        inv.lines = (inv.lines * lines)[:lines]
        data = make_xml(inv)
        seconds, outcome = timed(data, runs)
        label = f"real invoice, {lines} lines"
        print(f"{label:36} {len(data) / 1e6:5.1f} MB  {outcome:16} {seconds:.3f} s")


if __name__ == "__main__":
    main()
