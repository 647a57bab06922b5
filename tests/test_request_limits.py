import pytest

from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def test_an_oversized_api_request_is_refused_before_it_is_read(submitter, settings):
    settings.MAX_REQUEST_MB = 1
    response = api_as(submitter).post(
        "/api/v1/invoices/",
        data=b"x" * 100,
        content_type="application/octet-stream",
        CONTENT_LENGTH=str(2 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_an_oversized_page_upload_is_refused(client, submitter, settings):
    settings.MAX_REQUEST_MB = 1
    client.force_login(submitter)
    response = client.post(
        "/invoices/upload/file/",
        data=b"x",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(5 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "1 MB" in response.content.decode()


def test_requests_within_the_limit_pass(client, submitter):
    client.force_login(submitter)
    assert client.get("/invoices/").status_code == 200
