"""What one invoice costs, per document kind, through the API and a real worker.

    .venv/bin/python bench/bench_invoice_cost.py [--count 300] [--photos 20]
        [--drain 600] [--drain-workers 2] [--seal 5000]

For each kind (数电 XML, OFD, text PDF, photo as JPEG, all from tests/docgen and known
to the registry) a batch is uploaded through the API while a one-process django-q2
cluster on the Redis broker screens it; per invoice it prints:

  * CPU seconds: the upload request (this process's main thread, no HTTP server in
    front), the qcluster processes (workers, sentinel, monitor, pusher, master),
    the PostgreSQL backends of each (told apart by application_name), PostgreSQL's
    own processes (WAL writer, checkpointer, autovacuum ...) and redis-server, all
    from /proc (utime + stime);
  * database writes: pg_stat_database commits and rows inserted/updated/deleted,
    pg_stat_wal (bytes, records, full-page images, syncs and their time) and the
    WAL position difference; growth of every table (pg_total_relation_size, indexes
    and TOAST included) and of the whole database;
  * document bytes (files under MEDIA_ROOT) and Redis commands (INFO commandstats).

Then the mix-weighted average (70 % XML/OFD, split evenly, 27 % text PDF, 3 % photos),
the audit chain's sealing rate (``audit_seal`` on ``--seal`` committed entries), and
a ``--drain-workers`` process cluster draining ``--drain`` queued XML invoices the way
``bench_screening.py --workers`` does, sampled every 0.1 s: cores used by each process
class, the machine's idle and other processes' share, and where each worker process
spends its wall time (on a core, waiting for a core, waiting for PostgreSQL by wait
event, for the task queue, elsewhere).

Database and broker: BENCH_DATABASE_URL (recreated, as in bench_screening.py) and
REDIS_URL (default redis://127.0.0.1:6379/14, flushed). WAL, PostgreSQL-process and
Redis figures are server-wide: for clean figures point both at servers nobody else
uses (docs/scaling.md shows how); the bench prints what other databases committed
during each measurement.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["PGAPPNAME"] = "bench-web"  # this process's backend (the upload requests)

import bench_screening as base

WEB, WORKER, SAMPLER = "bench-web", "bench-worker", "bench-sampler"
TYPES = {
    "xml": "text/xml",
    "ofd": "application/ofd",
    "pdf": "application/pdf",
    "photo": "image/jpeg",
}
MIX = {"xml": 0.35, "ofd": 0.35, "pdf": 0.27, "photo": 0.03}
KEY_TABLES = (
    "invoices_invoice",
    "invoices_invoiceline",
    "invoices_document",
    "invoices_timelineevent",
    "audit_auditentry",
    "reviews_checkresult",
)


# What this bench itself sends (polls, samples, snapshots), subtracted from the counts.
OWN: Counter = Counter()


def query(conn, sql: str):
    """Run one autocommit statement on a measurement connection: one commit that is
    the bench's, not the portal's."""
    OWN["commits"] += 1
    return conn.execute(sql)


# ------------------------------------------------------------------ /proc readers


def proc_stat(pid: int) -> tuple[str, int, float, int] | None:
    """(state, ppid, utime + stime in seconds, start time in ticks after boot)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    cpu = (int(fields[11]) + int(fields[12])) / base.TICKS
    return fields[0], int(fields[1]), cpu, int(fields[19])


