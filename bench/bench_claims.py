"""How fast can reviewers take work off the queue, and is it ever taken twice?

16 reviewer processes claim (and decide) 10,000 review tasks through the service layer
on PostgreSQL, beside a baseline in the same run: the same claim written as one raw
SQL statement (``UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED)``). Reports
claims per second, p50 and p95 claim latency and double claims for

1. service claim only (``review_task_claim_next``),
2. raw SQL claim only (the baseline),
3. service claim + decide (``review_task_decide``: invoice transition, timeline,
   audit chain), the full reviewer loop.

The target: (1) within 3x of (2).

Run from the repository root, on a scratch PostgreSQL database (its review data is
replaced):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/invoiceportal_bench_queue \\
        .venv/bin/python bench/bench_claims.py [--tasks 10000] [--workers 16]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invoiceportal.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The claim-only phases claim every task without deciding it: the workers hold
# every task they take (issue 11 caps claims per reviewer).
os.environ.setdefault("REVIEW_MAX_OPEN_CLAIMS", "1000000")

import django  # noqa: E402

RAW_CLAIM = """
UPDATE reviews_reviewtask
   SET state = 'claimed', assigned_to_id = %(user)s, claimed_at = now(),
       lease_expires_at = now() + interval '30 minutes'
 WHERE id = (
       SELECT t.id FROM reviews_reviewtask t
         JOIN invoices_invoice i ON i.id = t.invoice_id
        WHERE t.state = 'queued' AND i.status = 'in_review'
          AND t.submitted_by_id <> %(user)s
          AND (t.first_reviewer_id IS NULL OR t.first_reviewer_id <> %(user)s)
          AND t.organization_id <> %(org)s
        ORDER BY t.due_at ASC NULLS LAST, t.priority DESC, t.id ASC
        LIMIT 1
          FOR UPDATE OF t SKIP LOCKED)
RETURNING id
"""


def ensure_database(url: str) -> None:
    """Create the scratch database named in ``url`` when it does not exist."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    admin = psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"] or "postgres",
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        found = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]
        ).fetchone()
        if not found:
            admin.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"]))
            )


def setup_django() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database (see --help).")
    ensure_database(url)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def people(workers: int):
    """One submitting organization and ``workers`` reviewers of a review centre."""
    from accounts.models import Organization, User
    from accounts.roles import Role
    from accounts.services import user_sync_groups
    from tests.factories import make_uscc

    org, _ = Organization.objects.get_or_create(
        tax_id=make_uscc(9001), defaults={"name": "基准测试提交企业"}
    )
    centre, _ = Organization.objects.get_or_create(
        tax_id=make_uscc(9002), defaults={"name": "基准测试审核中心"}
    )
    submitter, _ = User.objects.get_or_create(
        username="bench-submitter",
        defaults={"role": Role.SUBMITTER, "organization": org},
    )
    user_sync_groups(submitter)
    reviewers = []
    for i in range(workers):
        user, _ = User.objects.get_or_create(
            username=f"bench-reviewer-{i:02d}",
            defaults={"role": Role.REVIEWER, "organization": centre},
        )
        user_sync_groups(user)
        reviewers.append(user)
    return org, submitter, reviewers


