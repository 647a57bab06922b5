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


class ManualInvoiceForm(forms.Form):
    """A paper invoice typed in by hand, with its photo or scan."""

    MANUAL_KINDS = [
        (k, label)
        for k, label in InvoiceKindChoice.choices
        if k in ("paper_special", "paper_ordinary", "other")
    ]

    kind = forms.ChoiceField(label=_("Kind"), choices=MANUAL_KINDS)
    code = forms.RegexField(
        label=_("Invoice code"),
        regex=r"^\d{10}$|^\d{12}$",
        required=False,
        error_messages={"invalid": _("The invoice code has 10 or 12 digits.")},
    )
    number = forms.RegexField(
        label=_("Invoice number"),
        regex=r"^\d{8}$|^\d{20}$",
        error_messages={"invalid": _("The invoice number has 8 or 20 digits.")},
    )
    issue_date = forms.DateField(
        label=_("Issue date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    check_code = forms.RegexField(
        label=_("Check code"),
        regex=r"^\d{20}$",
        required=False,
        error_messages={"invalid": _("The check code has 20 digits.")},
    )
    seller_name = forms.CharField(label=_("Seller"), max_length=200)
    seller_tax_id = forms.CharField(label=_("Seller taxpayer ID"), max_length=20)
    buyer_name = forms.CharField(label=_("Buyer"), max_length=200)
    buyer_tax_id = forms.CharField(label=_("Buyer taxpayer ID"), max_length=20)
    amount = forms.DecimalField(
        label=_("Amount excluding tax"), max_digits=14, decimal_places=2
    )
    tax_amount = forms.DecimalField(label=_("Tax"), max_digits=14, decimal_places=2)
    total_amount = forms.DecimalField(label=_("Total"), max_digits=14, decimal_places=2)
    total_in_words = forms.CharField(
        label=_("Total in words"), max_length=100, required=False
    )
    remarks = forms.CharField(
        label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    scan = forms.FileField(
        label=_("Photo or scan of the invoice"),
        help_text=_("JPEG, PNG or PDF. Reviewers compare it with what you typed."),
    )

    def clean(self) -> dict:
        data = super().clean()
        amount, tax, total = (
            data.get(k) for k in ("amount", "tax_amount", "total_amount")
        )
        if None not in (amount, tax, total) and amount + tax != total:
            self.add_error(
                "total_amount",
                _("Amount plus tax (%(sum)s) does not equal the total.")
                % {"sum": amount + tax},
            )
        return data


class ManualLineForm(forms.Form):
    name = forms.CharField(label=_("Item"), max_length=200)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=24, decimal_places=8, required=False
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"), max_digits=24, decimal_places=8, required=False
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2)
    tax_rate = forms.DecimalField(
        label=_("Tax rate"),
        max_digits=5,
        decimal_places=4,
        required=False,
        help_text=_("As a fraction: 0.13 for 13 %."),
    )
    tax_amount = forms.DecimalField(
        label=_("Tax"), max_digits=14, decimal_places=2, required=False
    )


ManualLineFormSet = forms.formset_factory(
    ManualLineForm, extra=3, min_num=1, validate_min=True, max_num=50
)
