from typing import Any

from django import template

from ..forms import NotificationPreferenceForm
from ..selectors import UNREAD_BADGE_CAP, unread_count
from ..services import preference_for

register = template.Library()


@register.inclusion_tag("notifications/_nav.html", takes_context=True)
def notification_nav(context: dict[str, Any]) -> dict[str, Any]:
    """The bell in the navbar with the unread badge (one small query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"unread": unread_count(user=user), "cap": UNREAD_BADGE_CAP}


@register.inclusion_tag("notifications/_preferences.html", takes_context=True)
def notification_preferences_form(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    form = NotificationPreferenceForm(instance=preference_for(request.user))
    return {"form": form, "csrf_token": context.get("csrf_token")}
