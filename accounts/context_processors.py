from typing import Any

from django.http import HttpRequest

from .roles import Perm, user_can


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation bar may show to this user."""
    user = getattr(request, "user", None)
    return {
        "nav": {
            "submit": user_can(user, Perm.SUBMIT),
            "review": user_can(user, Perm.REVIEW),
            "supervise": user_can(user, Perm.SUPERVISE),
            "administer": user_can(user, Perm.ADMINISTER),
        }
    }