def schedstat(pid: int) -> tuple[float, float] | None:
    """(seconds on a core, seconds runnable but waiting for one)."""
    try:
        with open(f"/proc/{pid}/schedstat") as handle:
            on_cpu, waiting, _slices = handle.read().split()
    except OSError:
        return None
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def wchan(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/wchan") as handle:
            return handle.read().strip() or "-"
    except OSError:
        return "-"


def machine_cpu() -> dict[str, float]:
    """Seconds of all cores by kind since boot (/proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(v) / base.TICKS for v in handle.readline().split()[1:9]]
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    return dict(zip(names, values, strict=True))


def boot_ticks() -> int:
    with open("/proc/uptime") as handle:
        return int(float(handle.read().split()[0]) * base.TICKS)


def tcp_ports() -> dict[int, int]:
    """socket inode -> local port, for every TCP socket on the host."""
    ports = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as handle:
                next(handle)
                for line in handle:
                    cols = line.split()
                    ports[int(cols[9])] = int(cols[1].rsplit(":", 1)[1], 16)
        except OSError:
            continue
    return ports


def socket_inodes(pid: int) -> list[int]:
    inodes = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.append(int(link[8:-1]))
    except OSError:
        pass
    return inodes


ROLES: dict[int, str] = {}  # pid -> role, fixed once seen


def cluster_roles(master: int, workers: int) -> dict[int, str]:
    """pid -> role in a qcluster process tree: the master (manage.py qcluster), its
    sentinel, then the sentinel's children in spawn order: workers, monitor, pusher.
    A child that appears later is a worker replacing a recycled one (django-q2
    recycles a worker after 500 tasks), and anything a worker forks counts as it."""
    children: dict[int, list[int]] = defaultdict(list)
    for pid in base.group_pids(os.getpgid(master)):
        stat = proc_stat(pid)
        if stat is not None:
            children[stat[1]].append(pid)
    roles = {master: "qcluster master"}
    for sentinel in children.get(master, []):
        roles[sentinel] = "qcluster sentinel (scheduler)"
        kids = sorted(children.get(sentinel, []))
        first = len(kids) >= workers + 2 and not any(k in ROLES for k in kids)
        for i, pid in enumerate(kids):
            if first:
                ROLES[pid] = (
                    "qcluster worker"
                    if i < workers
                    else ("qcluster monitor" if i == workers else "qcluster pusher")
                )
            roles[pid] = ROLES.get(pid, "qcluster worker")
            for grandchild in children.get(pid, []):
                roles[grandchild] = roles[pid]
    return roles


# ------------------------------------------------------------------ CPU tracking


class Tracker:
    """Samples every ``interval`` seconds until ``finish``: CPU seconds of every
    process of interest, by class (a process first seen after the start counts from
    zero), and with ``detail`` what each qcluster worker is doing."""

    ACTIVITY = """
        SELECT pid, datname, backend_type, application_name, state,
               wait_event_type, wait_event, client_port
          FROM pg_stat_activity
    """

    def __init__(
        self,
        *,
        cluster: object | None,
        workers: int,
        redis_pid: int,
        interval: float = 0.25,
        detail: bool = False,
    ) -> None:
        import psycopg

        self.cluster, self.workers, self.redis_pid = cluster, workers, redis_pid
        self.interval, self.detail = interval, detail
        self.conn = psycopg.connect(base.URL, autocommit=True, application_name=SAMPLER)
        self.dbname = self.conn.info.dbname
        self.start_ticks = boot_ticks()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.cls: dict[int, str] = {}
        self.sched_first: dict[int, tuple[float, float]] = {}
        self.sched_last: dict[int, tuple[float, float]] = {}
        self.states: dict[int, Counter] = defaultdict(Counter)
        self.backend_states: dict[int, Counter] = defaultdict(Counter)
        self.own_cpu = 0.0  # this sampling thread's CPU seconds
        self.samples = 0
        self.machine0 = machine_cpu()
        self.t0 = time.monotonic()
        self.stop = threading.Event()
        self.sample()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def observe(self, cls: str, pid: int) -> None:
        stat = proc_stat(pid)
        if stat is None:
            return
        if pid not in self.first:
            self.first[pid] = 0.0 if stat[3] > self.start_ticks else stat[2]
        self.last[pid] = stat[2]
        self.cls[pid] = cls

    def sample(self) -> None:
        rows = query(self.conn, self.ACTIVITY).fetchall()
        backend_of_port = {}
        postmaster = None
        for pid, datname, btype, app, state, wtype, wevent, port in rows:
            if btype == "client backend":
                if datname != self.dbname:
                    cls = "postgres: other databases' backends"
                elif app in (WEB, WORKER, SAMPLER):
                    cls = f"postgres: {app} backends"
                else:
                    cls = "postgres: other backends"
                backend_of_port[port] = (state, wtype, wevent)
            else:
                cls = f"postgres: {btype}"
            self.observe(cls, pid)
            if postmaster is None:
                stat = proc_stat(pid)
                postmaster = stat[1] if stat else None
        if postmaster:
            self.observe("postgres: postmaster", postmaster)
        self.observe("redis-server", self.redis_pid)
        self.observe("bench (this process)", os.getpid())
        if self.cluster is not None:
            roles = cluster_roles(self.cluster.pid, self.workers)
            for pid, role in roles.items():
                self.observe(role, pid)
            if self.detail:
                self.sample_workers(
                    [p for p, r in roles.items() if r == "qcluster worker"],
                    backend_of_port,
                )
        self.samples += 1

    def sample_workers(self, pids: list[int], backend_of_port: dict) -> None:
        ports = tcp_ports()
        for pid in pids:
            times = schedstat(pid)
            stat = proc_stat(pid)
            if times is None or stat is None:
                continue
            self.sched_first.setdefault(pid, times)
            self.sched_last[pid] = times
            backend = None
            for inode in socket_inodes(pid):
                if ports.get(inode) in backend_of_port:
                    backend = backend_of_port[ports[inode]]
            # the worker's PostgreSQL backend: busy for it, or waiting for it
            if backend is None:
                db = "no connection"
            elif backend[0] == "active":
                db = f"active: {backend[2] or 'on CPU'}"
            else:
                db = backend[0]
            self.backend_states[pid][db] += 1
            if stat[0] == "R":
                what = "runnable (on a core or queued for one)"
            else:
                chan = wchan(pid)
                what = (
                    "sleeping: task queue empty (pipe read)"
                    if "pipe" in chan
                    else f"sleeping: {chan}"
                )
            self.states[pid][what] += 1

    def run(self) -> None:
        start = time.thread_time()
        while not self.stop.wait(self.interval):
            self.sample()
        self.own_cpu = time.thread_time() - start

    def finish(self) -> Usage:
        self.stop.set()
        self.thread.join()
        self.sample()
        self.conn.close()
        wall = time.monotonic() - self.t0
        machine1 = machine_cpu()
        cpu: dict[str, float] = defaultdict(float)
        for pid, last in self.last.items():
            cpu[self.cls[pid]] += last - self.first[pid]
        return Usage(
            wall=wall,
            cpu=dict(cpu),
            machine={k: machine1[k] - self.machine0[k] for k in machine1},
            sched={
                pid: (
                    self.sched_last[pid][0] - self.sched_first[pid][0],
                    self.sched_last[pid][1] - self.sched_first[pid][1],
                )
                for pid in self.sched_last
            },
            states={pid: dict(c) for pid, c in self.states.items()},
            backend_states={pid: dict(c) for pid, c in self.backend_states.items()},
            sampler_cpu=self.own_cpu,
        )


@dataclass
class Usage:
    wall: float
    cpu: dict[str, float]
    machine: dict[str, float]
    sched: dict[int, tuple[float, float]] = field(default_factory=dict)
    states: dict[int, dict[str, int]] = field(default_factory=dict)
    backend_states: dict[int, dict[str, int]] = field(default_factory=dict)
    sampler_cpu: float = 0.0
    poll_cpu: float = 0.0

    def group(self, prefix: str) -> float:
        return sum(v for k, v in self.cpu.items() if k.startswith(prefix))


# ------------------------------------------------------------- database and files


def db_snapshot(conn) -> dict:
    """Counters that only grow, and the size of every table."""
    snap = {}
    row = query(
        conn,
        "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted "
        "FROM pg_stat_database WHERE datname = current_database()",
    ).fetchone()
    snap.update(zip(("commits", "inserted", "updated", "deleted"), row, strict=True))
    snap["other_db_commits"] = query(
        conn,
        "SELECT coalesce(sum(xact_commit), 0) FROM pg_stat_database "
        "WHERE datname IS NOT NULL AND datname <> current_database()",
    ).fetchone()[0]
    row = query(
        conn,
        "SELECT wal_records, wal_fpi, wal_bytes, wal_sync, wal_sync_time, "
        "wal_write_time, pg_current_wal_lsn() - '0/0'::pg_lsn FROM pg_stat_wal",
    ).fetchone()
    snap.update(
        zip(
            (
                "wal_records",
                "wal_fpi",
                "wal_bytes",
                "wal_syncs",
                "wal_sync_ms",
                "wal_write_ms",
                "wal_lsn",
            ),
            (float(v) for v in row),
            strict=True,
        )
    )
    snap["db_bytes"] = query(
        conn, "SELECT pg_database_size(current_database())"
    ).fetchone()[0]
    snap["tables"] = dict(
        query(
            conn,
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = 'public'",
        ).fetchall()
    )
    snap["rows"] = {
        t: query(conn, f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
        for t in KEY_TABLES
    }
    return snap


def media_bytes() -> tuple[int, int]:
    total = files = 0
    for dirpath, _dirs, names in os.walk(base.MEDIA):
        for name in names:
            total += os.path.getsize(os.path.join(dirpath, name))
            files += 1
    return total, files


def redis_counts(client) -> dict[str, int]:
    stats = client.info("commandstats")
    return {k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.items()}


# ------------------------------------------------------------------ the documents


def make_documents(kind: str, n: int, seed0: int, org) -> list[tuple[str, bytes]]:
    from reviews.models import RegistryRecord
    from tests.docgen.image_doc import make_image
    from tests.docgen.ofd_doc import make_ofd
    from tests.docgen.pdf_doc import make_pdf
    from tests.docgen.registry import clean_digital_invoice, registry_row
    from tests.docgen.xml_doc import make_xml

    truths = [
        clean_digital_invoice(seed0 + i, buyer_name=org.name, buyer_tax_id=org.tax_id)
        for i in range(n)
    ]
    RegistryRecord.objects.bulk_create(
        [RegistryRecord(**registry_row(t)) for t in truths]
    )
    rng = random.Random(seed0)
    out = []
    for i, t in enumerate(truths):
        if kind == "xml":
            out.append((f"{i}.xml", make_xml(t)))
        elif kind == "ofd":
            out.append((f"{i}.ofd", make_ofd(t)))
        elif kind == "pdf":
            out.append((f"{i}.pdf", make_pdf(t, layout_variant=i % 4)))
        else:  # a phone photo: some blur, noise, uneven light, a slight tilt
            data = make_image(
                t, noise=rng.uniform(0.2, 0.4), rotation=rng.uniform(-4, 4), fmt="JPEG"
            )
            out.append((f"{i}.jpg", data))
    return out


# ------------------------------------------------------------------ measurements


@dataclass
class KindCost:
    kind: str
    n: int
    wall: float
    web_thread: float
    usage: Usage
    db0: dict
    db1: dict
    media: tuple[int, int]
    redis: dict[str, int]
    routes: dict[str, int]

    def metrics(self) -> dict[str, float]:
        """Per invoice; milliseconds for CPU and WAL times, bytes for sizes."""
        n, u, d0, d1 = self.n, self.usage, self.db0, self.db1
        ms = 1000 / n
        m = {
            "upload request, Python (ms CPU)": self.web_thread * ms,
            "upload request, PostgreSQL backend (ms CPU)": u.cpu.get(
                f"postgres: {WEB} backends", 0
            )
            * ms,
            "qcluster worker processes (ms CPU)": u.cpu.get("qcluster worker", 0) * ms,
            "qcluster master/sentinel/monitor/pusher (ms CPU)": (
                u.group("qcluster") - u.cpu.get("qcluster worker", 0)
            )
            * ms,
            "worker PostgreSQL backends (ms CPU)": u.cpu.get(
                f"postgres: {WORKER} backends", 0
            )
            * ms,
            "PostgreSQL own processes (ms CPU)": sum(
                v
                for k, v in u.cpu.items()
                if k.startswith("postgres:") and "backends" not in k
            )
            * ms,
            "redis-server (ms CPU)": u.cpu.get("redis-server", 0) * ms,
        }
        m["total (ms CPU)"] = sum(m.values())
        for key in ("commits", "inserted", "updated", "deleted"):
            m[f"rows {key}" if key != "commits" else "commits"] = (
                d1[key] - d0[key]
            ) / n
        m["WAL bytes (pg_stat_wal)"] = (d1["wal_bytes"] - d0["wal_bytes"]) / n
        m["WAL bytes (LSN difference)"] = (d1["wal_lsn"] - d0["wal_lsn"]) / n
        m["WAL records"] = (d1["wal_records"] - d0["wal_records"]) / n
        m["WAL full-page images"] = (d1["wal_fpi"] - d0["wal_fpi"]) / n
        m["WAL syncs (fsync)"] = (d1["wal_syncs"] - d0["wal_syncs"]) / n
        m["WAL sync time (ms)"] = (d1["wal_sync_ms"] - d0["wal_sync_ms"]) / n
        for table in KEY_TABLES:
            m[f"rows in {table}"] = (d1["rows"][table] - d0["rows"][table]) / n
        for table in KEY_TABLES:
            m[f"bytes {table}"] = (
                d1["tables"].get(table, 0) - d0["tables"].get(table, 0)
            ) / n
        m["bytes all tables + indexes"] = (
            sum(d1["tables"].values()) - sum(d0["tables"].values())
        ) / n
        m["bytes database (pg_database_size)"] = (d1["db_bytes"] - d0["db_bytes"]) / n
        m["bytes document files"] = self.media[0] / n
        m["Redis commands"] = sum(self.redis.values()) / n
        return m


class Bench:
    def __init__(self, args) -> None:
        import psycopg
        import redis

        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
        self.redis = redis.from_url(os.environ["REDIS_URL"])
        self.redis.flushdb()
        self.redis_pid = int(self.redis.info("server")["process_id"])
        self.portal = base.portal_setup()
        self.args = args
        self.stats = psycopg.connect(
            base.URL, autocommit=True, application_name=SAMPLER
        )
        self.cluster = None
        self.workers = 1

    def start_cluster(self, workers: int) -> None:
        self.workers = workers
        self.cluster = base.start_worker(workers, PGAPPNAME=WORKER)

    def stop_cluster(self) -> None:
        base.stop(self.cluster)
        self.cluster = None

    def decided(self) -> int:
        return query(
            self.stats,
            "SELECT count(*) FROM invoices_invoice "
            "WHERE status NOT IN ('received', 'screening')",
        ).fetchone()[0]

    def settled(self, expected: int, timeout: float) -> None:
        """Every invoice decided, the broker's queue empty, every audit entry sealed."""
        deadline = time.monotonic() + timeout
        while True:
            OWN["llen"] += 1
            queued = self.redis.llen("django_q:invoiceportal:q")
            unsealed = query(
                self.stats, "SELECT count(*) FROM audit_auditentry WHERE seq IS NULL"
            ).fetchone()[0]
            if self.decided() >= expected and not queued and not unsealed:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"not settled: {self.decided()} of {expected} decided")
            time.sleep(0.25)

    def idle_cost(self, seconds: float = 10) -> Usage:
        tracker = Tracker(cluster=self.cluster, workers=1, redis_pid=self.redis_pid)
        time.sleep(seconds)
        return tracker.finish()

    def kind_cost(self, kind: str, docs: list[tuple[str, bytes]]) -> KindCost:
        from django.db.models import Count

        from invoiceportal.invoices.models import Invoice

        before = self.decided() + 0
        expected = Invoice.objects.count() + len(docs)
        own0 = OWN.copy()
        d0 = db_snapshot(self.stats)
        m0 = media_bytes()
        r0 = redis_counts(self.redis)
        tracker = Tracker(cluster=self.cluster, workers=1, redis_pid=self.redis_pid)
        t0 = time.monotonic()
        thread0 = time.thread_time()
        ids = [self.portal.upload(name, data, TYPES[kind]) for name, data in docs]
        web_thread = time.thread_time() - thread0
        self.settled(expected, timeout=1800)
        wall = time.monotonic() - t0
        time.sleep(1.5)  # backends report their statistics at most once a second
        usage = tracker.finish()
        own = OWN - own0
        d1 = db_snapshot(self.stats)
        d1["commits"] -= own["commits"]  # this bench's polls and samples
        m1 = media_bytes()
        r1 = redis_counts(self.redis)
        redis_delta = {k: v - r0.get(k, 0) for k, v in r1.items() if v - r0.get(k, 0)}
        # the measurement's own reads (INFO, the queue-length poll) are not the portal's
        redis_delta.pop("info", None)
        redis_delta["llen"] = redis_delta.get("llen", 0) - own["llen"]
        routes = dict(
            Invoice.objects.filter(pk__in=ids)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
        assert self.decided() - before == len(docs)
        return KindCost(
            kind=kind,
            n=len(docs),
            wall=wall,
            web_thread=web_thread,
            usage=usage,
            db0=d0,
            db1=d1,
            media=(m1[0] - m0[0], m1[1] - m0[1]),
            redis=redis_delta,
            routes=routes,
        )

    def seal_rate(self, n: int) -> dict[str, float]:
        """``audit_seal`` over ``n`` committed unsealed entries: the after-commit seal
        of one transaction that recorded them (timed between two on_commit callbacks
        registered around it, so the inserts are not counted)."""
        from django.db import connection, transaction

        from invoiceportal.audit.services import audit_record

        marks: dict[str, float] = {}
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]

        def mark(name: str) -> None:
            marks[name] = time.monotonic()
            marks[name + "_cpu"] = time.thread_time()
            marks[name + "_db"] = (proc_stat(backend) or ("", 0, 0.0, 0))[2]

        with transaction.atomic():
            transaction.on_commit(lambda: mark("start"))
            for i in range(n):
                audit_record(actor=None, action="bench.seal", data={"i": i})
            transaction.on_commit(lambda: mark("end"))
        seconds = marks["end"] - marks["start"]
        return {
            "rows": n,
            "seconds": seconds,
            "rows/s": n / seconds,
            "python ms CPU/1000 rows": (marks["end_cpu"] - marks["start_cpu"])
            * 1e6
            / n,
            "postgres ms CPU/1000 rows": (marks["end_db"] - marks["start_db"])
            * 1e6
            / n,
        }

    def drain(self, workers: int, count: int) -> tuple[float, Usage]:
        """``bench_screening.py --workers`` conditions: ``count`` XML invoices queued
        with no worker running, then a cluster drains them while this process polls
        for decisions every 20 ms; sampled from the first decision to the last."""
        from invoiceportal.invoices.models import Invoice

        docs = make_documents("xml", count, 20_000_000, self.portal.org)
        already = Invoice.objects.count()
        queued = [self.portal.upload(name, data) for name, data in docs]
        self.start_cluster(workers)
        while self.portal.decided(queued) == 0:
            time.sleep(0.01)
        tracker = Tracker(
            cluster=self.cluster,
            workers=workers,
            redis_pid=self.redis_pid,
            interval=0.1,
            detail=True,
        )
        t0 = time.monotonic()
        poll0 = time.thread_time()
        self.portal.wait_all(queued)
        poll_cpu = time.thread_time() - poll0
        rate = count / (time.monotonic() - t0)
        usage = tracker.finish()
        usage.poll_cpu = poll_cpu
        self.settled(already + count, timeout=600)
        self.stop_cluster()
        return rate, usage


