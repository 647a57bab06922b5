"""Benchmark of the structured readers: XML, digital OFD, legacy OFD.

Generates documents from random ground truth (varied layouts and spellings), runs
``extract`` on each and reports field-level accuracy, documents per second (one
process) and peak memory. Run from the repository root:

    python bench/bench_extraction_structured.py [--docs 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from django.conf import settings

if not settings.configured:  # refusal messages are lazy translations
    settings.configure(USE_I18N=False)

from invoiceportal.invoices.extraction.dispatch import extract
from invoiceportal.invoices.extraction.errors import ExtractionError
from invoiceportal.invoices.extraction.types import (
    ExtractedInvoice,
    ExtractedLine,
)
from tests.docgen.compare import (
    NOT_IN_DIGITAL_OFD,
    NOT_IN_LEGACY_OFD,
    NOT_IN_XML,
)
from tests.docgen.ofd_doc import LAYOUTS, make_ofd
from tests.docgen.truth import DIGITAL_KINDS, E_KINDS, random_invoice
from tests.docgen.xml_doc import VARIANTS, make_xml

HEADER_FIELDS = [
    f.name
    for f in dataclasses.fields(ExtractedInvoice)
    if f.name not in ("lines", "readings")
]
LINE_FIELDS = [f.name for f in dataclasses.fields(ExtractedLine)]


@dataclasses.dataclass
class Corpus:
    name: str
    docs: list[tuple[ExtractedInvoice, bytes]]
    skip: frozenset[str]
    line_skip: frozenset[str] = frozenset()


def build(count: int, seed: int) -> list[Corpus]:
    rng = random.Random(seed)
    xml, digital, legacy = [], [], []
    for i in range(count):
        truth = random_invoice(rng, kind=rng.choice(DIGITAL_KINDS))
        xml.append((truth, make_xml(truth, variant=VARIANTS[i % len(VARIANTS)])))
        truth = random_invoice(rng, kind=rng.choice(DIGITAL_KINDS))
        digital.append((truth, make_ofd(truth, layout=LAYOUTS[i % len(LAYOUTS)])))
        truth = random_invoice(rng, kind=rng.choice(E_KINDS))
        layout = LAYOUTS[i % len(LAYOUTS)]
        legacy.append((truth, make_ofd(truth, legacy=True, layout=layout)))
    return [
        Corpus("xml", xml, NOT_IN_XML),
        Corpus(
            "ofd-digital",
            digital,
            NOT_IN_DIGITAL_OFD,
            frozenset({"tax_classification_code"}),
        ),
        Corpus("ofd-legacy", legacy, NOT_IN_LEGACY_OFD),
    ]


def score(
    truth: ExtractedInvoice, got: ExtractedInvoice, corpus: Corpus
) -> tuple[int, int]:
    """(fields equal, fields compared): header fields plus every line field."""
    equal = total = 0
    for name in HEADER_FIELDS:
        if name in corpus.skip:
            continue
        total += 1
        equal += getattr(truth, name) == getattr(got, name)
    for index, want in enumerate(truth.lines):
        have = got.lines[index] if index < len(got.lines) else ExtractedLine()
        for name in LINE_FIELDS:
            if name in corpus.line_skip:
                continue
            total += 1
            equal += getattr(want, name) == getattr(have, name)
    extra = max(0, len(got.lines) - len(truth.lines))
    return equal, total + extra * len(LINE_FIELDS)


def run(corpus: Corpus) -> dict[str, float]:
    results: list[ExtractedInvoice | None] = []
    start = time.perf_counter()
    for _, data in corpus.docs:
        try:
            results.append(extract(data)[1])
        except ExtractionError:
            results.append(None)
    elapsed = time.perf_counter() - start
    equal = total = refused = 0
    for (truth, _), got in zip(corpus.docs, results, strict=True):
        if got is None:
            refused += 1
            got = ExtractedInvoice()
        e, t = score(truth, got, corpus)
        equal += e
        total += t
    tracemalloc.start()
    for _, data in corpus.docs[:50]:
        extract(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = sum(len(d) for _, d in corpus.docs) / len(corpus.docs)
    return {
        "docs": len(corpus.docs),
        "accuracy": equal / total,
        "perfect_docs": sum(
            1
            for (truth, _), got in zip(corpus.docs, results, strict=True)
            if got is not None
            and score(truth, got, corpus)[0] == score(truth, got, corpus)[1]
        ),
        "refused": refused,
        "docs_per_s": len(corpus.docs) / elapsed,
        "ms_per_doc": 1000 * elapsed / len(corpus.docs),
        "peak_kib": peak / 1024,
        "avg_kib": size / 1024,
    }


def time_refusal(label: str, make: Callable[[], bytes], repeat: int = 5) -> None:
    data = make()
    start = time.perf_counter()
    code = ""
    for _ in range(repeat):
        try:
            extract(data)
        except ExtractionError as exc:
            code = exc.code
    ms = 1000 * (time.perf_counter() - start) / repeat
    print(f"  {label:<34} -> {code:<16} {ms:8.2f} ms")


def hostile() -> None:
    import io
    import zipfile

    def bomb() -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("zeros.bin", bytes(100 * 1024 * 1024))
        return out.getvalue()

    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode()
            for i in range(8)
        )
        + b"]><EInvoice>&i;</EInvoice>"
    )
    print("refusals:")
    time_refusal("zip bomb (100 MB of zeros)", bomb)
    time_refusal("billion laughs", lambda: laughs)
    time_refusal("20 MB of random bytes", lambda: random.randbytes(20 * 1024 * 1024))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    corpora = build(args.docs, args.seed)
    print(f"generated {3 * args.docs} documents in {time.perf_counter() - start:.1f} s")
    header = (
        f"{'format':<12} {'docs':>5} {'field acc':>10} {'perfect':>8} {'refused':>8}"
        f" {'docs/s':>8} {'ms/doc':>7} {'peak KiB':>9} {'avg KiB':>8}"
    )
    print(header)
    for corpus in corpora:
        r = run(corpus)
        print(
            f"{corpus.name:<12} {r['docs']:>5} {r['accuracy']:>10.4f}"
            f" {r['perfect_docs']:>8} {r['refused']:>8} {r['docs_per_s']:>8.0f}"
            f" {r['ms_per_doc']:>7.2f} {r['peak_kib']:>9.0f} {r['avg_kib']:>8.1f}"
        )
    hostile()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS: {rss:.0f} MiB (includes generation)")


if __name__ == "__main__":
    main()
