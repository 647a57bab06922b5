from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from invoiceportal.common.taxid import is_valid_uscc


def validate_uscc(value: str) -> None:
    if not is_valid_uscc(value):
        raise ValidationError(
            _(
                "%(value)s is not a valid Unified Social Credit Code: it must be 18 "
                "characters (digits and capital letters except I, O, S, V, Z) with a "
                "correct check character."
            ),
            code="invalid_uscc",
            params={"value": value},
        )
