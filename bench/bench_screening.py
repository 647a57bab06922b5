"""Screening end to end: API upload -> real django-q2 worker -> decision, on PostgreSQL.

    .venv/bin/python bench/bench_screening.py [--count 1000] [--single 20] [--redis]
    .venv/bin/python bench/bench_screening.py --workers 1,2,4 [--count 600]

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
        "ACCESS_LOG_LEVEL": "WARNING",
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


def start_worker(workers: int = 1, **extra_env: str) -> subprocess.Popen:
    env = {**os.environ, "Q_WORKERS": str(workers), **extra_env}
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(worker: subprocess.Popen) -> None:
    from invoiceportal.common.processes import stop_process_group

    stop_process_group(worker, timeout=30)


class Portal:
    """A scratch portal on the bench database: one organization, one submitter
    signed in to the API, and the helpers every screening bench needs."""

    def __init__(self) -> None:
        from rest_framework.test import APIClient

        from accounts.models import Organization, User
        from accounts.roles import Role
        from accounts.services import user_sync_groups

        self.org = Organization.objects.create(
            name="基准测试有限公司", tax_id="91110108MA01YF2K3R"
        )
        self.user = User.objects.create(
            username="bench", role=Role.SUBMITTER, organization=self.org
        )
        user_sync_groups(self.user)
        self.client = APIClient()
        self.client.force_authenticate(self.user)

    def upload(self, name: str, data: bytes, content_type: str = "text/plain") -> str:
        """POST one document to the API as the submitter; the new invoice's id."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = self.client.post(
            "/api/v1/invoices/",
            {"file": SimpleUploadedFile(name, data, content_type)},
            format="multipart",
        )
        assert response.status_code == 201, response.content
        return response.json()["id"]

    @staticmethod
    def decided(ids: list[str]) -> int:
        from invoiceportal.invoices.models import Invoice

        return (
            Invoice.objects.filter(pk__in=ids)
            .exclude(status__in=["received", "screening"])
            .count()
        )

    def wait_all(self, ids: list[str], timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while self.decided(ids) < len(ids):
            if time.monotonic() > deadline:
                raise SystemExit(f"only {self.decided(ids)} of {len(ids)} decided")
            time.sleep(0.02)


def portal_setup() -> Portal:
    """Recreate the bench database, set Django up, migrate, default rules, and a
    :class:`Portal` to upload through."""
    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command

    from reviews.rules import rules_ensure_defaults

    call_command("migrate", verbosity=0)
    rules_ensure_defaults()
    return Portal()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--single", type=int, default=20)
    parser.add_argument("--redis", action="store_true")
    parser.add_argument(
        "--workers",
        default="",
        metavar="N[,N...]",
        help="The scaling curve instead: a django-q2 cluster of N worker processes on "
        "the Redis broker drains --count queued invoices, for each N (e.g. 1,2,4), "
        "with lock waits sampled and CPU per invoice measured.",
    )
    args = parser.parse_args()
    if args.workers:
        args.redis = True
    if args.redis:
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
        import redis

        redis.from_url(os.environ["REDIS_URL"]).flushdb()
    print(f"broker: {'redis' if args.redis else 'orm'}")

    portal = portal_setup()
    from django.db import transaction
    from django.db.models import Count

    from invoiceportal.invoices.models import Invoice, InvoiceLine
    from reviews.models import RegistryRecord
    from tests.docgen.registry import clean_digital_invoice, registry_row
    from tests.docgen.xml_doc import make_xml

    org, user = portal.org, portal.user

    total = 0 if args.workers else args.single + 2 * args.count
    print(f"generating {total} XML invoices ...", flush=True)
    invoices = [
        clean_digital_invoice(seed, buyer_name=org.name, buyer_tax_id=org.tax_id)
        for seed in range(total)
    ]
    RegistryRecord.objects.bulk_create(
        [RegistryRecord(**registry_row(inv)) for inv in invoices]
    )
    documents = [make_xml(inv) for inv in invoices]

    def upload(i: int | None, data: bytes | None = None) -> str:
        data = documents[i] if data is None else data
        return portal.upload(f"{i}.xml", data)

    def latencies(ids: list[str]) -> list[float]:
        rows = Invoice.objects.filter(pk__in=ids).values_list(
            "submitted_at", "timeline__at", "timeline__code"
        )
        done = {}
        for submitted, at, code in rows:
            if code in {"auto_approved", "auto_rejected", "sent_to_review"}:
                done[(submitted, at)] = (at - submitted).total_seconds()
        return list(done.values())

    decided, wait_all = portal.decided, portal.wait_all

    if args.workers:
        counts = [int(n) for n in args.workers.split(",") if n.strip()]
        if not counts or min(counts) < 1:
            raise SystemExit("--workers takes worker counts such as 1,2,4")
        scaling(counts, args.count, upload, decided, wait_all)
        return

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


# --------------------------------------------------------------- scaling curve

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process from /proc (None once it has gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


class Sampler:
    """Every 0.2 s during a drain: backends waiting for a lock (pg_stat_activity
    wait_event_type 'Lock', with pg_locks' lock type and relation), all backends of
    the database, and CPU time of the worker processes and of the database backends
    (per pid: last reading minus first)."""

    SQL = """
        SELECT a.pid, a.wait_event_type, a.wait_event,
               l.locktype, l.relation::regclass::text
          FROM pg_stat_activity a
          LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
         WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
    """

    def __init__(self, pgid: int) -> None:
        import threading

        import psycopg

        self.pgid = pgid
        self.conn = psycopg.connect(URL, autocommit=True)
        self.samples = 0
        self.backend_samples = 0
        self.lock_waits = 0
        self.waits: dict[str, int] = {}
        self.cpu_first: dict[tuple[str, int], float] = {}
        self.cpu_last: dict[tuple[str, int], float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def _cpu(self, kind: str, pids: list[int]) -> None:
        for pid in pids:
            value = cpu_seconds(pid)
            if value is not None:
                self.cpu_first.setdefault((kind, pid), value)
                self.cpu_last[(kind, pid)] = value

    def run(self) -> None:
        while not self.stop.is_set():
            rows = self.conn.execute(self.SQL).fetchall()
            self.samples += 1
            self.backend_samples += len({r[0] for r in rows})
            for _pid, wtype, event, locktype, relation in rows:
                if wtype == "Lock":
                    self.lock_waits += 1
                    key = f"{event}:{locktype}:{relation or '-'}"
                    self.waits[key] = self.waits.get(key, 0) + 1
            self._cpu("db", sorted({r[0] for r in rows}))
            self._cpu("worker", group_pids(self.pgid))
            self.stop.wait(0.2)

    def finish(self) -> dict[str, float]:
        self.stop.set()
        self.thread.join()
        self.conn.close()
        used = {"db": 0.0, "worker": 0.0}
        for key, last in self.cpu_last.items():
            used[key[0]] += last - self.cpu_first[key]
        return used


def scaling(counts: list[int], count: int, upload, decided, wait_all) -> None:
    """Drain ``count`` queued invoices with a cluster of N processes, for each N; and
    once more with the largest N and audit entries sealed under the head lock inside
    each screening's transaction (AUDIT_SEAL_INLINE=1, the behaviour before
    issue 15), as the baseline in the same run."""
    runs = [(n, "after commit") for n in counts]
    runs.append((max(counts), "head lock (before)"))
    results = []
    offset = 10_000_000  # fresh documents: seeds above the other phases'
    from accounts.models import Organization
    from reviews.models import RegistryRecord
    from tests.docgen.registry import clean_digital_invoice, registry_row
    from tests.docgen.xml_doc import make_xml

    org = Organization.objects.get(tax_id="91110108MA01YF2K3R")
    for n, sealing in runs:
        truths = [
            clean_digital_invoice(
                offset + i, buyer_name=org.name, buyer_tax_id=org.tax_id
            )
            for i in range(count)
        ]
        offset += count
        RegistryRecord.objects.bulk_create(
            [RegistryRecord(**registry_row(inv)) for inv in truths]
        )
        docs = [make_xml(inv) for inv in truths]
        queued = [upload(None, doc) for doc in docs]
        extra = {"AUDIT_SEAL_INLINE": "1"} if sealing.startswith("head") else {}
        worker = start_worker(n, **extra)
        sampler = Sampler(os.getpgid(worker.pid))
        while decided(queued) == 0:
            time.sleep(0.01)
        t_first = time.monotonic()
        wait_all(queued)
        drain = time.monotonic() - t_first
        cpu = sampler.finish()
        stop(worker)
        rate = count / drain
        results.append((n, sealing, rate, drain, cpu, sampler))
        print(
            f"  {n} worker process(es), audit sealed {sealing}: {rate:.1f} invoices/s",
            flush=True,
        )

    base = results[0][2]
    print()
    print(
        f"screening throughput, {count} queued XML invoices per run, Redis broker, "
        f"PostgreSQL, {os.cpu_count()} CPUs"
    )
    for n, sealing, rate, drain, cpu, sampler in results:
        waits = ", ".join(
            f"{k} x{v}" for k, v in sorted(sampler.waits.items(), key=lambda kv: -kv[1])
        )
        share = sampler.lock_waits / max(1, sampler.backend_samples)
        print(
            f"N={n} ({sealing}): {rate:6.1f} invoices/s ({drain:.1f} s), "
            f"{rate / base:.2f}x N=1 | lock waits {sampler.lock_waits} in "
            f"{sampler.samples} samples ({share:.1%} of backend samples)"
            f"{': ' + waits if waits else ''} | CPU per invoice: workers "
            f"{cpu['worker'] / count * 1000:.1f} ms, PostgreSQL "
            f"{cpu['db'] / count * 1000:.1f} ms, total "
            f"{(cpu['worker'] + cpu['db']) / drain:.2f} cores busy"
        )


if __name__ == "__main__":
    main()