# ------------------------------------------------------------------ printing


def print_costs(costs: list[KindCost]) -> None:
    names = list(costs[0].metrics())
    table = {c.kind: c.metrics() for c in costs}
    mix = {
        name: sum(MIX[k] * table[k][name] for k in MIX if k in table)
        / sum(MIX[k] for k in MIX if k in table)
        for name in names
    }
    kinds = [c.kind for c in costs]
    print()
    print("per invoice" + "".join(f"{k:>12}" for k in kinds) + f"{'mix':>12}")
    print(f"{'invoices':<50}" + "".join(f"{c.n:>12}" for c in costs) + f"{'':>12}")
    print(
        f"{'wall seconds for the batch':<50}"
        + "".join(f"{c.wall:>12.1f}" for c in costs)
    )
    for name in names:
        print(
            f"{name:<50}"
            + "".join(f"{table[k][name]:>12.1f}" for k in kinds)
            + f"{mix[name]:>12.1f}"
        )
    print()
    for c in costs:
        top = sorted(c.redis.items(), key=lambda kv: -kv[1])[:6]
        other = c.db1["other_db_commits"] - c.db0["other_db_commits"]
        print(
            f"{c.kind}: routes {c.routes}; document files {c.media[1]}; Redis "
            f"{', '.join(f'{k} {v / c.n:.1f}' for k, v in top)} per invoice; "
            f"other databases committed {other} transactions meanwhile"
        )


