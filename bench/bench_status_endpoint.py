"""The submitter's live status poll at scale: p95 latency with 1,000,000 invoices in
PostgreSQL, next to a minimal Django view in the same run.

    .venv/bin/python bench/bench_status_endpoint.py [--invoices N] [--requests N]

Uses (and recreates) the database ``invoiceportal_bench_status`` on the local
PostgreSQL, or BENCH_DATABASE_URL. Invoices are spread over 10 organizations
(100,000 each at the default size), inserted with one INSERT ... SELECT.

Requests go through the whole Django stack in process (middleware, session, auth,
the view, the template when it renders) with the test client, signed in as a
submitter, one after another. Prints, for each:
  * ``minimal``   a signed-in view that answers 204 and touches nothing (baseline);
  * ``unchanged`` the status poll when the status is what the page shows (204);
  * ``changed``   the status poll when it changed (the refreshed panel, 200);
  * ``list``      the first page of My invoices, and a page deep in the keyset;
and the ratio of the unchanged poll's p95 to the baseline's (target: within 3x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get(
    "BENCH_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/invoiceportal_bench_status",
)
os.environ.update(
    {
        "DATABASE_URL": URL,
        "DJANGO_SETTINGS_MODULE": "invoiceportal.settings",
        "DEBUG": "0",
        "MEDIA_ROOT": tempfile.mkdtemp(prefix="bench-media-"),
        "LOG_LEVEL": "WARNING",
        "ACCESS_LOG_LEVEL": "WARNING",  # no access line per request
    }
)
ORGS = 10


def recreate_database() -> None:
    import psycopg

    base, name = URL.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def bench_urls() -> str:
    """The portal's URLs plus the minimal baseline view."""
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse
    from django.urls import path

    import invoiceportal.urls as portal

    @login_required
    def minimal(request):
        return HttpResponse(status=204)

    module = types.ModuleType("bench_status_urls")
    module.urlpatterns = [path("bench/minimal/", minimal), *portal.urlpatterns]
    sys.modules[module.__name__] = module
    return module.__name__


def populate(total: int) -> tuple:
    from django.db import connection

    from accounts.models import Organization, User
    from accounts.roles import Role
    from accounts.services import user_sync_groups
    from tests.factories import make_uscc

    orgs = [
        Organization.objects.create(name=f"基准企业{i}", tax_id=make_uscc(10_000 + i))
        for i in range(ORGS)
    ]
    users = []
    for i, org in enumerate(orgs):
        user = User.objects.create_user(
            f"bench{i}",
            password="bench-password-2026",
            role=Role.SUBMITTER,
            organization=org,
        )
        user_sync_groups(user)
        users.append(user)
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO invoices_invoice (
              id, reference, organization_id, submitted_by_id, status, kind, code,
              number, identity, issue_date, check_code, seller_name, seller_tax_id,
              buyer_name, buyer_tax_id, amount, tax_amount, total_amount,
              total_in_words, remarks, is_red, decision_source, decision_reason,
              priority, expedite_reason, idempotency_key, submitted_at, decided_at,
              updated_at, extras, qr_payload, idempotency_fingerprint,
              corrected_fields)
            SELECT gen_random_uuid(), 'INV-B-' || lpad(g::text, 8, '0'),
              (%(orgs)s::bigint[])[1 + g %% %(n_orgs)s],
              (%(users)s::bigint[])[1 + g %% %(n_orgs)s],
              (ARRAY['approved','approved','approved','rejected','in_review',
                     'withdrawn'])[1 + g %% 6],
              'digital_special', '', lpad(g::text, 20, '0'), lpad(g::text, 20, '0'),
              DATE '2026-01-01' + (g %% 300), '', '供应商' || (g %% 997),
              '91110108' || lpad((g %% 997)::text, 10, '0'), '', '',
              (g %% 100000) / 10.0, (g %% 100000) / 100.0, (g %% 100000) / 9.0,
              '', '', false, '', '', 0, '', '',
              now() - make_interval(secs => g * 7), NULL, now(), '{}', '', '',
              '{}'
            FROM generate_series(1, %(total)s) AS g
            """,
            {
                "orgs": [o.pk for o in orgs],
                "users": [u.pk for u in users],
                "n_orgs": ORGS,
                "total": total,
            },
        )
        cur.execute("ANALYZE invoices_invoice")
    print(f"inserted {total:,} invoices in {time.perf_counter() - started:.1f} s")
    return orgs, users


def timed(client, url: str, n: int, expect: int) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == expect, (url, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment

    call_command("migrate", verbosity=0)
    setup_test_environment()
    orgs, users = populate(args.invoices)

    from invoiceportal.invoices.models import Invoice
    from invoiceportal.invoices.selectors import status_version

    user = users[0]
    invoice = (
        Invoice.objects.filter(organization=orgs[0], status="in_review")
        .order_by("-submitted_at")
        .first()
    )
    version = status_version(invoice.status, invoice.updated_at)
    client = Client()
    client.force_login(user)
    status_url = f"/invoices/{invoice.id}/status/"
    n = args.requests
    with override_settings(ROOT_URLCONF=bench_urls(), ALLOWED_HOSTS=["testserver"]):
        timed(client, "/bench/minimal/", 50, 204)  # warm up
        timed(client, f"{status_url}?v={version}", 50, 204)
        rows = {}
        # interleave the two so that both see the same machine
        minimal, unchanged = [], []
        for _ in range(n // 100):
            minimal += timed(client, "/bench/minimal/", 100, 204)
            unchanged += timed(client, f"{status_url}?v={version}", 100, 204)
        rows["minimal (baseline)"] = minimal
        rows["status poll, unchanged"] = unchanged
        rows["status poll, changed"] = timed(client, f"{status_url}?v=old", 200, 200)
        first = client.get("/invoices/")
        rows["my invoices, first page"] = timed(client, "/invoices/", 100, 200)
        cursor = first.context["page"].next_cursor if first.context else ""
        # jump deep: a cursor 90 % down the organization's list
        depth = int(args.invoices // ORGS * 0.9)
        deep = (
            Invoice.objects.filter(organization=orgs[0])
            .order_by("-submitted_at", "-id")[depth : depth + 1]
            .get()
        )
        from invoiceportal.invoices.selectors import encode_cursor

        rows[f"my invoices, page {depth // 50:,}"] = timed(
            client, f"/invoices/?after={encode_cursor(deep)}", 100, 200
        )
        rows["my invoices, filtered (status+amount)"] = timed(
            client, "/invoices/?status=rejected&amount_min=5000", 100, 200
        )
        assert cursor
    per_org = args.invoices // ORGS
    print(
        f"\n{args.invoices:,} invoices in PostgreSQL ({per_org:,} in the "
        f"submitter's organization); sequential requests through the whole stack\n"
    )
    print(f"{'request':40} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, values in rows.items():
        print(
            f"{name:40} {len(values):6} {statistics.median(values):8.2f} "
            f"{pct(values, 95):8.2f} {pct(values, 99):8.2f}"
        )
    ratio = pct(rows["status poll, unchanged"], 95) / pct(
        rows["minimal (baseline)"], 95
    )
    print(
        f"\nunchanged status poll p95 / minimal view p95 = {ratio:.2f}x (target <= 3x)"
    )


if __name__ == "__main__":
    main()
