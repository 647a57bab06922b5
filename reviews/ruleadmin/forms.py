"""Forms of the rule pages. The rule form is generated from the catalog's parameter
specs; the catalog's own validation has the last word, its messages shown on the
fields in the user's language."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from invoiceportal.invoices.status import InvoiceStatus
from reviews.checks.base import Action
from reviews.checks.catalog import RuleConfig, RuleSpec
from reviews.checks.params import ParamSpec
from reviews.models import RuleAction, SellerList

from .selectors import RuleRow, effective_params, localized, param_label, same_value
from .whatif import DEFAULT_DAYS

# A hyphen cannot appear in a Python name, so a parameter's field can never shadow an
# attribute of the form (``param_fields``: a rule parameter called ``fields`` did).
PARAM_PREFIX = "param-"
DAY_CHOICES = (7, 30, 90, 180, 365)
REGISTRY_MAX_MB = 50


def _field_name(param: ParamSpec) -> str:
    return f"{PARAM_PREFIX}{param.name}"


def _split_list(text: str) -> list[str]:
    """``"11, 12 13"`` or one per line -> ``["11", "12", "13"]``."""
    return [item for item in re.split(r"[\s,，、;；]+", text or "") if item]


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(_("yes")) if value else str(_("no"))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return "—" if value in (None, "") else str(value)


def _help(param: ParamSpec, default: Any) -> str:
    parts = []
    if param.kind == "str_list" and not param.choices:
        parts.append(str(_("Separate the values with commas or spaces.")))
    if param.kind in ("rate_periods", "category_rates"):
        parts.append(str(_("JSON; rates as fractions such as 0.13.")))
    if param.kind == "fraction":
        parts.append(str(_("A fraction between 0 and 1, such as 0.02 for 2 %.")))
    if param.minimum is not None and param.maximum is not None:
        bounds = {"min": param.minimum, "max": param.maximum}
        parts.append(str(_("From %(min)s to %(max)s.") % bounds))
    elif param.minimum is not None:
        parts.append(str(_("At least %(min)s.") % {"min": param.minimum}))
    if param.kind not in ("rate_periods", "category_rates"):
        parts.append(str(_("Default: %(value)s.") % {"value": _shown(default)}))
    parts.append(str(_("Parameter %(name)s.") % {"name": param.name}))
    return " ".join(parts)


def _choice_label(value: str) -> str:
    """Invoice statuses by their names in the user's language; others as they are."""
    if value in InvoiceStatus.values:
        return f"{InvoiceStatus(value).label} ({value})"
    return value


def _param_field(param: ParamSpec, default: Any) -> forms.Field:
    common: dict[str, Any] = {
        "label": param_label(param),
        "help_text": _help(param, default),
    }
    kind = param.kind
    if kind == "bool":
        return forms.BooleanField(required=False, **common)
    if kind == "int":
        return forms.IntegerField(
            min_value=param.minimum, max_value=param.maximum, **common
        )
    if kind in ("decimal", "fraction"):
        minimum = 0 if kind == "fraction" else param.minimum
        maximum = 1 if kind == "fraction" else param.maximum
        return forms.DecimalField(
            min_value=Decimal(str(minimum)) if minimum is not None else None,
            max_value=Decimal(str(maximum)) if maximum is not None else None,
            **common,
        )
    if kind == "choice":
        return forms.ChoiceField(choices=[(c, c) for c in param.choices], **common)
    if kind == "str":
        return forms.CharField(required=False, strip=True, **common)
    if kind == "str_list" and param.choices:
        return forms.MultipleChoiceField(
            choices=[(c, _choice_label(c)) for c in param.choices],
            widget=forms.CheckboxSelectMultiple,
            required=False,
            **common,
        )
    if kind == "str_list":
        return forms.CharField(required=False, **common)
    # rate_periods, category_rates: edited as JSON
    return forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "class": "font-monospace"}), **common
    )


def _initial(param: ParamSpec, value: Any) -> Any:
    if param.kind == "str_list" and not param.choices:
        return ", ".join(str(v) for v in value or [])
    if param.kind in ("rate_periods", "category_rates"):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return value


