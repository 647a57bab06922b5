"""Production settings, deploy checks and translation completeness."""

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from invoiceportal.common.translations import untranslated_entries

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def manage(*args, env_extra=None):
    # A production check must not inherit the test run's own environment.
    dropped = {"SECRET_KEY", "DJANGO_ENV", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_extra or {})
    env["DJANGO_SETTINGS_MODULE"] = "invoiceportal.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", env_extra={"DJANGO_ENV": "production"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MAX_UPLOAD_MB", "20MB", "MAX_UPLOAD_MB must be an integer, not '20MB'."),
        ("DB_POOL_TIMEOUT", "five", "DB_POOL_TIMEOUT must be a number, not 'five'."),
    ],
)
def test_a_setting_that_is_not_a_number_is_named_at_start(name, value, message):
    result = manage("check", env_extra={name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_is_clean_in_production_mode():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "invoices.example.com",
            "AUDIT_HMAC_KEY": secrets.token_urlsafe(50),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_an_audit_key():
    result = manage(
        "check",
        env_extra={
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "invoices.example.com",
        },
    )
    assert result.returncode != 0
    assert "AUDIT_HMAC_KEY must be set" in result.stderr


def test_seed_demo_is_refused_in_production():
    result = manage(
        "seed_demo",
        env_extra={
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "invoices.example.com",
            "AUDIT_HMAC_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": "sqlite:///:memory:",
        },
    )
    assert result.returncode != 0
    assert "not in production" in result.stderr


def test_default_language_is_simplified_chinese():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert {code for code, _ in settings.LANGUAGES} == {"zh-hans", "en"}


def test_chinese_catalogue_is_complete():
    assert untranslated_entries(PO) == []


def test_chinese_translations_keep_their_placeholders():
    for entry in polib.pofile(str(PO)):
        translated = (
            entry.msgstr_plural.get(0, "") if entry.msgid_plural else entry.msgstr
        )
        for token in ("%(", "%s"):
            assert entry.msgid.count(token) == translated.count(token), entry.msgid


@pytest.mark.skipif(
    shutil.which("xgettext") is None and os.environ.get("CI") != "true",
    reason="GNU gettext (xgettext) is not installed; CI installs it",
)
def test_every_marked_string_has_a_chinese_translation(tmp_path, monkeypatch):
    """Extract the strings of the code as it is now, in a copy of the tree (so the
    real catalogue is untouched); each must have a translation."""
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".*",
            "var",
            "staticfiles",
            "static",
            "test-artifacts",
            "__pycache__",
            "*.mo",
            "*.pyc",
            "tests",
            "bench",
            "media",
        ),
    )
    monkeypatch.chdir(src)
    with override_settings(LOCALE_PATHS=[src / "locale"]):
        call_command("makemessages", locale=["zh_Hans"], no_location=True, verbosity=0)
    missing = untranslated_entries(
        src / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    )
    assert missing == [], f"{len(missing)} strings lack a translation: {missing[:10]}"
