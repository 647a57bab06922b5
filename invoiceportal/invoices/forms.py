"""Forms of the submitter's pages: the list's filters and the invoice actions."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name, handed on as received: the service judges
    each one (and names it when it refuses it), including empty ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if data is None or data == "":
            return []
        files = data if isinstance(data, (list, tuple)) else [data]
        return [f for f in files if f is not None and f != ""]


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
    attachments = MultipleFileField(
        label=_("Supporting documents (optional)"),
        required=False,
        help_text=_(
            "A contract, an approval form or another document: PDF, JPEG or PNG, "
            "at most %(count)s files of %(size)s MB each."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_mb = f"{settings.ANSWER_ATTACHMENT_MAX_BYTES / (1024 * 1024):g}"
        field = self.fields["attachments"]
        field.help_text = field.help_text % {
            "count": settings.ANSWER_ATTACHMENT_MAX_FILES,
            "size": limit_mb,
        }


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


# VAT rates and levy rates used in China, in percent (/work/shared/domain/einvoice.md
# section 5): 13/9/6/0 since 2019-04-01, 16/10 until 2019-03-31, 17/11 before
# 2018-05-01; 5, 3, 2, 1.5 and 1 for small-scale taxpayers and simplified methods.
CHINA_RATES_PERCENT = frozenset(
    Decimal(p)
    for p in ("0", "1", "1.5", "2", "3", "5", "6", "9", "10", "11", "13", "16", "17")
)
EXEMPT_RATES = frozenset({"免税", "不征税", "***", "exempt"})


class TaxRateField(forms.CharField):
    """A tax rate as people write it: "6", "6 %", "6%", "6％" and "0.06" all mean
    6 % (a bare number of 1 or more is a percentage, below 1 a fraction). Cleans to
    the fraction (``Decimal("0.06")``), None when blank or exempt; refuses negative
    rates, rates above 100 % and rates not used in China, with the rates it takes."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = (super().to_python(value) or "").strip()
        if not text or text.lower() in EXEMPT_RATES:
            return None
        raw = text.replace("％", "%").replace(" ", "")
        percent = raw.endswith("%")
        try:
            number = Decimal(raw.rstrip("%"))
        except InvalidOperation:
            raise forms.ValidationError(
                _("Write the tax rate as a number, such as 13 or 13 %."),
                code="invalid",
            ) from None
        if not number.is_finite():
            raise forms.ValidationError(
                _("Write the tax rate as a number, such as 13 or 13 %."),
                code="invalid",
            )
        in_percent = number if percent or number >= 1 else number * 100
        if in_percent < 0 or in_percent > 100:
            raise forms.ValidationError(
                _("A tax rate is between 0 %% and 100 %%; %(value)s is not possible.")
                % {"value": text},
                code="out_of_range",
            )
        if in_percent.normalize() not in CHINA_RATES_PERCENT:
            raise forms.ValidationError(
                _("%(value)s is not a tax rate used in China. Rates in use: %(rates)s.")
                % {
                    "value": text,
                    "rates": ", ".join(
                        f"{r.normalize():f} %" for r in sorted(CHINA_RATES_PERCENT)
                    ),
                },
                code="not_a_china_rate",
            )
        return (in_percent / 100).normalize() if in_percent else Decimal("0")


class ManualLineForm(forms.Form):
    name = forms.CharField(label=_("Item"), max_length=200)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=24, decimal_places=8, required=False
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"), max_digits=24, decimal_places=8, required=False
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2)
    tax_rate = TaxRateField(
        label=_("Tax rate"),
        required=False,
        help_text=_("As printed: 13 %, 13 or 0.13; blank when exempt."),
    )
    tax_amount = forms.DecimalField(
        label=_("Tax"), max_digits=14, decimal_places=2, required=False
    )


ManualLineFormSet = forms.formset_factory(
    ManualLineForm, extra=3, min_num=1, validate_min=True, max_num=50
)
