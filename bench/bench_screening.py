"""Screening end to end: API upload -> real django-q2 worker -> decision, on PostgreSQL.

    .venv/bin/python bench/bench_screening.py [--count 1000] [--single 20] [--redis]

``--redis`` uses the Redis broker (REDIS_URL, default redis://127.0.0.1:6379/14) as
in production, instead of the embedded ORM broker.

Uses (and recreates) the database ``invoiceportal_bench`` on the local PostgreSQL,
or BENCH_DATABASE_URL. Prints:
  * single-invoice latency on an idle system (upload to decision, median and p95);
  * throughput of ONE worker process draining a queue of ``--count`` XML uploads;
  * end-to-end upload-to-decision times while uploads and the worker run together;
  * the baseline in the same run: bare inserts of the same invoice and line rows,
    and the cost per screened invoice as a ratio of it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/invoiceportal_bench"
)
MEDIA = tempfile.mkdtemp(prefix="bench-media-")
os.environ.update(
    {
        "DATABASE_URL": URL,
        "DJANGO_SETTINGS_MODULE": "invoiceportal.settings",
        "DEBUG": "0",
        "MEDIA_ROOT": MEDIA,
        "Q_POLL": "0.05",
        "LOG_LEVEL": "WARNING",
    }
)


def recreate_database() -> None:
    import psycopg

    base, name = URL.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def start_worker() -> subprocess.Popen:
    env = {**os.environ, "Q_WORKERS": "1"}
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(worker: subprocess.Popen) -> None:
    from invoiceportal.common.management.commands.serve_portal import (
        stop_process_group,
    )

    stop_process_group(worker, timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--single", type=int, default=20)
    parser.add_argument("--redis", action="store_true")
    args = parser.parse_args()
    if args.redis:
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
        import redis

        redis.from_url(os.environ["REDIS_URL"]).flushdb()
    print(f"broker: {'redis' if args.redis else 'orm'}")

    recreate_database()
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models import Count
    from rest_framework.test import APIClient

    from accounts.models import Organization, User
    from accounts.roles import Role
    from accounts.services import user_sync_groups
    from invoiceportal.invoices.models import Invoice, InvoiceLine
    from reviews.models import RegistryRecord
    from reviews.rules import rules_ensure_defaults
    from tests.docgen.registry import clean_digital_invoice, registry_row
    from tests.docgen.xml_doc import make_xml

    call_command("migrate", verbosity=0)
    rules_ensure_defaults()
    org = Organization.objects.create(
        name="基准测试有限公司", tax_id="91110108MA01YF2K3R"
    )
    user = User.objects.create(username="bench", role=Role.SUBMITTER, organization=org)
    user_sync_groups(user)
    client = APIClient()
    client.force_authenticate(user)

    total = args.single + 2 * args.count
    print(f"generating {total} XML invoices ...", flush=True)
    invoices = [
        clean_digital_invoice(seed, buyer_name=org.name, buyer_tax_id=org.tax_id)
        for seed in range(total)
    ]
    RegistryRecord.objects.bulk_create(
        [RegistryRecord(**registry_row(inv)) for inv in invoices]
    )
    documents = [make_xml(inv) for inv in invoices]

    def upload(i: int) -> str:
        response = client.post(
            "/api/v1/invoices/",
            {"file": SimpleUploadedFile(f"{i}.xml", documents[i])},
            format="multipart",
        )
        assert response.status_code == 201, response.content
        return response.json()["id"]

    def decided(ids: list[str]) -> int:
        return (
            Invoice.objects.filter(pk__in=ids)
            .exclude(status__in=["received", "screening"])
            .count()
        )

    def latencies(ids: list[str]) -> list[float]:
        rows = Invoice.objects.filter(pk__in=ids).values_list(
            "submitted_at", "timeline__at", "timeline__code"
        )
        done = {}
        for submitted, at, code in rows:
            if code in {"auto_approved", "auto_rejected", "sent_to_review"}:
                done[(submitted, at)] = (at - submitted).total_seconds()
        return list(done.values())

    def wait_all(ids: list[str], timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while decided(ids) < len(ids):
            if time.monotonic() > deadline:
                raise SystemExit(f"only {decided(ids)} of {len(ids)} decided")
            time.sleep(0.02)

    # 1. Single invoices on an idle system.
    worker = start_worker()
    time.sleep(3)
    single_ids = []
    for i in range(args.single):
        single_ids.append(upload(i))
        wait_all(single_ids[-1:], 60)
    single = latencies(single_ids)
    stop(worker)

    # 2. One worker draining a queue of uploads.
    offset = args.single
    queued = [upload(offset + i) for i in range(args.count)]
    worker = start_worker()
    t0 = time.monotonic()
    while decided(queued) == 0:
        time.sleep(0.01)
    t_first = time.monotonic()
    wait_all(queued)
    drain = time.monotonic() - t_first
    stop(worker)
    per_worker = args.count / drain

    # 3. Uploads and the worker at the same time.
    offset += args.count
    worker = start_worker()
    time.sleep(3)
    t1 = time.monotonic()
    live_ids = [upload(offset + i) for i in range(args.count)]
    upload_time = time.monotonic() - t1
    wait_all(live_ids)
    e2e_time = time.monotonic() - t1
    live = latencies(live_ids)
    stop(worker)

    routes = dict(
        Invoice.objects.values_list("status").annotate(n=Count("id")).order_by()
    )

    # Baseline: the bare inserts of the same rows (invoice + lines) in transactions.
    Invoice.objects.all().delete()
    t2 = time.monotonic()
    for i, inv in enumerate(invoices[: args.count]):
        with transaction.atomic():
            row = Invoice.objects.create(
                reference=f"BASE-{i:06d}",
                organization=org,
                submitted_by=user,
                number=inv.number,
                issue_date=inv.issue_date,
                seller_name=inv.seller_name,
                seller_tax_id=inv.seller_tax_id,
                buyer_name=inv.buyer_name,
                buyer_tax_id=inv.buyer_tax_id,
                amount=inv.amount,
                tax_amount=inv.tax_amount,
                total_amount=inv.total_amount,
            )
            InvoiceLine.objects.bulk_create(
                InvoiceLine(invoice=row, position=n, name=line.name, amount=line.amount)
                for n, line in enumerate(inv.lines, start=1)
            )
    insert_per = (time.monotonic() - t2) / args.count

    print()
    print(
        f"single invoice, idle system ({len(single)} runs): upload->decision "
        f"median {statistics.median(single) * 1000:.0f} ms, "
        f"p95 {pct(single, 95) * 1000:.0f} ms"
    )
    print(
        f"one worker process draining {args.count} queued invoices: "
        f"{per_worker:.1f} invoices/s ({drain:.1f} s; first decision "
        f"{(t_first - t0):.1f} s after start)"
    )
    print(
        f"uploads + worker together: {args.count} uploads in {upload_time:.1f} s "
        f"({args.count / upload_time:.1f}/s through the API), all decided after "
        f"{e2e_time:.1f} s ({args.count / e2e_time:.1f} invoices/s end to end); "
        f"upload->decision median {statistics.median(live):.2f} s, "
        f"p95 {pct(live, 95):.2f} s"
    )
    print(f"routes: {routes}")
    screen_per = 1 / per_worker
    print(
        f"baseline, bare inserts of the same rows: {insert_per * 1000:.2f} ms/invoice "
        f"({1 / insert_per:.0f}/s); screening costs {screen_per * 1000:.2f} ms/invoice "
        f"= {screen_per / insert_per:.1f}x the bare insert"
    )


if __name__ == "__main__":
    main()
