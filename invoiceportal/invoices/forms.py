"""Forms of the submitter's pages: the list's filters and the invoice actions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .status import InvoiceKindChoice, InvoiceStatus


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.MultipleChoiceField(
        label=_("Status"), choices=InvoiceStatus.choices, required=False
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("Any kind")), *InvoiceKindChoice.choices],
        required=False,
    )
    seller = forms.CharField(
        label=_("Seller (name or taxpayer ID)"), required=False, max_length=200
    )
    reference = forms.CharField(label=_("Reference"), required=False, max_length=32)
    number = forms.CharField(label=_("Invoice number"), required=False, max_length=20)
    issued_from = forms.DateField(label=_("Issued from"), required=False)
    issued_to = forms.DateField(label=_("Issued until"), required=False)
    submitted_from = forms.DateField(label=_("Submitted from"), required=False)
    submitted_to = forms.DateField(label=_("Submitted until"), required=False)
    amount_min = forms.DecimalField(
        label=_("Total from"), required=False, max_digits=14, decimal_places=2
    )
    amount_max = forms.DecimalField(
        label=_("Total up to"), required=False, max_digits=14, decimal_places=2
    )


class RespondForm(forms.Form):
    message = forms.CharField(
        label=_("Your answer"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    file = forms.FileField(
        label=_("Corrected file (optional)"),
        required=False,
        help_text=_("XML, OFD, PDF, JPEG or PNG of the same invoice."),
    )


class ExpediteForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it urgent?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=1000
    )


class ResubmitForm(forms.Form):
    file = forms.FileField(
        label=_("Corrected invoice file"),
        help_text=_("XML, OFD, PDF, JPEG or PNG."),
    )


class FeedbackForm(forms.Form):
    rating = forms.IntegerField(label=_("Rating"), min_value=1, max_value=5)
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
