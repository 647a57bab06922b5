"""Issue 12: the manual entry's tax rate as people write it, impossible rates
refused with a clear message, and a reused scan keeps what was typed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from invoiceportal.invoices.forms import ManualLineForm
from invoiceportal.invoices.models import Invoice
from tests.invoices.test_manual_entry import form_data, scan


def _line(rate: str) -> ManualLineForm:
    form = ManualLineForm({"name": "餐费", "amount": "100.00", "tax_rate": rate})
    form.is_valid()
    return form


@pytest.mark.parametrize("written", ["6", "6 %", "6%", "6％", "0.06", " 6.0 "])
def test_six_percent_however_it_is_written(written):
    form = _line(written)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tax_rate"] == Decimal("0.06")


@pytest.mark.parametrize(
    ("written", "fraction"),
    [("13", "0.13"), ("1", "0.01"), ("1.5 %", "0.015"), ("0", "0"), ("免税", None)],
)
def test_other_rates_in_use(written, fraction):
    form = _line(written)
    assert form.is_valid(), form.errors
    expected = None if fraction is None else Decimal(fraction)
    assert form.cleaned_data["tax_rate"] == expected


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("-6", "between 0 % and 100 %"),
        ("600", "between 0 % and 100 %"),
        ("7", "not a tax rate used in China"),
        ("0.5", "not a tax rate used in China"),
        ("six", "as a number"),
    ],
)
def test_impossible_rates_are_refused_with_a_clear_message(written, says):
    from django.utils import translation

    with translation.override("en"):
        form = _line(written)
        assert not form.is_valid()
        assert says in " ".join(form.errors["tax_rate"])


@pytest.mark.django_db
def test_reusing_an_earlier_scan_keeps_every_typed_field(client, submitter):
    client.force_login(submitter)
    org = submitter.organization
    data = scan()
    first = form_data(
        org, scan=SimpleUploadedFile("a.png", data, content_type="image/png")
    )
    assert client.post(reverse("invoices:manual"), first).status_code == 302
    earlier = Invoice.objects.get()
    second = form_data(
        org,
        number="07654321",
        seller_name="上海某某咨询有限公司",
        remarks="第二张",
        scan=SimpleUploadedFile("b.png", data, content_type="image/png"),
    )
    response = client.post(reverse("invoices:manual"), second)
    assert response.status_code == 200
    html = response.content.decode()
    assert earlier.reference in html
    for typed in ("07654321", "上海某某咨询有限公司", "第二张", "*餐饮服务*餐费"):
        assert typed in html
    assert Invoice.objects.count() == 1
