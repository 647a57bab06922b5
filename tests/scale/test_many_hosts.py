"""Issue 15, "many hosts, simulated": two web hosts and two worker hosts, each in a
network namespace of its own, behind haproxy, sharing one PostgreSQL, one Redis and
one object store (tests/scale/hosts.py). While an API client uploads invoices and a
reviewer works the queue, all through haproxy:

1. worker-a's process group is SIGKILLed while the queue drains: every invoice still
   reaches its decision (or the review queue) exactly once, worker-b doing the rest.
   Redis hands a task to one cluster and forgets it (no acknowledgement): the tasks
   worker-a had taken are lost with it and the screening sweep queues those invoices
   again. The test runs the sweep with SCREENING_STUCK_MINUTES=0 and moves the
   schedule's next run forward instead of waiting its 2 minutes (+10 in production).
2. web-a is stopped (SIGTERM) and started again under load: haproxy routes around it;
   no request fails for the client beyond one retry.
3. An invoice uploaded through web-a directly is read and downloaded, same bytes,
   through web-b directly; no host keeps a document on its own disk (S3 storage).

Then the database is checked: one screening per invoice, no duplicate review task, and
``manage.py verify_audit_chain`` passes. Prints a summary (requests, retries, phases).

    sudo make test PYTEST_ARGS="-m many_hosts -s"  # root, PostgreSQL, haproxy
"""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.conf import settings

from invoiceportal.invoices.models import Invoice, TimelineEvent
from reviews.models import CheckResult, ReviewTask

from .hosts import ManyHosts, wait_for

pytestmark = [
    pytest.mark.many_hosts,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="many hosts share one PostgreSQL (set DATABASE_URL); not on SQLite",
    ),
    pytest.mark.skipif(
        os.geteuid() != 0, reason="network namespaces need root (ip netns)"
    ),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip"),
    pytest.mark.skipif(
        shutil.which("haproxy") is None,
        reason="needs Debian's haproxy (apt-get install haproxy; .ci/run does)",
    ),
]

FIRST_WAVE = 24  # uploaded while worker-a is killed
SECOND_WAVE = 12  # uploaded while web-a restarts
RETRYABLE = {502, 503, 504}
UNDECIDED = ("received", "screening")
ROUTING_CODES = ("auto_approved", "auto_rejected", "sent_to_review")


@dataclass
class Tally:
    """What the clients saw, across threads."""

    requests: int = 0
    retries: list[str] = field(default_factory=list)  # why each retry was needed
    failures: list[str] = field(default_factory=list)
    served_by: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ApiClient:
    """A client of the portal's API that retries a request once (and counts it) on
    what a load balancer answers for a host going away: a broken connection, 502, 503,
    504. Uploads carry an Idempotency-Key, so a retried one is not a second invoice."""

    def __init__(self, base: str, tally: Tally, token: str = "") -> None:
        self.base, self.tally = base, tally
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        with self.tally.lock:
            self.tally.requests += 1
        for attempt in (1, 2):
            try:
                response = self.session.request(
                    method, self.base + path, timeout=60, **kwargs
                )
            except requests.ConnectionError as exc:
                problem = f"{method} {path}: {exc.__class__.__name__}"
            else:
                if response.status_code not in RETRYABLE:
                    with self.tally.lock:
                        self.tally.served_by[response.headers.get("X-Served-By")] += 1
                        if response.status_code >= 500:
                            self.tally.failures.append(
                                f"{method} {path}: {response.status_code}"
                            )
                    return response
                problem = f"{method} {path}: {response.status_code}"
            if attempt == 1:
                with self.tally.lock:
                    self.tally.retries.append(problem)
                time.sleep(0.5)
        with self.tally.lock:
            self.tally.failures.append(f"{problem} (after one retry)")
        raise AssertionError(problem)

    def upload(self, path: Path, key: str) -> dict:
        files = {"file": (path.name, path.read_bytes(), "application/xml")}
        response = self.call(
            "POST", "/api/v1/invoices/", files=files, headers={"Idempotency-Key": key}
        )
        assert response.status_code in (200, 201), response.text
        return response.json()