def print_drain(workers: int, count: int, rate: float, u: Usage) -> None:
    wall = u.wall
    print()
    print(
        f"{workers} worker processes draining {count} queued XML invoices: "
        f"{rate:.1f} invoices/s over {wall:.1f} s; cores used ({os.cpu_count()} on "
        "this machine):"
    )
    ours = 0.0
    for cls, sec in sorted(u.cpu.items(), key=lambda kv: -kv[1]):
        ours += sec
        print(f"  {cls:<50}{sec / wall:>6.2f}  ({sec / count * 1000:.2f} ms/invoice)")
    m = u.machine
    busy = sum(v for k, v in m.items() if k not in ("idle", "iowait"))
    print(f"  {'sum of the above':<50}{ours / wall:>6.2f}")
    print(
        f"  {'other processes (busy minus the above)':<50}{(busy - ours) / wall:>6.2f}"
    )
    print(f"  {'idle':<50}{m['idle'] / wall:>6.2f}")
    print(f"  {'iowait':<50}{m['iowait'] / wall:>6.2f}")
    print(f"  {'steal (hypervisor)':<50}{m['steal'] / wall:>6.2f}")
    worker_db = u.cpu.get("qcluster worker", 0) + sum(
        v
        for k, v in u.cpu.items()
        if k.startswith("postgres:") and "backends" in k and "other databases" not in k
    )
    print(
        "  bench_screening's 'cores busy' (workers + this database's backends): "
        f"{worker_db / wall:.2f}"
    )
    bench = u.cpu.get("bench (this process)", 0)
    print(
        f"  of which this bench: polling for decisions every 20 ms (main thread) "
        f"{u.poll_cpu / wall:.2f}, the 10 Hz sampler thread "
        f"{u.sampler_cpu / wall:.2f}, "
        f"rest {(bench - u.poll_cpu - u.sampler_cpu) / wall:.2f}"
    )
    print("where each worker process's wall time goes (schedstat; samples at 10 Hz):")
    for pid, (on_cpu, waiting) in sorted(u.sched.items()):
        off = max(0.0, wall - on_cpu - waiting)
        print(
            f"  worker {pid}: on a core {on_cpu / wall:.0%}, runnable but waiting for "
            f"a core {waiting / wall:.0%}, sleeping {off / wall:.0%}"
        )
        for label, counts in (
            ("its own state", u.states.get(pid, {})),
            ("its PostgreSQL backend", u.backend_states.get(pid, {})),
        ):
            total = sum(counts.values()) or 1
            top = sorted(counts.items(), key=lambda kv: -kv[1])[:6]
            print(
                f"    {label} ({total} samples): "
                + ", ".join(f"{k} {v / total:.0%}" for k, v in top)
            )


