from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

NOW = dt.datetime(2024, 6, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def english_admin(admin_user: Any) -> Any:
    """An admin who reads the portal in English (users default to Chinese)."""
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    return admin_user
