from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from accounts.roles import Role
from tests.factories import UserFactory

from .receiver import Receiver


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are asserted in English (the msgids); pages choose their own."""
    with translation.override("en"):
        yield


@pytest.fixture
def private_allowed(settings: Any) -> None:
    """For the local test receiver (on premises): loopback and http:// allowed."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def org_admin(organization):
    """An administrator employed by the organization: manages only its endpoints."""
    return UserFactory(role=Role.ADMIN, organization=organization)


@pytest.fixture
def other_org_admin(other_organization):
    return UserFactory(role=Role.ADMIN, organization=other_organization)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()
