"""How fast is the review queue page with 10,000 open tasks?

Fills a scratch PostgreSQL database with 10,000 invoices in review and their tasks
(some claimed), then renders /reviews/queue/ as a signed-in reviewer through Django's
test client (the whole stack but the network): the default view, a filtered view and
a deep page. Reports p50 and p95 per view and the queries per request. Target: p95
under 100 ms.

Run from the repository root:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/invoiceportal_bench_queue \\
        .venv/bin/python bench/bench_queue_page.py [--tasks 10000] [--requests 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import bench_claims  # noqa: E402  (sets up the environment like the claims bench)

VIEWS = {
    "default (queued + claimed, page 1)": "/reviews/queue/",
    "filtered (high priority, amount range)": (
        "/reviews/queue/?priority=high&amount_min=1000&amount_max=4000"
    ),
    "breaching only": "/reviews/queue/?breaching=true",
    "deep page (page 100)": "/reviews/queue/?page=100",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    bench_claims.setup_django()
    from django.db import connection
    from django.test import Client

    from reviews.models import ReviewTask, TaskState

    org, submitter, reviewers = bench_claims.people(2)
    bench_claims.fill_queue(args.tasks, org=org, submitter=submitter)
    # A few hundred in hand, as on a working day.
    ids = list(ReviewTask.objects.values_list("pk", flat=True)[: args.tasks // 20])
    ReviewTask.objects.filter(pk__in=ids).update(
        state=TaskState.CLAIMED, assigned_to=reviewers[1]
    )
    open_tasks = ReviewTask.objects.open().count()

    client = Client()
    client.force_login(reviewers[0])
    print(f"{open_tasks} open tasks, {args.requests} requests per view, PostgreSQL")
    worst = 0.0
    for name, url in VIEWS.items():
        for _ in range(10):  # warm up: connection, calendar cache, templates
            assert client.get(url).status_code == 200
        count: list[str] = []

        def counting(execute, sql, *rest, count=count):
            count.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(counting):
            client.get(url)
        times = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            response = client.get(url)
            times.append(1000 * (time.perf_counter() - t0))
            assert response.status_code == 200
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        worst = max(worst, p95)
        print(
            f"{name:<40} p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms  "
            f"{len(count)} queries"
        )
    verdict = "OK" if worst < 100 else "MISSED"
    print(f"worst p95 {worst:.1f} ms (target < 100 ms) {verdict}")


if __name__ == "__main__":
    main()