def token_for(base: str, username: str, password: str) -> str:
    response = requests.post(
        f"{base}/api/v1/auth/token/",
        json={"username": username, "password": password},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def review_until(stop: threading.Event, reviewer: ApiClient, decided: list) -> None:
    """Claim the next task and approve it, until told to stop."""
    while not stop.is_set():
        try:
            claimed = reviewer.call("POST", "/api/v1/review-tasks/claim-next/")
            if claimed.status_code == 204:
                stop.wait(0.3)
                continue
            assert claimed.status_code == 200, claimed.text
            task = claimed.json()["id"]
            answer = reviewer.call(
                "POST",
                f"/api/v1/review-tasks/{task}/decide/",
                json={"decision": "approve", "comment": "many hosts"},
            )
            assert answer.status_code == 200, answer.text
            decided.append(task)
        except AssertionError as exc:  # counted in the tally; keep reviewing
            with reviewer.tally.lock:
                reviewer.tally.failures.append(f"reviewer: {exc}")
            stop.wait(0.5)


def screened_by(hosts: ManyHosts, name: str) -> list[str]:
    """References the worker host logged a screening for (all its runs)."""
    lines = []
    for log in sorted((hosts.work / "logs").glob(f"{name}.*.log")):
        lines += [
            line.split("Screening: ", 1)[1].split(" ", 1)[0]
            for line in log.read_text(errors="replace").splitlines()
            if "Screening: INV-" in line
        ]
    return lines


@pytest.fixture
def hosts(tmp_path: Path):
    cluster = ManyHosts(tmp_path)
    try:
        yield cluster
    finally:
        cluster.close()
        print(f"many hosts: the hosts' logs are in {tmp_path / 'logs'}")


def test_many_hosts(hosts: ManyHosts) -> None:
    started = time.monotonic()
    seed = hosts.start(invoice_count=FIRST_WAVE + SECOND_WAVE + 1)
    phases = {"setup": time.monotonic() - started}
    invoice_table = Invoice._meta.db_table
    files = [Path(item["path"]) for item in seed["invoices"]]
    known = {Path(item["path"]).name for item in seed["invoices"] if item["known"]}
    tally = Tally()
    base = hosts.haproxy_url
    submitter = ApiClient(
        base, tally, token_for(base, seed["submitter"], seed["password"])
    )
    reviewer = ApiClient(
        base, tally, token_for(base, seed["reviewer"], seed["password"])
    )
    uploaded: dict[str, str] = {}  # invoice id -> file name

    def undecided() -> list[str]:
        return [
            str(row[0])
            for row in hosts.sql(
                f"SELECT id FROM {invoice_table} WHERE status = ANY(%s)",  # noqa: S608
                (list(UNDECIDED),),
            )
        ]

    stop_review, decided_tasks = threading.Event(), []
    review = threading.Thread(
        target=review_until, args=(stop_review, reviewer, decided_tasks)
    )
    review.start()
    try:
        # --- 1. SIGKILL worker-a while the queue drains -------------------------
        t = time.monotonic()

        def upload_batch(paths: list[Path]) -> None:
            """One request, many files: a backlog in Redis at once, for both worker
            hosts to take from. A retried batch answers its duplicates, no new rows."""
            response = submitter.call(
                "POST",
                "/api/v1/invoices/batch/",
                files=[
                    ("files", (p.name, p.read_bytes(), "application/xml"))
                    for p in paths
                ],
            )
            assert response.status_code == 200, response.text
            for item in response.json()["results"]:
                assert item["outcome"] != "error", item
                with tally.lock:
                    uploaded[item["invoice"]["id"]] = item["filename"]

        first = files[:FIRST_WAVE]
        uploaders = [
            threading.Thread(target=upload_batch, args=(first[i::2],)) for i in range(2)
        ]
        for thread in uploaders:
            thread.start()
        wait_for(
            lambda: len(screened_by(hosts, "worker-a")) >= 2,
            60,
            "worker-a to screen its first invoices",
        )
        backlog_at_kill = hosts.redis("LLEN", "django_q:invoiceportal:q")
        hosts.sigkill_group(hosts.hosts["worker-a"])
        killed_after = len(screened_by(hosts, "worker-a"))
        for thread in uploaders:
            thread.join(120)
        assert len(uploaded) == FIRST_WAVE, tally.failures

        # worker-b drains what Redis still holds; what worker-a had taken is lost.
        def drained() -> bool:
            before = sorted(undecided())
            if hosts.redis("LLEN", "django_q:invoiceportal:q"):
                return False
            time.sleep(3)
            return before == sorted(undecided())

        wait_for(drained, 60, "worker-b to drain the queue")
        lost = undecided()
        if lost:  # the sweep's 2-minute period, compressed
            hosts.sql(
                "UPDATE django_q_schedule SET next_run = now() "
                "WHERE name = 'screening-sweep'"
            )
            wait_for(lambda: not undecided(), 60, "the sweep to re-queue lost tasks")
        phases["1 worker-a killed, all screened"] = time.monotonic() - t

        # --- 2. Restart web-a under load -----------------------------------------
        t = time.monotonic()
        stop_load = threading.Event()
        pending = list(files[FIRST_WAVE : FIRST_WAVE + SECOND_WAVE])
        load_lock = threading.Lock()
        served_before = Counter(tally.served_by)

        def load(rng: random.Random) -> None:
            while not stop_load.is_set():
                try:
                    with load_lock:
                        path = pending.pop() if pending else None
                    if path is not None:
                        body = submitter.upload(path, key=f"many-hosts-{path.stem}")
                        with tally.lock:
                            uploaded[body["id"]] = path.name
                    listed = submitter.call("GET", "/api/v1/invoices/?page_size=20")
                    assert listed.status_code == 200, listed.text
                    with tally.lock:
                        pick = rng.choice(list(uploaded))
                    detail = submitter.call("GET", f"/api/v1/invoices/{pick}/")
                    assert detail.status_code == 200, detail.text
                except AssertionError as exc:
                    with tally.lock:
                        tally.failures.append(f"load: {exc}")

        loaders = [
            threading.Thread(target=load, args=(random.Random(i),)) for i in range(2)
        ]
        for thread in loaders:
            thread.start()
        time.sleep(2)
        web_a = hosts.hosts["web-a"]
        hosts.sigterm_and_wait(web_a)
        stopped_at = time.monotonic()
        wait_for(
            lambda: hosts.backend_states().get("web-a") == "DOWN",
            30,
            "haproxy to take web-a out (2 failed checks a second apart)",
        )
        hosts.start_web(web_a)
        hosts.wait_web_ready(web_a)
        wait_for(
            lambda: hosts.backend_states().get("web-a") == "UP",
            30,
            "haproxy to take web-a back",
        )
        served_again = tally.served_by["web-a"]
        wait_for(
            lambda: tally.served_by["web-a"] > served_again,
            30,
            "a request served by the restarted web-a",
        )
        web_a_away = time.monotonic() - stopped_at
        time.sleep(1)
        stop_load.set()
        for thread in loaders:
            thread.join(60)
        phases["2 web-a restarted under load"] = time.monotonic() - t
        assert not tally.failures, tally.failures
        assert tally.served_by["web-a"] > served_before["web-a"]
        assert tally.served_by["web-b"] > served_before["web-b"]

        # --- 3. Upload through web-a, read and download through web-b --------------
        t = time.monotonic()
        own = Tally()
        document = files[-1]
        token = submitter.session.headers["Authorization"].split()[1]
        via_a = ApiClient(web_a.url, own, token)
        via_b = ApiClient(hosts.hosts["web-b"].url, own, token)
        created = via_a.upload(document, key="many-hosts-cross")
        uploaded[created["id"]] = document.name
        read = via_b.call("GET", f"/api/v1/invoices/{created['id']}/")
        assert read.status_code == 200, read.text
        assert read.json()["reference"] == created["reference"]
        download = via_b.call("GET", f"/api/v1/invoices/{created['id']}/document/")
        assert download.status_code == 200, download.text
        assert download.content == document.read_bytes()
        on_disk = [
            str(p) for h in hosts.hosts.values() for p in (h.home / "media").rglob("*")
        ]
        assert on_disk == [], f"documents on a host's own disk: {on_disk}"
        phases["3 web-a upload, web-b download"] = time.monotonic() - t

        # --- 4. Exactly once, in the database ------------------------------------
        t = time.monotonic()
        wait_for(lambda: not undecided(), 60, "every upload to be screened")
        wait_for(
            lambda: (
                not hosts.sql(
                    f"SELECT 1 FROM {ReviewTask._meta.db_table} WHERE state <> 'done'"  # noqa: S608
                )
            ),
            60,
            "the reviewer to empty the queue",
        )
    finally:
        stop_review.set()
        review.join(60)
    assert not tally.failures, tally.failures

    ids = list(uploaded)
    rows = hosts.sql(
        f"SELECT id::text, status, decision_source FROM {invoice_table}",  # noqa: S608
    )
    assert sorted(r[0] for r in rows) == sorted(ids), "an upload made two invoices"
    status = {r[0]: r[1] for r in rows}
    events = Counter(
        (str(invoice), code)
        for invoice, code in hosts.sql(
            f"SELECT invoice_id, code FROM {TimelineEvent._meta.db_table}"  # noqa: S608
        )
    )
    routes: dict[str, set[str]] = {code: set() for code in ROUTING_CODES}
    for invoice in ids:
        assert events[(invoice, "submitted")] == 1, invoice
        assert events[(invoice, "screening_started")] == 1, invoice
        routed = [c for c in ROUTING_CODES if events[(invoice, c)]]
        assert [events[(invoice, c)] for c in routed] == [1], (invoice, routed)
        routes[routed[0]].add(invoice)
        assert status[invoice] == "approved", (uploaded[invoice], status[invoice])
    rounds = hosts.sql(
        f"SELECT invoice_id::text, max(round), count(DISTINCT run_id) "  # noqa: S608
        f"FROM {CheckResult._meta.db_table} GROUP BY invoice_id"
    )
    assert sorted(r[0] for r in rounds) == sorted(ids)
    assert {(r[1], r[2]) for r in rounds} == {(1, 1)}, "an invoice screened twice"
    tasks = Counter(
        (str(invoice), stage)
        for invoice, stage in hosts.sql(
            f"SELECT invoice_id, stage FROM {ReviewTask._meta.db_table}"  # noqa: S608
        )
    )
    assert set(tasks.values()) == {1}, "a duplicate review task"
    reviewed = routes["sent_to_review"]
    # the registry knows half of them: screening approves most of those on its own
    assert routes["auto_approved"] and reviewed, routes
    assert routes["auto_approved"] <= {i for i in ids if uploaded[i] in known}
    assert {invoice for invoice, _ in tasks} == reviewed
    assert sorted(decided_tasks) == sorted(set(decided_tasks))
    assert len(decided_tasks) == len(reviewed)

    sealed = hosts.manage(hosts.hosts["worker-b"], "audit_seal")
    assert sealed.returncode == 0, sealed.stderr[-2000:]
    verified = hosts.manage(hosts.hosts["worker-b"], "verify_audit_chain")
    assert verified.returncode == 0, verified.stderr[-2000:] + verified.stdout
    assert "Audit chain intact" in verified.stdout
    phases["4 checks and audit chain"] = time.monotonic() - t

    by_a, by_b = screened_by(hosts, "worker-a"), screened_by(hosts, "worker-b")
    assert by_a and by_b, "both worker hosts screened invoices"
    backend = hosts.haproxy_stats()["BACKEND"]
    total = time.monotonic() - started
    print(
        "\nmany hosts: "
        f"{tally.requests} requests through haproxy, {len(tally.retries)} retried "
        f"once {tally.retries}, "
        f"{len(tally.failures)} failed; served by {dict(tally.served_by)}\n"
        f"  invoices {len(ids)}; worker-a screened {len(by_a)} "
        f"({killed_after} before SIGKILL, {backlog_at_kill} left in Redis then), "
        f"worker-b {len(by_b)}; lost with worker-a and re-queued by the sweep "
        f"{len(lost)}; review tasks decided {len(decided_tasks)}\n"
        f"  web-a away {web_a_away:.1f} s (SIGTERM to a restarted node serving); "
        f"haproxy retried {backend['wretr']} and redispatched {backend['wredis']} "
        "requests itself\n"
        + "".join(f"  {name}: {secs:.1f} s\n" for name, secs in phases.items())
        + "".join(f"  ({name}: {secs:.1f} s)\n" for name, secs in hosts.timings.items())
        + f"  total {total:.1f} s"
    )
