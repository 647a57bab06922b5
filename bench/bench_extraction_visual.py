"""Benchmark the visual readers (PDF text layer, scans, images) on generated invoices.

Every document is drawn from known truth (tests/docgen), read back, and compared field
by field (kind, identity, date, parties, totals, capitals, remarks, drawer, QR payload
and every line-item column). Reports field accuracy per format, QR identity accuracy,
documents per second (extraction only, one process) and the process's peak memory.

    python bench/bench_extraction_visual.py [--pdfs 160 --clean 30 --photos 20]

Targets: text PDF >= 99 % of fields; clean images >= 95 % of fields and 100 % QR
identities.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invoiceportal.settings")

import django

django.setup()

from invoiceportal.invoices.extraction.errors import ExtractionError  # noqa: E402
from invoiceportal.invoices.extraction.image_reader import read_image  # noqa: E402
from invoiceportal.invoices.extraction.pdf_reader import read_pdf  # noqa: E402
from invoiceportal.invoices.extraction.types import (  # noqa: E402
    ExtractedInvoice,
    FieldSource,
)
from tests.docgen.image_doc import make_image  # noqa: E402
from tests.docgen.pdf_doc import field_count, field_diff, make_pdf  # noqa: E402
from tests.docgen.truth import random_invoice  # noqa: E402


@dataclass
class Tally:
    docs: int = 0
    fields: int = 0
    correct: int = 0
    qr_ok: int = 0
    refused: int = 0
    seconds: float = 0.0
    misses: dict[str, int] = field(default_factory=dict)

    def add(self, truth: ExtractedInvoice, got: ExtractedInvoice | None, loose: bool):
        self.docs += 1
        total = field_count(truth)
        self.fields += total
        if got is None:
            self.refused += 1
            return
        diff = field_diff(truth, got, loose=loose)
        self.correct += total - len(diff)
        for name in diff:
            key = name.split(".")[-1] if name.startswith("lines") else name
            self.misses[key] = self.misses.get(key, 0) + 1
        qr = got.readings.get("qr_payload")
        if got.identity == truth.identity and qr and qr.source is FieldSource.QR:
            self.qr_ok += 1

    def row(self, name: str) -> str:
        acc = 100 * self.correct / max(self.fields, 1)
        qr = 100 * self.qr_ok / max(self.docs, 1)
        rate = self.docs / max(self.seconds, 1e-9)
        top = sorted(self.misses.items(), key=lambda kv: -kv[1])[:4]
        return (
            f"{name:<14}{self.docs:>5}{acc:>9.2f}%{qr:>8.1f}%{rate:>9.2f}"
            f"{self.refused:>8}  {top}"
        )


def run(
    tally: Tally,
    docs: list[tuple[ExtractedInvoice, bytes]],
    reader: Callable[[bytes], ExtractedInvoice],
    *,
    loose: bool,
) -> None:
    for truth, data in docs:
        start = time.perf_counter()
        try:
            got: ExtractedInvoice | None = reader(data)
        except ExtractionError:
            got = None
        tally.seconds += time.perf_counter() - start
        tally.add(truth, got, loose)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdfs", type=int, default=160)
    parser.add_argument("--clean", type=int, default=30)
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--scans", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20240528)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    def truths(n: int) -> list[ExtractedInvoice]:
        return [random_invoice(random.Random(rng.random())) for _ in range(n)]

    t0 = time.perf_counter()
    pdfs = [(t, make_pdf(t, layout_variant=i)) for i, t in enumerate(truths(args.pdfs))]
    clean = [
        (t, make_image(t, layout_variant=i, fmt="PNG" if i % 2 else "JPEG"))
        for i, t in enumerate(truths(args.clean))
    ]
    photos = []
    for i, t in enumerate(truths(args.photos)):
        rotation = rng.choice((90, 180, 270)) if i % 5 == 4 else rng.uniform(-10, 10)
        noise = rng.uniform(0.3, 0.9)
        photos.append(
            (
                t,
                make_image(
                    t, noise=noise, rotation=rotation, fmt="JPEG", layout_variant=i
                ),
            )
        )
    scans = [(t, make_pdf(t, scanned=True)) for t in truths(args.scans)]
    generated = time.perf_counter() - t0
    peak_generation = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    tallies = {
        "text PDF": Tally(),
        "clean image": Tally(),
        "photo": Tally(),
        "scanned PDF": Tally(),
    }
    run(tallies["text PDF"], pdfs, read_pdf, loose=False)
    run(tallies["clean image"], clean, read_image, loose=True)
    run(tallies["photo"], photos, read_image, loose=True)
    run(tallies["scanned PDF"], scans, read_pdf, loose=True)

    total_docs = sum(t.docs for t in tallies.values())
    print(f"{total_docs} documents generated in {generated:.1f} s (not timed below)")
    print(
        f"{'format':<14}{'docs':>5}{'fields':>10}{'QR id':>9}{'docs/s':>9}"
        f"{'refused':>8}"
        "  most missed"
    )
    for name, tally in tallies.items():
        print(tally.row(name))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak RSS: {peak_generation:.0f} MB after generating, {peak_mb:.0f} MB after "
        "extracting (OCR models loaded once per process)"
    )


if __name__ == "__main__":
    main()
