"""Operations (issue 13, section 3): /healthz and /readyz, the worker's heartbeat,
/metrics behind a token or an address, JSON logs with a request id carried into
worker tasks, and the "checks are delayed" banner."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task
from prometheus_client.parser import text_string_to_metric_families

from accounts.roles import Role
from invoiceportal.common.heartbeat import (
    checks_delayed,
    heartbeat_age,
    record_heartbeat,
)
from invoiceportal.common.logs import (
    JsonFormatter,
    bind_request_id,
    current_request_id,
    unbind_request_id,
)
from invoiceportal.common.models import WorkerHeartbeat
from invoiceportal.common.processes import start_worker, stop_process_group
from invoiceportal.invoices.status import Priority
from invoiceportal.notifications.models import Channel, Kind, Notification
from reviews.screening import screen_invoice
from tests import factories
from tests.factories import UserFactory
from tests.worker import ROOT, _database_url, wait_for

NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
TOKEN = "s3cret-metrics-token"


def log_marker(marker: str) -> str:
    """A task for the worker: logs a line and answers the request id it runs under."""
    logging.getLogger("tests.ops").warning("marker %s", marker)
    return current_request_id()


@pytest.fixture
def queued_tasks(monkeypatch):
    """Tasks go to the broker for a worker instead of running inline (as in
    production; the test settings run them inline)."""
    monkeypatch.setattr(Conf, "SYNC", False)


@contextmanager
def captured_json(logger_name: str) -> Iterator[io.StringIO]:
    """What ``logger_name`` writes, formatted by the portal's JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    with captured_json("invoiceportal.access") as stream:
        yield stream


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


# ------------------------------------------------------------------ healthz, readyz
@pytest.mark.django_db
def test_healthz_answers_alive_without_signing_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert response["Cache-Control"].startswith("max-age=0")
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_shape_without_signing_in(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "checks", "warnings"}
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "broker", "worker"}
    assert body["checks"]["database"]["ok"] is True
    # tests run tasks inline: no worker is needed
    assert body["checks"]["worker"] == {
        "ok": True,
        "inline": True,
        "required": False,
        "stale_after_seconds": 300,
        "age_seconds": None,
    }


@pytest.mark.django_db(transaction=True)
def test_readyz_503_when_the_database_is_down(client):
    original = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-dir/ops-test.sqlite3"
    else:
        connection.settings_dict["NAME"] = "no_such_database_ops_test"
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.update(original)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["worker"]["ok"] is False
    assert body["warnings"] == {}
    assert client.get("/readyz").status_code == 200  # back


# ------------------------------------------------------------------ heartbeat
@pytest.mark.django_db
def test_heartbeat_fresh_then_stale(client, queued_tasks, time_machine, settings):
    time_machine.move_to(NOON, tick=False)
    assert heartbeat_age() is None
    assert checks_delayed() is True  # never seen

    record_heartbeat("schedule")
    time_machine.move_to(NOON + dt.timedelta(seconds=60), tick=False)
    assert heartbeat_age() == 60
    assert checks_delayed() is False
    worker = client.get("/readyz").json()["checks"]["worker"]
    assert worker == {
        "ok": True,
        "required": False,
        "stale_after_seconds": 300,
        "age_seconds": 60.0,
    }

    time_machine.move_to(NOON + dt.timedelta(seconds=301), tick=False)
    assert checks_delayed() is True
    response = client.get("/readyz")
    assert response.status_code == 200  # reported, the node stays ready
    assert response.json()["checks"]["worker"]["ok"] is False
    assert "301" in response.json()["warnings"]["worker"]

    settings.READYZ_REQUIRE_WORKER = True
    assert client.get("/readyz").status_code == 503

    record_heartbeat("task")
    assert checks_delayed() is False
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_heartbeat_threshold_is_a_setting(queued_tasks, time_machine, settings):
    time_machine.move_to(NOON, tick=False)
    record_heartbeat("schedule")
    time_machine.move_to(NOON + dt.timedelta(seconds=90), tick=False)
    assert checks_delayed() is False
    settings.WORKER_HEARTBEAT_STALE_SECONDS = 60
    assert checks_delayed() is True


def test_the_heartbeat_is_scheduled_every_minute(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="worker-heartbeat")
    assert schedule.func == "invoiceportal.common.heartbeat.heartbeat_task"
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)


# ------------------------------------------------------------------ /metrics
def scrape(client, **extra) -> dict[str, object]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        family.name: family
        for family in text_string_to_metric_families(response.content.decode())
    }


def sample(families, family: str, name: str, **labels: str) -> float:
    for s in families[family].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise AssertionError(f"{name} {labels} not in {families[family].samples}")


