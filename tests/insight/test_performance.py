"""The performance page's aggregates against hand-computed figures, its access
rules, organization filter and CSV downloads (issue 13, part 1)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from accounts.roles import Role
from insight.models import RollupFact
from insight.rollup import rollup_refresh, two_figures
from insight.selectors import performance_tables
from invoiceportal.invoices.models import Feedback, Invoice
from reviews.models import CheckResult, ReviewTask, TaskState
from reviews.sla.stats import median_and_p90
from tests.factories import UserFactory, make_invoice, make_review_task

SH = ZoneInfo("Asia/Shanghai")
D1, D2, D3 = dt.date(2026, 12, 1), dt.date(2026, 12, 2), dt.date(2026, 12, 3)
NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=SH)


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=SH)


def decided(
    invoice: Invoice, *, kind: str, submitted, seconds: int, source: str, status: str
) -> None:
    Invoice.objects.filter(pk=invoice.pk).update(
        kind=kind,
        submitted_at=submitted,
        decided_at=submitted + dt.timedelta(seconds=seconds),
        decision_source=source,
        status=status,
    )


@pytest.fixture
def world(db, time_machine, organization, other_organization, submitter, reviewer):
    """Three local days of activity; figures worked out by hand in the tests."""
    time_machine.move_to(NOW, tick=False)
    reviewer2 = UserFactory(role=Role.REVIEWER, username="reviewer-two")
    submitter_b = UserFactory(role=Role.SUBMITTER, organization=other_organization)
    a1 = make_invoice(organization, submitter)
    a2 = make_invoice(organization, submitter)
    decided(
        a1,
        kind="digital_special",
        submitted=at(D1, 9),
        seconds=60,
        source="automatic",
        status="approved",
    )
    decided(
        a2,
        kind="digital_special",
        submitted=at(D1, 9),
        seconds=120,
        source="automatic",
        status="approved",
    )
    t3 = make_review_task(organization, submitter)
    decided(
        t3.invoice,
        kind="e_toll",
        submitted=at(D1, 10),
        seconds=3600,
        source="reviewer",
        status="rejected",
    )
    ReviewTask.objects.filter(pk=t3.pk).update(
        state=TaskState.DONE,
        decision="reject",
        reason_code="duplicate",
        decided_by=reviewer,
        decided_at=at(D1, 11),
        due_at=at(D1, 12),
    )
    t4 = make_review_task(other_organization, submitter_b)
    decided(
        t4.invoice,
        kind="e_toll",
        submitted=at(D2, 9),
        seconds=7200,
        source="reviewer",
        status="approved",
    )
    ReviewTask.objects.filter(pk=t4.pk).update(  # decided after its due time
        state=TaskState.DONE,
        decision="approve",
        decided_by=reviewer,
        decided_at=at(D2, 12),
        due_at=at(D2, 11),
    )
    t5 = make_review_task(organization, submitter)  # second review overturning
    Invoice.objects.filter(pk=t5.invoice_id).update(
        kind="other", submitted_at=at(D2, 8)
    )
    ReviewTask.objects.filter(pk=t5.pk).update(
        state=TaskState.DONE,
        stage="second",
        first_reviewer=reviewer,
        decision="reject",
        reason_code="other",
        decided_by=reviewer2,
        decided_at=at(D2, 10),
        due_at=at(D2, 17),
    )
    for invoice, code, outcome in [
        (a1, "x_rule_a", "fail"),
        (t3.invoice, "x_rule_a", "fail"),
        (t3.invoice, "x_rule_b", "fail"),
        (a2, "x_rule_c", "pass"),
    ]:
        CheckResult.objects.create(
            invoice=invoice,
            rule_code=code,
            rule_version=1,
            outcome=outcome,
            created_at=at(D1, 9, 30),
        )
    Feedback.objects.create(invoice=a1, user=submitter, rating=4, created_at=at(D1, 12))
    Feedback.objects.create(
        invoice=t3.invoice, user=submitter, rating=2, created_at=at(D2, 12)
    )
    # Today, counted live: decided automatically in 30 s.
    c1 = make_invoice(organization, submitter)
    decided(
        c1,
        kind="other",
        submitted=at(D3, 9),
        seconds=30,
        source="automatic",
        status="approved",
    )
    rollup_refresh(D1, D2, now=NOW)  # as the schedule left it; today is live
    return {"reviewer": reviewer, "reviewer2": reviewer2, "org": organization}


def tables(**kw):
    return {t.code: t for t in performance_tables(D1, D3, now=NOW, **kw)}


def test_rollup_holds_only_the_refreshed_days(world):
    days = set(RollupFact.objects.values_list("day", flat=True))
    assert days == {D1, D2}


def test_sla_attainment_by_day_and_week(world):
    t = tables()
    assert t["sla_daily"].rows == [
        [D1, 100.0, 1, 0],
        [D2, 50.0, 1, 1],
        [D3, None, 0, 0],
    ]
    assert t["sla_weekly"].rows == [[dt.date(2026, 11, 30), 66.7, 2, 1]]


def test_decision_time_median_and_p90(world):
    rows = tables()["decision_time"].rows  # automatic, reviewer, all
    # automatic 30, 60, 120 s; reviewer 3600, 7200 s; minutes in the table
    assert [r[1:] for r in rows] == [[3, 1.0, 2.0], [2, 90.0, 120.0], [5, 2.0, 120.0]]


def test_percentiles_are_the_reviews_definition(world):
    seconds = [30.0, 60.0, 120.0, 3600.0, 10800.0]
    assert median_and_p90(seconds) == (120.0, 10800.0)
    assert [two_figures(s) for s in (30, 1049, 1050, 86_399)] == [
        30,
        1000,
        1100,
        86_000,
    ]


def test_automation_rate(world):
    assert tables()["automation"].rows == [
        [D1, 66.7, 2, 1],
        [D2, 0.0, 0, 1],
        [D3, 100.0, 1, 0],
    ]


def test_failing_rules_and_rejection_reasons(world):
    t = tables()
    assert [(r[2], r[1]) for r in t["rules"].rows] == [("x_rule_a", 2), ("x_rule_b", 1)]
    assert [(r[2], r[1]) for r in t["reasons"].rows] == [("duplicate", 1), ("other", 1)]


def test_reviewer_throughput_and_disagreement(world):
    rows = {r[0]: r[1:] for r in tables()["reviewers"].rows}
    assert rows[world["reviewer"].username] == [2, 1, 1, 100.0]
    assert rows["reviewer-two"] == [1, 0, 0, None]


def test_satisfaction_and_volume(world):
    t = tables()
    assert t["satisfaction"].rows == [[dt.date(2026, 11, 30), 3.0, 2]]
    assert {r[2]: r[1] for r in t["volume"].rows} == {
        "digital_special": 2,
        "e_toll": 2,
        "other": 2,
    }


def test_organization_filter(world):
    t = tables(organization_id=world["org"].pk)
    assert {r[2]: r[1] for r in t["volume"].rows} == {
        "digital_special": 2,
        "e_toll": 1,
        "other": 2,
    }
    assert t["sla_daily"].rows[1] == [D2, 100.0, 1, 0]  # the breach was B's


def test_rollup_equals_live(world):
    rolled = tables()
    live = {t.code: t for t in performance_tables(D1, D3, now=NOW, use_rollup=False)}
    for code, table in rolled.items():
        assert table.rows == live[code].rows, code


def test_backlog_by_age_and_priority(world, organization, submitter):
    specs = [
        (dt.timedelta(hours=1), 2, TaskState.QUEUED),
        (dt.timedelta(hours=30), 0, TaskState.QUEUED),
        (dt.timedelta(days=10), 1, TaskState.WAITING),
    ]
    for age, priority, state in specs:
        task = make_review_task(organization, submitter)
        ReviewTask.objects.filter(pk=task.pk).update(
            enqueued_at=NOW - age, priority=priority, state=state
        )
    rows = tables()["backlog"].rows  # columns: age, urgent, high, normal, total
    assert [r[1:] for r in rows] == [
        [1, 0, 0, 1],
        [0, 0, 0, 0],
        [0, 0, 1, 1],
        [0, 0, 0, 0],
        [0, 1, 0, 1],
    ]


# ----------------------------------------------------------------- the page


@pytest.mark.parametrize(
    "role,status",
    [
        (Role.SUBMITTER, 403),
        (Role.REVIEWER, 403),
        (Role.SUPERVISOR, 200),
        (Role.ADMIN, 200),
    ],
)
def test_page_access(world, client, role, status):
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("insight:performance")).status_code == status
    csv_url = reverse("insight:performance_csv") + "?chart=volume"
    assert client.get(csv_url).status_code == status


def test_anonymous_is_sent_to_sign_in(db, client):
    response = client.get(reverse("insight:performance"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_page_renders_charts_and_tables_in_both_languages(world, client, language):
    client.force_login(UserFactory(role=Role.SUPERVISOR, language=language))
    response = client.get(reverse("insight:performance"), {"start": D1, "end": D3})
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        body.count("<svg") >= 9
        and "style=" not in body.split("<main", 1)[1].split("</main>")[0]
    )
    title = "SLA attainment by day" if language == "en" else "按日 SLA 达成率"
    assert title in body
    assert "chart=sla_daily" in body


def test_page_refuses_a_malformed_range(world, client):
    client.force_login(UserFactory(role=Role.SUPERVISOR))
    response = client.get(reverse("insight:performance"), {"start": D3, "end": D1})
    assert response.status_code == 400
    response = client.get(reverse("insight:performance"), {"start": "yesterday"})
    assert response.status_code == 400


def test_csv_download_content(world, client):
    client.force_login(UserFactory(role=Role.SUPERVISOR, language="en"))
    response = client.get(
        reverse("insight:performance_csv"),
        {"chart": "sla_daily", "start": D1, "end": D3, "organization": world["org"].pk},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header == "Day,Attainment (%),Within SLA,Breached"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1:] == [
        ["2026-12-01", "100.0", "1", "0"],
        ["2026-12-02", "100.0", "1", "0"],
        ["2026-12-03", "", "0", "0"],
    ]


def test_csv_refuses_an_unknown_chart(world, client):
    client.force_login(UserFactory(role=Role.SUPERVISOR))
    response = client.get(reverse("insight:performance_csv"), {"chart": "nope"})
    assert response.status_code == 400
    assert "sla_daily" in response.content.decode()


def test_schedules_are_declared_and_the_refresh_task_runs(world):
    from django_q.models import Schedule

    from insight.schedules import ensure_schedules
    from insight.tasks import rollup_refresh_task

    ensure_schedules()
    names = dict(Schedule.objects.values_list("name", "func"))
    assert names["insight-rollup-refresh"] == "insight.tasks.rollup_refresh_task"
    assert names["insight-forecast-alert"] == "insight.tasks.forecast_alert_task"
    assert rollup_refresh_task() > 0  # the last days, today included
    assert RollupFact.objects.filter(day=D3).exists()
