"""Seller list services: validated tax IDs, audited changes, admins only."""

from __future__ import annotations

import pytest

from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
)
from invoiceportal.invoices.status import InvoiceStatus
from reviews.models import SellerListEntry
from reviews.ruleadmin.services import (
    seller_list_entry_add,
    seller_list_entry_remove,
)
from reviews.screening import screen_invoice
from tests.reviews.test_screening import SELLER_TAX_ID, make_invoice, register

pytestmark = pytest.mark.django_db


def test_add_stores_the_normalised_tax_id_and_audits(admin_user) -> None:
    entry = seller_list_entry_add(
        actor=admin_user,
        seller_tax_id=" ９１110108690017781b ",  # full-width digits, lower case
        list_name="watch",
        note="  New supplier.  ",
    )

    assert (entry.seller_tax_id, entry.list, entry.note) == (
        "91110108690017781B",
        "watch",
        "New supplier.",
    )
    audit = AuditEntry.objects.get()
    assert audit.action == "seller_list.added"
    assert audit.actor == admin_user
    assert audit.data["seller_tax_id"] == "91110108690017781B"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "tax_id_required"),
        ("91110108690017781A", "invalid_tax_id"),  # wrong check character
        ("12345", "invalid_tax_id"),
    ],
)
def test_add_refuses_invalid_tax_ids(admin_user, value, code) -> None:
    with pytest.raises(ApplicationError) as error:
        seller_list_entry_add(actor=admin_user, seller_tax_id=value, list_name="block")

    assert error.value.code == code
    assert not SellerListEntry.objects.exists()
    assert not AuditEntry.objects.exists()


def test_add_accepts_older_and_personal_forms(admin_user) -> None:
    for value in ("110108690017781", "11010519491231002X"):
        seller_list_entry_add(actor=admin_user, seller_tax_id=value, list_name="watch")
    assert SellerListEntry.objects.count() == 2


def test_add_refuses_a_seller_already_on_the_list_but_allows_the_other(
    admin_user,
) -> None:
    seller_list_entry_add(
        actor=admin_user, seller_tax_id=SELLER_TAX_ID, list_name="watch"
    )

    with pytest.raises(ApplicationError) as error:
        seller_list_entry_add(
            actor=admin_user, seller_tax_id=SELLER_TAX_ID, list_name="watch"
        )
    seller_list_entry_add(
        actor=admin_user, seller_tax_id=SELLER_TAX_ID, list_name="block"
    )

    assert error.value.code == "already_listed"
    assert SellerListEntry.objects.count() == 2
    assert AuditEntry.objects.count() == 2


def test_add_refuses_an_unknown_list(admin_user) -> None:
    with pytest.raises(ApplicationError):
        seller_list_entry_add(
            actor=admin_user, seller_tax_id=SELLER_TAX_ID, list_name="grey"
        )


@pytest.mark.parametrize("actor", ["submitter", "reviewer"])
def test_only_admins_change_the_lists(request, actor, admin_user) -> None:
    entry = seller_list_entry_add(
        actor=admin_user, seller_tax_id=SELLER_TAX_ID, list_name="watch"
    )
    user = request.getfixturevalue(actor)

    with pytest.raises(PermissionDeniedError):
        seller_list_entry_add(
            actor=user, seller_tax_id=SELLER_TAX_ID, list_name="block"
        )
    with pytest.raises(PermissionDeniedError):
        seller_list_entry_remove(actor=user, entry_id=entry.pk)

    assert SellerListEntry.objects.count() == 1


def test_remove_deletes_and_audits_then_reports_missing(admin_user) -> None:
    entry = seller_list_entry_add(
        actor=admin_user, seller_tax_id=SELLER_TAX_ID, list_name="block", note="x"
    )

    seller_list_entry_remove(actor=admin_user, entry_id=entry.pk)

    assert not SellerListEntry.objects.exists()
    removed = AuditEntry.objects.order_by("seq").last()
    assert removed.action == "seller_list.removed"
    assert removed.data == {
        "seller_tax_id": SELLER_TAX_ID,
        "list": "block",
        "note": "x",
    }
    with pytest.raises(NotFoundError):
        seller_list_entry_remove(actor=admin_user, entry_id=entry.pk)


def test_a_watchlisted_seller_sends_its_invoices_to_review(
    admin_user, organization, submitter
) -> None:
    seller_list_entry_add(
        actor=admin_user, seller_tax_id=SELLER_TAX_ID.lower(), list_name="watch"
    )
    invoice = make_invoice(organization, submitter)
    register(invoice)

    screen_invoice(invoice_id=invoice.pk)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    assert invoice.check_results.get(rule_code="sellers.watchlist").outcome == "fail"
