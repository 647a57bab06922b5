"""Test settings: the real database of DATABASE_URL (SQLite when unset), fast
hashing, in-memory mail, background tasks run inline unless a test starts a worker."""

import os

from .settings import *  # noqa: F403
from .settings import Q_CLUSTER

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# A file, not memory, for SQLite test databases: a real worker process started by a
# test (tests/worker.py) must see the same database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    (BASE_DIR / "var").mkdir(exist_ok=True)  # noqa: F405
    # One file per test process, so parallel runs do not share it.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")  # noqa: F405
    }

# Issue 15 (H9): a test's transaction never commits, so on_commit sealing never runs;
# entries are sealed inline. tests/audit/test_deferred_sealing.py and tests/scale/
# switch it off with committed transactions to test the deferred path.
AUDIT_SEAL_INLINE = True
