"""The administrator's organizations pages (issue 10), and the same rules by API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Organization
from accounts.roles import Role
from invoiceportal.audit.models import AuditEntry
from invoiceportal.invoices.status import InvoiceStatus
from tests.conftest import api_as
from tests.factories import OrganizationFactory, UserFactory, make_uscc
from tests.invoices.submitter.helpers import make_invoice

pytestmark = pytest.mark.django_db

# The service's message, as the pages show it (Chinese by default).
DUPLICATE = "An organization with this taxpayer ID already exists."


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _form(**changes):
    data = {"name": "丁公司", "tax_id": make_uscc(424242), "is_active": "on"}
    data.update(changes)
    return data


def test_list_shows_organizations_with_user_counts_and_searches(
    admin_client, organization, other_organization
):
    UserFactory.create_batch(2, organization=organization)
    response = admin_client.get(reverse("accounts:manage_organizations"))
    assert response.status_code == 200
    counts = {o.pk: o.user_count for o in response.context["page"]}
    assert counts[organization.pk] == 2
    assert counts[other_organization.pk] == 0
    found = admin_client.get(
        reverse("accounts:manage_organizations"), {"q": other_organization.tax_id}
    )
    assert [o.pk for o in found.context["page"]] == [other_organization.pk]


def test_admin_creates_an_organization_with_audit(admin_client, admin_user):
    tax_id = make_uscc(424242)
    response = admin_client.post(
        reverse("accounts:manage_organization_new"), _form(tax_id=tax_id.lower())
    )
    org = Organization.objects.get(tax_id=tax_id)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "accounts:manage_organization", args=[org.pk]
    )
    assert org.name == "丁公司" and org.is_active
    entry = AuditEntry.objects.get(action="organization.create", object_id=str(org.pk))
    assert entry.actor == admin_user


@pytest.mark.parametrize("tax_id", ["91500102563638729E", "123", "91110108717809965C"])
def test_invalid_uscc_is_refused_on_the_form(admin_client, tax_id):
    before = Organization.objects.count()
    response = admin_client.post(
        reverse("accounts:manage_organization_new"), _form(tax_id=tax_id)
    )
    assert response.status_code == 200
    assert "tax_id" in response.context["form"].errors
    assert Organization.objects.count() == before


def test_duplicate_tax_id_is_refused_with_a_clear_message(
    admin_client, organization, other_organization
):
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("zh-hans"):
        expected = gettext(DUPLICATE)
    assert expected != DUPLICATE  # translated
    created = admin_client.post(
        reverse("accounts:manage_organization_new"),
        _form(tax_id=organization.tax_id),
    )
    assert created.context["form"].errors["tax_id"] == [expected]
    edited = admin_client.post(
        reverse("accounts:manage_organization_edit", args=[other_organization.pk]),
        _form(name=other_organization.name, tax_id=organization.tax_id),
    )
    assert edited.status_code == 200
    assert edited.context["form"].errors["tax_id"] == [expected]
    other_organization.refresh_from_db()
    assert other_organization.tax_id != organization.tax_id


def test_duplicate_tax_id_on_edit_by_the_api(
    admin_user, organization, other_organization
):
    response = api_as(admin_user).patch(
        f"/api/v1/organizations/{other_organization.pk}/",
        {"tax_id": organization.tax_id},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["details"]["tax_id"]


def test_admin_edits_name_tax_id_and_active_with_audit(
    admin_client, admin_user, organization
):
    new_tax_id = make_uscc(515151)
    response = admin_client.post(
        reverse("accounts:manage_organization_edit", args=[organization.pk]),
        {"name": "新名称有限公司", "tax_id": new_tax_id},  # is_active unchecked
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.name == "新名称有限公司"
    assert organization.tax_id == new_tax_id
    assert not organization.is_active
    entry = AuditEntry.objects.get(
        action="organization.update", object_id=str(organization.pk)
    )
    assert entry.actor == admin_user
    assert entry.data["after"]["is_active"] is False


def test_detail_shows_users_and_invoice_counts_by_status(
    admin_client, organization, submitter
):
    other = OrganizationFactory()
    make_invoice(organization, submitter)
    make_invoice(organization, submitter, status=InvoiceStatus.APPROVED)
    make_invoice(organization, submitter, status=InvoiceStatus.APPROVED)
    make_invoice(other, UserFactory(organization=other))
    colleague = UserFactory(organization=organization, role=Role.SUBMITTER)
    response = admin_client.get(
        reverse("accounts:manage_organization", args=[organization.pk])
    )
    assert response.status_code == 200
    counts = dict(response.context["invoice_counts"])
    assert counts[InvoiceStatus.APPROVED.label] == 2
    assert counts[InvoiceStatus.RECEIVED.label] == 1
    assert counts[InvoiceStatus.REJECTED.label] == 0
    assert sum(counts.values()) == 3
    assert {u.username for u in response.context["page"]} == {
        submitter.username,
        colleague.username,
    }
    assert response.context["user_total"] == 2


def test_organization_pages_are_for_administrators(client, supervisor, organization):
    client.force_login(supervisor)
    for url in (
        reverse("accounts:manage_organizations"),
        reverse("accounts:manage_organization_new"),
        reverse("accounts:manage_organization", args=[organization.pk]),
        reverse("accounts:manage_organization_edit", args=[organization.pk]),
    ):
        assert client.get(url).status_code == 403
    response = client.post(
        reverse("accounts:manage_organization_edit", args=[organization.pk]),
        {"name": "x", "tax_id": organization.tax_id},
    )
    assert response.status_code == 403
    organization.refresh_from_db()
    assert organization.name != "x"


def test_missing_organization_is_404(admin_client):
    assert (
        admin_client.get(
            reverse("accounts:manage_organization", args=[999999])
        ).status_code
        == 404
    )


def test_list_pages_keep_the_search(admin_client):
    from accounts.manage.selectors import PAGE_SIZE

    OrganizationFactory.create_batch(PAGE_SIZE + 1, name="搜索&测试公司")
    response = admin_client.get(
        reverse("accounts:manage_organizations"), {"q": "搜索&测试"}
    )
    assert response.context["page"].paginator.count == PAGE_SIZE + 1
    assert "q=%E6%90%9C%E7%B4%A2%26%E6%B5%8B%E8%AF%95&page=2" in (
        response.content.decode()
    )
