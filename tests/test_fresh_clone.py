"""Plain ``pytest`` on a fresh clone passes the first time (architecture issue): the
catalogues are compiled at session start, after Django may have looked for them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_fresh_checkout_renders_chinese_on_its_first_run(tmp_path):
    src = tmp_path / "clone"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".*",
            "var",
            "media",
            "staticfiles",
            "test-artifacts",
            "*.mo",
            "*.pyc",
            "__pycache__",
            "db.sqlite3",
            "bench",
        ),
    )
    assert not list(src.glob("locale/*/LC_MESSAGES/*.mo"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # own SQLite
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/accounts/test_auth_pages.py::test_login_page_is_in_chinese_by_default",
        ],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
