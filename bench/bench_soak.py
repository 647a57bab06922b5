"""A day's volume, compressed: the whole portal under a sustained upload stream.

For ``--minutes`` (default 30) invoices are uploaded through the API at ``--rate``
(default 12/s, one million a day) in a realistic mix (70 % XML/OFD, 27 % text PDF,
3 % photographed JPEGs) to a real gunicorn server, screened by a real django-q2
cluster on the Redis broker, while 8 simulated reviewers claim and decide review
tasks through the API at a human pace and a sampler reads the review queue page as a
signed-in reviewer once a second. Production settings (DJANGO_ENV=production, the
psycopg pool, Redis cache, manifest static files, JSON logs, an audit sealer beside
the workers) on a scratch PostgreSQL database ``bench_soak`` (dropped at the start).

    .venv/bin/python bench/bench_soak.py [--minutes 30] [--rate 12]
    .venv/bin/python bench/bench_soak.py --pool-only --minutes 30   # documents only

The documents are generated before the clock starts (tests/docgen, every one a
distinct invoice) and kept in ``--pool`` for the next run. Prints, with PASS/FAIL:
  * upload -> automatic decision p50/p95/max (target p95 < 5 s), and the same on the
    idle system before the soak (the baseline, as a ratio);
  * queue page p95 (target < 100 ms) per minute and overall, idle baseline ratio;
  * error responses (any non-2xx but expected 409s, reported apart): target 0;
  * invoices lost (a 201 whose invoice is neither decided nor queued): target 0;
  * the audit chain verified at the end (audit_seal, then verify_audit_chain);
  * RSS of every gunicorn, qcluster and sealer process and the database's
    backends at the start, every minute and at the end (target: flat);
  * the machine's load average and the busiest other processes every minute.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import pickle
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
PY = sys.executable
BASE_URL_DB = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_soak"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
ORG_NAME = "基准测试有限公司"
ORG_TAX_ID = "91110108MA01YF2K3R"
MIX = (("xml", 0.50), ("ofd", 0.20), ("pdf", 0.27), ("jpg", 0.03))
UNREGISTERED_SHARE = 0.04  # the registry does not know them: a reviewer looks
REVIEWERS = 8
TICKS = os.sysconf("SC_CLK_TCK")
AUTO_CODES = ("auto_approved", "auto_rejected")
# The machine-speed figure of the machine docs/scaling.md's 12/s figures came from
# (2026-12-02, first runs): other machines' costs are scaled to it for comparison.
REFERENCE_SPEED_MS = 80.0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def machine_speed() -> float:
    """CPU milliseconds of a fixed pure-Python workload (the best of five): the same
    code costs more CPU on a slower or busier machine, so soaks on different machines
    are compared through this figure (a per-invoice cost divided by it)."""
    best = float("inf")
    for _ in range(5):
        t = time.process_time()
        total = 0
        for i in range(2_000_000):
            total += i % 7
        best = min(best, time.process_time() - t)
    return best * 1000


def log(msg: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", flush=True)


# ------------------------------------------------------------------ the pool


def _pool_plan(n: int) -> list[tuple[int, str, bool]]:
    """(seed, format, in the registry) for each of ``n`` uploads, shuffled mix."""
    rng = random.Random(20261201)
    plan = []
    for i in range(n):
        r, acc, fmt = rng.random(), 0.0, MIX[-1][0]
        for name, share in MIX:
            acc += share
            if r < acc:
                fmt = name
                break
        plan.append((i, fmt, rng.random() >= UNREGISTERED_SHARE))
    return plan


def _truth(seed: int):
    from tests.docgen.registry import clean_digital_invoice

    return clean_digital_invoice(
        7_000_000 + seed, buyer_name=ORG_NAME, buyer_tax_id=ORG_TAX_ID
    )


def _init_fonts(charsets: dict[str, frozenset[str]]) -> None:
    """One font subset per family for the whole pool (docgen grows the character set
    invoice by invoice otherwise, re-converting the font each time)."""
    from tests.docgen import pdf_doc

    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the pool's end is no interrupt
    pdf_doc.FONTS.charsets.update(charsets)


def _render(item: tuple[int, str, bool, str]) -> tuple[int, int]:
    seed, fmt, _registered, path = item
    from tests.docgen.image_doc import make_image
    from tests.docgen.ofd_doc import make_ofd
    from tests.docgen.pdf_doc import make_pdf
    from tests.docgen.xml_doc import make_xml

    inv = _truth(seed)
    if fmt == "xml":
        data = make_xml(inv, variant=seed % 4)
    elif fmt == "ofd":
        data = make_ofd(inv)
    elif fmt == "pdf":
        data = make_pdf(inv)
    else:
        data = make_image(
            inv, noise=0.25, rotation=(seed % 5 - 2) * 0.4, fmt="JPEG", dpi=200
        )
    Path(path).write_bytes(data)
    return seed, len(data)


def build_pool(pool: Path, n: int) -> list[dict]:
    """Documents for ``n`` distinct invoices in ``pool`` (reused when present)."""
    import multiprocessing as mp

    index_file = pool / "index.pickle"
    if index_file.exists():
        index = pickle.loads(index_file.read_bytes())  # noqa: S301  (our own file)
        if len(index) >= n:
            return index[:n]
    pool.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invoiceportal.settings")
    import django

    django.setup()
    from tests.docgen import pdf_doc
    from tests.docgen.registry import registry_row

    plan = _pool_plan(n)
    truths = [_truth(seed) for seed, _f, _r in plan]
    numbers = collections.Counter(t.number for t in truths)
    dup = [k for k, c in numbers.items() if c > 1]
    if dup:
        raise SystemExit(f"the generator repeated invoice numbers: {dup[:5]}")
    # Every character any PDF or photo will draw, per font family.
    charsets: dict[str, set[str]] = {
        fam: set(pdf_doc.BASE_CHARS) for fam in pdf_doc.FONT_FILES
    }
    for (_seed, fmt, _r), inv in zip(plan, truths, strict=True):
        if fmt in ("pdf", "jpg"):
            for doc in pdf_doc._page_docs(inv, pdf_doc.Style.for_variant(0), 1):
                for *_, s, _size, family, _align in doc.texts:
                    charsets[family].update(s)
    frozen = {fam: frozenset(chars) for fam, chars in charsets.items()}
    ext = {"xml": "xml", "ofd": "ofd", "pdf": "pdf", "jpg": "jpg"}
    todo = []
    index = []
    for (seed, fmt, registered), inv in zip(plan, truths, strict=True):
        path = pool / f"{seed:06d}.{ext[fmt]}"
        index.append(
            {
                "seed": seed,
                "format": fmt,
                "registered": registered,
                "file": str(path),
                "number": inv.number,
                "registry": registry_row(inv),
            }
        )
        if not path.exists():
            todo.append((seed, fmt, registered, str(path)))
    # The slow ones first, so the progress figure is honest.
    todo.sort(key=lambda t: {"jpg": 0, "pdf": 1}.get(t[1], 2))
    log(f"generating {len(todo)} documents into {pool} ...")
    t0 = time.monotonic()
    with mp.get_context("fork").Pool(
        os.cpu_count() or 2, initializer=_init_fonts, initargs=(frozen,)
    ) as workers:
        for k, _ in enumerate(workers.imap_unordered(_render, todo, chunksize=8)):
            if k and k % 1000 == 0:
                log(f"  {k}/{len(todo)} ({time.monotonic() - t0:.0f} s)")
    index_file.write_bytes(pickle.dumps(index))
    log(f"pool ready: {n} documents in {time.monotonic() - t0:.0f} s")
    return index


# --------------------------------------------------------------- processes


def proc_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def proc_rss_anon_mb(pid: int) -> float | None:
    """Private (anonymous) resident memory: a PostgreSQL backend's VmRSS also counts
    the shared buffers it has touched, which only grows towards shared_buffers."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS


