"""Real-file variants (issue 9): field and kind accuracy per variant, refusals at
upload, and the share of clean invoices decided without a reviewer, per variant.

Every variant of the conformance set (tests/conformance/catalogue.py: legacy OFDs
with a broken custom tag, 数电 OFDs titled only in their template, toll and discount
XML without a kind label, rail and air tickets as XBRL, OFD and PDF, legacy PDFs with
the seller at the bottom, multi-page PDFs, general machine-printed invoices) is
generated with ground truth, uploaded through the real intake service by a submitter
of the buyer organization, with a matching registry record, and screened under the
default rules (audit sample off) on the clock of three days after issue. The
baseline, in the same run, is the wave-1 corpus: clean 数电 XML, OFD and text PDFs
from random_invoice.

Run from the repository root (a temporary SQLite database; nothing else is touched):

    python bench/bench_real_variants.py [--docs 20]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_DB = Path(tempfile.mkdtemp()) / "bench.sqlite3"
os.environ["DATABASE_URL"] = f"sqlite:///{_DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invoiceportal.settings_test")

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
logging.disable(logging.INFO)  # the inline worker's chatter

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from accounts.models import Organization  # noqa: E402
from accounts.roles import Role  # noqa: E402
from invoiceportal.invoices.extraction.dispatch import extract  # noqa: E402
from invoiceportal.invoices.extraction.errors import ExtractionError  # noqa: E402
from invoiceportal.invoices.extraction.types import (  # noqa: E402
    ExtractedInvoice,
    ExtractedLine,
)
from invoiceportal.invoices.intake import invoice_submit_file  # noqa: E402
from invoiceportal.invoices.models import Invoice  # noqa: E402
from reviews.models import RegistryRecord  # noqa: E402
from reviews.rules import rule_update  # noqa: E402
from tests.conformance.catalogue import (  # noqa: E402
    APPROVED,
    VARIANTS,
    Variant,
    expected_failures,
    expected_route,
    is_clean,
    issued_on,
)
from tests.docgen.compare import NOT_IN_DIGITAL_OFD, NOT_IN_XML  # noqa: E402
from tests.docgen.ofd_doc import make_ofd  # noqa: E402
from tests.docgen.pdf_doc import make_pdf  # noqa: E402
from tests.docgen.registry import registry_row  # noqa: E402
from tests.docgen.truth import DIGITAL_KINDS, random_invoice  # noqa: E402
from tests.docgen.xml_doc import make_xml  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = [f.name for f in dataclasses.fields(ExtractedInvoice) if f.name != "readings"]
HEADER.remove("lines")
LINE = [f.name for f in dataclasses.fields(ExtractedLine)]


def _baseline(
    fmt: str, make: Callable[[ExtractedInvoice], bytes], **skips: frozenset[str]
) -> Variant:
    def generate(seed: int) -> tuple[bytes, ExtractedInvoice]:
        rng = random.Random(seed)
        truth = random_invoice(rng, kind=rng.choice(DIGITAL_KINDS))
        return make(truth), truth

    return Variant(f"baseline_{fmt}", fmt, generate, **skips)


BASELINES = [
    _baseline("xml", make_xml, skip=NOT_IN_XML),
    _baseline(
        "ofd",
        make_ofd,
        skip=NOT_IN_DIGITAL_OFD,
        line_skip=frozenset({"tax_classification_code"}),
    ),
    _baseline("pdf", make_pdf),
]


@dataclasses.dataclass
class Tally:
    docs: int = 0
    refused: int = 0
    kind_right: int = 0
    fields: int = 0
    fields_right: int = 0
    eligible: int = 0  # clean and under the review threshold: the rules approve it
    automatic: int = 0  # of those, decided without a reviewer
    routed_right: int = 0  # status and failed rules as the default rules say
    seconds: float = 0.0

    def pct(self, part: int, whole: int) -> str:
        return f"{100 * part / whole:6.2f}" if whole else "     -"


def _wrong_fields(variant: Variant, truth: ExtractedInvoice, got: ExtractedInvoice):
    wrong = 0
    for name in variant.diffs(truth, got):
        if name == "lines":  # the structured comparison gives the lines as one field
            for i in range(max(len(truth.lines), len(got.lines))):
                a = truth.lines[i] if i < len(truth.lines) else None
                b = got.lines[i] if i < len(got.lines) else None
                wrong += sum(
                    1
                    for f in LINE
                    if a is None or b is None or getattr(a, f) != getattr(b, f)
                )
        else:
            wrong += 1
    return wrong


def run_variant(variant: Variant, docs: int, admin) -> Tally:
    tally, seed = Tally(), 0
    while tally.docs < docs:
        seed += 1
        data, truth = variant.generate(seed)
        if not is_clean(truth):
            continue
        tally.docs += 1
        issued = issued_on(truth)
        clock = dt.datetime.combine(
            issued + dt.timedelta(days=3), dt.time(10), SHANGHAI
        )
        org = Organization.objects.filter(tax_id=truth.buyer_tax_id).first()
        if org is None:
            org = Organization.objects.create(
                name=truth.buyer_name, tax_id=truth.buyer_tax_id
            )
        user = UserFactory(role=Role.SUBMITTER, organization=org)
        RegistryRecord.objects.filter(identity=truth.identity).delete()
        RegistryRecord.objects.create(**registry_row(truth))
        Invoice.objects.filter(identity=truth.identity).update(status="withdrawn")
        fields = len(HEADER) + len(LINE) * len(truth.lines)
        tally.fields += fields
        started = time.perf_counter()
        with time_machine.travel(clock, tick=False):
            try:
                _, got = extract(data)
                result = invoice_submit_file(
                    user=user, data=data, filename=variant.filename
                )
            except ExtractionError:
                tally.refused += 1
                tally.seconds += time.perf_counter() - started
                continue
        tally.seconds += time.perf_counter() - started
        tally.kind_right += got.kind == truth.kind
        tally.fields_right += fields - min(fields, _wrong_fields(variant, truth, got))
        invoice = Invoice.objects.get(pk=result.invoice.pk)
        failed = sorted(
            invoice.check_results.filter(outcome="fail").values_list(
                "rule_code", flat=True
            )
        )
        route = expected_route(variant, truth)
        if route == APPROVED:
            tally.eligible += 1
            tally.automatic += invoice.decision_source == "automatic"
        tally.routed_right += (invoice.status, failed) == (
            route,
            expected_failures(variant, truth),
        )
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--docs", type=int, default=20, help="clean documents per variant"
    )
    parser.add_argument("--only", default="", help="variants whose name contains this")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    settings.MEDIA_ROOT = str(_DB.parent / "media")
    admin = UserFactory(role=Role.ADMIN, organization=None, is_superuser=True)
    rule_update(
        actor=admin,
        code="audit.sample",
        params={"rate": "0"},
        change_note="benchmark: no random sample",
    )
    chosen = [v for v in BASELINES + VARIANTS if args.only in v.name]
    print(
        f"{args.docs} clean documents per variant; percentages of documents or fields"
    )
    print(
        f"{'variant':34} {'fmt':4} {'refused':>7} {'kind %':>7} {'field %':>7} "
        f"{'auto %':>7} {'route %':>7} {'ms/doc':>7}"
    )
    totals: dict[str, Tally] = {"baseline": Tally(), "variants": Tally()}
    for variant in chosen:
        t = run_variant(variant, args.docs, admin)
        group = totals[
            "baseline" if variant.name.startswith("baseline") else "variants"
        ]
        for f in dataclasses.fields(Tally):
            setattr(group, f.name, getattr(group, f.name) + getattr(t, f.name))
        print(
            f"{variant.name:34} {variant.format:4} {t.refused:7d} "
            f"{t.pct(t.kind_right, t.docs):>7} {t.pct(t.fields_right, t.fields):>7} "
            f"{t.pct(t.automatic, t.eligible):>7} {t.pct(t.routed_right, t.docs):>7} "
            f"{1000 * t.seconds / max(t.docs, 1):7.1f}"
        )
    base, var = totals["baseline"], totals["variants"]
    print()
    for name, t in totals.items():
        if t.docs:
            print(
                f"{name:10} docs {t.docs:5d}  refused {t.refused:3d}  kind "
                f"{t.pct(t.kind_right, t.docs)} %  fields "
                f"{t.pct(t.fields_right, t.fields)} %  automatic "
                f"{t.pct(t.automatic, t.eligible)} % of {t.eligible}  routed as the "
                "rules say "
                f"{t.pct(t.routed_right, t.docs)} %"
            )
    if base.docs and var.docs:
        ratio = (var.routed_right / var.docs) / max(base.routed_right / base.docs, 1e-9)
        print(f"routed right, variants / baseline: {ratio:.3f}")


if __name__ == "__main__":
    main()
