"""The help centre: how review works, accepted formats, every check and how to pass
it, current typical decision times from live figures, and the FAQ."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from .selectors import typical_decision_times


def _rules(english: bool) -> list[dict[str, str]]:
    from reviews.checks.catalog import RULES

    return [
        {
            "code": spec.code,
            "title": spec.title_en if english else spec.title_zh,
            "meaning": spec.description_en if english else spec.description_zh,
            "fix": spec.how_to_fix_en if english else spec.how_to_fix_zh,
        }
        for spec in RULES
    ]


def _sla_targets() -> list[dict[str, object]]:
    from reviews.models import SLAPolicy

    return [
        {"priority": p.get_priority_display(), "hours": p.target_business_minutes / 60}
        for p in SLAPolicy.objects.order_by("-priority")
    ]


@login_required
def help_centre(request: HttpRequest) -> HttpResponse:
    english = (get_language() or "").startswith("en")
    return render(
        request,
        "help/index.html",
        {
            "rules": _rules(english),
            "times": typical_decision_times(),
            "sla_targets": _sla_targets(),
            "max_upload_mb": settings.MAX_UPLOAD_MB,
        },
    )