def broker_backlog() -> int:
    """Tasks waiting in the Redis broker (every list in the bench's Redis DB)."""
    import redis

    conn = redis.from_url(REDIS_URL)
    return sum(conn.llen(k) for k in conn.scan_iter() if conn.type(k) == b"list")


def loadavg() -> str:
    with open("/proc/loadavg") as handle:
        return handle.read().strip()


def proc_cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_cmd(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc/*/stat's parent pid)."""
    parents: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            parents[ppid].append(int(entry))
    out, stack = [], [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def start(cmd: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen:
    handle = open(logfile, "ab")  # noqa: SIM115  (closed with the process)
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    from invoiceportal.common.processes import stop_process_group

    stop_process_group(process, timeout=timeout)


def top_others(own: set[int], n: int = 5) -> str:
    """The busiest processes of the machine that are not this soak's, by CPU%
    since their start (ps)."""
    out = subprocess.run(
        ["ps", "-eo", "pid,pcpu,rss,comm", "--sort=-pcpu", "--no-headers"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    rows = []
    for line in out:
        parts = line.split(None, 3)
        if len(parts) == 4 and int(parts[0]) not in own:
            rows.append(f"{parts[3]}({parts[0]}) {parts[1]}%")
        if len(rows) >= n:
            break
    return ", ".join(rows)


# ---------------------------------------------------------------- the soak


class Client:
    """A requests session that opens a new connection after an idle second: gunicorn
    closes idle keep-alive connections after 2 s, and a request sent on one just as
    it closes fails with a reset that no real server error caused."""

    def __init__(self, **headers: str) -> None:
        import requests

        self.session = requests.Session()
        self.session.headers.update(headers)
        self.last = 0.0

    def request(self, method: str, url: str, **kw):
        if time.monotonic() - self.last > 1.0:
            self.session.close()
        try:
            return self.session.request(method, url, **kw)
        finally:
            self.last = time.monotonic()


@dataclass
class Upload:
    seed: int
    fmt: str
    scheduled: float  # monotonic
    sent: float = 0.0
    sent_wall: float = 0.0  # time.time() when the upload was sent
    done_wall: float = 0.0  # time.time() when the response arrived
    latency: float = 0.0
    status: int = 0
    invoice_id: str = ""
    error: str = ""


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    uploads: list[Upload] = field(default_factory=list)
    api_errors: collections.Counter = field(default_factory=collections.Counter)
    error_samples: list[str] = field(default_factory=list)
    conflicts: collections.Counter = field(default_factory=collections.Counter)
    reviewer_calls: collections.Counter = field(default_factory=collections.Counter)
    decisions: collections.Counter = field(default_factory=collections.Counter)
    decide_latency: list[float] = field(default_factory=list)
    claim_latency: list[float] = field(default_factory=list)
    queue_samples: list[tuple[float, float, int]] = field(default_factory=list)
    rss: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    load: list[tuple[float, str]] = field(default_factory=list)

    def error(self, where: str, status: int, body: str) -> None:
        with self.lock:
            self.api_errors[f"{where} {status}"] += 1
            if len(self.error_samples) < 20:
                self.error_samples.append(f"{where} {status}: {body[:300]}")


def run_uploads(
    base: str,
    token: str,
    index: list[dict],
    rate: float,
    t0: float,
    stats: Stats,
    stop_at: float,
    senders: int = 64,
) -> None:
    """Open loop: upload ``i`` is due at t0 + i/rate; ``senders`` threads send the
    due ones (a late one goes at once, and the lag is recorded)."""
    import requests

    mime = {
        "xml": "application/xml",
        "ofd": "application/ofd",
        "pdf": "application/pdf",
        "jpg": "image/jpeg",
    }
    ext = {"xml": "xml", "ofd": "ofd", "pdf": "pdf", "jpg": "jpg"}
    next_i = [0]
    lock = threading.Lock()

    def sender() -> None:
        session = Client(Authorization=f"Token {token}")
        while True:
            with lock:
                i = next_i[0]
                if i >= len(index):
                    return
                due = t0 + i / rate
                if due >= stop_at or time.monotonic() >= stop_at:
                    return  # the period is over: what is late is not sent
                next_i[0] += 1
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            item = index[i]
            up = Upload(seed=item["seed"], fmt=item["format"], scheduled=due)
            data = Path(item["file"]).read_bytes()
            up.sent = time.monotonic()
            up.sent_wall = time.time()
            try:
                resp = session.request(
                    "POST",
                    f"{base}/api/v1/invoices/",
                    files={
                        "file": (
                            f"{item['seed']}.{ext[item['format']]}",
                            data,
                            mime[item["format"]],
                        )
                    },
                    timeout=60,
                )
                up.status = resp.status_code
                if resp.status_code == 201:
                    up.invoice_id = resp.json()["id"]
                else:
                    stats.error("upload", resp.status_code, resp.text)
            except requests.RequestException as exc:
                up.status = -1
                up.error = repr(exc)
                stats.error("upload", -1, repr(exc))
            up.done_wall = time.time()
            up.latency = time.monotonic() - up.sent
            with stats.lock:
                stats.uploads.append(up)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def reviewer(
    base: str,
    token: str,
    reasons: list[str],
    stats: Stats,
    stop: threading.Event,
    seed: int,
) -> None:
    """Claim the next task, read it for a while, decide; idle a little when the
    queue is empty. Human-ish: 3-8 s per task, 2-4 s between looks at an empty
    queue."""
    import requests

    rng = random.Random(seed)
    session = Client(Authorization=f"Token {token}")
    while not stop.is_set():
        t = time.monotonic()
        try:
            resp = session.request(
                "POST", f"{base}/api/v1/review-tasks/claim-next/", timeout=30
            )
        except requests.RequestException as exc:
            stats.error("claim-next", -1, repr(exc))
            stop.wait(2)
            continue
        with stats.lock:
            stats.claim_latency.append(time.monotonic() - t)
            stats.reviewer_calls[f"claim-next {resp.status_code}"] += 1
        if resp.status_code == 204:
            stop.wait(rng.uniform(2, 4))
            continue
        if resp.status_code == 409:
            with stats.lock:
                stats.conflicts[f"claim-next: {resp.json().get('code')}"] += 1
            stop.wait(1)
            continue
        if resp.status_code != 200:
            stats.error("claim-next", resp.status_code, resp.text)
            stop.wait(2)
            continue
        task = resp.json()
        # Reading the invoice (the detail, as the workbench shows it).
        try:
            detail = session.request(
                "GET", f"{base}/api/v1/invoices/{task['invoice']}/", timeout=30
            )
        except requests.RequestException as exc:
            stats.error("invoice detail", -1, repr(exc))
            continue
        if detail.status_code != 200:
            stats.error("invoice detail", detail.status_code, detail.text)
        stop.wait(rng.uniform(3, 8))
        r = rng.random()
        if r < 0.85:
            body = {"decision": "approve"}
        else:
            body = {
                "decision": "reject",
                "reason_code": rng.choice(reasons),
                "comment": "软测试：金额与合同不符",
            }
        t = time.monotonic()
        try:
            resp = session.request(
                "POST",
                f"{base}/api/v1/review-tasks/{task['id']}/decide/",
                json=body,
                timeout=30,
            )
        except requests.RequestException as exc:
            stats.error("decide", -1, repr(exc))
            continue
        with stats.lock:
            stats.decide_latency.append(time.monotonic() - t)
            stats.reviewer_calls[f"decide {resp.status_code}"] += 1
        if resp.status_code == 200:
            with stats.lock:
                stats.decisions[body["decision"]] += 1
        elif resp.status_code == 409:
            with stats.lock:
                stats.conflicts[f"decide: {resp.json().get('code')}"] += 1
        else:
            stats.error("decide", resp.status_code, resp.text)


def queue_sampler(
    base: str, cookie: str, stats: Stats, stop: threading.Event, t0: float
) -> None:
    import requests

    session = Client(Cookie=f"sessionid={cookie}")
    while not stop.is_set():
        t = time.monotonic()
        try:
            resp = session.request("GET", f"{base}/reviews/queue/", timeout=30)
            status = resp.status_code
            if status != 200:
                stats.error("queue page", status, resp.text)
        except requests.RequestException as exc:
            status = -1
            stats.error("queue page", -1, repr(exc))
        elapsed = time.monotonic() - t
        with stats.lock:
            stats.queue_samples.append((t - t0, elapsed * 1000, status))
        stop.wait(max(0.0, 1.0 - elapsed))


def autovacuum_stand_in(stop: threading.Event, every: float = 60.0) -> None:
    """Autovacuum's work, done by the bench, when the server runs with autovacuum off
    (the development and CI server here does): without statistics the planner reads
    the growing tables as if they were empty and picks sequential scans, which
    production (autovacuum on) would not. Its CPU counts as PostgreSQL's.

    Once a minute (autovacuum_naptime), each table that autovacuum would pick by its
    default thresholds is analysed (rows changed since the last analyse > 50 + 10 % of
    the table) and vacuumed (dead rows > 50 + 20 %, or rows inserted since the last
    vacuum > 1,000 + 20 %), throttled as autovacuum is (2 ms per 200 cost units).
    An unthrottled database-wide VACUUM (ANALYZE) every minute, as before, took 1.8 s
    of a core at 12,600 invoices and grew with the tables: the queue page samples
    that fell into it made that minute's p95."""
    import psycopg

    with psycopg.connect(BASE_URL_DB, autocommit=True) as conn:
        if conn.execute("SHOW autovacuum").fetchone()[0] == "on":
            return
        conn.execute("SET vacuum_cost_delay = '2ms'")
        conn.execute("SET vacuum_cost_limit = 200")
        log(
            "autovacuum is off on this server: the bench vacuums and analyses by"
            " autovacuum's thresholds every minute instead"
        )
        while not stop.wait(every):
            rows = conn.execute(
                "SELECT format('%I.%I', s.schemaname, s.relname),"
                " s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0),"
                " s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0)"
                " OR s.n_ins_since_vacuum > 1000 + 0.2 * greatest(c.reltuples, 0)"
                " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            ).fetchall()
            for table, analyse, vacuum in rows:
                if stop.is_set():
                    return
                if vacuum:
                    options = "(ANALYZE) " if analyse else ""
                    conn.execute(f"VACUUM {options}{table}")
                elif analyse:
                    conn.execute(f"ANALYZE {table}")


def db_sampler(stats_waits: collections.Counter, stop: threading.Event) -> None:
    """Once a second: what each busy backend of the database is doing or waiting
    for (pg_stat_activity), to tell lock convoys from CPU starvation."""
    import psycopg

    with psycopg.connect(BASE_URL_DB, autocommit=True) as conn:
        while not stop.is_set():
            rows = conn.execute(
                "SELECT state, wait_event_type, wait_event, left(query, 50) "
                "FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state <> 'idle'"
            ).fetchall()
            stats_waits["samples"] += 1
            for state, wtype, event, query in rows:
                key = f"{state}/{wtype or 'CPU'}:{event or '-'}"
                if state.startswith("idle in"):  # after which statement
                    key += f" [{' '.join(query.split())}]"
                stats_waits[key] += 1
            stop.wait(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=12)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--q-workers", type=int, default=2)
    parser.add_argument(
        "--pool",
        default="/tmp/bench-soak-pool",  # noqa: S108  (regenerable documents)
    )
    parser.add_argument("--pool-only", action="store_true")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=300,
        help="after the last upload, how long to wait for screening to finish",
    )
    args = parser.parse_args()
    n = int(args.minutes * 60 * args.rate)

    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    static_root = Path(args.pool) / "static"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "invoiceportal.settings",
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_HMAC_KEY": secrets.token_hex(32),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",  # no TLS terminator in front, as behind haproxy
        "PROXY_COUNT": "0",
        "DATABASE_URL": BASE_URL_DB,
        "REDIS_URL": REDIS_URL,
        "DB_POOL_MIN_SIZE": "1",
        "DB_POOL_MAX_SIZE": "4",
        "DB_POOL_TIMEOUT": "5",
        "Q_WORKERS": str(args.q_workers),
        "MEDIA_ROOT": str(work / "media"),
        "STATIC_ROOT": str(static_root),
        "AUDIT_CHECKPOINT_DIR": str(work / "audit"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "ACCESS_LOG_LEVEL": "INFO",
        "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus"),
        "TOKEN_THROTTLE": "1000/min",  # the bench signs 9 clients in at once
    }
    (work / "prometheus").mkdir()
    os.environ.update(env)
    index = build_pool(Path(args.pool), n)
    if args.pool_only:
        shutil.rmtree(work)
        return
    log(f"work dir {work}; database {BASE_URL_DB}; broker {REDIS_URL}")

    import psycopg
    import redis

    redis.from_url(REDIS_URL).flushdb()
    base_db, name = BASE_URL_DB.rsplit("/", 1)
    with psycopg.connect(f"{base_db}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if not (static_root / "staticfiles.json").exists():
        call_command("collectstatic", verbosity=0, interactive=False)

    from django.db import connection
    from django.test import Client

    from accounts.models import Organization, User
    from accounts.roles import Role
    from accounts.services import user_sync_groups
    from accounts.tokens import api_token_issue
    from invoiceportal.invoices.models import Invoice, TimelineEvent
    from reviews.models import RegistryRecord, RejectionReason, ReviewTask
    from reviews.rules import rules_ensure_defaults

    rules_ensure_defaults()
    org = Organization.objects.create(name=ORG_NAME, tax_id=ORG_TAX_ID)
    centre = Organization.objects.create(name="基准测试审核中心", tax_id=_uscc(9002))
    submitter = User.objects.create(
        username="soak-submitter", role=Role.SUBMITTER, organization=org
    )
    user_sync_groups(submitter)
    submit_token = api_token_issue(user=submitter, address="127.0.0.1").key
    reviewers, tokens = [], []
    for i in range(REVIEWERS):
        user = User.objects.create(
            username=f"soak-reviewer-{i}", role=Role.REVIEWER, organization=centre
        )
        user_sync_groups(user)
        reviewers.append(user)
        tokens.append(api_token_issue(user=user, address="127.0.0.1").key)
    watcher = User.objects.create(
        username="soak-queue-watcher", role=Role.REVIEWER, organization=centre
    )
    user_sync_groups(watcher)
    client = Client()
    client.force_login(watcher)
    cookie = client.cookies["sessionid"].value
    reasons = list(
        RejectionReason.objects.filter(is_active=True, comment_required=False)
        .values_list("code", flat=True)
        .order_by("code")
    ) or list(
        RejectionReason.objects.filter(is_active=True).values_list("code", flat=True)
    )
    # A registry that knows most invoices (as the tax bureau's would), filled
    # before the clock starts; plus the baseline's invoices.
    base_index = build_baseline_pool(Path(args.pool))
    RegistryRecord.objects.bulk_create(
        [
            RegistryRecord(**item["registry"])
            for item in [*index, *base_index]
            if item["registered"]
        ],
        batch_size=2000,
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    connection.close()

    # ---- processes
    port = args.port
    base = f"http://127.0.0.1:{port}"
    procs = {
        "web": start(
            [
                str(Path(PY).parent / "gunicorn"),
                "invoiceportal.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.web_workers),
                "--threads",
                str(args.web_threads),
                "--timeout",
                "60",
                "--graceful-timeout",
                "30",
            ],
            env,
            work / "web.log",
        ),
        "qcluster": start([PY, "manage.py", "qcluster"], env, work / "qcluster.log"),
        "sealer": start(
            [PY, "manage.py", "audit_seal", "--every", "5"], env, work / "sealer.log"
        ),
    }
    import requests

    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the web server did not start: see {work / 'web.log'}")
        time.sleep(0.5)
    time.sleep(5)  # the cluster's workers fork and connect

    def pg_backends() -> list[int]:
        with psycopg.connect(f"{base_db}/postgres", autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]
            ).fetchall()
        return [r[0] for r in rows]

    def snapshot() -> dict[str, float]:
        out = {}
        for role, proc in procs.items():
            pids = [proc.pid, *children(proc.pid)]
            for k, pid in enumerate(pids):
                rss = proc_rss_mb(pid)
                if rss is not None:
                    label = "master" if k == 0 else f"child{pid}"
                    out[f"{role}:{label}"] = rss
        for pid in pg_backends():
            rss, anon = proc_rss_mb(pid), proc_rss_anon_mb(pid)
            if rss is not None and anon is not None:
                out[f"postgres:{pid}"] = rss
                out[f"postgres-anon:{pid}"] = anon
        return out

    cpu_seen: dict[int, list] = {}  # pid -> [role, first, last]

    def sample_cpu(first: bool = False) -> None:
        roles = {os.getpid(): "bench client"}
        for role, proc in procs.items():
            for pid in [proc.pid, *children(proc.pid)]:
                roles[pid] = role
        for pid in pg_backends():
            roles[pid] = "postgres"
        for pid, role in roles.items():
            value = proc_cpu(pid)
            if value is None:
                continue
            if pid not in cpu_seen:
                cpu_seen[pid] = [role, value if first else 0.0, value]
            cpu_seen[pid][2] = value

    def own_pids() -> set[int]:
        pids = {os.getpid()}
        for proc in procs.values():
            pids |= {proc.pid, *children(proc.pid)}
        return pids | set(pg_backends())

    # ---- baseline on the idle system: the machine's speed, single uploads, queue page
    speed = machine_speed()
    log(f"machine speed: {speed:.0f} ms of CPU for the fixed Python workload")
    stats_base = Stats()
    session = requests.Session()
    session.headers["Authorization"] = f"Token {submit_token}"
    base_ids = []
    for item in base_index:
        data = Path(item["file"]).read_bytes()
        sent = time.time()
        resp = session.post(
            f"{base}/api/v1/invoices/",
            files={"file": (Path(item["file"]).name, data)},
            timeout=60,
        )
        if resp.status_code != 201:
            stats_base.error("baseline upload", resp.status_code, resp.text)
            continue
        inv_id = resp.json()["id"]
        base_ids.append((inv_id, sent))
        wait_until = time.monotonic() + 60
        while time.monotonic() < wait_until:
            status = Invoice.objects.filter(pk=inv_id).values_list("status", flat=True)
            if status and status[0] not in ("received", "screening"):
                break
            time.sleep(0.02)
    base_auto = auto_latencies(base_ids)
    watcher_session = requests.Session()
    watcher_session.cookies.set("sessionid", cookie)
    base_queue = []
    for _ in range(30):
        t = time.monotonic()
        resp = watcher_session.get(f"{base}/reviews/queue/", timeout=30)
        base_queue.append((time.monotonic() - t) * 1000)
        if resp.status_code != 200:
            raise SystemExit(f"queue page: {resp.status_code} {resp.text[:300]}")
        time.sleep(0.2)
    connection.close()
    log(
        f"idle baseline: upload->auto decision median "
        f"{statistics.median(base_auto):.2f} s over {len(base_auto)} XML/PDF; "
        f"queue page median {statistics.median(base_queue):.1f} ms, "
        f"p95 {pct(base_queue, 95):.1f} ms"
    )

    # ---- the soak
    stats = Stats()
    stop_evt = threading.Event()
    duration = args.minutes * 60
    t0 = time.monotonic() + 1
    stop_at = t0 + duration
    snap0 = snapshot()
    stats.rss.append((0.0, snap0))
    stats.load.append((0.0, loadavg()))
    log(
        f"soak: {n} uploads over {args.minutes:g} min at {args.rate:g}/s, "
        f"{REVIEWERS} reviewers, queue page sampled every second; "
        f"gunicorn {args.web_workers}x{args.web_threads}, qcluster {args.q_workers} "
        f"workers; load {stats.load[-1][1]}"
    )
    threads = [
        threading.Thread(
            target=run_uploads,
            args=(base, submit_token, index, args.rate, t0, stats, stop_at),
            daemon=True,
        ),
        threading.Thread(
            target=queue_sampler, args=(base, cookie, stats, stop_evt, t0), daemon=True
        ),
    ]
    threads += [
        threading.Thread(
            target=reviewer,
            args=(base, tokens[i], reasons, stats, stop_evt, i),
            daemon=True,
        )
        for i in range(REVIEWERS)
    ]
    waits: collections.Counter = collections.Counter()
    threads.append(
        threading.Thread(target=db_sampler, args=(waits, stop_evt), daemon=True)
    )
    threads.append(
        threading.Thread(target=autovacuum_stand_in, args=(stop_evt,), daemon=True)
    )
    for t in threads:
        t.start()
    sample_cpu(first=True)
    busy0 = machine_busy()
    minute = 1
    while threads[0].is_alive():
        threads[0].join(timeout=1)
        # Every second: a process's CPU is read from /proc while it lives, and
        # django-q2 recycles a worker every 500 tasks (about a minute here), so a
        # per-minute sample lost the recycled workers' CPU to "other processes".
        sample_cpu()
        now = time.monotonic() - t0
        if now >= minute * 60:
            minute += 1
            snap = snapshot()
            stats.rss.append((now, snap))
            load = loadavg()
            stats.load.append((now, load))
            with stats.lock:
                done = len(stats.uploads)
                recent = [ms for at, ms, _s in stats.queue_samples if at >= now - 60]
                lag = max(
                    (u.sent - u.scheduled for u in stats.uploads[-200:]), default=0
                )
            pending = _pending(connection)
            log(
                f"t={now / 60:4.1f} min: {done} uploaded (lag {lag:.1f} s), "
                f"{pending['received'] + pending['screening']} awaiting screening, "
                f"{pending['queued']} tasks open; queue page p95 "
                f"{pct(recent, 95):.0f} ms; load {load}; RSS web "
                f"{_sum(snap, 'web'):.0f} MB, qcluster {_sum(snap, 'qcluster'):.0f} MB,"
                f" postgres {_sum(snap, 'postgres'):.0f} MB; others: "
                f"{top_others(own_pids(), 4)}"
            )
    upload_end = time.monotonic()
    log("uploads finished; waiting for screening to drain ...")
    drain_deadline = time.monotonic() + args.drain_seconds
    ids = [u.invoice_id for u in stats.uploads if u.invoice_id]
    last_left, last_progress = None, time.monotonic()
    while time.monotonic() < drain_deadline:
        left = Invoice.objects.filter(
            pk__in=ids, status__in=["received", "screening"]
        ).count()
        if not left:
            break
        if left != last_left:
            last_left, last_progress = left, time.monotonic()
        elif time.monotonic() - last_progress > 60:
            break  # stuck: nothing screened for a minute
        sample_cpu()
        time.sleep(1)
    drain = time.monotonic() - upload_end
    backlog_tasks = broker_backlog()
    stop_evt.set()
    for t in threads[1:]:
        t.join(timeout=40)
    sample_cpu()
    busy1 = machine_busy()
    snap_end = snapshot()
    stats.rss.append((time.monotonic() - t0, snap_end))
    stats.load.append((time.monotonic() - t0, loadavg()))
    elapsed = upload_end - t0
    for role in ("web", "qcluster", "sealer"):
        stop(procs[role])
    # Again on the quiet machine: a shared host's speed drifts (94 against 153 ms in
    # consecutive runs, 2026-12-02); the projection uses the mean of the two.
    speed_after = machine_speed()

    # ---- figures from the database
    statuses = collections.Counter(
        Invoice.objects.filter(pk__in=ids).values_list("status", flat=True)
    )
    found = sum(statuses.values())
    open_tasks = set(
        ReviewTask.objects.filter(invoice_id__in=ids)
        .open()
        .values_list("invoice_id", flat=True)
    )
    decided_states = {"approved", "rejected", "withdrawn", "needs_info"}
    waiting = statuses.get("received", 0) + statuses.get("screening", 0)
    # Lost: a 201 with no invoice row, an invoice in review without an open task, or
    # one still waiting for screening while the broker holds no task for it.
    missing = len(ids) - found
    orphaned = sum(
        1
        for inv_id, status in Invoice.objects.filter(pk__in=ids).values_list(
            "id", "status"
        )
        if status == "in_review" and inv_id not in open_tasks
    )
    stuck = waiting if backlog_tasks == 0 else max(0, waiting - backlog_tasks)
    lost = missing + orphaned + stuck
    odd = {k: v for k, v in statuses.items() if k not in decided_states}
    by_id = {u.invoice_id: u.sent_wall for u in stats.uploads if u.invoice_id}
    auto = auto_latencies(list(by_id.items()))
    auto_by_fmt: dict[str, list[float]] = collections.defaultdict(list)
    fmt_of = {u.invoice_id: u.fmt for u in stats.uploads if u.invoice_id}
    review_route = []
    for inv_id, code, at in TimelineEvent.objects.filter(
        invoice_id__in=ids,
        code__in=[*AUTO_CODES, "sent_to_review"],
    ).values_list("invoice_id", "code", "at"):
        seconds = at.timestamp() - by_id[str(inv_id)]
        if code in AUTO_CODES:
            auto_by_fmt[fmt_of[str(inv_id)]].append(seconds)
        else:
            review_route.append(seconds)
    connection.close()

    audit_ok, audit_out = audit_check(env)

    # ---- report
    uploads = stats.uploads
    ok = [u for u in uploads if u.status == 201]
    up_lat = [u.latency for u in ok]
    lags = [u.sent - u.scheduled for u in uploads]
    achieved = len(ok) / elapsed if elapsed else 0.0
    queue_ms = [ms for _a, ms, s in stats.queue_samples if s == 200]
    errors = sum(stats.api_errors.values())
    cpu_used = collections.Counter()
    for role, first_cpu, last_cpu in cpu_seen.values():
        cpu_used[role] += last_cpu - first_cpu
    soak_wall = time.monotonic() - t0
    machine = busy1 - busy0

    print()
    print("=" * 78)
    print(
        f"SOAK {args.minutes:g} min at {args.rate:g}/s target, {os.cpu_count()} CPUs "
        f"(shared), PostgreSQL + Redis, gunicorn {args.web_workers}x"
        f"{args.web_threads}, qcluster {args.q_workers} workers, {REVIEWERS} reviewers"
    )
    mix = collections.Counter(u.fmt for u in ok)
    print(
        f"uploads: {len(ok)}/{len(uploads)} accepted (201) of {n} planned "
        f"({n - len(uploads)} not sent: behind schedule when the period ended), mix "
        + ", ".join(f"{k} {v / max(1, len(ok)):.1%}" for k, v in sorted(mix.items()))
        + f"; achieved {achieved:.2f}/s; schedule lag p95 {pct(lags, 95):.2f} s, "
        f"max {max(lags, default=0):.2f} s; upload response p50 "
        f"{statistics.median(up_lat) * 1000 if up_lat else 0:.0f} ms, p95 "
        f"{pct(up_lat, 95) * 1000:.0f} ms"
    )
    print(
        f"final statuses: {dict(statuses)}; after the last upload, screening "
        f"{'drained in' if not waiting else 'NOT drained after'} {drain:.1f} s "
        f"({waiting} still waiting, {backlog_tasks} tasks left in the broker)"
    )
    print(
        f"upload->automatic decision ({len(auto)} invoices): p50 "
        f"{statistics.median(auto) if auto else float('nan'):.2f} s, p95 "
        f"{pct(auto, 95):.2f} s, max {max(auto, default=float('nan')):.2f} s"
    )
    for fmt, values in sorted(auto_by_fmt.items()):
        print(
            f"    {fmt}: {len(values)} p50 {statistics.median(values):.2f} s, "
            f"p95 {pct(values, 95):.2f} s, max {max(values):.2f} s"
        )
    if review_route:
        print(
            f"upload->sent to review ({len(review_route)}): p50 "
            f"{statistics.median(review_route):.2f} s, p95 "
            f"{pct(review_route, 95):.2f} s"
        )
    if base_auto:
        print(
            f"    idle baseline (single uploads, same run): p50 "
            f"{statistics.median(base_auto):.2f} s, p95 {pct(base_auto, 95):.2f} s; "
            f"soak p95 / idle p95 = {pct(auto, 95) / pct(base_auto, 95):.1f}x"
        )
    per_minute = collections.defaultdict(list)
    for at, ms, s in stats.queue_samples:
        if s == 200:
            per_minute[int(at // 60)].append(ms)
    worst_minute = max((pct(v, 95) for v in per_minute.values()), default=0.0)
    print(
        f"queue page ({len(queue_ms)} samples): p50 "
        f"{statistics.median(queue_ms) if queue_ms else 0:.1f} ms, p95 "
        f"{pct(queue_ms, 95):.1f} ms, max {max(queue_ms, default=0):.1f} ms; worst "
        f"minute p95 {worst_minute:.1f} ms; idle baseline p95 "
        f"{pct(base_queue, 95):.1f} ms "
        f"(soak {pct(queue_ms, 95) / pct(base_queue, 95):.1f}x)"
    )
    print(
        "    per-minute p95 (ms): "
        + " ".join(f"{pct(v, 95):.0f}" for _k, v in sorted(per_minute.items()))
    )
    print(
        f"reviewers: {dict(stats.decisions)} decided; "
        f"calls {dict(stats.reviewer_calls)}"
        f"; claim p95 {pct(stats.claim_latency, 95) * 1000:.0f} ms, decide p95 "
        f"{pct(stats.decide_latency, 95) * 1000:.0f} ms"
    )
    samples = max(1, waits.pop("samples", 0))
    print(
        f"database backends not idle, per second sampled ({samples} samples): "
        + ", ".join(f"{k} {v / samples:.2f}" for k, v in waits.most_common(12))
    )
    print(f"expected 409 conflicts: {dict(stats.conflicts) or 0}")
    print(f"error responses: {errors} {dict(stats.api_errors) or ''}")
    for sample in stats.error_samples[:10]:
        print(f"    {sample}")
    print(
        f"lost invoices: {lost} (201 but no invoice {missing}, in review without a "
        f"task {orphaned}, waiting with no broker task {stuck}); not yet decided "
        f"nor queued: {odd.get('received', 0) + odd.get('screening', 0)}"
    )
    print(f"audit: {audit_out}")
    ours = sum(cpu_used.values())
    cores = os.cpu_count() or 1
    screened = len(auto) + len(review_route)
    print(
        f"CPU seconds during the soak ({soak_wall:.0f} s wall x {cores} cores = "
        f"{soak_wall * cores:.0f}): machine busy {machine:.0f}, this soak {ours:.0f} ("
        + ", ".join(f"{k} {v:.0f}" for k, v in cpu_used.most_common())
        + f"), other processes on the machine {machine - ours:.0f}"
    )
    if screened and ok:
        per_inv = (cpu_used["qcluster"] + cpu_used["web"] + cpu_used["postgres"]) / len(
            ok
        )
        print(
            f"    per invoice: qcluster {cpu_used['qcluster'] / screened * 1000:.0f} ms"
            f" CPU, web (uploads + reviewers + queue page) "
            f"{cpu_used['web'] / len(ok) * 1000:.0f} ms, postgres "
            f"{cpu_used['postgres'] / len(ok) * 1000:.0f} ms; {per_inv * 1000:.0f} ms"
            f" in all = {per_inv * args.rate:.2f} cores needed at {args.rate:g}/s"
        )
        drift = abs(speed_after - speed) / min(speed, speed_after)
        mean_speed = (speed + speed_after) / 2
        print(
            f"    machine speed before / after the soak: {speed:.0f} / "
            f"{speed_after:.0f} ms for the fixed Python workload; per invoice / mean "
            f"speed = {per_inv * 1000 / mean_speed:.2f} (compare runs on different "
            "machines by this"
            + (
                f"; UNRELIABLE: the speed moved {drift:.0%} during this run)"
                if drift > 0.2
                else ")"
            )
        )
        print(
            f"    at this cost the machine's {cores} cores sustain at most "
            f"{cores / per_inv:.1f} invoices/s (nothing else running); one million a "
            f"day (12/s) needs {per_inv * 12:.2f} cores of this machine's speed, "
            f"{per_inv * 12 * REFERENCE_SPEED_MS / mean_speed:.2f} of a machine whose"
            f" speed figure is {REFERENCE_SPEED_MS:g} ms"
        )
    print("load average (1/5/15 min) per minute: ")
    print("    " + " | ".join(f"{t / 60:.0f}m {la.split()[0]}" for t, la in stats.load))
    # Warm: the snapshot a quarter into the run (every worker has loaded what it
    # loads once, e.g. the OCR models on its first photo).
    warm_at, warm = min(stats.rss, key=lambda r: abs(r[0] - duration / 4))
    print(
        f"RSS (MB) per process: start -> at {warm_at / 60:.0f} min (warm) -> end; "
        "flat = end <= warm + max(10 MB, 10 %); PostgreSQL judged on its private "
        "memory (RssAnon), VmRSS also counts shared buffers touched"
    )
    mem_ok = True
    growing = []
    for key in sorted(set(snap0) | set(snap_end) | set(warm)):
        start_mb, warm_mb, end_mb = snap0.get(key), warm.get(key), snap_end.get(key)
        verdict = ""
        judged = not key.startswith("postgres:")
        if warm_mb and end_mb and judged:
            g = end_mb - warm_mb
            flat = g <= max(10.0, 0.10 * warm_mb)
            if not flat:
                mem_ok = False
                growing.append(key)
            verdict = f"  {g:+.1f} MB{'' if flat else ' GROWING'}"
        elif judged and warm_mb is None and end_mb is not None:
            verdict = "  (started after the warm snapshot: recycled)"
        if key.startswith("postgres-anon:"):
            continue  # printed beside its VmRSS
        extra = ""
        if key.startswith("postgres:"):
            anon = "postgres-anon:" + key.split(":")[1]
            s0, w0, e0 = snap0.get(anon), warm.get(anon), snap_end.get(anon)
            extra = f"  private {_mb(s0)} -> {_mb(w0)} -> {_mb(e0)}"
            if w0 and e0:
                g = e0 - w0
                flat = g <= max(10.0, 0.10 * w0)
                if not flat:
                    mem_ok = False
                    growing.append(key)
                extra += f" {g:+.1f} MB{'' if flat else ' GROWING'}"
        print(
            f"    {key:<22} {_mb(start_mb)} -> {_mb(warm_mb)} -> {_mb(end_mb)}"
            f"{verdict}{extra}  [{_short(proc_label(key, procs))}]"
        )
    for role in ("web", "qcluster", "sealer", "postgres"):
        seen = len({k for _a, sn in stats.rss for k in sn if k.startswith(role + ":")})
        series = [
            (at, [v for k, v in snap.items() if k.startswith(role + ":")])
            for at, snap in stats.rss
        ]
        print(
            f"    {role} total per minute: "
            + " ".join(f"{sum(v):.0f}" for _at, v in series)
            + f" MB; processes seen {seen}"
        )
    print("-" * 78)
    verdicts = [
        (
            f"sustained {args.rate:g}/s (achieved {achieved:.2f}/s, lag max "
            f"{max(lags, default=0):.1f} s)",
            achieved >= 0.98 * args.rate and max(lags, default=0) < 5,
        ),
        (f"p95 upload->auto decision {pct(auto, 95):.2f} s < 5 s", pct(auto, 95) < 5),
        (
            f"queue page p95 {pct(queue_ms, 95):.1f} ms < 100 ms (worst minute "
            f"{worst_minute:.1f} ms)",
            pct(queue_ms, 95) < 100 and worst_minute < 100,
        ),
        (f"error responses {errors} = 0", errors == 0),
        (f"lost invoices {lost} = 0", lost == 0),
        ("audit chain verifies", audit_ok),
        (
            "memory flat after warm-up"
            + (": growing " + ", ".join(growing) if growing else ""),
            mem_ok,
        ),
        (
            f"backlog drained after the last upload ({waiting} waiting)",
            waiting == 0,
        ),
    ]
    for text, passed in verdicts:
        print(f"{'PASS' if passed else 'FAIL'}  {text}")
    print(f"logs in {work}")


# ------------------------------------------------------------------ helpers


def _uscc(n: int) -> str:
    from tests.factories import make_uscc

    return make_uscc(n)


def build_baseline_pool(pool: Path) -> list[dict]:
    """Ten invoices for the idle baseline (6 XML, 4 text PDF), apart from the soak's."""
    from tests.docgen.pdf_doc import make_pdf
    from tests.docgen.registry import registry_row
    from tests.docgen.xml_doc import make_xml

    out = []
    for k in range(10):
        inv = _truth(900_000 + k)
        fmt = "xml" if k < 6 else "pdf"
        path = pool / f"baseline-{k}.{fmt}"
        if not path.exists():
            path.write_bytes(make_xml(inv) if fmt == "xml" else make_pdf(inv))
        out.append(
            {
                "format": fmt,
                "file": str(path),
                "registered": True,
                "registry": registry_row(inv),
            }
        )
    return out


def auto_latencies(pairs: list[tuple[str, float]]) -> list[float]:
    """Seconds from the moment the upload was sent (client wall clock) to the
    automatic decision's timeline event, for the invoices decided automatically."""
    from invoiceportal.invoices.models import TimelineEvent

    when = dict(pairs)
    out = []
    for chunk in range(0, len(pairs), 5000):
        keys = [p[0] for p in pairs[chunk : chunk + 5000]]
        for inv_id, at in TimelineEvent.objects.filter(
            invoice_id__in=keys, code__in=AUTO_CODES
        ).values_list("invoice_id", "at"):
            out.append(at.timestamp() - when[str(inv_id)])
    return out


def _pending(connection) -> dict[str, int]:
    from invoiceportal.invoices.models import Invoice
    from reviews.models import ReviewTask

    counts = collections.Counter(
        Invoice.objects.filter(status__in=["received", "screening"]).values_list(
            "status", flat=True
        )
    )
    return {
        "received": counts.get("received", 0),
        "screening": counts.get("screening", 0),
        "queued": ReviewTask.objects.open().count(),
    }


def audit_check(env: dict[str, str]) -> tuple[bool, str]:
    seal = subprocess.run(
        [PY, "manage.py", "audit_seal"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    verify = subprocess.run(
        [PY, "manage.py", "verify_audit_chain"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    text = " ".join(
        line
        for line in (seal.stdout + seal.stderr + verify.stdout + verify.stderr)
        .strip()
        .splitlines()
        if not line.startswith("{")
    )
    return verify.returncode == 0 and seal.returncode == 0, (
        f"audit_seal rc={seal.returncode}, verify_audit_chain rc={verify.returncode}: "
        f"{text[:600]}"
    )


def _sum(snap: dict[str, float], role: str) -> float:
    return sum(v for k, v in snap.items() if k.startswith(role + ":"))


def _mb(value: float | None) -> str:
    return f"{value:7.1f}" if value is not None else "    gone"


_LABELS: dict[str, str] = {}


def proc_label(key: str, procs: dict) -> str:
    if key not in _LABELS:
        pid = key.rsplit("child", 1)[-1] if "child" in key else ""
        if key.endswith(":master"):
            pid = str(procs[key.split(":")[0]].pid)
        if key.startswith("postgres:"):
            pid = key.split(":")[1]
        _LABELS[key] = proc_cmd(int(pid)) if pid.isdigit() else ""
    return _LABELS[key]


def _short(cmd: str) -> str:
    return cmd.replace(str(ROOT) + "/", "").replace(str(Path(PY).parent) + "/", "")[:60]


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    main()
