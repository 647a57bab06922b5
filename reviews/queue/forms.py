from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from invoiceportal.invoices.status import Priority
from reviews.models import RejectionReason, TaskDecision


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (TaskDecision.APPROVE, TaskDecision.APPROVE.label),
            (TaskDecision.REJECT, TaskDecision.REJECT.label),
            (TaskDecision.REQUEST_INFO, TaskDecision.REQUEST_INFO.label),
        ],
    )
    reason_code = forms.ChoiceField(label=_("Reason"), required=False)
    comment = forms.CharField(
        label=_("Comment or question for the submitter"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    next = forms.BooleanField(label=_("Then open the next task"), required=False)

    def __init__(self, *args, reasons=None, language="", **kwargs):
        super().__init__(*args, **kwargs)
        reasons = reasons if reasons is not None else RejectionReason.objects.all()
        self.fields["reason_code"].choices = [("", "—")] + [
            (r.code, r.label(language)) for r in reasons
        ]


def reviewer_choices():
    return User.objects.filter(
        role__in=[Role.REVIEWER, Role.SUPERVISOR], is_active=True
    ).order_by("username")


class ReassignForm(forms.Form):
    to_user = forms.ModelChoiceField(label=_("Reviewer"), queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = reviewer_choices()


class BulkForm(forms.Form):
    ACTIONS = [
        ("release", _("Return to the queue")),
        ("reassign", _("Assign to")),
        ("priority", _("Set priority")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    tasks = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)
    to_user = forms.ModelChoiceField(
        label=_("Reviewer"), queryset=User.objects.none(), required=False
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=Priority.choices,
        coerce=int,
        required=False,
    )

    def __init__(self, *args, task_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = reviewer_choices()
        self.fields["tasks"].choices = [(i, i) for i in task_ids]

    def clean(self):
        data = super().clean()
        if data.get("action") == "reassign" and not data.get("to_user"):
            self.add_error("to_user", _("Choose the reviewer."))
        if data.get("action") == "priority" and data.get("priority") in (None, ""):
            self.add_error("priority", _("Choose the priority."))
        return data