@pytest.mark.django_db
def test_metrics_closed_when_nothing_is_configured(client, supervisor, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = []
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403
    client.force_login(supervisor)  # signing in is no way in
    assert client.get("/metrics").status_code == 403


@pytest.mark.django_db
def test_metrics_refused_without_the_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_ADDRESSES = []
    assert client.get("/metrics").status_code == 403
    for header in (f"Bearer {TOKEN}x", f"Token {TOKEN}", TOKEN, "Bearer"):
        response = client.get("/metrics", HTTP_AUTHORIZATION=header)
        assert response.status_code == 403, header
        assert b"invoiceportal" not in response.content
    assert (
        client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405
    )


@pytest.mark.django_db
def test_metrics_by_address_only_from_the_configured_ones(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8", "192.0.2.7"]
    settings.PROXY_COUNT = 0
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.5").status_code == 403
    # a forged X-Forwarded-For is not believed without a configured proxy
    forged = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.0.0.1"
    )
    assert forged.status_code == 403
    # behind one proxy, the address the proxy saw counts
    settings.PROXY_COUNT = 1
    proxied = client.get(
        "/metrics", REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="10.9.9.9"
    )
    assert proxied.status_code == 200


@pytest.mark.django_db
def test_metrics_served_with_the_token(
    client, settings, organization, submitter, queued_tasks, time_machine
):
    settings.METRICS_TOKEN = TOKEN
    time_machine.move_to(NOON, tick=False)
    record_heartbeat("schedule")
    # screening: submitted at noon, checked 42 s later (a real screening run)
    invoice = factories.make_invoice(organization, submitter)
    time_machine.move_to(NOON + dt.timedelta(seconds=42), tick=False)
    screen_invoice(invoice_id=invoice.pk)
    # a high-priority task queued 10 minutes before the scrape
    factories.make_review_task(organization, submitter, priority=Priority.HIGH)
    time_machine.move_to(NOON + dt.timedelta(minutes=10, seconds=42), tick=False)
    # an email tried twice and not delivered; one delivered at the first try
    Notification.objects.create(
        user=submitter, kind=Kind.values[0], channel=Channel.EMAIL, attempts=2
    )
    Notification.objects.create(
        user=submitter,
        kind=Kind.values[0],
        channel=Channel.EMAIL,
        attempts=1,
        sent_at=timezone.now(),
    )
    client.get("/healthz")  # a request to measure

    families = scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    for name in (
        "invoiceportal_http_request_duration_seconds",
        "invoiceportal_screening_latency_seconds",
        "invoiceportal_review_queue_depth",
        "invoiceportal_review_oldest_task_age_seconds",
        "invoiceportal_review_sla_breaches",
        "invoiceportal_review_tasks_breaching",
        "invoiceportal_worker_heartbeat_age_seconds",
        "invoiceportal_worker_broker_queue_size",
        "invoiceportal_notification_delivery_failures",
        "invoiceportal_webhook_delivery_failures",
        "invoiceportal_metrics_source_up",
    ):
        assert name in families, name
    assert (
        sample(
            families,
            "invoiceportal_http_request_duration_seconds",
            "invoiceportal_http_request_duration_seconds_count",
            route="healthz",
            method="GET",
            status="2xx",
        )
        >= 1
    )
    # ours ended after 42 s (the review task's invoice, if counted, at once)
    latency = "invoiceportal_screening_latency_seconds"

    def bucket(le: str) -> float:
        return sample(families, latency, latency + "_bucket", le=le)

    assert bucket("60.0") - bucket("30.0") == 1
    assert bucket("30.0") == bucket("1.0")
    assert bucket("+Inf") == bucket("60.0")
    gsum = latency + "_gsum"
    assert sample(families, gsum, gsum) == 42
    depth = "invoiceportal_review_queue_depth"
    assert sample(families, depth, depth, priority="high", state="queued") == 1
    assert sample(families, depth, depth, priority="urgent", state="queued") == 0
    oldest = "invoiceportal_review_oldest_task_age_seconds"
    assert sample(families, oldest, oldest, priority="high") == 600
    age = "invoiceportal_worker_heartbeat_age_seconds"
    assert sample(families, age, age) == 642
    for source in ("worker", "review_queue", "screening", "notifications", "webhooks"):
        up = "invoiceportal_metrics_source_up"
        assert sample(families, up, up, source=source) == 1, source
    failed = "invoiceportal_notification_delivery_failures"
    assert sample(families, failed, failed, channel="email") == 2
    undelivered = "invoiceportal_notifications_undelivered"
    assert sample(families, undelivered, undelivered, channel="email") == 1
    failures = "invoiceportal_webhook_delivery_failures"
    assert sample(families, failures, failures + "_total") == 0


# ------------------------------------------------------------------ request id, logs
@pytest.mark.django_db
def test_request_id_kept_when_sane_and_logged(client, json_log):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-42.abc:1")
    assert response["X-Request-ID"] == "req-42.abc:1"
    # probes log at DEBUG: a page request logs at INFO
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="page-7")
    assert response["X-Request-ID"] == "page-7"
    entry = [e for e in lines(json_log) if e.get("request_id") == "page-7"]
    assert entry, json_log.getvalue()
    assert entry[0]["route"] == "accounts:login"
    assert entry[0]["status"] == 200
    assert entry[0]["level"] == "INFO"
    assert entry[0]["logger"] == "invoiceportal.access"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming", ["", "has space", 'q"uote', "x" * 129, "line\nbreak", "-leading"]
)
def test_an_insane_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    generated = response["X-Request-ID"]
    assert generated != incoming
    assert len(generated) == 32 and int(generated, 16) >= 0


