"""The help centre: how review works, accepted formats, every check and how to pass
it, current typical decision times from live figures, and the FAQ."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from invoiceportal.common.language import is_english
from reviews.checks.catalog import RULES
from reviews.checks.explain import RuleText, rule_text
from reviews.models import SLAPolicy

from .selectors import typical_decision_times


def _rules(english: bool) -> list[RuleText]:
    return [rule_text(spec, english=english) for spec in RULES]


def _sla_targets() -> list[dict[str, object]]:
    return [
        {"priority": p.get_priority_display(), "hours": p.target_business_minutes / 60}
        for p in SLAPolicy.objects.order_by("-priority")
    ]


@login_required
def help_centre(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "help/index.html",
        {
            "rules": _rules(is_english()),
            "times": typical_decision_times(),
            "sla_targets": _sla_targets(),
            "max_upload_mb": settings.MAX_UPLOAD_MB,
        },
    )
