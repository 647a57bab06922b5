"""How fast is the reviewer's task page with a 3-page PDF, first view vs cached?

Submits a generated 3-page 数电 PDF (tests/docgen) through intake, screens it, has a
reviewer claim the task, then requests the task page through Django's test client
(the whole stack but the network):

- first view: the render cache (storage) and Django's cache emptied before each
  round; the task page (which
  reads the PDF's text layout to place the field boxes) plus its three page images
  (pypdfium2 renders);
- cached: the same requests with the layout and the page images in the cache.

Prints p50/p95 server time of the task page alone and of the page with its three
images, and the first/cached ratios. Issue 11 target: task page p95 < 150 ms with
the images cached.

Run from the repository root (a scratch SQLite database and media directory are
made in a temporary directory unless DATABASE_URL / MEDIA_ROOT are set):
    .venv/bin/python bench/bench_task_page.py [--first 15] [--cached 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCRATCH = Path(tempfile.mkdtemp(prefix="bench-task-page-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{SCRATCH / 'bench.sqlite3'}")
os.environ.setdefault("MEDIA_ROOT", str(SCRATCH / "media"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invoiceportal.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(name: str, times: list[float]) -> str:
    return (
        f"  {name:38} p50 {statistics.median(times):7.1f} ms   "
        f"p95 {percentile(times, 95):7.1f} ms   (n={len(times)})"
    )


def setup():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from accounts.models import Organization, User
    from accounts.roles import Role
    from accounts.services import user_sync_groups
    from invoiceportal.invoices.intake import invoice_submit_file
    from reviews.models import ReviewTask, SecondReviewRule
    from reviews.queue.services import review_task_claim_next
    from reviews.screening import screen_invoice
    from tests.docgen.registry import clean_digital_invoice
    from tests.factories import make_uscc
    from tests.reviews.workbench.conftest import many_lines

    SecondReviewRule.objects.update(enabled=False)
    org = Organization.objects.create(name="基准测试提交企业", tax_id=make_uscc(9101))
    centre = Organization.objects.create(
        name="基准测试审核中心", tax_id=make_uscc(9102)
    )
    submitter = User.objects.create(
        username="bench-submitter", role=Role.SUBMITTER, organization=org
    )
    reviewer = User.objects.create(
        username="bench-reviewer", role=Role.REVIEWER, organization=centre
    )
    for user in (submitter, reviewer):
        user_sync_groups(user)
    from tests.docgen.pdf_doc import make_pdf

    truth = many_lines(
        clean_digital_invoice(3, buyer_name=org.name, buyer_tax_id=org.tax_id)
    )
    result = invoice_submit_file(
        user=submitter, data=make_pdf(truth, pages=3), filename="invoice.pdf"
    )
    screen_invoice(invoice_id=result.invoice.pk)
    task = review_task_claim_next(user=reviewer)
    assert task is not None, "the invoice did not go to review"
    assert ReviewTask.objects.filter(pk=task.pk, state="claimed").exists()
    return task, reviewer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--first", type=int, default=15, help="first-view rounds")
    parser.add_argument("--cached", type=int, default=200, help="cached rounds")
    args = parser.parse_args()
    try:
        run(args)
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    task, reviewer = setup()
    import re

    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(reviewer)
    url = f"/reviews/tasks/{task.pk}/"
    cache_dir = Path(settings.MEDIA_ROOT) / settings.WORKBENCH_CACHE_PREFIX

    def page_and_images() -> tuple[float, float]:
        t0 = time.perf_counter()
        response = client.get(url)
        page_ms = 1000 * (time.perf_counter() - t0)
        assert response.status_code == 200
        images = re.findall(
            r'class="wb-page-img" src="([^"]+)"', response.content.decode()
        )
        assert len(images) == 3, images
        for src in images:
            r = client.get(src.replace("&amp;", "&"))
            assert r.status_code == 200 and r["Content-Type"] == "image/png"
        return page_ms, 1000 * (time.perf_counter() - t0)

    for _ in range(3):  # warm up: connection, templates, pdfium, translations
        page_and_images()

    first_page, first_all = [], []
    from django.core.cache import cache

    for _ in range(args.first):
        shutil.rmtree(cache_dir, ignore_errors=True)  # rendered pages, layouts
        cache.clear()  # page sizes and field boxes (and whatever else is cached)
        page_ms, all_ms = page_and_images()
        first_page.append(page_ms)
        first_all.append(all_ms)

    page_and_images()  # fill the cache
    cached_page, cached_all = [], []
    for _ in range(args.cached):
        page_ms, all_ms = page_and_images()
        cached_page.append(page_ms)
        cached_all.append(all_ms)

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"Task page with a 3-page PDF ({engine}, test client, server time)")
    print("first view (render cache emptied before each round):")
    print(summary("task page", first_page))
    print(summary("task page + 3 page images", first_all))
    print("cached (layout and page images in the cache):")
    print(summary("task page", cached_page))
    print(summary("task page + 3 page images", cached_all))
    for name, a, b in (
        ("task page", first_page, cached_page),
        ("task page + 3 page images", first_all, cached_all),
    ):
        print(
            f"  ratio first/cached, {name}: p50 "
            f"{statistics.median(a) / statistics.median(b):.1f}x, p95 "
            f"{percentile(a, 95) / percentile(b, 95):.1f}x"
        )
    p95 = percentile(cached_page, 95)
    verdict = "meets" if p95 < 150 else "MISSES"
    print(f"target: cached task page p95 < 150 ms -> {p95:.1f} ms, {verdict} it")


if __name__ == "__main__":
    main()
