"""How fast is the performance page's data at 1,000,000 invoices?

Bulk-loads a scratch PostgreSQL database with generate_series (1,000,000 invoices over
365 days in 10 organizations: about 74 % decided automatically, 26 % by 20
reviewers through review tasks, some second reviews, breaches, failed checks and
feedback; about 500 tasks open, from the last 3.6 days), refreshes the daily rollup,
then times the page's data (``insight.selectors.performance_tables`` for the default
30-day range: rollup for past days + live query for today), for all organizations
and for one, and the whole page through Django's test client. Baseline in the same
run: the same tables computed live from the source tables (``use_rollup=False``).
Target: p95 under 300 ms.

Run from the repository root (the scratch database's data is replaced):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/invoiceportal_bench \\
        .venv/bin/python bench/bench_performance_page.py [--invoices 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/invoiceportal_bench"
)

import bench_claims  # noqa: E402  (environment, scratch database, migrate)


def sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


KINDS = sql_array(
    [
        "digital_special",
        "digital_ordinary",
        "e_special",
        "e_ordinary",
        "e_toll",
        "rail_ticket",
        "air_itinerary",
        "other",
    ]
)
RULES = sql_array(
    [
        "arithmetic",
        "duplicate",
        "seller_watchlist",
        "tax_rate",
        "issue_date",
        "buyer_mismatch",
        "qr_mismatch",
        "confidence",
    ]
)
REASONS = sql_array(
    ["not_genuine", "wrong_buyer", "amount_mismatch", "duplicate", "illegible", "other"]
)


def defaults_for(cursor, table: str, given: set[str]) -> tuple[list[str], list[str]]:
    """Columns not given, NOT NULL, without a database default: typed empties."""
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
        "AND is_identity = 'NO'",
        [table],
    )
    names, values = [], []
    for name, kind in cursor.fetchall():
        if name in given:
            continue
        names.append(name)
        if kind in ("character varying", "text"):
            values.append("''")
        elif kind == "boolean":
            values.append("false")
        elif kind == "jsonb":
            values.append(
                "'{}'::jsonb" if name != "second_review_reasons" else "'[]'::jsonb"
            )
        elif kind.startswith("timestamp"):
            values.append("now()")
        else:
            values.append("0")
    return names, values


def insert(cursor, table: str, columns: dict[str, str], source: str) -> None:
    names, values = defaults_for(cursor, table, set(columns))
    cols = [*columns, *names]
    exprs = [*columns.values(), *values]
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} {source}"
    )


def load(n: int) -> None:
    from django.db import connection

    from accounts.models import Organization, User
    from accounts.roles import Role
    from accounts.services import user_sync_groups
    from reviews.models import SLAPolicy
    from tests.factories import make_uscc

    orgs = [
        Organization.objects.get_or_create(
            tax_id=make_uscc(7000 + i), defaults={"name": f"基准企业 {i}"}
        )[0].pk
        for i in range(10)
    ]
    submitter, _ = User.objects.get_or_create(
        username="perf-submitter",
        defaults={"role": Role.SUBMITTER, "organization_id": orgs[0]},
    )
    reviewers = []
    for i in range(20):
        user, _ = User.objects.get_or_create(
            username=f"perf-reviewer-{i:02d}", defaults={"role": Role.REVIEWER}
        )
        user_sync_groups(user)
        reviewers.append(user.pk)
    supervisor, _ = User.objects.get_or_create(
        username="perf-supervisor", defaults={"role": Role.SUPERVISOR}
    )
    user_sync_groups(supervisor)
    policy = SLAPolicy.objects.get(priority=0).pk
    orgs_sql = f"ARRAY{orgs}::bigint[]"
    revs_sql = f"ARRAY{reviewers}::bigint[]"
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE insight_rollupfact, reviews_checkresult, "
            "reviews_reviewtaskpause, "
            "reviews_reviewtask, invoices_feedback, invoices_invoice CASCADE"
        )
        # Invoice i: submitted i/n of a year ago; i % 100 picks its fate. 5 % of
        # the last 1 % (about 3.6 days) are still in review: about 500 open tasks.
        still_open = f"(i % 100 < 5 AND i > {n - n // 100})"
        insert(
            c,
            "invoices_invoice",
            {
                "id": "md5('inv' || i)::uuid",
                "reference": "'P-' || i",
                "organization_id": f"({orgs_sql})[1 + i % 10]",
                "submitted_by_id": str(submitter.pk),
                "status": f"CASE WHEN {still_open} THEN 'in_review' "
                "WHEN i % 100 < 65 THEN 'approved' ELSE 'rejected' END",
                "kind": f"({KINDS})[1 + i % 8]",
                "priority": "0",
                "submitted_at": f"now() - (({n} - i)::float / {n} "
                "* interval '365 days')",
                "decided_at": f"CASE WHEN {still_open} THEN NULL "
                f"ELSE now() - (({n} - i)::float / {n} * interval '365 days') "
                "+ CASE WHEN i % 4 = 0 THEN (i % 480) * interval '1 minute' "
                "ELSE (i % 50) * interval '1 second' END END",
                "decision_source": f"CASE WHEN {still_open} THEN '' WHEN i % 4 = 0 "
                "THEN 'reviewer' ELSE 'automatic' END",
            },
            f"FROM generate_series(1, {n}) AS i",
        )
        # Review tasks: every reviewer-decided invoice (done) and the open ones.
        insert(
            c,
            "reviews_reviewtask",
            {
                "invoice_id": "inv.id",
                "organization_id": "inv.organization_id",
                "submitted_by_id": "inv.submitted_by_id",
                "stage": "CASE WHEN inv.n % 20 = 0 THEN 'second' ELSE 'first' END",
                "first_reviewer_id": "CASE WHEN inv.n % 20 = 0 THEN "
                f"({revs_sql})[1 + (inv.n / 7) % 20] END",
                "state": "CASE WHEN inv.status = 'in_review' THEN 'queued' "
                "ELSE 'done' END",
                "priority": "0",
                "sla_policy_id": str(policy),
                "sla_target_minutes": "960",
                "sla_warn_percent": "75",
                "enqueued_at": "inv.submitted_at",
                "created_at": "inv.submitted_at",
                "due_at": "inv.submitted_at + interval '2 days'",
                "claimed_at": "inv.decided_at - interval '10 minutes'",
                "breached_at": "CASE WHEN inv.n % 10 = 0 "
                "THEN inv.submitted_at + interval '2 days' END",
                "decision": "CASE WHEN inv.status = 'approved' THEN 'approve' "
                "WHEN inv.status = 'rejected' THEN 'reject' ELSE '' END",
                "reason_code": "CASE WHEN inv.status = 'rejected' "
                f"THEN ({REASONS})[1 + inv.n % 6] ELSE '' END",
                "decided_by_id": "CASE WHEN inv.decided_at IS NOT NULL "
                f"THEN ({revs_sql})[1 + inv.n % 20] END",
                "decided_at": "inv.decided_at",
            },
            "FROM (SELECT *, ('x' || substr(reference, 3))::text AS r, "
            "substr(reference, 3)::int AS n FROM invoices_invoice "
            "WHERE decision_source = 'reviewer' OR status = 'in_review') AS inv",
        )
        insert(
            c,
            "reviews_checkresult",
            {
                "invoice_id": "inv.id",
                "round": "1",
                "run_id": "md5('run' || inv.reference)::uuid",
                "rule_code": f"({RULES})[1 + (substr(inv.reference, 3)::int / 3) % 8]",
                "rule_version": "1",
                "outcome": "'fail'",
                "action": "'review'",
                "created_at": "inv.submitted_at",
            },
            "FROM invoices_invoice inv WHERE decision_source <> 'automatic'",
        )
        insert(
            c,
            "invoices_feedback",
            {
                "invoice_id": "inv.id",
                "user_id": str(submitter.pk),
                "rating": "1 + substr(inv.reference, 3)::int % 5",
                "created_at": "inv.decided_at + interval '1 hour'",
            },
            "FROM invoices_invoice inv WHERE inv.decided_at IS NOT NULL "
            "AND substr(inv.reference, 3)::int % 20 = 1",
        )
        c.execute("ANALYZE")


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--baseline-runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep loaded data")
    args = parser.parse_args()
    bench_claims.setup_django()
    from django.db import connection
    from django.test import Client

    from accounts.models import Organization, User
    from insight.models import RollupFact
    from insight.rollup import local_today, rollup_refresh
    from insight.selectors import performance_tables
    from invoiceportal.invoices.models import Invoice

    have = Invoice.objects.count()
    if not (args.reuse and have >= args.invoices):
        t0 = time.perf_counter()
        load(args.invoices)
        print(f"bulk load: {time.perf_counter() - t0:.1f} s")
    today = local_today()
    if not (args.reuse and RollupFact.objects.exists()):
        t0 = time.perf_counter()
        rows = rollup_refresh(today - dt.timedelta(days=366), today)
        print(
            f"rollup refresh of 367 days: {rows} rows in "
            f"{time.perf_counter() - t0:.1f} s"
        )
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM invoices_invoice")
        invoices = c.fetchone()[0]
        c.execute("SELECT count(*) FROM reviews_reviewtask")
        tasks = c.fetchone()[0]
    print(f"data: {invoices:,} invoices, {tasks:,} review tasks")
    start, end = today - dt.timedelta(days=29), today
    org = (
        Organization.objects.filter(name="基准企业 3")
        .values_list("pk", flat=True)
        .first()
    )

    def data(org_id=None, rollup=True):
        return lambda: performance_tables(
            start, end, organization_id=org_id, use_rollup=rollup
        )

    data()()  # warm caches and connections
    print(
        f"\n30-day range ending today, {args.runs} runs (baseline {args.baseline_runs})"
    )
    results = {}

    def report(name: str, fn, runs: int) -> None:
        values = timed(fn, runs)
        results[name] = values
        print(
            f"  {name:46s} p50 {p(values, 0.5):8.1f} ms   "
            f"p95 {p(values, 0.95):8.1f} ms",
            flush=True,
        )

    report("rollup, all organizations", data(), args.runs)
    report("rollup, one organization", data(org), args.runs)
    report("live, all organizations (baseline)", data(rollup=False), args.baseline_runs)
    report("live, one organization (baseline)", data(org, False), args.baseline_runs)
    ratio = p(results["live, all organizations (baseline)"], 0.5) / p(
        results["rollup, all organizations"], 0.5
    )
    ratio_org = p(results["live, one organization (baseline)"], 0.5) / p(
        results["rollup, one organization"], 0.5
    )
    print(f"live / rollup (p50): {ratio:.1f}x all organizations, {ratio_org:.1f}x one")
    worst = max(
        p(results["rollup, all organizations"], 0.95),
        p(results["rollup, one organization"], 0.95),
    )
    verdict = "met" if worst < 300 else "MISSED"
    print(f"target p95 < 300 ms for the page's data: {verdict} ({worst:.1f} ms)")
    try:
        client = Client()
        client.force_login(User.objects.get(username="perf-supervisor"))
        status = client.get("/performance/").status_code
        if status != 200:
            raise RuntimeError(f"status {status}")
    except Exception as exc:  # another app's broken import must not hide the figures
        print(f"whole page not measured: {exc!r}")
        return
    report(
        "whole page (test client, SVG + HTML)",
        lambda: client.get("/performance/"),
        max(10, args.runs // 3),
    )


if __name__ == "__main__":
    main()
