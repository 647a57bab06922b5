from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.roles import Role
from invoiceportal.common.translations import compile_catalogues
from reviews.models import SLAPolicy
from reviews.queue.defaults import seed_reference_data

from .factories import OrganizationFactory, UserFactory


def pytest_sessionstart(session: pytest.Session) -> None:
    # Pages are rendered in Chinese by default: the catalogues must be compiled.
    for locale_dir in settings.LOCALE_PATHS:
        compile_catalogues(locale_dir)
    # On a fresh clone Django may already have looked for the catalogues (and found
    # none) while the test modules were collected: forget what it cached.
    from django.utils.translation import trans_real

    trans_real._translations.clear()
    trans_real._default = None


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """API throttles count in the cache: each test starts from zero."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_task_broker():
    """Each test queues tasks through a broker made from its own settings."""
    from invoiceportal.common.task_queue import forget_broker

    forget_broker()
    yield
    forget_broker()


@pytest.fixture(autouse=True)
def reference_data(request: pytest.FixtureRequest) -> None:
    """The rows migrations seed (SLA policies, calendar, reasons, rules...): a
    transactional test flushes them, so the next database test puts them back here
    (no read path creates them; issue 14)."""
    if "_django_db_helper" not in request.fixturenames:
        return
    request.getfixturevalue("_django_db_helper")
    if not SLAPolicy.objects.exists():
        seed_reference_data()


@pytest.fixture
def organization(db):
    return OrganizationFactory()


@pytest.fixture
def other_organization(db):
    return OrganizationFactory()


@pytest.fixture
def review_centre(db):
    return OrganizationFactory(name="审核中心")


@pytest.fixture
def submitter(organization):
    return UserFactory(role=Role.SUBMITTER, organization=organization)


@pytest.fixture
def reviewer(review_centre):
    return UserFactory(role=Role.REVIEWER, organization=review_centre)


@pytest.fixture
def supervisor(review_centre):
    return UserFactory(role=Role.SUPERVISOR, organization=review_centre)


@pytest.fixture
def admin_user(db):
    return UserFactory(role=Role.ADMIN, organization=None)


@pytest.fixture
def superuser(db):
    return UserFactory(
        role=Role.SUBMITTER, organization=None, is_superuser=True, is_staff=True
    )


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
