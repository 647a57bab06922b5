"""``/api/v1/webhook-endpoints/`` and the pages: the secret once, administrators
only, each their own organizations, clear refusals."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.conftest import api_as
from tests.factories import make_invoice
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_endpoint_create

from .helpers import decide

pytestmark = pytest.mark.django_db

LIST = "/api/v1/webhook-endpoints/"
PUBLIC_URL = "https://93.184.215.14/erp/hooks"


def _create(client, organization, **changes):
    body = {
        "url": PUBLIC_URL,
        "events": ["invoice.decided", "task.breached"],
        "organization": organization.pk,
    } | changes
    return client.post(LIST, body, format="json")


def test_create_shows_the_secret_once_and_never_again(admin_user, organization):
    client = api_as(admin_user)
    created = _create(client, organization)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["events"] == ["invoice.decided", "task.breached"]
    assert body["active"] is True and body["organization"] == organization.pk
    listed = client.get(LIST).json()
    assert listed["count"] == 1
    assert "secret" not in listed["results"][0]
    detail = client.get(f"{LIST}{body['id']}/").json()
    assert "secret" not in detail
    assert body["secret"] not in client.get(LIST).content.decode()
    assert WebhookEndpoint.objects.get().secret == body["secret"]


def test_refused_addresses_answer_in_the_error_shape(admin_user, organization):
    client = api_as(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    for url, text in [
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("https://10.0.0.3/hook", "10.0.0.3 is a private address"),
        ("https://169.254.169.254/", "169.254.169.254 is a link-local address"),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://localhost/hook", "localhost resolves to"),
        ("http://93.184.215.14/hook", "Plain http:// is not allowed"),
    ]:
        answer = _create(client, organization, url=url)
        assert answer.status_code == 400, url
        body = answer.json()
        assert body["code"] == "address_refused"
        assert text in body["message"]
        assert text in body["details"]["url"][0]
    bad_events = _create(client, organization, events=["invoice.paid"])
    assert bad_events.status_code == 400
    assert bad_events.json()["code"] == "invalid"
    assert "events" in bad_events.json()["details"]
    assert _create(client, organization, events=[]).status_code == 400
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    chinese = _create(client, organization, url="https://127.0.0.1/").json()
    assert chinese["message"] == "127.0.0.1 是环回地址：回调只发送到公网地址。"
    assert WebhookEndpoint.objects.count() == 0


def test_update_resume_and_rotate(admin_user, organization):
    client = api_as(admin_user)
    created = _create(client, organization).json()
    url = f"{LIST}{created['id']}/"
    changed = client.patch(url, {"active": False, "events": ["invoice.withdrawn"]})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["active"] is False
    assert changed.json()["events"] == ["invoice.withdrawn"]
    refused = client.patch(url, {"url": "https://192.168.0.9/x"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "address_refused"
    assert client.put(url, {}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    assert client.post(f"{url}resume/").status_code == 200
    rotated = client.post(f"{url}rotate-secret/").json()["secret"]
    assert rotated != created["secret"]
    assert WebhookEndpoint.objects.get().secret == rotated


def test_administrators_only(submitter, reviewer, supervisor, organization):
    assert api_as(submitter).get(LIST).status_code == 403
    assert api_as(reviewer).get(LIST).status_code == 403
    assert api_as(supervisor).get(LIST).status_code == 403
    assert _create(api_as(supervisor), organization).status_code == 403
    anonymous = Client().get(LIST)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"


def test_an_organization_admin_sees_and_registers_only_its_own(
    org_admin, admin_user, organization, other_organization
):
    theirs, _ = webhook_endpoint_create(
        actor=admin_user,
        organization=other_organization,
        url=PUBLIC_URL,
        events=["invoice.decided"],
    )
    client = api_as(org_admin)
    assert client.get(LIST).json()["count"] == 0
    assert client.get(f"{LIST}{theirs.pk}/").status_code == 404
    assert client.patch(f"{LIST}{theirs.pk}/", {"active": False}).status_code == 404
    assert client.post(f"{LIST}{theirs.pk}/rotate-secret/").status_code == 404
    other = _create(client, other_organization)
    assert other.status_code == 400
    assert "organization" in other.json()["details"]
    own = _create(client, organization)
    assert own.status_code == 201
    assert [e["id"] for e in client.get(LIST).json()["results"]] == [own.json()["id"]]
    # The portal's administrator (no organization) manages both.
    assert api_as(admin_user).get(LIST).json()["count"] == 2


def test_pages_register_show_the_secret_once_and_log_deliveries(
    admin_user, organization, submitter, settings
):
    admin_user.language = "en"
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    home = client.get(reverse("accounts:admin_home"))
    assert reverse("webhooks:endpoints") in home.content.decode()
    refused = client.post(
        reverse("webhooks:endpoint_new"),
        {
            "organization": organization.pk,
            "url": "https://127.0.0.1/x",
            "events": ["invoice.decided"],
            "active": "on",
        },
    )
    assert refused.status_code == 200
    assert "127.0.0.1" in refused.content.decode()
    assert WebhookEndpoint.objects.count() == 0
    created = client.post(
        reverse("webhooks:endpoint_new"),
        {
            "organization": organization.pk,
            "url": PUBLIC_URL,
            "events": ["invoice.decided"],
            "active": "on",
        },
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in created.content.decode()
    listing = client.get(reverse("webhooks:endpoints")).content.decode()
    edit = client.get(reverse("webhooks:endpoint_edit", args=[endpoint.pk]))
    assert PUBLIC_URL in listing and "X-Signature" in listing
    assert endpoint.secret not in listing
    assert endpoint.secret not in edit.content.decode()

    decide(make_invoice(organization, submitter))
    delivery = WebhookDelivery.objects.get()
    log = client.get(reverse("webhooks:deliveries", args=[endpoint.pk]))
    assert log.status_code == 200
    assert f'data-delivery="{delivery.pk}"' in log.content.decode()
    replay = client.post(reverse("webhooks:delivery_replay", args=[delivery.pk]))
    assert replay.status_code == 302


def test_the_edit_page_saves_the_endpoint_and_refuses_private_addresses(
    admin_user, organization
):
    endpoint, _secret = webhook_endpoint_create(
        actor=admin_user,
        organization=organization,
        url=PUBLIC_URL,
        events=["invoice.decided"],
    )
    client = Client()
    client.force_login(admin_user)
    edit = reverse("webhooks:endpoint_edit", args=[endpoint.pk])
    form = client.get(edit).content.decode()
    assert PUBLIC_URL in form
    refused = client.post(
        edit, {"url": "https://127.0.0.1/x", "events": ["invoice.decided"]}
    )
    assert refused.status_code == 200
    assert "127.0.0.1" in refused.content.decode()
    saved = client.post(
        edit,
        {
            "url": PUBLIC_URL + "/v2",
            "events": ["invoice.withdrawn", "task.breached"],
            "description": "ERP",
        },
    )
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.active, endpoint.description) == (
        PUBLIC_URL + "/v2",
        ["invoice.withdrawn", "task.breached"],
        False,
        "ERP",
    )


def test_pages_refuse_other_roles_and_other_organizations(
    submitter, supervisor, org_admin, admin_user, other_organization
):
    theirs, _ = webhook_endpoint_create(
        actor=admin_user,
        organization=other_organization,
        url=PUBLIC_URL,
        events=["invoice.decided"],
    )
    for user in (submitter, supervisor):
        client = Client()
        client.force_login(user)
        assert client.get(reverse("webhooks:endpoints")).status_code == 403
    client = Client()
    client.force_login(org_admin)
    assert client.get(reverse("webhooks:endpoints")).status_code == 200
    for name in ("webhooks:endpoint_edit", "webhooks:deliveries"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    rotate = reverse("webhooks:endpoint_rotate_secret", args=[theirs.pk])
    assert client.post(rotate).status_code == 404


def test_pages_in_both_languages(admin_user):
    client = Client()
    client.force_login(admin_user)
    for language, title in (
        ("zh-hans", "如何校验回调"),
        ("en", "How to check a webhook"),
    ):
        admin_user.language = language
        admin_user.save()
        with translation.override(language):
            page = client.get(reverse("webhooks:endpoints"))
        assert title in page.content.decode(), language
