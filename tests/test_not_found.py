"""The portal's own 404 page, in every mode: never Django's technical page that lists
every URL pattern, even with DEBUG on."""

from __future__ import annotations

import pytest
from django.test import override_settings


@pytest.mark.parametrize("debug", [True, False])
def test_unknown_page_answers_the_portals_page_in_every_mode(client, db, debug):
    with override_settings(DEBUG=debug):
        response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "URLconf" not in body and "invoiceportal.urls" not in body
    assert "api/v1/" not in body  # no pattern listed


def test_unknown_api_address_answers_json_with_debug_on(client, db):
    with override_settings(DEBUG=True):
        response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_views_own_404_with_debug_on_is_the_portals_page(client, db, submitter):
    client.force_login(submitter)
    with override_settings(DEBUG=True):
        response = client.get("/invoices/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert b"URLconf" not in response.content
    assert b"Traceback" not in response.content


def test_favicon_is_served(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.ico")
