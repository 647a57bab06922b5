"""Issue 12: every text a reader sees is in their language, data stays as written:
coded rejection reasons, second-review reasons, alert kinds (no raw "sla_warning"),
plurals ("1 minute", not "1 minutes")."""

from __future__ import annotations

import re

from django.template import Context, Template
from django.utils import translation

from invoiceportal.invoices.models import TimelineEvent
from invoiceportal.notifications.messages import render
from invoiceportal.notifications.models import Notification
from reviews.models import SecondReviewRule, SecondReviewRuleCode
from reviews.queue.messages import event_message

from .helpers import make_invoice, reviewer_decides, to_review


def _as(client, user, language):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)


def test_a_coded_rejection_reads_in_the_readers_language(client, submitter, reviewer):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    reviewer_decides(
        invoice, reviewer, "reject", reason_code="wrong_buyer", comment="抬头写错了"
    )
    _as(client, submitter, "en")
    html = client.get(f"/invoices/{invoice.id}/").content.decode()
    reason = re.search(r'id="decision-reason">(.*?)</p>', html, re.S).group(1)
    assert not re.search(
        r"[\u4e00-\u9fff]", re.sub(r'<span[^>]*translate="no">.*?</span>', "", reason)
    )
    assert '<span class="d-block" translate="no">抬头写错了</span>' in reason
    _as(client, submitter, "zh-hans")
    html = client.get(f"/invoices/{invoice.id}/").content.decode()
    assert "购买方" in re.search(r'id="decision-reason">(.*?)</p>', html, re.S).group(1)
    # The notification's English reason keeps the reviewer's words too.
    note = Notification.objects.filter(user=submitter, kind="decided").first()
    assert "抬头写错了" in render(note, language="en").body


def test_second_review_reasons_follow_the_reader(client, submitter, reviewer):
    SecondReviewRule.objects.update_or_create(
        code=SecondReviewRuleCode.FIRST_FROM_SELLER, defaults={"enabled": True}
    )
    invoice = to_review(make_invoice(submitter.organization, submitter))
    reviewer_decides(invoice, reviewer, "approve")
    event = TimelineEvent.objects.get(invoice=invoice, code="review_first_approval")
    with translation.override("en"):
        assert "First invoice from this seller" in event_message(event)
    with translation.override("zh-hans"):
        assert "First invoice" not in event_message(event)


def test_alert_kinds_are_labels_not_codes(submitter):
    invoice = make_invoice(submitter.organization, submitter)
    event = TimelineEvent.objects.create(
        invoice=invoice,
        status=invoice.status,
        code="supervisors_notified",
        params={"kind": "sla_warning", "users": []},
        visible_to_submitter=False,
    )
    with translation.override("en"):
        text = event_message(event)
    assert "sla_warning" not in text and "Decision deadline at risk" in text


def test_plurals():
    template = Template(
        "{% load invoice_display %}{{ a|seconds_text }}|"
        "{{ b|working_hours_text }}|{{ c|working_hours_text }}"
    )
    with translation.override("en"):
        assert template.render(Context({"a": 1, "b": 1, "c": 2.5})) == (
            "1 second|1 working hour|2.5 working hours"
        )
