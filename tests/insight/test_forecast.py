"""The breach forecast on constructed queues, its API, the board panel and the
once-per-crossing notification (issue 13, part 2)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from insight.alerts import AlertOutcome, forecast_alert_check
from insight.forecast import OpenTask, forecast_breaches, horizon
from insight.models import ForecastAlert
from invoiceportal.notifications.models import Channel, Notification
from reviews.models import ReviewTask, TaskState
from reviews.sla.calendar import BusinessCalendar, add_business_minutes
from tests.conftest import api_as
from tests.factories import make_review_task

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()  # 09:00-12:00, 13:00-18:00, Monday to Friday
NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=SH)  # a Thursday


def due_in(minutes: float) -> dt.datetime:
    return add_business_minutes(CAL, NOW, minutes)


def run(tasks, reviewers: int, pace: float = 2.0, handle: float = 30.0):
    return forecast_breaches(
        tasks,
        cal=CAL,
        now=NOW,
        horizon_end=horizon(CAL, NOW),
        reviewers_on_shift=reviewers,
        per_reviewer_per_hour=pace,
        handle_minutes=handle,
    )


def queue(n: int, minutes: float) -> list[OpenTask]:
    return [OpenTask(i, due_in(minutes), 0, False, f"R{i}") for i in range(1, n + 1)]


def test_tasks_capacity_cannot_finish_are_flagged():
    # One reviewer, 2 tasks/hour, 30 min each: the k-th queued task is decided
    # after 30k + 30 minutes, so of ten due in 120 minutes, four make it.
    forecast = run(queue(10, 120), reviewers=1)
    assert [t.id for t in forecast.breaching] == [5, 6, 7, 8, 9, 10]
    assert all(t.preventable for t in forecast.breaching)
    # 9 * 60 / rate + 30 <= 120 needs 6 tasks/hour: three reviewers, two more.
    assert forecast.extra_reviewers == 2
    # Ten must start by minute 90; one reviewer starts three: 7 tasks * 30 min.
    assert forecast.reviewer_hours == 3.5
    assert forecast.breach_by == due_in(120)
    assert forecast.breaching[0].expected_at == due_in(150)


def test_none_flagged_when_capacity_suffices():
    forecast = run(queue(10, 120), reviewers=5)
    assert forecast.count == 0 and forecast.extra_reviewers == 0
    assert forecast.reviewer_hours == 0


def test_tasks_beyond_the_next_business_day_are_not_forecast():
    forecast = run(queue(10, 9 * 60), reviewers=0)
    assert forecast.count == 0 and forecast.open_tasks == 0


def test_a_task_due_too_soon_is_flagged_but_unpreventable():
    tasks = [OpenTask(1, due_in(10), 0, False, "SOON"), *queue(2, 300)[1:]]
    forecast = run(tasks, reviewers=3)
    assert [(t.id, t.preventable) for t in forecast.breaching] == [(1, False)]
    assert forecast.extra_reviewers == 0 and forecast.unpreventable == 1


def test_claimed_tasks_finish_first_and_nobody_on_shift_means_breaches():
    tasks = [OpenTask(1, due_in(60), 0, True, "HELD"), *queue(3, 200)[1:]]
    assert run(tasks, reviewers=1).count == 0
    nobody = run(tasks, reviewers=0)
    assert [t.id for t in nobody.breaching] == [2, 3]
    assert nobody.extra_reviewers == 1


def test_malformed_inputs_are_refused():
    with pytest.raises(ValueError):
        run(queue(1, 60), reviewers=-1)
    with pytest.raises(ValueError):
        run(queue(1, 60), reviewers=1, handle=0)
    with pytest.raises(ValueError):
        forecast_breaches(
            [],
            cal=CAL,
            now=NOW.replace(tzinfo=None),
            horizon_end=NOW,
            reviewers_on_shift=1,
            per_reviewer_per_hour=1,
            handle_minutes=1,
        )


# ------------------------------------------------------------ with the database


@pytest.fixture
def at_risk_queue(db, time_machine, organization, submitter):
    """Three queued tasks due within the hour and nobody has decided anything:
    nobody is on shift, all three are forecast to breach."""
    time_machine.move_to(NOW, tick=False)
    tasks = [make_review_task(organization, submitter) for _ in range(3)]
    ReviewTask.objects.filter(pk__in=[t.pk for t in tasks]).update(due_at=due_in(45))
    return tasks


def test_api_shape_and_access(
    at_risk_queue, supervisor, admin_user, submitter, reviewer
):
    url = reverse("api:metrics-forecast")
    for user in (supervisor, admin_user):
        response = api_as(user).get(url)
        assert response.status_code == 200
    data = response.json()
    assert set(data) >= {
        "generated_at",
        "horizon_end",
        "reviewers_on_shift",
        "per_reviewer_per_hour",
        "handle_minutes",
        "open_tasks",
        "breaching_count",
        "breach_by",
        "unpreventable",
        "extra_reviewers",
        "reviewer_hours",
        "tasks",
        "threshold",
        "alert_open",
        "message",
    }
    assert data["breaching_count"] == 3 and data["reviewers_on_shift"] == 0
    assert set(data["tasks"][0]) == {
        "id",
        "reference",
        "due_at",
        "expected_at",
        "preventable",
    }
    assert {t["id"] for t in data["tasks"]} == {t.pk for t in at_risk_queue}
    for user in (submitter, reviewer):
        assert api_as(user).get(url).status_code == 403


def test_board_shows_the_forecast(at_risk_queue, client, supervisor):
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = supervisor
    html = Template('{% include "insight/_forecast.html" %}').render(
        Context({"request": request})
    )
    assert 'id="breach-forecast"' in html
    assert at_risk_queue[0].invoice.reference in html


def test_threshold_notifies_supervisors_once_per_crossing(
    at_risk_queue, settings, supervisor
):
    settings.INSIGHT_FORECAST_ALERT_THRESHOLD = 2

    def notified() -> int:
        return Notification.objects.filter(
            user=supervisor, channel=Channel.IN_APP
        ).count()

    assert forecast_alert_check(now=NOW) == AlertOutcome.OPENED
    assert notified() == 1
    assert forecast_alert_check(now=NOW) == AlertOutcome.STILL_OPEN
    assert notified() == 1
    # Two tasks decided: one left, under the threshold; the alert closes quietly.
    ReviewTask.objects.filter(pk__in=[t.pk for t in at_risk_queue[:2]]).update(
        state=TaskState.DONE
    )
    assert forecast_alert_check(now=NOW) == AlertOutcome.CLOSED
    assert forecast_alert_check(now=NOW) == AlertOutcome.BELOW
    assert notified() == 1
    # Back over it: a new crossing, a new notification.
    ReviewTask.objects.filter(pk__in=[t.pk for t in at_risk_queue[:2]]).update(
        state=TaskState.QUEUED
    )
    assert forecast_alert_check(now=NOW) == AlertOutcome.OPENED
    assert notified() == 2
    assert ForecastAlert.objects.count() == 2


def test_no_alert_below_the_threshold(at_risk_queue, settings, supervisor):
    settings.INSIGHT_FORECAST_ALERT_THRESHOLD = 4
    assert forecast_alert_check(now=NOW) == AlertOutcome.BELOW
    assert not Notification.objects.filter(user=supervisor).exists()


def test_board_page_carries_the_forecast(at_risk_queue, client, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("reviews:board"))
    assert response.status_code == 200
    assert 'id="breach-forecast"' in response.content.decode()