def run(bench: Bench, args: argparse.Namespace) -> None:
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    costs = []
    if kinds:
        bench.start_cluster(1)
        time.sleep(3)
        idle = bench.idle_cost()
        print(
            "idle one-process cluster: "
            f"{idle.group('qcluster') / idle.wall * 1000:.1f} ms CPU per second",
            flush=True,
        )
    for i, kind in enumerate(kinds):
        n = args.photos if kind == "photo" else args.count
        print(f"{kind}: generating {n} documents ...", flush=True)
        docs = make_documents(
            kind, n + args.warmup, 1_000_000 * (i + 1), bench.portal.org
        )
        if args.warmup:  # first requests import lazily: not part of the cost
            warm, docs = docs[: args.warmup], docs[args.warmup :]
            from invoiceportal.invoices.models import Invoice

            total = Invoice.objects.count() + len(warm)
            for name, data in warm:
                bench.portal.upload(name, data, TYPES[kind])
            bench.settled(total, timeout=600)
        cost = bench.kind_cost(kind, docs)
        print(f"{kind}: {n} screened in {cost.wall:.1f} s", flush=True)
        costs.append(cost)
    if costs:
        bench.stop_cluster()
        print_costs(costs)

    if args.seal:
        seal = bench.seal_rate(args.seal)
        print()
        print(
            f"audit_seal: {seal['rows']} entries in {seal['seconds']:.2f} s = "
            f"{seal['rows/s']:.0f} rows/s; CPU per 1000 rows: Python "
            f"{seal['python ms CPU/1000 rows']:.0f} ms, PostgreSQL "
            f"{seal['postgres ms CPU/1000 rows']:.0f} ms"
        )
    if args.drain:
        rate, usage = bench.drain(args.drain_workers, args.drain)
        print_drain(args.drain_workers, args.drain, rate, usage)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300, help="XML, OFD and PDF")
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--drain", type=int, default=600)
    parser.add_argument("--drain-workers", type=int, default=2)
    parser.add_argument("--seal", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=2, help="uploads per kind first")
    parser.add_argument(
        "--kinds", default="xml,ofd,pdf,photo", help="comma-separated subset"
    )
    args = parser.parse_args()
    with open("/proc/loadavg") as handle:
        print(f"load average at start: {handle.read().split()[:3]}", flush=True)
    bench = Bench(args)
    print(f"database {base.URL.rsplit('/', 1)[1]}, broker {os.environ['REDIS_URL']}")
    try:
        run(bench, args)
    finally:
        if bench.cluster is not None:
            bench.stop_cluster()
    with open("/proc/loadavg") as handle:
        print(f"load average at the end: {handle.read().split()[:3]}")


if __name__ == "__main__":
    main()
