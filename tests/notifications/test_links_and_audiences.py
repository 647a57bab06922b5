"""Issue 11: every notification links to a page its reader can open (staff: the
review task, submitters: the invoice), internal SLA events never reach submitters
(not directly, not through the catch-up sweep), and texts written for staff never go
to submitters. Issue 14: emails link to the configured address."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from invoiceportal.invoices.actions import invoice_respond
from invoiceportal.invoices.notify import notify_about_invoice
from invoiceportal.notifications.messages import render
from invoiceportal.notifications.models import Channel, Kind, Notification
from invoiceportal.notifications.services import notifications_catch_up
from reviews.models import ReviewTask
from reviews.queue.services import review_sla_sweep
from tests.invoices.submitter.helpers import ask_for_info, make_invoice, to_review

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _in_app(user, kind=None):
    rows = Notification.objects.filter(user=user, channel=Channel.IN_APP)
    return list(rows.filter(kind=kind) if kind else rows)


def _breach(invoice, time_machine) -> dt.datetime:
    """Let the invoice's review miss its deadline and run the SLA sweep."""
    task = ReviewTask.objects.get(invoice=invoice)
    later = task.due_at + dt.timedelta(hours=1)
    time_machine.move_to(later, tick=False)
    review_sla_sweep()
    task.refresh_from_db()
    assert task.breached_at is not None
    return later


def test_a_supervisors_missed_deadline_link_opens_the_task_page(
    client, submitter, supervisor, time_machine
):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    _breach(invoice, time_machine)

    (note,) = _in_app(supervisor, Kind.TASK_BREACHED)
    message = render(note, language="en")
    task = ReviewTask.objects.get(invoice=invoice)
    assert message.url == reverse("reviews:task", args=[task.pk])
    assert "missed its deadline" in message.title
    client.force_login(supervisor)
    assert client.get(message.url).status_code == 200


def test_a_reviewers_submitter_answered_link_opens_the_task_page(
    client, submitter, reviewer
):
    invoice = ask_for_info(make_invoice(submitter.organization, submitter), reviewer)
    invoice_respond(user=submitter, invoice_id=invoice.pk, message="合同编号 HT-2026-7")

    (note,) = _in_app(reviewer, Kind.INFO_PROVIDED)
    url = render(note).url
    assert url.startswith("/reviews/tasks/")
    client.force_login(reviewer)
    assert client.get(url).status_code == 200


def test_a_submitters_link_opens_their_invoice_page(client, submitter, reviewer):
    invoice = ask_for_info(make_invoice(submitter.organization, submitter), reviewer)
    (note,) = _in_app(submitter, Kind.INFO_REQUESTED)
    url = render(note).url
    assert url == reverse("invoices:detail", args=[invoice.pk])
    client.force_login(submitter)
    assert client.get(url).status_code == 200


def test_internal_sla_events_never_reach_the_submitter(
    submitter, supervisor, time_machine, django_capture_on_commit_callbacks
):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    before = {n.pk for n in _in_app(submitter)}
    later = _breach(invoice, time_machine)
    codes = set(invoice.timeline.values_list("code", flat=True))
    assert {"sla_breached", "supervisors_notified"} <= codes
    assert not invoice.timeline.filter(
        code__in=["sla_warning", "sla_breached"], visible_to_submitter=True
    ).exists()

    # The sweep of events nobody notified directly, long after: still nothing.
    with django_capture_on_commit_callbacks(execute=True):
        notifications_catch_up(now=later + dt.timedelta(minutes=10))
    assert {n.pk for n in _in_app(submitter)} == before
    assert not Notification.objects.filter(
        user=submitter, kind__in=[Kind.SLA_AT_RISK, Kind.SLA_BREACHED]
    ).exists()
    assert _in_app(supervisor, Kind.TASK_BREACHED)


def test_supervisors_get_their_own_wording_of_a_deadline_alert(
    submitter, supervisor, time_machine
):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    _breach(invoice, time_machine)
    (note,) = _in_app(supervisor)
    text = render(note, language="en")
    # Not the submitter's text ("escalated to a supervisor", "urgent handling").
    assert "supervisor" not in text.body and "urgent handling" not in text.body
    assert invoice.reference in text.title


def test_texts_for_staff_never_go_to_submitters(submitter, supervisor):
    invoice = make_invoice(submitter.organization, submitter)
    for kind, context in [
        ("expedite_requested", {"user": "x", "reason": "月底结账"}),
        ("info_provided", {}),
        ("task_assigned", {"by": "boss", "due": "12-01 10:00"}),
    ]:
        with transaction.atomic():
            rows = notify_about_invoice(
                users=[submitter, supervisor],
                invoice=invoice,
                kind=kind,
                context=context,
            )
        assert {r.user_id for r in rows} == {supervisor.pk}
    assert not Notification.objects.filter(user=submitter).exists()


def test_emails_link_to_the_configured_address(
    settings, submitter, django_capture_on_commit_callbacks
):
    settings.PORTAL_BASE_URL = "https://invoices.example.com/"
    invoice = make_invoice(submitter.organization, submitter)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_about_invoice(
            users=[submitter],
            invoice=invoice,
            kind="decided",
            context={"status": "approved"},
        )
    (email,) = mail.outbox
    assert f"https://invoices.example.com/invoices/{invoice.pk}/" in email.body


def test_a_status_is_shown_in_the_readers_language(submitter):
    invoice = make_invoice(submitter.organization, submitter)
    with transaction.atomic():
        (row, *_rest) = notify_about_invoice(
            users=[submitter],
            invoice=invoice,
            kind="decided",
            context={"status": "approved"},
        )
    assert "Approved" in render(row, language="en").title
    assert "已通过" in render(row, language="zh-hans").title


def test_an_unknown_kind_is_refused(submitter):
    invoice = make_invoice(submitter.organization, submitter)
    with pytest.raises(ValueError):
        notify_about_invoice(users=[submitter], invoice=invoice, kind="nonsense")
    assert not Notification.objects.exists()
