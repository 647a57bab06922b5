"""get_FOO_display() through ChoiceLabels: the reader's language, per call."""

from __future__ import annotations

from django.utils import translation

from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import InvoiceKindChoice, InvoiceStatus
from reviews.models import ReviewTask, TaskState


def test_labels_follow_the_active_language_on_every_call():
    invoice = Invoice(status=InvoiceStatus.IN_REVIEW, kind="digital_special")
    with translation.override("en"):
        english = invoice.get_status_display()
        kind_en = invoice.get_kind_display()
    with translation.override("zh-hans"):
        chinese = invoice.get_status_display()
        kind_zh = invoice.get_kind_display()
    with translation.override("en"):
        assert invoice.get_status_display() == english
        assert english == str(InvoiceStatus.IN_REVIEW.label)
    assert english != chinese
    assert kind_en != kind_zh
    with translation.override("zh-hans"):
        assert chinese == str(InvoiceStatus.IN_REVIEW.label)
        assert kind_zh == str(InvoiceKindChoice("digital_special").label)


def test_every_choice_has_its_own_label():
    with translation.override("en"):
        for state in TaskState:
            task = ReviewTask(state=state)
            assert task.get_state_display() == str(state.label)


def test_a_value_outside_the_choices_shows_as_it_is():
    assert Invoice(status="no_such_status").get_status_display() == "no_such_status"
    assert Invoice(kind="").get_kind_display() == ""