def fill_queue(n: int, *, org, submitter) -> None:
    """Replace all review data with ``n`` invoices in review and their queued tasks,
    enqueued over the last weeks with mixed priorities (bulk, like a busy month)."""
    import datetime as dt
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from invoiceportal.invoices.models import Invoice
    from invoiceportal.invoices.status import InvoiceStatus
    from reviews.models import ReviewTask, SLAPolicy
    from reviews.queue.calendar import business_calendar
    from reviews.queue.defaults import seed_defaults
    from reviews.sla.calendar import due_at

    seed_defaults()
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE reviews_reviewtaskpause, reviews_reviewtask, "
            "invoices_timelineevent, invoices_invoiceline, invoices_document, "
            "reviews_checkresult, audit_auditentry, audit_auditchainhead, "
            "invoices_invoice CASCADE"
        )
    policies = {p.priority: p for p in SLAPolicy.objects.all()}
    cal = business_calendar()
    now = timezone.now()
    invoices, tasks = [], []
    for i in range(n):
        number = f"{90_000_000_000 + i:020d}"
        invoices.append(
            Invoice(
                reference=f"INV-BENCH-{i:07d}",
                organization=org,
                submitted_by=submitter,
                status=InvoiceStatus.IN_REVIEW,
                kind="digital_special",
                number=number,
                identity=number,
                seller_name="基准测试销售方",
                seller_tax_id="91110108690017781B",
                total_amount=Decimal(100 + i % 5000),
            )
        )
    Invoice.objects.bulk_create(invoices, batch_size=2000)
    for i, invoice in enumerate(invoices):
        priority = (0, 0, 0, 1, 2)[i % 5]
        policy = policies[priority]
        enqueued = now - dt.timedelta(minutes=(i * 37) % (60 * 24 * 14))
        due = due_at(cal, enqueued, policy.target_business_minutes)
        tasks.append(
            ReviewTask(
                invoice=invoice,
                organization=org,
                submitted_by=submitter,
                priority=priority,
                sla_policy=policy,
                enqueued_at=enqueued,
                created_at=enqueued,
                due_at=due,
                warn_at=due,
            )
        )
    ReviewTask.objects.bulk_create(tasks, batch_size=2000)
    with connection.cursor() as cur:
        cur.execute("ANALYZE reviews_reviewtask; ANALYZE invoices_invoice;")


# ------------------------------------------------------------------- workers


def _service_worker(args: tuple[int, str]) -> tuple[list[int], list[float]]:
    user_id, mode = args
    from django.conf import settings
    from django.db import connection

    # "...-inline": audit entries sealed inside the caller's transaction under the
    # chain head lock, held until commit (the behaviour before issue 15).
    settings.AUDIT_SEAL_INLINE = mode.endswith("-inline")
    mode = mode.removesuffix("-inline")

    from accounts.models import User
    from reviews.queue.services import review_task_claim_next, review_task_decide

    user = User.objects.get(pk=user_id)
    user.has_perm("accounts.review_invoice")  # fill the permission cache
    ids, latencies = [], []
    while True:
        t0 = time.perf_counter()
        task = review_task_claim_next(user=user)
        latencies.append(time.perf_counter() - t0)
        if task is None:
            latencies.pop()
            break
        ids.append(task.pk)
        if mode == "decide":
            review_task_decide(user=user, task_id=task.pk, decision="approve")
    connection.close()
    return ids, latencies


def _raw_worker(args: tuple[int, int]) -> tuple[list[int], list[float]]:
    user_id, org_id = args
    from django.db import connection

    ids, latencies = [], []
    with connection.cursor() as cur:
        while True:
            t0 = time.perf_counter()
            cur.execute(RAW_CLAIM, {"user": user_id, "org": org_id})
            row = cur.fetchone()
            latencies.append(time.perf_counter() - t0)
            if row is None:
                latencies.pop()
                break
            ids.append(row[0])
    connection.close()
    return ids, latencies


def run(worker, args: list[tuple]) -> dict[str, float]:
    from django.db import connections

    connections.close_all()  # each process opens its own connection
    ctx = mp.get_context("fork")
    started = time.perf_counter()
    with ctx.Pool(len(args)) as pool:
        results = pool.map(worker, args)
    elapsed = time.perf_counter() - started
    ids = [i for r in results for i in r[0]]
    latencies = sorted(lat for r in results for lat in r[1])
    dup = sum(c - 1 for c in Counter(ids).values() if c > 1)
    return {
        "claims": len(ids),
        "seconds": elapsed,
        "claims_per_s": len(ids) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "double_claims": dup,
        "workers_with_claims": sum(1 for r in results if r[0]),
    }


