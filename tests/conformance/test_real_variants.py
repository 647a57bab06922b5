"""Issue 9's conformance set: each real-file variant, read and routed as the default
rules say, through the real intake and screening services.

A clean copy (the buyer is the organization, the registry knows the invoice) of a VAT
invoice or a passenger ticket is approved without a reviewer; a general
machine-printed invoice goes to review saying what it is. Nothing genuine is refused
at upload, and every field is read as printed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Organization
from accounts.roles import Role
from invoiceportal.invoices.extraction.dispatch import extract
from invoiceportal.invoices.intake import invoice_submit_file
from invoiceportal.invoices.models import Invoice
from reviews.models import CheckResult, RegistryRecord
from reviews.rules import rule_update
from tests.docgen.registry import registry_row
from tests.factories import UserFactory

from .catalogue import (
    APPROVED,
    VARIANTS,
    Variant,
    clean_samples,
    expected_failures,
    expected_route,
    issued_on,
)

pytestmark = pytest.mark.django_db
CASES = [(v, seed) for v in VARIANTS for seed in clean_samples(v, 2)]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _no_random_audit(admin_user: Any) -> None:
    """The audit sample is the only random route: off, so the rules decide."""
    rule_update(
        actor=admin_user,
        code="audit.sample",
        params={"rate": "0"},
        change_note="no random sample in the conformance set",
    )


def failures(invoice: Invoice) -> list[str]:
    return sorted(
        CheckResult.objects.filter(invoice=invoice, outcome="fail").values_list(
            "rule_code", flat=True
        )
    )


@pytest.mark.parametrize(
    ("variant", "seed"), CASES, ids=[f"{v.name}-{s}" for v, s in CASES]
)
def test_a_clean_copy_is_read_and_routed_as_the_default_rules_say(
    variant: Variant, seed: int, time_machine: Any, django_capture_on_commit_callbacks
) -> None:
    data, truth = variant.generate(seed)
    # screened three days after issue, during office hours
    issued = issued_on(truth)
    time_machine.move_to(
        dt.datetime.combine(issued + dt.timedelta(days=3), dt.time(10), SHANGHAI),
        tick=False,
    )
    assert truth.buyer_tax_id, "a conformance invoice names its buyer"
    org = Organization.objects.create(name=truth.buyer_name, tax_id=truth.buyer_tax_id)
    user = UserFactory(role=Role.SUBMITTER, organization=org)
    RegistryRecord.objects.create(**registry_row(truth))

    _, extracted = extract(data)
    assert variant.diffs(truth, extracted) == {}
    assert extracted.kind == truth.kind

    with django_capture_on_commit_callbacks(execute=True):
        result = invoice_submit_file(user=user, data=data, filename=variant.filename)
    invoice = Invoice.objects.get(pk=result.invoice.pk)

    assert invoice.kind == truth.kind
    route = expected_route(variant, truth)
    assert (invoice.status, failures(invoice)) == (
        route,
        expected_failures(variant, truth),
    )
    assert invoice.decision_source == ("automatic" if route == APPROVED else "")
