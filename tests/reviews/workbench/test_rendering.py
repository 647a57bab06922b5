"""Each kind of document rendered for the workbench: PDF pages and scans as PNG, OFD
pages as SVG drawn from their objects, 数电 XML as an invoice layout; rendered pages
cached by SHA-256, page and scale; field boxes where the values are printed."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.template import Context, Template
from django.test import RequestFactory
from PIL import Image

from invoiceportal.invoices.extraction.errors import ExtractionError
from invoiceportal.invoices.extraction.layout import TextBox
from reviews.context import latest_document
from reviews.workbench.locate import candidates, locate_fields
from reviews.workbench.ofd import _svg_path, page_svg, read_ofd_pages
from reviews.workbench.selectors import workbench_document
from tests.docgen.image_doc import make_image
from tests.docgen.ofd_doc import make_ofd
from tests.docgen.pdf_doc import make_pdf
from tests.docgen.xml_doc import make_xml

from .conftest import many_lines

PNG = b"\x89PNG\r\n\x1a\n"


def workbench_html(task: Any, user: Any) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load workbench %}{% workbench task %}").render(
        Context({"request": request, "task": task})
    )


def page_url(task: Any, page: int, scale: str = "2") -> str:
    return f"/reviews/tasks/{task.pk}/page/?page={page}&scale={scale}"


def test_three_page_pdf_renders_each_page_and_caches_it(
    submit_doc, truth, claimed, reviewer, client
) -> None:
    invoice, task = submit_doc(make_pdf(many_lines(truth), pages=3), "invoice.pdf")
    claimed(task)
    wb = workbench_document(task)
    assert wb.kind == "pdf" and not wb.error
    assert [p.number for p in wb.pages] == [1, 2, 3]
    assert all(p.width > 500 and p.height > 300 for p in wb.pages)  # points
    client.force_login(reviewer)
    for page in (1, 2, 3):
        response = client.get(page_url(task, page))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response.content.startswith(PNG)
        img = Image.open(io.BytesIO(response.content))
        assert img.width == pytest.approx(wb.pages[0].width * 2, abs=2)
    assert client.get(page_url(task, 4)).status_code == 404
    sha = latest_document(invoice).sha256
    cached = f"workbench-cache/{sha[:2]}/{sha}/p2-s2.png"
    assert default_storage.exists(cached)
    # The cache answers without the original: remove the file and ask again.
    document = latest_document(invoice)
    default_storage.delete(document.file.name)
    again = client.get(page_url(task, 2))
    assert again.status_code == 200
    assert again.content == default_storage.open(cached).read()


def test_pdf_field_boxes_point_at_the_printed_values(
    submit_doc, truth, claimed, reviewer
) -> None:
    _invoice, task = submit_doc(make_pdf(many_lines(truth), pages=3), "invoice.pdf")
    claimed(task)
    boxes = {f.name: f.box for f in workbench_document(task).fields if f.box}
    for name in ("number", "issue_date", "buyer_tax_id", "seller_tax_id"):
        assert boxes[name].page == 1, name
    # Totals are printed on the last page only (共3页).
    for name in ("amount", "tax_amount", "total_amount", "total_in_words"):
        assert boxes[name].page == 3, name
    for box in boxes.values():
        assert 0 <= box.x < 1 and 0 <= box.y < 1 and 0 < box.w < 1 and 0 < box.h < 1
    html = workbench_html(task, reviewer)
    assert html.count('class="wb-page mb-2"') == 3
    assert re.search(
        r'class="wb-box" data-field="total_amount" data-left="[\d.]+"', html
    )
    assert 'data-field="buyer_tax_id" tabindex="0"' in html


def test_photo_is_normalised_to_png_with_ocr_boxes(
    submit_doc, truth, claimed, reviewer, client
) -> None:
    _invoice, task = submit_doc(make_image(truth, fmt="JPEG"), "photo.jpg")
    claimed(task)
    wb = workbench_document(task)
    assert wb.kind == "image" and len(wb.pages) == 1
    client.force_login(reviewer)
    response = client.get(page_url(task, 1))
    assert response.status_code == 200
    assert response.content.startswith(PNG)
    boxes = {f.name: f.box for f in wb.fields if f.box}
    assert "number" in boxes and boxes["number"].page == 1
    assert client.get(page_url(task, 2)).status_code == 404


def test_ofd_page_is_drawn_as_svg_from_its_text_objects(
    submit_doc, truth, claimed, reviewer, client
) -> None:
    _invoice, task = submit_doc(make_ofd(truth, layout=0), "invoice.ofd")
    claimed(task)
    wb = workbench_document(task)
    assert wb.kind == "ofd" and wb.pages[0].width == 210 and wb.pages[0].height == 140
    client.force_login(reviewer)
    response = client.get(page_url(task, 1))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    svg = response.content.decode()
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?><svg ')
    assert 'viewBox="0 0 210 140"' in svg
    for value in (truth.number, truth.seller_name, truth.buyer_tax_id):
        assert f">{value}</text>" in svg
    assert "<script" not in svg
    boxes = {f.name: f.box for f in wb.fields if f.box}
    # The number is printed at (160, 15) mm of a 210 x 140 mm page.
    assert boxes["number"].x == pytest.approx(160 / 210, abs=0.01)
    assert boxes["number"].y == pytest.approx((15 + 3 - 3.175 * 0.9) / 140, abs=0.01)


def _ofd_with(part: str, content: bytes, base: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = content if info.filename == part else src.read(info)
            dst.writestr(info.filename, data)
    return out.getvalue()


def test_hostile_ofd_page_is_refused_not_parsed(truth) -> None:
    page = "Doc_0/Pages/Page_0/Content.xml"
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><p>&b;</p>'
    )
    hostile = _ofd_with(page, bomb, make_ofd(truth, layout=0))
    with pytest.raises(ExtractionError):
        read_ofd_pages(hostile)


def test_ofd_paths_images_and_escaping() -> None:
    assert _svg_path("S 0 0 L 10 0 B 1 2 3 4 5 6 Q 1 1 2 2 C") == (
        "M 0 0 L 10 0 C 1 2 3 4 5 6 Q 1 1 2 2 Z"
    )
    assert _svg_path("M 0 0 L x 1") == "M 0 0"
    from reviews.workbench.ofd import OfdPage, OfdText

    page = OfdPage(100, 50, [OfdText(1, 5, 3, "<script>&", [1, 2, 3])])
    svg = page_svg(page, scale=1)
    assert "&lt;script&gt;&amp;</text>" in svg and "<script>" not in svg


def test_xml_is_shown_as_an_invoice_layout(
    submit_doc, truth, claimed, reviewer, client
) -> None:
    _invoice, task = submit_doc(make_xml(truth), "invoice.xml")
    claimed(task)
    wb = workbench_document(task)
    assert wb.kind == "xml" and wb.pages == []
    html = workbench_html(task, reviewer)
    assert 'id="wb-xml"' in html
    assert f'<span data-field="buyer_name">{truth.buyer_name}</span>' in html
    assert f'<span data-field="seller_name">{truth.seller_name}</span>' in html
    assert f'data-field="total_in_words">{truth.total_in_words}</td>' in html
    assert f"¥{truth.total_amount:.2f}" in html
    assert html.count("<tr><td>") == len(truth.lines)
    client.force_login(reviewer)
    assert client.get(page_url(task, 1)).status_code == 404  # nothing to draw


def test_damaged_pdf_gets_a_placeholder_and_a_message(
    submit_doc, truth, claimed, reviewer, client
) -> None:
    invoice, task = submit_doc(make_pdf(truth), "invoice.pdf")
    claimed(task)
    document = latest_document(invoice)
    name = document.file.name
    default_storage.delete(name)
    default_storage.save(name, io.BytesIO(b"%PDF-1.4 broken\n%%EOF\n"))
    document.sha256 = "f" * 64  # what the broken bytes would be named by
    document.save(update_fields=["sha256"])
    wb = workbench_document(task)
    assert wb.error and len(wb.pages) == 1
    assert 'id="wb-render-error"' in workbench_html(task, reviewer)
    client.force_login(reviewer)
    response = client.get(page_url(task, 1))
    assert response.status_code == 200 and response.content.startswith(PNG)


def test_unknown_scale_falls_back_and_bad_page_is_404(
    submit_doc, truth, claimed, reviewer, client
) -> None:
    invoice, task = submit_doc(make_pdf(truth), "invoice.pdf")
    claimed(task)
    client.force_login(reviewer)
    assert client.get(page_url(task, 1, scale="9")).status_code == 200
    assert client.get(page_url(task, 1, scale="x")).status_code == 200
    sha = latest_document(invoice).sha256
    assert default_storage.exists(f"workbench-cache/{sha[:2]}/{sha}/p1-s2.png")
    assert client.get(f"/reviews/tasks/{task.pk}/page/?page=x").status_code == 404
    assert client.get(page_url(task, 0)).status_code == 404


def test_locate_prefers_the_total_row_and_keeps_numbers_whole() -> None:
    from decimal import Decimal

    page = [
        TextBox("*服务*费", 10, 10, 60, 20),
        TextBox("2100.00", 100, 10, 140, 20),
        TextBox("合计", 10, 40, 30, 50),
        TextBox("¥2,100.00", 100, 40, 150, 50),
        TextBox("发票号码：12345678", 10, 80, 120, 90),
    ]
    found = locate_fields(
        [page],
        [(200.0, 100.0)],
        {"amount": Decimal("2100.00"), "tax_amount": Decimal("100.00")},
    )
    assert found["amount"].y == pytest.approx(0.4)  # the 合计 row, not the line
    assert "tax_amount" not in found  # "100.00" inside "2100.00" is not it
    assert candidates("number", "") == [] and candidates("is_red", True) == []


def test_layout_is_read_from_the_cache(submit_doc, truth, claimed) -> None:
    invoice, task = submit_doc(make_pdf(truth), "invoice.pdf")
    claimed(task)
    first = workbench_document(task)
    # Without the original file only the cache can answer the second time.
    default_storage.delete(latest_document(invoice).file.name)
    second = workbench_document(task)
    assert not second.error
    assert second.pages == first.pages and second.fields == first.fields