class RuleForm(forms.Form):
    """Enable or disable a rule, choose what a failure does, set its parameters and
    say why. ``require_note=False`` for the what-if preview of a draft."""

    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    outcome_on_fail = forms.ChoiceField(
        label=_("What a failure does"),
        choices=RuleAction.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Reject the invoice, send it to a reviewer, or only note the failure."
        ),
    )
    change_note = forms.CharField(
        label=_("Change note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why the rule changes; kept in the rule's history."),
        error_messages={
            "required": _("Say why the rule changes: a change note is required.")
        },
    )

    def __init__(
        self, *args: Any, row: RuleRow, require_note: bool = True, **kwargs: Any
    ) -> None:
        self.row = row
        self.spec: RuleSpec = row.spec
        self.current = effective_params(self.spec, row.stored_params)
        self.defaults = effective_params(self.spec, {})
        kwargs.setdefault(
            "initial",
            {
                "enabled": row.enabled,
                "outcome_on_fail": row.outcome_on_fail,
                **{
                    _field_name(p): _initial(p, self.current.get(p.name))
                    for p in self.spec.param_specs
                },
            },
        )
        super().__init__(*args, **kwargs)
        note = self.fields.pop("change_note")
        for param in self.spec.param_specs:
            self.fields[_field_name(param)] = _param_field(
                param, self.defaults.get(param.name)
            )
        note.required = require_note
        self.fields["change_note"] = note
        self.params: dict[str, Any] = {}
        self.draft: RuleConfig | None = None

    @property
    def param_fields(self) -> list[forms.BoundField]:
        return [self[_field_name(p)] for p in self.spec.param_specs]

    def _raw_value(self, param: ParamSpec) -> Any:
        value = self.cleaned_data[_field_name(param)]
        kind = param.kind
        if kind == "decimal":
            return str(value)
        if kind == "fraction":
            return float(value)
        if kind == "str_list" and not param.choices:
            return _split_list(value)
        if kind == "str_list":
            return list(value)
        if kind in ("rate_periods", "category_rates"):
            try:
                return json.loads(value)
            except ValueError:
                raise forms.ValidationError(
                    _("This is not valid JSON: check the brackets, quotes and commas.")
                ) from None
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        values: dict[str, Any] = {}
        for param in self.spec.param_specs:
            name = _field_name(param)
            if name not in cleaned:
                continue  # the field's own error is shown already
            try:
                values[param.name] = self._raw_value(param)
            except forms.ValidationError as error:
                self.add_error(name, error)
        if len(values) != len(self.spec.param_specs):
            return cleaned
        validation = self.spec.validate_params(values)
        for error in validation.errors:
            field = f"{PARAM_PREFIX}{error.param}" if error.param else None
            message = localized(error.message_en, error.message_zh)
            self.add_error(field if field in self.fields else None, message)
        if not validation.ok:
            return cleaned
        self.params = self._params_to_store(validation.cleaned)
        self.draft = RuleConfig(
            enabled=bool(cleaned.get("enabled")),
            outcome_on_fail=Action(cleaned.get("outcome_on_fail") or "review"),
            params=self.params,
            version=self.row.version + 1,
        )
        return cleaned

    def _params_to_store(self, new: dict[str, Any]) -> dict[str, Any]:
        """The parameters to save: the ones stored already and the ones that differ
        from the defaults; an unchanged value keeps its stored spelling."""
        stored = self.row.stored_params
        params = {}
        for name, value in new.items():
            if same_value(value, self.current.get(name)):
                value = stored.get(name, self.current.get(name))
            if name in stored or not same_value(value, self.defaults.get(name)):
                params[name] = value
        return params

    def add_service_error(self, error: Any) -> None:
        """An ``ApplicationError`` from ``rule_update``: on its fields if it names
        them, else on the form."""
        placed = False
        for item in (getattr(error, "details", None) or {}).get("params", []):
            field = f"{PARAM_PREFIX}{item.get('param', '')}"
            if field in self.fields:
                self.add_error(field, item.get("message", ""))
                placed = True
        if not placed:
            self.add_error(None, str(error.message))


def _day_choices() -> list[tuple[int, str]]:
    return [(n, str(_("%(days)s days") % {"days": n})) for n in DAY_CHOICES]


class PreviewForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Invoices of the last"),
        choices=_day_choices,
        coerce=int,
        initial=DEFAULT_DAYS,
        required=False,
        empty_value=DEFAULT_DAYS,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class RegistryUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Registry CSV file"),
        help_text=_(
            "UTF-8 or GB18030 CSV with the columns code, number, issue_date, "
            "seller_tax_id, buyer_tax_id, amount, tax_amount, total_amount, "
            "check_code, status (normal, void or red_flushed)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = max(REGISTRY_MAX_MB, settings.MAX_UPLOAD_MB)
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                _(
                    "The file is larger than %(limit)s MB: split it and upload the "
                    "parts."
                )
                % {"limit": limit}
            )
        return upload


class SellerListEntryForm(forms.Form):
    seller_tax_id = forms.CharField(
        label=_("Seller taxpayer ID"),
        max_length=40,
        help_text=_("The unified social credit code, or an older taxpayer ID."),
    )
    list_name = forms.ChoiceField(label=_("List"), choices=SellerList.choices)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why the seller is listed; kept in the audit log."),
    )
