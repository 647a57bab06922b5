"""Every setting is declared in settings.py and read as ``settings.NAME`` (issue 14):
a ``getattr(settings, "X", default)`` hides a setting declared nowhere."""

from __future__ import annotations

import re

from django.conf import settings

PACKAGES = ("invoiceportal", "reviews", "accounts", "portal")
PATTERN = re.compile(r"getattr\(\s*(?:django\.conf\.)?settings\b")


def test_no_setting_is_read_with_getattr() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((settings.BASE_DIR / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for number, line in enumerate(text.splitlines(), start=1):
                if PATTERN.search(line):
                    relative = path.relative_to(settings.BASE_DIR)
                    found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "read these as settings.NAME:\n" + "\n".join(found)