@pytest.mark.django_db
def test_each_request_gets_its_own_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert first != second


@pytest.mark.django_db
def test_inline_task_runs_under_the_callers_request_id():
    token = bind_request_id("inline-req-1")
    try:
        with captured_json("tests.ops") as stream:
            task_id = async_task("tests.common.test_ops.log_marker", "inline")
    finally:
        unbind_request_id(token)
    [entry] = lines(stream)
    assert entry["message"] == "marker inline"
    assert entry["request_id"] == "inline-req-1"
    assert entry["task_id"] == task_id
    assert current_request_id() == ""


@contextmanager
def worker_with_log(log: Path) -> Iterator[subprocess.Popen]:
    """``manage.py qcluster`` on the test database (as tests/worker.py), its JSON
    log kept in ``log``."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "invoiceportal.settings",
        "DATABASE_URL": _database_url(),
        "Q_WORKERS": "1",
        "Q_POLL": "0.05",
        "LOG_FORMAT": "json",
        "MEDIA_ROOT": str(ROOT / "var" / "test-media"),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with log.open("wb") as out:
        process = start_worker(cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            stop_process_group(process, timeout=20)


@pytest.mark.django_db(transaction=True)
def test_request_id_carried_into_a_real_worker_task(queued_tasks, tmp_path):
    log = tmp_path / "worker.log"
    token = bind_request_id("carried-req-9")
    try:
        async_task("tests.common.test_ops.log_marker", "m-9")
    finally:
        unbind_request_id(token)
    async_task("tests.common.test_ops.log_marker", "no-request")

    def logged() -> list[dict]:
        found = []
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"marker ' in line:
                found.append(json.loads(line))
        return found

    with worker_with_log(log):
        done = wait_for(lambda: len(logged()) == 2, timeout=60)
    assert done, log.read_text(errors="replace")[-3000:]
    by_message = {entry["message"]: entry for entry in logged()}
    carried = by_message["marker m-9"]
    assert carried["request_id"] == "carried-req-9"
    assert carried["logger"] == "tests.ops"
    assert carried["task_id"] and carried["task_name"]
    assert "request_id" not in by_message["marker no-request"]
    # and the worker beat before running them
    beat = WorkerHeartbeat.objects.get()
    assert beat.source == "task"
    assert timezone.now() - beat.beat_at < dt.timedelta(minutes=2)


# ------------------------------------------------------------------ banner
@pytest.fixture
def stale_worker(queued_tasks, db):
    """A worker last seen an hour ago."""
    record_heartbeat("schedule", now=timezone.now() - dt.timedelta(hours=1))


@pytest.mark.django_db
def test_banner_for_supervisors_and_admins_when_the_worker_is_stale(
    client, stale_worker, supervisor, admin_user
):
    for user in (supervisor, admin_user):
        client.force_login(user)
        html = client.get(reverse("accounts:profile")).content.decode()
        assert 'data-ops="worker-stale"' in html, user.role
        assert html.count('id="ops-banner"') == 1
        assert "60" in html  # minutes since the last beat
        assert "后台任务进程没有响应" in html  # zh-hans by default


@pytest.mark.django_db
def test_submitters_see_checks_delayed_and_reviewers_nothing(
    client, stale_worker, submitter, reviewer
):
    client.force_login(submitter)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert 'data-ops="checks-delayed"' in html
    assert "自动检查有延迟" in html
    assert 'data-ops="worker-stale"' not in html

    client.force_login(reviewer)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "ops-banner" not in html


@pytest.mark.django_db
def test_no_banner_while_the_worker_is_fresh(client, queued_tasks, supervisor):
    record_heartbeat("schedule")
    client.force_login(supervisor)
    assert "ops-banner" not in client.get(reverse("accounts:profile")).content.decode()


@pytest.mark.django_db
def test_english_banner(client, stale_worker):
    user = UserFactory(role=Role.SUPERVISOR, language="en")
    client.force_login(user)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "The background worker is not responding." in html
    assert "Its last sign of life was 60 minutes ago." in html
