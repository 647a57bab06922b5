"""``{% calendar_missing_year as year %}``: the banner's question (see
``reviews.adminpages.calendar_admin.calendar_next_year_missing``)."""

from __future__ import annotations

from django import template

from reviews.adminpages.calendar_admin import (
    calendar_next_year_missing,
    calendar_today,
)

register = template.Library()


@register.simple_tag
def calendar_missing_year() -> int | None:
    return calendar_next_year_missing(calendar_today())
