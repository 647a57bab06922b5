"""The reader's language, asked one way everywhere: English or (by default) Chinese."""

from __future__ import annotations

from django.utils.translation import get_language


def is_english(language: str | None = None) -> bool:
    """Whether ``language`` (the active language when None) is English; everything
    else reads Chinese, the portal's default."""
    code = get_language() if language is None else language
    return (code or "").lower().startswith("en")
