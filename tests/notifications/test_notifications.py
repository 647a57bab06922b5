"""Notifications: in-app rows at once, email and SMS by the worker after commit,
with the user's choices, retries, the catch-up sweep, the centre and the badge."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from invoiceportal.invoices.notify import (
    invoice_subject,
    notify_about_invoice,
    notify_for_timeline_event,
)
from invoiceportal.notifications import services
from invoiceportal.notifications.models import (
    Channel,
    Kind,
    Notification,
    NotificationPreference,
)
from invoiceportal.notifications.services import (
    notification_deliver,
    notifications_catch_up,
    notify,
)
from tests.invoices.submitter.helpers import (
    ask_for_info,
    auto_reject,
    make_invoice,
    reviewer_decides,
    to_review,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _notify(**kwargs):
    with transaction.atomic():
        return notify_about_invoice(**kwargs)


def test_in_app_row_at_once_and_email_only_after_commit(
    submitter, django_capture_on_commit_callbacks
):
    invoice = make_invoice(submitter.organization, submitter)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = _notify(
            users=[submitter],
            invoice=invoice,
            kind="decided",
            context={"status": "approved"},
        )
        assert not mail.outbox
    assert {r.channel for r in rows} == {Channel.IN_APP, Channel.EMAIL}
    assert len(callbacks) == 1 and not mail.outbox
    callbacks[0]()  # the commit: the worker (inline in tests) sends it
    assert len(mail.outbox) == 1
    assert invoice.reference in mail.outbox[0].subject
    assert f"/invoices/{invoice.id}/" in mail.outbox[0].body
    email = Notification.objects.get(channel=Channel.EMAIL)
    assert email.sent_at is not None and email.attempts == 1


def test_preferences_choose_email_and_sms(submitter, caplog):
    invoice = make_invoice(submitter.organization, submitter)
    submitter.phone = "13800138000"
    submitter.save()
    NotificationPreference.objects.create(
        user=submitter, email_decided=False, sms_decided=True
    )
    with caplog.at_level(logging.INFO, logger="invoiceportal.notifications.sms"):
        with transaction.atomic():
            rows = notify_about_invoice(
                users=[submitter], invoice=invoice, kind="decided", context={}
            )
        for row in rows:
            if row.channel == Channel.SMS:
                notification_deliver(notification_id=row.pk)
    assert {r.channel for r in rows} == {Channel.IN_APP, Channel.SMS}
    assert not mail.outbox
    assert "138****8000" in caplog.text and invoice.reference in caplog.text


def test_sla_emails_are_opt_in(submitter):
    invoice = make_invoice(submitter.organization, submitter)
    rows = _notify(users=[submitter], invoice=invoice, kind="sla_warning", context={})
    assert [r.channel for r in rows] == [Channel.IN_APP]
    assert rows[0].kind == Kind.SLA_AT_RISK


def test_a_failed_delivery_is_recorded_and_retried(submitter, monkeypatch):
    invoice = make_invoice(submitter.organization, submitter)
    calls = []

    def broken(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise ConnectionError("smtp down")
        return 1

    monkeypatch.setattr(services, "send_mail", broken)
    monkeypatch.setattr(services, "enqueue_delivery", lambda ids: None)
    email = next(
        r
        for r in _notify(users=[submitter], invoice=invoice, kind="decided", context={})
        if r.channel == Channel.EMAIL
    )
    with pytest.raises(services.DeliveryError):
        notification_deliver(notification_id=email.pk)
    email.refresh_from_db()
    assert email.sent_at is None and email.attempts == 1
    assert "smtp down" in email.last_error

    later = timezone.now() + dt.timedelta(minutes=10)
    queued = []
    monkeypatch.setattr(services, "enqueue_delivery", lambda ids: queued.extend(ids))
    assert services.notifications_retry_undelivered(now=later) == [email.pk]
    assert notification_deliver(notification_id=email.pk) is True
    assert notification_deliver(notification_id=email.pk) is True  # not sent twice
    email.refresh_from_db()
    assert email.sent_at is not None and email.attempts == 2 and len(calls) == 2


def test_timeline_events_notify_the_submitter_once(submitter, reviewer):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    reviewer_decides(invoice, reviewer, "reject", reason_code="wrong_buyer")
    event = invoice.timeline.get(code="rejected")
    # The decision notified the submitter in its own transaction.
    direct = Notification.objects.filter(source=f"timeline:{event.pk}")
    assert {n.channel for n in direct} == {Channel.IN_APP, Channel.EMAIL}
    with transaction.atomic():
        assert notify_for_timeline_event(event) == []
    # the sweep finds it notified already
    later = timezone.now() + dt.timedelta(minutes=5)
    assert notifications_catch_up(now=later) == 0
    assert Notification.objects.filter(source=f"timeline:{event.pk}").count() == 2


def test_catch_up_notifies_decisions_and_questions_nobody_notified(
    submitter, reviewer, django_capture_on_commit_callbacks
):
    rejected = auto_reject(make_invoice(submitter.organization, submitter))
    asked = ask_for_info(make_invoice(submitter.organization, submitter), reviewer)
    # Written by a path that did not notify (as if its notification was lost).
    Notification.objects.all().delete()
    assert notifications_catch_up() == 0  # too fresh: its transaction may notify
    later = timezone.now() + dt.timedelta(minutes=5)

    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_catch_up(now=later) == 2
    assert notifications_catch_up(now=later) == 0

    kinds = dict(
        Notification.objects.filter(channel=Channel.IN_APP).values_list(
            "subject", "kind"
        )
    )
    assert kinds == {
        invoice_subject(rejected.pk): Kind.DECIDED,
        invoice_subject(asked.pk): Kind.INFO_REQUESTED,
    }
    subjects = sorted(m.subject for m in mail.outbox)
    assert len(subjects) == 2


def test_centre_badge_and_mark_read(client, submitter):
    invoice = make_invoice(submitter.organization, submitter)
    _notify(
        users=[submitter],
        invoice=invoice,
        kind="decided",
        context={"status": "approved"},
    )
    with transaction.atomic():
        notify(users=[submitter], kind="sla_at_risk", context={"reference": "X"})
    client.force_login(submitter)

    home = client.get(reverse("invoices:list")).content.decode()
    assert 'data-unread="2"' in home

    centre = client.get(reverse("notifications:centre")).content.decode()
    assert invoice.reference in centre
    one = Notification.objects.get(
        subject=invoice_subject(invoice.pk), channel=Channel.IN_APP
    )
    client.post(reverse("notifications:mark_read", args=[one.pk]))
    assert (
        'data-unread="1"' in client.get(reverse("notifications:badge")).content.decode()
    )
    client.post(reverse("notifications:mark_all_read"))
    assert (
        'data-unread="0"' in client.get(reverse("notifications:badge")).content.decode()
    )


def test_opening_the_invoice_reads_its_notifications(client, submitter):
    invoice = make_invoice(submitter.organization, submitter)
    _notify(users=[submitter], invoice=invoice, kind="decided", context={})
    client.force_login(submitter)
    client.get(reverse("invoices:detail", args=[invoice.id]))
    assert not Notification.objects.unread().exists()


def test_one_cannot_mark_someone_elses_notification(client, submitter, reviewer):
    invoice = make_invoice(submitter.organization, submitter)
    _notify(users=[submitter], invoice=invoice, kind="decided", context={})
    client.force_login(reviewer)
    mine = Notification.objects.get(channel=Channel.IN_APP)
    client.post(reverse("notifications:mark_read", args=[mine.pk]))
    assert Notification.objects.unread().count() == 1


def test_profile_page_saves_notification_choices(client, submitter):
    client.force_login(submitter)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert 'id="notification-preferences"' in page
    client.post(
        reverse("notifications:preferences"),
        {"email_decided": "on", "email_sla_at_risk": "on"},
    )
    pref = NotificationPreference.objects.get(user=submitter)
    assert pref.email_decided and pref.email_sla_at_risk
    assert not pref.email_info_requested and not pref.sms_decided


def test_the_centre_pages_by_id(client, submitter):
    invoice = make_invoice(submitter.organization, submitter)
    with transaction.atomic():
        for _ in range(35):
            notify_about_invoice(
                users=[submitter],
                invoice=invoice,
                kind="expedite_decided",
                context={"state": "approved"},
            )
    client.force_login(submitter)
    first = client.get(reverse("notifications:centre"))
    assert len(first.context["items"]) == 30 and first.context["next_before"]
    second = client.get(
        reverse("notifications:centre"), {"before": first.context["next_before"]}
    )
    assert len(second.context["items"]) == 5