def check_database(n: int, *, decided: bool) -> dict[str, int]:
    from django.db.models import Count

    from invoiceportal.invoices.models import TimelineEvent
    from reviews.models import ReviewTask

    states = Counter(ReviewTask.objects.values_list("state", flat=True))
    out = {"tasks": sum(states.values()), **states}
    if decided:
        per_invoice = (
            TimelineEvent.objects.filter(code="approved")
            .values("invoice_id")
            .annotate(n=Count("id"))
        )
        out["invoices_decided_twice"] = sum(1 for r in per_invoice if r["n"] > 1)
        out["approved_events"] = sum(r["n"] for r in per_invoice)
    return out


def line(name: str, r: dict[str, float]) -> str:
    return (
        f"{name:<28} {r['claims']:>6} claims in {r['seconds']:6.2f} s  "
        f"{r['claims_per_s']:8.1f} claims/s  p50 {r['p50_ms']:6.2f} ms  "
        f"p95 {r['p95_ms']:6.2f} ms  double claims {r['double_claims']}  "
        f"({r['workers_with_claims']} workers claimed)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--skip-decide", action="store_true")
    args = parser.parse_args()

    setup_django()
    org, submitter, reviewers = people(args.workers)
    print(
        f"{args.tasks} tasks, {args.workers} reviewer processes, "
        f"{os.cpu_count()} CPUs, PostgreSQL"
    )

    fill_queue(args.tasks, org=org, submitter=submitter)
    service = run(_service_worker, [(u.pk, "claim") for u in reviewers])
    print(
        line("service claim only", service), check_database(args.tasks, decided=False)
    )

    fill_queue(args.tasks, org=org, submitter=submitter)
    raw = run(_raw_worker, [(u.pk, u.organization_id) for u in reviewers])
    print(
        line("raw SQL claim (baseline)", raw), check_database(args.tasks, decided=False)
    )

    ratio = raw["claims_per_s"] / service["claims_per_s"]
    print(
        f"service / raw: {ratio:.2f}x slower in claims/s, "
        f"p50 {service['p50_ms'] / raw['p50_ms']:.2f}x, "
        f"p95 {service['p95_ms'] / raw['p95_ms']:.2f}x  (target: within 3x) "
        f"{'OK' if ratio <= 3 else 'MISSED'}"
    )

    # Issue 15: the same claims with audit entries sealed inline (the chain head row
    # locked from the audit write to the commit), in the same run.
    fill_queue(args.tasks, org=org, submitter=submitter)
    inline = run(_service_worker, [(u.pk, "claim-inline") for u in reviewers])
    print(
        line("service claim, head lock", inline),
        check_database(args.tasks, decided=False),
    )
    print(
        f"audit sealed after commit / under the head lock: "
        f"{service['claims_per_s'] / inline['claims_per_s']:.2f}x claims/s, "
        f"p95 {inline['p95_ms'] / service['p95_ms']:.2f}x lower"
    )
    print_audit_state()

    if not args.skip_decide:
        fill_queue(args.tasks, org=org, submitter=submitter)
        full = run(_service_worker, [(u.pk, "decide") for u in reviewers])
        print(
            line("service claim + decide", full),
            check_database(args.tasks, decided=True),
        )
        print(f"decisions/s: {full['claims'] / full['seconds']:.1f}")
        fill_queue(args.tasks, org=org, submitter=submitter)
        full_inline = run(_service_worker, [(u.pk, "decide-inline") for u in reviewers])
        print(
            line("claim + decide, head lock", full_inline),
            check_database(args.tasks, decided=True),
        )
        gain = full["claims_per_s"] / full_inline["claims_per_s"]
        print(
            f"decisions/s: {full_inline['claims'] / full_inline['seconds']:.1f} "
            f"(after-commit sealing {gain:.2f}x)"
        )
        print_audit_state()


def print_audit_state() -> None:
    """Every entry sealed and the chain intact after the run."""
    from invoiceportal.audit.services import (
        audit_seal,
        audit_unsealed,
        audit_verify_chain,
    )

    left = len(audit_unsealed())
    audit_seal()
    report = audit_verify_chain()
    print(
        f"audit: {left} entries unsealed at the end of the run (sealed now), chain "
        f"{'intact' if report.ok else 'BROKEN: ' + report.reason}, "
        f"{report.checked} entries verified"
    )


if __name__ == "__main__":
    main()
