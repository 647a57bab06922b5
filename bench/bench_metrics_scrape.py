"""How long does a Prometheus scrape of ``/metrics`` take at 1,000,000 invoices?

The figures of ``/metrics`` that are not per process (review queue, screening latency,
breaches, notification and webhook failures, the worker's heartbeat) are read from the
database at every scrape (``portal.ops_metrics``, ``invoiceportal.common.prometheus``).
A scrape comes every 15-60 s from each Prometheus server, so it must stay cheap.

Loads a scratch PostgreSQL database with the performance page's data
(``bench_performance_page.load``: invoices over 365 days, their review tasks, 10 % of
tasks breached, about 500 open), plus three timeline events per invoice (submitted,
screening started, outcome) and one email notification per two invoices (2 % failed
once). Then times each metric source and the whole ``/metrics`` response (Django's
test client, bearer token). Baselines in the same run: ``/healthz`` through the same
client, and one ``SELECT 1``.

Run from the repository root (the scratch database's data is replaced):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/invoiceportal_bench_metrics \\
        .venv/bin/python bench/bench_metrics_scrape.py [--invoices 1000000] [--reuse]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/invoiceportal_bench_metrics"
)
os.environ.setdefault("METRICS_TOKEN", "bench-token")
os.environ.setdefault("ACCESS_LOG_LEVEL", "WARNING")

import bench_claims  # noqa: E402  (environment, scratch database, migrate)
import bench_performance_page as page  # noqa: E402


def load(n: int) -> None:
    from django.db import connection

    from accounts.models import User

    page.load(n)
    user = User.objects.get(username="perf-submitter").pk
    with connection.cursor() as c:
        c.execute("TRUNCATE notifications_notification")
        for code, status, offset in (
            ("submitted", "'received'", "interval '0 seconds'"),
            ("screening_started", "'screening'", "interval '2 seconds'"),
            (
                "outcome",
                "inv.status",
                "(1 + substr(inv.reference, 3)::int % 90) * interval '1 second'",
            ),
        ):
            code_sql = (
                "CASE WHEN inv.status = 'in_review' OR inv.decision_source = "
                "'reviewer' THEN 'sent_to_review' WHEN inv.status = 'approved' "
                "THEN 'auto_approved' ELSE 'auto_rejected' END"
                if code == "outcome"
                else f"'{code}'"
            )
            status_sql = (
                "CASE WHEN inv.decision_source = 'reviewer' OR inv.status = "
                "'in_review' THEN 'in_review' ELSE inv.status END"
                if code == "outcome"
                else status
            )
            page.insert(
                c,
                "invoices_timelineevent",
                {
                    "invoice_id": "inv.id",
                    "at": f"inv.submitted_at + {offset}",
                    "status": status_sql,
                    "code": code_sql,
                    "params": "'{}'::jsonb",
                    "visible_to_submitter": "true",
                },
                "FROM invoices_invoice inv",
            )
        page.insert(
            c,
            "notifications_notification",
            {
                "user_id": str(user),
                "kind": "'decided'",
                "channel": "'email'",
                "context": "'{}'::jsonb",
                "created_at": "inv.submitted_at",
                "sent_at": "CASE WHEN substr(inv.reference, 3)::int % 50 = 0 "
                "THEN NULL ELSE inv.submitted_at END",
                "attempts": "1",
            },
            "FROM invoices_invoice inv WHERE substr(inv.reference, 3)::int % 2 = 0",
        )
        c.execute("ANALYZE")


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep loaded data")
    args = parser.parse_args()
    bench_claims.setup_django()

    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from invoiceportal.common.prometheus import SOURCES
    from invoiceportal.invoices.models import Invoice, TimelineEvent

    if not args.reuse:
        started = time.perf_counter()
        load(args.invoices)
        print(f"loaded in {time.perf_counter() - started:.0f} s")
    print(
        f"invoices {Invoice.objects.count():,}, timeline events "
        f"{TimelineEvent.objects.count():,}"
    )

    def select_one() -> None:
        with connection.cursor() as c:
            c.execute("SELECT 1")
            c.fetchone()

    client = Client()
    token = {"HTTP_AUTHORIZATION": f"Bearer {os.environ['METRICS_TOKEN']}"}
    assert client.get("/metrics", **token).status_code == 200
    rows = [
        ("baseline SELECT 1", timed(select_one, args.runs)),
        ("baseline GET /healthz", timed(lambda: client.get("/healthz"), args.runs)),
    ]
    for name, source in SOURCES.items():
        rows.append(
            (
                f"source {name}",
                timed(lambda s=source: list(s(timezone.now())), args.runs),
            )
        )
    scrape = timed(lambda: client.get("/metrics", **token), args.runs)
    rows.append(("GET /metrics (whole scrape)", scrape))
    healthz = statistics.median(rows[1][1])
    print(f"{'what':32} {'median ms':>10} {'p95 ms':>8} {'x /healthz':>10}")
    for name, values in rows:
        median = statistics.median(values)
        print(f"{name:32} {median:10.1f} {p95(values):8.1f} {median / healthz:10.1f}")


if __name__ == "__main__":
    main()
